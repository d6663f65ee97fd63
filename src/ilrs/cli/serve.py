"""``ilrs serve``: the partner portal on Uvicorn (SQLite in the user's cache by default, PostgreSQL by
ILRS_DATABASE_URL)."""

from __future__ import annotations

import typer

from ilrs.cli.common import console, handle_errors, styled


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (127.0.0.0/8, ::1) or the name localhost."""
    import ipaddress

    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # another name: it may resolve anywhere


def check_bindable(host: str, port: int) -> None:
    """Raise :class:`IlrsError` unless a server could listen on ``host:port`` now (checked before the portal
    announces its address or touches its database; Uvicorn binds the same way, with SO_REUSEADDR)."""
    import errno
    import socket

    from ilrs.errors import IlrsError

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise IlrsError(f"cannot resolve the address {host!r}: {exc.strerror}", source="--host") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise IlrsError(
                    f"port {port} on {host} is already in use",
                    source="--port",
                    hint="stop the server that holds it, or choose another port with --port",
                ) from None
            raise IlrsError(
                f"cannot listen on {host}:{port}: {exc.strerror}",
                source="--port" if exc.errno == errno.EACCES else "--host",
                hint="ports below 1024 need privileges; use e.g. --port 8000"
                if exc.errno == errno.EACCES
                else "give an address of this machine, e.g. 127.0.0.1",
            ) from None


@handle_errors
def serve(
    demo: bool = typer.Option(
        False, "--demo", help="Seed demo organisations, a call and proposals (an empty database only)."
    ),
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, min=1, max=65535, help="Port."),
    workers: int = typer.Option(1, min=1, max=64, help="Uvicorn worker processes."),
) -> None:
    """Run the open-access partner portal: calls, proposals, review, allocation, schedules and data.

    A fresh production install gets its first administrator from ``ilrs portal create-admin``; --demo is for a
    trial on this machine only (its users share a published password) and is refused on any other address."""
    import uvicorn

    from ilrs.errors import IlrsError

    if demo and not is_loopback(host):
        raise IlrsError(
            f"--demo serves users with a published password; it listens on loopback only, not {host}",
            source="--host",
            hint="drop --host for a demo, or create a real administrator with `ilrs portal create-admin`",
        )

    check_bindable(host, port)  # before the database is touched or the address announced

    from ilrs.portal.main import create_app, uvicorn_options
    from ilrs.portal.settings import PortalSettings

    settings = PortalSettings.from_environment()  # refuses a database server without ILRS_SECRET_KEY
    app = create_app(settings)  # migrates the database to the newest schema
    if demo:
        import datetime as dt

        from ilrs.portal.demo import DEMO_PASSWORD, seed

        console.print("seeding the demo (the call's offer comes from a short run of the station twin) ...")
        with app.state.sessionmaker() as db:
            users = seed(db, dt.datetime.now(dt.UTC).replace(tzinfo=None))
        if users:
            console.print(styled("demo users (password ", (DEMO_PASSWORD, "bold"), "): " + ", ".join(users.values())))
        else:
            console.print("the database already has content; demo not seeded")
    console.print(f"database: {settings.database_url.split('@')[-1]}")
    console.print(f"portal on http://{host}:{port}/  (API: /api, schema: /api/openapi.json)")
    options = uvicorn_options(host, port, workers)
    if workers == 1:
        uvicorn.run(app, **options)
    else:
        uvicorn.run("ilrs.portal.main:create_app", factory=True, **options)
