"""Processes sharing the disk cache compute an entry once: the second waits for the first one's file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import numpy as np

from ilrs.iotools.cache import DiskCache

_SCRIPT = """
import json, os, sys, time
import numpy as np
from ilrs.iotools.cache import DiskCache

root, log = sys.argv[1], sys.argv[2]
cache = DiskCache(root)

def compute():
    with open(log, "a") as f:
        f.write(f"{os.getpid()}\\n")
    time.sleep(1.5)  # long enough that the other process asks while this one computes
    return {"a": np.arange(5.0) * 7}

print(json.dumps(cache.get_or_compute("kind", cache.key(k="shared"), compute)["a"].tolist()))
"""


def test_two_processes_compute_a_shared_entry_once(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    log = tmp_path / "computed.txt"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _SCRIPT, str(tmp_path / "cache"), str(log)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [e for _, e in outs]
    assert [json.loads(o.strip().splitlines()[-1]) for o, _ in outs] == [[0.0, 7.0, 14.0, 21.0, 28.0]] * 2
    assert len(log.read_text().split()) == 1  # one computation; the other process read its file


def test_threads_compute_a_shared_entry_once(tmp_path):
    cache = DiskCache(tmp_path)
    started = threading.Barrier(4)
    calls = []
    results = []

    def compute():
        calls.append(1)
        time.sleep(0.3)  # long enough that the other threads ask meanwhile
        return {"a": np.ones(3)}

    def ask():
        started.wait()
        results.append(cache.get_or_compute("kind", cache.key(k="t"), compute)["a"].sum())

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [3.0] * 4 and len(calls) == 1
    assert cache.misses == 1 and cache.hits == 3


def test_disabled_cache_computes_every_time_and_writes_nothing(tmp_path):
    cache = DiskCache(tmp_path / "c", enabled=False)
    for _ in range(2):
        cache.get_or_compute("kind", cache.key(k="x"), lambda: {"a": np.zeros(2)})
    assert cache.misses == 2 and not (tmp_path / "c").exists()
