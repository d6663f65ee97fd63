"""Activity requests: what partners ask the station to do, in the planner's format (TOML or JSON).

A request file holds ``[[requests]]`` tables (TOML) or ``{"requests": [...]}`` (JSON), optionally with
``[resources]`` (exclusive resources on offer) and ``[shares]`` (each partner's allocated share from the review).

One request expands into one block per repetition: ``repeat_every = "1d"`` with ``repeat_count = 30`` asks for the
activity once in each of 30 consecutive Earth days, the k-th occurrence anywhere in
``[earliest + k * every, earliest + (k + 1) * every)`` (and before the deadline).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ilrs.ephem.time import parse_step
from ilrs.errors import IlrsError

Condition = Literal["sun", "dark", "earth", "relay", "downlink"]
CONDITIONS: dict[str, str] = {
    "sun": "some of the Sun's disk above the site's horizon (ground level)",
    "dark": "the Sun entirely below the site's horizon (ground level)",
    "earth": "the Earth above the horizon of the direct-to-Earth antenna and a ground station in view",
    "relay": "the relay satellite in view of the site's relay antenna",
    "downlink": "either link (direct-to-Earth or relay) can send data",
}
DEFAULT_RESOURCES: dict[str, str] = {
    "rover": "the shared surface rover",
    "arm": "the robotic arm on the main lander",
    "drill": "the regolith drill",
    "hga": "the high-gain direct-to-Earth antenna (pointing time)",
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ActivityRequest(_Model):
    """One partner activity to plan (all times UTC)."""

    id: str = Field(min_length=1, max_length=80, description="Unique request identifier.")
    partner: str = Field(min_length=1, max_length=80, description="Partner organisation (its allocation key).")
    payload: str = Field(min_length=1, max_length=120, description="Payload or instrument.")
    duration: str = Field(description="How long one occurrence runs: '2h', '30m', or seconds.")
    earliest: dt.datetime = Field(description="Earliest start of the first occurrence.")
    deadline: dt.datetime = Field(description="Latest end of any occurrence.")
    repeat_every: str | None = Field(None, description="Repetition period, e.g. '1d' (one occurrence per period).")
    repeat_count: int = Field(1, ge=1, le=10_000, description="Number of occurrences.")
    power_w: float = Field(0.0, ge=0.0, le=100_000.0, description="Power drawn while running [W].")
    data_mbit: float = Field(0.0, ge=0.0, le=1e7, description="Data produced per occurrence [Mbit].")
    conditions: list[Condition] = Field(default_factory=list, description="Conditions needed at every step.")
    resources: list[str] = Field(default_factory=list, description="Exclusive resources held while running.")
    after: list[str] = Field(
        default_factory=list, description="Requests whose every occurrence must end before this one starts."
    )
    priority: int = Field(3, ge=1, le=5, description="1 = most important ... 5 = least.")

    @field_validator("duration", "repeat_every")
    @classmethod
    def _step(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                parse_step(v)
            except IlrsError as exc:
                raise ValueError(f"{v!r} is not a positive duration such as '30m', '2h' or '1d'") from exc
        return v

    @field_validator("earliest", "deadline")
    @classmethod
    def _utc(cls, v: dt.datetime) -> dt.datetime:
        try:
            return v.astimezone(dt.UTC).replace(tzinfo=None) if v.tzinfo else v
        except OverflowError:  # year 1 or 9999 with an offset: no such UTC time
            raise ValueError(f"{v.isoformat()} has no UTC equivalent") from None

    @property
    def duration_s(self) -> float:
        return parse_step(self.duration)

    @property
    def every_s(self) -> float | None:
        return parse_step(self.repeat_every) if self.repeat_every else None


class RequestSet(_Model):
    """A file of requests, the exclusive resources on offer and the partners' shares."""

    requests: list[ActivityRequest]
    resources: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_RESOURCES), description="Exclusive resources: key -> description."
    )
    shares: dict[str, float] = Field(
        default_factory=dict, description="Partner -> allocated share (normalised; default equal shares)."
    )
    fairness_tolerance: float = Field(
        0.05, ge=0.0, le=1.0, description="How far above its share a partner's allocation may go."
    )
    fairness_metric: Literal["time", "energy"] = Field(
        "time", description="What the shares divide: activity time, or the energy activities draw."
    )

    @field_validator("shares")
    @classmethod
    def _shares(cls, v: dict[str, float]) -> dict[str, float]:
        for k, s in v.items():
            if not s > 0:
                raise ValueError(f"share of {k!r} must be positive")
        return v


