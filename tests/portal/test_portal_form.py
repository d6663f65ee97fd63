"""The proposal form as partners use it, through the server-rendered pages on SQLite and PostgreSQL: the
structured activity editor's rows, problems shown next to their field with everything typed kept, the live check
(`POST /proposals/check`) reporting each row's problem by the same rules as saving, and JSON still accepted."""

from __future__ import annotations

import html
import json
import re

import pytest
from portal_helpers import CYCLE, NOW, OFFER, api_client, csrf_of, page_client

pytestmark = pytest.mark.portal


def row_fields(**rows: dict) -> dict[str, list[str]]:
    """Form fields of editor rows: columns act_<name>, checkboxes '<row>:<value>' (a name of underscores: blank)."""
    cols = ("id", "payload", "duration", "earliest", "deadline", "repeat_every", "repeat_count", "power_w",
            "data_mbit", "priority")  # fmt: skip
    out: dict[str, list[str]] = {f"act_{c}": [] for c in cols}
    out["act_conditions"], out["act_resources"] = [], []
    for i, (rid, row) in enumerate(rows.items()):
        for c in cols:
            out[f"act_{c}"].append(rid.lstrip("_") if c == "id" else str(row.get(c, "")))
        out["act_conditions"] += [f"{i}:{x}" for x in row.get("conditions", ())]
        out["act_resources"] += [f"{i}:{x}" for x in row.get("resources", ())]
    return out


GOOD = {
    "payload": "dipoles",
    "duration": "3h",
    "earliest": "2035-06-12T00:00",
    "deadline": "2035-06-15T00:00",
    "repeat_every": "1d",
    "repeat_count": "2",
    "power_w": "200",
    "data_mbit": "100",
    "conditions": ("dark",),
    "resources": ("rover",),
}


def base_form(page_text: str, call_id: int, **changes) -> dict:
    return {
        "csrf_token": csrf_of(page_text),
        "call_id": str(call_id),
        "title": "Radio quiet <at> the pole",
        "abstract": "Dipoles unrolled by the rover.",
        "payload": "Four dipole antennas",
        "resources": "rover_hours = 6\nenergy_kwh = 2\ndata_gbit = 1",
        "activities": "",
        "coinvestigators": "",
        "proprietary_months": "6",
        **changes,
    }


def test_editor_rows_inline_errors_and_fix(world):
    app, call = world.app, world.ids["call"]
    pi = page_client(app, "pi_c@example.org")
    new = pi.get(f"/proposals/new?call_id={call}")
    assert new.status_code == 200 and 'name="act_duration"' in new.text and "/static/proposal_form.js" in new.text

    # four daily runs that cannot fit their three-day window: refused, shown on the form, nothing typed lost
    bad = row_fields(dipoles={**GOOD, "repeat_count": "4"}, _={})
    r = pi.post("/proposals", data={**base_form(new.text, call), **bad})
    assert r.status_code == 422, r.text
    page = html.unescape(r.text)
    assert "The draft was not saved" in page and 'id="error-activities"' in page
    assert 'value="Radio quiet <at> the pole"' in page  # the title as typed (escaped in the HTML)
    assert "rover_hours = 6" in page and 'value="4"' in page and 'value="2035-06-15T00:00"' in page
    assert re.search(r'value="0:dark"\s+checked', page) and re.search(r'value="0:rover"\s+checked', page)
    # the row's own problem, next to the row
    row = page[page.index('data-row="0"') : page.index("</fieldset>")]
    assert "4 occurrence(s) of 3h every 1d do not fit between 2035-06-12 00:00 and 2035-06-15 00:00" in row
    assert 'name="csrf_token"' in page and "Sign out" in page  # still signed in, the form still usable

    # each row fits, but together they use more rover time than asked: shown at the resources
    r = pi.post("/proposals", data={**base_form(new.text, call, resources="rover_hours = 1"), **row_fields(d=GOOD)})
    assert r.status_code == 422 and 'id="error-resources"' in r.text and "rover_hours" in r.text
    assert 'class="field-error row-problem" role="alert" hidden' in r.text

    # fixed: saved, and the rows come back on the edit page as rows
    good = row_fields(dipoles=GOOD, _={})
    r = pi.post("/proposals", data={**base_form(new.text, call), **good})
    assert r.status_code == 303, r.text
    url = r.headers["location"]
    pid = int(url.rsplit("/", 1)[1])
    stored = api_client(app, "pi_c@example.org").get(f"/api/proposals/{pid}").json()["activities"]
    assert stored == [
        {
            "partner": world.orgs["C"].name,
            "id": "dipoles",
            "payload": "dipoles",
            "duration": "3h",
            "earliest": "2035-06-12T00:00",
            "deadline": "2035-06-15T00:00",
            "repeat_every": "1d",
            "repeat_count": 2,
            "power_w": 200.0,
            "data_mbit": 100.0,
            "conditions": ["dark"],
            "resources": ["rover"],
        }
    ]
    edit = pi.get(url + "/edit")
    assert edit.status_code == 200 and 'value="dipoles"' in edit.text and 'value="0:rover" checked' in edit.text
    # an edit that breaks the title: refused inline, the stored draft unchanged
    r = pi.post(url + "/edit", data={**base_form(edit.text, call, title="  "), **good})
    assert r.status_code == 422 and 'id="error-title"' in r.text and "needs a title" in r.text
    assert (
        api_client(app, "pi_c@example.org").get(f"/api/proposals/{pid}").json()["title"] == "Radio quiet <at> the pole"
    )


