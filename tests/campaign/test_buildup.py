"""Build-up timeline: what is in lunar orbit and on the surface at each date, against the flown record (Queqiao-2)
and analytic survival; its JSON in ``ilrs campaign`` and its place in the report's campaign section."""

from __future__ import annotations

import json
import math
from datetime import date

import pytest

from ilrs.campaign.buildup import buildup_items, buildup_timeline, yearly_dates
from ilrs.campaign.montecarlo import simulate
from ilrs.campaign.roadmap import Mission, default_roadmap
from tests.clirunner import assert_ok, invoke


def _m(name, launch, **kw) -> Mission:
    base = dict(agency="CNSA", vehicle="cz-5", launch=launch, mass_kg=1_000.0, capabilities=("research",))
    base.update(kw)
    return Mission(name, **base)


def test_items_place_relays_and_orbiters_in_orbit():
    items = {
        (i.name, i.location): i for i in buildup_items(default_roadmap(), [("ilrs1-array", "solar_array", "ILRS-1")])
    }
    # Queqiao-2: launched 20 Mar 2024, entered its 200 x 16,000 km mission orbit on 2 Apr 2024 (ILRS-FACTS 1.8)
    assert items[("Queqiao-2", "orbit")].arrival == date(2024, 4, 2)
    assert ("Queqiao-2", "surface") not in items and ("Luna 26", "surface") not in items
    assert ("Luna 26", "orbit") in items and ("Chang'e 7 orbiter", "orbit") in items
    assert ("Chang'e 7", "surface") in items  # its lander, rover and hopper
    assert items[("ILRS-1", "surface")].contents == ("ilrs1-array (solar_array)",)


def test_timeline_against_certain_and_failing_missions():
    """Hand check: an orbiter arriving 2030-03-01 that never fails is there with P = 1 from that day; a lander
    dead on arrival is listed (planned) but never working."""
    orbiter = _m("Orb", date(2030, 1, 1), lands=False, transit_days=59.0, capabilities=("relay",))
    dead = _m("Dead", date(2030, 1, 1), transit_days=30.0, p_failure_on_arrival=1.0)
    r = simulate((orbiter, dead), runs=200, seed=1, scheduler="local-sync")
    rows = buildup_timeline(buildup_items((orbiter, dead)), r, [date(2030, 2, 28), date(2030, 3, 1)])
    dead_row = [{"name": "Dead", "mission": "Dead", "planned": True, "p_working": 0.0}]
    assert rows[0].in_orbit == [] and rows[0].on_surface == dead_row  # planned 2030-01-31, dead on arrival
    assert rows[1].in_orbit == [{"name": "Orb", "mission": "Orb", "planned": True, "p_working": 1.0}]
    assert rows[1].on_surface == dead_row
    assert rows[1].capabilities == {"research": 0.0, "relay": 1.0}


def test_queqiao2_survival_in_the_default_roadmap():
    """Queqiao-2 is flown (certain) with a 9-year MTBF engineering default: on 2030-01-01 it works with
    P = exp(-(2030-01-01 - 2024-04-02) / 9 yr); 4,000 runs, 4 binomial sd."""
    runs = 4000
    r = simulate(default_roadmap(), runs=runs, seed=3, workers=0)
    rows = buildup_timeline(buildup_items(default_roadmap()), r, yearly_dates(date(2024, 1, 1), date(2035, 12, 31)))
    assert [x.date for x in rows][:2] == [date(2024, 1, 1), date(2025, 1, 1)] and rows[-1].date == date(2035, 12, 31)
    at = {x.date: x for x in rows}
    q = next(e for e in at[date(2030, 1, 1)].in_orbit if e["name"] == "Queqiao-2")
    expected = math.exp(-(date(2030, 1, 1) - date(2024, 4, 2)).days / (9 * 365.25))
    assert abs(q["p_working"] - expected) <= 4 * math.sqrt(expected * (1 - expected) / runs)
    assert at[date(2025, 1, 1)].on_surface == []  # Chang'e 7 is not before mid-2026 by plan or slip
    assert {e["name"] for e in at[date(2035, 12, 31)].on_surface} >= {f"ILRS-{k}" for k in range(1, 6)}


def test_cli_campaign_json_has_the_buildup():
    r = assert_ok(invoke("campaign", "--runs", "300", "--workers", "0", "--json"))
    b = json.loads(r.stdout)["buildup"]
    loc = {(i["name"], i["location"]) for i in b["items"]}
    assert ("Queqiao-2", "orbit") in loc and ("ILRS-1", "surface") in loc
    ilrs1 = next(i for i in b["items"] if i["name"] == "ILRS-1")
    assert "fission-40 (fission)" not in ilrs1["contents"] and "relay-x (relay)" in ilrs1["contents"]
    last = b["timeline"][-1]
    assert last["date"] == "2035-12-31" and {e["name"] for e in last["in_orbit"]} >= {"Queqiao-2", "Luna 26"}


@pytest.mark.xdist_group("report")
def test_report_campaign_section_shows_buildup_and_chains():
    """The campaign block of the report template renders the Gantt, the build-up table and both chains."""
    import re
    from importlib import resources

    from jinja2 import Environment

    from ilrs.reports.campaign_section import campaign_context
    from ilrs.services.campaign import campaign_overview
    from ilrs.services.scenarios import validated_scenario

    ov = campaign_overview(validated_scenario("ilrs-basic-2035"), runs=300, workers=0)
    ctx = campaign_context(ov)
    assert "Queqiao-2 (orbit)" in ctx["buildup_html"] and "on the surface" in ctx["buildup_html"]
    assert "NRHO insertion" in ctx["chains_html"] and "LOI into 100 km polar LLO" in ctx["chains_html"]
    text = resources.files("ilrs.reports").joinpath("templates/run_report.html.j2").read_text()
    # the campaign block has no nested {% if %}: it ends at the first {% endif %} on a line of its own
    block = re.search(r"{% if campaign %}(.*?)\n{% endif %}", text, re.S).group(1)
    html = Environment(autoescape=True).from_string(block).render(campaign=ctx)
    assert ctx["buildup_html"] in html and ctx["chains_html"] in html
    assert "P(in place on 2035-12-31)" in html
