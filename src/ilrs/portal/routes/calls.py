"""Calls for proposals: what is on offer, oversubscription, ranking (administrators) and the schedule."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request, Response
from fastapi.responses import HTMLResponse

from ilrs.portal import actions, deps
from ilrs.portal.deps import ApiUser, NowDep, PageSession, SessionDep
from ilrs.portal.routes.auth import redirect, render
from ilrs.portal.rules import ADMIN, OfferLine, require_role
from ilrs.portal.schemas import CallIn, CallOut, OversubscriptionOut, RankedOut, ScheduledOut, Text, UtcTime

#: How long a schedule request waits for the planner before answering with the requested windows [s], and how
#: soon the page (meta refresh) or an API client (Retry-After) should ask again [s].
PLAN_WAIT_S = 8.0
RETRY_S = 5

api = APIRouter(prefix="/api/calls", tags=["calls"])
pages = APIRouter(include_in_schema=False)
CallId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def make_call(
    db,
    user,
    title: str,
    scenario: str,
    cycle_start: dt.datetime,
    cycle_end: dt.datetime,
    deadline: dt.datetime,
    resources: list[OfferLine] | None,
    description: str = "",
):
    require_role(user.role, ADMIN)  # before the costly offer
    from ilrs.portal.station import check_call_window, offer_from_scenario

    check_call_window(scenario, cycle_start, cycle_end)
    if resources is None:
        resources = offer_from_scenario(scenario, cycle_start, cycle_end)
    return actions.create_call(
        db, deps.actor(user), title, scenario, cycle_start, cycle_end, deadline, resources, description
    )


@api.get("", response_model=list[CallOut])
def calls(user: ApiUser, db: SessionDep) -> list[CallOut]:
    return [CallOut.model_validate(c) for c in actions.list_calls(db)]


@api.post(
    "",
    response_model=CallOut,
    status_code=201,
    summary="Open a call (administrators); without resources, the offer comes from the scenario's twin",
)
def create_call(body: CallIn, user: ApiUser, db: SessionDep) -> CallOut:
    lines = (
        None
        if body.resources is None
        else [OfferLine(r.key, r.label or r.key, r.unit, r.quantity) for r in body.resources]
    )
    return CallOut.model_validate(
        make_call(
            db,
            user,
            body.title,
            body.scenario,
            body.cycle_start,
            body.cycle_end,
            body.deadline,
            lines,
            body.description,
        )
    )


@api.get("/{call_id}", response_model=CallOut)
def call(call_id: CallId, user: ApiUser, db: SessionDep) -> CallOut:
    return CallOut.model_validate(actions.get_call(db, call_id))


@api.get("/{call_id}/oversubscription", response_model=list[OversubscriptionOut])
def oversubscription(call_id: CallId, user: ApiUser, db: SessionDep) -> list[OversubscriptionOut]:
    rows = actions.call_oversubscription(db, actions.get_call(db, call_id))
    return [OversubscriptionOut(**asdict(o), factor=o.factor if o.offered > 0 else None) for o in rows]


@api.get("/{call_id}/ranking", response_model=list[RankedOut], summary="Ranking by review score (administrators)")
def ranking(call_id: CallId, user: ApiUser, db: SessionDep) -> list[RankedOut]:
    return [RankedOut(**asdict(r)) for r in actions.ranking(db, deps.actor(user), call_id)]


@api.get(
    "/{call_id}/schedule",
    response_model=list[ScheduledOut],
    summary="Accepted activities: all for staff, a partner's own for partners",
    description="Planned by the operations planner in the background. While it is at work (a cold twin takes "
    "tens of seconds) the answer is 202 Accepted with a Retry-After header and the requested windows "
    "(state 'being planned'); 200 once the plan is done.",
    responses={202: {"description": "the planner is still at work: the requested windows; ask again"}},
)
def schedule(
    call_id: CallId,
    user: ApiUser,
    db: SessionDep,
    response: Response,
    wait: Annotated[float, Query(ge=0, le=30, description="seconds to wait for the planner [s]")] = PLAN_WAIT_S,
) -> list[ScheduledOut]:
    plan = actions.schedule(db, deps.actor(user), actions.get_call(db, call_id), wait_s=wait)
    if plan.pending:
        response.status_code = 202
        response.headers["Retry-After"] = str(RETRY_S)
    return [ScheduledOut(**{**asdict(a), "resources": list(a.resources)}) for a in plan.rows]


# ---- pages --------------------------------------------------------------------------------------------------------


@pages.get("/calls", response_class=HTMLResponse)
def calls_page(request: Request, session: PageSession, db: SessionDep, now: NowDep) -> HTMLResponse:
    return render(request, "calls.html", session, calls=actions.list_calls(db), now=now, title="Calls")


@pages.get("/calls/{call_id}", response_class=HTMLResponse)
def call_page(request: Request, call_id: CallId, session: PageSession, db: SessionDep, now: NowDep) -> HTMLResponse:
    c = actions.get_call(db, call_id)
    a = deps.actor(session[0])
    ranked = actions.ranking(db, a, call_id) if a.role == ADMIN else None
    return render(
        request,
        "call.html",
        session,
        call=c,
        now=now,
        over=actions.call_oversubscription(db, c),
        proposals=actions.visible_proposals(db, a, call_id),
        ranked=ranked,
        reviewers=actions.reviewers(db) if a.role == ADMIN else [],
        title=c.title,
    )


@pages.get("/calls/{call_id}/schedule", response_class=HTMLResponse)
def schedule_page(request: Request, call_id: CallId, session: PageSession, db: SessionDep) -> HTMLResponse:
    c = actions.get_call(db, call_id)
    plan = actions.schedule(db, deps.actor(session[0]), c, wait_s=PLAN_WAIT_S)
    return render(
        request,
        "schedule.html",
        session,
        call=c,
        rows=plan.rows,
        note=plan.note,
        pending=plan.pending,
        retry_s=RETRY_S,
        title=f"Schedule: {c.title}",
    )


@pages.post("/admin/calls")
def call_post(
    request: Request,
    session: PageSession,
    db: SessionDep,
    _: deps.CsrfChecked,
    title: Annotated[Text, Form(max_length=200)] = "",
    cycle_start: Annotated[UtcTime, Form()] = dt.datetime(2035, 6, 1),
    cycle_end: Annotated[UtcTime, Form()] = dt.datetime(2035, 7, 1),
    deadline: Annotated[UtcTime, Form()] = dt.datetime(2035, 3, 1),
):
    c = make_call(
        db,
        session[0],
        title,
        request.app.state.settings.scenario,
        cycle_start,
        cycle_end,
        deadline,
        None,
    )
    return redirect(f"/calls/{c.id}")
