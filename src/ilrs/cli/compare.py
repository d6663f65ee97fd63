"""``ilrs compare A B [...]``: scenarios side by side, differences highlighted."""

from __future__ import annotations

import math

import typer
from rich.table import Table
from rich.text import Text

from ilrs.cli.common import console, handle_errors, print_json, progress_bar
from ilrs.reports.twin_section import KPI_LABELS, format_kpi, format_storage_margin


def _fmt(key: str, value: object) -> str:
    if value is None:
        return "-"
    if key.startswith("phase ") and key.endswith(": energy_margin") and isinstance(value, float):
        return f"{100 * value:+.0f} %" if math.isfinite(value) else "n/a (no load)"
    if key.startswith("phase ") and key.endswith(": storage_margin") and isinstance(value, float):
        return format_storage_margin(value)
    if key in KPI_LABELS and isinstance(value, float):
        return format_kpi(key, value)
    if key == "least_storage_margin" and isinstance(value, float):
        return format_storage_margin(value)
    if key.endswith("critical_load_lost_h") and isinstance(value, float):
        return f"{value:.1f} h"
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 100 else f"{value:.3g}"
    return str(value)


@handle_errors
def compare(
    scenarios: list[str] = typer.Argument(..., help="Two or more scenario files or built-in names."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Run the twin of each scenario and show their verdicts and KPIs side by side; values that differ from the
    first scenario's are highlighted."""
    from ilrs.services.compare import compare_scenarios

    with progress_bar(f"comparing {len(scenarios)} scenarios", as_json) as update:
        c = compare_scenarios(scenarios)
        update(1.0)
    if as_json:
        print_json(c.as_dict())
        return
    t = Table(title="Scenarios compared (highlighted: differs from the first)", title_justify="left")
    t.add_column("")
    for n in c.names:
        t.add_column(n, justify="right")
    for key, values, differs in c.rows:
        label = KPI_LABELS[key][0] if key in KPI_LABELS else key.replace("_", " ")
        cells = [Text(_fmt(key, v), style="bold yellow" if differs and i else "") for i, v in enumerate(values)]
        t.add_row(label, *cells)
    console.print(t)
