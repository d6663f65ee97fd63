"""Trade-study throughput: designs per second through the station twin on 1 and 2 Dask workers.

Run: ``.venv/bin/python benchmarks/bench_trade.py [DESIGNS] [WORKERS]`` (default 400 designs, 1 then 2 workers;
``10000 2``: the whole grid on 2 workers, measured rather than extrapolated). The issue's target is 10,000 designs
of 10-year twins at 10-minute steps within 10 minutes on this machine with 2 workers, and at least 1.7x from 1
to 2 workers. The study here is the built-in scenario over 2026-2036 at 10 minutes (525,888 steps) with the
array area, battery, reactor size and reactor date each at 10 levels: a grid of exactly 10,000 designs sharing
one site environment. A seeded random sample of DESIGNS of them is run and the time for all 10,000 is
extrapolated linearly from the measured rate (said in the output).

Baseline, measured in the same run: the same designs one by one through the one-scenario path (each written as
a scenario file, loaded, validated and run by ``ilrs.services.twin.run_twin`` with its environment from the
on-disk cache, as ``ilrs twin`` does), on the first few designs and scaled.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from ilrs.scenario.load import BUILTIN_DIR

SPACE = """
name = "bench"
[base]
start = 2026-01-01
[[parameters]]
parameter = "array_area_m2"
elements = ["ilrs1-array"]
range = { start = 30.0, stop = 120.0, step = 10.0 }
[[parameters]]
parameter = "battery_kwh"
elements = ["ilrs1-battery"]
range = { start = 200.0, stop = 1100.0, step = 100.0 }
[[parameters]]
parameter = "fission_kw"
range = { start = 0.0, stop = 45.0, step = 5.0 }
[[parameters]]
parameter = "arrival_shift_days"
elements = ["fission-40"]
range = { start = 0.0, stop = 270.0, step = 30.0 }
[[objectives]]
metric = "landed_mass_kg"
sense = "min"
[[objectives]]
metric = "science_data_gbit"
sense = "max"
[[constraints]]
metric = "critical_load_lost_h"
max = 0.0
"""


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run(n_designs: int = 24, serial: int = 3, worker_counts: tuple[int, ...] = (1, 2)) -> dict:
    from ilrs.scenario.load import load_scenario
    from ilrs.services import twin as twin_service
    from ilrs.services.trade import Evaluator, load_study, runner
    from ilrs.trade.designs import apply_design
    from ilrs.trade.space import grid
    from ilrs.trade.toml_out import scenario_toml

    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmpd = Path(tmp)  # the environment products go to the usual cache: they are not what is measured
        space_path = tmpd / "space.toml"
        space_path.write_text(SPACE)
        base, space = load_study(BUILTIN_DIR / "ilrs-basic-2035.toml", space_path)
        # a seeded random sample of the 10,000-design grid, so that the memo's hits and misses (distinct
        # arrays, reactors and dates) are those of the whole study rather than of its first corner
        everything = [d.levels for d in grid(space)]
        pick = np.random.default_rng(0).choice(len(everything), size=min(n_designs, len(everything)), replace=False)
        designs = [everything[i] for i in sorted(pick)]
        out["space"] = len(everything)
        out["designs"] = len(designs)

        # the one-scenario path: files through load + validate + run_twin (environment from the disk cache)
        t = time.perf_counter()
        first = apply_design(base, space, designs[0])
        twin_service.run_twin(first)  # computes and caches the environment, compiles the engine
        out["environment_s"] = time.perf_counter() - t
        t = time.perf_counter()
        for i, levels in enumerate(designs[:serial]):
            p = tmpd / f"d{i}.toml"
            p.write_text(scenario_toml(apply_design(base, space, levels)))
            twin_service.run_twin(load_scenario(p))
        out["serial_s_per_design"] = (time.perf_counter() - t) / serial
        out["steps"] = int(twin_service.site_environment(first).et.size)

        for workers in worker_counts:
            t = time.perf_counter()
            with runner(workers, None, 1e9) as where:
                start_s = time.perf_counter() - t
                # warm the workers (numba's on-disk cache, imports) so that the rate is the steady state
                where.client.run(lambda: __import__("ilrs.station.twin"))
                ev = Evaluator(base, space, where)
                t = time.perf_counter()
                ev(designs)
                dt = time.perf_counter() - t
                rss = where.client.run(_peak_rss_mb)
            out[f"w{workers}_start_s"] = start_s
            out[f"w{workers}_s"] = dt
            out[f"w{workers}_rate"] = len(designs) / dt
            out[f"w{workers}_rss_mb"] = max(rss.values())
    return out


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    counts = (int(sys.argv[2]),) if len(sys.argv) > 2 else (1, 2)
    r = run(n, worker_counts=counts)
    print(
        f"trade: {r['designs']} designs sampled from a {r['space']:,}-design grid (array, battery, reactor size and "
        f"date) of {r['steps']:,}-step twins (2026-2036, 10 min), one shared environment"
    )
    print(f"  machine load average (1 min): {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"  environment (from the product cache when warm) and engine warm-up, once: {r['environment_s']:.1f} s")
    serial = r["serial_s_per_design"]
    print(f"  baseline, one-scenario path (file -> load -> run_twin), serial: {serial:.2f} s/design")
    for w in counts:
        print(
            f"  {w} worker(s): {r[f'w{w}_rate']:.2f} designs/s ({r[f'w{w}_s']:.1f} s; cluster start "
            f"{r[f'w{w}_start_s']:.1f} s), peak RSS per worker {r[f'w{w}_rss_mb']:.0f} MB, "
            f"x{r[f'w{w}_rate'] * serial:.2f} the serial one-scenario path"
        )
    if "w1_rate" in r and "w2_rate" in r:
        print(f"  scaling 1 -> 2 workers: x{r['w2_rate'] / r['w1_rate']:.2f} (target >= 1.7)")
    if "w2_rate" not in r:
        return
    if r["designs"] == r["space"]:
        t = r["w2_s"] + r["w2_start_s"] + r["environment_s"]
        print(f"  MEASURED: all {r['space']:,} designs on 2 workers in {t / 60:.1f} min (target <= 10 min)")
        return
    t10k = r["space"] / r["w2_rate"] + r["w2_start_s"] + r["environment_s"]
    print(
        f"  EXTRAPOLATED (linear from {r['designs']} sampled designs, not measured): the {r['space']:,} on 2 "
        f"workers ~{t10k / 60:.1f} min (target <= 10 min)"
    )


if __name__ == "__main__":
    main()
    sys.exit(0)
