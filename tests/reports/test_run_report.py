"""The HTML report: scenario text escaped, state of charge in % like its KPI, one legend per stacked subplot."""

from __future__ import annotations

import numpy as np
import pytest

from ilrs.services.scenarios import validated_scenario
from tests.month_scenario import write_month_scenario

INJECTED_NAME = '<script>alert("name")</script>'
INJECTED_DESCRIPTION = "<script>alert('description')</script> & <img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    """The built-in scenario cut to July 2034 (tests/month_scenario.py), its name and description carrying markup."""
    from ilrs.services.twin import run_twin

    path = write_month_scenario(tmp_path_factory.mktemp("scn") / "hostile.toml")
    scenario = validated_scenario(path).model_copy(update={"name": INJECTED_NAME, "description": INJECTED_DESCRIPTION})
    return run_twin(scenario)


def test_report_templates_are_autoescaped():
    from ilrs.reports.run_report import report_environment

    env = report_environment()
    assert env.get_template("run_report.html.j2").environment.autoescape("run_report.html.j2")
    assert env.from_string("{{ x }}").render(x="<b>") == "&lt;b&gt;"


def test_scenario_markup_is_escaped_in_the_report(hostile_run, pole_dem, tmp_path):
    """The whole report rendered (real maps on a window of the pole DEM, a real point analysis, the twin):
    the scenario's name and description appear escaped, never as markup."""
    from ilrs.reports.run_report import _render
    from ilrs.services.site import point_environment
    from ilrs.services.site_maps import LAYERS, SiteMaps

    region = pole_dem.crop(700, 764, 700, 764)
    rng = np.random.default_rng(0)
    layers = {name: rng.random(region.shape).astype(np.float32) for name in LAYERS}
    maps = SiteMaps(region, 2.0, "2034-07-01", "2034-08-01", 21600.0, 124, layers)
    best = point_environment(-89.45, 222.7, "2034-07-01", "2034-08-01", 21600.0, 2.0)
    html = _render(tmp_path / "report.html", maps, [], best, twin=hostile_run).read_text()
    assert INJECTED_NAME not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;name&#34;)&lt;/script&gt;" in html
    assert "&lt;script&gt;alert(&#39;description&#39;)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt;" in html


def test_state_of_charge_in_percent_with_a_legend_per_subplot(hostile_run):
    """The plotted daily minimum state of charge is the KPI's minimum, in %; each of the four stacked plots has
    its own legend holding its own traces."""
    from ilrs.reports.twin_section import twin_figure

    fig = twin_figure(hostile_run)
    soc = next(t for t in fig.data if t.name == "min state of charge")
    assert np.isclose(np.min(soc.y), 100.0 * hostile_run.kpis.min_state_of_charge)
    assert 0.0 <= np.min(soc.y) and np.max(soc.y) <= 100.0
    assert "[%]" in fig.layout.annotations[1].text  # the subplot's title
    legends: dict[str, set[str]] = {}
    for t in fig.data:
        legends.setdefault(t.legend, set()).add(t.yaxis)
    assert sorted(legends) == ["legend", "legend2", "legend3", "legend4"]
    assert all(len(axes) == 1 for axes in legends.values())  # a legend shows the traces of one subplot only
    tops = [fig.layout[name].y for name in sorted(legends)]
    assert tops == sorted(tops, reverse=True) and len(set(tops)) == 4  # each beside its own plot, top to bottom


