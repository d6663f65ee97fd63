"""Portal test helpers: a fresh database per test on SQLite and on PostgreSQL (its own uniquely named database on
127.0.0.1:5432), the app, a populated world of organisations and users in every role, and a real Uvicorn server.

PostgreSQL tests are skipped only when the server is unreachable outside CI; with CI=true they fail instead.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

PG_ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=3"
PASSWORD = "correct horse battery"
NOW = dt.datetime.now(dt.UTC).replace(tzinfo=None)


def postgres_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_DSN):
            return True
    except Exception:
        return False


def require_postgres() -> None:
    if postgres_available():
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("PostgreSQL at 127.0.0.1:5432 is unreachable, and CI needs it")
    pytest.skip("PostgreSQL at 127.0.0.1:5432 is unreachable (outside CI: skipped)")


class PgDatabase:
    """A uniquely named database, created and dropped around one test."""

    def __init__(self):
        import psycopg

        self.name = f"ilrs_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{self.name}"

    def drop(self, engine=None) -> None:
        import psycopg

        if engine is not None:
            engine.dispose()
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def make_app(url: str, tmp_path: Path, **changes):
    from ilrs.portal.main import create_app
    from ilrs.portal.settings import PortalSettings

    settings = PortalSettings(database_url=url, secret_key="t" * 48, upload_dir=tmp_path / "uploads", **changes)
    return create_app(settings)


# ---- a populated world --------------------------------------------------------------------------------------------

OFFER = [
    ("arm_hours", "robotic arm time", "h", 40.0),
    ("drill_hours", "drill time", "h", 30.0),
    ("rover_hours", "rover time", "h", 50.0),
    ("antenna_hours", "antenna time", "h", 20.0),
    ("energy_kwh", "energy", "kWh", 500.0),
    ("data_gbit", "data", "Gbit", 100.0),
    ("payload_mass_kg:ILRS-5", "payload mass on ILRS-5", "kg", 500.0),
]
CYCLE = (dt.datetime(2035, 6, 1), dt.datetime(2035, 7, 1))
#: The world's users (their e-mails are ``<name>@example.org``).
ROLES_OF = ("admin", "operator", "pi_a", "member_a", "pi_b", "pi_c", "member_c", "reviewer", "reviewer_b")


def activity(
    rid: str,
    partner: str,
    resources=("arm",),
    duration="2h",
    power_w=100.0,
    data_mbit=10.0,
    earliest="2035-06-02T00:00",
    deadline="2035-06-10T00:00",
) -> dict:
    return {
        "id": rid,
        "partner": partner,
        "payload": "geophone",
        "duration": duration,
        "earliest": earliest,
        "deadline": deadline,
        "resources": list(resources),
        "power_w": power_w,
        "data_mbit": data_mbit,
    }


@dataclass
class World:
    """Organisations A (proposer), B (co-investigator), C (another partner), R (reviewers), S (station staff);
    a user in every role; a call; A's draft, A's submitted proposal with a B co-investigator (accepted, with a
    proprietary data product), C's draft."""

    app: object
    users: dict = field(default_factory=dict)  # role label -> User
    orgs: dict = field(default_factory=dict)
    ids: dict = field(default_factory=dict)
    tokens: dict = field(default_factory=dict)

    def actor(self, who: str):
        from ilrs.portal.actions import actor_of

        return actor_of(self.users[who])

    def db(self):
        return self.app.state.sessionmaker()


def build_world(app, tmp_path: Path) -> World:
    from ilrs.portal import actions
    from ilrs.portal.rules import OfferLine

    w = World(app)
    with w.db() as db:
        for key, name, country in (
            ("A", "Lunar Geophysics Institute", "Pakistan"),
            ("B", "Regolith Science Centre", "Egypt"),
            ("C", "Polar Radio Observatory", "South Africa"),
            ("R", "Review Panel Institute", "Venezuela"),
            ("S", "ILRS Station Office", "China"),
        ):
            w.orgs[key] = actions.create_organisation(db, None, name, country)
        for who, role, org in (
            ("admin", "admin", "S"),
            ("operator", "operator", "S"),
            ("pi_a", "pi", "A"),
            ("member_a", "member", "A"),
            ("pi_b", "pi", "B"),
            ("pi_c", "pi", "C"),
            ("member_c", "member", "C"),
            ("reviewer", "reviewer", "R"),
            ("reviewer_b", "reviewer", "B"),
        ):
            w.users[who] = actions.create_user(
                db, None, f"{who}@example.org", f"{who} user", PASSWORD, role, w.orgs[org].id
            )
        call = actions.create_call(
            db,
            w.actor("admin"),
            "Cycle 2035-A",
            "ilrs-basic-2035",
            *CYCLE,
            NOW + dt.timedelta(days=30),
            [OfferLine(*o) for o in OFFER],
        )
        w.ids["call"] = call.id
        a_name, c_name = w.orgs["A"].name, w.orgs["C"].name
        draft = actions.create_proposal(
            db, w.actor("pi_a"), call.id, {"title": "A's secret draft", "resources": {"arm_hours": 2}}, NOW
        )
        sub = actions.create_proposal(
            db,
            w.actor("pi_a"),
            call.id,
            {
                "title": "A's seismic network",
                "abstract": "geophones",
                "coinvestigators": ["pi_b@example.org"],
                "resources": {"arm_hours": 10, "energy_kwh": 5, "data_gbit": 1},
                "activities": [activity("a-1", a_name)],
            },
            NOW,
        )
        actions.submit_proposal(db, w.actor("pi_a"), sub.id, NOW)
        c_draft = actions.create_proposal(
            db,
            w.actor("pi_c"),
            call.id,
            {
                "title": "C's draft",
                "resources": {"rover_hours": 5, "energy_kwh": 1, "data_gbit": 1},
                "activities": [activity("c-1", c_name, resources=("rover",))],
            },
            NOW,
        )
        rev = actions.assign_reviewer(db, w.actor("admin"), sub.id, w.users["reviewer"].id)
        actions.submit_review(db, w.actor("reviewer"), rev.id, 4, "sound plan")
        actions.allocate(db, w.actor("admin"), sub.id, "arm_hours", 8)
        dp = actions.add_data_product(
            db,
            w.actor("pi_a"),
            sub.id,
            "seismic.csv",
            b"t,v\n0,1\n",
            app.state.settings.upload_dir,
            app.state.settings.max_upload_bytes,
        )
        w.ids.update(draft=draft.id, submitted=sub.id, c_draft=c_draft.id, review=rev.id, data=dp.id)
    return w


