"""The run report's trade-study section: the front, the feasible split and why designs fail, the sensitivity."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ilrs.reports.trade_page import front_scatter
from ilrs.services.trade import UNITS, TradeResult


def trade_context(r: TradeResult) -> dict[str, Any]:
    """What the report's template shows of a study (``None`` stays out of the report)."""
    params = [label for label, _ in r.space.dimensions()]
    objectives = [(o.metric, o.sense, UNITS[o.metric]) for o in r.space.objectives]
    rows = []
    for i in r.front_order():
        values = r.values(i)
        rows.append(
            {
                "design": i,
                "values": [values[p] for p in params],
                "objectives": [f"{r.metric(m)[i]:,.0f}" for m, _, _ in objectives],
            }
        )
    reasons = Counter(reason.split(";")[0].split(" = ")[0] for reason in r.reasons if reason)
    return {
        "name": r.space.name,
        "description": r.space.description,
        "method": r.method,
        "mode": r.mode,
        "designs": len(r.evaluations),
        "feasible": int(r.feasible.sum()),
        "front": int(r.on_front.sum()),
        "twin_runs": r.twin_runs,
        "environments": r.environments,
        "seconds": r.seconds,
        "search": r.search,
        "params": params,
        "objectives": objectives,
        "constraints": [(c.metric, c.min, c.max) for c in r.space.constraints],
        "rows": rows,
        "reasons": sorted(reasons.items(), key=lambda t: -t[1]),
        "sensitivity": [(obj, shares[:2]) for obj, shares in r.sensitivity.items()],
        "scatter_html": front_scatter(r, include_plotlyjs=False),
    }
