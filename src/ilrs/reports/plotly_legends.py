"""One legend per subplot in stacked Plotly figures (Plotly's multiple legends, ``legend``, ``legend2``, ...)."""

from __future__ import annotations

from typing import Any

#: Right margin that leaves room for the legends beside the plots [px]
LEGEND_MARGIN_PX = 170


def legend_per_subplot(fig: Any) -> Any:
    """Give every subplot of a one-column stack its own legend, beside the subplot's top right corner: each trace
    goes to the legend of its y axis. Returns ``fig``."""
    rows: dict[str, int] = {}
    for trace in fig.data:
        axis = trace.yaxis or "y"
        k = rows.setdefault(axis, int(axis[1:] or 1))
        trace.legend = "legend" if k == 1 else f"legend{k}"
        trace.showlegend = True
    for k in rows.values():
        domain = fig.layout[f"yaxis{'' if k == 1 else k}"].domain
        fig.layout["legend" if k == 1 else f"legend{k}"] = {
            "x": 1.01,
            "xanchor": "left",
            "y": domain[1],
            "yanchor": "top",
            "orientation": "v",
            "font": {"size": 11},
        }
    fig.update_layout(margin={"r": LEGEND_MARGIN_PX})
    return fig
