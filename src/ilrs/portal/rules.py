"""The partner portal's rules, free of any web or database code: who may see and do what, what a call may offer and
a proposal may ask of it, conflicts of interest, ranking, allocation limits, uploads and proprietary periods.

:mod:`ilrs.portal.actions` applies these inside its database transactions; the pages and the JSON API both go
through it, so one rule serves both. A proposal's content is checked in one place, :func:`validate_proposal`.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ilrs.errors import IlrsError
from ilrs.operations.requests import RequestSet, parse_requests

# ---- errors (the portal maps each kind to an HTTP status) --------------------------------------------------------


class PortalError(IlrsError):
    """A request the portal refuses; ``kind`` tells which (invalid, forbidden, not_found, conflict, rate_limited)."""

    kind = "invalid"


class Invalid(PortalError):
    kind = "invalid"


class Forbidden(PortalError):
    kind = "forbidden"


class NotFound(PortalError):
    kind = "not_found"


class Conflict(PortalError):
    kind = "conflict"


class RateLimited(PortalError):
    """Too many attempts; ``retry_after_s`` says when to come back (the Retry-After header)."""

    kind = "rate_limited"

    def __init__(self, message: str, *, retry_after_s: int = 60, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after_s = retry_after_s


# ---- text and times as the portal accepts them -------------------------------------------------------------------

#: Control characters refused in text (C0 except tab, line feed and carriage return; DEL): a database may refuse
#: them (PostgreSQL refuses NUL) and no form or field needs them.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
#: Times the portal stores: naive UTC within these years (a cycle, a deadline, an activity's window).
EARLIEST_YEAR, LATEST_YEAR = 1970, 2200


def clean_text(value: str, source: str = "text") -> str:
    """Text as the portal stores it: Unicode NFC, without lone surrogates (JSON can carry them, UTF-8 cannot)
    nor control characters other than tab and line breaks. Raises :class:`Invalid` naming the field."""
    if _SURROGATE.search(value):
        raise Invalid("the text contains a lone surrogate (not a Unicode character)", source=source)
    if _CONTROL.search(value):
        raise Invalid("the text contains a control character (such as NUL)", source=source)
    return unicodedata.normalize("NFC", value)


def utc_naive(t: dt.datetime, source: str = "time") -> dt.datetime:
    """A time as the portal stores it: naive UTC (an offset is applied), in years 1970 .. 2200."""
    if not EARLIEST_YEAR <= t.year <= LATEST_YEAR:  # checked first: year 1 or 9999 with an offset overflows
        raise Invalid(f"{t.isoformat()} is outside the years {EARLIEST_YEAR} .. {LATEST_YEAR}", source=source)
    return t.astimezone(dt.UTC).replace(tzinfo=None) if t.tzinfo else t


# ---- roles -------------------------------------------------------------------------------------------------------

MEMBER, PI, REVIEWER, OPERATOR, ADMIN = "member", "pi", "reviewer", "operator", "admin"
ROLES: dict[str, str] = {
    MEMBER: "partner member",
    PI: "principal investigator",
    REVIEWER: "reviewer",
    OPERATOR: "operator",
    ADMIN: "administrator",
}
#: Station staff see every organisation's submitted work; partners (members, PIs) and reviewers see only theirs.
STAFF = frozenset({OPERATOR, ADMIN})


def check_role(role: str) -> None:
    """A role the portal knows."""
    if role not in ROLES:
        raise Invalid(f"unknown role {role!r}", source="role", hint="one of " + ", ".join(ROLES))


def require_role(role: str, *allowed: str) -> None:
    if role not in allowed:
        raise Forbidden(f"this needs the role {' or '.join(ROLES[a] for a in allowed)}")


@dataclass(frozen=True)
class Actor:
    """Who is asking: a user's id, role and organisation."""

    user_id: int
    role: str
    organisation_id: int


@dataclass(frozen=True)
class ProposalAccess:
    """What the visibility rules need to know of one proposal."""

    organisation_id: int
    status: str
    coi_user_ids: frozenset[int]
    coi_organisation_ids: frozenset[int]
    reviewer_ids: frozenset[int]


