"""Proposals: drafts, submission before the deadline, reviewer assignment and allocation (administrators)."""

from __future__ import annotations

import contextlib
import json
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import StringConstraints

from ilrs.operations.requests import CONDITIONS, DEFAULT_RESOURCES
from ilrs.portal import actions, deps, forms, rules
from ilrs.portal.deps import ApiUser, NowDep, PageSession, SessionDep
from ilrs.portal.routes.auth import redirect, render
from ilrs.portal.rules import ADMIN, Conflict, Forbidden, Invalid, PortalError, can_edit_proposal, require_role
from ilrs.portal.schemas import (
    AllocationIn,
    AllocationOut,
    AssignIn,
    ProposalIn,
    ProposalOut,
    ReviewOut,
    Text,
    proposal_out,
)

api = APIRouter(prefix="/api/proposals", tags=["proposals"])
pages = APIRouter(include_in_schema=False)
ProposalId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def allocation_out(a) -> AllocationOut:
    return AllocationOut(
        id=a.id, proposal_id=a.proposal_id, key=a.resource.key, amount=a.amount, created_at=a.created_at
    )


@api.get("", response_model=list[ProposalOut], summary="The proposals you may see")
def proposals(
    user: ApiUser, db: SessionDep, call_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None
) -> list[ProposalOut]:
    return [proposal_out(p) for p in actions.visible_proposals(db, deps.actor(user), call_id)]


@api.post("", response_model=ProposalOut, status_code=201, summary="Create a draft (principal investigators)")
def create(body: ProposalIn, user: ApiUser, db: SessionDep, now: NowDep) -> ProposalOut:
    if body.call_id is None:
        raise Invalid("call_id is needed to create a proposal", source="call_id")
    return proposal_out(actions.create_proposal(db, deps.actor(user), body.call_id, body.model_dump(), now))


@api.get("/{proposal_id}", response_model=ProposalOut)
def get(proposal_id: ProposalId, user: ApiUser, db: SessionDep) -> ProposalOut:
    return proposal_out(actions.get_proposal(db, deps.actor(user), proposal_id))


@api.put("/{proposal_id}", response_model=ProposalOut, summary="Edit a draft")
def update(proposal_id: ProposalId, body: ProposalIn, user: ApiUser, db: SessionDep, now: NowDep) -> ProposalOut:
    return proposal_out(actions.update_proposal(db, deps.actor(user), proposal_id, body.model_dump(), now))


@api.post("/{proposal_id}/submit", response_model=ProposalOut, summary="Submit a draft (before the deadline)")
def submit(proposal_id: ProposalId, user: ApiUser, db: SessionDep, now: NowDep) -> ProposalOut:
    return proposal_out(actions.submit_proposal(db, deps.actor(user), proposal_id, now))


@api.post(
    "/{proposal_id}/reviewers",
    response_model=ReviewOut,
    status_code=201,
    summary="Assign a reviewer without conflict of interest (administrators)",
)
def assign(proposal_id: ProposalId, body: AssignIn, user: ApiUser, db: SessionDep) -> ReviewOut:
    return ReviewOut.model_validate(actions.assign_reviewer(db, deps.actor(user), proposal_id, body.reviewer_id))


@api.get(
    "/{proposal_id}/reviews",
    response_model=list[ReviewOut],
    summary="Reviews of a proposal (administrators: all; a reviewer: their own)",
)
def reviews(proposal_id: ProposalId, user: ApiUser, db: SessionDep) -> list[ReviewOut]:
    actions.get_proposal(db, deps.actor(user), proposal_id)
    return [ReviewOut.model_validate(r) for r in actions.visible_reviews(db, deps.actor(user), proposal_id)]


@api.post(
    "/{proposal_id}/allocations",
    response_model=AllocationOut,
    status_code=201,
    summary="Allocate a resource (administrators); never beyond what the call offers",
)
def allocate(proposal_id: ProposalId, body: AllocationIn, user: ApiUser, db: SessionDep) -> AllocationOut:
    return allocation_out(actions.allocate(db, deps.actor(user), proposal_id, body.key, body.amount))


