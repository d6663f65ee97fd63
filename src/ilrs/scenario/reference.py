"""The scenario reference (docs/scenario.md), generated from the schema so that it never goes stale.

Regenerate with ``python -m ilrs.scenario.reference > docs/scenario.md``; a test compares the two.
"""

from __future__ import annotations

import typing

from pydantic import BaseModel

from ilrs.scenario import schema


def _type_name(annotation) -> str:
    if typing.get_origin(annotation) is typing.Literal:
        return " or ".join(f"`{a}`" for a in typing.get_args(annotation))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "table"
    text = str(annotation).replace("typing.", "").replace("datetime.datetime", "date-time")
    text = text.replace("<class '", "").replace("'>", "")
    for model in ("MissionSpec", "VehicleSpec"):
        if model in text:
            return f"array of tables `[[{'missions' if model == 'MissionSpec' else 'vehicles'}]]`"
    if "ElementFailure" in text:
        return "array of tables `[[events]]`"
    if "ilrs.scenario.schema" in text:
        return "array of tables `[[elements]]`"
    return text.replace(" | ", " or ")


def _constraints(field) -> str:
    parts = []
    for m in field.metadata:
        for attr, sym in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")):
            v = getattr(m, attr, None)
            if v is not None:
                parts.append(f"{sym} {v:g}")
    return ", ".join(parts)


def _table(model: type[BaseModel]) -> list[str]:
    rows = ["| field | type | default | range | meaning |", "|---|---|---|---|---|"]
    for name, f in model.model_fields.items():
        if name == "kind":
            continue
        if f.is_required():
            default = "required"
        elif f.default_factory is not None:
            default = {"orbit": "Queqiao-2-like", "analysis": "(see below)"}.get(name) or repr(
                f.get_default(call_default_factory=True)
            )
        else:
            default = repr(f.default)
        rows.append(
            f"| `{f.alias or name}` | {_type_name(f.annotation)} | {default} | {_constraints(f)} | "
            f"{(f.description or '').replace('|', '/')} |"
        )
    return rows


def reference_markdown() -> str:
    out = [
        "# Scenario files",
        "",
        "A scenario is a TOML file (see `src/ilrs/data/scenarios/ilrs-basic-2035.toml`). Units are in the",
        "field names. `ilrs scenario validate FILE` checks everything before any simulation and names the",
        "file, line, field, bad value and the expected form. Dates are UTC (`2031-06-01` or",
        "`2031-06-01T12:00:00`). Every element needs `kind`, `name` and `arrival` (within the run); an element",
        "that names a `[[missions]]` entry and gives no `arrival` arrives when that mission lands.",
        "",
        "This file is generated from the schema: `python -m ilrs.scenario.reference > docs/scenario.md`.",
        "",
        "## Top level",
        "",
    ]
    out += _table(schema.Scenario)
    out += ["", "## `[site]`", ""] + _table(schema.Site)
    out += ["", "## `[analysis]`", ""] + _table(schema.Analysis)
    out += ["", '## `[[events]]`: `kind = "element_failure"`', ""] + _table(schema.ElementFailure)
    out += ["", '## `[[events]]`: `kind = "window_lost"`', ""] + _table(schema.WindowLost)
    for kind, model in (
        ("solar_array", schema.SolarArray),
        ("battery", schema.Battery),
        ("regenerative_fuel_cell", schema.RegenerativeFuelCell),
        ("fission", schema.FissionUnit),
        ("rtg", schema.Rtg),
        ("load", schema.Load),
        ("heater", schema.SurvivalHeater),
        ("payload", schema.Payload),
        ("storage", schema.DataStorage),
        ("dte", schema.DteTerminal),
        ("relay", schema.RelayTerminal),
    ):
        out += ["", f'## `[[elements]]` with `kind = "{kind}"`', "", (model.__doc__ or "").strip(), ""]
        out += _table(model)
    out += ["", "## `[elements.orbit]` (of a relay)", ""] + _table(schema.RelayOrbit)
    out += ["", "## `[[missions]]`", "", (schema.MissionSpec.__doc__ or "").strip(), ""] + _table(schema.MissionSpec)
    out += ["", "## `slip = { ... }` (of a mission)", ""] + _table(schema.SlipSpec)
    out += ["", "## `[[vehicles]]`", "", (schema.VehicleSpec.__doc__ or "").strip(), ""] + _table(schema.VehicleSpec)
    return "\n".join(out) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(reference_markdown(), end="")
