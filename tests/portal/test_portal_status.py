"""The station side of the portal: a call's offer from the scenario's roadmap and its twin, and the public status
page (Plotly charts of power, state of charge and communication windows) against the twin's own series."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
from portal_helpers import api_client, make_app, page_client

pytestmark = [pytest.mark.portal, pytest.mark.xdist_group("portal-twin")]


def test_offer_from_scenario_matches_twin_and_roadmap():
    from ilrs.campaign.roadmap import scenario_roadmap as roadmap_of
    from ilrs.portal.station import CallPolicy, offer_from_scenario
    from ilrs.services.scenarios import validated_scenario
    from ilrs.services.twin import run_twin

    start, end = dt.datetime(2035, 6, 1), dt.datetime(2035, 6, 15)
    lines = {o.key: o for o in offer_from_scenario("ilrs-basic-2035", start, end)}
    s = validated_scenario("ilrs-basic-2035")
    run = run_twin(s.model_copy(update={"start": start, "end": end, "step": "1h"}))
    policy = CallPolicy()
    assert lines["energy_kwh"].quantity == pytest.approx(run.kpis.curtailed_kwh * policy.energy_share, abs=0.1)
    dte_hours = float(np.count_nonzero(run.series.dte_bps > 0))
    assert lines["antenna_hours"].quantity == pytest.approx(dte_hours * policy.antenna_share, abs=0.1)
    capacity = float((run.series.dte_bps + run.series.relay_bps).sum() * 3600 / 1e9)
    assert lines["data_gbit"].quantity == pytest.approx(capacity * policy.data_share, abs=0.1)
    assert lines["rover_hours"].quantity == pytest.approx(14 * 24 * policy.robot_share)
    missions, _ = roadmap_of(s)
    later = [m for m in missions if m.launch >= start.date()]
    assert {k.split(":", 1)[1] for k in lines if k.startswith("payload_mass_kg:")} == {m.name for m in later}
    for m in later:
        assert lines[f"payload_mass_kg:{m.name}"].quantity == pytest.approx(
            m.mass_kg * policy.payload_mass_share, abs=0.1
        )


def test_status_page_and_api(tmp_path):
    from ilrs.portal.routes.status import STATUS_DAYS, STATUS_START
    from ilrs.portal.station import short_twin

    app = make_app(f"sqlite:///{tmp_path / 's.db'}", tmp_path)
    c = page_client(app)
    r = c.get("/api/status")
    assert r.status_code == 200
    body = r.json()
    run = short_twin("ilrs-basic-2035", STATUS_START, STATUS_START + dt.timedelta(days=STATUS_DAYS), "1h")
    dte = run.series.dte_bps > 0
    hours = sum(
        (dt.datetime.fromisoformat(b) - dt.datetime.fromisoformat(a)).total_seconds() / 3600
        for a, b in body["dte_windows"]
    )
    assert hours == pytest.approx(float(dte.sum()))
    assert body["kpis"]["min_state_of_charge"] == pytest.approx(run.kpis.min_state_of_charge)
    page = c.get("/status")  # public: no sign-in
    assert page.status_code == 200
    figs = json.loads(page.text.split('<script type="application/json" id="figures">', 1)[1].split("</script>")[0])
    assert set(figs) == {"station"}
    fig = figs["station"]
    gen = fig["data"][0]["y"]
    assert np.allclose(gen, np.round(run.series.generation_w / 1e3, 3))
    # the three charts on one time axis: every trace on its own row's axis, the rows' x axes bound together
    assert [t.get("xaxis", "x") for t in fig["data"]] == ["x", "x", "x", "x2", "x3", "x3"]
    assert [t["x"] for t in fig["data"]] == [fig["data"][0]["x"]] * 6
    layout = fig["layout"]
    assert layout["xaxis"].get("matches") == "x3" and layout["xaxis2"].get("matches") == "x3"
    js = c.get("/static/plotly.min.js")
    assert js.status_code == 200 and len(js.content) > 1_000_000 and b"plotly" in js.content[:2000].lower()
    assert '<script src="/static/plotly.min.js">' in page.text


def test_twin_run_as_data_product(tmp_path):
    """A data product produced by the twin: the NetCDF of its run over the call's cycle, with the proposal's
    proprietary period and the same download checks as an upload."""
    import io

    import xarray as xr
    from portal_helpers import api_client, build_world

    app = make_app(f"sqlite:///{tmp_path / 't.db'}", tmp_path)
    w = build_world(app, tmp_path)
    url = f"/api/proposals/{w.ids['submitted']}/data/twin"
    for who, code in (("pi_c", 404), ("reviewer", 403)):  # refused before any twin runs
        assert api_client(app, f"{who}@example.org").post(url).status_code == code
    r = api_client(app, "operator@example.org").post(url)
    assert r.status_code == 201, r.text
    meta = r.json()
    assert meta["filename"] == "twin-ilrs-basic-2035-20350601-20350701.nc"
    assert meta["content_type"] == "application/x-netcdf"
    body = api_client(app, "pi_b@example.org").get(f"/api/data/{meta['id']}").content  # co-investigator
    ds = xr.open_dataset(io.BytesIO(body), engine="h5netcdf")
    assert ds.sizes["time"] == 30 * 24 and ds.attrs["scenario"] == "ilrs-basic-2035"
    assert ds["generation"].attrs["units"] == "W"
    assert api_client(app, "pi_c@example.org").get(f"/api/data/{meta['id']}").status_code == 404


def test_schedule_planned_by_the_operations_planner(tmp_path):
    """Accepted activities of two partners planned together: every placed occurrence lies in its window (the
    k-th in the k-th repetition period), lasts its duration, and no two hold the rover at once; each partner sees
    only its own rows, the operator all."""
    from portal_helpers import NOW, activity, build_world

    from ilrs.operations.requests import parse_step
    from ilrs.portal import actions

    app = make_app(f"sqlite:///{tmp_path / 'p.db'}", tmp_path)
    w = build_world(app, tmp_path)
    # equal rover time (6 h each): the planner's default equal shares can then give both all they ask
    reqs = {
        "pi_a": [
            {
                **activity(
                    "a-rover",
                    w.orgs["A"].name,
                    resources=("rover",),
                    duration="3h",
                    data_mbit=0,
                    earliest="2035-06-03T00:00",
                    deadline="2035-06-08T00:00",
                ),
                "repeat_every": "1d",
                "repeat_count": 2,
            }
        ],
        "pi_c": [
            {
                **activity(
                    "c-rover",
                    w.orgs["C"].name,
                    resources=("rover",),
                    duration="2h",
                    data_mbit=0,
                    earliest="2035-06-03T00:00",
                    deadline="2035-06-08T00:00",
                ),
                "repeat_every": "1d",
                "repeat_count": 3,
            }
        ],
    }
    with w.db() as db:
        for who, acts in reqs.items():
            p = actions.create_proposal(
                db,
                w.actor(who),
                w.ids["call"],
                {"title": who, "resources": {"rover_hours": 8, "energy_kwh": 2}, "activities": acts},
                NOW,
            )
            actions.submit_proposal(db, w.actor(who), p.id, NOW)
            actions.allocate(db, w.actor("admin"), p.id, "rover_hours", 8)
    # the planner works in the background: asked not to wait, the API answers 202 with Retry-After and the
    # requested windows; the page shows them and refreshes itself while the plan is not done
    r = api_client(app, "operator@example.org").get(f"/api/calls/{w.ids['call']}/schedule?wait=0")
    assert r.status_code == 202 and r.headers["retry-after"] == "5", r.text
    assert {a["state"] for a in r.json() if a["request_id"] in ("a-rover", "c-rover")} == {"being planned"}
    page = page_client(app, "operator@example.org").get(f"/calls/{w.ids['call']}/schedule")
    assert page.status_code == 200
    pending = 'data-pending="true"' in page.text
    assert pending == ('http-equiv="refresh"' in page.text) == ("being planned" in page.text)
    with w.db() as db:
        call = actions.get_call(db, w.ids["call"])
        staff = actions.schedule(db, w.actor("operator"), call)
        mine = actions.schedule(db, w.actor("pi_c"), call)
    assert "planned by the operations planner" in staff.note
    rows = [r for r in staff.rows if r.request_id in ("a-rover", "c-rover")]
    planned = [r for r in rows if r.planned]
    assert len(planned) == 5  # both rover requests entirely (the world's data-producing arm activity aside)
    for r in planned:
        assert r.end - r.start == dt.timedelta(seconds=parse_step(r.duration))
        lo = dt.datetime(2035, 6, 3) + dt.timedelta(days=r.occurrence)
        assert lo <= r.start and r.end <= lo + dt.timedelta(days=1)
    spans = sorted((r.start, r.end) for r in planned)
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:], strict=False))  # one rover
    assert {r.request_id for r in mine.rows} == {"c-rover"}


def test_status_for_a_chosen_fortnight(tmp_path):
    """?start= shows two weeks from that day: the KPIs are the twin's own over that window (2033, before the
    fission unit: the battery works), and a day outside the run is refused with the valid range."""
    from fastapi.testclient import TestClient

    from ilrs.services.scenarios import validated_scenario
    from ilrs.services.twin import run_twin

    app = make_app(f"sqlite:///{tmp_path / 'p.db'}", tmp_path)
    client = TestClient(app)
    r = client.get("/api/status", params={"start": "2033-03-01"})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["start"].startswith("2033-03-01") and out["end"].startswith("2033-03-14")
    s = validated_scenario("ilrs-basic-2035")
    run = run_twin(
        s.model_copy(update={"start": dt.datetime(2033, 3, 1), "end": dt.datetime(2033, 3, 15), "step": "1h"})
    )
    assert out["kpis"]["min_state_of_charge"] == pytest.approx(run.kpis.min_state_of_charge, abs=1e-9)
    assert out["kpis"]["loss_of_load_hours"] == pytest.approx(run.kpis.loss_of_load_hours, abs=1e-9)
    bad = client.get("/api/status", params={"start": "2040-01-01"})
    assert bad.status_code == 422 and "2035-12-18" in bad.json()["detail"] and bad.json()["field"] == "start"
    page = client.get("/status", params={"start": "2033-03-01"})
    assert page.status_code == 200 and 'value="2033-03-01"' in page.text


def test_small_energy_allocation_keeps_other_partners_scheduled(tmp_path):
    """Allocating 0.6 kWh of energy to one organisation once unscheduled another organisation's planned activity
    (the planner refuses partners missing from its shares)."""
    from portal_helpers import NOW, activity, build_world, make_app

    from ilrs.portal import actions

    app = make_app(f"sqlite:///{tmp_path / 's.db'}", tmp_path)
    w = build_world(app, tmp_path)
    with w.db() as db:
        c = actions.create_proposal(
            db,
            w.actor("pi_c"),
            w.ids["call"],
            {
                "title": "C's rover run",
                "resources": {"rover_hours": 5, "energy_kwh": 1, "data_gbit": 1},
                "activities": [activity("c-1", w.orgs["C"].name, resources=("rover",))],
            },
            NOW,
        )
        actions.submit_proposal(db, w.actor("pi_c"), c.id, NOW)
        actions.allocate(db, w.actor("admin"), c.id, "rover_hours", 5)
    with app.state.read_sessionmaker() as db:
        before = actions.schedule(db, w.actor("operator"), actions.get_call(db, w.ids["call"]))
    planned = {r.request_id for r in before.rows if r.planned}
    assert planned == {"a-1", "c-1"}, before
    with w.db() as db:
        actions.allocate(db, w.actor("admin"), c.id, "energy_kwh", 0.6)
    with app.state.read_sessionmaker() as db:
        after = actions.schedule(db, w.actor("operator"), actions.get_call(db, w.ids["call"]))
    assert {r.request_id for r in after.rows if r.planned} == planned, after
    app.state.engine.dispose()
