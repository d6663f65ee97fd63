"""Relay orbit in the perturbed field: a year of the frozen design (Earth, Sun, lunar J2/C22; DOP853 in numba),
target <= 2 s, against the baseline of the twin's two-body propagation (``KeplerOrbit.state_epoch_frame``, Kepler's
equation vectorised) at the same recorded epochs, measured in the same run. The design itself (node scan and
Nelder-Mead on 180-day flights) is timed separately.

Run: ``.venv/bin/python benchmarks/bench_relay.py``.
"""

from __future__ import annotations

import time

from ilrs.ephem.time import to_et
from ilrs.transport.orbits import relay_orbit
from ilrs.transport.relay import design_frozen_relay, propagate_relay


def main() -> None:
    epoch = float(to_et("2030-06-01T00:00")[0])
    t0 = time.perf_counter()
    d = design_frozen_relay(epoch)
    design_s = time.perf_counter() - t0
    propagate_relay(d.state0, epoch, 5.0)  # warm-up: numba cache
    t0 = time.perf_counter()
    f = propagate_relay(d.state0, epoch, 365.0)
    year_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    relay_orbit(epoch).state_epoch_frame(f.et)
    kepler_s = time.perf_counter() - t0
    print(f"frozen relay design: {design_s:.1f} s (i {d.inc_em_deg:.3f} deg, node {d.raan_em_deg:.2f} deg)")
    print(
        f"a year in the perturbed field: {year_s:.2f} s for {f.et.size} recorded states (target <= 2 s); "
        f"two-body baseline at the same epochs {kepler_s * 1e3:.1f} ms; ratio {year_s / kepler_s:.0f}x; "
        f"perilune {f.perilune_alt_km.min():.1f}-{f.perilune_alt_km.max():.1f} km"
    )


if __name__ == "__main__":
    main()
