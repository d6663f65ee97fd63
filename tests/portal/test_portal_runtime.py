"""How the portal's server process runs: its startup heap is left out of garbage collections (the read benchmark's
stalls, docs/portal.md)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.portal]

# a fresh interpreter: the app is built, then started as Uvicorn starts it (the lifespan), twice
_PROBE = """
import gc, json, sys
from pathlib import Path
from fastapi.testclient import TestClient
from ilrs.portal.main import create_app
from ilrs.portal.settings import PortalSettings

def app(k):
    return create_app(PortalSettings(database_url=f"sqlite:///{sys.argv[1]}/p{k}.db", secret_key="t" * 48,
                                     upload_dir=Path(sys.argv[1]) / f"uploads{k}"))

first = app(1)
gc.collect()
built = len(gc.get_objects())  # every object the collector tracks (not counting a permanent generation)
with TestClient(first) as c:
    assert c.get("/static/portal.css").status_code == 200
    frozen, left = gc.get_freeze_count(), len(gc.get_objects())
second = app(2)
with TestClient(second) as c:
    assert c.get("/static/portal.css").status_code == 200
    frozen_again = gc.get_freeze_count()
print(json.dumps({"built": built, "frozen": frozen, "left": left, "frozen_again": frozen_again}))
"""


def test_startup_heap_is_frozen_once_per_process(tmp_path):
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, str(tmp_path)], capture_output=True, text=True, timeout=300, check=True
    )
    n = json.loads(out.stdout.strip().splitlines()[-1])
    print(n)
    # the imports and the app are most of what the collector tracked before startup (about 160,000 objects);
    # after it, a full collection traverses what the test client and the first request made (about 15,000 here),
    # not the startup heap: without the freeze it would traverse all of ``built`` and more
    assert n["built"] > 50_000, n
    assert n["frozen"] >= 0.9 * n["built"], n
    assert n["left"] < 0.25 * n["built"], n
    # a second app in the same process freezes nothing more (the count only falls, as frozen objects are freed):
    # the first app's garbage is still collected
    assert n["frozen_again"] <= n["frozen"], n


def test_a_single_process_server_keeps_its_session():
    """Only the workers of a multi-process server take a session of their own: a single-process server (``ilrs
    serve`` with one worker) keeps its terminal's, so that Ctrl-C still reaches it."""
    probe = (
        "import os; from ilrs.portal.main import own_scheduling_group; "
        "s = os.getsid(0); print(own_scheduling_group(), os.getsid(0) == s)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.split() == ["False", "True"]
