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
    """The status page's charts, stacked on one shared time axis: power (generation, load served and demanded
    [W], drawn in kW), the battery's state of charge (``soc`` [-], drawn in %) and the communication windows
    (direct-to-Earth and relay rates [bit/s], drawn in Mbit/s), over the time stamps ``utc`` (ISO text). One
    figure, key ``"station"``, whose rows share their x axis."""
    from plotly.subplots import make_subplots

    fig = make_subplots(
        rows=3,
        cols=1,
        shared_xaxes=True,  # one time axis: zooming or panning one chart moves the three together
        vertical_spacing=0.06,
        row_heights=[0.4, 0.3, 0.3],
        subplot_titles=("Power", "Battery state of charge", "Communication windows"),
    )
    fig.add_scatter(x=utc, y=(generation_w / 1e3).round(3).tolist(), name="generation [kW]", row=1, col=1)
    fig.add_scatter(x=utc, y=(served_w / 1e3).round(3).tolist(), name="load served [kW]", row=1, col=1)
    fig.add_scatter(
        x=utc, y=(demanded_w / 1e3).round(3).tolist(), name="load demanded [kW]", line={"dash": "dot"}, row=1, col=1
    )
    fig.add_scatter(x=utc, y=np.round(soc * 100, 2).tolist(), name="state of charge [%]", row=2, col=1)
    fig.add_scatter(
        x=utc, y=(dte_bps / 1e6).round(3).tolist(), name="direct-to-Earth [Mbit/s]", fill="tozeroy", row=3, col=1
    )
    fig.add_scatter(x=utc, y=(relay_bps / 1e6).round(3).tolist(), name="relay [Mbit/s]", fill="tozeroy", row=3, col=1)
    fig.update_yaxes(title_text="kW", row=1, col=1)
    fig.update_yaxes(title_text="%", range=[0, 100], row=2, col=1)
    fig.update_yaxes(title_text="Mbit/s", row=3, col=1)
    fig.update_xaxes(title_text="UTC", row=3, col=1)
    fig.update_layout(height=860, margin={"t": 40, "b": 40}, legend={"orientation": "h", "y": -0.08}, hovermode="x")
    return {"station": fig.to_plotly_json()}
