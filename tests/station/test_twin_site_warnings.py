"""The twin's result carries the DEM-adequacy check of its site, as every point result does: in ``ilrs twin
--json`` (``warnings``) and its text; and a DEM the user brings (``--dem``) reaches the twin's terrain."""

from __future__ import annotations

import json
import re

from tests.clirunner import assert_ok, invoke, output
from tests.month_scenario import write_month_scenario

#: A point on the rim of Shackleton: on the 240 m DEM its 3 x 3 heights depart from their plane by enough to bend a
#: 10 m mast's horizon by ~3.8 deg (tests/terrain/test_adequacy.py argues the criterion); outside the 10 m tile.
RIM = (-89.7786, 204.27)


def _at(path, lat, lon):
    text = path.read_text()
    text = re.sub(r"(?m)^lat_deg = .*$", f"lat_deg = {lat}", text, count=1)
    text = re.sub(r"(?m)^lon_deg = .*$", f"lon_deg = {lon}", text, count=1)
    path.write_text(text)
    return path


def test_the_twin_warns_where_its_dem_cannot_resolve_the_site_and_takes_the_users_dem(tmp_path, pole_dem):
    """The Connecting Ridge on the embedded 10 m tile: adequate at the elements' heights, no warning. The rim: a
    crop of the 240 m DEM around it, brought with --dem, is the layer the twin's site is checked on (nested
    before the embedded 240 m DEM of the same cell size): the warning names it, in the JSON and the text."""
    from ilrs.iotools.geotiff import write_geotiff

    ridge = write_month_scenario(tmp_path / "ridge.toml")
    ok = json.loads(assert_ok(invoke("twin", ridge, "--json", "--quiet")).stdout)
    assert ok["warnings"] == []
    x, y = pole_dem.projection.forward([RIM[0]], [RIM[1]])
    c = int(round((float(x[0]) - pole_dem.x0) / pole_dem.dx))
    r = int(round((float(y[0]) - pole_dem.y0) / pole_dem.dy))
    dem = tmp_path / "my_rim_dem.tif"
    write_geotiff(dem, pole_dem.crop(r - 40, r + 40, c - 40, c + 40))
    rim = _at(write_month_scenario(tmp_path / "rim.toml"), *RIM)
    out = json.loads(assert_ok(invoke("twin", rim, "--json", "--quiet", "--dem", dem)).stdout)
    assert len(out["warnings"]) == 1
    w = out["warnings"][0]
    assert w.startswith("the my_rim_dem DEM (240 m cells) cannot resolve the terrain") and "--dem" in w and "PGDA" in w
    text = " ".join(output(assert_ok(invoke("twin", rim, "--quiet", "--dem", dem))).split())
    assert "Warning: the my_rim_dem DEM (240 m cells) cannot resolve the terrain" in text
