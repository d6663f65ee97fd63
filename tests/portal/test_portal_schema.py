"""schemathesis against the portal's OpenAPI schema, and against a schema of its pages' forms: generated requests,
valid and invalid, as an administrator and as a principal investigator, never cause a server error.

schemathesis' own pytest integration does not run under this project's pytest, so the test walks the schema's
operations and drives each one's Hypothesis strategy itself (positive and negative generation)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from portal_helpers import api_client, build_world, make_app, page_client
from schemathesis import GenerationMode

pytestmark = [pytest.mark.portal, pytest.mark.xdist_group("portal-schema")]
EXAMPLES = 25
PAGE_EXAMPLES = 15


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

    def prepare(case):
        if isinstance(case.query, dict) and "wait" in case.query:
            # a schedule's wait for the planner (up to 30 s, tested in test_portal_status and the browser
            # journey) would outlast the transport's 10 s read timeout on a cold planner: ask without it
            case.query["wait"] = 0

    operations, statuses, failures = _fuzz(schema, EXAMPLES, [{"Authorization": t} for t in tokens], prepare)
    assert operations >= 25
    assert sum(statuses.values()) > 1000 and statuses.get(200, 0) > 100, statuses  # it really exercised the API
    assert not failures, "\n".join(dict.fromkeys(failures))


def test_no_server_errors_from_page_forms(tmp_path, monkeypatch):
    """The same fuzzing on the server-rendered pages and their forms (the proposal form's editor rows and live
    check included), signed in by cookie as a principal investigator and as an administrator. The pages are left
    out of the public schema, so the test builds one from their routes. The CSRF check is switched off here, or
    every generated form would stop at it: it has its own tests (test_portal_flow, test_portal_hostile)."""
    import copy

    from fastapi.openapi.utils import get_openapi

    import ilrs.portal.station as station
    from ilrs.portal import deps
    from ilrs.portal.routes import auth, calls, data, organisations, proposals, reviews, status
    from ilrs.portal.rules import OfferLine

    monkeypatch.setattr(
        station,
        "offer_from_scenario",
        lambda name, a, b, policy=None: [OfferLine("energy_kwh", "energy", "kWh", 100.0)],
    )
    app = make_app(f"sqlite:///{tmp_path / 'fuzz.db'}", tmp_path)
    build_world(app, tmp_path)
    routes = []
    for module in (auth, organisations, calls, proposals, reviews, data, status):
        for route in module.pages.routes:
            shown = copy.copy(route)
            shown.include_in_schema = True
            routes.append(shown)
    page_schema = get_openapi(title="ILRS portal pages", version="1", routes=routes)
    app.add_api_route("/test-pages-openapi.json", lambda: page_schema, include_in_schema=False)
    app.dependency_overrides[deps.page_form_csrf] = lambda: None
    cookies = []
    for who in ("pi_c", "admin"):
        client = page_client(app, f"{who}@example.org")
        cookies.append(f"{deps.SESSION_COOKIE}={client.cookies[deps.SESSION_COOKIE]}")
    schema = schemathesis.openapi.from_asgi("/test-pages-openapi.json", app)
    # signing out or changing the password would end the fuzzer's own sessions, disabling users would lock it out;
    # the schedule runs the planner, the status page and the twin data product the twin (tested elsewhere)
    for path, method in (
        ("/logout", "POST"),
        ("/account/password", "POST"),
        ("/admin/users/{user_id}/active", "POST"),
        ("/calls/{call_id}/schedule", "GET"),
        ("/proposals/{proposal_id}/data/twin", "POST"),
        ("/status", "GET"),
        ("/static/plotly.min.js", "GET"),
    ):
        schema = schema.exclude(path=path, method=method)
    operations, statuses, failures = _fuzz(schema, PAGE_EXAMPLES, [{"Cookie": c} for c in cookies])
    print("page form statuses:", dict(sorted(statuses.items())))
    assert not failures, "\n".join(dict.fromkeys(failures))
    assert operations >= 25
    # it really exercised the pages: pages shown (saved forms end there too, the client follows the redirect), and
    # forms refused on the form (422)
    assert statuses.get(200, 0) > 100 and statuses.get(422, 0) > 100, statuses


def _fuzz(schema, examples: int, identities: list[dict[str, str]], prepare=None):
    """Every operation of ``schema`` with valid and invalid inputs (``examples`` each, derandomised), called as
    each identity (its headers): (operations, {status: count}, the 5xx answers)."""
    failures: list[str] = []
    statuses: dict[int, int] = {}
    operations = 0
    for result in schema.get_all_operations():
        op = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=op.as_strategy(generation_mode=mode))
            @settings(
                max_examples=examples,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                derandomize=True,
                database=None,
            )
            def run(case):
                if prepare is not None:
                    prepare(case)
                for headers in identities:
                    response = case.call(headers=headers)
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
    return operations, statuses, failures
