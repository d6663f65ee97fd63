"""``ilrs portal ...``: administration of the partner portal's database from the command line (a fresh production
install's first administrator)."""

from __future__ import annotations

import sys

import typer

from ilrs.cli.common import console, handle_errors

app = typer.Typer(
    help="Administer the partner portal (its database as ILRS_DATABASE_URL names it).",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@app.command("create-admin")
@handle_errors
def create_admin(
    email: str = typer.Option(..., help="The administrator's e-mail (their sign-in name)."),
    name: str = typer.Option("Administrator", help="Display name."),
    organisation: str = typer.Option("ILRS Station Office", help="Their organisation (created if missing)."),
    country: str = typer.Option("China", help="The organisation's country, if it is created."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from standard input instead of prompting."
    ),
) -> None:
    """Create the first administrator of a fresh install (refused once one exists; later ones are invited).

    The password is prompted for (twice, not echoed), or read from standard input with --password-stdin; it
    never appears on the command line, where other users could see it."""
    from ilrs.portal import actions
    from ilrs.portal.db.migrate import upgrade
    from ilrs.portal.db.session import make_engine, session_factory
    from ilrs.portal.rules import clean_text
    from ilrs.portal.security import check_password_strength
    from ilrs.portal.settings import PortalSettings, secure_database_file

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    check_password_strength(password, email)
    settings = PortalSettings.from_environment()
    secure_database_file(settings.database_url)
    engine = make_engine(settings.database_url, threads=1)
    try:
        upgrade(engine)
        with session_factory(engine)() as db:
            user = actions.bootstrap_admin(
                db,
                clean_text(email, "email"),
                clean_text(name, "name"),
                password,
                clean_text(organisation, "organisation"),
                clean_text(country, "country"),
            )
    finally:
        engine.dispose()
    console.print(f"administrator {user.email} created (organisation: {organisation}); sign in at /login")
