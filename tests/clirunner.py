"""Run the ``ilrs`` command line in-process (Typer's CliRunner) and check how a run ended.

In-process runs share the test session's settings and product cache and pay no interpreter start-up; the few
tests where the process boundary itself matters (the console script, exit status, stdout kept clean for JSON)
spawn the installed ``ilrs`` and carry the ``e2e`` mark.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from typer.testing import CliRunner, Result

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

#: The console script of the interpreter running the tests (``[project.scripts] ilrs``).
ILRS_SCRIPT = Path(sys.executable).with_name("ilrs")


def subprocess_env() -> dict[str, str]:
    """The environment for a spawned ``ilrs``: the test session's product cache, never the developer's."""
    from ilrs.config import get_settings

    return {**os.environ, "ILRS_CACHE_DIR": str(get_settings().cache_dir)}


def invoke(*args) -> Result:
    """``ilrs ARGS...`` in this process; ``result.stdout`` is what the command printed for a pipe."""
    from ilrs.cli.main import app

    return CliRunner().invoke(app, [str(a) for a in args])


def output(result: Result) -> str:
    """stdout and stderr as the user would see them, without colour codes."""
    return _ANSI.sub("", result.output)


def assert_ok(result: Result) -> Result:
    """The command ended with status 0 (on failure, show what it printed and the exception)."""
    assert result.exit_code == 0, (output(result), result.exception)
    return result


def assert_user_error(result: Result, *needles: str, exit_code: int = 3) -> str:
    """A user error: the command exited (``SystemExit``, not another exception escaping it) with ``exit_code``
    (3: an input error, the CLI's convention; 2: a usage error Click caught), printed no traceback, and its output
    names every needle (case-insensitive). Returns the output."""
    text = output(result)
    assert isinstance(result.exception, SystemExit), (result.exception, text)
    assert result.exit_code == exit_code, text
    assert "Traceback" not in text
    for needle in needles:
        assert needle.lower() in text.lower(), (needle, text)
    return text
