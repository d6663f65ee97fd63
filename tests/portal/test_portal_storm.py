"""A storm through a real Uvicorn server on PostgreSQL: 200 concurrent mixed writes (allocations, rejections,
edits, submissions, registrations, uploads) and, meanwhile, reads of an unrelated user. No server error, no lost
update (the final state equals a serial replay of the accepted operations in the order the database serialised
them). Prints its throughput and latencies, with the p95 of the unrelated reads (target: < 200 ms)."""

from __future__ import annotations

import threading
import time
from collections import defaultdict

import numpy as np
import pytest
from portal_helpers import NOW, ServerProcess, build_world, fire, token_of
from sqlalchemy import func, select

pytestmark = [pytest.mark.portal, pytest.mark.postgres, pytest.mark.xdist_group("portal-live")]
N_ALLOC, N_REJECT, N_EDIT, N_SUBMIT, N_REG, N_UPLOAD = 60, 20, 50, 20, 30, 20  # 200 writes
N_TARGETS = 10


def test_storm(postgres_url, tmp_path):
    from portal_helpers import make_app

    from ilrs.portal import actions
    from ilrs.portal.db.models import Allocation, AuditEvent, CallResource, DataProduct, Invitation, Proposal, User

    app = make_app(postgres_url, tmp_path)
    try:
        w = build_world(app, tmp_path)
        submitted, drafts, tokens = [], [], []
        with w.db() as db:
            for k in range(N_TARGETS):
                p = actions.create_proposal(
                    db, w.actor("pi_c"), w.ids["call"], {"title": f"s{k}", "resources": {"rover_hours": 4}}, NOW
                )
                actions.submit_proposal(db, w.actor("pi_c"), p.id, NOW)
                submitted.append(p.id)
                d = actions.create_proposal(
                    db, w.actor("pi_c"), w.ids["call"], {"title": f"d{k}", "resources": {"rover_hours": 1}}, NOW
                )
                drafts.append(d.id)
                tok, _ = actions.invite(db, w.actor("admin"), f"storm{k}@example.org", "member", w.orgs["C"].id)
                tokens.append(tok)
        admin = {"Authorization": token_of(app, "admin@example.org")}
        pi_c = {"Authorization": token_of(app, "pi_c@example.org")}
        pi_a = {"Authorization": token_of(app, "pi_a@example.org")}
        reader = {"Authorization": token_of(app, "member_a@example.org")}
        upload_url = f"/api/proposals/{w.ids['submitted']}/data"

        ops: list[tuple[str, int, object]] = []  # (kind, target, payload)
        ops += [("allocate", submitted[k % N_TARGETS], 1.0) for k in range(N_ALLOC)]
        ops += [("reject", submitted[k % N_TARGETS], None) for k in range(N_REJECT)]
        ops += [("edit", drafts[k % N_TARGETS], k) for k in range(N_EDIT)]
        ops += [("submit", drafts[k % N_TARGETS], None) for k in range(N_SUBMIT)]
        ops += [("register", k % N_TARGETS, k) for k in range(N_REG)]
        ops += [("upload", w.ids["submitted"], k) for k in range(N_UPLOAD)]
        rng = np.random.default_rng(16)
        ops = [ops[i] for i in rng.permutation(len(ops))]

        def call(kind, target, payload):
            def go(c):
                if kind == "allocate":
                    return c.post(
                        f"/api/proposals/{target}/allocations",
                        json={"key": "rover_hours", "amount": payload},
                        headers=admin,
                    )
                if kind == "reject":
                    return c.post(f"/api/proposals/{target}/reject", headers=admin)
                if kind == "edit":
                    body = {"title": f"edit {payload}", "resources": {"rover_hours": 1 + payload % 3}}
                    return c.put(f"/api/proposals/{target}", json=body, headers=pi_c)
                if kind == "submit":
                    return c.post(f"/api/proposals/{target}/submit", headers=pi_c)
                if kind == "register":
                    body = {"token": tokens[target], "display_name": f"p{payload}", "password": "storm password 1"}
                    return c.post("/api/register", json=body)
                return c.post(
                    upload_url,
                    files={"file": (f"u{payload}.csv", f"k,v\n{payload},1\n".encode(), "text/csv")},
                    headers=pi_a,
                )

            return go

        read_lat: list[float] = []
        read_codes: list[int] = []
        stop = threading.Event()

        def read_loop():
            import httpx

            with httpx.Client(base_url=server.url, timeout=60) as c:
                k = 0
                while not stop.is_set():
                    t0 = time.perf_counter()
                    r = c.get("/api/me" if k % 2 else f"/api/calls/{w.ids['call']}", headers=reader)
                    read_lat.append(time.perf_counter() - t0)
                    read_codes.append(r.status_code)
                    k += 1
                    time.sleep(0.005)

        app.state.engine.dispose()
        with ServerProcess(app.state.settings) as server:
            readers = [threading.Thread(target=read_loop) for _ in range(4)]
            for t in readers:
                t.start()
            time.sleep(0.3)
            t0 = time.perf_counter()
            results = fire(server.url, [call(*op) for op in ops])
            storm_s = time.perf_counter() - t0
            stop.set()
            for t in readers:
                t.join(30)

        codes = [r.status_code if hasattr(r, "status_code") else repr(r) for r, _ in results]
        lat = np.array([t for _, t in results]) * 1e3
        rl = np.array(read_lat) * 1e3
        print(
            f"\nstorm: {len(ops)} writes in {storm_s:.2f} s ({len(ops) / storm_s:.0f}/s), write latency p50 "
            f"{np.percentile(lat, 50):.0f} ms p95 {np.percentile(lat, 95):.0f} ms max {lat.max():.0f} ms; "
            f"{len(rl)} unrelated reads p50 {np.percentile(rl, 50):.1f} ms p95 {np.percentile(rl, 95):.1f} ms "
            f"max {rl.max():.1f} ms; answers {dict(sorted((c, codes.count(c)) for c in set(codes)))}"
        )
        by_kind = defaultdict(list)
        for (kind, _, _), (_, t) in zip(ops, results, strict=True):
            by_kind[kind].append(t * 1e3)
        print("write p50 by kind [ms]: " + ", ".join(f"{k} {np.median(v):.0f}" for k, v in sorted(by_kind.items())))
        assert all(isinstance(c, int) and c < 500 for c in codes), codes
        assert set(read_codes) == {200}
        # the unrelated reads' p95 (target < 200 ms) is printed above, not asserted: timings never gate the test
        # suite on this shared machine (STYLE.md); benchmarks/bench_portal.py measures the reads on their own

        # ---- serial replay in the order the database serialised the accepted operations (the audit log's order:
        # each event is written under the lock of the row it changes) --------------------------------------------
        ok = defaultdict(list)
        for (kind, target, payload), code in zip(ops, codes, strict=True):
            if 200 <= code < 300:
                ok[kind].append((target, payload))
        with app.state.read_sessionmaker() as db:
            events = db.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
            state = {pid: {"status": "submitted", "alloc": 0.0} for pid in submitted}
            drafts_state = {pid: {"status": "draft", "title": f"d{k}", "version": 1} for k, pid in enumerate(drafts)}
            for e in events:
                if e.entity == "allocation" and e.detail.get("proposal") in state:
                    s = state[e.detail["proposal"]]
                    assert s["status"] in ("submitted", "accepted"), ("allocation after rejection", e.detail)
                    s["status"], s["alloc"] = "accepted", s["alloc"] + e.detail["amount"]
                if e.entity == "proposal" and e.action == "reject" and e.entity_id in state:
                    assert state[e.entity_id]["status"] == "submitted", "rejection after allocation"
                    state[e.entity_id]["status"] = "rejected"
                if e.entity == "proposal" and e.entity_id in drafts_state and e.action in ("update", "submit"):
                    d = drafts_state[e.entity_id]
                    assert d["status"] == "draft", ("change after submission", e.action)
                    d["version"] += 1
                    if e.action == "update":
                        d["title"] = e.detail["title"]
                    else:
                        d["status"] = "submitted"
            # every accepted operation left exactly its event
            assert sum(1 for e in events if e.entity == "allocation" and e.detail.get("proposal") in state) == len(
                ok["allocate"]
            )
            assert sum(1 for e in events if e.action == "reject") == len(ok["reject"])
            assert sum(1 for e in events if e.action == "update" and e.entity_id in drafts_state) == len(ok["edit"])
            assert sum(1 for e in events if e.action == "submit" and e.entity_id in drafts_state) == len(ok["submit"])
            for pid, s in state.items():
                p = db.get(Proposal, pid)
                total = db.scalar(
                    select(func.coalesce(func.sum(Allocation.amount), 0.0)).where(Allocation.proposal_id == pid)
                )
                assert (p.status, float(total)) == (s["status"], s["alloc"]), pid
                assert total <= 4.0  # never more than requested
            for pid, d in drafts_state.items():
                p = db.get(Proposal, pid)
                assert (p.status, p.title, p.version) == (d["status"], d["title"], d["version"]), pid
            res = db.scalar(
                select(CallResource).where(CallResource.call_id == w.ids["call"], CallResource.key == "rover_hours")
            )
            granted = sum(a for _, a in ok["allocate"])
            assert res.allocated == pytest.approx(granted) and res.allocated <= res.quantity
            # registrations: one user per invitation used, never two
            used = db.scalar(select(func.count()).select_from(Invitation).where(Invitation.used_at.is_not(None)))
            storm_users = db.scalar(select(func.count()).select_from(User).where(User.email.like("storm%")))
            assert used == storm_users == len(ok["register"]) == N_TARGETS
            # uploads: one product per accepted upload, each file on disk
            products = db.scalars(select(DataProduct).where(DataProduct.proposal_id == w.ids["submitted"])).all()
            assert len(products) == 1 + len(ok["upload"])
            assert all((app.state.settings.upload_dir / p.storage_key).is_file() for p in products)
            assert len(list(app.state.settings.upload_dir.iterdir())) == len(products)
    finally:
        app.state.engine.dispose()
