"""The station's public status (the twin's power, state of charge and communication windows) and the home page."""

from __future__ import annotations

import datetime as dt
import functools
import json
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from ilrs.portal import actions, deps
from ilrs.portal.deps import ApiUser, NowDep, OptionalPageSession, PageSession, SessionDep
from ilrs.portal.routes.auth import redirect, render

api = APIRouter(prefix="/api", tags=["status"])
pages = APIRouter(include_in_schema=False)

#: The status page shows the twin over two weeks of the scenario (a short run, kept in memory per window); by
#: default from this date, else from the day a visitor picks (a call's cycle links its own start).
STATUS_START = dt.datetime(2035, 6, 1)
STATUS_DAYS = 14
StartDay = Annotated[dt.date | None, Query(description="First day shown (UTC), inside the scenario's run.")]


def status_of(request: Request, start: dt.date | None = None) -> dict:
    from ilrs.errors import IlrsError
    from ilrs.portal.station import station_status
    from ilrs.services.scenarios import validated_scenario

    name = request.app.state.settings.scenario
    first = STATUS_START if start is None else dt.datetime.combine(start, dt.time())
    sc = validated_scenario(name)
    lo, hi = sc.start.replace(tzinfo=None), sc.end.replace(tzinfo=None) - dt.timedelta(days=STATUS_DAYS)
    if not lo <= first <= hi:
        raise IlrsError(
            f"the twin of {name} runs {lo:%Y-%m-%d} .. {sc.end:%Y-%m-%d}; two weeks from {first:%Y-%m-%d} "
            "fall outside it",
            source="start",
            hint=f"pick a day from {lo:%Y-%m-%d} to {hi:%Y-%m-%d}",
        )
    return station_status(name, first, STATUS_DAYS)


@api.get("/status", summary="The station's status from its twin: KPIs and communication windows")
def status(request: Request, start: StartDay = None) -> dict:
    s = status_of(request, start)
    return {k: s[k] for k in ("scenario", "start", "end", "step_s", "kpis", "dte_windows", "relay_windows")}


@pages.get("/status", response_class=HTMLResponse)
def status_page(request: Request, session: OptionalPageSession, start: StartDay = None) -> HTMLResponse:
    s = status_of(request, start)
    return render(request, "status.html", session, s=s, figures=json.dumps(s["figures"]), title="Station status")


@functools.lru_cache(maxsize=1)
def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


@pages.get("/static/plotly.min.js")
def plotly_js() -> Response:
    """plotly.js from the plotly package itself: no network, no front-end build."""
    return Response(
        _plotly_js(), media_type="application/javascript", headers={"Cache-Control": "public, max-age=86400"}
    )


@pages.get("/", response_class=HTMLResponse)
def home(request: Request, session: OptionalPageSession, db: SessionDep, now: NowDep):
    if session is None:
        return redirect("/login")
    a = deps.actor(session[0])
    return render(
        request,
        "home.html",
        session,
        calls=actions.list_calls(db),
        now=now,
        proposals=actions.visible_proposals(db, a),
        reviews=actions.visible_reviews(db, a),
        title="Home",
    )


@api.get("/audit", summary="The audit log (administrators)")
def audit(user: ApiUser, db: SessionDep, limit: int = 200, offset: int = 0) -> list[dict]:
    from ilrs.portal.schemas import AuditOut

    limit = max(1, min(limit, 1000))
    offset = max(0, min(offset, 2**31 - 1))
    return [
        AuditOut.model_validate(e).model_dump(mode="json")
        for e in actions.audit_log(db, deps.actor(user), limit, offset)
    ]


@pages.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, session: PageSession, db: SessionDep) -> HTMLResponse:
    return render(
        request, "audit.html", session, events=actions.audit_log(db, deps.actor(session[0]), 500), title="Audit log"
    )
