"""Sun visibility over the whole 240 m south-pole DEM (1536 x 1536 cells), hourly through 2025.

Fast path: ``ilrs.core.visibility.sun_visibility_map`` (bounds per azimuth sector first, exact azimuth and
disk fraction only for the pairs the bounds cannot decide), after ``to_cell_major``. Baseline: the
straightforward numba loop over every (cell, step) pair, parallel like the fast path, with the exact grid
azimuth (atan2 in the cell's frame), the interpolated horizon and the disk fraction at every pair; it is
measured on an evenly spread subset of rows and extrapolated linearly to the map (its cost per pair does not
depend on the terrain). On that subset the two are also compared.

The horizon map (360 azimuths, observer 2 m above the ground, no far field) is computed once with
``horizon_sweep`` (about a minute and a half) and cached with ``DiskCache`` under the temp directory.

Run: ``.venv/bin/python benchmarks/bench_visibility.py``.
"""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path

import numba
import numpy as np

from ilrs.constants import MOON_RADIUS_M
from ilrs.core import horizon as horizon_module
from ilrs.core._jit import jit, prange
from ilrs.core.geometry import stereo_south_inverse
from ilrs.core.horizon import DEFAULT_NEAR_STEPS, HORIZON_SCALE_DEG, horizon_sweep
from ilrs.core.visibility import earth_visibility_map, sun_visibility_map, to_cell_major
from ilrs.ephem.directions import angular_radius, body_position_me
from ilrs.ephem.time import utc_grid
from ilrs.iotools.cache import DiskCache
from ilrs.iotools.geotiff import read_geotiff

DEM_PATH = Path(__file__).resolve().parents[1] / "src" / "ilrs" / "data" / "lola" / "south_pole_240m.tif"
N_AZIMUTHS = 360
OBSERVER_HEIGHT_M = 2.0
START, END, STEP_S = "2025-01-01", "2026-01-01", 3600
BASELINE_ROWS = 16
CACHE_ROOT = Path(tempfile.gettempdir()) / "ilrs-bench-cache"


def horizon_map():
    """The DEM and its int16 horizon map (n_az, rows, cols), from the disk cache when it holds it."""
    dem = read_geotiff(DEM_PATH)
    az = np.arange(N_AZIMUTHS) * (2 * np.pi / N_AZIMUTHS)

    def compute():
        return {
            "horizons": horizon_sweep(
                dem.heights_m,
                dem.cell_size_m,
                dem.x0,
                dem.y0,
                dem.dx,
                dem.dy,
                az,
                OBSERVER_HEIGHT_M,
                MOON_RADIUS_M,
                True,
                DEFAULT_NEAR_STEPS,
            )
        }

    key = DiskCache.key(
        dem=DEM_PATH,
        n_azimuths=N_AZIMUTHS,
        observer_height_m=OBSERVER_HEIGHT_M,
        near_steps=DEFAULT_NEAR_STEPS,
        code=Path(horizon_module.__file__),
    )
    return dem, DiskCache(CACHE_ROOT).get_or_compute("horizon_map", key, compute)["horizons"]


@jit(parallel=True)
def _baseline_kernel(hz, lat, lon, rows_idx, s, rad, out_vis, out_frac):
    """Every (cell, step): exact grid azimuth and elevation, interpolated horizon, disk fraction."""
    n_rows = rows_idx.shape[0]
    cols = hz.shape[1]
    n_az = hz.shape[2]
    n_t = s.shape[0]
    inv_step = n_az / (2.0 * math.pi)
    scale = HORIZON_SCALE_DEG * math.pi / 180.0
    for p in prange(n_rows * cols):
        i = p // cols
        c = p % cols
        r = rows_idx[i]
        cl = math.cos(lat[r, c])
        ux, uy, uz = cl * math.cos(lon[r, c]), cl * math.sin(lon[r, c]), math.sin(lat[r, c])
        w = 1.0 / (1.0 - uz)
        n_vis = 0
        f_sum = 0.0
        for t in range(n_t):
            sx, sy, sz = s[t, 0], s[t, 1], s[t, 2]
            gn = sx * (1.0 - ux * ux * w) - sy * ux * uy * w + sz * ux
            ge = -sx * ux * uy * w + sy * (1.0 - uy * uy * w) + sz * uy
            pos = math.atan2(ge, gn) * inv_step
            if pos < 0.0:
                pos += n_az
            i0 = min(int(pos), n_az - 1)
            i1 = i0 + 1 if i0 + 1 < n_az else 0
            f = pos - i0
            h = (hz[r, c, i0] * (1.0 - f) + hz[r, c, i1] * f) * scale
            x = (math.asin(sx * ux + sy * uy + sz * uz) - h) / rad[t]
            if x > -1.0:
                n_vis += 1
                f_sum += 1.0 if x >= 1.0 else 0.5 + (x * math.sqrt(1.0 - x * x) + math.asin(x)) / math.pi
        out_vis[i, c] = n_vis / n_t
        out_frac[i, c] = f_sum / n_t


def _baseline(hz, lat, lon, rows_idx, s, rad):
    out_vis = np.empty((rows_idx.size, hz.shape[1]))
    out_frac = np.empty((rows_idx.size, hz.shape[1]))
    _baseline_kernel(hz, lat, lon, rows_idx, s, rad, out_vis, out_frac)
    return out_vis, out_frac


