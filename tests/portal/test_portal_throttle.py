"""The sign-in throttle through a real Uvicorn server, on SQLite and PostgreSQL: 100 parallel guesses get no more
password checks than the throttle allows; the account's owner still signs in from another address, and from the
attacker's address after a bounded backoff; a forged X-Forwarded-For moves nobody to another address unless the
peer is a configured proxy; every attempt is audited with its address."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from portal_helpers import PASSWORD, LiveServer, fire
from sqlalchemy import select

pytestmark = [pytest.mark.portal, pytest.mark.xdist_group("portal-live")]
GUESSES = 100
ATTACKER, OWNER = "203.0.113.7", "198.51.100.9"


@pytest.fixture
def checks(monkeypatch):
    """Counts the password checks (argon2 verifications) the server makes."""
    import ilrs.portal.security as security

    seen: list[int] = []
    real = security.verify_password

    def counted(stored: str, password: str) -> bool:
        seen.append(1)
        return real(stored, password)

    monkeypatch.setattr(security, "verify_password", counted)
    return seen


def _login(address: str | None, password: str, email: str = "pi_a@example.org"):
    headers = {"X-Forwarded-For": address} if address else {}
    return lambda c: c.post("/api/auth/token", json={"email": email, "password": password}, headers=headers)


def test_hundred_parallel_guesses(world, checks):
    from ilrs.portal.db.models import AuditEvent
    from ilrs.portal.security import THROTTLE

    app = world.app
    app.state.settings = dataclasses.replace(app.state.settings, trusted_proxies=frozenset({"127.0.0.1"}))
    now = dt.datetime(2035, 1, 1, 12)
    app.state.clock = lambda: now
    with LiveServer(app) as server:
        results = fire(server.url, [_login(ATTACKER, f"guess number {k}") for k in range(GUESSES)])
        codes = [r.status_code for r, _ in results]
        assert set(codes) == {422, 429}, codes
        assert codes.count(422) == THROTTLE["pair"].free == len(checks)  # no more checked than the limit
        assert all(int(r.headers["retry-after"]) >= 1 for r, _ in results if r.status_code == 429)
        # the owner, from their own address, is not locked out
        owner = fire(server.url, [_login(OWNER, PASSWORD)])[0][0]
        assert owner.status_code == 200, owner.text
        # the attacker's address backs off: still refused now, let through after the first backoff step
        assert fire(server.url, [_login(ATTACKER, PASSWORD)])[0][0].status_code == 429
        now = now + THROTTLE["pair"].delay(THROTTLE["pair"].free)
        assert fire(server.url, [_login(ATTACKER, PASSWORD)])[0][0].status_code == 200
    with app.state.read_sessionmaker() as db:
        events = db.scalars(select(AuditEvent).where(AuditEvent.action.like("login%")).order_by(AuditEvent.id)).all()
    by_action: dict[str, list] = {}
    for e in events:
        by_action.setdefault(e.action, []).append(e)
    assert len(by_action["login_failed"]) == THROTTLE["pair"].free
    assert len(by_action["login_refused"]) == GUESSES - THROTTLE["pair"].free + 1
    assert {e.address for e in by_action["login_failed"]} == {ATTACKER}
    assert [e.address for e in by_action["login"]][-2:] == [OWNER, ATTACKER]


def test_forwarded_for_is_ignored_from_untrusted_peers(world, checks):
    """Without a configured proxy, X-Forwarded-For changes nothing: spraying 30 accounts with a new forged
    address each is still one address (20 failures, then backoff)."""
    from ilrs.portal.security import THROTTLE

    with LiveServer(world.app) as server:
        codes = [
            fire(server.url, [_login(f"10.0.0.{k}", "wrong password!", f"nobody{k}@example.org")])[0][0].status_code
            for k in range(30)
        ]
    free = THROTTLE["address"].free
    assert codes[:free] == [422] * free and set(codes[free:]) == {429}, codes
    assert len(checks) == free
