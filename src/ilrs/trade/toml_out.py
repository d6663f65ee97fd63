"""A scenario written back as TOML that :func:`ilrs.scenario.load.load_scenario` reads to the same model."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from ilrs.scenario.schema import Scenario


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(float(v)) if isinstance(v, float) else str(v)
    if isinstance(v, dt.datetime):
        return v.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items() if x is not None) + " }"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def _key(k: str) -> str:
    return k if k.replace("_", "").replace("-", "").isalnum() else json.dumps(k)


def _clean(v: Any) -> Any:
    """Drop None values at every depth (TOML has no null)."""
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items() if x is not None}
    if isinstance(v, list):
        return [_clean(x) for x in v]
    return v


def scenario_toml(scenario: Scenario, header: str = "") -> str:
    """TOML text of a scenario: scalars, then tables, then arrays of tables (nested tables inline)."""
    data = _clean(scenario.model_dump(by_alias=True, exclude_none=True))
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    tables, arrays = [], []
    for k, v in data.items():
        if isinstance(v, dict):
            tables.append((k, v))
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            arrays.append((k, v))
        else:
            lines.append(f"{_key(k)} = {_value(v)}")
    for k, v in tables:
        lines += ["", f"[{k}]"] + [f"{_key(a)} = {_value(b)}" for a, b in v.items()]
    for k, rows in arrays:
        for row in rows:
            lines += ["", f"[[{k}]]"] + [f"{_key(a)} = {_value(b)}" for a, b in row.items()]
    return "\n".join(lines) + "\n"
