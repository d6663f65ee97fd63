"""``ilrs scenario ...``: check and describe scenario files."""

from __future__ import annotations

import typer

from ilrs.cli.common import console, handle_errors, print_json, styled

#: The figures `show` lists for each element kind (the rest are in --json and docs/scenario.md).
KEY_FIGURES = {
    "solar_array": ("area_m2", "mast_height_m"),
    "battery": ("capacity_kwh", "max_discharge_kw"),
    "regenerative_fuel_cell": ("capacity_kwh",),
    "fission": ("power_kw",),
    "rtg": ("power_w",),
    "load": ("power_kw", "priority"),
    "heater": ("radiating_area_m2", "setpoint_c", "power_dark_kw"),
    "payload": ("power_kw", "data_rate_mbps"),
    "storage": ("capacity_gbit",),
    "dte": ("frequency_hz", "tx_power_w", "max_rate_mbps"),
    "relay": ("frequency_hz", "tx_power_w", "max_rate_mbps"),
}

app = typer.Typer(
    help="Scenario files: validate, show, list the built-ins.", no_args_is_help=True, rich_markup_mode=None
)


@app.command("validate")
@handle_errors
def validate(
    scenario: str = typer.Argument(..., help="A TOML file or a built-in name."),
    as_json: bool = typer.Option(False, "--json", help="Print the verdict as JSON."),
) -> None:
    """Check a scenario in full (schema, units, ranges, dates, references, site on the terrain). A problem exits
    with status 3 and one line naming the file, line and field."""
    from ilrs.services.scenarios import validated_scenario

    s = validated_scenario(scenario)
    warnings = []
    if not s.elements:
        # a site-only study is a valid scenario; the twin, and so `ilrs run`, needs a station to simulate
        warnings.append(
            f"{s.path or s.name}: field elements: the scenario has no elements; `ilrs twin` and `ilrs run` will "
            "refuse it (add [[elements]], see docs/scenario.md)"
        )
    if as_json:
        print_json(
            {
                "ok": True,
                "name": s.name,
                "file": str(s.path) if s.path else None,
                "elements": len(s.elements),
                "missions": len(s.missions),
                "start": f"{s.start:%Y-%m-%d}",
                "end": f"{s.end:%Y-%m-%d}",
                "warnings": warnings,
            }
        )
        return
    console.print(
        styled(("ok", "green"), f": {s.name}: {len(s.elements)} elements, {s.start:%Y-%m-%d} .. {s.end:%Y-%m-%d}")
    )
    for w in warnings:
        console.print(styled(("warning: ", "bold yellow"), w), soft_wrap=True)


@app.command("show")
@handle_errors
def show(
    scenario: str = typer.Argument("ilrs-basic-2035", help="A TOML file or a built-in name."),
    as_json: bool = typer.Option(False, "--json", help="Print the validated scenario as JSON."),
) -> None:
    """The scenario's site and its elements in order of arrival."""
    from rich.table import Table

    from ilrs.services.scenarios import site_latlon, validated_scenario

    s = validated_scenario(scenario)
    if as_json:
        print_json(s.model_dump(mode="json"))
        return
    lat, lon = site_latlon(s)
    console.print(styled((s.name, "bold"), f": {s.description}"))
    console.print(f"site {lat:.4f}, {lon:.3f} E; run {s.start:%Y-%m-%d} .. {s.end:%Y-%m-%d} every {s.step}")
    t = Table()
    for c in ("arrival", "mission", "name", "kind", "key figures"):
        t.add_column(c)
    for e in sorted(s.elements, key=lambda e: e.arrival):
        values = e.model_dump()
        figures = ", ".join(f"{k}={values[k]:g}" for k in KEY_FIGURES.get(e.kind, ()) if values[k] is not None)
        t.add_row(f"{e.arrival:%Y-%m-%d}", e.mission or "", e.name, e.kind, figures)
    console.print(t)


@app.command("list")
@handle_errors
def list_builtin(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """The built-in scenarios (each passes `ilrs scenario validate`), with their periods and descriptions."""
    from ilrs.scenario.load import builtin_scenarios, load_scenario

    rows = []
    for name in builtin_scenarios():
        s = load_scenario(name)
        rows.append(
            {"name": name, "start": f"{s.start:%Y-%m-%d}", "end": f"{s.end:%Y-%m-%d}", "description": s.description}
        )
    if as_json:
        print_json(rows)
        return
    for r in rows:
        console.print(styled((r["name"], "bold"), f"  {r['start']} .. {r['end']}  {r['description']}"))


@app.command("init")
@handle_errors
def init(
    name: str = typer.Argument("my-station", help="The new scenario's name."),
    template: str = typer.Option("ilrs-basic-2035", help="The built-in scenario to start from."),
) -> None:
    """Print a commented starting scenario (a built-in, renamed) on standard output: `ilrs scenario init NAME >
    NAME.toml`, then edit it and check it with `ilrs scenario validate NAME.toml`."""
    import sys

    from ilrs.services.scenarios import starting_scenario

    sys.stdout.write(starting_scenario(name, template))
