"""Launch-window scan: a month of hourly departures x 13 times of flight (3-6 days), 9,360 Lambert solves.

Fast path: ``launch_windows`` (the Moon's states fetched once per distinct arrival epoch, Lambert per cell);
target <= 10 s. Baseline: ``direct_transfer`` called per cell (one SPICE look-up per cell), measured on the
first ``BASELINE_CELLS`` cells and extrapolated linearly (every cell does the same work).

Targeted transfer: ``targeted_transfer`` (differential correction in the ephemeris model, target <= 2 s) timed
against the patched-conic design of the same departure (``direct_transfer``) in the same run; the numba kernels
are compiled (or loaded from their cache) by a warm-up call first.

Launch windows from a site: ``scan_windows`` over a month of hourly lift-offs from Wenchang (site geometry,
patched-conic screen, then every feasible departure targeted in the ephemeris model; target <= 30 s), printed
as a ratio to the patched-conic scan (``launch_windows``) measured above in the same run.

Run: ``.venv/bin/python benchmarks/bench_transfer.py``.
"""

from __future__ import annotations

import time

import numpy as np
import spiceypy

from ilrs.ephem.kernels import SPICE_LOCK, ensure_loaded
from ilrs.transport.targeting import targeted_transfer
from ilrs.transport.transfer import direct_transfer, launch_windows
from ilrs.transport.windows import month_span, scan_windows

START_UTC = "2026-03-01 00:00:00 TDB"
DAYS = 30
STEP_S = 3600.0
TOF_DAYS = (3.0, 6.0)
N_TOF = 13
BASELINE_CELLS = 1000


def run() -> dict:
    """Time the scan and the per-cell baseline; return the timings and the best transfer."""
    ensure_loaded()
    with SPICE_LOCK:
        start = spiceypy.str2et(START_UTC)
    t0 = time.perf_counter()
    scan = launch_windows(start, days=DAYS, step_s=STEP_S, tof_days=TOF_DAYS, n_tof=N_TOF)
    scan_s = time.perf_counter() - t0
    cells = scan["total_dv_m_s"].size

    tofs = scan["tof_s"]
    t0 = time.perf_counter()
    for k in range(BASELINE_CELLS):
        i, j = divmod(k, N_TOF)
        direct_transfer(scan["depart_et"][i], tofs[j])
    baseline_s = (time.perf_counter() - t0) * cells / BASELINE_CELLS
    return {
        "cells": cells,
        "scan_s": scan_s,
        "baseline_s": baseline_s,
        "best": scan["best"],
        "total_dv_m_s": scan["total_dv_m_s"],
    }


TARGETED_CASES = [("2030-06-20 09:00 UTC", 4.75), ("2026-03-01 00:00 UTC", 4.0), ("2027-01-10 00:00 UTC", 3.5)]


def run_targeted() -> list[dict]:
    """Time one targeted transfer per case and the patched-conic design of the same departure."""
    ensure_loaded()
    with SPICE_LOCK:
        ets = [spiceypy.str2et(u) for u, _ in TARGETED_CASES]
    targeted_transfer(ets[0], TARGETED_CASES[0][1] * 86400.0)  # warm-up: numba cache / compile
    rows = []
    for et, (utc, tof_d) in zip(ets, TARGETED_CASES, strict=True):
        t0 = time.perf_counter()
        t = targeted_transfer(et, tof_d * 86400.0)
        targeted_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        for _ in range(20):
            direct_transfer(et, tof_d * 86400.0)
        conic_s = (time.perf_counter() - t0) / 20
        rows.append({"depart": utc, "tof_d": tof_d, "targeted_s": targeted_s, "conic_s": conic_s, "t": t})
    return rows


def main() -> None:
    for row in run_targeted():
        t = row["t"]
        res = t.residuals
        print(
            f"targeted transfer {row['depart']}, {row['tof_d']} d: {row['targeted_s']:.3f} s (target <= 2 s), "
            f"patched-conic design {row['conic_s'] * 1e3:.2f} ms, ratio {row['targeted_s'] / row['conic_s']:.0f}x; "
            f"residuals r_p {res['periapsis_radius_error_m']:.3f} m, i {res['inclination_error_deg']:.1e} deg, "
            f"t_p {res['periapsis_epoch_error_s']:.4f} s, {res['iterations']} Newton iterations; "
            f"TLI {t.tli_dv_m_s:.1f} m/s, LOI {t.loi_dv_m_s:.1f} m/s"
        )
    r = run()
    best = r["best"]
    print(
        f"launch-window scan: {r['cells']} cells in {r['scan_s']:.2f} s ({r['cells'] / r['scan_s']:,.0f} cells/s; "
        f"target <= 10 s)"
    )
    print(
        f"baseline direct_transfer per cell (extrapolated from {BASELINE_CELLS}): {r['baseline_s']:.2f} s; "
        f"speed-up {r['baseline_s'] / r['scan_s']:.2f}x"
    )
    with SPICE_LOCK:
        when = spiceypy.et2utc(best.depart_et, "ISOC", 0)
    print(
        f"best: depart {when} UTC, tof {best.tof_s / 86400:.2f} d, TLI {best.tli_dv_m_s:.1f} m/s, "
        f"LOI {best.loi_dv_m_s:.1f} m/s, total {best.total_dv_m_s:.1f} m/s "
        f"(grid range {np.min(r['total_dv_m_s']):.1f}-{np.max(r['total_dv_m_s']):.1f})"
    )
    w = run_site_windows()
    s = w["s"]
    n_t = sum(d.targeted for d in s.departures)
    print(
        f"site windows (Wenchang, 2030-06, hourly): {s.launch_et.size} lift-offs, {len(s.departures)} feasible, "
        f"{n_t} targeted in the ephemeris model: {w['total_s']:.2f} s (screen {s.screen_s:.2f} s, targeting "
        f"{s.target_s:.2f} s; target <= 30 s); ratio to the patched-conic scan {w['total_s'] / r['scan_s']:.2f}x"
    )


def run_site_windows(site: str = "wenchang", month: str = "2030-06") -> dict:
    """Time a month of hourly lift-offs from ``site``, screened and targeted."""
    start, end = month_span(month)
    scan_windows(site, start, start + 86400.0)  # warm-up: numba cache / compile
    t0 = time.perf_counter()
    s = scan_windows(site, start, end)
    return {"s": s, "total_s": time.perf_counter() - t0}


if __name__ == "__main__":
    main()
