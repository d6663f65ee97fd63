"""The ``ilrs`` command line."""

from __future__ import annotations

import typer

from ilrs.cli import scenario, site
from ilrs.cli.campaign import campaign
from ilrs.cli.plan import plan
from ilrs.cli.serve import serve
from ilrs.cli.transport import orbit_app, transfer
from ilrs.cli.twin import size_app, twin

app = typer.Typer(
    name="ilrs",
    help="The International Lunar Research Station in software.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # plain Click help: Rich markup would swallow the units in brackets ("Latitude [deg]") as style tags
    rich_markup_mode=None,
)
app.add_typer(site.app, name="site")
app.add_typer(scenario.app, name="scenario")
app.command("twin")(twin)
app.add_typer(size_app, name="size")
app.command("campaign")(campaign)
app.command("transfer")(transfer)
app.add_typer(orbit_app, name="orbit")
app.command("plan")(plan)
app.command("serve")(serve)


@app.command()
def run(
    scenario: str = typer.Argument("ilrs-basic-2035", help="A scenario TOML file or a built-in name."),
    out: str = typer.Option("out", help="Directory for the report and its products."),
    quiet: bool = typer.Option(False, help="No progress bars."),
) -> None:
    """The main job: south-pole site analysis, then the scenario's station twin, in one HTML report."""
    from ilrs.cli.report import run_default

    run_default(out, quiet, scenario)


@app.callback()
def main() -> None:
    """ilrs: site environment at the lunar south pole (LOLA terrain + SPICE)."""


if __name__ == "__main__":  # pragma: no cover
    app()
