"""The operations section of the report: the plan as Gantt charts per resource and per partner, what it uses of
the station, fairness, the twin check and a re-planning example."""

from __future__ import annotations

import numpy as np

from ilrs.reports.plotly_legends import legend_per_subplot
from ilrs.services.plan import Replan, ScenarioPlan, plan_rows, plan_summary


def gantt_html(sp: ScenarioPlan, by: str = "resource", height: int | None = None) -> str:
    """A Plotly Gantt chart of the plan, one row per exclusive resource (activities holding none share the
    'station' row) or per partner; colour by partner or by priority."""
    import plotly.graph_objects as go

    rows = plan_rows(sp)
    fig = go.Figure()
    if by == "resource":
        lanes = sorted({x for r in rows for x in r["resources"]}) + ["station (no exclusive resource)"]
        groups = sorted({r["partner"] for r in rows})
        key = "partner"
    else:
        lanes = sorted({r["partner"] for r in rows})
        groups = [1, 2, 3, 4, 5]
        key = "priority"
    for g in groups:
        xs, ys, bases, text = [], [], [], []
        for r in rows:
            if r[key] != g:
                continue
            lanes_of = (r["resources"] or ["station (no exclusive resource)"]) if by == "resource" else [r["partner"]]
            t0 = np.datetime64(r["start"][:-1])
            t1 = np.datetime64(r["end"][:-1])
            for lane in lanes_of:
                xs.append(float((t1 - t0) / np.timedelta64(1, "ms")))
                bases.append(str(t0))
                ys.append(lane)
                text.append(f"{r['request']}#{r['occurrence']} ({r['payload']}), {r['power_w']:.0f} W")
        if xs:
            fig.add_trace(
                go.Bar(
                    x=xs,
                    y=ys,
                    base=bases,
                    orientation="h",
                    name=str(g) if key == "partner" else f"priority {g}",
                    hovertext=text,
                    hoverinfo="text+name",
                )
            )
    lim = sp.result.problem.limits
    first = np.datetime64(lim.t0, "s")
    fig.update_traces(marker_line_width=0, opacity=0.9)
    fig.update_layout(
        barmode="overlay",
        height=height or 200 + 36 * len(lanes),
        title=f"Plan {'per resource' if by == 'resource' else 'per partner'} "
        f"({len(rows)} activities; the first 4 weeks shown, drag the slider for the rest)",
        xaxis={
            "type": "date",
            "range": [str(first), str(first + np.timedelta64(28, "D"))],
            "rangeslider": {"visible": True, "thickness": 0.08},
        },
        yaxis={"categoryorder": "array", "categoryarray": lanes[::-1]},
        margin={"l": 40, "r": 10, "t": 90, "b": 30},
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom"},
    )
    fig.update_layout(title={"y": 0.99, "yanchor": "top"})
    return fig.to_html(full_html=False, include_plotlyjs=False)


def usage_html(sp: ScenarioPlan) -> str:
    """Daily spare power of the station against what the plan draws, and the plan's data per day."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    pr = sp.result.problem
    lim = pr.limits
    used = np.zeros(lim.n)
    data = np.zeros(lim.n)
    st = sp.result.state.start
    for b in np.flatnonzero(st >= 0):
        s, d = int(st[b]), int(pr.dur[b])
        used[s : s + d] += pr.power[b]
        data[s + d - 1] += pr.data[b]
    day = (np.arange(lim.n) * lim.step_s // 86400).astype(np.int64)
    days = np.datetime64(lim.t0, "D") + np.arange(day.max() + 1)
    cnt = np.bincount(day)
    spare = np.bincount(day, weights=lim.cap_w) / cnt / 1e3
    mean_used = np.bincount(day, weights=used) / cnt / 1e3
    peak_used = np.zeros(days.size)
    np.maximum.at(peak_used, day, used / 1e3)
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        subplot_titles=(
            "Spare power for partners and what the plan draws (daily) [kW]",
            "Data the plan produces [Gbit/day]",
        ),
    )
    fig.add_trace(go.Scatter(x=days.astype(str), y=spare, name="spare power (mean)", line={"color": "#2ca02c"}), 1, 1)
    fig.add_trace(go.Scatter(x=days.astype(str), y=peak_used, name="plan (peak)", line={"color": "#d62728"}), 1, 1)
    fig.add_trace(go.Scatter(x=days.astype(str), y=mean_used, name="plan (mean)", line={"color": "#ff7f0e"}), 1, 1)
    fig.add_trace(
        go.Bar(x=days.astype(str), y=np.bincount(day, weights=data) / 1e9, name="data", marker_color="#1f77b4"), 2, 1
    )
    fig.update_layout(height=480, margin={"l": 40, "t": 40, "b": 30})
    return legend_per_subplot(fig).to_html(full_html=False, include_plotlyjs=False)


def ops_context(sp: ScenarioPlan, replans: list[Replan] | None = None) -> dict:
    s = plan_summary(sp)
    return {
        **s,
        "gantt_resource_html": gantt_html(sp, "resource"),
        "gantt_partner_html": gantt_html(sp, "partner"),
        "usage_html": usage_html(sp),
        "share_rows": [
            {
                "partner": p,
                "share": s["shares"].get(p, 0.0),
                "target": s["share_targets"][p],
                "nominal": float(sp.result.problem.shares[i]),
            }
            for i, p in enumerate(sp.result.problem.partners)
        ],
        "replans": replans or [],
        "tolerance": sp.requests.fairness_tolerance,
    }
