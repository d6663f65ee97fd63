"""The portal's use cases over its database: each applies the rules of :mod:`ilrs.portal.rules` inside one
transaction and writes an audit event for every change. Pages and the JSON API call these same functions."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import CursorResult, bindparam, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from ilrs.portal import rules, security
from ilrs.portal.db.models import (
    Allocation,
    AuditEvent,
    AuthToken,
    Call,
    CallResource,
    CoInvestigator,
    DataProduct,
    Invitation,
    LoginThrottle,
    Organisation,
    Proposal,
    ResourceRequest,
    Review,
    User,
    utcnow,
)
from ilrs.portal.rules import (
    ADMIN,
    PI,
    REVIEWER,
    Actor,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    OfferLine,
    ProposalAccess,
)

T = TypeVar("T")


def _get(db: Session, model: type[T], key: int, what: str) -> T:
    """A row by primary key; NotFound (404) when there is none."""
    row = db.get(model, key)
    if row is None:
        raise NotFound(f"no such {what}", source=f"{what} {key}")
    return row


def _flush_unique(db: Session, message: str, source: str) -> None:
    """Flush; a unique key taken meanwhile by a concurrent request (it passed the same check) is a Conflict."""
    try:
        db.flush()
    except IntegrityError:
        db.rollback()
        raise Conflict(message, source=source) from None


def _lock(db: Session, model: type, key: int) -> None:
    """Lock one row for the rest of the transaction (SELECT ... FOR UPDATE on PostgreSQL; on SQLite a write
    transaction already holds the database's write lock): concurrent changes of it queue instead of
    overwriting each other. Take locks in one order, a proposal before a call's resource."""
    db.execute(select(model.id).where(model.id == key).with_for_update())  # type: ignore[attr-defined]


def actor_of(user: User) -> Actor:
    return Actor(user.id, user.role, user.organisation_id)


def audit(
    db: Session,
    actor: Actor | None,
    action: str,
    entity: str,
    entity_id: int | None,
    address: str | None = None,
    **detail,
) -> None:
    db.add(
        AuditEvent(
            user_id=actor.user_id if actor else None,
            action=action,
            entity=entity,
            entity_id=entity_id,
            detail=detail,
            at=utcnow(),
            address=address,
        )
    )


# ---- organisations, invitations, users ----------------------------------------------------------------------------


def create_organisation(
    db: Session, actor: Actor | None, name: str, country: str, kind: str = "institution"
) -> Organisation:
    if actor is not None:
        rules.require_role(actor.role, ADMIN)
    name, country = name.strip(), country.strip()
    if not name or not country:
        raise Invalid("an organisation needs a name and a country", source="organisation")
    if db.scalar(select(Organisation).where(Organisation.name == name)):
        raise Conflict(f"an organisation named {name!r} exists", source="name")
    org = Organisation(name=name, country=country, kind=kind)
    db.add(org)
    _flush_unique(db, f"an organisation named {name!r} exists", "name")
    audit(db, actor, "create", "organisation", org.id, name=name, country=country)
    db.commit()
    return org


def list_organisations(db: Session) -> list[Organisation]:
    return list(db.scalars(select(Organisation).order_by(Organisation.name)))


def create_user(
    db: Session, actor: Actor | None, email: str, display_name: str, password: str, role: str, organisation_id: int
) -> User:
    """Direct creation (set-up, demo, tests); people normally join by invitation."""
    rules.check_role(role)
    email = email.strip().lower()
    if db.scalar(select(User).where(User.email == email)):
        raise Conflict("a user with this e-mail exists", source="email")
    if db.get(Organisation, organisation_id) is None:
        raise Invalid("no such organisation", source="organisation_id")
    user = User(
        email=email,
        display_name=display_name.strip()[:120],
        password_hash=security.hash_password(password, email),
        role=role,
        organisation_id=organisation_id,
    )
    db.add(user)
    _flush_unique(db, "a user with this e-mail exists", "email")
    audit(db, actor, "create", "user", user.id, email=email, role=role, organisation_id=organisation_id)
    db.commit()
    return user


def bootstrap_admin(db: Session, email: str, display_name: str, password: str, organisation: str, country: str) -> User:
    """The first administrator of a fresh install (``ilrs portal create-admin``), with their organisation
    (created if missing). Refused once any administrator exists: later ones are invited."""
    if db.scalar(select(User.id).where(User.role == ADMIN).limit(1)) is not None:
        raise Conflict(
            "an administrator exists already",
            source="create-admin",
            hint="invite further administrators from the portal's administration page",
        )
    org = db.scalar(select(Organisation).where(Organisation.name == organisation.strip()))
    if org is None:
        org = create_organisation(db, None, organisation, country, kind="agency")
    user = create_user(db, None, email, display_name, password, ADMIN, org.id)
    audit(db, None, "bootstrap", "user", user.id, email=user.email)
    db.commit()
    return user


def invite(
    db: Session, actor: Actor, email: str, role: str, organisation_id: int, days: int = 14
) -> tuple[str, Invitation]:
    """An invitation for one e-mail address; returns the one-time token (only its digest is stored)."""
    rules.require_role(actor.role, ADMIN)
    rules.check_role(role)
    if db.get(Organisation, organisation_id) is None:
        raise Invalid("no such organisation", source="organisation_id")
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise Invalid("not an e-mail address", source="email")
    token = security.new_token()
    inv = Invitation(
        token_digest=security.token_digest(token),
        email=email,
        role=role,
        organisation_id=organisation_id,
        created_by=actor.user_id,
        expires_at=utcnow() + dt.timedelta(days=days),
    )
    db.add(inv)
    db.flush()
    audit(db, actor, "invite", "invitation", inv.id, email=email, role=role, organisation_id=organisation_id)
    db.commit()
    return token, inv


def register(db: Session, token: str, display_name: str, password: str) -> User:
    # the invitation's row is locked: of simultaneous registrations with one token, one uses it, the others
    # find it used
    inv = db.scalar(
        select(Invitation)
        .where(Invitation.token_digest == security.token_digest(token or ""))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if inv is None or inv.used_at is not None or inv.revoked_at is not None or inv.expires_at < utcnow():
        raise Invalid(
            "this invitation is not valid (unknown, used, withdrawn or expired)",
            source="token",
            hint="ask an administrator for a new invitation",
        )
    if not display_name.strip():
        raise Invalid("a display name is needed", source="display_name")
    security.check_password_strength(password, inv.email)
    if db.scalar(select(User).where(User.email == inv.email)):
        raise Conflict("a user with this e-mail exists", source="email")
    user = User(
        email=inv.email,
        display_name=display_name.strip()[:120],
        password_hash=security.hash_password(password, inv.email),
        role=inv.role,
        organisation_id=inv.organisation_id,
    )
    db.add(user)
    inv.used_at = utcnow()
    _flush_unique(db, "a user with this e-mail exists", "email")
    audit(db, Actor(user.id, user.role, user.organisation_id), "register", "user", user.id, invitation=inv.id)
    db.commit()
    return user


def _throttle_rows(db: Session, keys: dict[str, str], now: dt.datetime) -> dict[str, LoginThrottle]:
    """The throttle's rows for these keys, created if missing and locked for this transaction (in key order, so
    that two attempts never wait for each other crosswise)."""
    insert = (pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert)(LoginThrottle)
    rows = {}
    for kind, key in sorted(keys.items(), key=lambda kv: kv[1]):
        db.execute(
            insert.values(key=key, failures=0, next_allowed=None, updated_at=now).on_conflict_do_nothing(
                index_elements=["key"]
            )
        )
        rows[kind] = db.scalars(
            select(LoginThrottle)
            .where(LoginThrottle.key == key)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one()
    return rows


def list_users(db: Session, actor: Actor) -> list[User]:
    rules.require_role(actor.role, ADMIN)
    return list(db.scalars(select(User).order_by(User.organisation_id, User.email)))


def set_user_active(db: Session, actor: Actor, user_id: int, active: bool) -> User:
    """Disable or enable a user (administrators). Disabling ends every session and API token of the user at
    once and for good: enabling again does not bring an old token back; the user signs in anew."""
    rules.require_role(actor.role, ADMIN)
    if user_id == actor.user_id and not active:
        raise Conflict("administrators do not disable themselves", source="user_id")
    _lock(db, User, user_id)
    user = _get(db, User, user_id, "user")
    user.is_active = active
    if not active:
        db.execute(delete(AuthToken).where(AuthToken.user_id == user.id))
    audit(db, actor, "enable" if active else "disable", "user", user.id, email=user.email)
    db.commit()
    return user


def list_invitations(db: Session, actor: Actor) -> list[Invitation]:
    """Invitations not used yet (open, expired or withdrawn), newest first."""
    rules.require_role(actor.role, ADMIN)
    return list(db.scalars(select(Invitation).where(Invitation.used_at.is_(None)).order_by(Invitation.id.desc())))


def revoke_invitation(db: Session, actor: Actor, invitation_id: int) -> Invitation:
    """Withdraw an unused invitation (administrators): its token no longer registers anyone."""
    rules.require_role(actor.role, ADMIN)
    _lock(db, Invitation, invitation_id)
    inv = _get(db, Invitation, invitation_id, "invitation")
    if inv.used_at is not None:
        raise Conflict("this invitation has been used; disable the user instead", source="invitation")
    if inv.revoked_at is None:
        inv.revoked_at = utcnow()
        audit(db, actor, "revoke", "invitation", inv.id, email=inv.email)
    db.commit()
    return inv


def authenticate(db: Session, email: str, password: str, address: str, now: dt.datetime | None = None) -> User:
    """The user, or Invalid (wrong e-mail or password), or RateLimited while a throttle key backs off.

    The check and the count are one step: each attempt first counts itself as a failure on every key
    (:data:`ilrs.portal.security.THROTTLE`: the account from this address, the address, the account) under the
    rows' locks, and is refused if any key is backing off; only then is the password checked, outside the lock.
    Parallel guesses therefore get no more checks than the keys allow. A success forgets the account's failures
    (from this address and overall) and takes back its own count from the address. Every attempt is audited
    with the client's address."""
    now = now or utcnow()
    email = (email or "").strip().lower()[:254]
    address = (address or "?")[:64]
    keys = security.throttle_keys(email, address)
    rows = _throttle_rows(db, keys, now)
    waits = [r.next_allowed - now for r in rows.values() if r.next_allowed is not None and r.next_allowed > now]
    if waits:
        wait_s = max(1, int(max(waits).total_seconds() + 0.999))
        audit(db, None, "login_refused", "user", None, address, email=email, retry_after_s=wait_s)
        db.commit()
        raise rules.RateLimited(
            f"too many failed sign-ins; try again in {wait_s} s", source="login", retry_after_s=wait_s
        )
    for kind, row in rows.items():
        if row.updated_at < now - security.LOGIN_WINDOW:
            row.failures = 0
        row.failures += 1
        row.next_allowed = now + security.THROTTLE[kind].delay(row.failures)
        row.updated_at = now
    db.execute(delete(LoginThrottle).where(LoginThrottle.updated_at < now - security.LOGIN_WINDOW))
    db.commit()  # the count is visible to every other attempt before this one's password is checked

    user = db.scalar(select(User).where(User.email == email))
    ok = security.verify_password(user.password_hash if user else security.dummy_hash(), password or "")
    if not ok or user is None or not user.is_active:
        audit(db, None, "login_failed", "user", user.id if user else None, address, email=email)
        db.commit()
        raise Invalid("wrong e-mail or password", source="login")
    rows = _throttle_rows(db, keys, now)
    db.execute(delete(LoginThrottle).where(LoginThrottle.key.in_([keys["pair"], keys["account"]])))
    rows["address"].failures = max(0, rows["address"].failures - 1)
    rows["address"].next_allowed = now + security.THROTTLE["address"].delay(rows["address"].failures)
    audit(db, actor_of(user), "login", "user", user.id, address)
    db.commit()
    return user


def issue_token(db: Session, user: User, kind: str, hours: float) -> tuple[str, AuthToken]:
    token = security.new_token()
    row = AuthToken(
        digest=security.token_digest(token),
        kind=kind,
        user_id=user.id,
        csrf=security.new_token() if kind == "session" else "",
        expires_at=utcnow() + dt.timedelta(hours=hours),
    )
    db.add(row)
    db.commit()
    return token, row


#: The token lookup of every signed-in request, built once: SQLAlchemy then reuses its compiled form without
#: rebuilding the statement and its cache key per request (about a tenth of a simple read's CPU time).
_USER_FOR_TOKEN = (
    select(User, AuthToken)
    .join(AuthToken, AuthToken.user_id == User.id)
    .where(
        AuthToken.digest == bindparam("digest"),
        AuthToken.kind == bindparam("kind"),
        AuthToken.expires_at > bindparam("now"),
        User.is_active.is_(True),
    )
    .limit(1)
)


def user_for_token(db: Session, token: str, kind: str) -> tuple[User, AuthToken] | None:
    """The token's user (one query, checked on every request: a revoked token stops at once)."""
    found = db.execute(_USER_FOR_TOKEN, {"digest": security.token_digest(token), "kind": kind, "now": utcnow()}).first()
    return (found[0], found[1]) if found else None


def revoke_token(db: Session, token: str, actor: Actor | None = None) -> None:
    """Sign out: the session or API token ends at once."""
    db.execute(delete(AuthToken).where(AuthToken.digest == security.token_digest(token)))
    audit(db, actor, "logout", "user", actor.user_id if actor else None)
    db.commit()


def change_password(db: Session, user: User, current: str, new: str, keep_digest: str | None = None) -> None:
    if not security.verify_password(user.password_hash, current or ""):
        raise Invalid("the current password is wrong", source="current_password")
    user.password_hash = security.hash_password(new, user.email)
    # every other session and token of the user ends
    q = delete(AuthToken).where(AuthToken.user_id == user.id)
    if keep_digest:
        q = q.where(AuthToken.digest != keep_digest)
    db.execute(q)
    audit(db, actor_of(user), "change_password", "user", user.id)
    db.commit()


# ---- calls --------------------------------------------------------------------------------------------------------


def create_call(
    db: Session,
    actor: Actor,
    title: str,
    scenario: str,
    cycle_start: dt.datetime,
    cycle_end: dt.datetime,
    deadline: dt.datetime,
    offer: list[OfferLine],
    description: str = "",
) -> Call:
    rules.require_role(actor.role, ADMIN)
    title = rules.validate_call(title, cycle_start, cycle_end, deadline, offer)
    call = Call(
        title=title,
        description=description,
        scenario=scenario,
        cycle_start=cycle_start,
        cycle_end=cycle_end,
        deadline=deadline,
        created_by=actor.user_id,
    )
    call.resources = [CallResource(key=o.key, label=o.label, unit=o.unit, quantity=o.quantity) for o in offer]
    db.add(call)
    db.flush()
    audit(
        db,
        actor,
        "create",
        "call",
        call.id,
        title=call.title,
        deadline=deadline.isoformat(),
        resources={o.key: o.quantity for o in offer},
    )
    db.commit()
    return call


def list_calls(db: Session) -> list[Call]:
    return list(db.scalars(select(Call).order_by(Call.deadline.desc(), Call.id.desc())))


#: Built once (see _USER_FOR_TOKEN).
_CALL_WITH_RESOURCES = [joinedload(Call.resources)]


def get_call(db: Session, call_id: int) -> Call:
    call = db.get(Call, call_id, options=_CALL_WITH_RESOURCES)  # one round trip
    if call is None:
        raise NotFound("no such call", source=f"call {call_id}")
    return call


def offer_of(call: Call) -> dict[str, OfferLine]:
    return {r.key: OfferLine(r.key, r.label, r.unit, r.quantity) for r in call.resources}


def terms_of(call: Call) -> rules.CallTerms:
    return rules.CallTerms(offer_of(call), call.cycle_start, call.cycle_end)


#: Built once (see _USER_FOR_TOKEN).
_REQUESTED_BY_KEY = (
    select(ResourceRequest.key, func.sum(ResourceRequest.amount))
    .join(Proposal, Proposal.id == ResourceRequest.proposal_id)
    .where(Proposal.call_id == bindparam("call_id"), Proposal.status != "draft")
    .group_by(ResourceRequest.key)
)


def call_oversubscription(db: Session, call: Call) -> list[rules.Oversubscription]:
    rows = db.execute(_REQUESTED_BY_KEY, {"call_id": call.id}).all()
    requested = {k: float(v or 0.0) for k, v in rows}
    return rules.oversubscription(offer_of(call).values(), requested, {r.key: r.allocated for r in call.resources})


# ---- proposals ----------------------------------------------------------------------------------------------------


def access_of(db: Session, p: Proposal, actor: Actor | None = None) -> ProposalAccess:
    """What the rules need of a proposal; its reviewers are looked up only when the actor is a reviewer."""
    coi = [(c.user_id, c.user.organisation_id) for c in p.coinvestigators]
    reviewers = (
        ()
        if actor is not None and actor.role != REVIEWER
        else db.scalars(select(Review.reviewer_id).where(Review.proposal_id == p.id)).all()
    )
    return ProposalAccess(
        p.organisation_id, p.status, frozenset(u for u, _ in coi), frozenset(o for _, o in coi), frozenset(reviewers)
    )


#: Built once (see _USER_FOR_TOKEN).
_PROPOSAL_WITH_REQUESTS = (
    select(Proposal)
    .where(Proposal.id == bindparam("proposal_id"))
    .options(joinedload(Proposal.requests), joinedload(Proposal.coinvestigators))
    .execution_options(populate_existing=True)
)


def get_proposal(db: Session, actor: Actor, proposal_id: int) -> Proposal:
    """The proposal if the actor may see it; otherwise the same NotFound as for a missing one (no probing)."""
    p = db.scalars(_PROPOSAL_WITH_REQUESTS, {"proposal_id": proposal_id}).unique().first()
    if p is None or not rules.can_view_proposal(actor, access_of(db, p, actor)):
        raise NotFound("no such proposal", source=f"proposal {proposal_id}")
    return p


def visible_proposals(db: Session, actor: Actor, call_id: int | None = None) -> list[Proposal]:
    q = select(Proposal).order_by(Proposal.id)
    if call_id is not None:
        q = q.where(Proposal.call_id == call_id)
    # the same sets as rules.can_view_proposal, as one query
    if actor.role in rules.PARTNER_ROLES:
        mine = select(CoInvestigator.proposal_id).where(CoInvestigator.user_id == actor.user_id)
        q = q.where((Proposal.organisation_id == actor.organisation_id) | Proposal.id.in_(mine))
    elif actor.role == REVIEWER:
        assigned = select(Review.proposal_id).where(Review.reviewer_id == actor.user_id)
        q = q.where(Proposal.id.in_(assigned) & (Proposal.status != "draft"))
    else:
        q = q.where(Proposal.status != "draft")
    return list(db.scalars(q))


def _partner_users(db: Session, emails: tuple[str, ...]) -> dict[str, User]:
    """The users named as co-investigators, by e-mail (one query); an unknown e-mail is left out."""
    if not emails:
        return {}
    return {u.email: u for u in db.scalars(select(User).where(User.email.in_(emails)))}


def _validate(
    db: Session, p: Proposal, call: Call, data: dict, users: dict[str, User] | None = None, submitting: bool = False
) -> tuple[rules.ProposalContent, dict[str, User]]:
    """:func:`ilrs.portal.rules.validate_proposal` with what it needs from the database (``users``: the
    co-investigators by e-mail when already loaded)."""
    if users is None:
        users = _partner_users(db, rules.coinvestigator_emails(data.get("coinvestigators") or []))
    org = p.organisation if p.organisation else _get(db, Organisation, p.organisation_id, "organisation")
    content = rules.validate_proposal(
        data,
        terms_of(call),
        org.name,
        p.organisation_id,
        {e: rules.Person(u.role, u.organisation_id) for e, u in users.items()},
        submitting=submitting,
    )
    return content, users


def _set_content(db: Session, p: Proposal, call: Call, data: dict) -> None:
    content, users = _validate(db, p, call, data)
    p.title = content.title
    p.abstract = content.abstract
    p.payload = content.payload
    p.activities = content.activities
    p.proprietary_months = content.proprietary_months
    p.updated_at = utcnow()
    if p.id is not None:  # replace the rows: delete the old ones first (the unique keys would clash)
        p.requests.clear()
        p.coinvestigators.clear()
        db.flush()
    p.requests = [ResourceRequest(key=k, amount=v) for k, v in content.requested.items()]
    p.coinvestigators = [CoInvestigator(user_id=users[e].id) for e in content.coinvestigators]


def stored_content(p: Proposal) -> dict:
    """A stored proposal's content in the shape :func:`ilrs.portal.rules.validate_proposal` checks."""
    return {
        "title": p.title,
        "abstract": p.abstract,
        "payload": p.payload,
        "resources": {r.key: r.amount for r in p.requests},
        "activities": p.activities,
        "coinvestigators": [c.user.email for c in p.coinvestigators],
        "proprietary_months": p.proprietary_months,
    }


@dataclass(frozen=True)
class ProposalCheck:
    """A proposal's content checked without saving it: each activity request's own problem (or None) and the
    first problem of the whole (or None)."""

    activities: list[str | None]
    error: Invalid | None


def check_proposal(db: Session, actor: Actor, call_id: int, data: dict, each_activity: bool = True) -> ProposalCheck:
    """:func:`ilrs.portal.rules.validate_proposal` on a proposal being written (the form's live check), and with
    ``each_activity`` :func:`ilrs.portal.rules.activity_problems` on its requests; nothing is stored."""
    rules.require_role(actor.role, PI)
    call = get_call(db, call_id)
    org = _get(db, Organisation, actor.organisation_id, "organisation")
    users = _partner_users(db, rules.coinvestigator_emails(data.get("coinvestigators") or []))
    terms = terms_of(call)
    acts = data.get("activities")
    rows = rules.activity_problems(acts, terms, org.name, org.id) if each_activity and isinstance(acts, list) else []
    try:
        rules.validate_proposal(
            data, terms, org.name, org.id, {e: rules.Person(u.role, u.organisation_id) for e, u in users.items()}
        )
    except Invalid as exc:
        return ProposalCheck(rows, exc)
    return ProposalCheck(rows, None)


def _open(call: Call, now: dt.datetime) -> None:
    if now > call.deadline:
        raise Conflict(f"the call closed at {call.deadline:%Y-%m-%d %H:%M} UTC", source="deadline")


def create_proposal(db: Session, actor: Actor, call_id: int, data: dict, now: dt.datetime) -> Proposal:
    rules.require_role(actor.role, PI)
    call = get_call(db, call_id)
    _open(call, now)
    p = Proposal(call_id=call.id, organisation_id=actor.organisation_id, pi_id=actor.user_id, status="draft")
    p.organisation = _get(db, Organisation, actor.organisation_id, "organisation")
    _set_content(db, p, call, data)
    db.add(p)
    db.flush()
    audit(db, actor, "create", "proposal", p.id, call=call.id, title=p.title)
    db.commit()
    return p


def _editable(db: Session, actor: Actor, proposal_id: int, version: int | None, what: str) -> Proposal:
    """The proposal, locked for this transaction, if the actor may change it now: its PI, while it is a draft,
    at the ``version`` the client read (when it sends one)."""
    _lock(db, Proposal, proposal_id)
    p = get_proposal(db, actor, proposal_id)
    if actor.role != PI or actor.user_id != p.pi_id:
        raise Forbidden(f"only the principal investigator {what} a proposal, and only while it is a draft")
    if p.status != "draft":
        raise Conflict(f"the proposal is {p.status}: it is no longer a draft", source="status")
    if version is not None and version != p.version:
        raise Conflict(
            f"the proposal changed since you read it (version {version}, now {p.version})",
            source="version",
            hint="reload it and apply your change again",
        )
    return p


def update_proposal(db: Session, actor: Actor, proposal_id: int, data: dict, now: dt.datetime) -> Proposal:
    p = _editable(db, actor, proposal_id, data.get("version"), "edits")
    call = get_call(db, p.call_id)
    _open(call, now)
    _set_content(db, p, call, data)
    p.version += 1
    audit(db, actor, "update", "proposal", p.id, title=p.title, version=p.version)
    db.commit()
    return p


def submit_proposal(
    db: Session, actor: Actor, proposal_id: int, now: dt.datetime, version: int | None = None
) -> Proposal:
    p = _editable(db, actor, proposal_id, version, "submits")
    call = get_call(db, p.call_id)
    _open(call, now)
    _validate(db, p, call, stored_content(p), {c.user.email: c.user for c in p.coinvestigators}, submitting=True)
    p.status, p.submitted_at = "submitted", now
    p.version += 1
    audit(db, actor, "submit", "proposal", p.id, version=p.version)
    db.commit()
    return p


# ---- review -------------------------------------------------------------------------------------------------------


def assign_reviewer(db: Session, actor: Actor, proposal_id: int, reviewer_id: int) -> Review:
    rules.require_role(actor.role, ADMIN)
    p = get_proposal(db, actor, proposal_id)
    if p.status == "draft":
        raise Invalid("drafts are not reviewed", source="proposal")
    reviewer = db.get(User, reviewer_id)
    if reviewer is None or reviewer.role != REVIEWER:
        raise Invalid("no reviewer with this id", source="reviewer_id")
    why = rules.conflict_of_interest(reviewer.organisation_id, access_of(db, p), reviewer.id)
    if why:
        raise Conflict(f"conflict of interest: {why}", source="reviewer_id")
    review = Review(proposal_id=p.id, reviewer_id=reviewer.id)
    db.add(review)
    try:
        db.flush()
    except IntegrityError:
        db.rollback()
        raise Conflict("this reviewer is already assigned", source="reviewer_id") from None
    audit(db, actor, "assign", "review", review.id, proposal=p.id, reviewer=reviewer.id)
    db.commit()
    return review


def get_review(db: Session, actor: Actor, review_id: int) -> Review:
    r = db.get(Review, review_id)
    if r is None or not rules.can_view_review(actor, r.reviewer_id):
        raise NotFound("no such review", source=f"review {review_id}")
    return r


def visible_reviews(db: Session, actor: Actor, proposal_id: int | None = None) -> list[Review]:
    q = select(Review).order_by(Review.id)
    if proposal_id is not None:
        q = q.where(Review.proposal_id == proposal_id)
    if actor.role != ADMIN:
        q = q.where(Review.reviewer_id == actor.user_id)
    return list(db.scalars(q))


def submit_review(db: Session, actor: Actor, review_id: int, score: int, comment: str) -> Review:
    r = get_review(db, actor, review_id)
    if r.reviewer_id != actor.user_id:
        raise Forbidden("only the assigned reviewer writes this review")
    p = _get(db, Proposal, r.proposal_id, "proposal")
    if p.status not in ("submitted",):
        raise Conflict("the proposal is decided; reviews are closed", source="review")
    rules.check_score(score)
    r.score, r.comment, r.submitted_at = score, (comment or "")[:20000], utcnow()
    audit(db, actor, "review", "review", r.id, proposal=r.proposal_id, score=score)
    db.commit()
    return r


def ranking(db: Session, actor: Actor, call_id: int) -> list[rules.Ranked]:
    rules.require_role(actor.role, ADMIN)
    call = get_call(db, call_id)
    props = db.scalars(select(Proposal).where(Proposal.call_id == call.id, Proposal.status != "draft")).all()
    scores: dict[int, list[float]] = defaultdict(list)
    for pid, s in db.execute(
        select(Review.proposal_id, Review.score).where(
            Review.proposal_id.in_([p.id for p in props]), Review.score.is_not(None)
        )
    ):
        scores[pid].append(float(cast(int, s)))  # the query keeps scored reviews only
    return rules.rank_proposals(scores, {p.id: p.title for p in props})


# ---- allocation ---------------------------------------------------------------------------------------------------


def allocate(db: Session, actor: Actor, proposal_id: int, key: str, amount: float) -> Allocation:
    """Allocate part of a call's resource to a submitted proposal, in one transaction that locks the resource's
    row (SELECT ... FOR UPDATE on PostgreSQL) and raises its total with a guarded UPDATE, so concurrent
    allocations queue and the total never passes the offer."""
    rules.require_role(actor.role, ADMIN)
    # the proposal first (a concurrent decision on it waits: an allocation and a rejection never both succeed),
    # then the resource (concurrent allocations of it queue)
    _lock(db, Proposal, proposal_id)
    p = get_proposal(db, actor, proposal_id)
    res = db.scalar(
        select(CallResource)
        .where(CallResource.call_id == p.call_id, CallResource.key == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if res is None:
        db.rollback()
        raise Invalid(f"the call does not offer {key!r}", source="key")
    if p.status not in ("submitted", "accepted"):
        db.rollback()
        raise Conflict("only submitted proposals receive allocations", source="proposal")
    requested = next((r.amount for r in p.requests if r.key == key), 0.0)
    already = float(
        db.scalar(
            select(func.coalesce(func.sum(Allocation.amount), 0.0)).where(
                Allocation.proposal_id == p.id, Allocation.resource_id == res.id
            )
        )
        or 0.0
    )
    rules.check_allocation(res.quantity, res.allocated, amount, requested - already)
    done: CursorResult[Any] = db.execute(  # type: ignore[assignment]  # an UPDATE returns a CursorResult
        update(CallResource)
        .where(CallResource.id == res.id, CallResource.allocated + amount <= CallResource.quantity + 1e-9)
        .values(allocated=CallResource.allocated + amount)
    )
    if done.rowcount != 1:
        db.rollback()
        raise Conflict("the resource was allocated meanwhile; not enough remains", source="amount")
    alloc = Allocation(proposal_id=p.id, resource_id=res.id, amount=amount, created_by=actor.user_id)
    db.add(alloc)
    if p.status != "accepted":
        p.status = "accepted"
        p.version += 1
    db.flush()
    audit(db, actor, "allocate", "allocation", alloc.id, proposal=p.id, key=key, amount=amount)
    db.commit()
    return alloc


def reject_proposal(db: Session, actor: Actor, proposal_id: int) -> Proposal:
    rules.require_role(actor.role, ADMIN)
    _lock(db, Proposal, proposal_id)
    p = get_proposal(db, actor, proposal_id)
    if p.status != "submitted":
        raise Conflict(
            f"only a submitted proposal without allocations can be declined (this one is {p.status})",
            source="proposal",
        )
    p.status = "rejected"
    p.version += 1
    audit(db, actor, "reject", "proposal", p.id)
    db.commit()
    return p


def allocations_of(db: Session, proposal_id: int) -> list[Allocation]:
    return list(db.scalars(select(Allocation).where(Allocation.proposal_id == proposal_id).order_by(Allocation.id)))


def accepted_requests(db: Session, call_id: int) -> dict[int, Proposal]:
    return {
        p.id: p
        for p in db.scalars(
            select(Proposal).where(Proposal.call_id == call_id, Proposal.status == "accepted").order_by(Proposal.id)
        )
    }


# ---- data products ------------------------------------------------------------------------------------------------


def require_data_rights(db: Session, actor: Actor, p: Proposal) -> None:
    if not (rules.is_partner_of(actor, access_of(db, p)) or actor.role in rules.STAFF):
        raise Forbidden("only the proposal's partners and the station staff add data products")
    if p.status != "accepted":
        raise Conflict("data products belong to accepted proposals", source="proposal")


@dataclass(frozen=True)
class Quota:
    """What one proposal and one organisation may store as data products."""

    proposal_bytes: int
    organisation_bytes: int
    proposal_files: int


def _check_quota(db: Session, p: Proposal, size: int, quota: Quota) -> None:
    """Refuse an upload that would take the proposal or its organisation past its quota (the proposal's row is
    locked by the caller, so two uploads cannot both pass the check for the last free bytes)."""
    files, stored = db.execute(
        select(func.count(DataProduct.id), func.coalesce(func.sum(DataProduct.size), 0)).where(
            DataProduct.proposal_id == p.id
        )
    ).one()
    org_stored = db.scalar(
        select(func.coalesce(func.sum(DataProduct.size), 0))
        .join(Proposal, Proposal.id == DataProduct.proposal_id)
        .where(Proposal.organisation_id == p.organisation_id)
    )
    if files + 1 > quota.proposal_files:
        raise Conflict(f"the proposal holds {files} data products, the most it may hold", source="file")
    if stored + size > quota.proposal_bytes:
        raise Conflict(
            f"the proposal's data products would take {stored + size:,} bytes; its quota is {quota.proposal_bytes:,}",
            source="file",
        )
    if int(org_stored or 0) + size > quota.organisation_bytes:
        raise Conflict(
            f"the organisation's data products would take {int(org_stored or 0) + size:,} bytes; its quota is "
            f"{quota.organisation_bytes:,}",
            source="file",
        )


def add_data_product(
    db: Session,
    actor: Actor,
    proposal_id: int,
    filename: str,
    content: bytes,
    upload_dir: Path,
    max_bytes: int,
    quota: Quota | None = None,
) -> DataProduct:
    """Store an upload (mode 0600) and its row; within the proposal's and organisation's quota. A file whose row
    is not committed is removed again: no orphan stays on disk."""
    _lock(db, Proposal, proposal_id)
    p = get_proposal(db, actor, proposal_id)
    require_data_rights(db, actor, p)
    name, ctype = rules.check_upload(filename, content[:8192], len(content), max_bytes)
    digest = hashlib.sha256(content).hexdigest()
    same = db.scalar(
        select(DataProduct).where(
            DataProduct.proposal_id == p.id, DataProduct.sha256 == digest, DataProduct.filename == name
        )
    )
    if same is not None:  # the same file again (a second click on the twin's button): stored once
        db.rollback()
        return same
    if quota is not None:
        _check_quota(db, p, len(content), quota)
    key = security.new_token()
    from ilrs.iotools.atomic import atomic_path
    from ilrs.portal.settings import private_dir

    path = private_dir(upload_dir) / key
    with atomic_path(path) as tmp:
        tmp.write_bytes(content)
        os.chmod(tmp, 0o600)
    try:
        now = utcnow()
        dp = DataProduct(
            proposal_id=p.id,
            filename=name,
            content_type=ctype,
            size=len(content),
            sha256=digest,
            storage_key=key,
            uploaded_by=actor.user_id,
            created_at=now,
            public_after=rules.public_after(now, p.proprietary_months),
        )
        db.add(dp)
        db.flush()
        audit(db, actor, "upload", "data_product", dp.id, proposal=p.id, filename=name, size=len(content))
        db.commit()
    except BaseException:
        db.rollback()
        path.unlink(missing_ok=True)
        raise
    return dp


def data_products(db: Session, actor: Actor, proposal_id: int | None = None) -> list[DataProduct]:
    """The data products the actor may download (checked one by one)."""
    q = select(DataProduct).order_by(DataProduct.id)
    if proposal_id is not None:
        q = q.where(DataProduct.proposal_id == proposal_id)
    now = utcnow()
    out = []
    cache: dict[int, ProposalAccess] = {}
    for dp in db.scalars(q):
        if dp.proposal_id not in cache:
            cache[dp.proposal_id] = access_of(db, _get(db, Proposal, dp.proposal_id, "proposal"))
        if rules.can_download(actor, cache[dp.proposal_id], dp.public_after, now):
            out.append(dp)
    return out


def public_data_products(db: Session, product_id: int | None = None) -> list[tuple[DataProduct, Call]]:
    """The data products past their proprietary period, with their proposal's call, whoever asks: the public
    catalogue lists these only (a product still proprietary is missing from it even for its partners and staff)."""
    q = (
        select(DataProduct, Call)
        .join(Proposal, Proposal.id == DataProduct.proposal_id)
        .join(Call, Call.id == Proposal.call_id)
        .where(DataProduct.public_after <= utcnow())
        .order_by(DataProduct.id)
    )
    if product_id is not None:
        q = q.where(DataProduct.id == product_id)
    return [(dp, call) for dp, call in db.execute(q).unique().all()]


def get_data_product(db: Session, actor: Actor, product_id: int) -> DataProduct:
    """Checked on every request: the proprietary period, the proposal's partners, the staff."""
    dp = db.get(DataProduct, product_id)
    if dp is None:
        raise NotFound("no such data product", source=f"data {product_id}")
    p = _get(db, Proposal, dp.proposal_id, "proposal")
    if not rules.can_download(actor, access_of(db, p), dp.public_after, utcnow()):
        raise NotFound("no such data product", source=f"data {product_id}")
    audit(db, actor, "download", "data_product", dp.id)
    db.commit()
    return dp


def audit_log(db: Session, actor: Actor, limit: int = 200, offset: int = 0) -> list[AuditEvent]:
    rules.require_role(actor.role, ADMIN)
    return list(
        db.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(min(limit, 1000)).offset(max(offset, 0)))
    )


def reviewers(db: Session) -> list[User]:
    return list(db.scalars(select(User).where(User.role == REVIEWER).order_by(User.id)))


def schedule(db: Session, actor: Actor, call: Call, wait_s: float | None = None):
    """The call's schedule, planned over every accepted proposal together, shown as the actor may see it: staff
    see every activity, partners their own organisation's (and their co-investigations'). ``wait_s``: how long to
    wait for the planner (None: until done); after that the schedule is ``pending``."""
    from ilrs.portal.station import Schedule, schedule_for_call

    sets, visible = {}, set()
    energy: dict[str, float] = {}
    hours: dict[str, float] = {}
    for pid, p in accepted_requests(db, call.id).items():
        rs = rules.parse_activities(p.activities, p.organisation.name)
        if rs is not None:
            sets[pid] = rs
        if actor.role in rules.STAFF or rules.is_partner_of(actor, access_of(db, p, actor)):
            visible.add(pid)
        for a in db.scalars(select(Allocation).where(Allocation.proposal_id == pid)):
            org = p.organisation.name
            if a.resource.key == "energy_kwh":
                energy[org] = energy.get(org, 0.0) + a.amount
            elif a.resource.unit == "h":
                hours[org] = hours.get(org, 0.0) + a.amount
    shares, metric = rules.planner_shares({rs.requests[0].partner for rs in sets.values()}, energy, hours)
    plan = schedule_for_call(
        call.scenario, sets, call.cycle_start, call.cycle_end, shares=shares, fairness_metric=metric, wait_s=wait_s
    )
    return Schedule([r for r in plan.rows if r.proposal_id in visible], plan.note, plan.pending)
