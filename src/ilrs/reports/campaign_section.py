"""The campaign and transport section of the report."""

from __future__ import annotations

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
    fig.update_layout(height=360, title=f"P(capability in place by date), {ov.monte_carlo.runs:,} Monte Carlo runs",
                      yaxis={"range": [0, 1]}, margin={"l": 40, "r": 10, "t": 40, "b": 30},
                      legend={"orientation": "h"})
    w = ov.windows
    dep = et_to_utc(w["depart_et"]).astype("datetime64[s]").astype(str)
    pork = go.Figure(go.Heatmap(x=dep, y=w["tof_s"] / 86400.0, z=(w["total_dv_m_s"] / 1000.0).T,
                                colorscale="Viridis_r", colorbar={"title": "km/s"}))
    pork.update_layout(height=330, title=f"Launch windows from {ov.window_start}: TLI + LOI delta-v "
                       "(200 km LEO to 100 km polar LLO)", yaxis_title="time of flight [d]",
                       margin={"l": 40, "r": 10, "t": 40, "b": 30})
    best = w["best"]
    return {
        "summary": ov.monte_carlo.summary(),
        "notes": ov.notes,
        "missions": ov.missions,
        "cdf_html": fig.to_html(full_html=False, include_plotlyjs=False),
        "porkchop_html": pork.to_html(full_html=False, include_plotlyjs=False),
        "best": {"depart": str(et_to_utc(best.depart_et)[0].astype("datetime64[m]")),
                 "tof_d": best.tof_s / 86400.0, "tli": best.tli_dv_m_s, "loi": best.loi_dv_m_s},
        "nrho": ov.nrho,
        "nrho_vis": ov.nrho_south_pole_visibility,
        "architectures": ov.architectures,
        "runs": ov.monte_carlo.runs,
        "dv_range": (float(np.min(w["total_dv_m_s"])), float(np.max(w["total_dv_m_s"]))),
    }
