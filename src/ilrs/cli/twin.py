"""``ilrs twin [SCENARIO]``: run the station digital twin and print its key figures."""

from __future__ import annotations

from pathlib import Path

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from ilrs.cli.common import console, handle_errors, output_file, print_json, progress_bar
from ilrs.reports.twin_section import KPI_LABELS, format_kpi, format_ratio, format_storage_margin
from ilrs.services.twin import MAST_HEIGHTS_M
from ilrs.station.verdict import CRITICAL_PRIORITIES, Verdict


def verdict_tables(v: Verdict) -> list[Table | Text | str]:
    """The verdict first: the headline, then the power budget (generation against the loads by priority, as in the
    report) and the margins per build-up phase."""
    style = "bold green" if v.survives else "bold red"
    head = Text(v.headline(), style=style)
    # compact (no outer edge, one space between columns) so that the 13 columns fit an 80-column terminal
    t = Table(
        title="Power budget per build-up phase (means) [kW]",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        padding=(0, 0),
        collapse_padding=True,
    )
    n_priorities = max((len(p.load_kw) for p in v.phases), default=0)
    priorities = [f"P{k + 1}" for k in range(n_priorities)]
    for c in ("phase", "from", "gen.", "solar", "nucl.", *priorities, "gen/ld", "stor.", "crit.h"):
        t.add_column(c, justify="left" if c in ("phase", "from") else "right")
    for p in v.phases:
        t.add_row(
            p.name,
            p.start_utc[:7],
            f"{p.generation_kw:.1f}",
            f"{p.solar_kw:.1f}",
            f"{p.nuclear_kw:.1f}",
            *(f"{x:.2f}" for x in p.load_kw),
            format_ratio(p.energy_margin, "-"),
            format_storage_margin(p.storage_margin, "-"),
            Text(f"{p.critical_load_lost_h:.1f}", style="red" if p.critical_load_lost_h > 0 else ""),
        )
    contact = (
        f"P1-P{CRITICAL_PRIORITIES} are the critical loads (never to be shed), P{n_priorities} the first shed; "
        f"gen/ld: generation over load, before storage (-: no load); crit.h: hours of critical load lost. "
        f"Contact while in service: direct-to-Earth {v.dte_contact_h_per_day:.1f} h/day, relay "
        f"{v.relay_contact_h_per_day:.1f} h/day; stor.: the least usable battery energy left in the phase "
        "(-: no battery)"
    )
    return [head, t, contact]


def kpi_table(kpis: dict, title: str) -> Table:
    t = Table(title=title, title_justify="left")
    t.add_column("KPI")
    t.add_column("value", justify="right")
    for key, (label, _) in KPI_LABELS.items():
        t.add_row(label, format_kpi(key, kpis[key]))
    return t


@handle_errors
def twin(
    scenario: str = typer.Argument("ilrs-basic-2035", help="A scenario TOML file or a built-in name."),
    netcdf: Path = typer.Option(None, help="Also write the time series as NetCDF to this file."),
    as_json: bool = typer.Option(False, "--json", help="Print the KPIs as JSON."),
    dem: list[Path] = typer.Option(
        None, help="A finer DEM of the site (GeoTIFF/PDS3, repeatable, finest first), nested over the embedded ones."
    ),
    quiet: bool = typer.Option(False, help="No progress bar."),
) -> None:
    """Run the station digital twin over the scenario's period and print its KPIs."""
    from ilrs.services.scenarios import validated_scenario
    from ilrs.services.twin import run_twin, save_netcdf, site_environment
    from ilrs.station.twin import shedding_events

    if netcdf is not None:
        output_file(netcdf, "--netcdf", (".nc",))
    s = validated_scenario(scenario)
    with progress_bar(f"twin {s.name}", quiet or as_json) as update:
        run = run_twin(s, site_environment(s, [str(p) for p in dem] if dem else None))
        update(1.0)
    if netcdf is not None:
        save_netcdf(run, netcdf)
    if as_json:
        print_json({**run.kpis.as_dict(), "verdict": run.verdict.as_dict(), "warnings": run.warnings})
        return
    for part in verdict_tables(run.verdict):
        console.print(part)
    for w in run.warnings:
        console.print(f"Warning: {w}", markup=False)
    console.print(kpi_table(run.kpis.as_dict(), f"{s.name}: {s.start:%Y-%m-%d} .. {s.end:%Y-%m-%d}, step {s.step}"))
    events = shedding_events(run)
    if events:
        worst = max(events, key=lambda e: e.energy_kwh)
        console.print(
            f"load shedding: {len(events)} events; the largest {worst.start_utc} .. {worst.end_utc} "
            f"({worst.hours:.0f} h, {worst.energy_kwh:.0f} kWh, "
            f"down to priority {worst.lowest_priority_shed})"
        )


