"""Scenario files: TOML in, a validated :class:`Scenario` out, or one error that names file, line and field."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from ilrs.config import PACKAGE_DATA
from ilrs.errors import IlrsError
from ilrs.scenario.schema import ELEMENT_KINDS, Scenario

BUILTIN_DIR = PACKAGE_DATA / "scenarios"
#: Longest twin step [s]: the relay's 24 h orbit gives passes of a few hours, ground stations' windows and terrain
#: shadows change within hours; a longer step would average them away.
MAX_TWIN_STEP_S = 3600.0
#: Longest step of the site analysis's maps [s]: near the pole the Sun's azimuth turns ~12 deg a day (360 deg in a
#: synodic month of 29.5 d), so a longer step skips the terrain's lit and dark runs and misses the longest night.
MAX_ANALYSIS_STEP_S = 86400.0
DEFAULT_SCENARIO = "ilrs-basic-2035"


def builtin_scenarios() -> list[str]:
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.toml"))


def resolve(name_or_path: str | Path | None) -> Path:
    """A scenario file from a path, or the built-in of that name (the default when None)."""
    if name_or_path is None:
        name_or_path = DEFAULT_SCENARIO
    p = Path(name_or_path)
    if p.exists():
        return p
    builtin = BUILTIN_DIR / f"{name_or_path}.toml"
    if builtin.exists():
        return builtin
    raise IlrsError(
        f"no scenario file or built-in scenario named {str(name_or_path)!r}",
        source="scenario",
        hint="built-in scenarios: " + ", ".join(builtin_scenarios()),
    )


def _line_of(text: str, loc: tuple) -> int | None:
    """1-based line of the TOML key at pydantic location ``loc`` (e.g. ('elements', 3, 'battery', 'x'))."""
    lines = text.splitlines()
    start = 0
    table = ""
    parts = [p for p in loc if not (isinstance(p, str) and p in ELEMENT_KINDS)]
    key = None
    for i, part in enumerate(parts):
        if isinstance(part, int) and i > 0:
            header = f"[[{table}]]"
            seen = -1
            for n in range(start, len(lines)):
                if lines[n].strip() == header:
                    seen += 1
                    if seen == part:
                        start = n + 1
                        break
            else:
                return None
        elif isinstance(part, str):
            if i + 1 < len(parts) and isinstance(parts[i + 1], int):
                table = f"{table}.{part}" if table else part
            else:
                key = part
                if i + 1 < len(parts):  # a sub-table such as [elements.orbit]
                    table = f"{table}.{part}" if table else part
                    for n in range(start, len(lines)):
                        if lines[n].strip() in (f"[{table}]", f"[{table.split('.')[-1]}]"):
                            start = n + 1
                            break
    if key is None:
        return start or None
    pattern = re.compile(rf"^\s*{re.escape(str(key))}\s*=")
    for n in range(start, len(lines)):
        if lines[n].lstrip().startswith("[") and n > start and lines[n].strip().startswith("[["):
            break
        if pattern.match(lines[n]):
            return n + 1
    return start or None


def toml_line(text: str, loc: tuple) -> int | None:
    """The 1-based line of the key at pydantic location ``loc`` in TOML ``text`` (``("requests", 3, "duration")``:
    the ``duration =`` line of the fourth ``[[requests]]`` table), or None; tomllib keeps no positions."""
    return _line_of(text, loc)


def scenario_line(scenario: Scenario, loc: tuple) -> int | None:
    """The 1-based line of ``loc`` (e.g. ``("missions", 3, "vehicle")`` or ``("site", "lat_deg")``) in the file
    the scenario was read from, or None (a scenario built in code, or a key the scanner cannot find)."""
    if scenario.path is None:
        return None
    try:
        text = scenario.path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return _line_of(text, loc)


def scenario_error(scenario: Scenario, loc: tuple, message: str, hint: str | None = None) -> IlrsError:
    """An :class:`IlrsError` naming the scenario's file, the line of ``loc`` in it and the field."""
    line = scenario_line(scenario, loc)
    field = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc).replace(".[", "[")
    where = f"line {line}, " if line else ""
    return IlrsError(f"{where}field {field}: {message}", source=str(scenario.path or scenario.name), hint=hint)


def _short(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 5] + " ...)"


