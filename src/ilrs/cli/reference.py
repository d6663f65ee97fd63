"""The command reference (docs/cli.md), generated from the Typer app so that it never goes stale.

Regenerate with ``python -m ilrs.cli.reference > docs/cli.md``; a test compares the two. Every usage line,
argument, option, type, default and help text comes from the Click command tree (``typer.main.get_command``);
help strings are Click's raw text, not Rich's rendering, which would swallow units such as ``[deg]`` as markup.
What a help line cannot hold (output fields, what a run writes, how a result is found) is in :data:`NOTES`.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator

import typer
from typer.main import get_command

#: Commands in the order a reader meets them (the main job first); any command not listed follows, in the
#: order the app registers it, so a new command is never left out of the reference.
ORDER = ("run", "twin", "size", "site", "scenario", "campaign", "transfer", "orbit", "plan", "serve")

INTRO = """\
Errors a user can cause (a point outside every DEM, an epoch outside the kernels, a corrupt raster, a bad step, an
output path that cannot be written) print one line naming the file, line, field or option, the valid range and
what to do, without a traceback; no output file is half-written (every file is written to a temporary name and
renamed, and output paths are checked before any long computation). Every command that prints results takes
`--json` (one JSON document on stdout; messages and progress go to stderr). `ilrs COMMAND --help` prints the
same help as below.

## Exit status

- `0`: success.
- `1`: internal error, a bug in ilrs: one line on stderr; `ilrs --debug COMMAND ...` (or `ILRS_DEBUG=1`) shows
  the traceback to report.
- `2`: usage error, found before the command runs: an unknown command or option, a missing argument, a value of
  the wrong type or outside an option's range (Click's own message).
- `3`: input error: a scenario, requests or event file, a DEM, a date, an epoch, a scheduler address or an output
  path the command cannot use; the message names it, the valid range and the fix.
- `130`: interrupted (Ctrl-C)."""

#: Prose beyond the help texts, by command path.
NOTES: dict[str, str] = {
    "run": """\
`make run` runs it on the built-in `ilrs-basic-2035`: the horizon map of the 240 m south-pole DEM (360
azimuths, far field from LDEM_4, observer 10 m: the highest array mast and antenna), hourly Sun and Earth
visibility over the region within 132 km of the pole through an 18.6-year nodal cycle from the run's start
(2028-2046) sampled by 12 windows of 30 days, the top-10 site ranking, the shortlist re-scored over every hour of
the cycle on the finest DEM, a year at the best site with a 10 m mast on the nested mosaic, then the scenario's
station twin, sizing, campaign, plan and design study; writes `OUT/report.html` (one self-contained file) and
`OUT/twin.nc`.""",
    "twin": """\
Power (arrays at their mast heights above the terrain, fission, RTG, batteries and regenerative fuel cells as
one storage pool), loads shed by priority when energy runs short (logged), direct-to-Earth windows to the
partners' deep-space stations, the relay, data storage. Prints the KPIs (loss-of-load hours, minimum state of
charge, energy margin, contact hours per day, data downlinked and lost, longest darkness with no load shed at
all) and the shedding log's largest event.""",
    "size battery": """\
Found by bisection, re-running the twin's engine on one environment series; the factor applies to the
batteries' capacity and power limits alike.""",
    "site point": """\
JSON fields: `lat_deg, lon_deg, height_m, start, end, step_s, n_steps, ground_elevation_m, slope_deg, dem_layer,
dem_cell_m, sun_visible_fraction` (any part of the disk above the horizon), `sun_mean_disk_fraction,
earth_visible_fraction` (Earth's centre above the horizon), `longest_dark_hours, longest_earth_gap_hours,
horizon_max_deg, horizon_mean_deg`.

CSV columns (`--series`): `time_utc, sun_azimuth_deg, sun_elevation_deg, sun_horizon_deg, sun_disk_fraction,
earth_azimuth_deg, earth_elevation_deg, earth_horizon_deg, earth_visible`. Azimuths are geographic (from north
toward east), elevations above the local horizontal plane of the sphere point. `--dem` may be repeated.""",
    "site map": """\
GeoTIFF (IAU_2015:30135) and PNG maps with colour bars and site marks, one per layer: `sun_visible_fraction,
mean_disk_fraction, longest_dark_hours, earth_visible_fraction, slope_deg, never_lit, distance_to_shadow_km`.""",
    "site rank": """\
Sites are scored by sunlight, darkness, Earth visibility and distance to shadow; steeper cells are excluded and
the picks are at least 5 km apart.""",
    "site horizon": """\
The NetCDF holds `horizon(azimuth, y, x)` in degrees, stored as int16 hundredths; geographic azimuth = grid
azimuth - east longitude.""",
    "scenario": """\
Scenario files are TOML (see `docs/scenario.md`, generated from the schema). `validate` checks the schema,
units, ranges, arrival dates inside the run, unique names, ground-station and site names, and that the site
stands on a south-pole DEM; every problem names the file, line, field, bad value and expected form. The built-in
`ilrs-basic-2035` carries the ILRS roadmap from Chang'e 8 to ILRS-5 with a source for every element.""",
    "campaign": """\
The roadmap: Chang'e 7/8, Luna 26-28, ILRS-1..5 with launch and landing success, schedule slips and
dependencies; the result is the probability that each capability is in place by a date. Runs on Dask: a
LocalCluster by default, any scheduler by address, `--workers 0` in-process; results are identical whatever the
number of workers.""",
    "transfer": """\
TLI from a circular parking orbit, LOI into a low lunar orbit, with DE440s ephemerides; `--oem` writes the arc as
a CCSDS OEM 2.0 file (EME2000, UTC).""",
    "plan": """\
Requests are TOML or JSON (see `docs/operations.md`; default: the scenario's own `<name>-requests.toml`). CP-SAT
is seeded by a greedy baseline and plans against the twin's spare power, energy and data cycles, exclusive
resources, conditions and fairness; the plan is re-run through the twin (no extra load shed, no extra data lost)
and validated independently. `--event` re-plans after an element failure or a lost window. Prints the value,
the greedy value, the bound and gap, the shares per partner and every request that cannot be planned, with the
reason.""",
    "serve": """\
SQLite in the user's cache by default, PostgreSQL by `ILRS_DATABASE_URL` (which then needs `ILRS_SECRET_KEY`);
see `docs/portal.md`.""",
}


