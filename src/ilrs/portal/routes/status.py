"""The station's public status (the twin's power, state of charge and communication windows) and the home page."""

from __future__ import annotations

import datetime as dt
import functools
import json

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from ilrs.portal import deps
from ilrs.portal.db import crud
from ilrs.portal.deps import ApiUser, NowDep, OptionalPageSession, PageSession, SessionDep
from ilrs.portal.routes.auth import redirect, render

api = APIRouter(prefix="/api", tags=["status"])
pages = APIRouter(include_in_schema=False)

#: The status page shows the twin over this window of the scenario (a short run, computed once per process).
STATUS_START = dt.datetime(2035, 6, 1)
STATUS_DAYS = 14


def status_of(request: Request) -> dict:
    from ilrs.services.portal_station import station_status

    return station_status(request.app.state.settings.scenario, STATUS_START, STATUS_DAYS)


@api.get("/status", summary="The station's status from its twin: KPIs and communication windows")
def status(request: Request) -> dict:
    s = status_of(request)
    return {k: s[k] for k in ("scenario", "start", "end", "step_s", "kpis", "dte_windows", "relay_windows")}


@pages.get("/status", response_class=HTMLResponse)
def status_page(request: Request, session: OptionalPageSession) -> HTMLResponse:
    s = status_of(request)
    return render(request, "status.html", session, s=s, figures=json.dumps(s["figures"]), title="Station status")


@functools.lru_cache(maxsize=1)
def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


@pages.get("/static/plotly.min.js")
def plotly_js() -> Response:
    """plotly.js from the plotly package itself: no network, no front-end build."""
    return Response(_plotly_js(), media_type="application/javascript",
                    headers={"Cache-Control": "public, max-age=86400"})


@pages.get("/", response_class=HTMLResponse)
def home(request: Request, session: OptionalPageSession, db: SessionDep, now: NowDep):
    if session is None:
        return redirect("/login")
    a = deps.actor(session[0])
    return render(request, "home.html", session, calls=crud.list_calls(db), now=now,
                  proposals=crud.visible_proposals(db, a), reviews=crud.visible_reviews(db, a), title="Home")


@api.get("/audit", summary="The audit log (administrators)")
def audit(user: ApiUser, db: SessionDep, limit: int = 200, offset: int = 0) -> list[dict]:
    from ilrs.portal.schemas import AuditOut

    limit = max(1, min(limit, 1000))
    offset = max(0, min(offset, 2**31 - 1))
    return [AuditOut.model_validate(e).model_dump(mode="json")
            for e in crud.audit_log(db, deps.actor(user), limit, offset)]


@pages.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, session: PageSession, db: SessionDep) -> HTMLResponse:
    return render(request, "audit.html", session, events=crud.audit_log(db, deps.actor(session[0]), 500),
                  title="Audit log")
