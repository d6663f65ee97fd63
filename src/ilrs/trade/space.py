"""The design-space file: which scenario parameters vary over which values, the objectives and the constraints.

A space is TOML validated like a scenario (pydantic; every error names the file, the line and the field)::

    name = "power-trade"
    [base]                       # optional changes to the scenario before any design (e.g. a coarser step)
    step = "1h"
    [[parameters]]
    parameter = "mast_height_m"  # see PARAMETERS
    elements = ["ilrs1-array"]   # which elements it sets (default: every element of the kind)
    values = [5.0, 10.0, 20.0]   # a discrete set, or
    # range = { start = 5.0, stop = 20.0, step = 5.0 }   (stop included), or
    # distribution = { kind = "normal", mean = 10.0, sd = 2.0, levels = 5 }   (equally likely values)
    [[objectives]]
    metric = "landed_mass_kg"
    sense = "min"
    [[constraints]]
    metric = "loss_of_critical_load_hours"
    max = 0.0
"""

from __future__ import annotations

import itertools
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ilrs.errors import IlrsError

#: The parameters a space may vary, each with the element kind it sets and its unit.
PARAMETERS: dict[str, tuple[str | None, str]] = {
    "site": (None, "named site or lat_deg,lon_deg"),
    "mast_height_m": ("solar_array", "m"),
    "array_area_m2": ("solar_array", "m2"),
    "battery_kwh": ("battery", "kWh"),
    "fission_kw": ("fission", "kWe (0: no unit)"),
    "arrival_shift_days": (None, "d"),
    "relay": ("relay", "on/off"),
}

#: Metrics a design is judged by: every twin KPI plus these (unit, lower bound of the metric's range).
DERIVED_METRICS: dict[str, tuple[str, float]] = {
    "landed_mass_kg": ("kg", 0.0),
    "science_data_gbit": ("Gbit", 0.0),
    "partner_energy_kwh": ("kWh", 0.0),
    "critical_load_lost_h": ("h", 0.0),
    "least_storage_margin": ("1", -np.inf),
}
KPI_METRICS: dict[str, tuple[str, float]] = {
    "loss_of_load_hours": ("h", 0.0),
    "loss_of_critical_load_hours": ("h", 0.0),
    "min_state_of_charge": ("1", 0.0),
    "energy_margin": ("1", -1.0),
    "generated_kwh": ("kWh", 0.0),
    "demanded_kwh": ("kWh", 0.0),
    "shed_kwh": ("kWh", 0.0),
    "curtailed_kwh": ("kWh", 0.0),
    "earth_contact_hours_per_day": ("h/d", 0.0),
    "relay_hours_per_day": ("h/d", 0.0),
    "data_generated_gbit": ("Gbit", 0.0),
    "data_downlinked_gbit": ("Gbit", 0.0),
    "data_lost_gbit": ("Gbit", 0.0),
    "longest_dark_hours_survived": ("h", 0.0),
}
METRICS: dict[str, tuple[str, float]] = {**KPI_METRICS, **DERIVED_METRICS}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Range(_Model):
    """Evenly spaced values from ``start`` to ``stop`` (included when a whole number of steps away)."""

    start: float
    stop: float
    step: float = Field(gt=0.0)

    def values(self) -> list[float]:
        if self.stop < self.start:
            return []
        n = int(np.floor((self.stop - self.start) / self.step + 1e-9)) + 1
        return [round(self.start + i * self.step, 12) for i in range(n)]


class SiteChoice(_Model):
    """A candidate site: a named site, coordinates, or ``top = N``: the N best sites of the ranking (``ilrs site
    rank`` over the scenario's analysis period at its map height), expanded into coordinates when the study
    loads (``rank`` then remembers each one's place)."""

    name: str | None = None
    lat_deg: float | None = Field(None, ge=-90.0, le=90.0)
    lon_deg: float | None = None
    top: int | None = Field(None, ge=1, le=20, description="The N best sites of the ranking.")
    rank: int | None = Field(None, ge=1, description="Its place in the ranking (set when `top` is expanded).")

    @model_validator(mode="after")
    def _one_way(self) -> SiteChoice:
        ways = (self.name is not None) + (self.lat_deg is not None or self.lon_deg is not None) + (self.top is not None)
        coordinates_half = (self.lat_deg is None) != (self.lon_deg is None)
        if ways != 1 or coordinates_half:
            raise ValueError("give a site name, both lat_deg and lon_deg, or top = N (the N best of the ranking)")
        return self

    def label(self) -> str:
        if self.top is not None:
            return f"top {self.top}"
        if self.name is not None:
            return self.name
        where = f"{self.lat_deg:.4f},{self.lon_deg:.4f}"
        return f"rank {self.rank} ({where})" if self.rank is not None else where


