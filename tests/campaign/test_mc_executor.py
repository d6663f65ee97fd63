"""The Monte Carlo on the shared executor: in process when small (and said), real progress, the same results on
a LocalCluster, an unreachable scheduler refused quickly."""

from __future__ import annotations

import numpy as np
import pytest

from ilrs.campaign.montecarlo import simulate
from ilrs.campaign.roadmap import default_roadmap
from ilrs.services.montecarlo import run_monte_carlo
from tests.clirunner import assert_user_error, invoke


def _same(a, b) -> None:
    assert np.array_equal(a.landing_day, b.landing_day, equal_nan=True)
    assert np.array_equal(a.failure_day, b.failure_day, equal_nan=True)
    assert np.array_equal(a.launch, b.launch, equal_nan=True)


def test_small_runs_in_process_with_progress():
    seen: list[float] = []
    r, mode = run_monte_carlo(default_roadmap(), 2000, 7, progress=seen.append)
    assert mode.startswith("in process") and "does not pay" in mode
    assert seen == sorted(seen) and len(seen) >= 4 and seen[-1] == 1.0
    _same(r, simulate(default_roadmap(), runs=2000, seed=7, workers=0))


@pytest.mark.slow
def test_local_cluster_gives_the_same_runs_with_progress():
    seen: list[float] = []
    r, mode = run_monte_carlo(default_roadmap(), 2000, 7, workers=2, progress=seen.append)
    assert mode == "LocalCluster, 2 workers"
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) > 1
    _same(r, simulate(default_roadmap(), runs=2000, seed=7, workers=0))


def test_cli_unreachable_scheduler_is_a_user_error():
    assert_user_error(
        invoke("campaign", "--runs", "10", "--scheduler", "tcp://127.0.0.1:1"), "no Dask scheduler reachable"
    )