def test_json_box_still_accepted_and_its_errors_inline(world):
    app, call = world.app, world.ids["call"]
    pi = page_client(app, "pi_c@example.org")
    new = pi.get(f"/proposals/new?call_id={call}")
    act = {
        **dict(id="j-1", partner=world.orgs["C"].name, payload="x", duration="1h", resources=["rover"], after=[]),
        **dict(earliest="2035-06-03T00:00", deadline="2035-06-04T00:00"),
    }
    r = pi.post("/proposals", data=base_form(new.text, call, activities="[{not json"))
    assert r.status_code == 422 and 'id="error-activities"' in r.text and "not JSON" in r.text
    assert "[{not json" in r.text  # kept in its box
    r = pi.post("/proposals", data=base_form(new.text, call, activities=json.dumps([act])))
    assert r.status_code == 303, r.text
    edit = pi.get(r.headers["location"] + "/edit")
    # a request with a field the rows cannot hold ('after') stays in the JSON box, so an edit keeps it
    assert "&#34;after&#34;" in edit.text or "&quot;after&quot;" in edit.text


def test_closed_call_refused_above_the_form(world):
    import datetime as dt

    from ilrs.portal import actions
    from ilrs.portal.rules import OfferLine

    app = world.app
    pi = page_client(app, "pi_c@example.org")
    new = pi.get(f"/proposals/new?call_id={world.ids['call']}")  # opened before the deadline passed
    with world.db() as db:
        closed = actions.create_call(
            db, world.actor("admin"), "Closed", "ilrs-basic-2035", *CYCLE, NOW - dt.timedelta(days=1),
            [OfferLine(*o) for o in OFFER],
        ).id  # fmt: skip
    r = pi.post("/proposals", data={**base_form(new.text, closed), **row_fields(dipoles=GOOD)})
    assert r.status_code == 409 and 'id="form-error"' in r.text and "closed" in r.text
    assert 'value="dipoles"' in r.text


