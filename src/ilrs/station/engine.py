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
   * ``surplus < 0``: the battery gives
     ``discharge = min(-surplus, max_discharge_w, max(stored - min_soc capacity, 0) eta_d / dt)``;
     a remaining shortfall is shed from priority 5 down to priority 1: whole classes first (5, then 4, ...),
     the last class touched partially, so that the served power equals generation + discharge exactly.
     A battery below its reserve (e.g. one that has just arrived nearly empty) does not discharge.

3. **Battery.** ``stored += charge eta_c dt - discharge / eta_d dt``;
   ``loss = charge (1 - eta_c) + discharge (1 / eta_d - 1)`` (+ any excess dropped in step 1, as a power).
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
from typing import Any

import numpy as np

from ilrs.core._jit import jit
from ilrs.core.arrays import FloatArray
from ilrs.errors import IlrsError

__all__ = ["N_PRIORITIES", "EngineInputs", "EngineResult", "run_engine"]

#: Load priority classes: row 0 is priority 1 (shed last), row 4 priority 5 (shed first).
N_PRIORITIES = 5


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
        if not np.all(np.isfinite(arr)):
            raise IlrsError("contains NaN or infinite values", source=name)
        if np.any(arr < 0.0):
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
    e = stored0
    f = 0.0
    for t in range(n):
        stored[t] = e
        fill[t] = f
        e += added[t]
        dropped = 0.0
        if e > cap[t]:
            dropped = e - cap[t]
            e = cap[t]
        demand = 0.0
        for p in range(N_PRIORITIES):
            demand += load[p, t]
            served[p, t] = load[p, t]
        surplus = gen[t] - demand
        c = 0.0
        d = 0.0
        if surplus >= 0.0:
            c = min(surplus, max_chg[t], (cap[t] - e) / (eta_c * dt))
            c = max(c, 0.0)
            curtailed[t] = surplus - c
        else:
            deficit = -surplus
            d = min(deficit, max_dis[t], max(e - min_soc * cap[t], 0.0) * eta_d / dt)
            short = deficit - d
            p = N_PRIORITIES - 1
            while short > 0.0 and p >= 0:
                s = min(load[p, t], short)
                shed[p, t] = s
                served[p, t] = load[p, t] - s
                short -= s
                p -= 1
        charge[t] = c
        discharge[t] = d
        e += c * eta_c * dt - d / eta_d * dt
        loss[t] = c * (1.0 - eta_c) + d * (1.0 / eta_d - 1.0) + dropped / dt

        g = 0.0
        for p in range(N_PRIORITIES):
            frac = served[p, t] / load[p, t] if load[p, t] > 0.0 else 1.0
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
    return stored, charge, discharge, served, shed, curtailed, loss, d_gen, d_down, d_lost, fill


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
        for k in ("stored", "charge", "discharge", "served", "shed", "curtailed", "loss", "gen", "down", "lost", "fill")
    }
    energy = v["initial_energy_wh"]
    fill = 0.0
    for t in range(len(gen)):
        out["stored"].append(energy)
        out["fill"].append(fill)
        energy = energy + added[t]
        dropped = max(energy - cap[t], 0.0)
        energy -= dropped
        load = loads[t]
        available = gen[t]
        surplus = available - sum(load)
        charge = discharge = curtailed = 0.0
        shed = [0.0] * N_PRIORITIES
        if surplus >= 0.0:
            room_w = (cap[t] - energy) / (eta_c * dt)
            charge = max(min(surplus, max_chg[t], room_w), 0.0)
            curtailed = surplus - charge
        else:
            above_reserve_wh = max(energy - min_soc * cap[t], 0.0)
            discharge = min(-surplus, max_dis[t], above_reserve_wh * eta_d / dt)
            shortfall = -surplus - discharge
            for p in reversed(range(N_PRIORITIES)):
                if shortfall <= 0.0:
                    break
                shed[p] = min(load[p], shortfall)
                shortfall -= shed[p]
        served = [load[p] - shed[p] for p in range(N_PRIORITIES)]
        energy = energy + charge * eta_c * dt - discharge / eta_d * dt
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
        )
    elif method == "python":
        arrays = _engine_python(v)
    else:
        raise IlrsError(f"unknown method {method!r}", source="method", hint="use 'numba' or 'python'")
    return EngineResult(*arrays)
