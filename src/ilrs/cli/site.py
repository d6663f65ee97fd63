"""``ilrs site ...``: the site environment at the lunar south pole."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import typer
from rich.text import Text

from ilrs.cli.common import console, handle_errors, output_dir, output_file, print_json, progress_bar


def _step(text: str) -> float:
    """The --step option in seconds; a bad one is named as the option."""
    from ilrs.ephem.time import parse_step
    from ilrs.errors import IlrsError

    try:
        return parse_step(text)
    except IlrsError as exc:
        raise IlrsError(exc.message, source="--step", hint=exc.hint) from None


app = typer.Typer(
    help="Sunlight, Earth visibility, horizons and site rankings at the south pole.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@app.command("point")
@handle_errors
def point(
    lat: float = typer.Option(None, help="Latitude [deg], planetocentric."),
    lon: float = typer.Option(None, help="East longitude [deg]."),
    site: str = typer.Option(None, help="A named site instead of --lat/--lon (see 'ilrs site list')."),
    height: float = typer.Option(0.0, help="Observer height above the ground [m] (solar array, antenna)."),
    start: str = typer.Option("2025-01-01", help="Start, UTC (ISO 8601)."),
    end: str = typer.Option("2026-01-01", help="End, UTC (exclusive)."),
    step: str = typer.Option("1h", help="Time step: 10m, 1h, 1d or seconds."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    series: Path = typer.Option(None, help="Also write one CSV row per time step to this file."),
    dem: list[str] = typer.Option(
        None, help="DEM files (GeoTIFF or PDS3 .LBL), finest first; default: the embedded 10 m / 240 m / LDEM_4 mosaic."
    ),
) -> None:
    """Sun and Earth visibility above the real terrain horizon at one point over a time span."""
    from ilrs.errors import IlrsError
    from ilrs.services.site import point_environment, write_series_csv
    from ilrs.terrain.sites import site_by_key

    if site and (lat is not None or lon is not None):
        given = " and ".join(o for o, v in (("--lat", lat), ("--lon", lon)) if v is not None)
        raise IlrsError(
            f"--site {site!r} and {given} both give the point: they could disagree",
            source="ilrs site point",
            hint="give either --site or --lat/--lon, not both",
        )
    if site:
        s = site_by_key(site)
        lat, lon = s.lat_deg, s.lon_deg
    if lat is None or lon is None:
        raise IlrsError("give --lat and --lon, or --site", source="ilrs site point")
    if series is not None:
        output_file(series, "--series")
    env = point_environment(lat, lon, start, end, _step(step), height, dem or None)
    if series is not None:
        write_series_csv(env, series)
    summary = env.summary()
    if as_json:
        print_json(summary)
        return
    from rich.table import Table

    t = Table(title=f"Site environment at {env.lat_deg:.4f}, {env.lon_deg:.4f} E, {env.height_m:g} m above ground")
    t.add_column("quantity")
    t.add_column("value", justify="right")
    rows = [
        ("period (UTC)", f"{env.start} .. {env.end}, step {env.step_s:g} s, {env.n_steps} steps"),
        ("ground elevation", f"{env.ground_elevation_m:.1f} m ({env.dem_layer}, {env.dem_cell_m:g} m cells)"),
        ("slope", f"{env.slope_deg:.1f} deg"),
        ("Sun visible (any part)", f"{100 * env.sun_visible_fraction:.1f} %"),
        ("mean solar disk fraction", f"{100 * env.sun_mean_disk_fraction:.1f} %"),
        ("longest darkness", f"{env.longest_dark_hours:.1f} h"),
        ("Earth visible", f"{100 * env.earth_visible_fraction:.1f} %"),
        ("longest Earth gap", f"{env.longest_earth_gap_hours:.1f} h"),
    ]
    for k, v in rows:
        t.add_row(k, v)
    console.print(t)
    for w in env.warnings:
        console.print(Text("warning: " + w, style="yellow"))
    if series is not None:
        console.print(f"series written to {series}")


@app.command("list")
@handle_errors
def list_sites(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """The catalogue of named south-pole sites with their sources."""
    from dataclasses import asdict

    from ilrs.terrain.sites import SITES

    if as_json:
        print_json([asdict(s) for s in SITES])
        return
    from rich.table import Table

    t = Table(title="Named sites")
    for c in ("key", "name", "lat", "lon E", "source"):
        t.add_column(c)
    for s in SITES:
        t.add_row(s.key, s.name, f"{s.lat_deg:.3f}", f"{s.lon_deg:.3f}", s.source)
    console.print(t)


_TILE_HELP = "Tile side [cells] for the tiled, out-of-core, restartable path (default: chosen from the memory)."
_HALO_HELP = "Full-resolution overlap around each tile [cells] (default 128; the tile must be at least this)."
_WORKERS_HELP = "Dask LocalCluster workers; 0: in process; default: in process when small."
_SCHEDULER_HELP = "Dask scheduler tcp://HOST:PORT or tls://HOST:PORT (default: ILRS_DASK_SCHEDULER)."
_WORKDIR_HELP = "Directory of the tile files of a tiled run (rerun to resume; default: next to the output)."


def _tiled_run(dem, far_dem, spec_args, work_dir, workers, scheduler, restart_fresh, quiet, label):
    """Open the DEM, run its tiles with a progress bar, and return the finished run."""
    from ilrs.iotools.dem_grid import open_dem_grid
    from ilrs.services.tiled import far_layers, run_tiled, tiled_spec

    grid = open_dem_grid([str(p) for p in dem])
    far, far_id = far_layers([str(p) for p in far_dem] if far_dem else None)
    spec = tiled_spec(grid, **spec_args)
    with progress_bar(f"{label} {grid.rows}x{grid.cols}, tiles of {spec.tile}", quiet) as update:
        res = run_tiled(
            grid,
            spec,
            work_dir,
            far=far,
            far_identity=far_id,
            workers=workers,
            scheduler=scheduler,
            progress=update,
            restart_fresh=restart_fresh,
        )
    if not quiet:
        console.print(
            f"{len(res.computed)} tiles computed, {len(res.reused)} reused ({res.where}); tile files in {work_dir}"
        )
    return res


@app.command("horizon")
@handle_errors
def horizon(
    dem: list[Path] = typer.Option(
        ..., help="A south polar stereographic DEM: one GeoTIFF or PDS3 .LBL, or repeat for GeoTIFF tiles of one grid."
    ),
    azimuths: int = typer.Option(360, help="Number of azimuths (uniform in grid azimuth)."),
    height: float = typer.Option(2.0, help="Observer height above the ground [m]."),
    out: Path = typer.Option(..., help="Output NetCDF file (.nc)."),
    far_dem: list[Path] = typer.Option(
        None,
        help="Coarser DEMs for the far field beyond the grid, finest first (e.g. LDEM_4.LBL); tiled default: the "
        "embedded 240 m DEM and LDEM_4.",
    ),
    tile: int = typer.Option(None, "--tile", help=_TILE_HELP),
    halo: int = typer.Option(None, "--halo", help=_HALO_HELP),
    workers: int = typer.Option(None, "--workers", min=0, help=_WORKERS_HELP),
    scheduler: str = typer.Option(None, "--scheduler", help=_SCHEDULER_HELP),
    work_dir: Path = typer.Option(None, "--work-dir", help=_WORKDIR_HELP),
    restart_fresh: bool = typer.Option(
        False, "--restart-fresh", help="Discard the tiles of another run in --work-dir."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print what was written as JSON."),
    quiet: bool = typer.Option(False, help="No progress bar."),
) -> None:
    """Horizon map of every cell of a DEM at N azimuths (NetCDF, int16 hundredths of a degree).

    With --tile, several --dem tiles, --workers or --scheduler, the DEM is computed tile by tile (any size, in
    bounded memory, restartable from --work-dir) and written as chunked, compressed NetCDF4.
    """
    from ilrs.errors import IlrsError

    if not 4 <= azimuths <= 3600:
        raise IlrsError(f"{azimuths} azimuths is outside [4, 3600]", source="--azimuths")
    output_file(out, "--out", (".nc",))
    tiled = tile is not None or len(dem) > 1 or workers is not None or scheduler is not None or halo is not None
    if tiled:
        from ilrs.services.tiled import save_tiled_horizons

        wd = work_dir or out.with_suffix(".tiles")
        spec_args = {"height_m": height, "n_azimuths": azimuths, "tile": tile, "halo": halo, "keep_horizons": True}
        res = _tiled_run(dem, far_dem, spec_args, wd, workers, scheduler, restart_fresh, quiet or as_json, "horizons")
        save_tiled_horizons(res, out)
        if as_json:
            print_json(
                {
                    "out": str(out),
                    "rows": res.grid.rows,
                    "cols": res.grid.cols,
                    "azimuths": azimuths,
                    "height_m": height,
                    "tile": res.spec.tile,
                    "halo": res.spec.halo,
                    "tiles_computed": len(res.computed),
                    "tiles_reused": len(res.reused),
                    "work_dir": str(wd),
                    "where": res.where,
                }
            )
            return
        console.print(f"horizon map written to {out}")
        return
    from ilrs.services.data import load_dem
    from ilrs.services.horizon_maps import horizon_map, save_horizon_map

    if len(far_dem or []) > 1:
        raise IlrsError("the untiled path takes one --far-dem", source="--far-dem", hint="or add --tile")
    d = load_dem(str(dem[0]))
    far = load_dem(str(far_dem[0])) if far_dem else None
    with progress_bar(f"horizons {d.shape[0]}x{d.shape[1]} x {azimuths} az", quiet or as_json) as update:
        hm = horizon_map(d, height, azimuths, far, update)
    save_horizon_map(hm, out)
    if as_json:
        from ilrs.core.horizon import NO_HORIZON

        stored = hm.stored[hm.stored != NO_HORIZON]  # int16 hundredths of a degree; NO_HORIZON: none found
        print_json(
            {
                "out": str(out),
                "rows": int(d.shape[0]),
                "cols": int(d.shape[1]),
                "azimuths": hm.n_azimuths,
                "height_m": hm.height_m,
                "horizon_min_deg": float(stored.min()) / 100.0 if stored.size else None,
                "horizon_max_deg": float(stored.max()) / 100.0 if stored.size else None,
                "horizon_mean_deg": float(stored.mean(dtype=np.float64)) / 100.0 if stored.size else None,
            }
        )
        return
    console.print(f"horizon map written to {out}")


def _dem_maps(dem, far_dem, start, end, step_s, height, tile, halo, workers, scheduler, work_dir, fresh, quiet):
    """Site maps of a user's DEM by the tiled path (360 azimuths)."""
    from ilrs.services.tiled import Period, tiled_site_maps

    spec_args = {
        "height_m": height,
        "n_azimuths": 360,
        "tile": tile,
        "halo": halo,
        "period": Period(start, end, step_s),
    }
    res = _tiled_run(dem, far_dem, spec_args, work_dir, workers, scheduler, fresh, quiet, "horizons and maps")
    return tiled_site_maps(res)


