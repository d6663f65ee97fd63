"""Scenarios side by side: the same KPIs and verdicts of each, and which differ from the first."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ilrs.errors import IlrsError
from ilrs.scenario.schema import Scenario
from ilrs.services.scenarios import validated_scenario
from ilrs.services.twin import run_twin
from ilrs.station.twin import TwinRun, least_storage_margin

#: Relative difference below which two values count as the same (the KPIs' own rounding is coarser).
SAME_RTOL = 1e-9


@dataclass(frozen=True)
class Comparison:
    names: tuple[str, ...]
    runs: tuple[TwinRun, ...]
    rows: tuple[tuple[str, tuple[Any, ...], bool], ...]  #: (key, value per scenario, differs from the first)

    def as_dict(self) -> dict[str, Any]:
        return {
            "scenarios": list(self.names),
            "rows": [{"key": k, "values": list(v), "differs": d} for k, v, d in self.rows],
        }


def _differs(values: tuple[Any, ...]) -> bool:
    first = values[0]
    for v in values[1:]:
        if isinstance(first, float) and isinstance(v, float):
            if math.isnan(first) and math.isnan(v):  # both undefined (no battery, no load): the same
                continue
            if not (first == v or abs(first - v) <= SAME_RTOL * max(abs(first), abs(v))):
                return True
        elif v != first:
            return True
    return False


def compare_scenarios(names: Sequence[str | Scenario]) -> Comparison:
    """Run each scenario's twin (files or built-in names, or scenarios already loaded) and line up the verdict
    and the KPIs."""
    if len(names) < 2:
        raise IlrsError("give at least two scenarios to compare", source="SCENARIOS")
    scenarios = [n if isinstance(n, Scenario) else validated_scenario(n) for n in names]
    runs = tuple(run_twin(s) for s in scenarios)
    labels = tuple(str(s.path.name) if s.path is not None else s.name for s in scenarios)
    if len(set(labels)) < len(labels):
        labels = tuple(str(Path(n)) if isinstance(n, str) else n.name for n in names)
    if len(set(labels)) < len(labels):
        labels = tuple(f"{i + 1}: {label}" for i, label in enumerate(labels))
    rows: list[tuple[str, tuple[Any, ...], bool]] = []

    def add(key: str, values: tuple[Any, ...]) -> None:
        rows.append((key, values, _differs(values)))

    add("survives", tuple(r.verdict.survives for r in runs))
    add("critical_load_lost_h", tuple(r.verdict.critical_load_lost_h for r in runs))
    add(
        "worst_event",
        tuple(
            f"{w.start_utc[:16]} {w.hours:.0f} h to priority {w.lowest_priority_shed}" if w else "none"
            for w in (r.verdict.worst_event for r in runs)
        ),
    )
    add("least_storage_margin", tuple(least_storage_margin(r.verdict) for r in runs))
    # per build-up phase, by name in the order the scenarios meet them: the margins (None where a scenario has
    # no such phase)
    names_in_order = list(dict.fromkeys(p.name for r in runs for p in r.verdict.phases))
    for name in names_in_order:
        phase = [next((p for p in r.verdict.phases if p.name == name), None) for r in runs]
        add(f"phase {name}: energy_margin", tuple(p.energy_margin if p else None for p in phase))
        add(f"phase {name}: storage_margin", tuple(p.storage_margin if p else None for p in phase))
        add(f"phase {name}: critical_load_lost_h", tuple(p.critical_load_lost_h if p else None for p in phase))
    for key in runs[0].kpis.as_dict():
        add(key, tuple(r.kpis.as_dict()[key] for r in runs))
    return Comparison(labels, runs, tuple(rows))