size_app = typer.Typer(help="Size station elements by running the twin.", no_args_is_help=True, rich_markup_mode=None)


@size_app.command("battery")
@handle_errors
def size_battery_cmd(
    scenario: str = typer.Argument("ilrs-basic-2035", help="A scenario file or built-in name."),
    protect: int = typer.Option(2, min=1, max=5, help="Never shed priorities 1..N (5: no load)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The smallest battery (a factor on the scenario's batteries) that keeps the protected loads powered."""
    from dataclasses import asdict

    from ilrs.services.scenarios import validated_scenario
    from ilrs.services.twin import size_battery

    s = validated_scenario(scenario)
    with progress_bar(f"sizing the battery of {s.name}", as_json) as update:
        result = size_battery(s, protect=protect)
        update(1.0)
    if as_json:
        print_json(asdict(result))
        return
    verdict = (
        f"a margin of {1.0 - result.scale:.0%} (the protected loads would survive with {result.scale:.0%} of it)"
        if result.scale <= 1.0
        else f"a shortfall: x{result.scale:.2f} of their capacity is needed"
    )
    console.print(
        f"{s.name}: the batteries have {verdict}; "
        f"{result.capacity_kwh:,.0f} kWh installed at the end "
        f"(scenario: {result.base_capacity_kwh:,.0f} kWh), minimum state of charge "
        f"{result.min_state_of_charge:.1%}, {result.iterations} engine runs"
    )


@size_app.command("arrays")
@handle_errors
def size_arrays_cmd(
    scenario: str = typer.Argument("ilrs-basic-2035", help="A scenario file or built-in name."),
    protect: int = typer.Option(2, min=1, max=5, help="Never shed priorities 1..N (5: no load)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The smallest solar arrays (a factor on every array's area) that keep the protected loads powered."""
    from dataclasses import asdict

    from ilrs.services.scenarios import validated_scenario
    from ilrs.services.twin import size_arrays

    s = validated_scenario(scenario)
    with progress_bar(f"sizing the arrays of {s.name}", as_json) as update:
        result = size_arrays(s, protect=protect)
        update(1.0)
    if as_json:
        print_json(asdict(result))
        return
    verb = "have a margin" if result.scale < 1.0 else "fall short"
    console.print(
        f"{s.name}: the arrays {verb}: x{result.scale:.2f} of their area is enough "
        f"({result.area_m2:,.0f} m2 against the scenario's {result.base_area_m2:,.0f} m2), {result.iterations} "
        "engine runs"
    )


@size_app.command("mast")
@handle_errors
def size_mast_cmd(
    scenario: str = typer.Argument("ilrs-basic-2035", help="A scenario file or built-in name."),
    heights: str = typer.Option(
        ",".join(f"{h:g}" for h in MAST_HEIGHTS_M), help="Mast heights to try for every array, comma-separated [m]."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The station with every array's mast at each height: survival, critical load lost, storage margin and solar
    energy (each height's terrain horizons are computed once, then cached)."""
    from dataclasses import asdict

    from ilrs.errors import IlrsError
    from ilrs.services.scenarios import validated_scenario
    from ilrs.services.twin import mast_options

    try:
        values = [float(x) for x in heights.split(",") if x.strip()]
    except ValueError:
        raise IlrsError(f"cannot read the heights {heights!r}", source="--heights", hint="e.g. 5,10,20") from None
    if not values:
        raise IlrsError("no heights given", source="--heights", hint="e.g. 5,10,20")
    s = validated_scenario(scenario)
    with progress_bar(f"masts for {s.name}", as_json) as update:
        options = mast_options(s, values)
        update(1.0)
    if as_json:
        print_json([asdict(o) for o in options])
        return
    t = Table(title=f"{s.name}: every array's mast at", title_justify="left")
    for c in ("mast [m]", "survives", "critical lost", "least storage margin", "solar energy"):
        t.add_column(c, justify="right")
    for o in options:
        t.add_row(
            f"{o.mast_height_m:g}",
            Text("yes", style="green") if o.survives else Text("no", style="red"),
            f"{o.critical_load_lost_h:.1f} h",
            format_storage_margin(o.least_storage_margin),
            f"{o.solar_kwh:,.0f} kWh",
        )
    console.print(t)
