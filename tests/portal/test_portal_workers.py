"""Several Uvicorn worker processes (``ilrs serve --workers 2``, as the benchmark runs the portal) share what must be
shared through the database, on PostgreSQL: 100 parallel wrong guesses spread over both processes get no more
password checks than the throttle allows, and a token revoked through one process is refused by both."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from portal_helpers import PASSWORD, ServerProcess, build_world, fire, make_app
from sqlalchemy import select

pytestmark = [pytest.mark.portal, pytest.mark.postgres, pytest.mark.xdist_group("portal-live")]
GUESSES = 100


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime [clock ticks]


def _workers(parent: int) -> list[int]:
    """The worker processes of a Uvicorn parent: its children started by multiprocessing's ``spawn_main`` (not its
    resource tracker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                child = entry.joinpath("stat").read_text().rsplit(")", 1)[1].split()[1] == str(parent)
                if child and b"spawn_main" in entry.joinpath("cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="counts worker processes through Linux /proc")
def test_throttle_and_revocation_hold_across_worker_processes(postgres_url, tmp_path):
    from ilrs.portal.db.models import AuditEvent
    from ilrs.portal.security import THROTTLE

    app = make_app(postgres_url, tmp_path)
    try:
        build_world(app, tmp_path)
        app.state.engine.dispose()
        with ServerProcess(app.state.settings, workers=2) as server:
            deadline = time.time() + 30
            while len(workers := _workers(server.proc.pid)) < 2 and time.time() < deadline:
                time.sleep(0.2)
            assert len(workers) == 2, workers
            # each worker leads a session of its own (its own CPU scheduling group under Linux's autogroup) once its
            # lifespan has run, which may be after the other worker answered; the supervisor keeps its caller's
            while not all(os.getsid(w) == w for w in workers) and time.time() < deadline + 30:
                time.sleep(0.2)
            assert all(os.getsid(w) == w for w in workers), workers
            assert os.getsid(server.proc.pid) == os.getsid(0)
            before = {w: _cpu_s(w) for w in workers}
            guess = [
                lambda c, k=k: c.post("/api/auth/token", json={"email": "pi_a@example.org", "password": f"guess {k}"})
                for k in range(GUESSES)
            ]
            codes = [r.status_code for r, _ in fire(server.url, guess)]
            # both processes answered some of the guesses (an idle worker uses next to no CPU)
            used = {w: _cpu_s(w) - before[w] for w in workers}
            print(f"CPU per worker during the guesses [s]: {used}")
            assert all(u > 0.02 for u in used.values()), used
            # the throttle's rows are locked in the database, not counted per process: the same five checks as one
            # process gets (the backoff that follows is 30 s, far longer than the burst)
            assert set(codes) == {422, 429} and codes.count(422) == THROTTLE["pair"].free, codes

            r = fire(
                server.url,
                [lambda c: c.post("/api/auth/token", json={"email": "pi_b@example.org", "password": PASSWORD})],
            )[0][0]
            assert r.status_code == 200, r.text
            bearer = {"Authorization": f"Bearer {r.json()['access_token']}"}
            assert {x.status_code for x, _ in fire(server.url, [lambda c: c.get("/api/me", headers=bearer)] * 40)} == {
                200
            }
            assert fire(server.url, [lambda c: c.delete("/api/auth/token", headers=bearer)])[0][0].status_code == 204
            assert {x.status_code for x, _ in fire(server.url, [lambda c: c.get("/api/me", headers=bearer)] * 40)} == {
                401
            }
        with app.state.read_sessionmaker() as db:
            failed = db.scalars(select(AuditEvent).where(AuditEvent.action == "login_failed")).all()
        assert len(failed) == THROTTLE["pair"].free
    finally:
        app.state.engine.dispose()
