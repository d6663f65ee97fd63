"""Shared CLI helpers: error printing, progress bars, JSON output."""

from __future__ import annotations

import contextlib
import functools
import json
import sys
from collections.abc import Callable, Iterator

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from ilrs.errors import IlrsError
from ilrs.iotools.tables import to_jsonable

console = Console(stderr=True)


def handle_errors(func: Callable) -> Callable:
    """Print user errors (IlrsError) in one line without a traceback and exit with status 2."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except IlrsError as exc:
            console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            console.print("[yellow]interrupted[/]")
            raise typer.Exit(130) from None

    return wrapper


@contextlib.contextmanager
def progress_bar(description: str, quiet: bool = False) -> Iterator[Callable[[float], None]]:
    """A Rich progress bar on stderr; yields ``update(fraction)``."""
    if quiet:
        yield lambda f: None
        return
    with Progress(
        TextColumn("[bold]{task.description}"),
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
    sys.stdout.write(json.dumps(to_jsonable(obj), indent=2) + "\n")
