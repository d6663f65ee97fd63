"""Shared CLI helpers: the exit-status convention, error printing, progress bars, JSON output.

Exit status (documented in docs/cli.md):

====  ==========================================================================================================
0     success
1     internal error: a bug in ilrs (one line on stderr; ``--debug`` or ``ILRS_DEBUG=1`` shows the traceback)
2     usage error: an unknown command or option, a missing argument, a value of the wrong type or out of an
      option's range (Click's own, before the command runs)
3     input error: a scenario, requests or event file, a DEM, a date, an epoch or an output path that the command
      cannot use (:class:`ilrs.errors.IlrsError`: the message names the file, line, field or option and the fix)
130   interrupted (Ctrl-C)
====  ==========================================================================================================

Every message goes through :data:`console`, whose markup is off: user text such as ``[/bad].tif``, ``[[missions]]``
or ``[battery]`` prints as typed (styles come from :class:`rich.text.Text`, never from markup in a string).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import click
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.text import Text

from ilrs.errors import IlrsError
from ilrs.iotools.tables import to_jsonable

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_INTERRUPTED = 130

#: Messages on stderr; markup off, so that text in brackets from the user or a file is never taken for a style.
console = Console(stderr=True, markup=False)

_debug = False


def set_debug(on: bool) -> None:
    """``ilrs --debug``: let internal errors raise with their traceback."""
    global _debug
    _debug = on


def debug_enabled() -> bool:
    return _debug or os.environ.get("ILRS_DEBUG", "") not in ("", "0")


def styled(*parts: str | tuple[str, str]) -> Text:
    """A line of text from plain strings and ``(text, style)`` pairs; nothing in it is parsed as markup."""
    return Text.assemble(*parts)


def print_error(message: str) -> None:
    console.print(styled(("error: ", "bold red"), message), highlight=False, soft_wrap=True)


def handle_errors(func: Callable) -> Callable:
    """Run a command under the exit-status convention above: a user error (IlrsError) prints one line and exits
    3, Ctrl-C exits 130, any other exception prints one line saying how to see and report it and exits 1."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except IlrsError as exc:
            print_error(str(exc))
            raise typer.Exit(EXIT_INPUT) from None
        except KeyboardInterrupt:
            console.print(Text("interrupted", style="yellow"))
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except (typer.Exit, click.exceptions.ClickException, click.exceptions.Abort, SystemExit):
            raise
        except Exception as exc:
            if debug_enabled():
                raise
            from ilrs import __version__

            # one line: the first line of the message that says something (SPICE's start with a rule of '=')
            lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip().strip("=-")]
            what = (lines[0][:200] if lines else "").rstrip(".")
            print_error(
                f"internal error in ilrs {__version__}: {type(exc).__name__}: {what}. This is a bug: run the command "
                "again as `ilrs --debug ...` (or with ILRS_DEBUG=1) to see the traceback, and report both with "
                "the command line to the ilrs maintainers"
            )
            raise typer.Exit(EXIT_INTERNAL) from None

    wrapper.handles_errors = True  # type: ignore[attr-defined]
    return wrapper


def output_file(path: Path | str, option: str, suffixes: tuple[str, ...] = ()) -> Path:
    """An output file path checked before any long computation: not a directory, with an expected suffix, in a
    directory that exists (or can be created) and is writable."""
    p = Path(path)
    if suffixes and p.suffix.lower() not in suffixes:
        raise IlrsError(f"{str(p)!r} must end in {' or '.join(suffixes)}", source=option)
    if p.is_dir():
        raise IlrsError(f"{str(p)!r} is a directory", source=option, hint="give a file name")
    output_dir(p.parent if str(p.parent) else Path("."), option, create=True)
    if p.exists() and not os.access(p, os.W_OK):
        raise IlrsError(f"{str(p)!r} exists and is not writable", source=option, hint="choose another path")
    return p


def output_dir(path: Path | str, option: str, create: bool = True) -> Path:
    """An output directory checked before any long computation: created if missing (with its parents), refused if
    it is a file or cannot be written to."""
    p = Path(path)
    for q in (p, *p.parents):
        if q.exists() and not q.is_dir():
            raise IlrsError(
                f"{str(q)!r} is a file, not a directory", source=option, hint="give a directory for the outputs"
            )
        if q.exists():
            break
    if create:
        try:
            p.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise IlrsError(
                f"cannot create the directory {str(p)!r}: {exc.strerror}", source=option, hint="choose another path"
            ) from None
    if p.exists() and not os.access(p, os.W_OK | os.X_OK):
        raise IlrsError(f"the directory {str(p)!r} is not writable", source=option, hint="choose another path")
    return p


@contextlib.contextmanager
def progress_bar(description: str, quiet: bool = False) -> Iterator[Callable[[float], None]]:
    """A Rich progress bar on stderr; yields ``update(fraction)``."""
    if quiet:
        yield lambda f: None
        return
    with Progress(
        TextColumn("{task.description}", markup=False, style="bold"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    ) as prog:
        task = prog.add_task(description, total=1.0)
        yield lambda f: prog.update(task, completed=max(0.0, min(1.0, float(f))))
        prog.update(task, completed=1.0)


def staged_progress(quiet: bool) -> tuple[Callable[[str, float], None], Callable[[], None]]:
    """A callback ``(stage, fraction)`` that shows one progress bar per stage, and its ``close()``."""
    state: dict = {}

    def update(stage: str, fraction: float) -> None:
        if quiet:
            return
        if state.get("stage") != stage:
            if "ctx" in state:
                state["ctx"].__exit__(None, None, None)
            state["stage"] = stage
            state["ctx"] = progress_bar(stage)
            state["update"] = state["ctx"].__enter__()
        state["update"](fraction)

    def close() -> None:
        if "ctx" in state:
            state["ctx"].__exit__(None, None, None)
            state.clear()

    return update, close


def print_json(obj) -> None:
    sys.stdout.write(json.dumps(to_jsonable(obj), indent=2, allow_nan=False) + "\n")
