"""The CLI's conventions (docs/cli.md): units in brackets survive in the rendered help, user text in brackets
prints as typed, one exit status per kind of failure (0 ok, 1 internal, 2 usage, 3 input, 130 interrupted), and
every error path ends in one line naming the file, line, field or option, without a traceback and without
writing anything."""

from __future__ import annotations

import json
import re
import socket
import time

import pytest
import typer
from typer.main import get_command
from typer.testing import CliRunner

from ilrs.cli.common import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_USAGE, handle_errors
from ilrs.cli.main import app
from ilrs.scenario.load import BUILTIN_DIR
from tests.clirunner import assert_ok, assert_user_error, invoke, output


def _commands(cmd=None, ctx=None, path=()):
    """(path, click command, context) of every command and group of ``ilrs``."""
    if cmd is None:
        cmd = get_command(app)
        ctx = typer.Context(cmd, info_name="ilrs")
    for name in cmd.list_commands(ctx):
        sub = cmd.get_command(ctx, name)
        sub_ctx = typer.Context(sub, info_name=name, parent=ctx)
        yield (*path, name), sub, sub_ctx
        if hasattr(sub, "list_commands"):
            yield from _commands(sub, sub_ctx, (*path, name))


# ------------------------------------------------------------------------------------------------ help and markup


def test_rendered_help_keeps_every_unit_in_brackets():
    """Every bracketed unit in an option's help ('[deg]', '[m]', '[s]', '[km]', '[days]') is in `--help` as typed;
    Rich markup would print 'Latitude , planetocentric.'."""
    seen = set()
    for path, cmd, _ in _commands():
        units = {u for p in cmd.params for u in re.findall(r"\[[^\]\s]+\]", p.help or "")}
        if not units:
            continue
        text = " ".join(output(assert_ok(invoke(*path, "--help"))).split())
        for unit in units:
            assert unit in text, (path, unit)
        seen |= units
    # the test would pass vacuously on an app without units: these are in the help of site, transfer and orbit
    assert {"[deg]", "[m]", "[s]", "[km]", "[days]"} <= seen


def test_every_command_runs_under_the_error_convention():
    """A command left without handle_errors would print a traceback for a user error and exit 1."""
    for path, cmd, _ in _commands():
        if cmd.callback is None:  # a group without its own callback
            continue
        assert getattr(cmd.callback, "handles_errors", False), path


def test_user_text_in_brackets_prints_verbatim():
    # Rich parsed '[/bad]' as a closing tag: MarkupError and a traceback
    text = assert_user_error(invoke("site", "point", "--lat", "-89.5", "--lon", "0", "--dem", "[/bad].tif"))
    assert "[/bad].tif" in text and "not found" in text
    text = assert_user_error(invoke("site", "point", "--site", "cr1", "--step", "[/x]"), "--step")
    assert "'[/x]'" in text and "10m" in text  # the value as typed and the form expected


def test_scenario_error_names_file_line_and_field(tmp_path):
    text = (BUILTIN_DIR / "ilrs-basic-2035.toml").read_text()
    first = re.search(r'^vehicle = "cz-5"$', text, re.M)
    assert first is not None
    bad = tmp_path / "[station].toml"  # brackets in the file name too
    bad.write_text(text[: first.start()] + 'vehicle = "cz-99"' + text[first.end() :])
    line = text[: first.start()].count("\n") + 1  # the line the test changed, counted here, not by the scanner
    msg = assert_user_error(invoke("scenario", "validate", bad), "cz-99")
    assert str(bad) in msg and f"line {line}," in msg and "missions[" in msg and "].vehicle" in msg