#: The roles that act for a partner organisation (the others, reviewers included, never do: a reviewer invited
#: into a partner organisation reads neither its drafts nor its proprietary data).
PARTNER_ROLES = frozenset({MEMBER, PI})


def is_partner_of(actor: Actor, p: ProposalAccess) -> bool:
    """The proposing organisation's partner users (members and PIs) and the proposal's co-investigators."""
    if actor.role not in PARTNER_ROLES:
        return False
    return actor.organisation_id == p.organisation_id or actor.user_id in p.coi_user_ids


def can_view_proposal(actor: Actor, p: ProposalAccess) -> bool:
    """Drafts: only the proposing organisation and co-investigators; submitted work also the staff and the
    proposal's assigned reviewers."""
    if is_partner_of(actor, p):
        return True
    if p.status == "draft":
        return False
    return actor.role in STAFF or (actor.role == REVIEWER and actor.user_id in p.reviewer_ids)


def can_edit_proposal(actor: Actor, p: ProposalAccess, pi_id: int) -> bool:
    return p.status == "draft" and actor.role == PI and actor.user_id == pi_id


def can_view_review(actor: Actor, reviewer_id: int) -> bool:
    """A review is read by the reviewer who writes it and the administrators, never by a partner."""
    return actor.role == ADMIN or actor.user_id == reviewer_id


# ---- conflicts of interest ----------------------------------------------------------------------------------------


def conflict_of_interest(reviewer_org: int, p: ProposalAccess, reviewer_id: int) -> str | None:
    """Why a reviewer may not review a proposal, or None: never the proposing organisation, never a
    co-investigator's organisation, never a co-investigator."""
    if reviewer_org == p.organisation_id:
        return "the reviewer belongs to the proposing organisation"
    if reviewer_org in p.coi_organisation_ids:
        return "the reviewer belongs to a co-investigator's organisation"
    if reviewer_id in p.coi_user_ids:
        return "the reviewer is a co-investigator"
    return None


# ---- what a call offers and what a proposal asks ------------------------------------------------------------------

#: Activity resources of the planner's format and the call resource that pays for their time.
ACTIVITY_RESOURCE_HOURS = {"rover": "rover_hours", "arm": "arm_hours", "drill": "drill_hours", "hga": "antenna_hours"}
RESOURCE_KEY = re.compile(r"^[a-z_]+(:[A-Za-z0-9' ._-]+)?$")
PROPRIETARY_MONTHS = (0, 3, 6, 12)
DEFAULT_PROPRIETARY_MONTHS = 12


@dataclass(frozen=True)
class OfferLine:
    """One resource on offer in a call."""

    key: str
    label: str
    unit: str
    quantity: float


#: The most occurrences (activity requests times their repetitions) one proposal may ask for. A cycle lasts at
#: most 92 days; 2,000 occurrences is one every hour and a bit for the whole quarter, more than the station's
#: robots can serve, and keeps what the portal and the planner expand small (the planner's format alone allows
#: 10,000 repetitions of each request).
MAX_OCCURRENCES = 2000


def activity_usage(rs: RequestSet) -> dict[str, float]:
    """What a set of activity requests consumes, in the call's resource keys: exclusive-resource hours,
    energy [kWh] and data [Gbit], summed over every occurrence (each request times its ``repeat_count``; nothing
    is expanded)."""
    use: dict[str, float] = {}
    for r in rs.requests:
        hours = r.repeat_count * r.duration_s / 3600.0
        for res in r.resources:
            key = ACTIVITY_RESOURCE_HOURS.get(res, f"{res}_hours")
            use[key] = use.get(key, 0.0) + hours
        if r.power_w:
            use["energy_kwh"] = use.get("energy_kwh", 0.0) + r.power_w * hours / 1e3
        if r.data_mbit:
            use["data_gbit"] = use.get("data_gbit", 0.0) + r.repeat_count * r.data_mbit / 1e3
    return use


