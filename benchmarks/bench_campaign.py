"""Campaign Monte Carlo speed: 10,000 runs of the default roadmap on a LocalCluster.

Run: ``.venv/bin/python benchmarks/bench_campaign.py``. Target: at most 60 s with 2 workers. Wall times include
everything: starting and closing the LocalCluster (worker processes), shipping the plan and gathering the
arrays. The baseline is the same call with a 1-worker cluster; the in-process path (no cluster) is shown too.
The failure model (every mission 5 % dead on arrival, 6-year MTBF) is timed on the 2-worker cluster against the
default roadmap, and the build-up timeline (12 dates x 14 items from the 10,000 runs) after it.
"""

from __future__ import annotations

import time

RUNS = 10_000
SEED = 2026


def run() -> dict:
    import dataclasses
    from datetime import date

    from ilrs.campaign.buildup import buildup_items, buildup_timeline, yearly_dates
    from ilrs.campaign.montecarlo import simulate
    from ilrs.campaign.roadmap import default_roadmap

    missions = default_roadmap()
    out: dict = {"runs": RUNS}
    for label, kw in (
        ("in_process_s", {"workers": 0}),
        ("one_worker_s", {"workers": 1}),
        ("two_workers_s", {"workers": 2}),
    ):
        t = time.perf_counter()
        result = simulate(missions, RUNS, SEED, **kw)
        out[label] = time.perf_counter() - t
    out["scaling_1_to_2"] = out["one_worker_s"] / out["two_workers_s"]
    out["table"] = result.table()
    failing = tuple(dataclasses.replace(m, p_failure_on_arrival=0.05, mtbf_years=6.0) for m in missions)
    t = time.perf_counter()
    simulate(failing, RUNS, SEED, workers=0)
    out["failures_in_process_s"] = time.perf_counter() - t
    t = time.perf_counter()
    failed = simulate(failing, RUNS, SEED, workers=2)
    out["failures_two_workers_s"] = time.perf_counter() - t
    out["failures_table"] = failed.table()
    t = time.perf_counter()
    rows = buildup_timeline(buildup_items(failing), failed, yearly_dates(date(2024, 1, 1), date(2035, 12, 31)))
    out["buildup_s"] = time.perf_counter() - t
    out["buildup_rows"] = len(rows)
    return out


def main() -> None:
    r = run()
    print(f"{r['runs']:,} runs, default roadmap (cluster start and shutdown included)")
    print(f"  in process (no cluster): {r['in_process_s']:6.2f} s")
    print(f"  LocalCluster, 1 worker : {r['one_worker_s']:6.2f} s  (baseline)")
    print(f"  LocalCluster, 2 workers: {r['two_workers_s']:6.2f} s  (target <= 60 s)")
    print(f"  speed-up 1 -> 2 workers: {r['scaling_1_to_2']:.2f}x")
    print(r["table"])
    print(
        f"  with failures (5 % dead on arrival, MTBF 6 yr): in process {r['failures_in_process_s']:6.2f} s "
        f"({r['failures_in_process_s'] / r['in_process_s']:.2f}x the default roadmap), "
        f"2 workers {r['failures_two_workers_s']:6.2f} s"
    )
    print(r["failures_table"])
    print(f"  build-up timeline, {r['buildup_rows']} dates: {r['buildup_s']:.2f} s")


if __name__ == "__main__":
    main()