# ---- routes -------------------------------------------------------------------------------------------------------


def api_routes(app) -> list:
    """Every FastAPI route of ``app`` (with ``path``, ``methods``, ``response_class``), the included routers' too:
    since FastAPI 0.16x ``app.routes`` holds one entry per included router, not its routes."""
    from fastapi.routing import APIRoute, iter_route_contexts

    return [r for r in iter_route_contexts(app.routes) if isinstance(r.original_route, APIRoute)]


# ---- clients ------------------------------------------------------------------------------------------------------


def api_client(app, who_email: str | None = None):
    from fastapi.testclient import TestClient

    c = TestClient(app)
    if who_email:
        r = c.post("/api/auth/token", json={"email": who_email, "password": PASSWORD})
        assert r.status_code == 200, r.text
        c.headers["Authorization"] = "Bearer " + r.json()["access_token"]
    return c


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    m = CSRF.search(html)
    assert m, "no CSRF token in the page"
    return m.group(1)


def page_client(app, who_email: str | None = None):
    """A browser-like client (cookies, forms with CSRF tokens) signed in as ``who_email``."""
    from fastapi.testclient import TestClient

    c = TestClient(app, follow_redirects=False)
    if who_email:
        tok = csrf_of(c.get("/login").text)
        r = c.post("/login", data={"email": who_email, "password": PASSWORD, "csrf_token": tok})
        assert r.status_code == 303 and r.headers["location"] == "/", r.text
    return c


# ---- a real server ------------------------------------------------------------------------------------------------


class LiveServer:
    """Uvicorn serving ``app`` on a free loopback port in a background thread."""

    def __init__(self, app):
        import uvicorn

        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        self.url = f"http://127.0.0.1:{self.port}"
        from ilrs.portal.main import uvicorn_options

        self.server = uvicorn.Server(uvicorn.Config(app, **uvicorn_options("127.0.0.1", self.port)))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        deadline = time.time() + 20
        while not self.server.started:
            if time.time() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(10)


def fire(base_url: str, calls, timeout: float = 120.0) -> list:
    """Run every ``call(client)`` at once (one thread and one keep-alive client each, released together by a
    barrier); returns ``(response or exception, seconds)`` per call, in order."""
    import httpx

    out: list = [None] * len(calls)
    start = threading.Barrier(len(calls))

    def one(i: int) -> None:
        with httpx.Client(base_url=base_url, timeout=timeout) as c:
            start.wait()
            t0 = time.perf_counter()
            try:
                r = calls[i](c)
            except Exception as exc:  # noqa: BLE001 (reported to the test)
                r = exc
            out[i] = (r, time.perf_counter() - t0)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout + 30)
    return out


def token_of(app, email: str, password: str = PASSWORD) -> str:
    return api_client(app, email).headers["Authorization"]


class ServerProcess:
    """``ilrs.portal`` on Uvicorn in a process of its own (as ``ilrs serve`` runs it), on a free loopback port,
    over the database and uploads of ``settings``: load tests measure the server, not a client sharing its
    interpreter."""

    def __init__(self, settings, workers: int = 1):
        import subprocess
        import sys

        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "ILRS_DATABASE_URL": settings.database_url,
            "ILRS_SECRET_KEY": settings.secret_key,
            "ILRS_PORTAL_UPLOADS": str(settings.upload_dir),
        }
        code = (
            "import uvicorn; from ilrs.portal.main import create_app, uvicorn_options; "
            f"uvicorn.run(create_app(), **uvicorn_options('127.0.0.1', {self.port}))"
            if workers == 1
            else "import uvicorn; from ilrs.portal.main import uvicorn_options; "
            f"uvicorn.run('ilrs.portal.main:create_app', factory=True, "
            f"**uvicorn_options('127.0.0.1', {self.port}, {workers}))"
        )
        self.proc = subprocess.Popen([sys.executable, "-c", code], env=env)

    def __enter__(self):
        import httpx

        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if httpx.get(self.url + "/static/portal.css", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.2)
        self.proc.kill()
        raise RuntimeError("the server did not start")

    def __exit__(self, *exc):
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except Exception:  # noqa: BLE001
            self.proc.kill()
