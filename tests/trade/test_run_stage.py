"""The design study in `ilrs run`: the scenario's ``[analysis] trade_space`` (a file beside it) studied by the
pipeline's trade stage and shown in the run report."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from ilrs.services.scenarios import validated_scenario

HERE = Path(__file__).parent

pytestmark = pytest.mark.slow


def test_pipeline_studies_the_space_beside_the_scenario_and_reports_it(tmp_path, pole_dem):
    from ilrs.reports.run_report import _render
    from ilrs.services.pipeline import run_scenario
    from ilrs.services.site import point_environment
    from ilrs.services.site_maps import LAYERS, SiteMaps
    from ilrs.services.trade import run_trade

    shutil.copy(HERE / "small.space.toml", tmp_path / "small.space.toml")
    text = (HERE / "station-year.toml").read_text()
    first_table = text.index("\n[")
    text = text[:first_table] + '\n\n[analysis]\ntrade_space = "small.space.toml"\n' + text[first_table:]
    (tmp_path / "station.toml").write_text(text)
    scenario = validated_scenario(tmp_path / "station.toml")
    assert scenario.analysis.trade_space == "small.space.toml"

    products = run_scenario(scenario, stages=("trade",))
    study = products.trade
    assert study is not None and study.method == "grid" and "in process" in study.mode
    alone = run_trade(HERE / "station-year.toml", HERE / "small.space.toml", "grid", workers=0)
    assert len(study.evaluations) == len(alone.evaluations) == 72
    np.testing.assert_array_equal(study.on_front, alone.on_front)
    for m in ("landed_mass_kg", "science_data_gbit"):
        np.testing.assert_array_equal(study.metric(m), alone.metric(m))
    assert products.timings["trade study"] > 0

    region = pole_dem.crop(700, 764, 700, 764)
    rng = np.random.default_rng(0)
    layers = {n: rng.random(region.shape) for n in LAYERS}  # the maps are not what this test reads
    maps = SiteMaps(region, 2.0, "2034-07-01", "2034-08-01", 21600.0, 124, layers)
    best = point_environment(-89.45, 222.7, "2034-07-01", "2034-08-01", 21600.0, 2.0)
    html = _render(tmp_path / "report.html", maps, [], best, trade=study).read_text()
    assert 'id="trade"' in html and "Design study: small" in html
    assert f"{int(study.feasible.sum())} designs meet them, {int(study.on_front.sum())} are on the Pareto front" in html
    front_rows = html.split('id="trade"')[1].split("</table>")[0].count("<tr><td>")
    assert front_rows == min(12, int(study.on_front.sum()))