def test_scenario_list_offers_only_what_validate_accepts():
    out = json.loads(assert_ok(invoke("scenario", "list", "--json")).stdout)
    assert out, "no built-in scenario listed"
    for row in out:
        v = json.loads(assert_ok(invoke("scenario", "validate", row["name"], "--json")).stdout)
        assert v["ok"] and v["name"] == row["name"] and v["start"] == row["start"] and v["end"] == row["end"]
    # the built-in requests file is not a scenario: validate says what it is and what to do with it
    requests = next((BUILTIN_DIR / "requests").glob("*.toml"))
    assert requests.stem not in [row["name"] for row in out] or (BUILTIN_DIR / f"{requests.stem}.toml").is_file()
    assert_user_error(invoke("scenario", "validate", requests), "activity requests", "ilrs plan --requests")


# ---------------------------------------------------------------------------------------------------- exit status


def test_usage_errors_exit_2():
    for args in (["nosuch"], ["site", "point", "--lat", "north"], ["orbit", "halo", "--n", "1"]):
        r = invoke(*args)
        assert r.exit_code == EXIT_USAGE, (args, output(r))
        assert "Traceback" not in output(r)


def _tiny_app(exc: BaseException) -> typer.Typer:
    """A command under the real handle_errors that raises ``exc``, as a bug or Ctrl-C would."""
    tiny = typer.Typer()

    @tiny.command()
    @handle_errors
    def boom() -> None:
        raise exc

    return tiny


def test_internal_error_is_one_line_with_how_to_report(monkeypatch):
    monkeypatch.delenv("ILRS_DEBUG", raising=False)
    r = CliRunner().invoke(_tiny_app(ZeroDivisionError("division by zero")), [])
    text = output(r)
    assert r.exit_code == EXIT_INTERNAL and isinstance(r.exception, SystemExit)
    assert "Traceback" not in text and len(text.strip().splitlines()) <= 3  # one line, soft-wrapped at most
    assert "ZeroDivisionError" in text and "--debug" in text and "ILRS_DEBUG" in text
    monkeypatch.setenv("ILRS_DEBUG", "1")
    r = CliRunner().invoke(_tiny_app(ZeroDivisionError("division by zero")), [])
    assert isinstance(r.exception, ZeroDivisionError)  # the traceback is there for the report


def test_interrupt_exits_130():
    r = CliRunner().invoke(_tiny_app(KeyboardInterrupt()), [])
    assert r.exit_code == EXIT_INTERRUPTED and "interrupted" in output(r)


# ------------------------------------------------------------------------------------------------------ error paths


def test_epoch_outside_the_ephemeris_is_named():
    for args in (
        ["orbit", "nrho", "--depart", "2300-01-01", "--revs", "0"],
        ["transfer", "--depart", "2300-01-01"],
        ["orbit", "relay", "--epoch", "2300-01-01", "--days", "10"],
    ):
        text = assert_user_error(invoke(*args), "2300", "1849", "2150")  # the epoch and the valid range
        assert args[2] in text, text  # the option


def test_output_paths_refused_before_any_computation(tmp_path):
    a_file = tmp_path / "taken"
    a_file.write_text("keep me")
    a_dir = tmp_path / "adir.nc"
    a_dir.mkdir()
    for args, named in (
        (["run", "--out", a_file, "--quiet"], a_file),
        (["site", "map", "--out", a_file, "--quiet"], a_file),
        (["site", "map", "--out", a_file / "maps", "--quiet"], a_file),
        (["twin", "--netcdf", a_dir, "--quiet"], a_dir),
        (["twin", "--netcdf", a_file / "twin.nc", "--quiet"], a_file),
        (["plan", "--csv", a_file / "plan.csv", "--quiet"], a_file),
        (["transfer", "--oem", a_file / "x.oem"], a_file),
        (["site", "point", "--site", "cr1", "--series", a_dir], a_dir),
    ):
        t0 = time.perf_counter()
        assert_user_error(invoke(*args), str(named))
        # refused up front: a run, a year of maps or the twin take minutes; 30 s allows a cold cache of the DEMs
        assert time.perf_counter() - t0 < 30.0, args
    assert a_file.read_text() == "keep me" and not any(a_dir.iterdir())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_dask_scheduler_fails_in_seconds():
    address = f"tcp://127.0.0.1:{_free_port()}"  # nothing listens there
    t0 = time.perf_counter()
    text = assert_user_error(invoke("campaign", "--scheduler", address, "--runs", 10, "--json"), "--scheduler")
    elapsed = time.perf_counter() - t0
    assert address in text
    # the connection timeout is 10 s (distributed's default of 30 s kept users waiting); 25 s allows a loaded CI
    assert elapsed < 25.0, elapsed


