"""Sign-in, sign-out, registration by invitation, password change: API (bearer tokens) and pages (cookies)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from ilrs.portal import actions, deps
from ilrs.portal.deps import ApiUser, NowDep, OptionalPageSession, PageSession, SessionDep, SettingsDep
from ilrs.portal.schemas import LoginIn, PasswordIn, RegisterIn, Text, TokenOut, UserOut
from ilrs.portal.security import new_token, token_digest

api = APIRouter(prefix="/api", tags=["auth"])
pages = APIRouter(include_in_schema=False)


@api.post("/auth/token", response_model=TokenOut, summary="Sign in: a bearer token for the API")
def login_api(body: LoginIn, request: Request, db: SessionDep, settings: SettingsDep, now: NowDep) -> TokenOut:
    user = actions.authenticate(db, body.email, body.password, deps.client_address(request), now)
    token, row = actions.issue_token(db, user, "api", settings.api_token_hours)
    return TokenOut(access_token=token, expires_at=row.expires_at)


@api.delete("/auth/token", status_code=204, summary="Sign out: revoke this bearer token")
def logout_api(user: ApiUser, db: SessionDep, token: Annotated[str, deps.Depends(deps.api_token)]) -> Response:
    actions.revoke_token(db, token, deps.actor(user))
    return Response(status_code=204)


@api.get("/me", response_model=UserOut)
def me(user: ApiUser) -> UserOut:
    return UserOut.model_validate(user)


@api.post("/me/password", status_code=204, summary="Change the password (ends every other session and token)")
def password_api(
    body: PasswordIn, user: ApiUser, db: SessionDep, token: Annotated[str, deps.Depends(deps.api_token)]
) -> Response:
    actions.change_password(db, user, body.current_password, body.new_password, keep_digest=token_digest(token))
    return Response(status_code=204)


@api.post("/register", response_model=UserOut, status_code=201, summary="Register with an invitation token")
def register_api(body: RegisterIn, db: SessionDep) -> UserOut:
    return UserOut.model_validate(actions.register(db, body.token, body.display_name, body.password))


# ---- pages --------------------------------------------------------------------------------------------------------


def render(request: Request, name: str, session=None, status_code: int = 200, *, title: str, **ctx) -> HTMLResponse:
    """A page under ``title`` (its heading, and with the portal's name its browser title: every page names what it
    shows); before sign-in it sets the pre-session cookie its form's CSRF token is bound to."""
    pre = None
    if session is None:
        pre = request.cookies.get(deps.PRE_COOKIE) or new_token()
        ctx["csrf_token"] = deps.pre_csrf(request, pre)
    else:
        ctx["csrf_token"] = session[1].csrf
        ctx["me"] = session[0]
    ctx["title"] = title
    resp = deps.templates.TemplateResponse(request, name, ctx, status_code=status_code)
    if pre and request.cookies.get(deps.PRE_COOKIE) != pre:
        resp.set_cookie(
            deps.PRE_COOKIE, pre, httponly=True, samesite="lax", secure=request.app.state.settings.secure_cookies
        )
    return resp


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


@pages.get("/login", response_class=HTMLResponse)
def login_page(request: Request, session: OptionalPageSession, next: str = "/") -> HTMLResponse:
    target = next if next.startswith("/") and "//" not in next else "/"
    return render(request, "login.html", None, title="Sign in", next=target)


@pages.post("/login")
def login_post(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    email: Annotated[Text, Form(max_length=254)] = "",
    password: Annotated[Text, Form(max_length=1024)] = "",
    csrf_token: Annotated[Text, Form(max_length=200)] = "",
    next: Annotated[Text, Form(max_length=2000)] = "/",
):
    deps.check_csrf(request, None, csrf_token)
    user = actions.authenticate(db, email, password, deps.client_address(request), now)
    token, _ = actions.issue_token(db, user, "session", settings.session_hours)
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    resp = redirect(target)
    resp.set_cookie(
        deps.SESSION_COOKIE,
        deps.signer(settings).dumps(token),
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        max_age=int(settings.session_hours * 3600),
    )
    return resp


@pages.post("/logout")
def logout_post(request: Request, db: SessionDep, session: PageSession, _: deps.CsrfChecked):
    actions.revoke_token(db, session[2], deps.actor(session[0]))
    resp = redirect("/login")
    resp.delete_cookie(deps.SESSION_COOKIE)
    return resp


@pages.get("/register", response_class=HTMLResponse)
def register_page(request: Request, token: str = "") -> HTMLResponse:
    return render(request, "register.html", None, title="Register with an invitation", token=token[:200])


@pages.post("/register")
def register_post(
    request: Request,
    db: SessionDep,
    token: Annotated[Text, Form(max_length=200)] = "",
    display_name: Annotated[Text, Form(max_length=120)] = "",
    password: Annotated[Text, Form(max_length=1024)] = "",
    csrf_token: Annotated[Text, Form(max_length=200)] = "",
):
    deps.check_csrf(request, None, csrf_token)
    actions.register(db, token, display_name, password)
    return redirect("/login?registered=1")


@pages.get("/account", response_class=HTMLResponse)
def account_page(request: Request, session: PageSession, changed: int = 0) -> HTMLResponse:
    return render(request, "account.html", session, title="Your account", changed=bool(changed))


@pages.post("/account/password")
def password_post(
    request: Request,
    db: SessionDep,
    session: PageSession,
    _: deps.CsrfChecked,
    current_password: Annotated[Text, Form(max_length=1024)] = "",
    new_password: Annotated[Text, Form(max_length=1024)] = "",
):
    actions.change_password(db, session[0], current_password, new_password, keep_digest=session[1].digest)
    return redirect("/account?changed=1")
