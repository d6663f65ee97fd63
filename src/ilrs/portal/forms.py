"""The proposal form as people fill it in: its fields as typed (kept when the form comes back with an error) and
their translation into the API's body, activity requests from the structured editor's rows or from JSON.

The rows are plain form fields, one list per column (``act_id``, ``act_duration``, ...), so the editor works
without JavaScript; a row's checkboxes (conditions, resources) carry their row's index as ``"<row>:<value>"``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ilrs.portal.rules import Invalid

#: The editor's text columns, in the order of the planner's request fields they fill.
ROW_FIELDS = ("id", "payload", "duration", "earliest", "deadline", "repeat_every", "repeat_count", "power_w",
              "data_mbit", "priority")  # fmt: skip
_INTEGERS, _NUMBERS = {"repeat_count", "priority"}, {"power_w", "data_mbit"}
_TIME_FORMAT = "%Y-%m-%dT%H:%M"
#: Request fields the rows can hold; stored requests with others (such as ``after``) stay in the JSON box.
_ROW_KEYS = {*ROW_FIELDS, "partner", "conditions", "resources"}


@dataclass
class ActivityRow:
    """One row of the activity editor, as typed (text), with the checked conditions and resources."""

    values: dict[str, str] = field(default_factory=dict)
    conditions: set[str] = field(default_factory=set)
    resources: set[str] = field(default_factory=set)

    def blank(self) -> bool:
        return not any(v.strip() for v in self.values.values()) and not self.conditions and not self.resources

    def request(self, partner: str) -> dict[str, Any]:
        """The planner's request object: numbers where the text is one (otherwise the text, for the planner's
        parser to refuse with its own message), empty fields left to their defaults."""
        out: dict[str, Any] = {"partner": partner}
        for name in ROW_FIELDS:
            text = self.values.get(name, "").strip()
            if not text:
                continue
            out[name] = _number(text, integer=name in _INTEGERS) if name in _INTEGERS | _NUMBERS else text
        if self.conditions:
            out["conditions"] = sorted(self.conditions)
        if self.resources:
            out["resources"] = sorted(self.resources)
        return out


def _number(text: str, integer: bool) -> int | float | str:
    try:
        x = float(text)
    except ValueError:
        return text
    if not math.isfinite(x):
        return text
    return int(x) if integer and x.is_integer() else x


def rows_from_form(columns: Mapping[str, Sequence[str]], conditions: Sequence[str], resources: Sequence[str]):
    """The editor's rows from its columns (``columns[name][i]`` is row i's field) and ``"<row>:<value>"``
    checkboxes."""
    n = max((len(v) for v in columns.values()), default=0)
    rows = [ActivityRow({k: (v[i] if i < len(v) else "") for k, v in columns.items()}) for i in range(n)]
    for boxes, attr in ((conditions, "conditions"), (resources, "resources")):
        for box in boxes:
            index, _, value = box.partition(":")
            if index.isdigit() and int(index) < n and value:
                getattr(rows[int(index)], attr).add(value)
    return rows


def _text(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def rows_from_activities(activities: list | None) -> list[ActivityRow] | None:
    """Stored activity requests as editor rows, or None when some request holds what the rows cannot (then the
    JSON box shows them)."""
    rows = []
    for a in activities or []:
        if not isinstance(a, dict) or set(a) - _ROW_KEYS:
            return None
        values = {}
        for name in ROW_FIELDS:
            v = a.get(name)
            if name in ("earliest", "deadline") and isinstance(v, str):
                try:
                    v = dt.datetime.fromisoformat(v).strftime(_TIME_FORMAT)
                except ValueError:
                    pass
            values[name] = _text(v)
        rows.append(ActivityRow(values, set(a.get("conditions") or []), set(a.get("resources") or [])))
    return rows


@dataclass
class ProposalForm:
    """The proposal form's fields as typed."""

    title: str = ""
    abstract: str = ""
    payload: str = ""
    resources: str = ""
    activities_json: str = ""
    coinvestigators: str = ""
    proprietary_months: str = "12"
    rows: list[ActivityRow] = field(default_factory=list)
    #: An editor button pressed without JavaScript: "add" (a row), "remove:<row>"; the form comes back edited.
    editor: str = ""

    @classmethod
    def of_proposal(cls, p) -> ProposalForm:
        """The form of a stored proposal (for editing)."""
        rows = rows_from_activities(p.activities)
        return cls(
            title=p.title,
            abstract=p.abstract,
            payload=p.payload,
            resources="".join(f"{r.key} = {_text(r.amount)}\n" for r in p.requests),
            activities_json=json.dumps(p.activities, indent=2) if p.activities and rows is None else "",
            coinvestigators=", ".join(c.user.email for c in p.coinvestigators),
            proprietary_months=str(p.proprietary_months),
            rows=rows or [],
        )

    def edited(self) -> ProposalForm:
        """The form after its editor button (:attr:`editor`): a blank row added, or one removed."""
        rows = list(self.rows)
        action, _, index = self.editor.partition(":")
        if action == "add":
            rows.append(ActivityRow())
        elif action == "remove" and index.isdigit() and int(index) < len(rows):
            del rows[int(index)]
        return dataclasses.replace(self, rows=rows, editor="")

    def uses_rows(self) -> bool:
        """The rows give the activities unless JSON was pasted (the JSON box wins: it may hold what rows cannot)."""
        return not self.activities_json.strip()

    def activities(self, partner: str) -> list | None:
        """The activity requests: the JSON box's list (or ``{"requests": [...]}``) if filled, else the rows."""
        if not self.uses_rows():
            try:
                acts = json.loads(self.activities_json)
            except json.JSONDecodeError as exc:
                raise Invalid(f"not JSON: {exc}", source="activities") from None
            if isinstance(acts, dict) and "requests" in acts:
                acts = acts["requests"]
            return acts
        reqs = [r.request(partner) for r in self.rows if not r.blank()]
        return reqs or None

    def data(self, partner: str) -> dict:
        """The fields as the API's body (:class:`ilrs.portal.schemas.ProposalIn`): resources one 'key = amount'
        per line."""
        req: dict[str, float] = {}
        for n, line in enumerate(self.resources.splitlines(), start=1):
            if not line.strip():
                continue
            key, sep, value = line.partition("=")
            try:
                amount = float(value)
            except ValueError:
                amount = math.nan
            if not sep or not key.strip() or not math.isfinite(amount):
                raise Invalid(f"line {n}: write 'key = amount', e.g. 'energy_kwh = 20'", source="resources")
            req[key.strip()] = amount
        try:
            months = int(self.proprietary_months)
        except ValueError:
            raise Invalid("choose 0, 3, 6 or 12 months", source="proprietary_months") from None
        return {
            "title": self.title,
            "abstract": self.abstract,
            "payload": self.payload,
            "resources": req,
            "activities": self.activities(partner),
            "proprietary_months": months,
            "coinvestigators": [e for e in self.coinvestigators.replace(";", ",").split(",") if e.strip()],
        }
