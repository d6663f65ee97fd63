"""Plotly figures of the portal's pages, as figure dictionaries that plotly.js draws in the browser (no image is
rendered on the server)."""

from __future__ import annotations

import numpy as np


def status_figures(
    utc: list[str],
    generation_w: np.ndarray,
    served_w: np.ndarray,
    demanded_w: np.ndarray,
    soc: np.ndarray,
    dte_bps: np.ndarray,
    relay_bps: np.ndarray,
) -> dict[str, dict]:
    """The status page's three charts: power (generation, load served and demanded [W], drawn in kW), the
    battery's state of charge (``soc`` [-], drawn in %) and the communication windows (direct-to-Earth and relay
    rates [bit/s], drawn in Mbit/s), over the time stamps ``utc`` (ISO text)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    power = go.Figure()
    power.add_scatter(x=utc, y=(generation_w / 1e3).round(3).tolist(), name="generation [kW]")
    power.add_scatter(x=utc, y=(served_w / 1e3).round(3).tolist(), name="load served [kW]")
    power.add_scatter(x=utc, y=(demanded_w / 1e3).round(3).tolist(), name="load demanded [kW]", line={"dash": "dot"})
    power.update_layout(title="Power", yaxis_title="kW", height=320, margin={"t": 40, "b": 30})
    charge = go.Figure(go.Scatter(x=utc, y=np.round(soc * 100, 2).tolist(), name="state of charge [%]"))
    charge.update_layout(
        title="Battery state of charge", yaxis_title="%", yaxis_range=[0, 100], height=280, margin={"t": 40, "b": 30}
    )
    links = make_subplots(rows=1, cols=1)
    links.add_scatter(x=utc, y=(dte_bps / 1e6).round(3).tolist(), name="direct-to-Earth [Mbit/s]", fill="tozeroy")
    links.add_scatter(x=utc, y=(relay_bps / 1e6).round(3).tolist(), name="relay [Mbit/s]", fill="tozeroy")
    links.update_layout(title="Communication windows", yaxis_title="Mbit/s", height=280, margin={"t": 40, "b": 30})
    return {
        "power": power.to_plotly_json(),
        "charge": charge.to_plotly_json(),
        "links": links.to_plotly_json(),
    }
