"""The HTML page of a trade study: the front as a scatter, every design in parallel coordinates, the front's
table, the sensitivity ranking and the infeasibility reasons (one self-contained file, plotly.js inline)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
from jinja2 import Environment, PackageLoader, select_autoescape

from ilrs.services.trade import UNITS, TradeResult


def front_scatter(r: TradeResult, include_plotlyjs: bool | str = "inline") -> str:
    import plotly.graph_objects as go

    obj = r.space.objectives
    x = r.metric(obj[0].metric)
    y = r.metric(obj[1].metric) if len(obj) > 1 else np.zeros_like(x)
    color = r.metric(obj[2].metric) if len(obj) > 2 else None
    fig = go.Figure()
    text = [", ".join(f"{k}={v}" for k, v in r.values(i).items()) for i in range(len(r.evaluations))]
    for mask, name, marker in (
        (~r.feasible, "infeasible", {"color": "lightgrey", "size": 6}),
        (r.feasible & ~r.on_front, "feasible", {"color": "steelblue", "size": 7}),
        (r.on_front, "Pareto front", {"size": 11, "symbol": "diamond", "line": {"width": 1}}),
    ):
        idx = np.flatnonzero(mask)
        m: dict[str, Any] = dict(marker)
        if name == "Pareto front" and color is not None:
            m.update(color=color[idx], colorscale="Viridis", showscale=True, colorbar={"title": obj[2].metric})
        fig.add_trace(go.Scatter(x=x[idx], y=y[idx], mode="markers", name=name, marker=m, text=[text[i] for i in idx]))
    fig.update_layout(
        xaxis_title=f"{obj[0].metric} [{UNITS[obj[0].metric]}] ({obj[0].sense})",
        yaxis_title=f"{obj[1].metric} [{UNITS[obj[1].metric]}] ({obj[1].sense})" if len(obj) > 1 else "",
        height=520,
        # the legend above the plot, clear of the colour bar on the right
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0.0},
    )
    return str(fig.to_html(full_html=False, include_plotlyjs=include_plotlyjs))


def _parallel(r: TradeResult) -> str:
    import plotly.graph_objects as go

    dims = []
    for j, (label, levels) in enumerate(r.space.dimensions()):
        ticks = [str(v.label() if hasattr(v, "label") else v) for v in levels]
        dims.append({"label": label, "values": r.levels[:, j], "tickvals": list(range(len(levels))), "ticktext": ticks})
    for o in r.space.objectives:
        v = r.metric(o.metric)
        dims.append({"label": f"{o.metric} [{UNITS[o.metric]}]", "values": np.nan_to_num(v)})
    colour = r.feasible.astype(float) + r.on_front.astype(float)
    fig = go.Figure(
        go.Parcoords(
            line={"color": colour, "colorscale": [[0, "lightgrey"], [0.5, "steelblue"], [1, "crimson"]]},
            dimensions=dims,
        )
    )
    fig.update_layout(height=520)
    return str(fig.to_html(full_html=False, include_plotlyjs=False))


def trade_page(r: TradeResult) -> str:
    """The page's HTML text."""
    env = Environment(loader=PackageLoader("ilrs.reports", "templates"), autoescape=select_autoescape())
    params = [label for label, _ in r.space.dimensions()]
    front_head = params + [f"{o.metric} [{UNITS[o.metric]}]" for o in r.space.objectives]
    front_rows = []
    for i in r.front_order():
        vals = list(r.values(i).values())
        front_rows.append([i, *vals, *(f"{r.metric(o.metric)[i]:,.1f}" for o in r.space.objectives)])
    sens = [(obj, [dict(shares)[p] for p in params]) for obj, shares in r.sensitivity.items()]
    reasons = Counter(reason.split(";")[0].split(" = ")[0] for reason in r.reasons if reason)
    return env.get_template("trade.html.j2").render(
        r=r,
        scatter=front_scatter(r),
        parallel=_parallel(r),
        front_head=front_head,
        front_rows=front_rows,
        params=params,
        sens=sens,
        reasons=sorted(reasons.items(), key=lambda t: -t[1]),
    )