def _describe(err: ErrorDetails, text: str) -> str:
    loc = tuple(err.get("loc", ()))
    path = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc).replace(".[", "[")
    path = re.sub(r"\.(" + "|".join(ELEMENT_KINDS) + r")(?=\.|$)", "", path)
    line = _line_of(text, loc) if loc else None
    where = f"line {line}, " if line else ""
    value = err.get("input")
    got = "" if isinstance(value, dict) or value is None else f" (got {_short(value)})"
    msg = err.get("msg", "invalid")
    if err.get("type") == "union_tag_invalid":
        msg = f"unknown element kind; expected one of {', '.join(ELEMENT_KINDS)}"
        got = f" (got {err.get('ctx', {}).get('tag')!r})"
    field = f"field {path}: " if path else ""
    return f"{where}{field}{msg}{got}"


def load_scenario(name_or_path: str | Path | None = None) -> Scenario:
    """Read and validate a scenario (a TOML path or a built-in name; the default built-in when None)."""
    path = resolve(name_or_path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise IlrsError(f"cannot read the scenario ({exc})", source=str(path)) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise IlrsError(
            f"not valid TOML: {exc}",
            source=str(path),
            hint="fix the syntax at that line (strings in quotes, one key = value per line)",
        ) from exc
    if "requests" in data and isinstance(data["requests"], list) and "name" not in data:
        raise IlrsError(
            "this is a file of partner activity requests ([[requests]] tables), not a scenario",
            source=str(path),
            hint=f"plan it with `ilrs plan --requests {path}`; a scenario names it with requests = FILE",
        )
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        problems = [_describe(e, text) for e in exc.errors()]
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise IlrsError(
            f"{len(problems)} problem(s): {shown}",
            source=str(path),
            hint="see docs/scenario.md for every field, its unit and range",
        ) from exc
    _check_references(scenario, text, path)
    scenario._path = path.resolve()
    requests = scenario.requests_path()
    if requests is not None and not requests.is_file():
        line = _line_of(text, ("requests",))
        raise IlrsError(
            f"{f'line {line}, ' if line else ''}field requests: no file {str(requests)!r}",
            source=str(path),
            hint="give the requests file's path relative to the scenario file",
        )
    return scenario


def _check_references(scenario: Scenario, text: str, path: Path) -> None:
    """What the schema alone cannot know: the step's syntax, ground-station and site names."""
    from ilrs.ephem.ground_stations import get_station
    from ilrs.ephem.time import parse_step
    from ilrs.terrain.sites import site_by_key

    def fail(loc: tuple, msg: str, hint: str | None = None):
        line = _line_of(text, loc)
        where = f"line {line}, " if line else ""
        field = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc).replace(".[", "[")
        raise IlrsError(f"{where}field {field}: {msg}", source=str(path), hint=hint)

    try:
        step = parse_step(scenario.step)
    except IlrsError as exc:
        fail(("step",), str(exc))
    if step > (scenario.end - scenario.start).total_seconds():
        fail(("step",), f"step {scenario.step!r} is longer than the run")
    if step > MAX_TWIN_STEP_S:
        fail(
            ("step",),
            f"step {scenario.step!r} is longer than the twin can represent ({MAX_TWIN_STEP_S / 3600:g} h): "
            "relay passes, ground-station windows and shadows change within hours",
            hint='use "10m" (the default) up to "1h"',
        )
    try:
        analysis_step = parse_step(scenario.analysis.step)
    except IlrsError as exc:
        fail(("analysis", "step"), str(exc))
    if analysis_step > MAX_ANALYSIS_STEP_S:
        fail(
            ("analysis", "step"),
            f"step {scenario.analysis.step!r} is too long for the site analysis (at most "
            f"{MAX_ANALYSIS_STEP_S / 3600:g} h): the Sun's azimuth turns ~12 deg a day at the pole, so the maps "
            "would not resolve the lit and dark runs nor the longest night",
            hint='use "1h" (the default)',
        )
    if scenario.site.name is not None:
        try:
            site_by_key(scenario.site.name)
        except IlrsError as exc:
            fail(("site", "name"), str(exc))
    for i, e in enumerate(scenario.elements):
        for station in getattr(e, "stations", ()):
            try:
                get_station(station)
            except IlrsError as exc:
                fail(("elements", i, "stations"), str(exc))
