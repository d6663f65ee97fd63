"""Campaign roadmap checks and the Dask Monte Carlo: errors, hand-checked dates, binomial odds, reproducibility."""

from __future__ import annotations

import dataclasses
import math
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from ilrs.campaign.montecarlo import simulate
from ilrs.campaign.roadmap import NO_SLIP, Mission, Slip, check_roadmap, default_roadmap
from ilrs.errors import IlrsError
from tests.clirunner import assert_ok, assert_user_error, invoke


def _m(name, launch=date(2030, 1, 1), **kw) -> Mission:
    base = dict(agency="CNSA", vehicle="cz-5", launch=launch, mass_kg=8_000.0, capabilities=("research",))
    base.update(kw)
    return Mission(name, **base)


def _certain(missions):
    """The same roadmap with every outcome certain and no slips."""
    return tuple(dataclasses.replace(m, p_launch=1.0, p_landing=1.0, slip=NO_SLIP) for m in missions)


def _i8(a: np.ndarray) -> np.ndarray:
    return a.view("i8")  # NaT != NaT, so compare the raw day counts


def test_default_roadmap_is_consistent():
    notes = check_roadmap(default_roadmap())
    # Angara-A5 and Soyuz-2.1b/Fregat publish no TLI figure (ILRS-FACTS 3.1): said, not silently passed
    assert any("Luna 27" in n and "not checked" in n for n in notes)
    names = {m.name for m in default_roadmap()}
    assert {"Chang'e 7", "Chang'e 8", "Luna 26", "Luna 27", "Luna 28", "Queqiao-2"} | {
        f"ILRS-{k}" for k in range(1, 6)
    } == names
    orbital = {o for m in default_roadmap() for o in m.orbital}
    assert orbital == {"Queqiao-2", "Chang'e 7 orbiter", "Luna 26"}


@pytest.mark.parametrize(
    ("missions", "field", "text"),
    [
        ((_m("Heavy", mass_kg=9_000.0),), "mass_kg", "exceeds Long March 5 TLI capacity 8,350"),
        ((_m("Nowhere", vehicle="saturn-v"),), "vehicle", "unknown launch vehicle 'saturn-v'"),
        ((_m("Orphan", depends_on=("Ghost",)),), "depends_on", "unknown mission 'Ghost'"),
        ((_m("A", depends_on=("B",)), _m("B", depends_on=("A",))), "depends_on", "dependency cycle"),
        ((_m("Early", launch=date(2029, 1, 1), depends_on=("Late",)), _m("Late")), "launch", "before that of its"),
        ((_m("Wide", slip=Slip.triangular(0, 10, -5)),), "slip", "negative width"),
        ((_m("Mode", slip=Slip.triangular(0, 400, 300)),), "slip", "outside [min_days, max_days]"),
        ((_m("Sigma", slip=Slip.lognormal(100, 0.0)),), "slip", "sigma 0.0 must be > 0"),
        ((_m("Doa", p_failure_on_arrival=1.5),), "p_failure_on_arrival", "outside [0, 1]"),
        ((_m("Mtbf", mtbf_years=-2.0),), "mtbf_years", "must be >= 0"),
    ],
)
def test_check_roadmap_names_mission_and_field(missions, field, text):
    bad = next(m for m in missions if m.name not in ("B", "Late"))
    with pytest.raises(IlrsError) as err:
        check_roadmap(missions)
    msg = str(err.value)
    assert f"mission {bad.name!r}.{field}" in msg or (field == "depends_on" and ".depends_on" in msg)
    assert text in msg


def test_certain_roadmap_lands_on_planned_dates():
    # hand check: A launches 2030-01-01 and lands 30 d later, 2030-01-31; B is planned 2030-01-10 but waits for
    # A's landing, launches 2030-01-31 and lands 10 d later, 2030-02-10
    a = _m("A", capabilities=("energy",), transit_days=30.0)
    b = _m("B", launch=date(2030, 1, 10), capabilities=("isru",), depends_on=("A",), transit_days=10.0)
    r = simulate((a, b), runs=5, seed=3, scheduler="local-sync")
    assert (r.in_place["energy"] == np.datetime64("2030-01-31")).all()
    assert (r.in_place["isru"] == np.datetime64("2030-02-10")).all()
    assert r.probability_by("isru", date(2030, 2, 10)) == 1.0
    assert r.probability_by("isru", date(2030, 2, 9)) == 0.0


