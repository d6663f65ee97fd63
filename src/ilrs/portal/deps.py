"""Dependencies the routes share: the database session, the signed-in user (session cookie for pages, bearer
token for the API), CSRF checks for forms, the clock and the templates."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Form, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session

from ilrs.portal import actions
from ilrs.portal.db.models import AuthToken, User
from ilrs.portal.rules import ROLES, Actor, PortalError
from ilrs.portal.settings import PortalSettings

SESSION_COOKIE = "ilrs_session"
PRE_COOKIE = "ilrs_pre"
templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))
templates.env.globals["ROLES"] = ROLES


def readable_size(n_bytes: int) -> str:
    """A file size for people: bytes below 1 kB, else kB, MB or GB (SI: 1 kB = 1000 B) with three digits."""
    if n_bytes < 1000:
        return f"{n_bytes} B"
    size = float(n_bytes)
    for unit in ("kB", "MB", "GB", "TB"):
        size /= 1000.0
        if size < 999.5 or unit == "TB":
            return f"{size:.3g} {unit}"
    raise AssertionError("unreachable")


templates.env.filters["size"] = readable_size


class NotSignedIn(Exception):
    """A page needs a signed-in user: the app redirects to the login page."""


class Unauthorised(PortalError):
    kind = "unauthorised"


# Dependencies that do no I/O are ``async``: FastAPI runs plain ``def`` dependencies in its thread pool, a hop
# per dependency per request. Creating a Session opens no connection (the first query does, in the route's thread).


async def get_settings(request: Request) -> PortalSettings:
    return request.app.state.settings


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def write_gate(request: Request) -> asyncio.Semaphore:
    """The app's write slots (one semaphore per event loop, made on first use)."""
    state = request.app.state
    loop = asyncio.get_running_loop()
    gate = getattr(state, "write_gate", None)
    if gate is None or gate[0] is not loop:
        gate = state.write_gate = (loop, asyncio.Semaphore(state.settings.write_slots))
    return gate[1]


async def get_db(request: Request) -> AsyncIterator[Session]:
    # GET requests read in autocommit mode: on PostgreSQL each statement still sees committed data (as in a
    # READ COMMITTED transaction) and the request saves the BEGIN and ROLLBACK round trips
    if request.method in READ_METHODS:
        db = request.app.state.read_sessionmaker()
        try:
            yield db
        finally:
            db.close()
        return
    # a change waits for a write slot here, in the event loop, after its body was read and before it takes a
    # worker thread or a connection: writes queued on a lock hold at most ``write_slots`` of each
    async with write_gate(request):
        db = request.app.state.sessionmaker()
        try:
            yield db
        finally:
            db.close()


async def now_utc(request: Request) -> dt.datetime:
    """The clock (tests move it past a deadline)."""
    return request.app.state.clock()


SettingsDep = Annotated[PortalSettings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_db)]
NowDep = Annotated[dt.datetime, Depends(now_utc)]


def client_address(request: Request) -> str:
    """The client's address: the peer, or behind a trusted reverse proxy (``ILRS_TRUSTED_PROXIES``) the last
    address of X-Forwarded-For that is not itself a trusted proxy. Nothing else believes the header."""
    peer = request.client.host if request.client else "?"
    trusted = request.app.state.settings.trusted_proxies
    if peer not in trusted:
        return peer[:64]
    hops = [h.strip() for h in ",".join(request.headers.getlist("x-forwarded-for")).split(",") if h.strip()]
    for hop in reversed(hops):
        if hop not in trusted:
            return hop[:64]
    return peer[:64]


def signer(settings: PortalSettings) -> URLSafeSerializer:
    return URLSafeSerializer(settings.secret_key, salt="ilrs-portal-session")


def session_of(request: Request, db: Session) -> tuple[User, AuthToken, str] | None:
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    try:
        token = signer(request.app.state.settings).loads(raw)
    except BadSignature:
        return None
    if not isinstance(token, str):
        return None
    found = actions.user_for_token(db, token, "session")
    return (found[0], found[1], token) if found else None


def optional_page_user(request: Request, db: SessionDep) -> tuple[User, AuthToken, str] | None:
    return session_of(request, db)


def page_user(request: Request, db: SessionDep) -> tuple[User, AuthToken, str]:
    found = session_of(request, db)
    if found is None:
        raise NotSignedIn()
    return found


bearer = HTTPBearer(auto_error=False, description="A token from POST /api/auth/token")


def api_user(db: SessionDep, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> User:
    if creds is None or creds.scheme.lower() != "bearer":
        raise Unauthorised("sign in: send 'Authorization: Bearer <token>' (POST /api/auth/token)")
    found = actions.user_for_token(db, creds.credentials[:200], "api")
    if found is None:
        raise Unauthorised("the token is unknown or expired")
    return found[0]


async def api_token(creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> str:
    return creds.credentials[:200] if creds else ""


PageSession = Annotated[tuple[User, AuthToken, str], Depends(page_user)]
OptionalPageSession = Annotated[tuple[User, AuthToken, str] | None, Depends(optional_page_user)]
ApiUser = Annotated[User, Depends(api_user)]


def actor(user: User) -> Actor:
    return actions.actor_of(user)


# ---- CSRF: the session's token on every form; before sign-in, an HMAC of a random pre-session cookie ----------


def pre_csrf(request: Request, pre: str) -> str:
    key = request.app.state.settings.secret_key.encode()
    return hmac.new(key, b"pre-session:" + pre.encode(), hashlib.sha256).hexdigest()


def check_csrf(request: Request, session: tuple[User, AuthToken, str] | None, submitted: str) -> None:
    if session is not None:
        expected = session[1].csrf
    else:
        pre = request.cookies.get(PRE_COOKIE, "")
        expected = pre_csrf(request, pre) if pre else ""
    if not expected or not hmac.compare_digest(expected, submitted or ""):
        raise PortalError(
            "the form has expired or did not come from this site; reload the page and try again", source="csrf_token"
        )


def page_form_csrf(request: Request, session: PageSession, csrf_token: Annotated[str, Form()] = "") -> None:
    check_csrf(request, session, csrf_token)


CsrfChecked = Annotated[None, Depends(page_form_csrf)]
