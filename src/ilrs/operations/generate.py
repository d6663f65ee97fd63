"""Seeded sets of realistic partner activity requests (the benchmark's and the default scenario's).

Activity kinds follow the cooperation offered on the ILRS (instruments delivered by partners, shared robot and
antenna time; ILRS-FACTS 1.6); partners are the agencies and organisations that have signed ILRS agreements. The
figures (durations, powers, data volumes) are engineering defaults for small surface instruments.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np

from ilrs.operations.requests import DEFAULT_RESOURCES, ActivityRequest, Condition, RequestSet

#: Partner keys: agencies and organisations with ILRS agreements (ILRS-FACTS 1.6), no persons.
PARTNERS = ("cnsa", "roscosmos", "suparco", "mbrsc", "sansa", "narit", "azercosmos", "egsa", "apsco")

#: kind: (conditions choices, resources, duration h (lo, hi), power W (lo, hi), data Mbit (lo, hi), period d)
KINDS: dict[str, tuple[list[list[Condition]], list[str], tuple[int, int], tuple[int, int], tuple[int, int], int]] = {
    "seismometer-calibration": ([[]], [], (1, 2), (20, 60), (50, 400), 1),
    "dust-monitor": ([["sun"]], [], (1, 4), (30, 120), (20, 200), 1),
    "radio-astronomy": ([["dark"]], [], (4, 10), (150, 400), (2000, 20000), 7),
    "laser-ranging": ([["earth"]], [], (1, 2), (80, 200), (10, 50), 3),
    "rover-traverse": ([["sun"], ["sun", "relay"]], ["rover"], (3, 8), (300, 900), (1000, 8000), 7),
    "drill-core": ([["sun"], []], ["drill", "arm"], (2, 6), (800, 2500), (100, 800), 14),
    "sample-handling": ([["sun"], []], ["arm"], (1, 3), (200, 600), (50, 500), 5),
    "hga-campaign": ([["earth"]], ["hga"], (1, 3), (100, 300), (5000, 40000), 3),
    "isru-oxygen-run": ([["sun"]], [], (4, 12), (2000, 6000), (10, 100), 10),
    "imaging-survey": ([["sun", "downlink"]], [], (1, 3), (60, 200), (1000, 6000), 2),
}


def synthetic_requests(
    n: int,
    start: dt.datetime,
    end: dt.datetime,
    seed: int = 0,
    partners: Sequence[str] = PARTNERS,
    repeat_fraction: float = 0.15,
    max_repeats: int = 8,
    chains: float = 0.03,
) -> RequestSet:
    """``n`` requests spread over [start, end): most one-off with a window of 1 to 21 days, a share repeating
    every period of their kind a few times, a few chained by precedence (e.g. a drill core after a traverse)."""
    rng = np.random.default_rng(seed)
    span = (end - start).total_seconds()
    kinds = list(KINDS)
    reqs: list[ActivityRequest] = []
    for i in range(n):
        kind = kinds[int(rng.integers(len(kinds)))]
        conds, res, (d0, d1), (p0, p1), (m0, m1), period_d = KINDS[kind]
        partner = partners[int(rng.integers(len(partners)))]
        dur_h = float(rng.uniform(d0, d1))
        dur_m = max(10, int(round(dur_h * 6)) * 10)
        repeats = int(rng.integers(2, max_repeats + 1)) if rng.random() < repeat_fraction else 1
        period_s = period_d * 86400.0
        win_s = period_s * repeats if repeats > 1 else float(rng.uniform(1, 21)) * 86400.0
        t_start = float(rng.uniform(0, max(span - win_s, 0.0)))
        earliest = start + dt.timedelta(seconds=round(t_start / 600) * 600)
        deadline = min(end, earliest + dt.timedelta(seconds=win_s))
        after: list[str] = []
        if reqs and rng.random() < chains:
            prev = reqs[-1]
            if prev.repeat_count == 1 and prev.earliest < earliest:
                after = [prev.id]
        reqs.append(
            ActivityRequest(
                id=f"{partner}-{kind}-{i:05d}",
                partner=partner,
                payload=f"{partner}-{kind.split('-')[0]}",
                duration=f"{dur_m}m",
                earliest=earliest,
                deadline=deadline,
                repeat_every=f"{period_d}d" if repeats > 1 else None,
                repeat_count=repeats,
                power_w=float(round(rng.uniform(p0, p1))),
                data_mbit=float(round(rng.uniform(m0, m1))),
                conditions=list(conds[int(rng.integers(len(conds)))]),
                resources=list(res),
                after=after,
                priority=int(rng.choice([1, 2, 3, 3, 4, 4, 5])),
            )
        )
    return RequestSet(requests=reqs, resources=dict(DEFAULT_RESOURCES))
