"""Sun and Earth directions over one lunar nodal cycle, hourly, at a south-polar site.

Fast path: ``ilrs.ephem.directions`` with ``method="interp"`` (SPICE at 6-hourly nodes, Hermite
interpolation), timed from an empty node cache, so the SPICE work is included. Baseline: one
``spiceypy.spkcpo`` call per step and body, measured on an evenly spread subset and extrapolated linearly
to the full series (the per-call cost does not depend on the epoch). The baseline's vectors on the subset
are also the reference for the error.

Run: ``.venv/bin/python benchmarks/bench_ephem.py``.
"""

from __future__ import annotations

import time

import numpy as np
import spiceypy

from ilrs.constants import MOON_ME_FRAME, MOON_RADIUS_M
from ilrs.ephem import directions
from ilrs.ephem.kernels import ensure_loaded
from ilrs.ephem.time import utc_grid

SITE = (-89.45, 222.69, 10.0)  # lat [deg], lon [deg], height [m]
START, END, STEP_S = "2025-01-01", "2043-08-13", 3600  # 18.6 years
BASELINE_STEPS = 5_000
BODIES = ("SUN", "EARTH")


def _spkcpo_series(body: str, et: np.ndarray) -> np.ndarray:
    lat, lon, height = SITE
    obs_km = spiceypy.latrec((MOON_RADIUS_M + height) / 1000.0, np.radians(lon), np.radians(lat))
    out = np.empty((et.size, 3))
    for i, t in enumerate(et):
        state, _ = spiceypy.spkcpo(body, t, MOON_ME_FRAME, "OBSERVER", "LT+S", obs_km, "MOON", MOON_ME_FRAME)
        out[i] = state[:3]
    return out * 1000.0


def run() -> dict:
    """Time the fast path and the per-step SPICE baseline; return the figures (times [s], errors [arcsec])."""
    ensure_loaded()
    directions.clear_node_cache()
    t0 = time.perf_counter()
    et, _ = utc_grid(START, END, STEP_S)
    t1 = time.perf_counter()
    fast = {body: directions.topocentric_vectors(body, et, *SITE, method="interp") for body in BODIES}
    t2 = time.perf_counter()
    for body in BODIES:  # again, nodes cached: the interpolation and corrections alone
        directions.topocentric_vectors(body, et, *SITE, method="interp")
    t3 = time.perf_counter()

    pick = np.linspace(0, et.size - 1, BASELINE_STEPS).astype(int)
    t4 = time.perf_counter()
    reference = {body: _spkcpo_series(body, et[pick]) for body in BODIES}
    baseline_sample_s = time.perf_counter() - t4
    baseline_s = baseline_sample_s * et.size / pick.size

    errors = {}
    for body in BODIES:
        a, b = fast[body][pick], reference[body]
        angle = np.arctan2(np.linalg.norm(np.cross(a, b), axis=1), np.sum(a * b, axis=1))
        errors[body] = float(np.degrees(angle.max()) * 3600.0)
    fast_s = t2 - t0
    return {
        "n_steps": int(et.size),
        "time_grid_s": t1 - t0,
        "fast_s": fast_s,
        "fast_warm_cache_s": t3 - t2,
        "baseline_sample_steps": int(pick.size),
        "baseline_sample_s": baseline_sample_s,
        "baseline_extrapolated_s": baseline_s,
        "speedup": baseline_s / fast_s,
        "max_error_sun_arcsec": errors["SUN"],
        "max_error_earth_arcsec": errors["EARTH"],
        "node_spacing_h": directions.NODE_SPACING_S / 3600.0,
    }


def main() -> None:
    r = run()
    print(f"Sun + Earth, hourly over 18.6 years at {SITE}: {r['n_steps']:,} steps")
    print(
        f"  fast path (empty node cache, UTC grid included): {r['fast_s']:.2f} s "
        f"(grid {r['time_grid_s']:.3f} s; with warm node cache {r['fast_warm_cache_s']:.2f} s)"
    )
    print(
        f"  per-step spkcpo baseline: {r['baseline_sample_s']:.2f} s measured on "
        f"{r['baseline_sample_steps']:,} steps, extrapolated to {r['baseline_extrapolated_s']:.1f} s "
        "for all steps"
    )
    print(f"  speed-up: {r['speedup']:.1f}x (target: fast <= 3 s)")
    print(
        f"  max direction error vs spkcpo on the {r['baseline_sample_steps']:,} steps: "
        f"Sun {r['max_error_sun_arcsec']:.1e} arcsec, Earth {r['max_error_earth_arcsec']:.1e} arcsec "
        f"(nodes every {r['node_spacing_h']:g} h)"
    )


if __name__ == "__main__":
    main()