def check_occurrences(rs: RequestSet, limit: int = MAX_OCCURRENCES) -> None:
    """Refuse a request set that expands to more than ``limit`` occurrences, before anything expands it."""
    total = sum(r.repeat_count for r in rs.requests)
    if total > limit:
        raise Invalid(
            f"the activities ask for {total:,} occurrences; a proposal may ask for at most {limit:,}",
            source="activities",
            hint="fewer repetitions, or longer ones",
        )


def parse_activities(activities: list | None, partner: str) -> RequestSet | None:
    """Activity requests in the planner's format (a list of request objects), checked by the planner's own parser;
    every request must name the proposing organisation as its partner."""
    if not activities:
        return None
    if not isinstance(activities, list):
        raise Invalid("activity requests must be a JSON list of request objects", source="activities")
    try:
        rs = parse_requests({"requests": activities}, source="activities")
    except IlrsError as exc:
        raise Invalid(message_of(exc), source="activities") from None
    check_occurrences(rs)
    wrong = [r.id for r in rs.requests if r.partner != partner]
    if wrong:
        raise Invalid(
            f"requests {', '.join(wrong)} name another partner",
            source="activities",
            hint=f"set partner = {partner!r} (your organisation)",
        )
    return rs


def validate_call(
    title: str, cycle_start: dt.datetime, cycle_end: dt.datetime, deadline: dt.datetime, offer: Sequence[OfferLine]
) -> str:
    """Check a call before it opens: a title, a cycle that ends after it starts, a deadline before the cycle, and an
    offer of at least one resource, each key once, named like 'energy_kwh', in a non-negative quantity. Returns the
    title as stored."""
    if not title.strip():
        raise Invalid("a call needs a title", source="title")
    if not cycle_start < cycle_end:
        raise Invalid("the cycle must end after it starts", source="cycle_end")
    if deadline > cycle_start:
        raise Invalid("the deadline must fall before the cycle starts", source="deadline")
    keys = [o.key for o in offer]
    if not offer or len(set(keys)) != len(keys):
        raise Invalid("a call offers at least one resource, each key once", source="resources")
    for o in offer:
        if not RESOURCE_KEY.match(o.key) or not o.quantity >= 0:
            raise Invalid(
                f"resource {o.key!r}: a key like 'energy_kwh' and a non-negative quantity", source="resources"
            )
    return title.strip()


@dataclass(frozen=True)
class CallTerms:
    """What a proposal is checked against: its call's offer (by resource key) and cycle."""

    offer: Mapping[str, OfferLine]
    cycle_start: dt.datetime
    cycle_end: dt.datetime


@dataclass(frozen=True)
class Person:
    """A portal user named as a co-investigator, as the rule sees them."""

    role: str
    organisation_id: int


@dataclass(frozen=True)
class ProposalContent:
    """A proposal's content once checked, as it is stored."""

    title: str
    abstract: str
    payload: str
    #: Resource key -> amount asked, in the offer's units.
    requested: dict[str, float]
    #: Activity requests as given (the planner's format), or None.
    activities: list | None
    #: The same requests parsed by the planner's parser, or None.
    requests: RequestSet | None
    #: Co-investigators' e-mail addresses (see :func:`coinvestigator_emails`).
    coinvestigators: tuple[str, ...]
    proprietary_months: int


def coinvestigator_emails(emails: Iterable[str]) -> tuple[str, ...]:
    """Co-investigators' e-mail addresses as compared and stored: trimmed, lower case, each once, in order."""
    return tuple(dict.fromkeys(x.strip().lower() for x in emails if x.strip()))