def test_serve_on_a_port_in_use_says_so_without_announcing_it(fresh_serve_env):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        text = assert_user_error(invoke("serve", "--port", port), "--port", "in use", str(port))
    assert "http://" not in text
    assert not fresh_serve_env.exists()  # the database was never created


@pytest.fixture
def fresh_serve_env(tmp_path, monkeypatch):
    """A portal database path that does not exist yet (the refusal must come before it is created)."""
    db = tmp_path / "portal.sqlite"
    monkeypatch.setenv("ILRS_DATABASE_URL", f"sqlite:///{db}")
    return db


def test_missing_event_file_is_reported_missing(tmp_path):
    for name in (tmp_path / "event.json", tmp_path / "event.txt", "event"):
        text = assert_user_error(invoke("plan", "--event", name), "--event", "no event file")
        assert "Expecting value" not in text and "JSON" not in text.split("(")[0]


def test_scenario_init_gives_a_scenario_that_validates(tmp_path):
    text = assert_ok(invoke("scenario", "init", "my-station")).stdout
    f = tmp_path / "my-station.toml"
    f.write_text(text)
    v = json.loads(assert_ok(invoke("scenario", "validate", f, "--json")).stdout)
    assert v["ok"] and v["name"] == "my-station"


@pytest.mark.parametrize(
    "old, new, key",
    [
        ("lat_deg = -89.4455", "lat_deg = -70.0", "lat_deg ="),  # off every south-pole DEM (checked by services)
        ('requests = "', 'requests = "missing-', "requests ="),  # a requests file that is not there
    ],
)
def test_scenario_problems_beyond_the_schema_name_their_line(tmp_path, old, new, key):
    text = (BUILTIN_DIR / "ilrs-basic-2035.toml").read_text()
    assert old in text
    changed = text.replace(old, new, 1)
    line = next(i for i, s in enumerate(changed.splitlines(), 1) if s.startswith(key))
    bad = tmp_path / "s.toml"
    bad.write_text(changed)
    msg = assert_user_error(invoke("scenario", "validate", bad))
    assert str(bad) in msg and f"line {line}," in msg, msg


def test_run_refuses_a_missing_or_corrupt_dem_before_any_work(tmp_path):
    """`ilrs run --dem` reads the DEM first: a missing file or one that is not a DEM is named, exit 3."""
    bad = tmp_path / "not-a-dem.tif"
    bad.write_bytes(b"this is not a GeoTIFF")
    missing = tmp_path / "missing.tif"
    assert_user_error(invoke("run", "--dem", missing, "--out", tmp_path / "o", "--quiet"), "missing.tif")
    assert_user_error(invoke("run", "--dem", bad, "--out", tmp_path / "o", "--quiet"), "not-a-dem.tif")
    assert not (tmp_path / "o" / "report.html").exists()


def test_user_dems_nest_over_the_embedded_ones():
    """The DEMs a user brings join the embedded 10 m tile, 240 m DEM and LDEM_4 (once each), finest first."""
    from ilrs.services.data import GLOBAL_LDEM4, POLE_240M, TILE_10M, data_path, nested_with_embedded

    assert nested_with_embedded(None) is None and nested_with_embedded([]) is None
    pole = str(data_path(POLE_240M))
    tile, ldem = str(data_path(TILE_10M)), str(data_path(GLOBAL_LDEM4))
    assert nested_with_embedded([pole]) == [tile, pole, ldem]  # a coarser DEM does not hide the 10 m tile
    assert nested_with_embedded([ldem, tile]) == [tile, pole, ldem]
