"""Station time-step engine: ten years at 10-minute steps (525,960 steps) for a 30-element station.

Fast path: ``run_engine(method="numba")``, timed after a warm-up call (compilation excluded; target <= 5 s).
Baseline: ``run_engine(method="python")``, the plain per-step Python loop of the same model, measured on the
first ``BASELINE_STEPS`` steps and extrapolated linearly to the full run (each step does the same, constant
amount of work). Both include input validation.

Inputs mimic a scenario: 30 elements with random arrival dates (solar arrays, a fission plant, RTGs,
batteries, and loads in the five priority classes with their data rates, some duty-cycled), on a south-polar
solar profile (sun circling near the horizon over the 29.53-day synodic month, with random terrain shadows).

Run: ``.venv/bin/python benchmarks/bench_engine.py``.
"""

from __future__ import annotations

import time

import numpy as np

from ilrs.station.engine import EngineInputs, run_engine

STEP_S = 600.0
N_STEPS = 525_960  # 10 years of 365.25 days at 10 minutes
BASELINE_STEPS = 50_000
N_ELEMENTS = 30
SYNODIC_H = 29.530589 * 24.0  # Meeus, "Astronomical Algorithms", 2nd ed., ch. 49
SEED = 7


def station_inputs(n: int = N_STEPS, seed: int = SEED) -> EngineInputs:
    """Engine inputs assembled from ``N_ELEMENTS`` random arrival-dated elements."""
    rng = np.random.default_rng(seed)
    t_h = np.arange(n) * STEP_S / 3600.0
    # Polar site: the sun's elevation swings by a degree or two over the month; sunlit when above the local
    # horizon, with random shadow episodes of a few hours to a few days.
    sunlit = np.sin(2 * np.pi * t_h / SYNODIC_H) > -0.7
    for start in rng.choice(n, size=400, replace=False):
        sunlit[start : start + int(rng.uniform(20, 500))] = False
    solar_per_w = sunlit * (0.85 + 0.15 * np.cos(2 * np.pi * t_h / 24.0))  # panel incidence over the day

    generation = np.zeros(n)
    load = np.zeros((5, n))
    rate = np.zeros((5, n))
    capacity = np.zeros(n)
    added = np.zeros(n)
    kinds = ["solar"] * 5 + ["fission"] + ["rtg"] * 2 + ["battery"] * 5 + ["load"] * (N_ELEMENTS - 13)
    arrivals = np.sort(rng.integers(0, n * 9 // 10, size=N_ELEMENTS))
    arrivals[:4] = 0  # a first lander with solar, battery and loads
    rng.shuffle(kinds[1:])
    kinds[:4] = ["solar", "battery", "load", "load"]
    for kind, step in zip(kinds, arrivals, strict=True):
        on = np.arange(n) >= step
        if kind == "solar":
            generation += rng.uniform(2e3, 20e3) * solar_per_w * on
        elif kind == "fission":
            generation += 40e3 * on
        elif kind == "rtg":
            generation += rng.uniform(100.0, 300.0) * on
        elif kind == "battery":
            size_wh = rng.uniform(10e3, 100e3)
            capacity += size_wh * on
            added[step] += size_wh * rng.uniform(0.1, 0.6)
        else:
            p = rng.integers(0, 5)
            duty = np.sin(2 * np.pi * t_h / rng.uniform(6.0, 200.0) + rng.uniform(0, 6.3)) > rng.uniform(-1.0, 0.5)
            load[p] += rng.uniform(200.0, 5e3) * on * duty
            rate[p] += rng.uniform(0.0, 2e6) * on
    downlink = 20e6 * (np.sin(2 * np.pi * t_h / 24.0) > -0.3)  # DTE passes
    storage = np.full(n, 8e12)
    return EngineInputs(
        step_s=STEP_S,
        generation_w=generation,
        load_w=load,
        data_rate_bps=rate,
        battery_capacity_wh=capacity,
        battery_added_wh=added,
        min_soc=0.2,
        charge_efficiency=0.95,
        discharge_efficiency=0.95,
        max_charge_w=0.5 * capacity,
        max_discharge_w=capacity,
        downlink_bps=downlink,
        storage_bits=storage,
        initial_energy_wh=0.0,
    )


def _head(inputs: EngineInputs, n: int) -> EngineInputs:
    fields = {k: (v[..., :n] if isinstance(v, np.ndarray) else v) for k, v in vars(inputs).items()}
    return EngineInputs(**fields)


def run() -> dict:
    """Time both methods; return times [s], ratio, and a few totals of the run as a sanity check."""
    inputs = station_inputs()
    run_engine(_head(inputs, 100))  # warm-up: compile or load the cached kernel
    t0 = time.perf_counter()
    result = run_engine(inputs, method="numba")
    numba_s = time.perf_counter() - t0

    head = _head(inputs, BASELINE_STEPS)
    t1 = time.perf_counter()
    reference = run_engine(head, method="python")
    baseline_sample_s = time.perf_counter() - t1
    python_s = baseline_sample_s * N_STEPS / BASELINE_STEPS
    agree = float(np.max(np.abs(reference.stored_wh - result.stored_wh[: BASELINE_STEPS + 1])))

    dt = STEP_S / 3600.0
    return {
        "steps": N_STEPS,
        "numba_s": numba_s,
        "python_sample_steps": BASELINE_STEPS,
        "python_sample_s": baseline_sample_s,
        "python_extrapolated_s": python_s,
        "speedup": python_s / numba_s,
        "max_stored_diff_wh": agree,
        "served_mwh": float(result.served_w.sum() * dt / 1e6),
        "shed_mwh": float(result.shed_w.sum() * dt / 1e6),
        "curtailed_mwh": float(result.curtailed_w.sum() * dt / 1e6),
        "data_lost_tbit": float(result.data_lost_bits.sum() / 1e12),
    }


def main() -> None:
    r = run()
    print(f"Engine, {r['steps']:,} steps (10 years at 10 min), 30 elements")
    print(f"  numba (after warm-up):        {r['numba_s']:8.3f} s   (target <= 5 s)")
    print(
        f"  python per-step loop:         {r['python_extrapolated_s']:8.3f} s   "
        f"(measured {r['python_sample_s']:.3f} s on the first {r['python_sample_steps']:,} steps, extrapolated)"
    )
    print(f"  ratio python / numba:         {r['speedup']:8.0f} x")
    print(f"  max |stored| difference on the sample: {r['max_stored_diff_wh']:.2e} Wh")
    print(
        f"  served {r['served_mwh']:.1f} MWh, shed {r['shed_mwh']:.1f} MWh, curtailed {r['curtailed_mwh']:.1f} MWh, "
        f"data lost {r['data_lost_tbit']:.2f} Tbit"
    )


if __name__ == "__main__":
    main()
