"""``ilrs twin [SCENARIO]``: run the station digital twin and print its key figures."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from ilrs.cli.common import console, handle_errors, print_json, progress_bar
from ilrs.reports.twin_section import KPI_LABELS


def kpi_table(kpis: dict, title: str) -> Table:
    t = Table(title=title, title_justify="left")
    t.add_column("KPI")
    t.add_column("value", justify="right")
    for key, (label, fmt) in KPI_LABELS.items():
        t.add_row(label, fmt.format(kpis[key]))
    return t


@handle_errors
def twin(scenario: str = typer.Argument("ilrs-basic-2035", help="A scenario TOML file or a built-in name."),
         netcdf: Path = typer.Option(None, help="Also write the time series as NetCDF to this file."),
         as_json: bool = typer.Option(False, "--json", help="Print the KPIs as JSON."),
         quiet: bool = typer.Option(False, help="No progress bar.")) -> None:
    """Run the station digital twin over the scenario's period and print its KPIs."""
    from ilrs.services.scenarios import validated_scenario
    from ilrs.services.twin import run_twin, save_netcdf

    s = validated_scenario(scenario)
    with progress_bar(f"twin {s.name}", quiet or as_json) as update:
        run = run_twin(s)
        update(1.0)
    if netcdf is not None:
        save_netcdf(run, netcdf)
    if as_json:
        print_json(run.kpis.as_dict())
        return
    console.print(kpi_table(run.kpis.as_dict(), f"{s.name}: {s.start:%Y-%m-%d} .. {s.end:%Y-%m-%d}, step {s.step}"))
