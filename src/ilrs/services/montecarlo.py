"""The campaign Monte Carlo as a use case: run where it pays (:mod:`ilrs.services.executor`), with progress."""

from __future__ import annotations

from collections.abc import Callable

from ilrs.campaign.montecarlo import CampaignResult, simulate
from ilrs.campaign.roadmap import Mission
from ilrs.services.executor import dask_client

#: Serial cost of one campaign run [s] (10,000 runs in 1.6 s in process, the issue's measurement).
SECONDS_PER_RUN = 1.6e-4


def run_monte_carlo(
    missions: tuple[Mission, ...] | list[Mission],
    runs: int,
    seed: int,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[float], None] | None = None,
    on_mode: Callable[[str], None] | None = None,
) -> tuple[CampaignResult, str]:
    """:func:`ilrs.campaign.montecarlo.simulate` in process when the work is too small to pay for a cluster (the
    usual case: starting a LocalCluster costs more than 10,000 runs), else on a LocalCluster of ``workers`` or
    the scheduler at ``scheduler`` / ``ILRS_DASK_SCHEDULER``; returns the result and how it ran, in words."""
    with dask_client(workers, scheduler, runs * SECONDS_PER_RUN) as (mode, client, n):
        if on_mode:
            on_mode(mode)
        if client is None:
            # four chunks or more so that the bar moves; the result does not depend on the chunking
            chunk = max(1, -(-runs // 20))
            result = simulate(missions, runs, seed, scheduler="local-sync", chunk=chunk, progress=progress)
        else:
            result = simulate(missions, runs, seed, workers=n, client=client, progress=progress)
    return result, mode
