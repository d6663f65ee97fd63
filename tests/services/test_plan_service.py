"""The planner on the default scenario's station: the shipped 2033 partner requests, the twin re-run with the
plan, and re-planning after an element failure and a lost Earth window.

One baseline twin run and one plan are shared (module fixtures). The checks are helpers called from a single
test: the ``xdist_group`` marker that should keep tests of one group on one worker under ``--dist loadgroup`` is a
no-op with pytest 9.2 and pytest-xdist 3.8 (xdist suffixes ``item._nodeid``, which pytest 9 no longer reads), so
separate tests would each pay the twin run on both workers. (``tests/conftest.py`` now restores the grouping.)"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from ilrs.operations.validate import validate_plan
from ilrs.scenario.schema import ElementFailure, WindowLost

pytestmark = pytest.mark.xdist_group("plan_scenario")

FAILURE_AT = dt.datetime(2033, 7, 1)
LOST_FROM = dt.datetime(2033, 3, 1)
LOST_TO = dt.datetime(2033, 4, 1)


@pytest.fixture(scope="module")
def scenario():
    from ilrs.services.scenarios import validated_scenario

    return validated_scenario("ilrs-basic-2035")


@pytest.fixture(scope="module")
def twin(scenario):
    from ilrs.services.twin import run_twin

    return run_twin(scenario)


@pytest.fixture(scope="module")
def requests(scenario):
    from ilrs.services.plan import requests_for

    path = scenario.requests_path()  # declared by the scenario, next to its file
    assert path.parent == scenario.path.parent / "requests" and path.name == "ilrs-basic-2035.toml"
    return requests_for(scenario, None)


@pytest.fixture(scope="module")
def sp(scenario, twin, requests):
    from ilrs.services.plan import plan_scenario

    return plan_scenario(scenario, requests, time_limit=4.0, twin=twin)


def _by_key(acts):
    return {(a.request, a.occurrence): a for a in acts}


def _default_scenario_plan_is_valid_and_harmless(sp, requests):
    res = sp.result
    acts = res.activities()
    assert sp.violations == []
    # the validator again, from scratch, with the shares the planner used
    assert (
        validate_plan(acts, requests, sp.base.limits, eff_share=res.problem.eff_share, partners=res.problem.partners)
        == []
    )
    assert sp.check.ok
    assert sp.check.extra_shed_steps == 0 and sp.check.extra_shed_kwh <= 1e-9  # 1 uWh: rounding
    assert sp.check.extra_data_lost_gbit <= 1e-9
    assert sp.check.plan_energy_kwh > 0 and sp.check.plan_data_gbit > 0
    assert sp.check.min_soc_with_plan >= sp.base.twin.series.min_soc - 1e-6
    assert res.value >= res.greedy_value - 1e-9 and res.value <= res.bound + 1e-9
    # a real plan: hundreds of activities from most partners, every request id known
    assert len(acts) > 100
    partner = {r.id: r.partner for r in requests.requests}
    assert len({partner[a.request] for a in acts}) >= 6
    # inside the horizon, on the twin's grid
    lim = sp.base.limits
    assert all(lim.t0 <= a.start < a.end <= lim.time_of(lim.n) for a in acts)


def _the_plan_fed_back_into_the_twin_adds_its_energy_and_data(sp):
    from ilrs.services.plan import plan_loads, twin_with_plan

    base, res = sp.base, sp.result
    power, rate = plan_loads(base, res.problem.blocks, res.state.start, res.problem.dur)
    r0 = base.twin.result
    r1 = twin_with_plan(base, power, rate)
    h = base.twin.series.step_s / 3600.0
    served = (r1.served_w.sum() - r0.served_w.sum()) * h / 1e3
    plan_kwh = float(power.sum() * h / 1e3)
    assert plan_kwh == pytest.approx(sp.check.plan_energy_kwh)
    # the energy of the plan's activities from the request text
    req = {r.id: r for r in sp.requests.requests}
    text_kwh = sum(req[a.request].power_w * (a.end - a.start).total_seconds() / 3.6e6 for a in res.activities())
    assert plan_kwh == pytest.approx(text_kwh, rel=1e-9)
    assert served == pytest.approx(plan_kwh, rel=1e-3)
    # nothing shed anywhere, the data produced is the plan's
    assert np.all(r1.shed_w.sum(axis=0) <= r0.shed_w.sum(axis=0) + 1e-6)
    made = (r1.data_generated_bits.sum() - r0.data_generated_bits.sum()) / 1e9
    assert made == pytest.approx(sp.check.plan_data_gbit, rel=1e-3)
    assert r1.data_lost_bits.sum() <= r0.data_lost_bits.sum() + 1e-3


def _replan_after_the_ilrs1_array_fails(sp, requests):
    from ilrs.services.plan import replan_scenario

    old = sp.result.activities()
    rr, check, base2 = replan_scenario(
        sp, ElementFailure(kind="element_failure", element="ilrs1-array", at=FAILURE_AT), time_limit=4.0
    )
    new = rr.result.activities()
    # the station has less to give after the failure, not before
    cut = int(base2.limits.slot_of(FAILURE_AT))
    lim0, lim1 = sp.base.limits, base2.limits
    assert np.array_equal(lim1.cap_w[:cut], lim0.cap_w[:cut])
    # less spare solar energy from then on (power caps alone can rise: in deficit steps they are the battery's
    # discharge limit, and the station is in deficit more often without the array)
    r0, r1, i = sp.base.twin.result, base2.twin.result, sp.base.i0 + cut
    assert np.array_equal(r1.curtailed_w[:i], r0.curtailed_w[:i])
    assert r1.curtailed_w[i:].sum() < r0.curtailed_w[i:].sum()
    # everything that started before the event is kept exactly, and nothing new appears before it
    before_old = {k: a for k, a in _by_key(old).items() if a.start < FAILURE_AT}
    before_new = {k: a for k, a in _by_key(new).items() if a.start < FAILURE_AT}
    assert before_new == before_old and len(before_old) > 50
    # activities after the event pass the validator on the new limits
    after = [a for a in new if a.start >= FAILURE_AT]
    assert after
    assert validate_plan(after, requests, lim1, check_fairness=False) == []
    assert check.ok, check
    # most of what came after the event is still there at its old time
    same = set(_by_key(old).items()) & set(_by_key(new).items())
    assert sum(a.start >= FAILURE_AT for _, a in same) > 0.5 * len(after)
    assert rr.kept > 0 and rr.result.value > 0.5 * sp.result.value


def _a_lost_earth_window_removes_earth_activities_from_it(sp, requests):
    from ilrs.services.plan import replan_scenario

    earth = {r.id for r in requests.requests if "earth" in r.conditions}

    def in_window(a):
        return a.request in earth and a.start < LOST_TO and a.end > LOST_FROM

    old = sp.result.activities()
    assert sum(in_window(a) for a in old) >= 3  # the event hits something
    rr, check, base2 = replan_scenario(
        sp,
        WindowLost(kind="window_lost", condition="earth", start=LOST_FROM, end=LOST_TO),
        time_limit=4.0,
    )
    new = rr.result.activities()
    assert [a for a in new if in_window(a)] == []
    before_old = {k: a for k, a in _by_key(old).items() if a.start < LOST_FROM}
    before_new = {k: a for k, a in _by_key(new).items() if a.start < LOST_FROM}
    assert before_new == before_old
    assert validate_plan([a for a in new if a.start >= LOST_FROM], requests, base2.limits, check_fairness=False) == []
    assert check.ok
    # what the window took is re-planned after it where the requests' windows allow
    assert rr.result.value > 0.5 * sp.result.value


def test_default_scenario_plan_twin_check_and_replanning(sp, requests):
    """The shipped requests planned on the default scenario; the plan in the twin; two events re-planned."""
    _default_scenario_plan_is_valid_and_harmless(sp, requests)
    _the_plan_fed_back_into_the_twin_adds_its_energy_and_data(sp)
    _replan_after_the_ilrs1_array_fails(sp, requests)
    _a_lost_earth_window_removes_earth_activities_from_it(sp, requests)
