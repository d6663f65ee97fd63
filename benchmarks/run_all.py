"""Run every benchmark and print its figures with the ratio to its named baseline (``make bench``)."""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path

BENCHMARKS = [
    "bench_ephem",
    "bench_horizon",
    "bench_visibility",
    "bench_engine",
    "bench_twin",
    "bench_transfer",
    "bench_campaign",
    "bench_plan",
    "bench_relay",
    "bench_trade",
    "bench_portal",
    "bench_tiled",
]


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    failed = 0
    for name in BENCHMARKS:
        print(f"\n=== {name} ===", flush=True)
        t = time.perf_counter()
        try:
            mod = importlib.import_module(name)
            mod.main([]) if "argv" in mod.main.__code__.co_varnames else mod.main()
        except Exception as exc:  # a benchmark that breaks must not hide the others
            failed += 1
            print(f"{name} failed: {exc!r}")
        print(f"({time.perf_counter() - t:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