#: What each distribution takes.
_LAW_PARAMETERS = {
    "uniform": ("low", "high"),
    "normal": ("mean", "sd"),
    "triangular": ("low", "mode", "high"),
    "lognormal": ("median", "sigma"),
}


class Distribution(_Model):
    """A parameter known as a probability distribution rather than a set of values: it is cut into ``levels``
    equally likely bins and each bin stands for its median (the quantile at ``(i + 1/2) / levels``), so grids,
    Latin hypercubes and the adaptive search treat it like a set of values whose frequencies follow the law."""

    kind: Literal["uniform", "normal", "triangular", "lognormal"] = Field(
        description="uniform(low, high), normal(mean, sd), triangular(low, mode, high), lognormal(median, sigma)"
    )
    low: float | None = None
    high: float | None = None
    mode: float | None = None
    mean: float | None = None
    sd: float | None = Field(None, gt=0.0)
    median: float | None = Field(None, gt=0.0)
    sigma: float | None = Field(None, gt=0.0, description="lognormal: standard deviation of the logarithm")
    levels: int = Field(5, ge=2, le=200, description="How many equally likely values stand for the law.")

    @model_validator(mode="after")
    def _parameters(self) -> Distribution:
        needs = _LAW_PARAMETERS[self.kind]
        given = {k for k in ("low", "high", "mode", "mean", "sd", "median", "sigma") if getattr(self, k) is not None}
        missing = [k for k in needs if k not in given]
        if missing:
            raise ValueError(f"a {self.kind} distribution needs {', '.join(needs)}; missing {', '.join(missing)}")
        extra = sorted(given - set(needs))
        if extra:
            raise ValueError(f"a {self.kind} distribution takes {', '.join(needs)}, not {', '.join(extra)}")
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ValueError(f"low {self.low:g} must be below high {self.high:g}")
        if self.mode is not None and not (self.low or 0.0) <= self.mode <= (self.high or 0.0):
            raise ValueError(f"mode {self.mode:g} must lie between low and high")
        return self

    def values(self) -> list[float]:
        from scipy import stats

        q = (np.arange(self.levels) + 0.5) / self.levels
        p = {k: float(getattr(self, k)) for k in _LAW_PARAMETERS[self.kind]}  # all given (validated)
        if self.kind == "uniform":
            x = stats.uniform(loc=p["low"], scale=p["high"] - p["low"]).ppf(q)
        elif self.kind == "normal":
            x = stats.norm(loc=p["mean"], scale=p["sd"]).ppf(q)
        elif self.kind == "triangular":
            width = p["high"] - p["low"]
            x = stats.triang(c=(p["mode"] - p["low"]) / width, loc=p["low"], scale=width).ppf(q)
        else:
            x = stats.lognorm(s=p["sigma"], scale=p["median"]).ppf(q)
        return [round(float(v), 9) for v in x]


Value = bool | float | str | SiteChoice


