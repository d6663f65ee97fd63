"""The portal's FastAPI application: pages and the JSON API over one set of services."""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
from collections.abc import AsyncIterator, Callable, MutableMapping
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from ilrs.errors import IlrsError
from ilrs.portal import deps
from ilrs.portal.db.migrate import upgrade
from ilrs.portal.db.session import make_engine, session_factory
from ilrs.portal.routes import auth, calls, data, organisations, proposals, reviews, stac, status
from ilrs.portal.rules import PortalError, RateLimited
from ilrs.portal.settings import PortalSettings, private_dir, secure_database_file

STATUS = {"invalid": 422, "forbidden": 403, "not_found": 404, "conflict": 409, "rate_limited": 429, "unauthorised": 401}
HERE = Path(__file__).resolve().parent
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        b"frame-ancestors 'none'; form-action 'self'",
    ),
]


class BodyLimit:
    """Refuse request bodies above a limit (413), whether or not they announce their length."""

    def __init__(self, app: ASGIApp, limit: int, hsts: bool = False):
        self.app, self.limit, self.hsts = app, limit, hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            return await self._refuse(send)
        seen = 0
        state = {"too_large": False, "started": False}

        async def counted() -> MutableMapping[str, Any]:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.limit:
                    state["too_large"] = True
                    raise _TooLarge()
            return msg

        async def guarded(msg) -> None:
            # whatever the app answers to a body cut short (a parse error), the client learns it was too large
            if state["too_large"]:
                if msg["type"] == "http.response.start" and not state["started"]:
                    state["started"] = True
                    await self._refuse(send)
                return
            if msg["type"] == "http.response.start":
                state["started"] = True
                msg["headers"] = with_security_headers(list(msg.get("headers", [])), scope["path"], self.hsts)
            await send(msg)

        try:
            await self.app(scope, counted, guarded)
        except _TooLarge:
            if not state["started"]:
                state["started"] = True
                await self._refuse(send)

    @staticmethod
    async def _refuse(send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json")] + SECURITY_HEADERS,
            }
        )
        await send({"type": "http.response.body", "body": b'{"detail":"the request body is too large"}'})


#: HTTPS only, for a year, once cookies are Secure (RFC 6797); not on plain-HTTP development servers.
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


def with_security_headers(headers: list[tuple[bytes, bytes]], path: str, hsts: bool) -> list[tuple[bytes, bytes]]:
    """A response's headers with the security headers; pages and API answers are not stored by caches (they may
    be a signed-in user's), static assets keep their own caching."""
    names = {k.lower() for k, _ in headers}
    out = headers + SECURITY_HEADERS
    if b"cache-control" not in names and not path.startswith("/static/"):
        out.append((b"cache-control", b"no-store"))
    if hsts:
        out.append(HSTS)
    return out


class _TooLarge(Exception):
    pass


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api")


#: The error page's title by status.
ERROR_TITLES = {
    401: "Please sign in",
    403: "Not allowed",
    404: "Not found",
    405: "Not possible here",
    409: "Cannot do that now",
    413: "Too large",
    422: "Cannot do that",
    429: "Too many attempts",
    503: "Busy",
}


def _signed_in(request: Request) -> dict[str, Any]:
    """The signed-in user of a page request, for the error page's navigation (nothing when unknown)."""
    with contextlib.suppress(Exception), request.app.state.read_sessionmaker() as db:  # the page shows anyway
        found = deps.session_of(request, db)
        if found is not None:
            _ = found[0].organisation.name  # loaded while the session is open
            return {"me": found[0], "csrf_token": found[1].csrf}
    return {}


async def _error_page(request: Request, code: int, message: str, headers: dict[str, str] | None = None) -> HTMLResponse:
    """The page of a refused request: its navigation as the signed-in user sees it (looked up in a worker thread;
    not when the portal is busy: a page that says so must not wait for a connection), and a link back to the
    page the request came from on this site (a ``javascript:`` link would break the CSP)."""
    ctx: dict[str, Any] = {"message": message, "code": code, "title": ERROR_TITLES.get(code, "Refused")}
    if code != 503 and request.cookies.get(deps.SESSION_COOKIE):
        ctx.update(await anyio.to_thread.run_sync(_signed_in, request))
    referer = request.headers.get("referer", "")
    origin = f"{request.url.scheme}://{request.url.netloc}/"
    if referer.startswith(origin) and referer != str(request.url):
        ctx["back"] = "/" + referer.removeprefix(origin).lstrip("/\\")  # never '//host': another site
    return deps.templates.TemplateResponse(request, "error.html", ctx, status_code=code, headers=headers)


