"""What the station can give partner activities, per time step of the twin, from a baseline twin run.

The baseline is the station running its own elements with no partner activity. An activity drawing ``x`` watts
at step ``t`` changes the baseline as follows (the engine's rules, :mod:`ilrs.station.engine`):

* a **surplus** step (the baseline curtails generation: battery full or at its charge limit) serves up to
  ``curtailed[t]`` more without touching the battery;
* any other step takes the extra power from the battery (less charge or more discharge, up to the battery's
  power limits): the stored energy drops by at most ``x dt / eta_d`` and stays lower until the battery is
  refilled by curtailed power in the next surplus run.

So time splits into **energy cycles**: a run of non-surplus steps (the deficit ``D`` builds up) followed by a
run of surplus steps (it is paid back). Activities keep the station whole if, per cycle ``k``:

* ``D_k <= margin * min_t (stored[t] - reserve)`` over the deficit run (never below the battery reserve),
* ``D_k / eta_c + E_k <= curtailed energy of the surplus run`` and ``D_k / eta_c <= what the battery can take
  back`` (paid back before the next cycle; ``E_k`` is what activities use in the surplus run).

Data is a queue. The horizon splits into **data cycles** of at most an hour, also cut at the end of every
downlink window. Per cycle ``j`` the baseline leaves ``U_j`` bits of downlink unused and at least ``F_j`` bits of
storage free. Partner data ``P_j`` (counted in the cycle where an activity ends) joins the backlog
``B_j = max(0, B_{j-1} + P_j - U_j)``; the store never overflows if ``B_{j-1} + P_j <= F_j`` for every ``j``
(Lindley's recursion; equivalently ``sum_{m=i..j} P_m - sum_{m=i..j-1} U_m <= F_j`` for all ``i <= j``).

All of it is linear in the activities, which is what the CP-SAT model and the greedy baseline both use; the
plan is then re-run through the twin, which has the last word (:mod:`ilrs.operations.validate`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from ilrs.core.runs import runs

CONDITION_BITS = {"sun": 1, "dark": 2, "earth": 4, "relay": 8, "downlink": 16}
#: Fraction of the reserve headroom the planner may use (the rest absorbs the linear model's approximations).
ENERGY_MARGIN = 0.9
#: Longest data cycle [s]: short enough that the lowest free storage of a cycle says little about its other steps.
DATA_CYCLE_S = 3600.0


def condition_mask(conditions: Iterable[str]) -> int:
    m = 0
    for c in conditions:
        m |= CONDITION_BITS[c]
    return m


@dataclass
class StationLimits:
    """Per-slot limits over the planning horizon (``T`` slots of ``step_s`` from ``t0``)."""

    t0: dt.datetime
    step_s: float
    cond: np.ndarray  #: (T,) uint8 condition bits (CONDITION_BITS)
    cap_w: np.ndarray  #: (T,) power partner activities may draw [W]
    surplus: np.ndarray  #: (T,) bool: the baseline curtails (energy from curtailed power)
    ecycle: np.ndarray  #: (T,) int energy cycle of the slot
    deficit_budget_wh: np.ndarray  #: (K,) D_k allowed by the reserve [Wh]
    payback_wh: np.ndarray  #: (K,) curtailed energy of the surplus run [Wh]
    recharge_wh: np.ndarray  #: (K,) energy the battery can take back in the surplus run [Wh stored]
    eta_c: float
    eta_d: float
    dcycle: np.ndarray  #: (T,) int data cycle of the slot
    data_unused_bits: np.ndarray  #: (J,) downlink capacity the baseline leaves unused in the cycle [bit]
    data_free_bits: np.ndarray  #: (J,) lowest storage the baseline leaves free over the cycle [bit]

    @property
    def n(self) -> int:
        return int(self.cond.size)

    def slot_of(self, when: dt.datetime) -> float:
        return (when - self.t0).total_seconds() / self.step_s

    def time_of(self, slot: int) -> dt.datetime:
        return self.t0 + dt.timedelta(seconds=float(slot) * self.step_s)


def build_limits(
    t0: dt.datetime,
    step_s: float,
    *,
    sun_fraction: np.ndarray,
    dte_bps: np.ndarray,
    relay_bps: np.ndarray,
    curtailed_w: np.ndarray,
    charge_w: np.ndarray,
    discharge_w: np.ndarray,
    stored_wh: np.ndarray,
    capacity_wh: np.ndarray,
    min_soc: float,
    max_charge_w: np.ndarray,
    max_discharge_w: np.ndarray,
    eta_c: float,
    eta_d: float,
    downlinked_bits: np.ndarray,
    data_stored_bits: np.ndarray,
    storage_bits: np.ndarray,
) -> StationLimits:
    """Limits from a baseline run's per-step arrays over the horizon (all (T,); ``stored_wh`` and
    ``data_stored_bits`` are the stored amounts after each step)."""
    n = sun_fraction.size
    h = step_s / 3600.0
    cond = np.zeros(n, dtype=np.uint8)
    cond |= np.where(sun_fraction > 0, CONDITION_BITS["sun"], CONDITION_BITS["dark"]).astype(np.uint8)
    cond |= np.where(dte_bps > 0, CONDITION_BITS["earth"], 0).astype(np.uint8)
    cond |= np.where(relay_bps > 0, CONDITION_BITS["relay"], 0).astype(np.uint8)
    cond |= np.where(dte_bps + relay_bps > 0, CONDITION_BITS["downlink"], 0).astype(np.uint8)

    surplus = curtailed_w > 1e-6
    battery_w = np.maximum(charge_w + np.maximum(max_discharge_w - discharge_w, 0.0), 0.0)
    cap = np.where(surplus, curtailed_w, np.where(capacity_wh > 0, battery_w, 0.0))

    # energy cycles: a deficit run (not surplus) then a surplus run; a horizon starting in surplus has an empty
    # first deficit run
    starts = np.flatnonzero(~surplus & np.concatenate([[True], surplus[:-1]]))
    if starts.size == 0 or starts[0] != 0:
        starts = np.concatenate([[0], starts])
    ecycle = np.cumsum(np.isin(np.arange(n), starts)) - 1
    k = int(ecycle[-1]) + 1
    headroom = np.where(~surplus, stored_wh - min_soc * capacity_wh, np.inf)
    budget = np.full(k, np.inf)
    np.minimum.at(budget, ecycle, headroom)
    budget = np.where(np.isfinite(budget), np.maximum(budget, 0.0) * ENERGY_MARGIN, 0.0)
    payback = np.bincount(ecycle, weights=np.where(surplus, curtailed_w * h, 0.0), minlength=k)
    take = np.where(surplus, np.minimum(curtailed_w, np.maximum(max_charge_w - charge_w, 0.0)) * h * eta_c, 0.0)
    recharge = np.bincount(ecycle, weights=take, minlength=k)
    # a cycle whose surplus run is cut by the end of the horizon cannot be shown to pay back: no deficit there
    if not surplus[-1]:
        budget[-1] = 0.0

    # data cycles: a new one after every downlink window and at least every DATA_CYCLE_S
    link = (dte_bps + relay_bps) > 0
    every = max(1, int(round(DATA_CYCLE_S / step_s)))
    new = np.zeros(n, dtype=bool)
    new[::every] = True
    ends = runs(link)[:, 1]
    new[ends[ends < n]] = True
    dcycle = np.cumsum(new) - 1
    j = int(dcycle[-1]) + 1
    unused = np.bincount(dcycle, weights=np.maximum((dte_bps + relay_bps) * step_s - downlinked_bits, 0.0), minlength=j)
    free = np.full(j, np.inf)
    np.minimum.at(free, dcycle, np.maximum(storage_bits - data_stored_bits, 0.0))
    return StationLimits(
        t0=t0,
        step_s=float(step_s),
        cond=cond,
        cap_w=cap,
        surplus=surplus,
        ecycle=ecycle,
        deficit_budget_wh=budget,
        payback_wh=payback,
        recharge_wh=recharge,
        eta_c=float(eta_c),
        eta_d=float(eta_d),
        dcycle=dcycle,
        data_unused_bits=unused,
        data_free_bits=free,
    )
