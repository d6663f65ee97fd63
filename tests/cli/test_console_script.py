"""The installed ``ilrs`` console script end to end: what only a real process shows (the entry point in
``[project.scripts]``, the exit status the shell sees, data on stdout and messages on stderr, no traceback from
the interpreter). Everything else about the commands is tested in-process (``tests.clirunner``)."""

from __future__ import annotations

import subprocess

import pytest

from ilrs.scenario.load import BUILTIN_DIR
from tests.clirunner import ILRS_SCRIPT, subprocess_env

pytestmark = pytest.mark.e2e


def ilrs(*args):
    assert ILRS_SCRIPT.is_file(), f"{ILRS_SCRIPT} is missing: install the package (make test does)"
    return subprocess.run(
        [str(ILRS_SCRIPT), *map(str, args)], capture_output=True, text=True, timeout=300, env=subprocess_env()
    )


def test_console_script_lists_every_command():
    r = ilrs("--help")
    assert r.returncode == 0, r.stderr
    for name in ("run", "twin", "size", "site", "scenario", "campaign", "transfer", "orbit", "plan", "serve"):
        assert name in r.stdout


def test_console_script_bad_scenario_exits_3_with_the_message_on_stderr(tmp_path):
    bad = tmp_path / "bad.toml"
    text = (BUILTIN_DIR / "ilrs-basic-2035.toml").read_text()
    bad.write_text(text.replace("capacity_kwh = 500.0", "capacity_kwh = -1"))
    r = ilrs("scenario", "validate", bad)
    assert r.returncode == 3  # an input error (docs/cli.md: exit status)
    assert r.stdout == ""
    assert "bad.toml" in r.stderr and "capacity_kwh" in r.stderr and "Traceback" not in r.stderr
