"""Reviews: a reviewer's assignments, scores and comments. Partners never read reviews."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse

from ilrs.portal import actions, deps
from ilrs.portal.db.models import Proposal
from ilrs.portal.deps import ApiUser, PageSession, SessionDep
from ilrs.portal.routes.auth import redirect, render
from ilrs.portal.schemas import ReviewIn, ReviewOut, Text

api = APIRouter(prefix="/api/reviews", tags=["reviews"])
pages = APIRouter(include_in_schema=False)
ReviewId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@api.get("", response_model=list[ReviewOut], summary="Your reviews (administrators: all)")
def reviews(user: ApiUser, db: SessionDep) -> list[ReviewOut]:
    return [ReviewOut.model_validate(r) for r in actions.visible_reviews(db, deps.actor(user))]


@api.get("/{review_id}", response_model=ReviewOut)
def review(review_id: ReviewId, user: ApiUser, db: SessionDep) -> ReviewOut:
    return ReviewOut.model_validate(actions.get_review(db, deps.actor(user), review_id))


@api.put("/{review_id}", response_model=ReviewOut, summary="Score (1-5) and comment (the assigned reviewer)")
def write(review_id: ReviewId, body: ReviewIn, user: ApiUser, db: SessionDep) -> ReviewOut:
    return ReviewOut.model_validate(actions.submit_review(db, deps.actor(user), review_id, body.score, body.comment))


@pages.get("/reviews", response_class=HTMLResponse)
def reviews_page(request: Request, session: PageSession, db: SessionDep) -> HTMLResponse:
    rows = actions.visible_reviews(db, deps.actor(session[0]))
    props = {r.proposal_id: db.get(Proposal, r.proposal_id) for r in rows}
    # the reviews still to score first, each group by proposal title
    rows.sort(key=lambda r: (r.score is not None, getattr(props[r.proposal_id], "title", "").casefold(), r.id))
    return render(request, "reviews.html", session, reviews=rows, props=props, title="Reviews")


@pages.get("/reviews/{review_id}", response_class=HTMLResponse)
def review_page(request: Request, review_id: ReviewId, session: PageSession, db: SessionDep) -> HTMLResponse:
    a = deps.actor(session[0])
    r = actions.get_review(db, a, review_id)
    p = actions.get_proposal(db, a, r.proposal_id)
    return render(request, "review.html", session, r=r, p=p, title=f"Review: {p.title}")


@pages.post("/reviews/{review_id}")
def review_post(
    request: Request,
    review_id: ReviewId,
    session: PageSession,
    db: SessionDep,
    _: deps.CsrfChecked,
    score: Annotated[int, Form(ge=1, le=5)],
    comment: Annotated[Text, Form(max_length=20000)] = "",
):
    actions.submit_review(db, deps.actor(session[0]), review_id, score, comment)
    return redirect(f"/reviews/{review_id}")