def test_live_check_reports_each_row(world):
    app, call = world.app, world.ids["call"]
    pi = page_client(app, "pi_c@example.org")
    new = pi.get(f"/proposals/new?call_id={call}")
    rows = row_fields(
        good=GOOD,
        blank={},
        late={**GOOD, "deadline": "2036-01-01T00:00"},
        typo={**GOOD, "duration": "3 hours"},
        greedy={**GOOD, "duration": "60h", "earliest": "2035-06-02T00:00", "repeat_every": "", "repeat_count": "1"},
    )
    rows["act_id"][1] = ""
    r = pi.post("/proposals/check", data={**base_form(new.text, call), **rows})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ok"] is False
    good, blank, late, typo, greedy = body["rows"]
    assert good is None and blank is None
    assert "outside the call's cycle" in late
    assert "duration" in typo and "not a positive duration" in typo
    assert greedy == "needs 60 rover_hours, the call offers 50"
    # the whole proposal's first problem, as saving would say it
    assert (
        body["field"] == "activities" and "'typo'" in body["message"] and "not a positive duration" in body["message"]
    )
    # nothing was stored
    titles = [p["title"] for p in api_client(app, "pi_c@example.org").get("/api/proposals").json()]
    assert "Radio quiet <at> the pole" not in titles
    ok = pi.post("/proposals/check", data={**base_form(new.text, call), **row_fields(good=GOOD)}).json()
    assert ok == {"ok": True, "field": None, "message": None, "rows": [None]}
    short = pi.post(
        "/proposals/check", data={**base_form(new.text, call, resources="rover_hours = 5"), **row_fields(good=GOOD)}
    ).json()
    # each row fits the offer; together they use more rover time than asked: the proposal's problem, no row's
    assert short["rows"] == [None] and short["field"] == "resources" and "rover_hours" in short["message"]
    # the check needs the form's CSRF token like any form
    assert pi.post("/proposals/check", data={"call_id": str(call)}).status_code == 422


def test_error_page_keeps_the_signed_in_navigation_and_a_way_back(world):
    """A refusal outside the form (here a proposal that does not exist) on a page that still shows who is signed
    in, and links back to the page the user came from on this site (never to another site)."""
    pi = page_client(world.app, "pi_c@example.org")
    base = str(pi.base_url).rstrip("/")
    r = pi.get("/proposals/999999", headers={"referer": base + "/proposals"})
    assert r.status_code == 404
    assert "<title>Not found" in r.text and "Sign out" in r.text and "Sign in" not in r.text
    assert 'href="/proposals">Back to the previous page' in r.text
    assert "javascript:" not in r.text  # the CSP forbids it: such a link does nothing
    r = pi.get("/proposals/999999", headers={"referer": base + "//evil.example/x"})
    assert 'href="/evil.example/x"' in r.text and "//evil.example" not in r.text
    anon = page_client(world.app)
    r = anon.get("/calls/999999/schedule", headers={"referer": "https://elsewhere.example/"})
    assert r.status_code in (303, 404) and "elsewhere" not in r.text


def test_editor_buttons_work_without_javascript(world):
    """Without the script, 'Add an activity' and 'remove' submit the form: it comes back with the row added or
    removed, everything else as typed, and nothing saved."""
    app, call = world.app, world.ids["call"]
    pi = page_client(app, "pi_c@example.org")
    new = pi.get(f"/proposals/new?call_id={call}")
    assert new.text.count('<fieldset class="activity"') == 2  # one row, and the script's template
    typed = {**base_form(new.text, call), **row_fields(first=GOOD, second={**GOOD, "duration": "1h"})}
    r = pi.post("/proposals", data={**typed, "editor": "add"})
    assert r.status_code == 200 and r.text.count('<fieldset class="activity"') == 4  # three rows + template
    assert (
        'value="first"' in r.text and 'value="second"' in r.text and 'value="Radio quiet &lt;at&gt; the pole"' in r.text
    )
    r = pi.post("/proposals", data={**typed, "editor": "remove:0"})
    assert r.status_code == 200 and 'value="first"' not in r.text and 'value="second"' in r.text
    # the remaining row's checkboxes now carry its new index
    assert re.search(r'value="0:rover"\s+checked', r.text)
    titles = [p["title"] for p in api_client(app, "pi_c@example.org").get("/api/proposals").json()]
    assert "Radio quiet <at> the pole" not in titles
