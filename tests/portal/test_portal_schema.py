"""schemathesis against the portal's OpenAPI schema: generated requests, valid and invalid, as an administrator
and as a principal investigator, never cause a server error.

schemathesis' own pytest integration does not run under this project's pytest, so the test walks the schema's
operations and drives each one's Hypothesis strategy itself (positive and negative generation)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from portal_helpers import api_client, build_world, make_app
from schemathesis import GenerationMode

pytestmark = [pytest.mark.portal, pytest.mark.xdist_group("portal-schema")]
EXAMPLES = 25


def test_no_server_errors(tmp_path, monkeypatch):
    # Calls opened without a resource list take their offer from a twin run over the cycle; the fuzzer would open
    # many cycles, so here the offer is a fixed line (the real offer is tested in test_portal_status).
    import ilrs.portal.station as station
    from ilrs.portal.rules import OfferLine

    monkeypatch.setattr(
        station,
        "offer_from_scenario",
        lambda name, a, b, policy=None: [OfferLine("energy_kwh", "energy", "kWh", 100.0)],
    )
    app = make_app(f"sqlite:///{tmp_path / 'fuzz.db'}", tmp_path)
    build_world(app, tmp_path)
    tokens = [api_client(app, f"{who}@example.org").headers["Authorization"] for who in ("admin", "pi_a")]
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    # signing out would only end the fuzzer's own session; the status and the twin data product run the twin
    # (test_portal_status)
    schema = schema.exclude(path="/api/auth/token", method="DELETE").exclude(path="/api/status")
    schema = schema.exclude(path="/api/proposals/{proposal_id}/data/twin")
    failures: list[str] = []
    statuses: dict[int, int] = {}
    operations = 0
    for result in schema.get_all_operations():
        op = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=op.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                derandomize=True,
                database=None,
            )
            def run(case):
                for token in tokens:
                    response = case.call(headers={"Authorization": token})
                    statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                    if response.status_code >= 500:
                        failures.append(
                            f"{case.operation.label}: {response.status_code} path={case.path_parameters}"
                            f" query={case.query} body={case.body!r:.300}"
                        )

            try:
                run()
            except Exception as exc:  # a strategy the schema cannot satisfy is not a server error
                if "Unsatisfiable" not in type(exc).__name__:
                    raise
    assert operations >= 25
    assert sum(statuses.values()) > 1000 and statuses.get(200, 0) > 100, statuses  # it really exercised the API
    assert not failures, "\n".join(dict.fromkeys(failures))