def test_certain_default_roadmap_every_capability_on_its_first_provider():
    missions = _certain(default_roadmap())
    r = simulate(missions, runs=3, seed=0, workers=0)
    for cap in r.capabilities:
        # earliest planned launch + transit among providers (no dependency waits longer in the default plan)
        expected = min(m.launch + timedelta(days=m.transit_days) for m in missions if cap in m.capabilities)
        assert (r.in_place[cap] == np.datetime64(expected)).all(), cap


def test_single_coin_flip_converges_to_half():
    runs = 4000
    missions = (_m("Coin", capabilities=("astronomy",), p_launch=0.5), _m("Sure", capabilities=("research",)))
    r = simulate(missions, runs=runs, seed=2026, scheduler="local-sync")
    p = r.probability_by("astronomy", date(2031, 1, 1))
    # the estimate is binomial with sd sqrt(p(1-p)/n) = 0.0079; 3 sd leaves a 0.27% chance of a false failure
    assert abs(p - 0.5) <= 3 * math.sqrt(0.25 / runs)
    assert r.probability_by("research", date(2031, 1, 1)) == 1.0


def test_dependency_order_in_every_run():
    r = simulate(default_roadmap(), runs=2000, seed=7, workers=0)
    col = {n: k for k, n in enumerate(r.missions)}
    for m in default_roadmap():
        for d in m.depends_on:
            assert r.missions.index(d) < r.missions.index(m.name)
            launch, pred = r.launch[:, col[m.name]], r.landing[:, col[d]]
            assert (np.isnat(pred) <= np.isnat(launch)).all()
            ok = ~np.isnat(pred)
            assert (launch[ok] >= pred[ok]).all()
            assert (launch[ok] >= np.datetime64(m.launch)).all()
    # some runs lose a predecessor, so the "never" branch is exercised
    assert np.isnat(r.launch).any()
    assert "P(by 2035-12-31)" in r.table()


def test_same_results_for_any_chunking_in_process():
    a = simulate(default_roadmap(), runs=501, seed=11, workers=0)
    b = simulate(default_roadmap(), runs=501, seed=11, scheduler="local-sync", chunk=7)
    c = simulate(default_roadmap(), runs=501, seed=11, scheduler="local-sync", chunk=501)
    for x in (b, c):
        assert np.array_equal(_i8(a.landing), _i8(x.landing))
        assert np.array_equal(_i8(a.launch), _i8(x.launch))
    d = simulate(default_roadmap(), runs=501, seed=12, workers=0)
    assert not np.array_equal(_i8(a.launch), _i8(d.launch))


def _failing(missions):
    """The roadmap with failures on every mission: 5 % dead on arrival, 6-year MTBF."""
    return tuple(dataclasses.replace(m, p_failure_on_arrival=0.05, mtbf_years=6.0) for m in missions)


def test_same_results_on_one_and_two_worker_clusters():
    roadmap = _failing(default_roadmap())
    ref = simulate(roadmap, runs=400, seed=5, workers=0)
    for workers, chunk in ((1, 400), (2, 33)):
        r = simulate(roadmap, runs=400, seed=5, workers=workers, chunk=chunk)
        assert np.array_equal(_i8(ref.landing), _i8(r.landing)), workers
        assert np.array_equal(ref.failure_day, r.failure_day, equal_nan=True), workers
        for cap in ref.capabilities:
            assert np.array_equal(_i8(ref.in_place[cap]), _i8(r.in_place[cap])), (workers, cap)
            assert ref.probability_by(cap, "2034-06-30") == r.probability_by(cap, "2034-06-30"), (workers, cap)


def test_failures_leave_launches_and_landings_unchanged():
    """Failure draws come after the others in each run's stream: asking for failures changes nothing else."""
    a = simulate(default_roadmap(), runs=300, seed=9, workers=0)
    b = simulate(_failing(default_roadmap()), runs=300, seed=9, workers=0)
    assert np.array_equal(_i8(a.landing), _i8(b.landing)) and np.array_equal(_i8(a.launch), _i8(b.launch))
    no_fail = tuple(dataclasses.replace(m, p_failure_on_arrival=0.0, mtbf_years=0.0) for m in default_roadmap())
    c = simulate(no_fail, runs=300, seed=9, workers=0)
    assert np.isinf(c.failure_day[~np.isnan(c.landing_day)]).all()
    for cap in c.capabilities:  # without failures, "working on the date" is "delivered by the date"
        got = c.in_place[cap]
        assert c.probability_by(cap, "2033-01-01") == float(
            np.mean(~np.isnat(got) & (got <= np.datetime64("2033-01-01")))
        )
    assert b.probability_by("energy", "2040-01-01") < c.probability_by("energy", "2040-01-01")