@api.get("/{proposal_id}/allocations", response_model=list[AllocationOut])
def allocations(proposal_id: ProposalId, user: ApiUser, db: SessionDep) -> list[AllocationOut]:
    actions.get_proposal(db, deps.actor(user), proposal_id)
    return [allocation_out(a) for a in actions.allocations_of(db, proposal_id)]


@api.post("/{proposal_id}/reject", response_model=ProposalOut, summary="Decline (administrators)")
def reject(proposal_id: ProposalId, user: ApiUser, db: SessionDep) -> ProposalOut:
    return proposal_out(actions.reject_proposal(db, deps.actor(user), proposal_id))


# ---- pages --------------------------------------------------------------------------------------------------------


Field_ = Annotated[Text, Form(max_length=20000)]
#: One column of the activity editor: a value per row (at most 200 rows, the planner's format allows more by JSON).
Column = Annotated[list[Annotated[Text, StringConstraints(max_length=200)]], Form(max_length=200)]
Boxes = Annotated[list[Annotated[Text, StringConstraints(max_length=40)]], Form(max_length=2000)]
#: The form's fields a problem can be shown next to; others (a closed call, a stale version) go above the form.
FORM_FIELDS = frozenset({"title", "abstract", "payload", "resources", "activities", "coinvestigators",
                         "proprietary_months"})  # fmt: skip


def proposal_form(
    title: Field_ = "",
    abstract: Field_ = "",
    payload: Field_ = "",
    resources: Field_ = "",
    activities: Annotated[Text, Form(max_length=200000)] = "",
    coinvestigators: Field_ = "",
    proprietary_months: Annotated[Text, Form(max_length=4)] = "12",
    act_id: Column = [],  # noqa: B006 (FastAPI copies defaults)
    act_payload: Column = [],  # noqa: B006
    act_duration: Column = [],  # noqa: B006
    act_earliest: Column = [],  # noqa: B006
    act_deadline: Column = [],  # noqa: B006
    act_repeat_every: Column = [],  # noqa: B006
    act_repeat_count: Column = [],  # noqa: B006
    act_power_w: Column = [],  # noqa: B006
    act_data_mbit: Column = [],  # noqa: B006
    act_priority: Column = [],  # noqa: B006
    act_conditions: Boxes = [],  # noqa: B006
    act_resources: Boxes = [],  # noqa: B006
    editor: Annotated[Text, Form(max_length=20)] = "",
) -> forms.ProposalForm:
    """The proposal form as typed; activities from the editor's rows, or JSON pasted in the activities box."""
    columns = {
        "id": act_id,
        "payload": act_payload,
        "duration": act_duration,
        "earliest": act_earliest,
        "deadline": act_deadline,
        "repeat_every": act_repeat_every,
        "repeat_count": act_repeat_count,
        "power_w": act_power_w,
        "data_mbit": act_data_mbit,
        "priority": act_priority,
    }
    return forms.ProposalForm(
        title=title,
        abstract=abstract,
        payload=payload,
        resources=resources,
        activities_json=activities,
        coinvestigators=coinvestigators,
        proprietary_months=proprietary_months,
        rows=forms.rows_from_form(columns, act_conditions, act_resources),
        editor=editor,
    )


FormDep = Annotated[forms.ProposalForm, Depends(proposal_form)]


def _form_page(
    request: Request,
    session,
    call,
    p,
    form: forms.ProposalForm,
    error: PortalError | None = None,
    problems: dict[int, str] | None = None,
) -> HTMLResponse:
    """The proposal form, with what was typed and, after a refusal, the problem next to its field."""
    errors: dict[str, str] = {}
    if error is not None:
        field = error.source if error.source in FORM_FIELDS else "form"
        errors[field] = rules.message_of(error)
    return render(
        request,
        "proposal_form.html",
        session,
        status_code=(409 if isinstance(error, Conflict) else 422) if error else 200,
        call=call,
        p=p,
        form=form,
        rows=form.rows or [forms.ActivityRow()],
        blank_row=forms.ActivityRow(),
        errors=errors,
        problems=problems or {},
        conditions=CONDITIONS,
        activity_resources=DEFAULT_RESOURCES,
        title=f"Edit: {p.title}" if p else f"New proposal: {call.title}",
    )