class Parameter(_Model):
    """One varied parameter: a discrete set of values, a range with a step, or a distribution."""

    parameter: str = Field(description="What varies: " + ", ".join(PARAMETERS))
    elements: list[str] | None = Field(
        None, description="Elements it sets (default: every element of the parameter's kind; all for arrival)."
    )
    values: list[Value] | None = None
    range: Range | None = None
    distribution: Distribution | None = None

    @field_validator("parameter")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in PARAMETERS:
            raise ValueError(f"unknown parameter {v!r}; known: {', '.join(PARAMETERS)}")
        return v

    @model_validator(mode="after")
    def _values_given(self) -> Parameter:
        if sum(x is not None for x in (self.values, self.range, self.distribution)) != 1:
            raise ValueError("give one of values, range or distribution")
        if self.parameter in ("site", "relay") and (self.range is not None or self.distribution is not None):
            raise ValueError(f"{self.parameter} takes a list of values, not a range or a distribution")
        if not self.levels():
            raise ValueError("the parameter has no values (empty list, or a range whose stop is below its start)")
        levels = self.levels()
        if len({_key(v) for v in levels}) < len(levels):
            raise ValueError("values repeat")
        for v in levels:
            if self.parameter == "relay" and not isinstance(v, bool):
                raise ValueError(f"relay takes true/false, not {v!r}")
            if self.parameter == "site" and not isinstance(v, SiteChoice | str):
                raise ValueError(f"a site is a name, a table with lat_deg, lon_deg, or {{ top = N }}, not {v!r}")
            if self.parameter not in ("site", "relay") and (isinstance(v, bool) or not isinstance(v, float | int)):
                raise ValueError(f"{self.parameter} takes numbers, not {v!r}")
            if self.parameter in ("array_area_m2", "battery_kwh") and float(v) <= 0:
                raise ValueError(f"{self.parameter} must be positive (got {v!r})")
            if self.parameter in ("fission_kw", "mast_height_m") and float(v) < 0:
                raise ValueError(f"{self.parameter} must not be negative (got {v!r})")
            if self.parameter == "mast_height_m" and float(v) > 200:
                raise ValueError(f"mast height {v!r} m is above 200 m")
        return self

    def levels(self) -> list[Any]:
        """The parameter's values in the file's order (a site name becomes a :class:`SiteChoice`)."""
        if self.range is not None:
            return list(self.range.values())
        if self.distribution is not None:
            return list(self.distribution.values())
        out: list[Any] = []
        for v in self.values or []:
            out.append(SiteChoice(name=v) if self.parameter == "site" and isinstance(v, str) else v)
        return out


def _key(v: Any) -> Any:
    return v.label() if isinstance(v, SiteChoice) else (type(v).__name__, v)


class Objective(_Model):
    metric: str
    sense: Literal["min", "max"]

    @field_validator("metric")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in METRICS:
            raise ValueError(f"unknown metric {v!r}; known: {', '.join(METRICS)}")
        return v


class Constraint(_Model):
    metric: str
    min: float | None = None
    max: float | None = None

    @field_validator("metric")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in METRICS and v != "survives":
            raise ValueError(f"unknown metric {v!r}; known: survives, {', '.join(METRICS)}")
        return v

    @model_validator(mode="after")
    def _bounds(self) -> Constraint:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min:g} is above max {self.max:g}: no design can meet it")
        lower = METRICS.get(self.metric, ("", 0.0))[1]
        if self.max is not None and self.max < lower:
            raise ValueError(f"max {self.max:g} is below the lowest value {self.metric} can take ({lower:g})")
        return self


class MassModel(_Model):
    """Landed mass of the elements a trade varies, from per-unit rates (engineering values; sources in
    docs/trade.md). Elements the space does not vary still count at these rates so designs compare fairly."""

    solar_array_kg_per_m2: float = Field(
        3.0, gt=0.0, description="Deployable array blanket and structure [kg/m2] (ROSA-class: ~2-4)."
    )
    mast_kg_per_m: float = Field(15.0, ge=0.0, description="Mast carrying an array [kg/m] (engineering default).")
    battery_kg_per_kwh: float = Field(
        6.7, gt=0.0, description="Li-ion pack [kg/kWh] (~150 Wh/kg at pack level, as the built-in scenario)."
    )
    fission_kg_per_kw: float = Field(
        150.0, gt=0.0, description="Fission surface power unit [kg/kWe] (NASA FSP goal: 40 kWe under 6 t)."
    )
    relay_terminal_kg: float = Field(25.0, ge=0.0, description="Relay terminal, antenna and gimbal [kg] (default).")


