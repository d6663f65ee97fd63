"""The ``ilrs`` command line."""

from __future__ import annotations

import typer

from ilrs.cli import cache, portal, scenario, site
from ilrs.cli.campaign import campaign
from ilrs.cli.common import set_debug
from ilrs.cli.compare import compare
from ilrs.cli.plan import plan
from ilrs.cli.run import run
from ilrs.cli.serve import serve
from ilrs.cli.trade import trade
from ilrs.cli.transport import orbit_app, transfer_app
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
app.add_typer(transfer_app, name="transfer")
app.add_typer(orbit_app, name="orbit")
app.command("plan")(plan)
app.command("serve")(serve)
app.add_typer(portal.app, name="portal")
app.command("run")(run)
app.command("compare")(compare)
app.command("trade")(trade)
app.add_typer(cache.app, name="cache")


@app.callback(invoke_without_command=True)
def main(
    version: bool = typer.Option(False, "--version", is_eager=True, help="Print the version and exit."),
    debug: bool = typer.Option(
        False, "--debug", help="Show the traceback of an internal error (exit status 1); also ILRS_DEBUG=1."
    ),
) -> None:
    """ilrs: site environment at the lunar south pole (LOLA terrain + SPICE).

    Exit status: 0 success, 1 internal error (a bug: --debug shows it), 2 usage error (unknown option, bad
    value for an option), 3 input error (a scenario, file, date or epoch that cannot be used), 130 interrupted."""
    # handled here rather than in an option callback so that this function is the only change to the module;
    # invoke_without_command lets `ilrs --version` run without a command (bare `ilrs` still shows the help)
    set_debug(debug)
    if version:
        from ilrs import __version__

        typer.echo(f"ilrs {__version__}")
        raise typer.Exit()


if __name__ == "__main__":  # pragma: no cover
    app()
