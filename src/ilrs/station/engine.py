"""The station's time-step engine: power balance, battery, load shedding and data, one step after another.

The caller turns a scenario into arrays on a uniform time grid (:class:`EngineInputs`); :func:`run_engine`
steps through them and returns every flow per step (:class:`EngineResult`). The model is a bus-level energy
balance (the usual "energy-flow" model of spacecraft power system sizing, e.g. Patel, "Spacecraft Power
Systems", CRC 2005, ch. 20). With ``dt = step_s / 3600`` [h], for each step ``t``:

1. **Arrivals.** ``stored += battery_added_wh[t]`` (the arriving batteries' own charge), then, if the stored
   energy exceeds ``battery_capacity_wh[t]`` (an arrival bringing more than its capacity, or capacity that
   steps down), the excess is dropped and counted in ``loss_w`` so that energy is still conserved.
2. **Balance.** ``surplus = generation - sum_p load_p``.

   * ``surplus >= 0``: every load is served; the battery takes
     ``charge = min(surplus, max_charge_w, (capacity - stored) / (eta_c dt))``; the rest is curtailed.
   * ``surplus < 0``: generation serves the classes in priority order (1 first); the battery covers the rest of
     the classes it may still support, ``discharge = min(their gaps, max_discharge_w,
     max(stored - min_soc capacity, 0) eta_d / dt)``, again in priority order; what remains is shed, so that the
     lowest priorities go first and the served power equals generation + discharge exactly. A class ``p`` may
     draw on the battery only while the state of charge ``stored / capacity`` is at least
     ``shed_below_soc[p]``: load-shedding thresholds that give up low priorities early, while there is still
     energy, to protect the critical loads through a long night (all 0: every class until the reserve). A battery
     below its reserve (e.g. one that has just arrived nearly empty) does not discharge.

3. **Battery.** ``stored += charge eta_c dt - discharge / eta_d dt``;
   ``loss = charge (1 - eta_c) + discharge (1 / eta_d - 1)`` (+ any excess dropped in step 1, as a power).
   Cycle fade: the capacity of step ``t`` is ``battery_capacity_wh[t] (1 - cycle_fade EFC)``, ``EFC`` the
   equivalent full cycles so far (energy drawn from storage / nameplate capacity); calendar fade comes in through
   ``battery_capacity_wh`` itself. A capacity that fades below the stored energy drops the excess (a loss).
4. **Data** [bit], with ``step_s`` in seconds: ``generated = sum_p data_rate_p f_p step_s`` where
   ``f_p = served_p / load_p`` (1 for a class with no load); ``fill += generated``;
   ``downlinked = min(fill, downlink_bps step_s)``; ``fill -= downlinked``; anything above ``storage_bits`` is
   lost (counted in ``data_lost_bits``). Storage starts empty.

Energy is conserved every step: ``generation dt + added = (served + curtailed + loss) dt + delta stored``;
data likewise: ``generated = downlinked + lost + delta fill``.

Two implementations of the same rules: ``method="numba"`` (one compiled loop, the default) and
``method="python"`` (a plain per-step loop on Python floats, written separately: the reference for tests and
the benchmark baseline).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from ilrs.core._jit import NO_JIT, jit
from ilrs.core.arrays import FloatArray
from ilrs.errors import IlrsError

__all__ = ["CRITICAL_PRIORITIES", "N_PRIORITIES", "EngineInputs", "EngineResult", "run_engine"]

#: Load priority classes: row 0 is priority 1 (shed last), row 4 priority 5 (shed first).
N_PRIORITIES = 5
#: Priorities that must never be shed (life support, avionics, thermal survival; communications).
CRITICAL_PRIORITIES = 2


@dataclass(frozen=True)
class EngineInputs:
    """Per-step inputs of the engine on a uniform grid of ``T`` steps; powers at the bus."""

    step_s: float  #: time step [s]
    generation_w: np.ndarray  #: (T,) power available from all sources (solar + fission + RTG) [W]
    load_w: np.ndarray  #: (5, T) power demanded per priority class; row 0 = priority 1 (shed last) [W]
    data_rate_bps: np.ndarray  #: (5, T) data generated per class when fully powered [bit/s]
    battery_capacity_wh: np.ndarray  #: (T,) usable capacity installed [Wh]
    battery_added_wh: np.ndarray  #: (T,) charge brought by batteries arriving at that step [Wh]
    min_soc: float  #: reserve fraction of capacity not to discharge below [-]
    charge_efficiency: float  #: stored / delivered when charging [-]
    discharge_efficiency: float  #: delivered / drawn when discharging [-]
    max_charge_w: np.ndarray  #: (T,) charge power limit at the bus [W]
    max_discharge_w: np.ndarray  #: (T,) discharge power limit at the bus [W]
    downlink_bps: np.ndarray  #: (T,) total downlink capacity (DTE + relay) [bit/s]
    storage_bits: np.ndarray  #: (T,) data storage capacity installed [bit]
    initial_energy_wh: float = 0.0  #: stored energy at step 0 [Wh]
    #: (5,) per class: the state of charge below which the class no longer draws on the battery [-]
    shed_below_soc: tuple[float, ...] = (0.0, 0.0, 0.0, 0.0, 0.0)
    cycle_fade: float = 0.0  #: capacity lost per equivalent full cycle [-]


@dataclass(frozen=True)
class EngineResult:
    """Per-step outputs: (T,) unless noted; powers [W] are averages over the step."""

    stored_wh: np.ndarray  #: (T+1,) battery energy at the start of each step (before arrivals) and after the last [Wh]
    charge_w: np.ndarray  #: power into the battery at the bus [W]
    discharge_w: np.ndarray  #: power out of the battery at the bus [W]
    served_w: np.ndarray  #: (5, T) load served per class [W]
    shed_w: np.ndarray  #: (5, T) load shed per class [W]
    curtailed_w: np.ndarray  #: generation not used (battery full or charge limit) [W]
    loss_w: np.ndarray  #: battery conversion losses (charge and discharge) and dropped excess [W]
    data_generated_bits: np.ndarray  #: data produced by the served payload share [bit]
    data_downlinked_bits: np.ndarray  #: data sent to Earth [bit]
    data_lost_bits: np.ndarray  #: produced but no room in storage [bit]
    data_stored_bits: np.ndarray  #: (T+1,) storage fill at the start of each step and after the last [bit]
    capacity_wh: np.ndarray  #: (T,) battery capacity in the step, after cycle fade [Wh]

    # Totals that the KPIs and the verdict both read, computed once per run (a frozen dataclass keeps its
    # cached properties in the instance's __dict__).
    @cached_property
    def _shed_totals(self) -> tuple[np.ndarray, np.ndarray]:
        shed = np.ascontiguousarray(self.shed_w, dtype=float)
        if NO_JIT or shed.shape[0] < CRITICAL_PRIORITIES:
            return shed.sum(axis=0), shed[:CRITICAL_PRIORITIES].sum(axis=0)
        return _class_totals(shed)

    @property
    def shed_total_w(self) -> np.ndarray:
        """(T,) load shed over all classes [W]."""
        return self._shed_totals[0]

    @property
    def critical_shed_w(self) -> np.ndarray:
        """(T,) load shed in the critical classes 1..:data:`CRITICAL_PRIORITIES` [W]."""
        return self._shed_totals[1]


@jit
def _class_totals(shed: FloatArray) -> tuple[FloatArray, FloatArray]:
    """(all classes, the critical ones) of a (classes, T) table summed over its classes, in one pass: bit for
    bit ``shed.sum(axis=0)`` and ``shed[:CRITICAL_PRIORITIES].sum(axis=0)``, which NumPy adds row after row."""
    n = shed.shape[1]
    total = np.empty(n)
    critical = np.empty(n)
    for t in range(n):
        s = shed[0, t]
        for p in range(1, CRITICAL_PRIORITIES):
            s += shed[p, t]
        critical[t] = s
        for p in range(CRITICAL_PRIORITIES, shed.shape[0]):
            s += shed[p, t]
        total[t] = s
    return total, critical


_SERIES = (
    "generation_w",
    "battery_capacity_wh",
    "battery_added_wh",
    "max_charge_w",
    "max_discharge_w",
    "downlink_bps",
    "storage_bits",
)
_CLASS_SERIES = ("load_w", "data_rate_bps")


@jit
def _finite_nonnegative(a: FloatArray) -> bool:
    """Every value is finite and >= 0 (a NaN fails both comparisons); no early exit, so the loop vectorises."""
    bad = False
    for i in range(a.size):
        x = a[i]
        bad |= not (x >= 0.0) or x == np.inf
    return not bad


def _validated(inputs: EngineInputs) -> dict[str, Any]:
    """Float64 contiguous copies of the arrays and checked scalars; IlrsError naming the first bad field."""
    out: dict[str, Any] = {}
    gen = np.asarray(inputs.generation_w, dtype=float)
    if gen.ndim != 1 or gen.size == 0:
        raise IlrsError(f"expected a non-empty 1-D array, got shape {gen.shape}", source="generation_w")
    n = gen.size
    for name in _SERIES + _CLASS_SERIES:
        arr = np.ascontiguousarray(getattr(inputs, name), dtype=float)
        expected = (n,) if name in _SERIES else (N_PRIORITIES, n)
        if arr.shape != expected:
            raise IlrsError(f"expected shape {expected}, got {arr.shape}", source=name)
        # one compiled pass; only a bad array is looked at again, to say what is wrong with it
        if arr.size and not _finite_nonnegative(arr.reshape(-1)):
            if not np.all(np.isfinite(arr)):
                raise IlrsError("contains NaN or infinite values", source=name)
            raise IlrsError(f"contains negative values (min {arr.min():g})", source=name)
        out[name] = arr
    for name in ("charge_efficiency", "discharge_efficiency"):
        value = float(getattr(inputs, name))
        if not 0.0 < value <= 1.0:
            raise IlrsError(f"must be in (0, 1], got {value!r}", source=name)
        out[name] = value
    min_soc = float(inputs.min_soc)
    if not 0.0 <= min_soc < 1.0:
        raise IlrsError(f"must be in [0, 1), got {min_soc!r}", source="min_soc")
    out["min_soc"] = min_soc
    step_s = float(inputs.step_s)
    if not (np.isfinite(step_s) and step_s > 0.0):
        raise IlrsError(f"must be a positive number of seconds, got {inputs.step_s!r}", source="step_s")
    out["step_s"] = step_s
    energy = float(inputs.initial_energy_wh)
    if not (np.isfinite(energy) and energy >= 0.0):
        raise IlrsError(
            f"must be a finite non-negative energy, got {inputs.initial_energy_wh!r}", source="initial_energy_wh"
        )
    out["initial_energy_wh"] = energy
    thresholds = np.asarray(inputs.shed_below_soc, dtype=float)
    if thresholds.shape != (N_PRIORITIES,) or not ((thresholds >= 0.0) & (thresholds <= 1.0)).all():
        raise IlrsError(
            f"expected {N_PRIORITIES} state-of-charge thresholds in [0, 1], got {inputs.shed_below_soc!r}",
            source="shed_below_soc",
        )
    out["shed_below_soc"] = np.ascontiguousarray(thresholds)
    fade = float(inputs.cycle_fade)
    if not 0.0 <= fade < 1.0:
        raise IlrsError(f"must be in [0, 1), got {inputs.cycle_fade!r}", source="cycle_fade")
    out["cycle_fade"] = fade
    return out


@jit
def _engine_kernel(
    step_s: float,
    gen: FloatArray,
    load: FloatArray,
    rate: FloatArray,
    cap: FloatArray,
    added: FloatArray,
    min_soc: float,
    eta_c: float,
    eta_d: float,
    max_chg: FloatArray,
    max_dis: FloatArray,
    downlink: FloatArray,
    storage: FloatArray,
    stored0: float,
    thresholds: FloatArray,
    cycle_fade: float,
) -> tuple[FloatArray, ...]:
    """The model of the module docstring as one compiled loop over the steps."""
    n = gen.size
    dt = step_s / 3600.0
    stored = np.empty(n + 1)
    charge = np.zeros(n)
    discharge = np.zeros(n)
    served = np.empty((N_PRIORITIES, n))
    shed = np.zeros((N_PRIORITIES, n))
    curtailed = np.zeros(n)
    loss = np.zeros(n)
    d_gen = np.empty(n)
    d_down = np.empty(n)
    d_lost = np.zeros(n)
    fill = np.empty(n + 1)
    capacity = np.empty(n)
    gap = np.zeros(N_PRIORITIES)
    e = stored0
    f = 0.0
    efc = 0.0
    for t in range(n):
        stored[t] = e
        fill[t] = f
        capk = cap[t] * max(1.0 - cycle_fade * efc, 0.0)
        capacity[t] = capk
        e += added[t]
        dropped = 0.0
        if e > capk:
            dropped = e - capk
            e = capk
        demand = 0.0
        for p in range(N_PRIORITIES):
            demand += load[p, t]
            served[p, t] = load[p, t]
        surplus = gen[t] - demand
        c = 0.0
        d = 0.0
        if surplus >= 0.0:
            c = min(surplus, max_chg[t], (capk - e) / (eta_c * dt))
            c = max(c, 0.0)
            curtailed[t] = surplus - c
        else:
            soc = e / capk if capk > 0.0 else 0.0
            left = gen[t]
            need = 0.0
            for p in range(N_PRIORITIES):
                g0 = min(load[p, t], left)
                left -= g0
                gap[p] = load[p, t] - g0
                if soc >= thresholds[p]:
                    need += gap[p]
            d = min(need, max_dis[t], max(e - min_soc * capk, 0.0) * eta_d / dt)
            avail = d
            for p in range(N_PRIORITIES):
                take = 0.0
                if soc >= thresholds[p]:
                    take = min(gap[p], avail)
                    avail -= take
                shed[p, t] = gap[p] - take
                served[p, t] = load[p, t] - shed[p, t]
        charge[t] = c
        discharge[t] = d
        e += c * eta_c * dt - d / eta_d * dt
        if cap[t] > 0.0:
            efc += d / eta_d * dt / cap[t]
        loss[t] = c * (1.0 - eta_c) + d * (1.0 / eta_d - 1.0) + dropped / dt

        g = 0.0
        for p in range(N_PRIORITIES):
            # served == load gives frac 1.0 exactly either way: no division for a class fully served
            frac = served[p, t] / load[p, t] if load[p, t] > 0.0 and served[p, t] != load[p, t] else 1.0
            g += rate[p, t] * frac * step_s
        d_gen[t] = g
        f += g
        down = min(f, downlink[t] * step_s)
        d_down[t] = down
        f -= down
        if f > storage[t]:
            d_lost[t] = f - storage[t]
            f = storage[t]
    stored[n] = e
    fill[n] = f
    return stored, charge, discharge, served, shed, curtailed, loss, d_gen, d_down, d_lost, fill, capacity


def _engine_python(v: dict[str, Any]) -> tuple[Any, ...]:
    """The same model as a plain Python loop on floats and lists (reference and benchmark baseline)."""
    step_s = v["step_s"]
    dt = step_s / 3600.0
    eta_c, eta_d, min_soc = v["charge_efficiency"], v["discharge_efficiency"], v["min_soc"]
    gen = v["generation_w"].tolist()
    cap = v["battery_capacity_wh"].tolist()
    added = v["battery_added_wh"].tolist()
    max_chg = v["max_charge_w"].tolist()
    max_dis = v["max_discharge_w"].tolist()
    downlink = v["downlink_bps"].tolist()
    storage = v["storage_bits"].tolist()
    loads = v["load_w"].T.tolist()  # one list of 5 class loads per step
    rates = v["data_rate_bps"].T.tolist()
    out: dict[str, list[Any]] = {
        k: []
        for k in (
            "stored",
            "charge",
            "discharge",
            "served",
            "shed",
            "curtailed",
            "loss",
            "gen",
            "down",
            "lost",
            "fill",
            "capacity",
        )
    }
    thresholds = v["shed_below_soc"].tolist()
    fade = v["cycle_fade"]
    energy = v["initial_energy_wh"]
    fill = 0.0
    cycles = 0.0
    for t in range(len(gen)):
        out["stored"].append(energy)
        out["fill"].append(fill)
        capacity = cap[t] * max(1.0 - fade * cycles, 0.0)
        out["capacity"].append(capacity)
        energy = energy + added[t]
        dropped = max(energy - capacity, 0.0)
        energy -= dropped
        load = loads[t]
        available = gen[t]
        surplus = available - sum(load)
        charge = discharge = curtailed = 0.0
        shed = [0.0] * N_PRIORITIES
        if surplus >= 0.0:
            room_w = (capacity - energy) / (eta_c * dt)
            charge = max(min(surplus, max_chg[t], room_w), 0.0)
            curtailed = surplus - charge
        else:
            state = energy / capacity if capacity > 0.0 else 0.0
            may_use_battery = [state >= thresholds[p] for p in range(N_PRIORITIES)]
            gaps = []
            for p in range(N_PRIORITIES):  # generation serves the classes in priority order
                from_generation = min(load[p], available)
                available -= from_generation
                gaps.append(load[p] - from_generation)
            wanted = sum(g for g, ok in zip(gaps, may_use_battery, strict=True) if ok)
            above_reserve_wh = max(energy - min_soc * capacity, 0.0)
            discharge = min(wanted, max_dis[t], above_reserve_wh * eta_d / dt)
            left = discharge
            for p in range(N_PRIORITIES):  # then the battery, in the same order, for the classes it may serve
                from_battery = min(gaps[p], left) if may_use_battery[p] else 0.0
                left -= from_battery
                shed[p] = gaps[p] - from_battery
        served = [load[p] - shed[p] for p in range(N_PRIORITIES)]
        energy = energy + charge * eta_c * dt - discharge / eta_d * dt
        if cap[t] > 0.0:
            cycles += discharge / eta_d * dt / cap[t]
        out["charge"].append(charge)
        out["discharge"].append(discharge)
        out["curtailed"].append(curtailed)
        out["loss"].append(charge * (1.0 - eta_c) + discharge * (1.0 / eta_d - 1.0) + dropped / dt)
        out["served"].append(served)
        out["shed"].append(shed)

        produced = 0.0
        for p in range(N_PRIORITIES):
            share = served[p] / load[p] if load[p] > 0.0 else 1.0
            produced += rates[t][p] * share * step_s
        fill += produced
        down = min(fill, downlink[t] * step_s)
        fill -= down
        lost = max(fill - storage[t], 0.0)
        fill -= lost
        out["gen"].append(produced)
        out["down"].append(down)
        out["lost"].append(lost)
    out["stored"].append(energy)
    out["fill"].append(fill)
    a = {k: np.array(x, dtype=float) for k, x in out.items()}
    return (
        a["stored"],
        a["charge"],
        a["discharge"],
        a["served"].T.copy(),
        a["shed"].T.copy(),
        a["curtailed"],
        a["loss"],
        a["gen"],
        a["down"],
        a["lost"],
        a["fill"],
        a["capacity"],
    )


def run_engine(inputs: EngineInputs, *, method: str = "numba") -> EngineResult:
    """Step the station through ``inputs`` (model in the module docstring).

    Parameters
    ----------
    inputs
        Per-step generation, loads, battery, limits and data arrays on one time grid.
    method
        ``"numba"`` (compiled loop) or ``"python"`` (plain per-step loop, the reference).

    Returns
    -------
    EngineResult
        Per-step flows [W], battery energy [Wh] and data volumes [bit].

    Raises
    ------
    IlrsError
        If an input has the wrong shape, a negative or non-finite value, or a parameter out of range.
    """
    v = _validated(inputs)
    if method == "numba":
        arrays = _engine_kernel(
            v["step_s"],
            v["generation_w"],
            v["load_w"],
            v["data_rate_bps"],
            v["battery_capacity_wh"],
            v["battery_added_wh"],
            v["min_soc"],
            v["charge_efficiency"],
            v["discharge_efficiency"],
            v["max_charge_w"],
            v["max_discharge_w"],
            v["downlink_bps"],
            v["storage_bits"],
            v["initial_energy_wh"],
            v["shed_below_soc"],
            v["cycle_fade"],
        )
    elif method == "python":
        arrays = _engine_python(v)
    else:
        raise IlrsError(f"unknown method {method!r}", source="method", hint="use 'numba' or 'python'")
    return EngineResult(*arrays)