def validate_proposal(
    data: Mapping[str, Any],
    terms: CallTerms,
    partner: str,
    partner_organisation_id: int,
    people: Mapping[str, Person] | None = None,
    *,
    submitting: bool = False,
) -> ProposalContent:
    """The one check of a proposal's content, whichever way it comes (the JSON API, the proposal form, the
    portal's own set-up code) and whenever (a draft created or edited, a draft submitted).

    ``data`` holds the fields of :class:`ilrs.portal.schemas.ProposalIn` (title, abstract, payload, resources,
    activities, coinvestigators, proprietary_months); ``partner`` is the proposing organisation's name (every
    activity request must carry it) and ``partner_organisation_id`` its id; ``people`` maps the co-investigators'
    e-mails (:func:`coinvestigator_emails`) to the users found, an e-mail without a user being left out. On
    ``submitting``, a proposal must ask for at least one resource.

    Checks, in this order: the proprietary period is one on offer; every resource asked is on offer, positive and
    within the offer; activity requests parse with the planner's own parser, name the partner, lie inside the
    cycle and use no more than the resources asked; a title; co-investigators are partner users (principal
    investigators or members) of other organisations. Raises :class:`Invalid` naming the field and the fix.
    """
    requested = {str(k): float(v) for k, v in (data.get("resources") or {}).items()}
    months = int(data.get("proprietary_months", DEFAULT_PROPRIETARY_MONTHS))
    activities = data.get("activities")
    if submitting and not requested:
        raise Invalid("a proposal asks for at least one resource before it is submitted", source="resources")
    requests = _check_against_call(terms, requested, activities, partner, months)
    title = (data.get("title") or "").strip()
    if not title:
        raise Invalid("a proposal needs a title", source="title")
    emails = coinvestigator_emails(data.get("coinvestigators") or [])
    for e in emails:
        who = (people or {}).get(e)
        # one answer whatever the reason (no such user, not a partner, the proposing organisation's own): the
        # message must not tell who has an account and where
        if who is None or who.role not in PARTNER_ROLES or who.organisation_id == partner_organisation_id:
            raise Invalid(
                f"{e!r} cannot be a co-investigator",
                source="coinvestigators",
                hint="name partner users (principal investigators or members) of other organisations by the e-mail "
                "they sign in with",
            )
    return ProposalContent(
        title=title[:200],
        abstract=(data.get("abstract") or "")[:20000],
        payload=(data.get("payload") or "")[:20000],
        requested=requested,
        activities=activities or None,
        requests=requests,
        coinvestigators=emails,
        proprietary_months=months,
    )


def _check_against_call(
    terms: CallTerms, requested: Mapping[str, float], activities: list | None, partner: str, proprietary_months: int
) -> RequestSet | None:
    """A proposal's period, resources and activity requests against what its call offers."""
    offer, cycle_start, cycle_end = terms.offer, terms.cycle_start, terms.cycle_end
    if proprietary_months not in PROPRIETARY_MONTHS:
        raise Invalid(
            f"proprietary period {proprietary_months} months is not offered",
            source="proprietary_months",
            hint="choose 0, 3, 6 or 12",
        )
    for key, amount in requested.items():
        if key not in offer:
            raise Invalid(
                f"the call does not offer {key!r}", source="resources", hint="request only: " + ", ".join(sorted(offer))
            )
        if not amount > 0:
            raise Invalid(f"{key}: the amount must be positive", source="resources")
        if amount > offer[key].quantity:
            raise Invalid(
                f"{key}: {amount:g} {offer[key].unit} asked, the call offers {offer[key].quantity:g}",
                source="resources",
                hint="ask for at most what is on offer",
            )
    rs = parse_activities(activities, partner)
    if rs is None:
        return None
    for r in rs.requests:
        if r.earliest < cycle_start or r.deadline > cycle_end:
            raise Invalid(
                f"request {r.id!r}: {r.earliest:%Y-%m-%d %H:%M} .. {r.deadline:%Y-%m-%d %H:%M} lies outside "
                f"the call's cycle {cycle_start:%Y-%m-%d} .. {cycle_end:%Y-%m-%d}",
                source="activities",
            )
        if r.deadline <= r.earliest:
            raise Invalid(f"request {r.id!r}: the deadline is not after the earliest start", source="activities")
        span_s = (r.repeat_count - 1) * (r.every_s or 0.0) + r.duration_s
        if span_s > (r.deadline - r.earliest).total_seconds():
            raise Invalid(
                f"request {r.id!r}: {r.repeat_count} occurrence(s) of {r.duration}"
                + (f" every {r.repeat_every}" if r.repeat_every else "")
                + f" do not fit between {r.earliest:%Y-%m-%d %H:%M} and {r.deadline:%Y-%m-%d %H:%M}",
                source="activities",
            )
    for key, used in activity_usage(rs).items():
        if used > requested.get(key, 0.0) + 1e-9:
            raise Invalid(
                f"the activities use {used:.3g} of {key} but the proposal requests {requested.get(key, 0.0):g}",
                source="resources",
                hint=f"request at least {used:.3g} {key}",
            )
    return rs