_WINDOWS_HELP = (
    "Sample the period by this many windows of 30 days spread over it (0: every step); default: 12 for a period "
    "longer than a year (the cost of one year), else 0."
)


def _windows(windows: int | None, start: str, end: str) -> int:
    """--windows as given, else 12 windows for a period longer than a year (0 for a shorter one)."""
    if windows is not None:
        return windows
    from ilrs.ephem.time import default_sample_windows

    return default_sample_windows(start, end)


def _tiled_options(windows: int | None, earth_height: float | None, height: float) -> None:
    """The tiled path (--dem) sees the Sun and the Earth from one height over every step."""
    from ilrs.errors import IlrsError

    if windows:
        raise IlrsError("--windows is not available with --dem (tiled maps cover every step)", source="--windows")
    if earth_height is not None and earth_height != height:
        raise IlrsError(
            "--earth-height differs from --height, which --dem does not support (one horizon height per tile)",
            source="--earth-height",
            hint="leave --earth-height out, or rank on the embedded DEM",
        )


@app.command("map")
@handle_errors
def site_map(
    start: str = typer.Option("2025-01-01", help="Start, UTC."),
    end: str = typer.Option("2026-01-01", help="End, UTC (exclusive)."),
    step: str = typer.Option("1h", help="Time step: 10m, 1h, 1d or seconds."),
    height: float = typer.Option(2.0, help="Observer height above the ground [m]: the Sun's (the arrays')."),
    earth_height: float = typer.Option(
        None, "--earth-height", help="Height the Earth is seen from [m] (the antennas'); default: --height."
    ),
    windows: int = typer.Option(None, "--windows", min=0, help=_WINDOWS_HELP),
    out: Path = typer.Option(Path("out/maps"), help="Output directory for GeoTIFF and PNG maps."),
    region_km: float = typer.Option(132.0, help="Half-width of the square region around the pole [km]."),
    pds4: bool = typer.Option(False, help="Also write a PDS4 label and raw image per layer (in pds4/)."),
    dem: list[Path] = typer.Option(
        None, help="Your own DEM (GeoTIFF/PDS3, or repeat for GeoTIFF tiles of one grid), computed tile by tile."
    ),
    far_dem: list[Path] = typer.Option(None, help="Coarser DEMs beyond --dem (default: embedded 240 m + LDEM_4)."),
    tile: int = typer.Option(None, "--tile", help=_TILE_HELP),
    halo: int = typer.Option(None, "--halo", help=_HALO_HELP),
    workers: int = typer.Option(None, "--workers", min=0, help=_WORKERS_HELP),
    scheduler: str = typer.Option(None, "--scheduler", help=_SCHEDULER_HELP),
    work_dir: Path = typer.Option(None, "--work-dir", help=_WORKDIR_HELP),
    restart_fresh: bool = typer.Option(
        False, "--restart-fresh", help="Discard the tiles of another run in --work-dir."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the files written and each layer's range as JSON."),
    quiet: bool = typer.Option(False, help="No progress bars."),
) -> None:
    """Sun-visibility, disk-fraction, darkness, Earth-visibility, slope and shadow maps (GeoTIFF + PNG).

    With --dem, the maps cover that DEM (whole), computed tile by tile (--region-km is ignored)."""
    from ilrs.cli.common import staged_progress
    from ilrs.reports.map_files import write_map_files
    from ilrs.services.site_maps import site_maps

    output_dir(out, "--out")
    if dem:
        _tiled_options(windows, earth_height, height)
        maps = _dem_maps(
            dem,
            far_dem,
            start,
            end,
            _step(step),
            height,
            tile,
            halo,
            workers,
            scheduler,
            work_dir or out / "tiles",
            restart_fresh,
            quiet or as_json,
        )
    else:
        update, close = staged_progress(quiet or as_json)
        try:
            maps = site_maps(
                start,
                end,
                _step(step),
                height,
                region_km * 1000.0,
                progress=update,
                earth_height_m=earth_height,
                windows=_windows(windows, start, end),
            )
        finally:
            close()
    written = write_map_files(out, maps, pds4=pds4)
    if as_json:
        layers = {}
        for name, a in maps.layers.items():
            v = np.asarray(a, dtype=float)
            v = v[np.isfinite(v)]
            layers[name] = {
                "min": float(v.min()) if v.size else None,
                "max": float(v.max()) if v.size else None,
                "mean": float(v.mean()) if v.size else None,
            }
        print_json({"out": str(out), "files": [str(p) for p in written], "layers": layers})
        return
    console.print(f"{len(written)} files written to {out} (GeoTIFF + PNG per layer, STAC catalog.json)")


def adequacy_summary(flagged: list, cell_m: float) -> str:
    """One line for the ranked sites whose DEM cannot resolve their terrain."""
    ranks = ", ".join(str(r.rank) for r in flagged)
    return f"the {cell_m:.0f} m DEM cannot resolve the terrain at {len(flagged)} of these sites (rank {ranks})"


@app.command("rank")
@handle_errors
def site_rank(
    top: int = typer.Option(10, help="How many sites."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    start: str = typer.Option("2025-01-01", help="Start, UTC."),
    end: str = typer.Option("2026-01-01", help="End, UTC (exclusive)."),
    step: str = typer.Option("1h", help="Time step."),
    height: float = typer.Option(2.0, help="Observer height above the ground [m]: the Sun's (the arrays')."),
    earth_height: float = typer.Option(
        None, "--earth-height", help="Height the Earth is seen from [m] (the antennas'); default: --height."
    ),
    windows: int = typer.Option(None, "--windows", min=0, help=_WINDOWS_HELP),
    max_slope: float = typer.Option(15.0, help="Exclude cells steeper than this [deg]."),
    dem: list[Path] = typer.Option(
        None, help="Your own DEM (GeoTIFF/PDS3, or repeat for GeoTIFF tiles of one grid), computed tile by tile."
    ),
    far_dem: list[Path] = typer.Option(None, help="Coarser DEMs beyond --dem (default: embedded 240 m + LDEM_4)."),
    tile: int = typer.Option(None, "--tile", help=_TILE_HELP),
    halo: int = typer.Option(None, "--halo", help=_HALO_HELP),
    workers: int = typer.Option(None, "--workers", min=0, help=_WORKERS_HELP),
    scheduler: str = typer.Option(None, "--scheduler", help=_SCHEDULER_HELP),
    work_dir: Path = typer.Option(Path("out/rank-tiles"), "--work-dir", help=_WORKDIR_HELP),
    restart_fresh: bool = typer.Option(
        False, "--restart-fresh", help="Discard the tiles of another run in --work-dir."
    ),
    quiet: bool = typer.Option(False, help="No progress bars."),
) -> None:
    """The best station sites of the region, by sunlight, darkness, Earth visibility, slope and shadow."""
    from dataclasses import asdict

    from ilrs.cli.common import staged_progress
    from ilrs.errors import IlrsError
    from ilrs.services.site_maps import rank_sites, site_maps

    if top < 1:
        raise IlrsError("--top must be at least 1", source="--top")
    if dem:
        output_dir(work_dir, "--work-dir")
        _tiled_options(windows, earth_height, height)
        maps = _dem_maps(
            dem,
            far_dem,
            start,
            end,
            _step(step),
            height,
            tile,
            halo,
            workers,
            scheduler,
            work_dir,
            restart_fresh,
            quiet or as_json,
        )
    else:
        update, close = staged_progress(quiet or as_json)
        try:
            maps = site_maps(
                start,
                end,
                _step(step),
                height,
                progress=update,
                earth_height_m=earth_height,
                windows=_windows(windows, start, end),
            )
        finally:
            close()
    ranked = rank_sites(maps, top=top, max_slope_deg=max_slope)
    if as_json:
        print_json([asdict(r) for r in ranked])
        return
    from rich.table import Table

    t = Table(title=f"Top {top} sites, {maps.period_label}, {maps.observers_label}", title_justify="left")
    for c in ("#", "lat", "lon E", "Sun %", "disk %", "dark h", "Earth %", "slope", "to shadow km", "near"):
        t.add_column(c, justify="right")
    for r in ranked:
        t.add_row(
            str(r.rank),
            f"{r.lat_deg:.4f}",
            f"{r.lon_deg:.2f}",
            f"{100 * r.sun_visible_fraction:.1f}",
            f"{100 * r.mean_disk_fraction:.1f}",
            f"{r.longest_dark_hours:.0f}",
            f"{100 * r.earth_visible_fraction:.1f}",
            f"{r.slope_deg:.1f}",
            f"{r.distance_to_shadow_km:.1f}",
            f"{r.nearest_named_site} ({r.nearest_named_km:.0f} km)",
        )
    console.print(t)
    flagged = [r for r in ranked if r.warnings]
    if flagged:
        console.print(
            f"Warning: {adequacy_summary(flagged, maps.dem.cell_size_m)}; {flagged[0].warnings[0]}", markup=False
        )