def test_exponential_lifetime_against_the_analytic_survival():
    """One mission, launch p 0.9, landing p 0.8, 10 % dead on arrival, MTBF 5 yr, no slip, lands 2030-01-01:
    P(working t days later) = 0.9 x 0.8 x 0.9 x exp(-t / (5 x 365.25)) (constant hazard). 20,000 runs: the
    estimate is binomial with sd <= sqrt(0.25 / 20000) = 0.0035; 4 sd (false alarm 6e-5 per point) bounds it."""
    runs = 20_000
    m = _m(
        "Solo",
        launch=date(2030, 1, 1),
        capabilities=("energy",),
        p_launch=0.9,
        p_landing=0.8,
        p_failure_on_arrival=0.1,
        mtbf_years=5.0,
    )
    r = simulate((m,), runs=runs, seed=42, scheduler="local-sync")
    p0 = 0.9 * 0.8 * 0.9
    for years in (0.0, 1.0, 5.0, 12.0):
        by = date(2030, 1, 1) + timedelta(days=round(years * 365.25))
        expected = p0 * math.exp(-(by - date(2030, 1, 1)).days / (5.0 * 365.25))
        sd = math.sqrt(expected * (1 - expected) / runs)
        assert abs(r.probability_by("energy", by) - expected) <= 4 * max(sd, 1e-4), years
    # ever working: launched, landed and alive on arrival, whatever the later failure
    assert abs(float(np.mean(~np.isnat(r.in_place["energy"]))) - p0) <= 4 * math.sqrt(p0 * (1 - p0) / runs)
    assert r.mission_working("Solo", date(2029, 12, 31)) == 0.0


def test_redundant_providers_combine_as_independent_survivals():
    """Two missions bring "energy" (MTBF 3 and 8 yr, 5 % and 0 % dead on arrival, certain flights): on a date
    t after both land, P = 1 - (1 - 0.95 exp(-t1 / 3 yr)) (1 - exp(-t2 / 8 yr)). Tolerance as above."""
    runs = 20_000
    a = _m("A", launch=date(2030, 1, 1), capabilities=("energy",), p_failure_on_arrival=0.05, mtbf_years=3.0)
    b = _m("B", launch=date(2031, 1, 1), capabilities=("energy",), mtbf_years=8.0)
    r = simulate((a, b), runs=runs, seed=7, scheduler="local-sync")
    by = date(2034, 7, 1)
    pa = 0.95 * math.exp(-(by - a.launch).days / (3 * 365.25))
    pb = math.exp(-(by - b.launch).days / (8 * 365.25))
    expected = 1 - (1 - pa) * (1 - pb)
    assert abs(r.probability_by("energy", by) - expected) <= 4 * math.sqrt(expected * (1 - expected) / runs)
    assert abs(r.mission_working("A", by) - pa) <= 4 * math.sqrt(pa * (1 - pa) / runs)


def test_cli_campaign_json():
    """`ilrs campaign --workers 0` (in-process) prints one JSON object with a probability per capability."""
    import json

    r = assert_ok(invoke("campaign", "--runs", "500", "--workers", "0", "--json"))
    out = json.loads(r.stdout)
    caps = {row["capability"] for row in out["summary"]}
    assert {"energy", "communications", "isru", "astronomy"} <= caps
    assert all(0.0 <= row["p_ever"] <= 1.0 for row in out["summary"])
    assert_user_error(invoke("campaign", "--by", "soon"), "--by")


def test_default_scenario_carries_the_builtin_roadmap_with_orbits_and_failures():
    """The TOML roadmap (what `ilrs campaign` reads) equals the built-in one field by field, orbit and failure
    fields included, so the scenario's failures reach the Monte Carlo."""
    from ilrs.campaign.roadmap import scenario_roadmap
    from ilrs.services.scenarios import validated_scenario

    missions, _ = scenario_roadmap(validated_scenario("ilrs-basic-2035"))
    assert missions == default_roadmap()
    by_name = {m.name: m for m in missions}
    assert by_name["Queqiao-2"].mtbf_years == 9.0 and not by_name["Queqiao-2"].lands
    assert by_name["Chang'e 7"].in_orbit == ("Chang'e 7 orbiter",)


def test_scenario_failure_fields_are_checked(tmp_path):
    from ilrs.services.scenarios import validated_scenario

    text = (Path(__file__).parents[2] / "src/ilrs/data/scenarios/ilrs-basic-2035.toml").read_text()
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace("mtbf_years = 9.0", "mtbf_years = -1.0"))
    with pytest.raises(IlrsError) as err:
        validated_scenario(str(bad))
    assert "mtbf_years" in str(err.value) and "bad.toml" in str(err.value)