async def _refusal(request: Request, code: int, message: str, headers: dict[str, str] | None = None):
    if _wants_json(request):
        return JSONResponse({"detail": message, "field": None}, status_code=code, headers=headers)
    return await _error_page(request, code, message, headers)


def _server_error(request: Request):
    hsts = request.app.state.settings.secure_cookies
    headers = {k.decode(): v.decode() for k, v in with_security_headers([], request.url.path, hsts)}
    if _wants_json(request):
        return JSONResponse({"detail": "internal server error"}, status_code=500, headers=headers)
    return HTMLResponse("<!doctype html><title>Server error</title><p>Internal server error.</p>", 500, headers)


_heap_frozen = False


def freeze_startup_heap() -> int:
    """Leave the objects made while the server started (modules, the app, its routes and templates: about 150,000)
    out of every later garbage collection; returns how many were frozen (0 when already done in this process).

    Measured under the read benchmark (docs/portal.md, "Stalls"): the objects that outlive requests trigger a full
    (generation 2) collection every one to five seconds in each worker, and each one traversed the whole startup
    heap, pausing the event loop and every thread for 70-660 ms on the shared two cores; with the startup heap
    frozen, 5-43 ms. ``gc.freeze`` moves every tracked object to a permanent generation that later
    collections ignore, "to make the gc copy-on-write friendly or to speed up collection" (CPython's gc module
    documentation, added in 3.7 by bpo-31558, https://github.com/python/cpython/pull/3705). Reference counting still
    frees frozen objects; only cyclic garbage among them would stay, and the startup objects live as long as the
    process. Done once per process: a second app in the same process (the tests) must not freeze the garbage of
    the first."""
    global _heap_frozen
    if _heap_frozen:
        return 0
    _heap_frozen = True
    gc.collect()  # startup's own garbage is freed, not frozen
    before = gc.get_freeze_count()
    gc.freeze()
    return gc.get_freeze_count() - before


def own_scheduling_group() -> bool:
    """In a worker process of Uvicorn's multi-process supervisor, start a session of its own (``setsid``); returns
    whether it did. Not in a single-process server, which keeps its terminal (Ctrl-C) and its caller's session.

    Why (measured, docs/portal.md "Stalls"): Linux groups a session's processes for CPU scheduling (autogroup,
    ``kernel.sched_autogroup_enabled``, on by default), and PostgreSQL starts every backend in a session of its
    own. With the workers in their parent's group (with the load generator, in the benchmark), PostgreSQL's
    backends waited 13-41 s for a CPU per CPU second they used when the two cores were saturated, and reads stalled
    1-2 s (p95 up to 0.8 s). With each worker in a group of its own: 3-6 s per CPU second, no stall over 0.25 s,
    as with autogroup off. The supervisor still stops its workers by their process ids (SIGTERM)."""
    import multiprocessing
    import os

    if multiprocessing.parent_process() is None or not hasattr(os, "setsid") or os.getsid(0) == os.getpid():
        return False
    try:
        os.setsid()
    except OSError:
        return False
    return True


def _lifespan(settings: PortalSettings):
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # the worker threads that run sync routes and dependencies: as many as the pool has connections
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.threads
        freeze_startup_heap()  # in each Uvicorn worker, once it has imported and built everything
        own_scheduling_group()
        yield

    return lifespan


