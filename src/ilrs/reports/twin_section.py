"""The station-twin section of the HTML report: KPIs, build-up, power and state of charge, links, data."""

from __future__ import annotations

import math

import numpy as np

from ilrs.reports.plotly_legends import legend_per_subplot
from ilrs.station.twin import TwinRun

#: KPI display: label and format, in the order shown (CLI table and report).
KPI_LABELS = {
    "years": ("simulated period", "{:.2f} yr"),
    "loss_of_load_hours": ("loss of load (any class)", "{:.1f} h"),
    "loss_of_critical_load_hours": ("loss of critical load (priority 1-2)", "{:.1f} h"),
    "min_state_of_charge": ("minimum state of charge", "{:.1%}"),
    "energy_margin": ("generation / demand - 1 (whole run, before storage)", "{:+.1%}"),
    "shed_kwh": ("energy shed", "{:,.0f} kWh"),
    "curtailed_kwh": ("generation curtailed", "{:,.0f} kWh"),
    "earth_contact_hours_per_day": ("direct-to-Earth contact (whole run)", "{:.1f} h/day"),
    "relay_hours_per_day": ("relay contact (whole run)", "{:.1f} h/day"),
    "data_generated_gbit": ("data generated", "{:,.0f} Gbit"),
    "data_downlinked_gbit": ("data downlinked", "{:,.0f} Gbit"),
    "data_lost_gbit": ("data lost (storage overflow)", "{:,.0f} Gbit"),
    "longest_dark_hours_survived": ("longest darkness with no load shed at all", "{:.0f} h"),
}
#: What a KPI without a value (NaN or infinite in the run's figures, null in JSON) means, as the text says it.
KPI_UNDEFINED = {
    "min_state_of_charge": "n/a (no battery)",
    "energy_margin": "n/a (no load)",
}
#: A phase or run without a battery has no storage margin; a phase without a load no generation / demand ratio.
NO_BATTERY = "no battery"
NO_LOAD = "no load"


def _defined(value: object) -> bool:
    return isinstance(value, int | float | np.floating) and math.isfinite(value)


def format_kpi(key: str, value: object) -> str:
    """A KPI as the CLI and the report print it: its format from :data:`KPI_LABELS`, or what its absence means
    (``n/a (no battery)``, never ``nan%`` or ``+inf%``)."""
    if not _defined(value):
        return KPI_UNDEFINED.get(key, "n/a")
    return KPI_LABELS[key][1].format(value)


def format_ratio(energy_margin: float, undefined: str = NO_LOAD) -> str:
    """A phase's generation over its load (``energy_margin + 1``), e.g. ``2.5x``; ``undefined`` without a load."""
    return f"{energy_margin + 1:.1f}x" if _defined(energy_margin) else undefined


def format_storage_margin(margin: float, undefined: str = NO_BATTERY) -> str:
    """A storage margin (fraction of the usable battery) in %, e.g. ``35%``; ``undefined`` without a battery."""
    return f"{margin:.0%}" if _defined(margin) else undefined


def _daily(utc: np.ndarray, values: np.ndarray, how: str = "mean"):
    day = utc.astype("datetime64[D]")
    days, inv = np.unique(day, return_inverse=True)
    count = np.bincount(inv)
    if how == "mean":
        return days, np.bincount(inv, weights=values) / count
    if how == "min":  # NaN steps are skipped; a day of NaN only is NaN (a gap in the plot)
        out = np.full(days.size, np.inf)
        np.fmin.at(out, inv, values)
        out[np.isinf(out)] = np.nan
        return days, out
    return days, np.bincount(inv, weights=values)


def twin_figures_html(run: TwinRun) -> str:
    """Interactive Plotly charts (no JS included: the page carries plotly.js once)."""
    return twin_figure(run).to_html(full_html=False, include_plotlyjs=False)


