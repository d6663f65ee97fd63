"""The report's "what sizing would change" shows what ``ilrs size mast`` would change, computed in the run's
sizing stage: each mast height's survival, critical load lost, least storage margin and solar energy, beside the
scenario's own masts. Checked on the built-in scenario cut to January 2034 (tests/month_scenario.py, moved) against the
``ilrs size mast`` command and against a scenario file with the masts raised by hand."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from ilrs.services.scenarios import validated_scenario
from tests.clirunner import assert_ok, invoke
from tests.month_scenario import write_month_scenario


@pytest.fixture(scope="module")
def month(tmp_path_factory):
    """January 2034 rather than the helper's July: the Sun then grazes the ridge (the default lost its critical
    loads in January 2033, issue 12), so that mast height matters."""
    path = write_month_scenario(tmp_path_factory.mktemp("mast") / "month.toml")
    path.write_text(path.read_text().replace("2034-07-01", "2034-01-01").replace("2034-08-01", "2034-02-01"))
    return path


@pytest.fixture(scope="module")
def sized(month):
    from ilrs.services.pipeline import run_scenario

    return run_scenario(validated_scenario(month), stages=("twin", "sizing"))


def test_sizing_stage_tries_every_mast_height(sized, month, tmp_path):
    """The stage's options are the heights of ``ilrs size mast`` by default, with its figures (the command run on
    the same file); the 10 m option equals the twin of the scenario file with both arrays' masts edited to 10 m
    (the figures of one run, to rounding of the sums)."""
    from ilrs.services.twin import MAST_HEIGHTS_M, run_twin

    options = sized.mast_options
    assert [o.mast_height_m for o in options] == list(MAST_HEIGHTS_M)
    result = invoke("size", "mast", month, "--json")
    assert_ok(result)
    for got, o in zip(json.loads(result.stdout), options, strict=True):
        assert (got["mast_height_m"], got["survives"]) == (o.mast_height_m, o.survives)
        for key in ("critical_load_lost_h", "least_storage_margin", "solar_kwh"):
            assert got[key] == pytest.approx(getattr(o, key), rel=1e-12), key

    text = month.read_text()
    assert text.count("mast_height_m = 3.0") == 1 and text.count("mast_height_m = 10.0") == 1
    edited = tmp_path / "ten.toml"
    edited.write_text(text.replace("mast_height_m = 3.0", "mast_height_m = 10.0"))
    run = run_twin(validated_scenario(edited))
    ten = options[list(MAST_HEIGHTS_M).index(10.0)]
    solar_kwh = run.series.solar_w.sum() * run.series.step_s / 3.6e6
    assert ten.solar_kwh == pytest.approx(solar_kwh, rel=1e-12)
    assert ten.survives == run.verdict.survives
    assert ten.critical_load_lost_h == run.verdict.critical_load_lost_h
    # a taller mast lifts the array over more of the terrain: at this ridge site, the higher never yields less
    solar = [o.solar_kwh for o in options]
    assert all(b >= a * (1 - 1e-9) for a, b in zip(solar, solar[1:], strict=False))


def test_report_shows_the_mast_options(sized, pole_dem, tmp_path):
    """The rendered report's mast table: one row per height with its computed solar energy [MWh] and change
    against the scenario's own masts (3 and 10 m), and the scenario's row."""
    from dataclasses import replace

    from ilrs.reports.run_report import render_run_report
    from ilrs.services.site import point_environment
    from ilrs.services.site_maps import LAYERS, SiteMaps

    region = pole_dem.crop(700, 764, 700, 764)
    rng = np.random.default_rng(0)
    maps = SiteMaps(
        region,
        2.0,
        "2034-01-01",
        "2034-02-01",
        21600.0,
        124,
        {n: rng.random(region.shape).astype(np.float32) for n in LAYERS},
    )
    best = point_environment(-89.45, 222.7, "2034-01-01", "2034-02-01", 21600.0, 2.0)
    # the run's products as `ilrs run` renders them (a small map window stands in for the site stage's maps)
    html = render_run_report(tmp_path / "report.html", replace(sized, maps=maps, best=best)).read_text()
    table = html[html.index('<table id="mast-sizing">') :]
    table = table[: table.index("</table>")]
    base_kwh = sized.twin.series.solar_w.sum() * sized.twin.series.step_s / 3.6e6
    assert "the scenario's masts (3, 10 m)" in table
    assert f"<td>{base_kwh / 1000:,.1f}</td>" in table
    for o in sized.mast_options:
        row = re.search(rf'<td class="l">{o.mast_height_m:g} m</td>(.*?)</tr>', table, re.S)
        assert row is not None, o.mast_height_m
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))
        assert cells[0] == ("yes" if o.survives else "no")
        assert cells[1] == f"{o.critical_load_lost_h:.1f}"
        assert cells[3] == f"{o.solar_kwh / 1000:,.1f}"
        assert cells[4] == f"{100 * (o.solar_kwh / base_kwh - 1):+.1f} %"
