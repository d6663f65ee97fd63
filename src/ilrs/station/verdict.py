"""The verdict of a twin run, first: does the station survive (priority 1-2 never shed), the worst event with its
date and cause, and per build-up phase the energy and storage margins and the power budget by priority."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ilrs.core.runs import runs, series_end
from ilrs.station.engine import CRITICAL_PRIORITIES, EngineResult

__all__ = ["CRITICAL_PRIORITIES", "SHED_TOLERANCE_W", "Phase", "Verdict", "WorstEvent", "phase_starts", "verdict"]
#: A step counts as shedding when more than this is shed [W] (rounding of the engine's bookkeeping).
SHED_TOLERANCE_W = 1e-6


@dataclass(frozen=True)
class Phase:
    """One build-up phase: from an arrival date to the next; powers are means over the phase [kW]."""

    name: str
    start_utc: str
    end_utc: str
    generation_kw: float
    solar_kw: float
    nuclear_kw: float
    load_kw: tuple[float, ...]  #: mean demand per priority 1..5 [kW]
    energy_margin: float  #: generation over demand, minus 1 (before storage: day surplus does not feed the night) [-]
    storage_margin: float  #: least usable battery energy left, as a fraction of the usable capacity [-]
    min_state_of_charge: float
    critical_load_lost_h: float
    load_lost_h: float


@dataclass(frozen=True)
class WorstEvent:
    start_utc: str
    end_utc: str
    hours: float
    energy_kwh: float
    lowest_priority_shed: int
    cause: str


@dataclass(frozen=True)
class Verdict:
    survives: bool  #: no priority 1-2 load was ever shed
    critical_load_lost_h: float
    load_lost_h: float
    worst_event: WorstEvent | None  #: the shedding event that lost the most critical energy (else the most energy)
    phases: tuple[Phase, ...]
    dte_contact_h_per_day: float  #: averaged over the time a DTE terminal is in service
    relay_contact_h_per_day: float  #: averaged over the time a relay terminal is in service

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def headline(self) -> str:
        """The verdict in one line: survives or not, the margin, and the worst event with its date and cause."""
        w = self.worst_event
        where = (
            f"; worst event {w.start_utc[:16].replace('T', ' ')} for {w.hours:.0f} h (down to priority "
            f"{w.lowest_priority_shed}): {w.cause}"
            if w
            else ""
        )
        if self.survives:
            least = min((p.storage_margin for p in self.phases if np.isfinite(p.storage_margin)), default=None)
            margin = (
                f"least storage margin {100 * least:.0f} % of the usable battery" if least is not None else "no battery"
            )
            shed = f"; lower-priority (3-5) load shed for {self.load_lost_h:.1f} h" if self.load_lost_h > 0 else ""
            return f"SURVIVES: no critical (priority 1-2) load shed; {margin}{shed}{where}"
        return f"DOES NOT SURVIVE: critical load lost for {self.critical_load_lost_h:.1f} h{where}"


def _utc(t: np.datetime64) -> str:
    return str(t.astype("datetime64[s]")) + "Z"


#: A discharge counts as at its limit within this much of it [W].
DISCHARGE_LIMIT_TOLERANCE_W = 1.0


def _battery_state(s: Any, r: EngineResult, a: int, b: int) -> str:
    """What held the battery back over steps [a, b): none installed, its reserve, the shedding threshold of the
    highest-priority class shed, or its discharge power limit."""
    cap = r.capacity_wh[a:b]
    if not (cap > 0).any():
        return "no battery"
    soc = np.where(cap > 0, r.stored_wh[a + 1 : b + 1] / np.maximum(cap, 1e-9), np.inf)
    low = float(np.min(soc))
    if low <= s.min_soc + 1e-6:
        return f"battery at its {100 * s.min_soc:.0f} % reserve"
    # class p no longer draws on the battery below shed_below_soc[p] (the engine's thresholds): the highest
    # priority shed in the event is the one whose threshold was reached
    shed_classes = np.flatnonzero(r.shed_w[:, a:b].sum(axis=1) > SHED_TOLERANCE_W)
    thresholds = np.asarray(getattr(s, "shed_below_soc", ()), dtype=float)
    if shed_classes.size and thresholds.size:
        p = int(shed_classes.min())
        if thresholds[p] > s.min_soc and low <= thresholds[p] + 1e-6:
            return (
                f"state of charge under the priority-{p + 1} shedding threshold ({100 * thresholds[p]:.0f} %, "
                f"lowest {100 * low:.0f} %)"
            )
    limit = np.asarray(s.max_discharge_w[a:b], dtype=float)
    if np.any(r.discharge_w[a:b] >= limit - DISCHARGE_LIMIT_TOLERANCE_W):
        return f"battery at its discharge limit ({float(limit.max()) / 1e3:.1f} kW)"
    return f"battery short (state of charge down to {100 * low:.0f} %)"


def _cause(s: Any, r: EngineResult, a: int, b: int) -> str:
    """Why load was shed over steps [a, b): darkness, and what held the battery back (none installed, its
    reserve, a shedding threshold, its discharge limit), against the critical load and the generation."""
    h = s.step_s / 3600.0
    dark = s.solar_w[a:b] <= 0.0
    crit = s.load_w[:CRITICAL_PRIORITIES, a:b].sum(axis=0).mean() / 1e3
    gen = s.generation_w[a:b].mean() / 1e3
    battery = _battery_state(s, r, a, b)
    # the darkness leading into the event: the run of dark steps that contains its first step
    k = a
    while k > 0 and s.solar_w[k - 1] <= 0.0:
        k -= 1
    night = (a - k) * h + dark.sum() * h
    light = f"{night:.0f} h without solar power" if dark.any() else "solar power below the demand"
    return f"{light}, {battery}; {crit:.2f} kW critical load against {gen:.2f} kW generation"


def phase_starts(arrivals: Sequence[tuple[np.datetime64, str]]) -> list[tuple[np.datetime64, str]]:
    """Distinct arrival times with the names of what arrives then (missions, else elements), in order."""
    by: dict[np.datetime64, list[str]] = {}
    for t, name in sorted(arrivals):
        by.setdefault(t, [])
        if name not in by[t]:
            by[t].append(name)
    return [(t, " + ".join(names)) for t, names in sorted(by.items())]


def verdict(
    series: Any,
    r: EngineResult,
    arrivals: Sequence[tuple[np.datetime64, str]],
    dte_in_service: npt.NDArray[np.bool_],
    relay_in_service: npt.NDArray[np.bool_],
) -> Verdict:
    """The verdict of a run; ``arrivals``: (time, mission or element name) of each element."""
    s = series
    h = s.step_s / 3600.0
    shed = r.shed_total_w > SHED_TOLERANCE_W
    critical = r.critical_shed_w > SHED_TOLERANCE_W
    worst = None
    events = runs(shed)
    if events.size:
        crit_energy = [float(r.shed_w[:CRITICAL_PRIORITIES, a:b].sum()) for a, b in events]
        all_energy = [float(r.shed_w[:, a:b].sum()) for a, b in events]
        k = int(np.argmax(crit_energy)) if max(crit_energy) > 0 else int(np.argmax(all_energy))
        a, b = (int(x) for x in events[k])
        # the event's span as :func:`ilrs.core.runs.run_spans` gives it: it ends where the step after its last
        # one begins, or a step after the grid's last
        end = s.utc[b] if b < s.utc.size else series_end(s.utc, np.timedelta64(int(s.step_s), "s"))
        classes = np.flatnonzero(r.shed_w[:, a:b].sum(axis=1) > SHED_TOLERANCE_W)
        worst = WorstEvent(
            _utc(s.utc[a]),
            _utc(end),
            (b - a) * h,
            all_energy[k] * h / 1e3,
            int(classes.min()) + 1,
            _cause(s, r, a, b),
        )
    utc = s.utc.astype("datetime64[s]", copy=False)
    starts = [(t, n) for t, n in phase_starts(arrivals) if t < utc[-1]]
    phases = []
    for i, (t0, name) in enumerate(starts):
        a = int(np.searchsorted(utc, t0))
        b = int(np.searchsorted(utc, starts[i + 1][0])) if i + 1 < len(starts) else utc.size
        if b <= a:
            continue
        sl = slice(a, b)
        demand = s.load_w[:, sl].sum() * h
        generated = s.generation_w[sl].sum() * h
        cap = r.capacity_wh[sl]
        has = cap > 0
        usable = cap * (1.0 - s.min_soc)
        left = r.stored_wh[1:][sl] - s.min_soc * cap
        with np.errstate(invalid="ignore", divide="ignore"):
            storage = float(np.min(left[has] / usable[has])) if has.any() else float("nan")
            soc = float(np.min(r.stored_wh[1:][sl][has] / cap[has])) if has.any() else float("nan")
        phases.append(
            Phase(
                name=name,
                start_utc=_utc(utc[a]),
                end_utc=_utc(utc[b] if b < utc.size else utc[-1] + np.timedelta64(int(s.step_s), "s")),
                generation_kw=float(s.generation_w[sl].mean() / 1e3),
                solar_kw=float(s.solar_w[sl].mean() / 1e3),
                nuclear_kw=float(s.nuclear_w[sl].mean() / 1e3),
                load_kw=tuple(float(x) for x in s.load_w[:, sl].mean(axis=1) / 1e3),
                energy_margin=float(generated / demand - 1.0) if demand > 0 else float("nan"),
                storage_margin=max(storage, 0.0) if np.isfinite(storage) else float("nan"),
                min_state_of_charge=soc,
                critical_load_lost_h=float(np.count_nonzero(critical[sl]) * h),
                load_lost_h=float(np.count_nonzero(shed[sl]) * h),
            )
        )

    def per_day(rate: npt.NDArray[np.float64], service: npt.NDArray[np.bool_]) -> float:
        days = np.count_nonzero(service) * h / 24.0
        return float(np.count_nonzero((rate > 0) & service) * h / days) if days > 0 else 0.0

    return Verdict(
        survives=not critical.any(),
        critical_load_lost_h=float(np.count_nonzero(critical) * h),
        load_lost_h=float(np.count_nonzero(shed) * h),
        worst_event=worst,
        phases=tuple(phases),
        dte_contact_h_per_day=per_day(s.dte_bps, dte_in_service),
        relay_contact_h_per_day=per_day(s.relay_bps, relay_in_service),
    )