def create_app(
    settings: PortalSettings | None = None, clock: Callable[[], dt.datetime] | None = None, migrate: bool = True
) -> FastAPI:
    settings = settings or PortalSettings.from_environment()
    secure_database_file(settings.database_url)
    private_dir(settings.upload_dir)
    engine = make_engine(settings.database_url, settings.threads)
    if migrate:
        upgrade(engine)
    app = FastAPI(
        lifespan=_lifespan(settings),
        title="ILRS partner portal",
        version="1",
        description="Calls for proposals, review, allocation, schedules and data of the International "
        "Lunar Research Station. Sign in with POST /api/auth/token and send the token as "
        "'Authorization: Bearer <token>'.",
        docs_url=None,  # served below with local assets: FastAPI's page loads a CDN and runs an inline script
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = session_factory(engine)
    app.state.read_sessionmaker = session_factory(engine, autocommit=True)
    app.state.clock = clock or (lambda: dt.datetime.now(dt.UTC).replace(tzinfo=None))
    for module in (auth, organisations, calls, proposals, reviews, data, stac, status):
        app.include_router(module.api)
        app.include_router(module.pages)
    import swagger_ui_bundle

    app.mount("/static/swagger-ui", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="swagger-ui")
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.get("/api/docs", include_in_schema=False)
    async def api_docs(request: Request) -> HTMLResponse:
        """Swagger UI from the swagger-ui-bundle package and a script file of the portal's: nothing from the
        network, nothing inline, so the Content-Security-Policy (script-src 'self') lets it run."""
        return deps.templates.TemplateResponse(request, "api_docs.html", {"title": "API"})

    @app.exception_handler(PortalError)
    async def portal_error(request: Request, exc: PortalError):
        code = STATUS.get(exc.kind, 400)
        headers = {"retry-after": str(exc.retry_after_s)} if isinstance(exc, RateLimited) else None
        if _wants_json(request):
            return JSONResponse({"detail": str(exc), "field": exc.source}, status_code=code, headers=headers)
        return await _error_page(request, code, str(exc), headers)

    @app.exception_handler(IlrsError)
    async def user_error(request: Request, exc: IlrsError):
        # any other user-correctable error from the layers below (a scenario, a request file): 422
        if _wants_json(request):
            return JSONResponse({"detail": str(exc), "field": exc.source}, status_code=422)
        return await _error_page(request, 422, str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        # an address with no page (or a method a page does not take): the portal's own page, titled, with the
        # signed-in navigation, rather than a JSON body in the browser; the API answers as FastAPI does
        if _wants_json(request) or exc.status_code < 400:
            return await http_exception_handler(request, exc)
        message = "there is no page at this address" if exc.status_code == 404 else str(exc.detail)
        return await _error_page(request, exc.status_code, message, dict(exc.headers or {}) or None)

    @app.exception_handler(deps.NotSignedIn)
    async def not_signed_in(request: Request, exc: deps.NotSignedIn):
        return RedirectResponse("/login?next=" + request.url.path, status_code=303)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        errors = [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", ""))} for e in exc.errors()[:20]]
        if _wants_json(request):
            return JSONResponse({"detail": errors}, status_code=422)
        text = "; ".join(f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in errors)
        return await _error_page(request, 422, text)

    @app.exception_handler(IntegrityError)
    async def integrity(request: Request, exc: IntegrityError):
        # a uniqueness or reference check lost to a concurrent change (the use cases check first; this is the
        # database's word when two requests passed that check at once)
        return await _refusal(request, 409, "this conflicts with a change made at the same time; reload and try again")

    @app.exception_handler(PoolTimeout)
    async def busy(request: Request, exc: PoolTimeout):
        return await _refusal(request, 503, "the portal is busy; try again in a moment", {"retry-after": "2"})

    @app.exception_handler(OperationalError)
    async def operational(request: Request, exc: OperationalError):
        # lock timeouts and serialisation failures are retryable; anything else is a server error
        text = str(exc.orig).lower()
        if "locked" in text or "deadlock" in text or "could not serialize" in text or "lock timeout" in text:
            return await _refusal(request, 503, "the portal is busy; try again in a moment", {"retry-after": "2"})
        return _server_error(request)

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception):
        # Starlette answers this outside every middleware: the security headers are set here as well
        return _server_error(request)

    app.add_middleware(BodyLimit, limit=settings.max_upload_bytes + 256 * 1024, hsts=settings.secure_cookies)
    return app


def uvicorn_options(host: str, port: int, workers: int = 1) -> dict[str, Any]:
    """How the portal runs on Uvicorn (``ilrs serve`` and the tests' live server). Uvicorn's own proxy handling
    is off: by default it believes X-Forwarded-For from loopback, which would let any local client pick its
    address; the portal reads the header itself, from the proxies named in ``ILRS_TRUSTED_PROXIES`` only
    (:func:`ilrs.portal.deps.client_address`)."""
    return {
        "host": host,
        "port": port,
        "workers": workers,
        "proxy_headers": False,
        "forwarded_allow_ips": "",
        "log_level": "warning",
    }
