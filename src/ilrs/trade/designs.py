"""A design made concrete: the base scenario with the design's values applied, its landed mass and its metrics.

Everything here is pure: the twin's environment comes in as arrays (:mod:`ilrs.services.trade` loads it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import ValidationError

from ilrs.scenario import schema as sc
from ilrs.station.environment import SiteEnvironment
from ilrs.station.twin import TwinRun, run_twin
from ilrs.trade.space import PARAMETERS, MassModel, Parameter, SiteChoice, Space

#: Kinds (scenario element ``kind``) each parameter sets.
_KIND = {k: v[0] for k, v in PARAMETERS.items()}


def _targets(p: Parameter, e: sc.Element) -> bool:
    kind = _KIND[p.parameter]
    if kind is not None and getattr(e, "kind", None) != kind:
        return False
    return p.elements is None or e.name in p.elements


def apply_design(base: sc.Scenario, space: Space, levels: tuple[int, ...]) -> sc.Scenario:
    """The base scenario with each parameter set to its level; validated as a whole (a ``ValueError`` says why
    the combination is not a valid scenario, e.g. an arrival shifted past the run's end)."""
    data = base.model_dump(by_alias=True, exclude_none=True)
    data.update(space.base)
    elements: list[dict[str, Any]] = data["elements"]
    for p, i in zip(space.parameters, levels, strict=True):
        v = p.levels()[i]
        name = p.parameter
        if name == "site":
            assert isinstance(v, SiteChoice)
            if v.top is not None:
                raise ValueError("a `top = N` site choice is expanded when the study loads (services.trade.load_study)")
            data["site"] = v.model_dump(include={"name", "lat_deg", "lon_deg"}, exclude_none=True)
            continue
        kept = []
        for e, d in zip(base.elements, elements, strict=True):
            hit = _targets(p, e)
            if hit and name == "mast_height_m":
                d["mast_height_m"] = float(v)
            elif hit and name == "array_area_m2":
                d["area_m2"] = float(v)
            elif hit and name == "battery_kwh":
                # power limits follow the capacity (the same C-rate)
                f = float(v) / d["capacity_kwh"]
                d.update(capacity_kwh=float(v), max_charge_kw=d["max_charge_kw"] * f)
                d["max_discharge_kw"] = d["max_discharge_kw"] * f
            elif hit and name == "fission_kw":
                if float(v) <= 0:
                    continue
                d["power_kw"] = float(v)
            elif hit and name == "relay" and not v:
                continue
            elif hit and name == "arrival_shift_days":
                d["arrival"] = d["arrival"] + dt.timedelta(days=float(v))
            kept.append((e, d))
        base = base.model_copy(update={"elements": [e for e, _ in kept]})
        elements = [d for _, d in kept]
        data["elements"] = elements
    if any(p.parameter in ("fission_kw", "relay") for p in space.parameters):
        gone = {e.name for e in base.elements} ^ {d["name"] for d in elements}
        data["events"] = [ev for ev in data.get("events", []) if ev.get("element") not in gone]
    try:
        out = sc.Scenario.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ValueError(str(first.get("msg", "invalid")).removeprefix("Value error, ")) from None
    out._path = base.path
    return out


def memo_order(base: sc.Scenario, space: Space) -> Callable[[tuple[int, ...]], tuple[int, ...]]:
    """A sort key for designs that puts next to each other the designs sharing the most element definitions.

    The twin keeps the contributions of the last few distinct element definitions
    (:class:`ilrs.station.twin._EnvironmentMemo`, least recently used first out). Parameters that set the same
    element (a reactor's size and its arrival date) make as many definitions of it as the product of their
    levels: they vary slowest, so that each of those definitions is computed about once, while the
    parameters that each set an element of their own (array area, battery) cycle through few definitions that
    stay in the memo. The order changes no result: each design's metrics are its own.
    """
    n = len(space.parameters)
    root = list(range(n))

    def find(i: int) -> int:
        while root[i] != i:
            i = root[i]
        return i

    for e in base.elements:
        acting = [i for i, p in enumerate(space.parameters) if p.parameter != "site" and _targets(p, e)]
        for i in acting[1:]:
            root[find(i)] = find(acting[0])
    size = [1] * n
    for i, p in enumerate(space.parameters):
        size[find(i)] *= len(p.levels())
    order = sorted(range(n), key=lambda i: (-size[find(i)], find(i), i))

    def key(levels: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(levels[i] for i in order)

    return key


def landed_mass_kg(scenario: sc.Scenario, mass: MassModel) -> float:
    """Landed mass of the power and relay elements [kg] from the space's per-unit rates."""
    total = 0.0
    for e in scenario.elements:
        if isinstance(e, sc.SolarArray):
            total += e.area_m2 * mass.solar_array_kg_per_m2 + e.mast_height_m * mass.mast_kg_per_m
        elif isinstance(e, sc.Battery):
            total += e.capacity_kwh * mass.battery_kg_per_kwh
        elif isinstance(e, sc.FissionUnit):
            total += e.power_kw * mass.fission_kg_per_kw
        elif isinstance(e, sc.RelayTerminal):
            total += mass.relay_terminal_kg
    return total


def metrics(run: TwinRun, mass: MassModel) -> dict[str, float]:
    """Every metric a space may name, for one twin run (units: :data:`ilrs.trade.space.METRICS`)."""
    out: dict[str, float] = {k: float(v) for k, v in run.kpis.as_dict().items()}
    v = run.verdict
    out["landed_mass_kg"] = landed_mass_kg(run.scenario, mass)
    out["science_data_gbit"] = out["data_downlinked_gbit"]
    # energy generated that no station load used: what the station could offer partners
    out["partner_energy_kwh"] = out["curtailed_kwh"]
    out["critical_load_lost_h"] = float(v.critical_load_lost_h)
    out["least_storage_margin"] = float(min((p.storage_margin for p in v.phases), default=float("nan")))
    out["survives"] = float(v.survives)
    return out


@dataclass(frozen=True)
class Evaluation:
    """One design's outcome: its metrics, or why it could not be built."""

    levels: tuple[int, ...]
    metrics: dict[str, float] | None
    error: str | None = None


def evaluate(base: sc.Scenario, space: Space, levels: tuple[int, ...], env: SiteEnvironment) -> Evaluation:
    """One design through the twin in a shared environment."""
    try:
        scenario = apply_design(base, space, levels)
    except ValueError as exc:
        return Evaluation(levels, None, f"not a valid scenario: {exc}")
    return Evaluation(levels, metrics(run_twin(scenario, env), space.mass))


def evaluate_batch(
    env: SiteEnvironment, base: sc.Scenario, space: Space, batch: list[tuple[int, ...]]
) -> list[Evaluation]:
    """Designs that share one environment, in one task (so that scheduling costs little per design)."""
    return [evaluate(base, space, levels, env) for levels in batch]


def violations(space: Space, m: dict[str, float]) -> list[str]:
    """The constraints a design's metrics break, each said in words."""
    out = []
    for c in space.constraints:
        x = m[c.metric]
        if c.min is not None and not x >= c.min:
            out.append(f"{c.metric} = {x:.4g} < {c.min:g}")
        if c.max is not None and not x <= c.max:
            out.append(f"{c.metric} = {x:.4g} > {c.max:g}")
    return out


def objective_matrix(space: Space, rows: list[dict[str, float]]) -> npt.NDArray[np.float64]:
    """(n, k) objectives, all to minimise (maximised ones negated)."""
    sign = np.array([1.0 if o.sense == "min" else -1.0 for o in space.objectives])
    f = np.array([[r[o.metric] for o in space.objectives] for r in rows], dtype=np.float64).reshape(-1, sign.size)
    out: npt.NDArray[np.float64] = f * sign
    return out