def run(with_earth: bool = True) -> dict:
    """Time to_cell_major, sun_visibility_map (and earth_visibility_map) and the baseline; return the figures
    (times [s], rates [cell-steps/s], differences [-])."""
    t0 = time.perf_counter()
    dem, stored = horizon_map()
    stored = np.array(stored)  # into memory: the transpose is timed without the cache file's page faults
    t_hmap = time.perf_counter() - t0
    rows, cols = dem.shape
    x, y = np.meshgrid(dem.x_coords(), dem.y0 + dem.dy * np.arange(rows))
    lat, lon = stereo_south_inverse(x, y, MOON_RADIUS_M)
    et, _ = utc_grid(START, END, STEP_S)
    sun = body_position_me("SUN", et)
    sun_r = angular_radius("SUN", np.linalg.norm(sun, axis=1))
    sun_dir = sun / np.linalg.norm(sun, axis=1, keepdims=True)
    n_t = et.size

    to_cell_major(stored[:, :2, :2])  # compile (or load from numba's cache) outside the timings
    t_transpose = []
    for _ in range(3):  # each call allocates (and page-faults) a fresh 1.7 GB output
        t0 = time.perf_counter()
        cell_major = to_cell_major(stored)
        t_transpose.append(time.perf_counter() - t0)
    sun_visibility_map(cell_major[:1], lat[:1], lon[:1], sun_dir[:10], sun_r[:10])
    t0 = time.perf_counter()
    maps = sun_visibility_map(cell_major, lat, lon, sun_dir, sun_r)
    t_sun = time.perf_counter() - t0

    pick = np.linspace(0, rows - 1, BASELINE_ROWS).astype(np.int64)
    _baseline(cell_major, lat, lon, pick[:1], sun_dir[:10], sun_r[:10])
    t0 = time.perf_counter()
    ref_vis, ref_frac = _baseline(cell_major, lat, lon, pick, sun_dir, sun_r)
    t_base_sample = time.perf_counter() - t0
    t_base = t_base_sample * rows / pick.size
    n_vis = np.rint(maps["sun_visible_fraction"][pick].astype(np.float64) * n_t)
    count_diff = np.abs(n_vis - np.rint(ref_vis * n_t))

    out = {
        "rows": rows,
        "cols": cols,
        "n_azimuths": stored.shape[0],
        "n_steps": int(n_t),
        "numba_threads": numba.get_num_threads(),
        "horizon_map_load_or_compute_s": t_hmap,
        "to_cell_major_first_s": t_transpose[0],
        "to_cell_major_best_of_3_s": min(t_transpose),
        "sun_visibility_map_s": t_sun,
        "sun_cell_steps_per_s": rows * cols * n_t / t_sun,
        "baseline_sample_rows": int(pick.size),
        "baseline_sample_s": t_base_sample,
        "baseline_extrapolated_s": t_base,
        "speedup": t_base / t_sun,
        "sample_cells_with_count_difference": int(np.count_nonzero(count_diff)),
        "sample_max_count_difference_steps": int(count_diff.max()),
        "sample_max_mean_disk_fraction_difference": float(np.abs(maps["mean_disk_fraction"][pick] - ref_frac).max()),
        "map_mean_sun_visible_fraction": float(maps["sun_visible_fraction"].mean()),
    }
    if with_earth:
        earth = body_position_me("EARTH", et)
        earth_visibility_map(cell_major[:1], lat[:1], lon[:1], dem.heights_m[:1], OBSERVER_HEIGHT_M, earth[:10])
        t0 = time.perf_counter()
        e_map = earth_visibility_map(cell_major, lat, lon, dem.heights_m, OBSERVER_HEIGHT_M, earth)
        out["earth_visibility_map_s"] = time.perf_counter() - t0
        out["map_mean_earth_visible_fraction"] = float(e_map["earth_visible_fraction"].mean())
    return out


def main() -> None:
    r = run()
    cells = r["rows"] * r["cols"]
    print(
        f"{r['rows']} x {r['cols']} cells, {r['n_azimuths']} azimuths, {r['n_steps']:,} hourly steps "
        f"({START} to {END}), numba threads: {r['numba_threads']}"
    )
    print(f"  horizon map load (or compute): {r['horizon_map_load_or_compute_s']:.1f} s")
    print(
        f"  to_cell_major: {r['to_cell_major_first_s']:.2f} s first call, "
        f"{r['to_cell_major_best_of_3_s']:.2f} s best of 3"
    )
    print(
        f"  sun_visibility_map: {r['sun_visibility_map_s']:.1f} s, "
        f"{r['sun_cell_steps_per_s'] / 1e9:.2f}e9 cell-steps/s ({cells * r['n_steps'] / 1e9:.1f}e9 in all; "
        "target <= 60 s)"
    )
    print(
        f"  baseline (exact atan2 azimuth, interpolation and disk fraction at every pair): "
        f"{r['baseline_sample_s']:.1f} s measured on {r['baseline_sample_rows']} evenly spread rows, "
        f"extrapolated to {r['baseline_extrapolated_s']:.0f} s for all rows"
    )
    print(f"  speed-up: {r['speedup']:.1f}x")
    print(
        f"  fast vs baseline on those rows: {r['sample_cells_with_count_difference']} cells differ in their "
        f"count of lit steps (max {r['sample_max_count_difference_steps']} steps); mean disk fraction max "
        f"difference {r['sample_max_mean_disk_fraction_difference']:.1e}"
    )
    if "earth_visibility_map_s" in r:
        print(f"  earth_visibility_map: {r['earth_visibility_map_s']:.1f} s")
    print(
        f"  map means: Sun visible {r['map_mean_sun_visible_fraction']:.3f}"
        + (f", Earth visible {r['map_mean_earth_visible_fraction']:.3f}" if "earth_visibility_map_s" in r else "")
    )


if __name__ == "__main__":
    main()