def _row_problems(db, session, call_id: int, form: forms.ProposalForm) -> tuple[dict[int, str], PortalError | None]:
    """Each editor row's problem (by row index) and the whole proposal's first problem, nothing stored."""
    partner = session[0].organisation.name
    data = form.data(partner)
    check = actions.check_proposal(db, deps.actor(session[0]), call_id, data, each_activity=form.uses_rows())
    problems: dict[int, str] = {}
    if form.uses_rows():
        filled = [i for i, r in enumerate(form.rows) if not r.blank()]
        problems = {i: text for i, text in zip(filled, check.activities, strict=False) if text}
    return problems, check.error


def _refused(request, session, db, call_id: int, p, form, exc: PortalError) -> HTMLResponse:
    """The form again after ``exc``: nothing of the attempt is kept in the database, everything typed on the
    page."""
    db.rollback()
    problems: dict[int, str] = {}
    with contextlib.suppress(PortalError):
        problems, _ = _row_problems(db, session, call_id, form)
    return _form_page(request, session, actions.get_call(db, call_id), p, form, exc, problems)


@pages.get("/proposals", response_class=HTMLResponse)
def proposals_page(request: Request, session: PageSession, db: SessionDep) -> HTMLResponse:
    proposals = actions.visible_proposals(db, deps.actor(session[0]))
    calls = {c.id: c for c in actions.list_calls(db)}
    # newest call first, then the most recently changed proposal first
    proposals.sort(key=lambda p: (-p.call_id, -p.updated_at.timestamp(), -p.id))
    return render(request, "proposals.html", session, proposals=proposals, calls=calls, title="Proposals")


@pages.get("/proposals/new", response_class=HTMLResponse)
def new_page(
    request: Request, session: PageSession, db: SessionDep, call_id: Annotated[int, Query(ge=1, le=2**31 - 1)]
) -> HTMLResponse:
    return _form_page(request, session, actions.get_call(db, call_id), None, forms.ProposalForm())


@pages.post("/proposals", response_model=None)
def create_post(
    request: Request,
    session: PageSession,
    db: SessionDep,
    now: NowDep,
    _: deps.CsrfChecked,
    call_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
    form: FormDep,
) -> HTMLResponse | RedirectResponse:
    if form.editor:  # an editor button without JavaScript: the form again, edited, nothing saved
        return _form_page(request, session, actions.get_call(db, call_id), None, form.edited())
    try:
        data = form.data(session[0].organisation.name)
        p = actions.create_proposal(db, deps.actor(session[0]), call_id, data, now)
    except (Invalid, Conflict) as exc:
        return _refused(request, session, db, call_id, None, form, exc)
    return redirect(f"/proposals/{p.id}")


@pages.post("/proposals/check", response_model=None)
def check_post(
    session: PageSession,
    db: SessionDep,
    _: deps.CsrfChecked,
    call_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
    form: FormDep,
) -> JSONResponse:
    """The form's live check (the editor's script posts the form here as it is typed): each activity row's
    problem against the call's offer and the proposal's first problem, by the same rules as saving; nothing is
    stored. Rows are listed in the page's order, blank ones as null."""
    try:
        problems, error = _row_problems(db, session, call_id, form)
    except Invalid as exc:
        problems, error = {}, exc
    db.rollback()
    body = {
        "ok": error is None and not problems,
        "field": (error.source if error.source in FORM_FIELDS else "form") if error else None,
        "message": rules.message_of(error) if error else None,
        "rows": [problems.get(i) for i in range(len(form.rows))] if form.uses_rows() else [],
    }
    return JSONResponse(body)