def activity_problems(
    activities: Sequence[object], terms: CallTerms, partner: str, partner_organisation_id: int
) -> list[str | None]:
    """Each activity request's own problem against the call (or None), for the proposal form's editor: every
    request is put alone through :func:`validate_proposal`, in a proposal asking for everything on offer, so what
    is reported is the request's format, partner, window within the cycle, fit of its repetitions and use of more
    than the whole offer. What only the requests together can break (more than the resources the proposal asks)
    is :func:`validate_proposal`'s word on the whole proposal."""
    asks_all = {k: o.quantity for k, o in terms.offer.items() if o.quantity > 0}
    out: list[str | None] = []
    for a in activities:
        try:
            validate_proposal(
                {"title": "-", "resources": asks_all, "activities": [a]}, terms, partner, partner_organisation_id
            )
        except Invalid as exc:
            if exc.source == "resources":  # the request alone uses more than the call offers
                rs = parse_activities([a], partner)
                over = [
                    f"needs {used:.3g} {key}, the call offers {asks_all.get(key, 0.0):g}"
                    for key, used in activity_usage(rs).items() if used > asks_all.get(key, 0.0) + 1e-9
                ] if rs else []  # fmt: skip
                out.append("; ".join(over) or message_of(exc))
                continue
            text = message_of(exc).removeprefix("invalid activity requests:")
            out.append(_ONE_REQUEST.sub("", text).strip())
        else:
            out.append(None)
    return out


#: The planner parser's prefix naming the (only) request in :func:`activity_problems`' messages.
_ONE_REQUEST = re.compile(r"requests\[0\] \(id [^)]*\)\.?")


def message_of(exc: IlrsError) -> str:
    """An error's text without the field it names (for showing it next to that field)."""
    text = str(exc)
    return text.removeprefix(f"{exc.source}: ") if exc.source else text


# ---- review: ranking and oversubscription -------------------------------------------------------------------------


def check_score(score: object) -> None:
    """A review's score is an integer from 1 (poor) to 5 (excellent)."""
    if not isinstance(score, int) or not 1 <= score <= 5:
        raise Invalid("the score is an integer from 1 (poor) to 5 (excellent)", source="score")


@dataclass(frozen=True)
class Ranked:
    proposal_id: int
    title: str
    mean_score: float | None
    reviews: int
    rank: int


def rank_proposals(scores: Mapping[int, Sequence[float]], titles: Mapping[int, str]) -> list[Ranked]:
    """Proposals by mean review score (5 = best), unreviewed last; ties by proposal id (first submitted first)."""

    def key(pid: int):
        s = scores.get(pid) or []
        return (0 if s else 1, -(sum(s) / len(s)) if s else 0.0, pid)

    out = []
    for rank, pid in enumerate(sorted(titles, key=key), start=1):
        s = scores.get(pid) or []
        out.append(Ranked(pid, titles[pid], sum(s) / len(s) if s else None, len(s), rank))
    return out


@dataclass(frozen=True)
class Oversubscription:
    key: str
    unit: str
    offered: float
    requested: float
    allocated: float

    @property
    def factor(self) -> float:
        """Requested / offered (above 1: oversubscribed)."""
        return self.requested / self.offered if self.offered > 0 else float("inf")


def oversubscription(
    offer: Iterable[OfferLine], requested: Mapping[str, float], allocated: Mapping[str, float]
) -> list[Oversubscription]:
    return [
        Oversubscription(o.key, o.unit, o.quantity, requested.get(o.key, 0.0), allocated.get(o.key, 0.0)) for o in offer
    ]


def check_allocation(offered: float, allocated: float, amount: float, requested: float) -> None:
    """An allocation is positive, no more than the proposal asked, and never takes the total above the offer."""
    if not amount > 0:
        raise Invalid("the amount must be positive", source="amount")
    if amount > requested + 1e-9:
        raise Invalid(f"{amount:g} is more than the proposal requested ({requested:g})", source="amount")
    if allocated + amount > offered + 1e-9:
        raise Conflict(
            f"only {offered - allocated:g} remains on offer ({allocated:g} of {offered:g} allocated)", source="amount"
        )