def twin_figure(run: TwinRun):
    """Power, state of charge [%], contact hours and data, daily, stacked; one legend per plot."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    s, r = run.series, run.result
    h = s.step_s / 3600.0
    days, gen = _daily(s.utc, s.generation_w / 1e3)
    _, solar = _daily(s.utc, s.solar_w / 1e3)
    _, demand = _daily(s.utc, s.load_w.sum(axis=0) / 1e3)
    _, served = _daily(s.utc, r.served_w.sum(axis=0) / 1e3)
    with np.errstate(invalid="ignore", divide="ignore"):
        soc = np.where(s.battery_capacity_wh > 0, r.stored_wh[1:] / s.battery_capacity_wh, np.nan)
    # in % like the KPI "minimum state of charge"
    _, soc_min = _daily(s.utc, 100.0 * soc, "min")  # no battery: a gap, not 100 %
    _, dte_h = _daily(s.utc, (s.dte_bps > 0) * h, "sum")
    _, relay_h = _daily(s.utc, (s.relay_bps > 0) * h, "sum")
    _, stored = _daily(s.utc, r.data_stored_bits[1:] / 1e9)
    _, lost = _daily(s.utc, r.data_lost_bits / 1e9, "sum")
    x = days.astype(str)
    fig = make_subplots(
        rows=4,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.04,
        subplot_titles=(
            "Power, daily mean [kW]",
            "Battery state of charge, daily minimum [%] (gaps: no battery)",
            "Contact hours per day",
            "Data in storage, daily mean [Gbit]",
        ),
    )
    fig.add_trace(go.Scatter(x=x, y=gen, name="generation", line={"color": "orange"}), 1, 1)
    fig.add_trace(go.Scatter(x=x, y=solar, name="solar", line={"color": "gold", "dash": "dot"}), 1, 1)
    fig.add_trace(go.Scatter(x=x, y=demand, name="demand", line={"color": "gray"}), 1, 1)
    fig.add_trace(go.Scatter(x=x, y=served, name="served", line={"color": "green"}), 1, 1)
    fig.add_trace(go.Scatter(x=x, y=soc_min, name="min state of charge", line={"color": "purple"}), 2, 1)
    fig.add_trace(go.Scatter(x=x, y=dte_h, name="direct to Earth", line={"color": "royalblue"}), 3, 1)
    fig.add_trace(go.Scatter(x=x, y=relay_h, name="relay", line={"color": "teal"}), 3, 1)
    fig.add_trace(go.Scatter(x=x, y=stored, name="stored", line={"color": "brown"}), 4, 1)
    fig.add_trace(go.Bar(x=x, y=lost, name="lost [Gbit/day]", marker={"color": "red"}), 4, 1)
    fig.update_layout(height=900, margin={"l": 50, "t": 40, "b": 30})
    fig.update_yaxes(range=[0, 100], row=2, col=1)
    return legend_per_subplot(fig)


def build_up_rows(run: TwinRun) -> list[dict]:
    return [
        {
            "arrival": f"{e.arrival:%Y-%m-%d}",
            "mission": e.mission or "",
            "name": e.name,
            "kind": e.kind,
            "source": e.source or "",
        }
        for e in sorted(run.scenario.elements, key=lambda e: e.arrival)
    ]


def build_up_figure_html(run: TwinRun) -> str:
    """The build-up as a Gantt chart: each element from its arrival to the end of the run, by mission."""
    import plotly.graph_objects as go

    end = f"{run.scenario.end:%Y-%m-%d}"
    elements = sorted(run.scenario.elements, key=lambda e: e.arrival, reverse=True)
    missions = sorted({e.mission or "-" for e in elements})
    palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
    fig = go.Figure()
    for i, mission in enumerate(missions):
        mine = [e for e in elements if (e.mission or "-") == mission]
        fig.add_trace(
            go.Bar(
                y=[f"{e.name} ({e.kind})" for e in mine],
                x=[
                    (np.datetime64(end) - np.datetime64(f"{e.arrival:%Y-%m-%d}"))
                    .astype("timedelta64[ms]")
                    .astype(float)
                    for e in mine
                ],
                base=[f"{e.arrival:%Y-%m-%d}" for e in mine],
                orientation="h",
                name=mission,
                marker={"color": palette[i % len(palette)]},
            )
        )
    fig.update_layout(
        barmode="overlay",
        height=28 * len(elements) + 120,
        xaxis={"type": "date"},
        margin={"l": 10, "r": 10, "t": 30, "b": 30},
        title="Build-up: elements in service",
        legend={"orientation": "h"},
    )
    return fig.to_html(full_html=False, include_plotlyjs=False)


def inventory_rows(run: TwinRun) -> list[dict]:
    """What is installed on the surface after each arrival date: nameplate power, storage, links, payloads."""
    elements = sorted(run.scenario.elements, key=lambda e: e.arrival)
    rows = []
    for date in sorted({e.arrival for e in elements}):
        here = [e for e in elements if e.arrival <= date]

        def total(kind, attr, here=here):
            return sum(getattr(e, attr) for e in here if e.kind == kind)

        rows.append(
            {
                "date": f"{date:%Y-%m-%d}",
                "missions": ", ".join(sorted({e.mission or "-" for e in elements if e.arrival == date})),
                "elements": len(here),
                "solar_m2": total("solar_array", "area_m2"),
                "fission_kw": total("fission", "power_kw"),
                "battery_kwh": total("battery", "capacity_kwh") + total("regenerative_fuel_cell", "capacity_kwh"),
                "storage_gbit": total("storage", "capacity_gbit"),
                "links": ", ".join(e.kind for e in here if e.kind in ("dte", "relay")) or "-",
                "payload_kw": total("payload", "power_kw"),
            }
        )
    return rows
