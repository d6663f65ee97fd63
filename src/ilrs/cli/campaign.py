"""``ilrs campaign``: how likely each capability of the basic model is in place, by Monte Carlo on Dask."""

from __future__ import annotations

from datetime import date

import typer

from ilrs.cli.common import console, handle_errors, print_json, progress_bar, styled


@handle_errors
def campaign(
    scenario: str = typer.Argument("ilrs-basic-2035", help="A scenario file (its missions) or a built-in."),
    runs: int = typer.Option(10_000, min=1, help="Monte Carlo runs."),
    seed: int = typer.Option(2035, help="Random seed (results are identical for any number of workers)."),
    scheduler: str | None = typer.Option(
        None, help="tcp://HOST:PORT or tls://HOST:PORT of a Dask scheduler (default: ILRS_DASK_SCHEDULER)."
    ),
    workers: int | None = typer.Option(
        None, min=0, help="LocalCluster workers (0: in-process; default: in process when the runs are too few to pay)."
    ),
    by: str = typer.Option("2035-12-31", help="Date for the probabilities."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Monte Carlo of the ILRS roadmap: launch and landing failures and schedule slips -> capability dates."""
    from ilrs.campaign.roadmap import check_roadmap, scenario_roadmap
    from ilrs.errors import IlrsError
    from ilrs.services.campaign import buildup_json, buildup_of
    from ilrs.services.scenarios import validated_scenario

    try:
        by_date = date.fromisoformat(by)
    except ValueError as exc:
        raise IlrsError(f"--by {by!r} is not a date", source="--by", hint="use YYYY-MM-DD") from exc
    sc = validated_scenario(scenario)
    missions, vehicles = scenario_roadmap(sc)
    notes = check_roadmap(missions, vehicles)
    from ilrs.services.montecarlo import run_monte_carlo

    with progress_bar(f"{runs:,} campaign runs", as_json) as update:
        result, mode = run_monte_carlo(
            missions,
            runs,
            seed,
            workers,
            scheduler,
            progress=update,
            on_mode=None if as_json else (lambda m: console.print(f"running {m}")),
        )
    items, rows = buildup_of(missions, result, sc, by=by_date)
    if as_json:
        print_json(
            {
                "runs": runs,
                "seed": seed,
                "ran": mode,
                "by": by,
                "notes": notes,
                "summary": result.summary(by_date),
                "buildup": buildup_json(items, rows),
            }
        )
        return
    for n in notes:
        console.print(styled(("note: ", "yellow"), n))
    console.print(result.table(by_date), highlight=False)
    console.print("\nBuild-up (P working on the date; * = not yet arrived by plan):", highlight=False)
    for r in rows:

        def fmt(entries):
            return ", ".join(f"{e['name']}{'' if e['planned'] else '*'} {e['p_working']:.2f}" for e in entries) or "-"

        console.print(f"{r.date}  orbit: {fmt(r.in_orbit)}\n            surface: {fmt(r.on_surface)}", highlight=False)