# ---- schedule -----------------------------------------------------------------------------------------------------


def planner_shares(
    partners: Iterable[str], energy_kwh: Mapping[str, float], hours: Mapping[str, float]
) -> tuple[dict[str, float], str]:
    """The planner's fairness shares for a call's scheduled ``partners`` from the review's allocations, and the
    metric they divide: energy when every scheduled partner was allocated energy, else activity time when every
    one was allocated robot or antenna hours, else equal shares (an empty dict). A share must cover every
    partner: the planner refuses the requests of a partner missing from the shares, so a small energy
    allocation to one partner would otherwise unschedule every other partner's activities."""
    names = sorted(set(partners))
    for alloc, metric in ((energy_kwh, "energy"), (hours, "time")):
        if names and all(alloc.get(p, 0.0) > 0 for p in names):
            return {p: float(alloc[p]) for p in names}, metric
    return {}, "time"


# ---- data products ------------------------------------------------------------------------------------------------

#: Types a data product may have (by its declared type and its name's suffix); anything else is refused.
ALLOWED_TYPES = {
    ".csv": "text/csv",
    ".txt": "text/plain",
    ".json": "application/json",
    ".nc": "application/x-netcdf",
    ".fits": "application/fits",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".pdf": "application/pdf",
    ".zip": "application/zip",
    ".parquet": "application/vnd.apache.parquet",
}
MAGIC = {
    ".png": b"\x89PNG\r\n\x1a\n",
    ".pdf": b"%PDF",
    ".zip": b"PK\x03\x04",
    ".nc": b"\x89HDF",
    ".jpg": b"\xff\xd8\xff",
    ".parquet": b"PAR1",
}
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def check_upload(filename: str, head: bytes, size: int, max_bytes: int = MAX_UPLOAD_BYTES) -> tuple[str, str]:
    """A safe stored name and the content type for an upload, or :class:`Invalid` (wrong type, too large)."""
    name = SAFE_NAME.sub("_", (filename or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]).strip("._") or "data"
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if suffix not in ALLOWED_TYPES:
        raise Invalid(
            f"files of type {suffix or '(none)'!r} are not accepted",
            source="file",
            hint="accepted: " + ", ".join(sorted(ALLOWED_TYPES)),
        )
    if size > max_bytes:
        raise Invalid(f"the file is {size:,} bytes, the limit is {max_bytes:,}", source="file")
    if size == 0:
        raise Invalid("the file is empty", source="file")
    magic = MAGIC.get(suffix)
    if magic and not head.startswith(magic):
        raise Invalid(f"the file's content is not {suffix[1:].upper()}", source="file")
    if suffix in (".csv", ".txt", ".json"):
        try:
            head[:4096].decode("utf-8")
        except UnicodeDecodeError:
            # a multi-byte character cut at the 4 KiB boundary is fine; anything earlier is binary
            try:
                head[:4092].decode("utf-8")
            except UnicodeDecodeError:
                raise Invalid("a text file must be UTF-8", source="file") from None
    return name[:120], ALLOWED_TYPES[suffix]


def add_months(t: dt.datetime, months: int) -> dt.datetime:
    y, m = divmod(t.month - 1 + months, 12)
    year, month = t.year + y, m + 1
    days = [
        31,
        29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28,
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ][month - 1]
    return t.replace(year=year, month=month, day=min(t.day, days))


def public_after(created: dt.datetime, months: int) -> dt.datetime:
    """When a data product leaves its proprietary period."""
    return add_months(created, months)


def can_download(actor: Actor | None, p: ProposalAccess, public_at: dt.datetime, now: dt.datetime) -> bool:
    """Public data: anyone signed in. Proprietary data: the proposing organisation, its co-investigators and staff."""
    if actor is None:
        return False
    if now >= public_at:
        return True
    return is_partner_of(actor, p) or actor.role in STAFF
