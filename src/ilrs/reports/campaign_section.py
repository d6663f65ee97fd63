"""The campaign and transport section of the report."""

from __future__ import annotations

from datetime import date
from html import escape

import numpy as np

from ilrs.ephem.time import et_to_utc
from ilrs.services.campaign import CampaignOverview, capability_cdf


def campaign_context(ov: CampaignOverview) -> dict:
    import plotly.graph_objects as go

    months, cdf = capability_cdf(ov.monte_carlo)
    fig = go.Figure()
    for cap, p in cdf.items():
        fig.add_trace(go.Scatter(x=months.astype(str), y=p, name=cap, mode="lines"))
    fig.add_vline(x="2035-12-31", line={"dash": "dot", "color": "gray"})
    fig.update_layout(
        height=360,
        title=f"P(capability in place by date), {ov.monte_carlo.runs:,} Monte Carlo runs",
        yaxis={"range": [0, 1]},
        margin={"l": 40, "r": 10, "t": 40, "b": 30},
        legend={"orientation": "h"},
    )
    w = ov.windows
    dep = et_to_utc(w["depart_et"]).astype("datetime64[s]").astype(str)
    pork = go.Figure(
        go.Heatmap(
            x=dep,
            y=w["tof_s"] / 86400.0,
            z=(w["total_dv_m_s"] / 1000.0).T,
            colorscale="Viridis_r",
            colorbar={"title": "km/s"},
        )
    )
    pork.update_layout(
        height=330,
        title=f"Launch windows from {ov.window_start}: TLI + LOI delta-v (200 km LEO to 100 km polar LLO)",
        yaxis_title="time of flight [d]",
        margin={"l": 40, "r": 10, "t": 40, "b": 30},
    )
    best = w["best"]
    return {
        "summary": ov.monte_carlo.summary(),
        "notes": ov.notes,
        "missions": ov.missions,
        "cdf_html": fig.to_html(full_html=False, include_plotlyjs=False),
        "porkchop_html": pork.to_html(full_html=False, include_plotlyjs=False),
        "best": {
            "depart": str(et_to_utc(best.depart_et)[0].astype("datetime64[m]")),
            "tof_d": best.tof_s / 86400.0,
            "tli": best.tli_dv_m_s,
            "loi": best.loi_dv_m_s,
        },
        "nrho": ov.nrho,
        "nrho_vis": ov.nrho_south_pole_visibility,
        "architectures": ov.architectures,
        "runs": ov.monte_carlo.runs,
        "dv_range": (float(np.min(w["total_dv_m_s"])), float(np.max(w["total_dv_m_s"]))),
        "buildup_html": _buildup_gantt(ov) + _buildup_table(ov),
        "chains_html": _chains_table(ov),
    }


_COLOURS = {"orbit": "#1f77b4", "surface": "#d62728"}


def _buildup_gantt(ov: CampaignOverview, end: date = date(2036, 12, 31)) -> str:
    """Gantt of the planned build-up: one bar per item from its planned arrival, coloured by orbit/surface."""
    import plotly.graph_objects as go

    by = ov.buildup[-1].date if ov.buildup else date(2035, 12, 31)
    fig = go.Figure()
    for loc in ("orbit", "surface"):
        items = [i for i in ov.buildup_items if i.location == loc]
        if not items:
            continue
        p = [ov.monte_carlo.mission_working(i.mission, by) for i in items]
        fig.add_trace(
            go.Bar(
                y=[f"{i.name} ({loc})" for i in items],
                base=[i.arrival.isoformat() for i in items],
                x=[(end - i.arrival).days * 86_400_000 for i in items],
                orientation="h",
                name=f"in {loc}" if loc == "orbit" else "on the surface",
                marker_color=_COLOURS[loc],
                text=[f"P(working {by}) {q:.2f}" for q in p],
                textposition="inside",
                hovertext=[
                    f"{i.mission}: planned arrival {i.arrival}; " + (", ".join(i.contents) or "-") for i in items
                ],
            )
        )
    fig.update_layout(
        height=80 + 28 * len(ov.buildup_items),
        barmode="overlay",
        title="Build-up by plan (launch + transit, no slips): what is in lunar orbit and on the surface",
        xaxis={"type": "date"},
        yaxis={"autorange": "reversed"},
        margin={"l": 40, "r": 10, "t": 40, "b": 30},
        legend={"orientation": "h"},
    )
    fig.add_vline(x=by.isoformat(), line={"dash": "dot", "color": "gray"})
    return fig.to_html(full_html=False, include_plotlyjs=False)


def _names(entries: list[dict]) -> str:
    return (
        ", ".join(f"{escape(e['name'])}{'' if e['planned'] else '*'}&nbsp;{e['p_working']:.2f}" for e in entries) or "-"
    )


def _buildup_table(ov: CampaignOverview) -> str:
    """In orbit and on the surface on each date, with P(working) from the Monte Carlo."""
    rows = "".join(
        f'<tr><td>{r.date}</td><td class="l">{_names(r.in_orbit)}</td><td class="l">{_names(r.on_surface)}</td></tr>'
        for r in ov.buildup
    )
    return (
        "<p>In lunar orbit and on the surface on each date: P(working) from the Monte Carlo (arrived despite "
        "launch, landing and schedule risks, and not failed since); * = not yet there by plan.</p>"
        '<table><tr><th>date</th><th class="l">in orbit</th><th class="l">on the surface</th></tr>' + rows + "</table>"
    )


def _chains_table(ov: CampaignOverview) -> str:
    """Surface-direct vs Gateway-staged, leg by leg: published delta-v and time, and our model's value."""
    out = []
    for a in ov.chains:
        legs = "".join(
            f'<tr><td class="l">{escape(leg.name)}</td><td>{leg.delta_v_m_s:,.0f}</td><td>{leg.days:.2f}</td>'
            f"<td>{'-' if leg.model_m_s is None else f'{leg.model_m_s:,.0f}'}</td>"
            f'<td class="l">{escape(leg.model_kind)}</td>'
            f'<td class="l"><small>{escape(leg.source)}</small></td></tr>'
            for leg in a.legs
        )
        out.append(
            f"<h4>{escape(a.name)}: {a.delta_v_after_tli_m_s:,.0f} m/s after TLI, {a.days:.1f} d from TLI "
            f"to touchdown</h4><p>{escape(a.pole_access)}.</p>"
            '<table><tr><th class="l">leg</th><th>delta-v [m/s]</th><th>time [d]</th><th>our model [m/s]</th>'
            '<th class="l">model</th><th class="l">source</th></tr>' + legs + "</table>"
        )
    return "".join(out)