class Space(_Model):
    """A design space over one scenario."""

    name: str = "trade"
    description: str = ""
    scenario: str | None = Field(None, description="The scenario it starts from (a built-in name or a path).")
    base: dict[str, Any] = Field(default_factory=dict, description="Scenario fields set before any design.")
    parameters: list[Parameter] = Field(min_length=1)
    objectives: list[Objective] = Field(min_length=1)
    constraints: list[Constraint] = Field(default_factory=list)
    mass: MassModel = Field(default_factory=MassModel)
    samples: int = Field(64, ge=1, le=1_000_000, description="Latin-hypercube sample size.")
    seed: int = 0
    population: int = Field(16, ge=4, description="NSGA-II population.")
    generations: int = Field(10, ge=1, description="NSGA-II generations.")

    @field_validator("base")
    @classmethod
    def _base_fields(cls, v: dict[str, Any]) -> dict[str, Any]:
        allowed = {"start", "end", "step", "description"}
        bad = sorted(set(v) - allowed)
        if bad:
            raise ValueError(f"[base] may set {', '.join(sorted(allowed))}; not {', '.join(bad)}")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Space:
        names = [p.parameter + str(p.elements) for p in self.parameters]
        if len(set(names)) < len(names):
            raise ValueError("a parameter is given twice for the same elements")
        metrics = [o.metric for o in self.objectives]
        if len(set(metrics)) < len(metrics):
            raise ValueError("an objective is given twice")
        by_metric: dict[str, list[Constraint]] = {}
        for c in self.constraints:
            by_metric.setdefault(c.metric, []).append(c)
        for m, cs in by_metric.items():
            lo = max((c.min for c in cs if c.min is not None), default=-np.inf)
            hi = min((c.max for c in cs if c.max is not None), default=np.inf)
            if lo > hi:
                raise ValueError(f"constraints on {m} contradict each other: min {lo:g} is above max {hi:g}")
        return self

    def dimensions(self) -> list[tuple[str, list[Any]]]:
        """(label, levels) of each parameter: the design space's axes."""
        out = []
        for p in self.parameters:
            label = p.parameter if not p.elements else f"{p.parameter}[{','.join(p.elements)}]"
            out.append((label, p.levels()))
        return out

    def size(self) -> int:
        return int(np.prod([len(levels) for _, levels in self.dimensions()]))


@dataclass(frozen=True)
class Design:
    """One point of the space: the level index of each parameter."""

    levels: tuple[int, ...]


def grid(space: Space) -> list[Design]:
    """Every combination of the parameters' values (the full factorial)."""
    return [Design(tuple(ix)) for ix in itertools.product(*(range(len(v)) for _, v in space.dimensions()))]


def latin_hypercube(space: Space, n: int, seed: int) -> list[Design]:
    """``n`` designs by Latin hypercube sampling (McKay, Beckman & Conover 1979): each axis cut into ``n`` equal
    strata sampled once each, mapped onto the parameter's discrete levels; repeated designs are kept once."""
    rng = np.random.default_rng(seed)
    dims = space.dimensions()
    cols = []
    for _, levels in dims:
        u = (rng.permutation(n) + rng.random(n)) / n
        cols.append(np.minimum((u * len(levels)).astype(int), len(levels) - 1))
    seen: dict[tuple[int, ...], None] = {}
    for row in zip(*cols, strict=True):
        seen.setdefault(tuple(int(i) for i in row), None)
    return [Design(k) for k in seen]


def _line_of(text: str, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the key at a pydantic location such as ('parameters', 2, 'values')."""
    lines = text.splitlines()
    start: int | None = None
    for i, part in enumerate(loc):
        if isinstance(part, int) and i > 0 and isinstance(loc[i - 1], str):
            header = f"[[{loc[i - 1]}]]"
            hits = [n for n, line in enumerate(lines) if line.strip() == header]
            if part < len(hits):
                start = hits[part]
    # the innermost key written as `key = ...` in the table (an inline table's keys share its line)
    keys = [p for p in loc if isinstance(p, str)]
    for key in reversed(keys):
        pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
        for n in range(start or 0, len(lines)):
            if start is not None and n > start and lines[n].strip().startswith("[["):
                break
            if pattern.match(lines[n]):
                return n + 1
    return start + 1 if start is not None else None


def load_space(path: str | Path) -> Space:
    """Read and validate a design-space file; one :class:`IlrsError` naming the file, line and field."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise IlrsError(f"cannot read the design space ({exc})", source=str(path)) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise IlrsError(f"not valid TOML: {exc}", source=str(path)) from exc
    try:
        space = Space.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(p for p in err.get("loc", ()) if not (isinstance(p, str) and p[:1].isupper()))
            loc = tuple(p for p in loc if p not in ("float", "bool", "str", "SiteChoice", "function-after[_one_way()]"))
            line = _line_of(text, loc) if loc else None
            field = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc).replace(".[", "[")
            msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
            problems.append(f"{f'line {line}, ' if line else ''}{f'field {field}: ' if field else ''}{msg}")
        problems = list(dict.fromkeys(problems))
        raise IlrsError(
            "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else ""),
            source=str(path),
            hint="see docs/trade.md for the design-space file",
        ) from exc
    return space