@pages.get("/proposals/{proposal_id}", response_class=HTMLResponse)
def proposal_page(
    request: Request, proposal_id: ProposalId, session: PageSession, db: SessionDep, now: NowDep
) -> HTMLResponse:
    a = deps.actor(session[0])
    p = actions.get_proposal(db, a, proposal_id)
    access = actions.access_of(db, p)
    return render(
        request,
        "proposal.html",
        session,
        p=p,
        call=actions.get_call(db, p.call_id),
        now=now,
        can_edit=can_edit_proposal(a, access, p.pi_id),
        reviews=actions.visible_reviews(db, a, p.id),
        allocations=actions.allocations_of(db, p.id),
        products=actions.data_products(db, a, p.id),
        reviewers=actions.reviewers(db) if a.role == ADMIN else [],
        activities_json=json.dumps(p.activities, indent=2) if p.activities else "",
        title=p.title,
    )


@pages.get("/proposals/{proposal_id}/edit", response_class=HTMLResponse)
def edit_page(request: Request, proposal_id: ProposalId, session: PageSession, db: SessionDep) -> HTMLResponse:
    a = deps.actor(session[0])
    p = actions.get_proposal(db, a, proposal_id)
    if not can_edit_proposal(a, actions.access_of(db, p), p.pi_id):
        raise Forbidden("only the principal investigator edits a proposal, and only while it is a draft")
    return _form_page(request, session, actions.get_call(db, p.call_id), p, forms.ProposalForm.of_proposal(p))


@pages.post("/proposals/{proposal_id}/edit", response_model=None)
def edit_post(
    request: Request,
    proposal_id: ProposalId,
    session: PageSession,
    db: SessionDep,
    now: NowDep,
    _: deps.CsrfChecked,
    form: FormDep,
) -> HTMLResponse | RedirectResponse:
    if form.editor:
        p = actions.get_proposal(db, deps.actor(session[0]), proposal_id)
        return _form_page(request, session, actions.get_call(db, p.call_id), p, form.edited())
    try:
        data = form.data(session[0].organisation.name)
        actions.update_proposal(db, deps.actor(session[0]), proposal_id, data, now)
    except (Invalid, Conflict) as exc:
        db.rollback()
        p = actions.get_proposal(db, deps.actor(session[0]), proposal_id)
        return _refused(request, session, db, p.call_id, p, form, exc)
    return redirect(f"/proposals/{proposal_id}")


@pages.post("/proposals/{proposal_id}/submit")
def submit_post(
    request: Request, proposal_id: ProposalId, session: PageSession, db: SessionDep, now: NowDep, _: deps.CsrfChecked
):
    actions.submit_proposal(db, deps.actor(session[0]), proposal_id, now)
    return redirect(f"/proposals/{proposal_id}")


@pages.post("/proposals/{proposal_id}/reviewers")
def assign_post(
    request: Request,
    proposal_id: ProposalId,
    session: PageSession,
    db: SessionDep,
    _: deps.CsrfChecked,
    reviewer_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
):
    actions.assign_reviewer(db, deps.actor(session[0]), proposal_id, reviewer_id)
    return redirect(f"/proposals/{proposal_id}")


@pages.post("/proposals/{proposal_id}/allocations")
def allocate_post(
    request: Request,
    proposal_id: ProposalId,
    session: PageSession,
    db: SessionDep,
    _: deps.CsrfChecked,
    key: Annotated[Text, Form(max_length=120)],
    amount: Annotated[float, Form(gt=0, le=1e12, allow_inf_nan=False)],
):
    actions.allocate(db, deps.actor(session[0]), proposal_id, key, amount)
    return redirect(f"/proposals/{proposal_id}")


@pages.post("/proposals/{proposal_id}/reject")
def reject_post(request: Request, proposal_id: ProposalId, session: PageSession, db: SessionDep, _: deps.CsrfChecked):
    require_role(session[0].role, ADMIN)
    actions.reject_proposal(db, deps.actor(session[0]), proposal_id)
    return redirect(f"/proposals/{proposal_id}")
