"""``ilrs run``'s files beside the report: the site maps of its analysis (COG + PNG per layer, STAC catalogue) and,
with ``--pds4``, their PDS4 labels, read back by GDAL and pystac.

The pipeline is the real one cut to its ``twin`` stage on the month station (tests/month_scenario.py), the maps
are the real slope of a 40 x 50-cell window of the embedded 240 m DEM with the other layers drawn at random, and
the HTML report (which needs the whole site stage; tested in tests/reports) is a stub: what is under test is what
``ilrs run`` writes beside it, not the site analysis (tested in test_cli_maps and services)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import rasterio

from tests.clirunner import assert_ok, invoke
from tests.month_scenario import write_month_scenario


@pytest.fixture
def short_pipeline(monkeypatch, pole_dem):
    from ilrs.reports import run_report
    from ilrs.services import pipeline
    from ilrs.services.site_maps import LAYERS, SiteMaps
    from ilrs.terrain.slope import slope_map_deg

    real = pipeline.run_scenario
    region = pole_dem.crop(700, 740, 710, 760)
    rng = np.random.default_rng(5)
    layers = {n: rng.random(region.shape).astype(np.float32) for n in LAYERS}
    layers["slope_deg"] = slope_map_deg(region).astype(np.float32)
    layers["never_lit"] = (layers["never_lit"] > 0.9).astype(np.float32)

    def twin_only(scenario, *, progress=None, **_):
        key = scenario.model_dump_json()
        if key not in _TWINS:
            _TWINS[key] = real(scenario, stages=("twin",), progress=progress)
        products = dataclasses.replace(_TWINS[key])
        products.maps = SiteMaps(region, 2.0, "2025-01-01", "2026-01-01", 3600.0, 8760, layers)
        return products

    def stub_report(path, products):
        path.write_text("<html></html>")
        return path

    monkeypatch.setattr(pipeline, "run_scenario", twin_only)
    monkeypatch.setattr(run_report, "render_run_report", stub_report)
    return region


#: The month twin, run once for the tests of this module.
_TWINS: dict = {}


@pytest.mark.slow
def test_run_writes_its_maps_with_stac_and_pds4(tmp_path, short_pipeline):
    import pystac
    from pystac.validation import validate_dict

    from ilrs.services.site_maps import LAYERS
    from ilrs.terrain.slope import slope_map_deg

    month = write_month_scenario(tmp_path / "month.toml")
    out = tmp_path / "run"
    summary = json.loads(assert_ok(invoke("run", month, "--out", out, "--json", "--quiet", "--pds4")).stdout)
    maps = out / "maps"
    assert summary["maps"]["catalog"] == str(maps / "catalog.json")
    # the summary lists every file written under maps/ (the STAC items sit in a folder per layer)
    on_disk = {str(p) for p in maps.rglob("*") if p.is_file() and p.parent.name in ("maps", "pds4")}
    assert set(summary["maps"]["files"]) == on_disk
    catalog = pystac.Catalog.from_file(str(maps / "catalog.json"))
    validate_dict(catalog.to_dict(), pystac.STACObjectType.CATALOG)
    assert sorted(i.id for i in catalog.get_items(recursive=True)) == sorted(LAYERS)
    for name in LAYERS:
        label = maps / "pds4" / f"{name}.xml"
        with rasterio.open(label) as p4, rasterio.open(maps / f"{name}.tif") as tif:
            assert p4.driver == "PDS4" and tif.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
            assert np.array_equal(p4.read(1), tif.read(1), equal_nan=True)
    with rasterio.open(maps / "slope_deg.tif") as tif:
        np.testing.assert_array_equal(tif.read(1), slope_map_deg(short_pipeline).astype(np.float32))
    assert (out / "report.html").is_file() and (out / "twin.nc").is_file()
    # the run's catalogue: the twin's time series as an item at the station's site, the maps' catalogue as a child
    from pystac.extensions.projection import ProjectionExtension

    from ilrs.scenario.load import load_scenario
    from ilrs.services.scenarios import site_latlon

    assert summary["catalog"] == str(out / "catalog.json")
    run_cat = pystac.Catalog.from_file(str(out / "catalog.json"))
    validate_dict(run_cat.to_dict(), pystac.STACObjectType.CATALOG)
    (twin,) = run_cat.get_items()  # the twin stage only: no plan.json
    validate_dict({**twin.to_dict(), "stac_extensions": []}, pystac.STACObjectType.ITEM)
    assert twin.id == "twin" and ProjectionExtension.ext(twin).code == "IAU_2015:30100"
    lat, lon = site_latlon(load_scenario(str(month)))
    assert twin.geometry["coordinates"] == pytest.approx([((lon + 180) % 360) - 180, lat], abs=1e-9)
    asset = twin.assets["data"].get_absolute_href()
    assert asset == str(out / "twin.nc")
    digest = hashlib.sha256((out / "twin.nc").read_bytes()).hexdigest()
    assert twin.assets["data"].extra_fields["file:checksum"] == "1220" + digest
    (child,) = run_cat.get_children()
    assert child.id == "ilrs-site-maps" and len(list(child.get_items())) == len(LAYERS)


@pytest.mark.slow
def test_run_without_pds4_writes_no_labels(tmp_path, short_pipeline):
    month = write_month_scenario(tmp_path / "month.toml")
    out = tmp_path / "run"
    # --json: the stub pipeline has no best-site year, which the text summary prints
    summary = json.loads(assert_ok(invoke("run", month, "--out", out, "--quiet", "--json")).stdout)
    assert (out / "maps" / "catalog.json").is_file() and not (out / "maps" / "pds4").exists()
    assert not any(Path(f).parent.name == "pds4" for f in summary["maps"]["files"])


def test_run_refuses_a_maps_file_before_running(tmp_path, monkeypatch):
    """``--out`` holding a file named ``maps`` is refused before any computation."""
    from ilrs.services import pipeline
    from tests.clirunner import assert_user_error

    def never(*a, **k):
        raise AssertionError("the pipeline ran")

    monkeypatch.setattr(pipeline, "run_scenario", never)
    out = tmp_path / "run"
    out.mkdir()
    (out / "maps").write_text("not a directory")
    assert_user_error(invoke("run", "--out", out, "--quiet"), "--out", "maps")
