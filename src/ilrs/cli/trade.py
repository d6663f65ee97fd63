"""``ilrs trade SCENARIO --space SPACE.toml --out DIR``: search a station's design space with the twin."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from ilrs.cli.common import console, handle_errors, print_json, progress_bar


@handle_errors
def trade(
    scenario: str = typer.Argument(..., help="The scenario the designs start from: a file or a built-in name."),
    space: str = typer.Option(..., "--space", help="Design-space file (TOML; docs/trade.md) or a built-in space name."),
    out: Path = typer.Option(..., "--out", help="Directory for the table, the HTML page and the best designs."),
    method: str = typer.Option("grid", "--method", help="grid (every combination), lhs or nsga2."),
    workers: int | None = typer.Option(
        None, "--workers", min=0, help="Dask LocalCluster workers; 0: in process; default: in process when small."
    ),
    scheduler: str | None = typer.Option(
        None, "--scheduler", help="Dask scheduler tcp://HOST:PORT or tls://HOST:PORT (default: ILRS_DASK_SCHEDULER)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Run every design of a space (or a Latin-hypercube sample, or an NSGA-II search) through the station twin;
    print the Pareto front, the infeasible designs and the sensitivity ranking; write designs.nc, trade.html and
    the best designs as scenario files."""
    from ilrs.iotools.atomic import atomic_write_text
    from ilrs.reports.trade_page import trade_page
    from ilrs.services.trade import run_trade, write_results

    with progress_bar(f"trade study ({method})", as_json) as update:
        r = run_trade(
            scenario,
            space,
            method,
            workers,
            scheduler,
            progress=lambda done, total: update(done / total),
            on_mode=None if as_json else (lambda mode: console.print(f"running {mode}")),
        )
    paths = write_results(r, out)
    paths["page"] = atomic_write_text(Path(out) / "trade.html", trade_page(r))
    if as_json:
        print_json({**r.as_dict(), "files": {k: str(v) for k, v in paths.items()}})
        return
    console.print(
        f"{len(r.evaluations)} designs, {r.twin_runs} twin runs, {r.environments} site environment(s), "
        f"{int(r.feasible.sum())} feasible, {int(r.on_front.sum())} on the front, {r.seconds:.1f} s ({r.mode})"
    )
    if r.search is not None:
        c = r.search
        console.print(
            f"adaptive search check: NSGA-II asked for {c.evaluations} of the grid's {c.grid_evaluations} designs "
            f"and recovered {100 * c.hypervolume_ratio:.1f} % of the front's hypervolume "
            f"({c.front_found} of its {c.grid_front} designs)"
        )
    t = Table(title="Pareto front", title_justify="left")
    labels = [label for label, _ in r.space.dimensions()]
    for h in ["design", *labels, *(f"{o.sense} {o.metric}" for o in r.space.objectives)]:
        t.add_column(h, justify="right")
    for i in r.front_order():
        t.add_row(
            str(i),
            *(str(v) for v in r.values(i).values()),
            *(f"{r.metric(o.metric)[i]:,.1f}" for o in r.space.objectives),
        )
    console.print(t)
    for obj, shares in r.sensitivity.items():
        console.print(f"{obj} moves most with: " + ", ".join(f"{p} ({s:.0%})" for p, s in shares))
    for k, p in paths.items():
        console.print(f"wrote {k}: {p}")
