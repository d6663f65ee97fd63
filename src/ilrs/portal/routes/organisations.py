"""Organisations, users and invitations (administrators)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Path, Request, Response
from fastapi.responses import HTMLResponse

from ilrs.portal import actions, deps
from ilrs.portal.deps import ApiUser, PageSession, SessionDep
from ilrs.portal.routes.auth import redirect, render
from ilrs.portal.rules import ADMIN, require_role
from ilrs.portal.schemas import (
    InvitationIn,
    InvitationOut,
    InvitationStateOut,
    OrganisationIn,
    OrganisationOut,
    Text,
    UserAdminOut,
    UserOut,
)

api = APIRouter(prefix="/api", tags=["organisations"])
pages = APIRouter(include_in_schema=False)


@api.get("/organisations", response_model=list[OrganisationOut])
def organisations(user: ApiUser, db: SessionDep) -> list[OrganisationOut]:
    return [OrganisationOut.model_validate(o) for o in actions.list_organisations(db)]


@api.post("/organisations", response_model=OrganisationOut, status_code=201)
def create_organisation(body: OrganisationIn, user: ApiUser, db: SessionDep) -> OrganisationOut:
    return OrganisationOut.model_validate(
        actions.create_organisation(db, deps.actor(user), body.name, body.country, body.kind)
    )


@api.get("/reviewers", response_model=list[UserOut], summary="Reviewers (administrators)")
def reviewers(user: ApiUser, db: SessionDep) -> list[UserOut]:
    require_role(user.role, ADMIN)
    return [UserOut.model_validate(u) for u in actions.reviewers(db)]


@api.post("/invitations", response_model=InvitationOut, status_code=201)
def invite(body: InvitationIn, request: Request, user: ApiUser, db: SessionDep) -> InvitationOut:
    token, inv = actions.invite(db, deps.actor(user), body.email, body.role, body.organisation_id)
    return InvitationOut(
        id=inv.id,
        email=inv.email,
        role=inv.role,
        organisation_id=inv.organisation_id,
        expires_at=inv.expires_at,
        token=token,
        register_url=str(request.url_for("register_page").include_query_params(token=token)),
    )


Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


@api.get("/users", response_model=list[UserAdminOut], summary="Every user (administrators)")
def users(user: ApiUser, db: SessionDep) -> list[UserAdminOut]:
    return [UserAdminOut.model_validate(u) for u in actions.list_users(db, deps.actor(user))]


@api.post("/users/{user_id}/disable", response_model=UserAdminOut, summary="Disable a user; their tokens end")
def disable_user(user_id: Id, user: ApiUser, db: SessionDep) -> UserAdminOut:
    return UserAdminOut.model_validate(actions.set_user_active(db, deps.actor(user), user_id, False))


@api.post("/users/{user_id}/enable", response_model=UserAdminOut, summary="Enable a user again (no old token)")
def enable_user(user_id: Id, user: ApiUser, db: SessionDep) -> UserAdminOut:
    return UserAdminOut.model_validate(actions.set_user_active(db, deps.actor(user), user_id, True))


@api.get("/invitations", response_model=list[InvitationStateOut], summary="Unused invitations (administrators)")
def invitations(user: ApiUser, db: SessionDep) -> list[InvitationStateOut]:
    return [InvitationStateOut.model_validate(i) for i in actions.list_invitations(db, deps.actor(user))]


@api.delete("/invitations/{invitation_id}", status_code=204, summary="Withdraw an unused invitation")
def revoke(invitation_id: Id, user: ApiUser, db: SessionDep) -> Response:
    actions.revoke_invitation(db, deps.actor(user), invitation_id)
    return Response(status_code=204)


@pages.get("/admin", response_class=HTMLResponse)
def admin_page(request: Request, session: PageSession, db: SessionDep, invited: str = "") -> HTMLResponse:
    require_role(session[0].role, ADMIN)
    return render(
        request,
        "admin.html",
        session,
        organisations=actions.list_organisations(db),
        invited=invited[:400],
        calls=actions.list_calls(db),
        users=actions.list_users(db, deps.actor(session[0])),
        invitations=actions.list_invitations(db, deps.actor(session[0])),
        title="Administration",
    )


@pages.post("/admin/organisations")
def organisation_post(
    request: Request,
    session: PageSession,
    db: SessionDep,
    _: deps.CsrfChecked,
    name: Annotated[Text, Form(max_length=80)] = "",
    country: Annotated[Text, Form(max_length=80)] = "",
):
    actions.create_organisation(db, deps.actor(session[0]), name, country)
    return redirect("/admin")


@pages.post("/admin/invitations")
def invitation_post(
    request: Request,
    session: PageSession,
    db: SessionDep,
    _: deps.CsrfChecked,
    email: Annotated[Text, Form(max_length=254)] = "",
    role: Annotated[Text, Form(max_length=20)] = "member",
    organisation_id: Annotated[int, Form(ge=1, le=2**31 - 1)] = 1,
):
    token, _inv = actions.invite(db, deps.actor(session[0]), email, role, organisation_id)
    url = str(request.url_for("register_page").include_query_params(token=token))
    return redirect("/admin?" + urlencode({"invited": url}))


@pages.post("/admin/users/{user_id}/active")
def user_active_post(
    request: Request,
    user_id: Id,
    session: PageSession,
    db: SessionDep,
    _: deps.CsrfChecked,
    active: Annotated[int, Form(ge=0, le=1)],
):
    actions.set_user_active(db, deps.actor(session[0]), user_id, bool(active))
    return redirect("/admin#users")


@pages.post("/admin/invitations/{invitation_id}/revoke")
def revoke_post(request: Request, invitation_id: Id, session: PageSession, db: SessionDep, _: deps.CsrfChecked):
    actions.revoke_invitation(db, deps.actor(session[0]), invitation_id)
    return redirect("/admin#invitations")
