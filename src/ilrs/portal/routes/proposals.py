"""Proposals: drafts, submission before the deadline, reviewer assignment and allocation (administrators)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse

from ilrs.portal import actions, deps
from ilrs.portal.deps import ApiUser, NowDep, PageSession, SessionDep
from ilrs.portal.routes.auth import redirect, render
from ilrs.portal.rules import ADMIN, Forbidden, Invalid, can_edit_proposal, require_role
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


def form_data(
    title: str,
    abstract: str,
    payload: str,
    resources: str,
    activities: str,
    coinvestigators: str,
    proprietary_months: str,
) -> dict:
    """The proposal form's fields as the API's body: resources one 'key = amount' per line, activities JSON."""
    req: dict[str, float] = {}
    for n, line in enumerate(resources.splitlines(), start=1):
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        try:
            amount = float(value)
        except ValueError:
            amount = float("nan")
        if not sep or not key.strip() or amount != amount or amount in (float("inf"), float("-inf")):
            raise Invalid(f"line {n}: write 'key = amount', e.g. 'energy_kwh = 20'", source="resources")
        req[key.strip()] = amount
    acts = None
    if activities.strip():
        try:
            acts = json.loads(activities)
        except json.JSONDecodeError as exc:
            raise Invalid(f"not JSON: {exc}", source="activities") from None
        if isinstance(acts, dict) and "requests" in acts:
            acts = acts["requests"]
    try:
        months = int(proprietary_months)
    except ValueError:
        raise Invalid("choose 0, 3, 6 or 12 months", source="proprietary_months") from None
    return {
        "title": title,
        "abstract": abstract,
        "payload": payload,
        "resources": req,
        "activities": acts,
        "proprietary_months": months,
        "coinvestigators": [e for e in coinvestigators.replace(";", ",").split(",") if e.strip()],
    }


Field_ = Annotated[Text, Form(max_length=20000)]


@pages.get("/proposals", response_class=HTMLResponse)
def proposals_page(request: Request, session: PageSession, db: SessionDep) -> HTMLResponse:
    return render(
        request,
        "proposals.html",
        session,
        proposals=actions.visible_proposals(db, deps.actor(session[0])),
        title="Proposals",
    )


@pages.get("/proposals/new", response_class=HTMLResponse)
def new_page(
    request: Request, session: PageSession, db: SessionDep, call_id: Annotated[int, Query(ge=1, le=2**31 - 1)]
) -> HTMLResponse:
    return render(
        request, "proposal_form.html", session, call=actions.get_call(db, call_id), p=None, title="New proposal"
    )


@pages.post("/proposals")
def create_post(
    request: Request,
    session: PageSession,
    db: SessionDep,
    now: NowDep,
    _: deps.CsrfChecked,
    call_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
    title: Field_ = "",
    abstract: Field_ = "",
    payload: Field_ = "",
    resources: Field_ = "",
    activities: Annotated[Text, Form(max_length=200000)] = "",
    coinvestigators: Field_ = "",
    proprietary_months: Annotated[Text, Form(max_length=4)] = "12",
):
    data = form_data(title, abstract, payload, resources, activities, coinvestigators, proprietary_months)
    p = actions.create_proposal(db, deps.actor(session[0]), call_id, data, now)
    return redirect(f"/proposals/{p.id}")


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
    return render(
        request,
        "proposal_form.html",
        session,
        call=actions.get_call(db, p.call_id),
        p=p,
        activities_json=json.dumps(p.activities, indent=2) if p.activities else "",
        title="Edit proposal",
    )


@pages.post("/proposals/{proposal_id}/edit")
def edit_post(
    request: Request,
    proposal_id: ProposalId,
    session: PageSession,
    db: SessionDep,
    now: NowDep,
    _: deps.CsrfChecked,
    title: Field_ = "",
    abstract: Field_ = "",
    payload: Field_ = "",
    resources: Field_ = "",
    activities: Annotated[Text, Form(max_length=200000)] = "",
    coinvestigators: Field_ = "",
    proprietary_months: Annotated[Text, Form(max_length=4)] = "12",
):
    data = form_data(title, abstract, payload, resources, activities, coinvestigators, proprietary_months)
    actions.update_proposal(db, deps.actor(session[0]), proposal_id, data, now)
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
