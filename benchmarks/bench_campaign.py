"""Campaign Monte Carlo speed: 10,000 runs of the default roadmap on a LocalCluster.

Run: ``.venv/bin/python benchmarks/bench_campaign.py``. Target: at most 60 s with 2 workers. Wall times include
everything: starting and closing the LocalCluster (worker processes), shipping the plan and gathering the
arrays. The baseline is the same call with a 1-worker cluster; the in-process path (no cluster) is shown too.
"""

from __future__ import annotations

import time

RUNS = 10_000
SEED = 2026


def run() -> dict:
    from ilrs.campaign.montecarlo import simulate
    from ilrs.campaign.roadmap import default_roadmap

    missions = default_roadmap()
    out: dict = {"runs": RUNS}
    for label, kw in (("in_process_s", {"workers": 0}), ("one_worker_s", {"workers": 1}),
                      ("two_workers_s", {"workers": 2})):
        t = time.perf_counter()
        result = simulate(missions, RUNS, SEED, **kw)
        out[label] = time.perf_counter() - t
    out["scaling_1_to_2"] = out["one_worker_s"] / out["two_workers_s"]
    out["table"] = result.table()
    return out


def main() -> None:
    r = run()
    print(f"{r['runs']:,} runs, default roadmap (cluster start and shutdown included)")
    print(f"  in process (no cluster): {r['in_process_s']:6.2f} s")
    print(f"  LocalCluster, 1 worker : {r['one_worker_s']:6.2f} s  (baseline)")
    print(f"  LocalCluster, 2 workers: {r['two_workers_s']:6.2f} s  (target <= 60 s)")
    print(f"  speed-up 1 -> 2 workers: {r['scaling_1_to_2']:.2f}x")
    print(r["table"])


if __name__ == "__main__":
    main()