def _commands(cmd, ctx) -> Iterator[tuple[str, object, typer.Context]]:
    """(path, command, context) of every command under ``cmd``, depth first, groups before their commands."""
    names = list(cmd.list_commands(ctx))
    if ctx.parent is None:
        names = [n for n in ORDER if n in names] + [n for n in names if n not in ORDER]
    for name in names:
        sub = cmd.get_command(ctx, name)
        if sub is None or getattr(sub, "hidden", False):
            continue
        sub_ctx = typer.Context(sub, info_name=name, parent=ctx)
        path = f"{ctx.command_path} {name}".removeprefix("ilrs ")
        yield path, sub, sub_ctx
        if hasattr(sub, "list_commands"):
            yield from _commands(sub, sub_ctx)


def _help_text(text: str | None) -> str:
    # Click hides what follows \f from the help and treats \b as a no-rewrap marker
    return inspect.cleandoc((text or "").split("\f")[0]).replace("\b\n", "")


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _type(param, ctx) -> str:
    if getattr(param, "is_flag", False) and not getattr(param, "count", False):
        return "flag"
    label = param.display_type(ctx).strip("<>").replace(" range", "")
    if label.startswith("list[") and label.endswith("]"):
        label = f"{label[5:-1]}, repeatable"
    lo, hi = getattr(param, "min", None), getattr(param, "max", None)
    if lo is not None and hi is not None:
        label += f", {lo} to {hi}"
    elif lo is not None:
        label += f", >= {lo}"
    elif hi is not None:
        label += f", <= {hi}"
    return label


def _default(param) -> str:
    if param.required:
        return "required"
    value = param.default
    if getattr(param, "is_flag", False):
        if param.secondary_opts:
            return f"`{(param.opts if value else param.secondary_opts)[0]}`"
        return "on" if value else "off"
    if value is None or value == () or value == []:
        return ""
    return f"`{value}`"


def _param_name(param) -> str:
    if param.param_type_name == "argument":
        return f"`{param.metavar or param.name}`"
    names = ", ".join(param.opts)
    if param.secondary_opts:
        names += " / " + ", ".join(param.secondary_opts)
    return f"`{names}`"


def _command_section(path: str, cmd, ctx) -> list[str]:
    out = [f"## `ilrs {path}`", ""]
    is_group = hasattr(cmd, "list_commands")
    usage = cmd.get_usage(ctx).removeprefix("Usage:").strip()
    if not is_group:
        out += ["```", usage, "```", ""]
    help_text = _help_text(cmd.help)
    if help_text:
        out += [help_text, ""]
    if is_group:
        subs = ", ".join(f"`{name}`" for name in cmd.list_commands(ctx))
        out += [f"Commands: {subs}.", ""]
    params = [p for p in cmd.params if not getattr(p, "hidden", False)]
    if params:
        out += ["| argument or option | type | default | meaning |", "|---|---|---|---|"]
        for p in params:
            out.append(f"| {_param_name(p)} | {_type(p, ctx)} | {_default(p)} | {_cell(p.help or '')} |")
        out.append("")
    if path in NOTES:
        out += [NOTES[path], ""]
    return out


def reference_markdown() -> str:
    from ilrs.cli.main import app

    root = get_command(app)
    ctx = typer.Context(root, info_name="ilrs")
    out = [
        "# `ilrs` command reference",
        "",
        "This file is generated from the command line itself: `python -m ilrs.cli.reference > docs/cli.md`.",
        "",
        INTRO,
        "",
        _help_text(root.help),
        "",
    ]
    for path, cmd, sub_ctx in _commands(root, ctx):
        out += _command_section(path, cmd, sub_ctx)
    return "\n".join(out).rstrip("\n") + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(reference_markdown(), end="")
