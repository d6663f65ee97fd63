"""Station twin speed: ten years at 10-minute steps (525,960 steps) with 30 elements, environment cached.

Run: ``.venv/bin/python benchmarks/bench_twin.py``. Target: at most 1 s with the environment cached (the
decision-grade station issue; 5 s before it). The baseline is a straightforward per-step Python loop of the same
model (``run_engine(method="python")``) plus the same element series, measured on the first 50,000 steps and
scaled linearly (said in the output).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from ilrs.config import override_settings
from ilrs.scenario.load import BUILTIN_DIR

EXTRA = """
[[elements]]
kind = "load"
name = "extra-load-{i}"
arrival = {year}-03-01
power_kw = {p:.2f}
priority = {prio}
source = "benchmark filler"
"""


def scenario_file(tmp: Path) -> Path:
    """The default scenario over 2026-2036 at 10 min, padded with loads to 30 elements."""
    text = (BUILTIN_DIR / "ilrs-basic-2035.toml").read_text()
    text = text.replace("start = 2028-01-01", "start = 2026-01-01")
    n = text.count("[[elements]]")
    for i in range(30 - n):
        text += EXTRA.format(i=i, year=2029 + i % 7, p=0.1 + 0.05 * i, prio=1 + i % 5)
    path = tmp / "bench-30.toml"
    path.write_text(text)
    return path


def run() -> dict:
    from ilrs.ephem import directions
    from ilrs.ephem import ground_stations as stations
    from ilrs.services.scenarios import validated_scenario
    from ilrs.services.twin import site_environment
    from ilrs.station.engine import run_engine
    from ilrs.station.twin import build_inputs, kpis

    def build_series(s):
        return build_inputs(s, site_environment(s))

    with tempfile.TemporaryDirectory() as tmp:
        override_settings(cache_dir=Path(tmp) / "cache")
        from ilrs.services import cache

        cache.product_cache.cache_clear()
        s = validated_scenario(scenario_file(Path(tmp)))
        t = time.perf_counter()
        series = build_series(s)  # first run: computes and caches the environment products
        t_first = time.perf_counter() - t
        run_engine(series)  # numba warm-up
        directions.clear_node_cache()
        stations.clear_node_cache()
        t = time.perf_counter()
        series = build_series(s)
        inputs = series
        result = run_engine(inputs)
        k = kpis(series, result)
        t_fast = time.perf_counter() - t
        t_engine = time.perf_counter()
        run_engine(inputs)
        t_engine = time.perf_counter() - t_engine
        from dataclasses import replace

        m = 50_000
        sub = replace(
            inputs,
            generation_w=inputs.generation_w[:m],
            load_w=inputs.load_w[:, :m],
            data_rate_bps=inputs.data_rate_bps[:, :m],
            battery_capacity_wh=inputs.battery_capacity_wh[:m],
            battery_added_wh=inputs.battery_added_wh[:m],
            max_charge_w=inputs.max_charge_w[:m],
            max_discharge_w=inputs.max_discharge_w[:m],
            downlink_bps=inputs.downlink_bps[:m],
            storage_bits=inputs.storage_bits[:m],
        )
        t = time.perf_counter()
        run_engine(sub, method="python")
        t_python = (time.perf_counter() - t) * inputs.generation_w.size / m
        override_settings()
    baseline = t_python + (t_fast - t_engine)  # the same element series, then the per-step loop
    return {
        "steps": int(series.et.size),
        "elements": len(s.elements),
        "first_run_s": t_first,
        "cached_run_s": t_fast,
        "engine_s": t_engine,
        "python_loop_s": t_python,
        "baseline_s": baseline,
        "ratio": baseline / t_fast,
        "loss_of_load_h": k.loss_of_load_hours,
    }


def main() -> None:
    r = run()
    print(f"twin: {r['steps']:,} steps (10 years, 10 min) x {r['elements']} elements")
    print(f"  first run (computes and caches the environment): {r['first_run_s']:.1f} s")
    print(f"  environment cached: {r['cached_run_s']:.2f} s (target <= 1 s); engine alone {r['engine_s']:.3f} s")
    print(f"  machine load average (1 min): {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(
        f"  per-step Python loop of the same model: {r['python_loop_s']:.1f} s (measured on 50,000 steps, "
        f"scaled) -> with the same element series {r['baseline_s']:.1f} s; ratio {r['ratio']:.1f}x"
    )


if __name__ == "__main__":
    main()
    sys.exit(0)
