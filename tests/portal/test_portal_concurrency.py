"""Concurrency through a real Uvicorn server: 50 simultaneous allocation requests never oversubscribe a resource
and lose no write (PostgreSQL: row locks; SQLite: the database write lock)."""

from __future__ import annotations

import threading

import httpx
import pytest
from portal_helpers import NOW, LiveServer, api_client, build_world
from sqlalchemy import func, select

pytestmark = [pytest.mark.portal, pytest.mark.xdist_group("portal-live")]
N_REQUESTS, N_PROPOSALS, AMOUNT, OFFERED = 50, 10, 3.0, 50.0


def test_fifty_simultaneous_allocations(app, tmp_path):
    from ilrs.portal import actions
    from ilrs.portal.db.models import Allocation, AuditEvent, CallResource

    w = build_world(app, tmp_path)
    pids = []
    with w.db() as db:
        for k in range(N_PROPOSALS):
            p = actions.create_proposal(
                db,
                w.actor("pi_c"),
                w.ids["call"],
                {"title": f"rover campaign {k}", "resources": {"rover_hours": 15}},
                NOW,
            )
            actions.submit_proposal(db, w.actor("pi_c"), p.id, NOW)
            pids.append(p.id)
    token = api_client(app, "admin@example.org").headers["Authorization"]
    statuses: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(N_REQUESTS)

    with LiveServer(app) as server:

        def one(i: int) -> None:
            with httpx.Client(base_url=server.url, timeout=60) as c:
                start.wait()
                r = c.post(
                    f"/api/proposals/{pids[i % N_PROPOSALS]}/allocations",
                    json={"key": "rover_hours", "amount": AMOUNT},
                    headers={"Authorization": token},
                )
            with lock:
                statuses.append(r.status_code)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(N_REQUESTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)

    assert len(statuses) == N_REQUESTS
    assert set(statuses) <= {201, 409}, statuses  # no server error, no lost request
    granted = statuses.count(201)
    assert granted == int(OFFERED // AMOUNT)  # 16 x 3 h fit in 50 h: exactly as many as fit, no fewer
    with w.db() as db:
        res = db.scalar(
            select(CallResource).where(CallResource.call_id == w.ids["call"], CallResource.key == "rover_hours")
        )
        total = db.scalar(select(func.sum(Allocation.amount)).where(Allocation.resource_id == res.id))
        rows = db.scalar(select(func.count()).select_from(Allocation).where(Allocation.resource_id == res.id))
        audits = db.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "allocate", AuditEvent.detail.is_not(None))
        )
    assert res.allocated == pytest.approx(granted * AMOUNT) == pytest.approx(total)  # no lost write
    assert res.allocated <= res.quantity
    assert rows == granted
    assert audits == granted + 1  # the world's own allocation, then these
