"""Request and response bodies of the JSON API. Separate In/Out models: no secret column reaches a response."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from ilrs.portal.rules import Invalid, clean_text, utc_naive


def _text(v: str) -> str:
    try:
        return clean_text(v)
    except Invalid as exc:
        raise ValueError(str(exc)) from None


def _time(v: dt.datetime) -> dt.datetime:
    try:
        return utc_naive(v)
    except Invalid as exc:
        raise ValueError(str(exc)) from None


#: Text as the portal stores it (:func:`ilrs.portal.rules.clean_text`): no NUL, no lone surrogate, NFC.
Text = Annotated[str, AfterValidator(_text)]
#: A time as the portal stores it (:func:`ilrs.portal.rules.utc_naive`): naive UTC, years 1970 .. 2200.
UtcTime = Annotated[dt.datetime, AfterValidator(_time)]
Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
Amount = Annotated[float, Field(ge=0.0, le=1e12, allow_inf_nan=False)]


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class LoginIn(In):
    email: Annotated[Text, Field(max_length=254)]
    password: Annotated[Text, Field(max_length=1024)]


class TokenOut(Out):
    access_token: str
    token_type: str = "bearer"
    expires_at: dt.datetime


class PasswordIn(In):
    current_password: Annotated[Text, Field(max_length=1024)]
    new_password: Annotated[Text, Field(min_length=10, max_length=1024)]


class RegisterIn(In):
    token: Annotated[Text, Field(max_length=200)]
    display_name: Annotated[Text, Field(min_length=1, max_length=120)]
    password: Annotated[Text, Field(min_length=10, max_length=1024)]


class OrganisationIn(In):
    name: Annotated[Text, Field(min_length=1, max_length=80)]
    country: Annotated[Text, Field(min_length=1, max_length=80)]
    kind: Annotated[Text, Field(max_length=40)] = "institution"


class OrganisationOut(Out):
    id: int
    name: str
    country: str
    kind: str


class UserOut(Out):
    id: int
    email: str
    display_name: str
    role: str
    organisation: OrganisationOut


class UserAdminOut(Out):
    id: int
    email: str
    display_name: str
    role: str
    organisation_id: int
    is_active: bool


class InvitationStateOut(Out):
    id: int
    email: str
    role: str
    organisation_id: int
    expires_at: dt.datetime
    revoked_at: dt.datetime | None


class InvitationIn(In):
    email: Annotated[Text, Field(min_length=3, max_length=254)]
    role: Annotated[Text, Field(max_length=20)]
    organisation_id: Id


class InvitationOut(Out):
    id: int
    email: str
    role: str
    organisation_id: int
    expires_at: dt.datetime
    token: str = Field(description="One-time registration token (shown once).")
    register_url: str


class ResourceLineIn(In):
    key: Annotated[Text, Field(min_length=1, max_length=120)]
    label: Annotated[Text, Field(max_length=200)] = ""
    unit: Annotated[Text, Field(max_length=20)] = ""
    quantity: Amount


class CallIn(In):
    title: Annotated[Text, Field(min_length=1, max_length=200)]
    description: Annotated[Text, Field(max_length=20000)] = ""
    scenario: Annotated[Text, Field(max_length=200)] = "ilrs-basic-2035"
    cycle_start: UtcTime
    cycle_end: UtcTime
    deadline: UtcTime
    resources: list[ResourceLineIn] | None = Field(
        None, max_length=200, description="What is on offer; omitted: derived from the scenario and its twin."
    )


class CallResourceOut(Out):
    key: str
    label: str
    unit: str
    quantity: float
    allocated: float


class CallOut(Out):
    id: int
    title: str
    description: str
    scenario: str
    cycle_start: dt.datetime
    cycle_end: dt.datetime
    deadline: dt.datetime
    resources: list[CallResourceOut]


class ProposalIn(In):
    call_id: Id | None = Field(None, description="Needed when creating.")
    title: Annotated[Text, Field(min_length=1, max_length=200)]
    abstract: Annotated[Text, Field(max_length=20000)] = ""
    payload: Annotated[Text, Field(max_length=20000)] = Field("", description="Payload description.")
    resources: dict[Annotated[Text, Field(max_length=120)], Amount] = Field(default_factory=dict, max_length=100)
    activities: list[dict[str, Any]] | None = Field(
        None, max_length=500, description="Activity requests in the planner's format."
    )
    coinvestigators: list[Annotated[Text, Field(max_length=254)]] = Field(default_factory=list, max_length=50)
    proprietary_months: int = Field(12, description="0, 3, 6 or 12 (default).")
    version: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = Field(
        None, description="When editing: the version you read; a proposal changed since answers 409."
    )


class CoInvestigatorOut(Out):
    user_id: int
    display_name: str
    organisation: str


class ProposalOut(Out):
    id: int
    call_id: int
    organisation: OrganisationOut
    pi_id: int
    title: str
    abstract: str
    payload: str
    status: str
    version: int
    resources: dict[str, float]
    activities: list[dict[str, Any]] | None
    coinvestigators: list[CoInvestigatorOut]
    proprietary_months: int
    submitted_at: dt.datetime | None


class AssignIn(In):
    reviewer_id: Id


class ReviewIn(In):
    score: int = Field(ge=1, le=5)
    comment: Annotated[Text, Field(max_length=20000)] = ""


class ReviewOut(Out):
    id: int
    proposal_id: int
    reviewer_id: int
    score: int | None
    comment: str
    submitted_at: dt.datetime | None


class AllocationIn(In):
    key: Annotated[Text, Field(min_length=1, max_length=120)]
    amount: Annotated[float, Field(gt=0.0, le=1e12, allow_inf_nan=False)]


class AllocationOut(Out):
    id: int
    proposal_id: int
    key: str
    amount: float
    created_at: dt.datetime


class RankedOut(Out):
    proposal_id: int
    title: str
    mean_score: float | None
    reviews: int
    rank: int


class OversubscriptionOut(Out):
    key: str
    unit: str
    offered: float
    requested: float
    allocated: float
    factor: float | None


class ScheduledOut(Out):
    proposal_id: int
    request_id: str
    partner: str
    payload: str
    start: dt.datetime
    end: dt.datetime
    duration: str
    repeat_every: str | None
    repeat_count: int
    resources: list[str]
    planned: bool
    occurrence: int | None = Field(None, description="Which repetition (planned rows).")
    state: str


class DataProductOut(Out):
    id: int
    proposal_id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    created_at: dt.datetime
    public_after: dt.datetime


class AuditOut(Out):
    id: int
    at: dt.datetime
    user_id: int | None
    action: str
    entity: str
    entity_id: int | None
    detail: dict[str, Any]


class ErrorOut(BaseModel):
    detail: str
    field: str | None = None


def proposal_out(p) -> ProposalOut:
    return ProposalOut(
        id=p.id,
        call_id=p.call_id,
        organisation=OrganisationOut.model_validate(p.organisation),
        pi_id=p.pi_id,
        title=p.title,
        abstract=p.abstract,
        payload=p.payload,
        status=p.status,
        version=p.version,
        resources={r.key: r.amount for r in p.requests},
        activities=p.activities,
        coinvestigators=[
            CoInvestigatorOut(
                user_id=c.user_id, display_name=c.user.display_name, organisation=c.user.organisation.name
            )
            for c in p.coinvestigators
        ],
        proprietary_months=p.proprietary_months,
        submitted_at=p.submitted_at,
    )