@dataclass(frozen=True)
class Block:
    """One occurrence of a request: the unit the planner places (times in seconds from the grid's start)."""

    index: int
    request: str
    occurrence: int
    partner: str
    payload: str
    window_start_s: float
    window_end_s: float
    duration_s: float
    power_w: float
    data_bits: float
    conditions: tuple[str, ...]
    resources: tuple[str, ...]
    priority: int

    @property
    def key(self) -> str:
        return f"{self.request}#{self.occurrence}"


def priority_weight(priority: int) -> float:
    """Value per hour of a block by priority: each level is worth twice the next."""
    return float(2 ** (5 - priority))


def expand(rs: RequestSet, t0: dt.datetime) -> list[Block]:
    """Every occurrence of every request, with its window in seconds from ``t0``."""
    blocks: list[Block] = []
    for r in rs.requests:
        start = (r.earliest - t0).total_seconds()
        end = (r.deadline - t0).total_seconds()
        every = r.every_s
        for k in range(r.repeat_count):
            a = start + (k * every if every else 0.0)
            b = min(end, a + every) if every else end
            blocks.append(
                Block(
                    len(blocks),
                    r.id,
                    k,
                    r.partner,
                    r.payload,
                    a,
                    b,
                    r.duration_s,
                    r.power_w,
                    r.data_mbit * 1e6,
                    tuple(r.conditions),
                    tuple(r.resources),
                    r.priority,
                )
            )
    return blocks


def _where(loc: tuple[int | str, ...], rs_raw: dict[str, Any]) -> str:
    if len(loc) >= 2 and loc[0] == "requests" and isinstance(loc[1], int):
        reqs = rs_raw.get("requests") or []
        rid = reqs[loc[1]].get("id", "?") if loc[1] < len(reqs) and isinstance(reqs[loc[1]], dict) else "?"
        return f"requests[{loc[1]}] (id {rid!r})" + ("." + ".".join(str(x) for x in loc[2:]) if loc[2:] else "")
    return ".".join(str(x) for x in loc)


def parse_requests(raw: object, source: str = "requests", toml_text: str | None = None) -> RequestSet:
    """Validate a decoded request document; errors name the request and field (and the line, given the TOML
    text the document was read from)."""
    if not isinstance(raw, dict):
        raise IlrsError("a request file must be a table/object with a 'requests' list", source=source)
    try:
        return RequestSet.model_validate(raw)
    except ValidationError as exc:
        from ilrs.scenario.load import toml_line

        def line(loc: tuple[int | str, ...]) -> str:
            n = toml_line(toml_text, loc) if toml_text is not None and loc else None
            return f"line {n}, " if n else ""

        lines = [f"{line(tuple(e['loc']))}{_where(tuple(e['loc']), raw)}: {e['msg']}" for e in exc.errors()[:20]]
        raise IlrsError(
            "invalid activity requests:\n  " + "\n  ".join(lines),
            source=source,
            hint="see docs/operations.md for the request format",
        ) from None


def load_requests(path: str | Path) -> RequestSet:
    """Read a TOML or JSON request file."""
    import tomllib

    path = Path(path)
    if not path.is_file():
        raise IlrsError("request file not found", source=str(path), hint="give a TOML or JSON file of [[requests]]")
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        raw = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise IlrsError(
            f"cannot parse the request file: {exc}", source=str(path), hint="check the syntax at the position given"
        ) from None
    return parse_requests(raw, source=str(path), toml_text=None if path.suffix.lower() == ".json" else text)
