"""The twin's result carries the DEM-adequacy check of its site, as every point result does: in ``ilrs twin
--json`` (``warnings``) and its text; and a DEM the user brings (``--dem``) reaches the twin's terrain."""

from __future__ import annotations

import json
import re

from tests.clirunner import assert_ok, invoke, output
from tests.month_scenario import write_month_scenario

#: A point on Malapert massif (rank 3 of the 240 m ranking): there the DEM's 3 x 3 heights depart from their plane
#: by enough to bend a 2 m deck's horizon by ~2.6 deg (tests/terrain/test_adequacy.py argues the criterion); far
#: from the 10 m tile, so no finer embedded layer covers the terrain around it.
MALAPERT = (-85.4755, 31.34)


def _at(path, lat, lon):
    text = path.read_text()
    text = re.sub(r"(?m)^lat_deg = .*$", f"lat_deg = {lat}", text, count=1)
    text = re.sub(r"(?m)^lon_deg = .*$", f"lon_deg = {lon}", text, count=1)
    path.write_text(text)
    return path


def test_the_twin_warns_where_its_dem_cannot_resolve_the_site_and_takes_the_users_dem(tmp_path, pole_dem):
    """The Connecting Ridge on the embedded 10 m tile: adequate at the elements' heights, no warning. On Malapert:
    a crop of the 240 m DEM around it, brought with --dem, is the layer the twin's site is checked on and the
    terrain of its horizons (nested before the embedded 240 m DEM of the same cell size): the warning names it,
    in the JSON and the text, and a wall raised in it hides the Sun."""
    from ilrs.iotools.geotiff import write_geotiff

    ridge = write_month_scenario(tmp_path / "ridge.toml")
    ok = json.loads(assert_ok(invoke("twin", ridge, "--json", "--quiet")).stdout)
    assert ok["warnings"] == []
    import numpy as np

    from ilrs.services.scenarios import validated_scenario
    from ilrs.services.twin import run_twin, site_environment
    from ilrs.terrain.dem import Dem

    x, y = pole_dem.projection.forward([MALAPERT[0]], [MALAPERT[1]])
    c = int(round((float(x[0]) - pole_dem.x0) / pole_dem.dx))
    r = int(round((float(y[0]) - pole_dem.y0) / pole_dem.dy))
    crop = pole_dem.crop(r - 40, r + 40, c - 40, c + 40)
    # a ring 4-6 km around the site raised by 6 km: every cell of it then stands at least 2 km above the site (the
    # massif falls at most 4 km within 6 km; measured 3.8 km above here), so from 10 m the horizon is above
    # atan(2 / 6) = 18.4 deg all round (the Moon's curvature takes 0.03 deg at 6 km) if, and only if, the twin's
    # terrain is this DEM's
    xs, ys = np.meshgrid(crop.x_coords() - float(x[0]), crop.y_coords() - float(y[0]))
    ring = (np.hypot(xs, ys) >= 4000.0) & (np.hypot(xs, ys) <= 6000.0)
    walled = Dem(**{**vars(crop), "heights_m": np.where(ring, crop.heights_m + 6000.0, crop.heights_m)})
    dem = tmp_path / "my_malapert_dem.tif"
    write_geotiff(dem, walled)
    site = _at(write_month_scenario(tmp_path / "malapert.toml"), *MALAPERT)
    out = json.loads(assert_ok(invoke("twin", site, "--json", "--quiet", "--dem", dem)).stdout)
    assert len(out["warnings"]) == 1
    w = out["warnings"][0]
    assert (
        w.startswith("the my_malapert_dem DEM (240 m cells) cannot resolve the terrain")
        and "--dem" in w
        and "PGDA" in w
    )
    text = " ".join(output(assert_ok(invoke("twin", site, "--quiet", "--dem", dem))).split())
    assert "Warning: the my_malapert_dem DEM (240 m cells) cannot resolve the terrain" in text
    env = site_environment(validated_scenario(site), [str(dem)])  # as the command built it (cached)
    assert env.horizon_deg(10.0).min() > 18.0
    assert run_twin(validated_scenario(site), env).series.solar_w.max() == 0.0  # the wall hides the Sun all month