def test_legend_per_subplot_on_a_two_row_stack():
    """The helper the operations figure uses: traces of row k go to legend k, placed at the top of row k."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    from ilrs.reports.plotly_legends import legend_per_subplot

    fig = make_subplots(rows=2, cols=1, shared_xaxes=True)
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], name="power"), 1, 1)
    fig.add_trace(go.Scatter(x=[0, 1], y=[1, 0], name="plan"), 1, 1)
    fig.add_trace(go.Bar(x=[0, 1], y=[2, 3], name="data"), 2, 1)
    legend_per_subplot(fig)
    assert [t.legend for t in fig.data] == ["legend", "legend", "legend2"]
    assert fig.layout.legend.y == fig.layout.yaxis.domain[1] and fig.layout.legend2.y == fig.layout.yaxis2.domain[1]
    fig.to_html(full_html=False, include_plotlyjs=False)  # Plotly accepts the layout


def test_station_closeup_is_centred_on_the_scenario_site(hostile_run, pole_dem, tmp_path):
    """The report's map around the station: the window's cells are those within 12 km of the station's own
    point (its projected coordinates from the DEM's CRS), the star at the window's centre, and the figure is in
    the station's section."""
    from ilrs.reports.figures import window_around
    from ilrs.reports.run_report import _render
    from ilrs.services.site import point_environment
    from ilrs.services.site_maps import LAYERS, SiteMaps

    region = pole_dem.crop(600, 900, 600, 900)  # 72 km around the pole: the station's 24 km window fits inside
    rng = np.random.default_rng(1)
    layers = {name: rng.random(region.shape).astype(np.float32) for name in LAYERS}
    maps = SiteMaps(region, 2.0, "2034-07-01", "2034-08-01", 21600.0, 124, layers)
    station = point_environment(-89.4455, 222.69, "2034-07-01", "2034-08-01", 21600.0, 10.0)
    x, y = region.projection.forward(np.array([station.lat_deg]), np.array([station.lon_deg]))
    rows, cols, extent = window_around(region, x[0] / 1000, y[0] / 1000, 12.0)
    xs, ys = region.x_coords()[cols] / 1000, region.y_coords()[rows] / 1000
    assert np.abs(xs - x[0] / 1000).max() <= 12.0 and np.abs(ys - y[0] / 1000).max() <= 12.0
    assert len(xs) in (100, 101) and len(ys) in (100, 101)  # 24 km of 240 m cells
    centre = ((extent[0] + extent[1]) / 2, (extent[2] + extent[3]) / 2)
    assert abs(centre[0] - x[0] / 1000) <= 0.24 and abs(centre[1] - y[0] / 1000) <= 0.24  # within a cell
    assert window_around(region, 1e4, 1e4, 12.0) is None  # off the grid: no figure rather than an empty one
    html = _render(tmp_path / "r.html", maps, [], station, twin=hostile_run, station_site=station).read_text()
    section = html.split("The station's site", 1)[1].split("<h2>", 1)[0]
    assert 'alt="map around the station"' in section and "24 km across, centred on the station" in section


def test_a_station_without_battery_or_load_reads_so_in_the_report(pole_dem, tmp_path):
    """An array alone (no battery, no load): the report's phase and KPI tables say "no load", "no battery" and
    "n/a", never nan or inf (the JSON-side values are NaN and infinity)."""
    import re

    from ilrs.reports.run_report import _render
    from ilrs.services.site import point_environment
    from ilrs.services.site_maps import LAYERS, SiteMaps
    from ilrs.services.twin import run_twin

    path = tmp_path / "array-only.toml"
    path.write_text(
        'name = "array-only"\nstart = 2034-07-01\nend = 2034-08-01\nstep = "1h"\n[site]\nlat_deg = -89.4455\n'
        'lon_deg = 222.69\n[[elements]]\nkind = "solar_array"\nname = "array"\narrival = 2034-07-01\n'
        "area_m2 = 10.0\ncell_efficiency = 0.30\nmast_height_m = 10.0\n"
    )
    twin = run_twin(validated_scenario(path))
    assert np.isinf(twin.kpis.energy_margin) and np.isnan(twin.kpis.min_state_of_charge)
    region = pole_dem.crop(700, 764, 700, 764)
    rng = np.random.default_rng(0)
    layers = {name: rng.random(region.shape).astype(np.float32) for name in LAYERS}
    maps = SiteMaps(region, 2.0, "2034-07-01", "2034-08-01", 21600.0, 124, layers)
    best = point_environment(-89.45, 222.7, "2034-07-01", "2034-08-01", 21600.0, 2.0)
    html = _render(tmp_path / "report.html", maps, [], best, twin=twin).read_text()
    cells = re.findall(r"<td[^>]*>(.*?)</td>", html, re.S)
    bad = [c for c in cells if re.search(r"(?i)(?<![a-z])(nan|inf)(?![a-z])", c)]
    assert not bad, bad
    assert "no load" in cells and "no battery" in cells
    assert "n/a (no load)" in cells and "n/a (no battery)" in cells
    # the state-of-charge plot has gaps, not a made-up 100 %
    from ilrs.reports.twin_section import twin_figure

    soc = next(t for t in twin_figure(twin).data if t.name == "min state of charge")
    assert len(soc.y) == 31 and all(v is None or np.isnan(v) for v in soc.y)
