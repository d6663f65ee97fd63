"""Reproducible plans and the reasons given for what is left out, on hand-made station limits.

The determinism that matters most, two identical ``ilrs plan`` runs on the built-in scenario, is tested in
``tests/cli/test_cli_plan.py``; here the planner's own contract on instances small enough to reason about."""

from __future__ import annotations

import numpy as np

from ilrs.operations.planner import TWIN_REASON, plan
from ilrs.operations.requests import RequestSet
from tests.operations.test_operations import _random_instance, hand_limits, req


def _starts(res) -> list[tuple[str, int, str]]:
    return [(a.request, a.occurrence, a.start.isoformat()) for a in res.activities()]


def test_same_inputs_same_plan_many_windows():
    """Forty random instances planned twice with one-day windows over several days: identical placements. Small
    windows are solved to optimality, and several optima often tie, so only a repeatable search gives the same
    placements (the parallel search picks whichever worker finishes first)."""
    for seed in range(40):
        rs, lim = _random_instance(seed)
        a = plan(rs, lim, method="cpsat", time_limit=1.0, window_days=0.05)
        b = plan(rs, lim, method="cpsat", time_limit=1.0, window_days=0.05)
        assert a.deterministic and b.deterministic
        assert _starts(a) == _starts(b), seed
        assert a.value == b.value
        assert all("wall-clock cap" not in w.status for w in a.stats.windows)


def test_unplaced_occurrence_names_the_resource_in_use():
    """Two 40-minute requests for the rover in the same 40 minutes: the lower priority one is left out because
    the rover is in use at its only start."""
    rs = RequestSet(
        requests=[
            req("first", 4, 0, 4, resources=["rover"], priority=1),
            req("second", 4, 0, 4, resources=["rover"], priority=5, partner="p2"),
        ],
        fairness_tolerance=1.0,
    )
    res = plan(rs, hand_limits(4), method="cpsat", time_limit=1.0)
    assert [a.request for a in res.activities()] == ["first"]
    (why,) = res.unplaced_reasons()
    assert why.request == "second" and why.occurrence == 0
    assert "rover in use at 1" in why.reason and "none of the 1 starts" in why.reason


def test_unplaced_occurrence_names_the_spare_power():
    """Two 600 W requests in a 1000 W station at the same time: one is left out for the power."""
    rs = RequestSet(
        requests=[req("a", 3, 0, 3, power_w=600.0, priority=1), req("b", 3, 0, 3, power_w=600.0, priority=4)],
        fairness_tolerance=1.0,
    )
    res = plan(rs, hand_limits(3, cap_w=1000.0), method="greedy")
    (why,) = res.unplaced_reasons()
    assert why.request == "b" and "spare power short at 1" in why.reason


def test_unplaced_after_an_unplanned_predecessor():
    rs = RequestSet(
        requests=[
            req("hog", 6, 0, 6, resources=["arm"], priority=1),
            req("pre", 2, 0, 6, resources=["arm"], priority=5),
            req("post", 2, 0, 6, after=["pre"], priority=5),
        ],
        fairness_tolerance=1.0,
    )
    res = plan(rs, hand_limits(6), method="cpsat", time_limit=1.0)
    why = {x.request: x.reason for x in res.unplaced_reasons()}
    assert "arm in use" in why["pre"]
    assert "after pre#0" in why["post"] and "not planned" in why["post"]


def test_removed_by_the_twin_says_so():
    rs = RequestSet(requests=[req("a", 2, 0, 4)], fairness_tolerance=1.0)
    res = plan(rs, hand_limits(4), method="greedy")
    b = int(np.flatnonzero(res.state.start >= 0)[0])
    res.state.remove(b)  # as repair_with_twin does when the twin shows load shed
    res.removed_by_twin = [b]
    (why,) = res.unplaced_reasons()
    assert why.reason == TWIN_REASON
