"""A call's whole life through the JSON API and through the pages, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from portal_helpers import NOW, PASSWORD, activity, api_client, csrf_of, page_client

pytestmark = pytest.mark.portal


def test_api_flow(world):
    app, ids = world.app, world.ids
    admin = api_client(app, "admin@example.org")
    # invitation -> registration -> login
    orgs = admin.get("/api/organisations").json()
    org_c = next(o for o in orgs if o["name"] == world.orgs["C"].name)
    inv = admin.post(
        "/api/invitations", json={"email": "new.pi@example.org", "role": "pi", "organisation_id": org_c["id"]}
    )
    assert inv.status_code == 201, inv.text
    anon = api_client(app)
    r = anon.post("/api/register", json={"token": inv.json()["token"], "display_name": "New PI", "password": PASSWORD})
    assert r.status_code == 201 and r.json()["role"] == "pi"
    again = anon.post("/api/register", json={"token": inv.json()["token"], "display_name": "x", "password": PASSWORD})
    assert again.status_code == 422 and "not valid" in again.json()["detail"]
    pi = api_client(app, "new.pi@example.org")
    assert pi.get("/api/me").json()["organisation"]["name"] == world.orgs["C"].name

    # a draft, edits, validation against the offer, submission
    body = {
        "call_id": ids["call"],
        "title": "Radio quiet survey",
        "abstract": "dipoles",
        "resources": {"rover_hours": 4, "energy_kwh": 1, "data_gbit": 1},
        "activities": [activity("r-1", world.orgs["C"].name, resources=("rover",), duration="4h")],
        "coinvestigators": ["pi_b@example.org"],
        "proprietary_months": 6,
    }
    bad = pi.post("/api/proposals", json={**body, "resources": {"rover_hours": 1}})
    assert bad.status_code == 422 and "rover_hours" in bad.json()["detail"]
    too_much = pi.post("/api/proposals", json={**body, "resources": {"rover_hours": 51}})
    assert too_much.status_code == 422 and "offers 50" in too_much.json()["detail"]
    r = pi.post("/api/proposals", json=body)
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    assert r.json()["status"] == "draft" and r.json()["coinvestigators"][0]["organisation"] == world.orgs["B"].name
    r = pi.put(f"/api/proposals/{pid}", json={**body, "title": "Radio quiet survey v2"})
    assert r.status_code == 200 and r.json()["title"] == "Radio quiet survey v2"
    assert pi.post(f"/api/proposals/{pid}/submit").json()["status"] == "submitted"
    assert pi.put(f"/api/proposals/{pid}", json=body).status_code == 409  # no edits after submission (its state)

    # review: conflicts refused, a clean reviewer scores
    reviewers = {u["email"]: u["id"] for u in admin.get("/api/reviewers").json()}
    coi = admin.post(f"/api/proposals/{pid}/reviewers", json={"reviewer_id": reviewers["reviewer_b@example.org"]})
    assert coi.status_code == 409 and "co-investigator's organisation" in coi.json()["detail"]
    r = admin.post(f"/api/proposals/{pid}/reviewers", json={"reviewer_id": reviewers["reviewer@example.org"]})
    assert r.status_code == 201
    rid = r.json()["id"]
    reviewer = api_client(app, "reviewer@example.org")
    assert reviewer.put(f"/api/reviews/{rid}", json={"score": 6}).status_code == 422
    assert reviewer.put(f"/api/reviews/{rid}", json={"score": 5, "comment": "excellent"}).status_code == 200
    assert pi.get(f"/api/reviews/{rid}").status_code == 404  # partners never read reviews
    ranking = admin.get(f"/api/calls/{ids['call']}/ranking").json()
    assert [x["proposal_id"] for x in ranking][:2] == [pid, ids["submitted"]]  # 5.0 before 4.0
    over = {o["key"]: o for o in admin.get(f"/api/calls/{ids['call']}/oversubscription").json()}
    assert over["rover_hours"]["requested"] == 4 and over["arm_hours"]["allocated"] == 8

    # allocation: never above the request, never above the offer
    assert admin.post(f"/api/proposals/{pid}/allocations", json={"key": "rover_hours", "amount": 5}).status_code == 422
    r = admin.post(f"/api/proposals/{pid}/allocations", json={"key": "rover_hours", "amount": 4})
    assert r.status_code == 201
    assert admin.get(f"/api/calls/{ids['call']}").json()["resources"][2]["allocated"] == 4
    assert pi.get(f"/api/proposals/{pid}").json()["status"] == "accepted"

    # schedule: the partner sees its own accepted activities, the operator all
    mine = pi.get(f"/api/calls/{ids['call']}/schedule").json()
    assert {a["request_id"] for a in mine} == {"r-1"}
    for a in mine:  # placed by the planner inside the requested window, or listed with that window
        assert "2035-06-02T00:00:00" <= a["start"] < a["end"] <= "2035-06-10T00:00:00"
    allrows = api_client(app, "operator@example.org").get(f"/api/calls/{ids['call']}/schedule").json()
    assert {a["request_id"] for a in allrows} == {"a-1", "r-1"}
    a_rows = api_client(app, "pi_a@example.org").get(f"/api/calls/{ids['call']}/schedule").json()
    assert {a["request_id"] for a in a_rows} == {"a-1"}

    # data: upload, proprietary for 6 months, download checked
    r = pi.post(f"/api/proposals/{pid}/data", files={"file": ("spectrum.json", b'{"f": [1, 2]}', "application/json")})
    assert r.status_code == 201, r.text
    did = r.json()["id"]
    assert (
        r.json()["public_after"][:7] == (dt.datetime.now(dt.UTC) + dt.timedelta(days=182)).strftime("%Y-%m")[:7]
        or r.json()["public_after"] > r.json()["created_at"]
    )
    assert pi.get(f"/api/data/{did}").content == b'{"f": [1, 2]}'
    assert api_client(app, "pi_b@example.org").get(f"/api/data/{did}").status_code == 200  # co-investigator
    assert api_client(app, "pi_a@example.org").get(f"/api/data/{did}").status_code == 404

    # the deadline closes submission
    app.state.clock = lambda: NOW + dt.timedelta(days=31)
    late = pi.post("/api/proposals", json=body)
    assert late.status_code == 409 and "closed" in late.json()["detail"]

    # password change ends the other tokens; logout revokes
    other = api_client(app, "new.pi@example.org")
    r = pi.post("/api/me/password", json={"current_password": PASSWORD, "new_password": "a new long password"})
    assert r.status_code == 204
    assert other.get("/api/me").status_code == 401
    assert pi.get("/api/me").status_code == 200
    assert pi.delete("/api/auth/token").status_code == 204
    assert pi.get("/api/me").status_code == 401

    # every change is in the audit log
    actions = {(e["action"], e["entity"]) for e in admin.get("/api/audit?limit=1000").json()}
    for needed in [
        ("invite", "invitation"),
        ("register", "user"),
        ("create", "proposal"),
        ("update", "proposal"),
        ("submit", "proposal"),
        ("assign", "review"),
        ("review", "review"),
        ("allocate", "allocation"),
        ("upload", "data_product"),
        ("change_password", "user"),
        ("logout", "user"),
        ("download", "data_product"),
        ("login", "user"),
    ]:
        assert needed in actions


def test_pages_flow(world):
    """The same steps through the server-rendered forms (cookies and CSRF tokens)."""
    app, ids = world.app, world.ids
    pi = page_client(app, "pi_c@example.org")
    form = pi.get(f"/proposals/new?call_id={ids['call']}")
    assert form.status_code == 200
    r = pi.post(
        "/proposals",
        data={
            "csrf_token": csrf_of(form.text),
            "call_id": ids["call"],
            "title": "Page proposal",
            "abstract": "x",
            "payload": "y",
            "resources": "rover_hours = 3\nenergy_kwh = 1\ndata_gbit = 1",
            "activities": json.dumps(
                [
                    {
                        "id": "p-1",
                        "partner": world.orgs["C"].name,
                        "payload": "ant",
                        "duration": "1h",
                        "earliest": "2035-06-03T00:00",
                        "deadline": "2035-06-04T00:00",
                        "resources": ["rover"],
                    }
                ]
            ),
            "coinvestigators": "",
            "proprietary_months": "3",
        },
    )
    assert r.status_code == 303, r.text
    url = r.headers["location"]
    page = pi.get(url)
    assert "Page proposal" in page.text and "draft" in page.text
    r = pi.post(url + "/submit", data={"csrf_token": csrf_of(page.text)})
    assert r.status_code == 303
    assert ">submitted<" in pi.get(url).text
    # no CSRF token: refused
    r = pi.post("/account/password", data={"current_password": PASSWORD, "new_password": "x" * 12})
    assert r.status_code == 422 and "did not come from this site" in r.text
    admin = page_client(app, "admin@example.org")
    page = admin.get(url)
    r = admin.post(url + "/allocations", data={"csrf_token": csrf_of(page.text), "key": "rover_hours", "amount": "3"})
    assert r.status_code == 303
    sched = pi.get(f"/calls/{ids['call']}/schedule")
    assert "p-1" in sched.text and "a-1" not in sched.text
    assert "planned" in sched.text or "not placed" in sched.text
    r = pi.post("/logout", data={"csrf_token": csrf_of(pi.get("/").text)})
    assert r.status_code == 303
    assert pi.get("/proposals").status_code == 303  # back to the login page


@pytest.mark.parametrize("months", [0, 3, 6, 12])
def test_proprietary_period_on_request(app, tmp_path, months):
    from portal_helpers import build_world

    from ilrs.portal import actions

    w = build_world(app, tmp_path)
    with w.db() as db:
        p = actions.create_proposal(
            db,
            w.actor("pi_c"),
            w.ids["call"],
            {"title": "t", "resources": {"rover_hours": 1}, "proprietary_months": months},
            NOW,
        )
        actions.submit_proposal(db, w.actor("pi_c"), p.id, NOW)
        actions.allocate(db, w.actor("admin"), p.id, "rover_hours", 1)
        dp = actions.add_data_product(db, w.actor("pi_c"), p.id, "x.txt", b"hello", app.state.settings.upload_dir, 1000)
    stranger = api_client(app, "pi_a@example.org")
    code = stranger.get(f"/api/data/{dp.id}").status_code
    assert code == (200 if months == 0 else 404)
