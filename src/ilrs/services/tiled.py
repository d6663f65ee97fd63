"""Tiled, out-of-core horizon and illumination products of a DEM of any size, on Dask, restartable.

A run cuts the DEM into tiles (:mod:`ilrs.terrain.tiling`); each tile is one task that reads its window of the
DEM, sweeps its horizons with the far field in rings (:mod:`ilrs.services.tiled_horizons`), reduces them over the
time series to the environment maps (the kernels :mod:`ilrs.services.site_maps` uses:
:func:`~ilrs.core.visibility.sun_visibility_map`, :func:`~ilrs.core.visibility.earth_visibility_map`,
:func:`~ilrs.terrain.slope.slope_map_deg`) and writes one compressed file, atomically. Only the tile's own
horizon cube is ever in memory; the full cube is kept (chunked and compressed NetCDF4, 0.01 deg int16) only
when asked for.

Restart: the run directory holds ``run.json`` (the run's key: the DEM files, the parameters, the code version)
and ``tiles/<tile>.npz``. A rerun with the same key checks every tile file (it loads, has the run's key and the
tile's shape) and recomputes only the missing or broken ones; a write error (a full disk) removes the partial
file and names it, and no product is assembled until every tile is good.
"""

from __future__ import annotations

import errno
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ilrs.constants import MOON_RADIUS_M
from ilrs.core import visibility as vis
from ilrs.errors import IlrsError
from ilrs.iotools.atomic import atomic_path, atomic_write_text
from ilrs.iotools.dem_grid import DemGrid
from ilrs.services.horizon_maps import FAR_STEP_M, fill_holes
from ilrs.services.tiled_horizons import TILE_FAR_STRIDE, Ring, far_grid_half_m, tile_horizons
from ilrs.terrain.dem import Dem, Mosaic
from ilrs.terrain.profile import DEFAULT_MAX_DISTANCE_M
from ilrs.terrain.projection import SouthPolarStereographic
from ilrs.terrain.slope import slope_map_deg
from ilrs.terrain.tiling import Tile, TileGrid

#: Bump when a tile's content changes meaning, so old tile files are recomputed.
TILED_VERSION = 1
#: Halo (full-resolution overlap) by default [cells]: far-field interpolation between observers ``stride`` cells
#: apart errs by about stride/halo rad of parallax on the terrain beyond the halo (measured: docs/terrain.md).
DEFAULT_HALO_CELLS = 128
#: The DEM's overview for the far field beyond each tile's ring is at most this many cells on a side, and its
#: cells at least FAR_OVERVIEW_M (the embedded LOLA map's own resolution): marching a finer far field costs
#: steps in proportion to 350 km / cell.
MAX_OVERVIEW_CELLS = 4096
FAR_OVERVIEW_M = 240.0
#: Each tile reads the DEM at full resolution this many cells beyond its window when the overview is coarser.
RING_CELLS = 1024
#: The map layers a tile holds (``distance_to_shadow_km`` needs the whole never-lit map: computed at assembly).
TILE_LAYERS = (
    "sun_visible_fraction",
    "mean_disk_fraction",
    "longest_dark_hours",
    "earth_visible_fraction",
    "slope_deg",
    "never_lit",
)


@dataclass(frozen=True)
class Period:
    """The time series the maps reduce: UTC ``start`` .. ``end`` (exclusive) every ``step_s`` [s]."""

    start: str
    end: str
    step_s: float


@dataclass(frozen=True)
class TiledSpec:
    """What a tiled run computes (the part of its key that is not the DEM's identity)."""

    height_m: float
    n_azimuths: int
    tile: int
    halo: int
    stride: int = TILE_FAR_STRIDE
    period: Period | None = None
    keep_horizons: bool = False


@dataclass
class TileContext:
    """Everything a tile task needs besides its :class:`Tile` (sent once to each Dask worker)."""

    grid: DemGrid
    spec: TiledSpec
    key: str
    tiles_dir: str
    far: Mosaic | None
    overview: Dem
    overview_factor: int
    far_z: np.ndarray
    far_half_m: float
    sun_dir: np.ndarray | None = field(default=None, repr=False)
    sun_radius: np.ndarray | None = field(default=None, repr=False)
    earth: np.ndarray | None = field(default=None, repr=False)


@dataclass(frozen=True)
class TiledResult:
    """A finished run: its directory, the grid, how many tiles were computed now and how many were reused."""

    out_dir: Path
    grid: DemGrid
    tile_grid: TileGrid
    spec: TiledSpec
    computed: list[str]
    reused: list[str]
    where: str

    def tile_path(self, tile: Tile) -> Path:
        return self.out_dir / "tiles" / f"{tile.name}.npz"

    def layer(self, name: str) -> np.ndarray:
        """One map layer of the whole grid, assembled from the tiles (float32; needs rows x cols x 4 bytes)."""
        out = np.empty(self.grid.shape, dtype=np.float32)
        for t in self.tile_grid.tiles():
            with np.load(self.tile_path(t)) as f:
                out[t.core] = f[name]
        return out

    def horizons(self) -> np.ndarray:
        """The whole horizon cube (int16, 0.01 deg, (n_az, rows, cols)); only for grids that fit in memory."""
        out = np.empty((self.spec.n_azimuths, *self.grid.shape), dtype=np.int16)
        for t in self.tile_grid.tiles():
            with np.load(self.tile_path(t)) as f:
                out[(slice(None), *t.core)] = f["horizons"]
        return out


def _far_grid(far: Mosaic | None, half_m: float) -> np.ndarray:
    """The untiled path's far-field grid (same origin, step and sampling) from the coarser layers."""
    n = int(np.ceil(2 * half_m / FAR_STEP_M)) + 1
    xs = -half_m + FAR_STEP_M * np.arange(n)
    ys = half_m - FAR_STEP_M * np.arange(n)
    if far is None:
        return np.full((n, n), -1e9)  # no far field: terrain far below every horizon
    xx, yy = np.meshgrid(xs, ys)
    lat, lon = SouthPolarStereographic(MOON_RADIUS_M).inverse(xx, yy)
    z = far.sample_latlon(lat, lon)
    return np.where(np.isfinite(z), z, -1e9)


def _filled(dem: Dem, far: Mosaic | None) -> Dem:
    """``dem`` with its holes filled from the coarser layers (an error naming the DEM if they cannot be)."""
    holes = ~np.isfinite(dem.heights_m)
    if not holes.any():
        return dem
    if far is None:
        fill_holes(dem, None)  # raises, naming the DEM
    filled, _ = fill_holes(dem, far)  # type: ignore[arg-type]  # a Mosaic samples like a Dem
    return filled


def overview_factor(grid: DemGrid) -> int:
    """Cells of the DEM per cell of its far-field overview (1: the DEM itself is the far field)."""
    return max(1, math.ceil(max(grid.shape) / MAX_OVERVIEW_CELLS), round(FAR_OVERVIEW_M / grid.cell_m))


def _check_grid(grid: DemGrid) -> None:
    if not grid.projection.polar_stereographic_south:
        raise IlrsError(
            "tiled horizons need a south polar stereographic DEM",
            source=grid.source,
            hint="reproject to IAU_2015:30135",
        )
    if abs(abs(grid.dx) - abs(grid.dy)) > 1e-6 * abs(grid.dx) or grid.dx < 0 or grid.dy > 0:
        raise IlrsError("tiled horizons need square north-up cells", source=grid.source, hint="warp it (gdalwarp)")


def _tile_maps(ctx: TileContext, core: Dem, horizons: np.ndarray) -> dict[str, np.ndarray]:
    assert ctx.sun_dir is not None and ctx.sun_radius is not None and ctx.earth is not None and ctx.spec.period
    cell_major = vis.to_cell_major(horizons)
    lat, lon = core.latlon_grid()
    lat_r, lon_r = np.radians(lat), np.radians(lon)
    sun = vis.sun_visibility_map(cell_major, lat_r, lon_r, ctx.sun_dir, ctx.sun_radius)
    earth = vis.earth_visibility_map(cell_major, lat_r, lon_r, core.heights_m, ctx.spec.height_m, ctx.earth)
    step_h = ctx.spec.period.step_s / 3600.0
    return {
        "sun_visible_fraction": np.asarray(sun["sun_visible_fraction"], dtype=np.float32),
        "mean_disk_fraction": np.asarray(sun["mean_disk_fraction"], dtype=np.float32),
        "longest_dark_hours": (np.asarray(sun["longest_dark_steps"]) * step_h).astype(np.float32),
        "earth_visible_fraction": np.asarray(earth["earth_visible_fraction"], dtype=np.float32),
        "never_lit": (~np.asarray(sun["ever_lit"], dtype=bool)).astype(np.float32),
    }


#: Deflate level of the tile files: 1 compresses horizons and maps within ~1 % of numpy's default (6) in about
#: two thirds of the time (measured on a tile of 8 azimuths x 512 x 512 cells and its maps: 0.46 vs 0.67 s).
TILE_DEFLATE_LEVEL = 1


def _write_tile(path: Path, arrays: dict[str, Any]) -> None:
    """One tile file, atomically (a failed write leaves no file: the next run recomputes the tile): an ``.npz``
    like ``np.savez_compressed``'s, which ``np.load`` reads, deflated at :data:`TILE_DEFLATE_LEVEL`."""
    import zipfile

    with (
        atomic_path(path) as tmp,
        zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=TILE_DEFLATE_LEVEL) as zf,
    ):
        for name, value in arrays.items():
            with zf.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(value), allow_pickle=False)


def _on_dask_worker() -> bool:
    try:
        from distributed import get_worker

        get_worker()
    except (ImportError, ValueError):
        return False
    return True


def compute_tile(ctx: TileContext, tile: Tile) -> str:
    """Compute one tile and write its file; return its name. Runs on a Dask worker or in this process."""
    import os
    import resource
    import time

    t_start = time.perf_counter()
    cpu_start = time.process_time()
    if _on_dask_worker():
        from ilrs.core._jit import set_threads

        set_threads(1)  # one task per worker thread: the cluster's parallelism is the workers
    spec = ctx.spec
    window = _filled(ctx.grid.read(tile.wr0, tile.wr1, tile.wc0, tile.wc1), ctx.far)
    rings: list[Ring] = []
    if ctx.overview_factor > 1:
        # the DEM at full resolution around the window, then its overview beyond
        ring = _filled(
            ctx.grid.read(tile.wr0 - RING_CELLS, tile.wr1 + RING_CELLS, tile.wc0 - RING_CELLS, tile.wc1 + RING_CELLS),
            ctx.far,
        )
        # a ray from the tile leaves the ring's box within this map distance (to its far corner)
        reach = (RING_CELLS + spec.halo + spec.tile) * abs(ring.dx) * math.sqrt(2.0) + abs(ring.dx)
        rings.append(Ring(ring.heights_m, ring.x0, ring.y0, abs(ring.dx), None, reach, spec.stride))
        inner = ring.bounds
    else:
        inner = None
    ov = ctx.overview
    rings.append(Ring(ov.heights_m, ov.x0, ov.y0, abs(ov.dx), inner, DEFAULT_MAX_DISTANCE_M, spec.stride))
    rings.append(
        Ring(
            ctx.far_z, -ctx.far_half_m, ctx.far_half_m, FAR_STEP_M, ctx.grid.bounds, DEFAULT_MAX_DISTANCE_M, spec.stride
        )
    )
    horizons = tile_horizons(window, tile, rings, spec.height_m, spec.n_azimuths)
    rs, cs = tile.core_in_window
    core = window.crop(rs.start, rs.stop, cs.start, cs.stop)
    arrays: dict[str, np.ndarray] = {
        "key": np.array(ctx.key),
        "slope_deg": slope_map_deg(window)[rs, cs].astype(np.float32),
    }
    if spec.period is not None:
        arrays.update(_tile_maps(ctx, core, horizons))
    if spec.keep_horizons or spec.period is None:
        arrays["horizons"] = horizons
    # how the tile ran (not part of the product: benchmarks read the worker's peak RSS and the tile's cost)
    arrays["meta_seconds"] = np.array(time.perf_counter() - t_start)
    arrays["meta_cpu_seconds"] = np.array(time.process_time() - cpu_start)
    arrays["meta_peak_rss_mb"] = np.array(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0)
    arrays["meta_pid"] = np.array(os.getpid())
    path = Path(ctx.tiles_dir) / f"{tile.name}.npz"
    try:
        _write_tile(path, arrays)
    except OSError as exc:
        full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
        raise IlrsError(
            f"cannot write tile {tile.name} ({exc.strerror or exc}); nothing partial was left",
            source=str(path),
            hint="free disk space and rerun: only the missing tiles are recomputed" if full else "check the directory",
        ) from None
    return tile.name


def tile_is_good(path: Path, key: str, tile: Tile, spec: TiledSpec) -> bool:
    """Whether a tile file is complete and belongs to this run (loads, right key, right shapes)."""
    try:
        with np.load(path) as f:
            if str(f["key"]) != key:
                return False
            shape = tile.shape
            names = ["slope_deg"] + (list(TILE_LAYERS[:4]) + ["never_lit"] if spec.period is not None else [])
            for n in names:
                if f[n].shape != shape:
                    return False
            if spec.keep_horizons or spec.period is None:
                h = f["horizons"]
                if h.shape != (spec.n_azimuths, *shape) or h.dtype != np.int16:
                    return False
    except Exception:  # any unreadable, truncated or foreign file is simply recomputed
        return False
    return True


def run_key(grid: DemGrid, far_identity: list[Any], spec: TiledSpec) -> str:
    """The run's identity: the DEM files, the coarser layers, the parameters and the kernels' source."""
    import hashlib

    from ilrs.core import farfield
    from ilrs.core import horizon as hz
    from ilrs.iotools.cache import file_sha256
    from ilrs.services import tiled_horizons

    doc = {
        "v": TILED_VERSION,
        "dem": grid.identity(),
        "shape": list(grid.shape),
        "far": far_identity,
        "spec": asdict(spec),
        "code": [file_sha256(str(m.__file__)) for m in (hz, farfield, vis, tiled_horizons)],
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()[:32]


def _directions(period: Period) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from ilrs.ephem.directions import angular_radius, body_position_me
    from ilrs.ephem.time import utc_grid

    et, _ = utc_grid(period.start, period.end, period.step_s)
    sun = body_position_me("SUN", et)
    dist = np.linalg.norm(sun, axis=1)
    return sun / dist[:, None], angular_radius("SUN", dist), body_position_me("EARTH", et)


def _prepare_dir(out_dir: Path, key: str, grid: DemGrid, spec: TiledSpec, force: bool) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    tiles_dir = out_dir / "tiles"
    tiles_dir.mkdir(exist_ok=True)
    manifest = out_dir / "run.json"
    if manifest.exists():
        try:
            old = json.loads(manifest.read_text())
        except (OSError, ValueError):
            old = {}
        if old.get("key") != key and not force:
            raise IlrsError(
                "this directory holds a tiled run of other inputs or parameters",
                source=str(out_dir),
                hint="choose another --work-dir, or pass --restart-fresh to discard its tiles",
            )
        if old.get("key") != key:
            for p in tiles_dir.glob("*.npz"):
                p.unlink()
    doc = {"key": key, "dem": grid.source, "shape": list(grid.shape), "spec": asdict(spec)}
    atomic_write_text(manifest, json.dumps(doc, indent=1, default=str))
    return tiles_dir


def _serial_seconds(grid: DemGrid, spec: TiledSpec, n_steps: int) -> float:
    """A rough serial cost [s] for choosing in-process vs a cluster: benchmarks/bench_tiled.py measured, on one
    worker of this shared 2-core machine, ~1.5 us per cell-azimuth (sweep and far-field rings, 60 m cells) and
    ~0.16 us per cell and time step (the maps)."""
    cells = grid.rows * grid.cols
    return cells * spec.n_azimuths * 1.5e-6 + cells * n_steps * 1.6e-7


def run_tiled(
    grid: DemGrid,
    spec: TiledSpec,
    out_dir: str | Path,
    *,
    far: Mosaic | None = None,
    far_identity: list[Any] | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[float], None] | None = None,
    restart_fresh: bool = False,
    only_tiles: Iterable[str] | None = None,
) -> TiledResult:
    """Compute every missing or broken tile of ``grid`` into ``out_dir``; see the module docstring.

    ``workers``/``scheduler`` follow :func:`ilrs.services.executor.dask_client` (0: this process; None: this
    process for small runs, else a LocalCluster of 2). ``only_tiles`` limits the run to those tile names (tests,
    and resuming a slice of a large run).
    """
    from ilrs.services.executor import dask_client

    _check_grid(grid)
    tg = TileGrid(grid.rows, grid.cols, spec.tile, spec.halo)
    if spec.halo < 4 * spec.stride:
        raise IlrsError(
            f"halo {spec.halo} cells is below 4 far-field observer spacings ({4 * spec.stride} cells)",
            source="--halo",
            hint="the far field nearer than that is not trusted; raise the halo",
        )
    key = run_key(grid, far_identity or [], spec)
    out = Path(out_dir)
    tiles_dir = _prepare_dir(out, key, grid, spec, restart_fresh)
    todo, reused = [], []
    wanted = set(only_tiles) if only_tiles is not None else None
    for t in tg.tiles():
        if wanted is not None and t.name not in wanted:
            continue
        if tile_is_good(tiles_dir / f"{t.name}.npz", key, t, spec):
            reused.append(t.name)
        else:
            todo.append(t)
    factor = overview_factor(grid)
    half = far_grid_half_m(grid.bounds)
    ctx = TileContext(
        grid,
        spec,
        key,
        str(tiles_dir),
        far,
        Dem(np.zeros((2, 2)), 0, 0, 1, -1, grid.projection),
        factor,
        np.zeros((2, 2)),
        half,
    )
    n_steps = 0
    if todo:
        overview = _filled(grid.overview(factor) if factor > 1 else grid.read(0, grid.rows, 0, grid.cols), far)
        ctx.overview = overview
        ctx.far_z = _far_grid(far, half)
        if spec.period is not None:
            ctx.sun_dir, ctx.sun_radius, ctx.earth = _directions(spec.period)
            n_steps = int(ctx.sun_dir.shape[0])
    computed: list[str] = []
    errors: list[IlrsError] = []
    where = "nothing to compute"
    if todo:
        work = _serial_seconds(grid, spec, n_steps) * len(todo) / max(1, len(tg))
        with dask_client(workers, scheduler, work) as (where, client, _):
            if progress:
                progress(0.0)
            if client is None:
                for i, t in enumerate(todo):
                    try:
                        computed.append(compute_tile(ctx, t))
                    except IlrsError as exc:
                        errors.append(exc)
                    if progress:
                        progress((i + 1) / len(todo))
            else:
                from distributed import as_completed

                ctx_f = client.scatter(ctx, broadcast=True)
                futures = [
                    client.submit(compute_tile, ctx_f, t, key=f"tile-{key[:8]}-{t.name}", pure=False) for t in todo
                ]
                for i, fut in enumerate(as_completed(futures)):
                    try:
                        computed.append(fut.result())
                    except IlrsError as exc:
                        errors.append(exc)
                    if progress:
                        progress((i + 1) / len(todo))
    if errors:
        first = errors[0]
        raise IlrsError(
            f"{len(errors)} of {len(todo)} tiles failed, the first: {first.message}",
            source=first.source,
            hint=first.hint,
        )
    return TiledResult(out, grid, tg, spec, sorted(computed), reused, where)


def save_tiled_horizons(res: TiledResult, path: str | Path) -> Path:
    """The kept horizons of a finished run as one chunked, compressed NetCDF4 file, written tile by tile (never
    the whole cube in memory), atomically."""
    from ilrs.iotools.geotiff import pyproj_crs_of
    from ilrs.iotools.netcdf import write_horizon_netcdf_tiled

    g = res.grid
    n_az = res.spec.n_azimuths

    def blocks():
        for t in res.tile_grid.tiles():
            with np.load(res.tile_path(t)) as f:
                if "horizons" not in f:
                    raise IlrsError(
                        "this run did not keep its horizons", source=str(res.out_dir), hint="rerun with --keep-horizons"
                    )
                yield (*t.core, f["horizons"])

    return write_horizon_netcdf_tiled(
        path,
        (n_az, g.rows, g.cols),
        g.x0 + g.dx * np.arange(g.cols),
        g.y0 + g.dy * np.arange(g.rows),
        np.arange(n_az) * 360.0 / n_az,
        res.spec.height_m,
        pyproj_crs_of(g.projection),
        g.source,
        blocks(),
        chunk=min(256, res.spec.tile),
        extra_attrs={"tile_cells": res.spec.tile, "halo_cells": res.spec.halo, "far_stride_cells": res.spec.stride},
    )


def tiled_site_maps(res: TiledResult) -> Any:
    """The run's maps as :class:`~ilrs.services.site_maps.SiteMaps` (assembled in memory: 4 bytes per cell and
    layer, plus the DEM), with ``distance_to_shadow_km`` from the whole never-lit map as the untiled path does."""
    from scipy.ndimage import distance_transform_edt

    from ilrs.services.site_maps import SiteMaps

    p = res.spec.period
    if p is None:
        raise IlrsError("this run computed horizons only", source=str(res.out_dir), hint="give a period")
    layers = {name: res.layer(name) for name in TILE_LAYERS}
    never = layers["never_lit"] > 0.5
    g = res.grid
    if never.any():
        dist_km = distance_transform_edt(~never) * g.cell_m / 1000.0
    else:
        dist_km = np.full(g.shape, np.inf)
    layers["distance_to_shadow_km"] = dist_km.astype(np.float32)
    dem = g.read(0, g.rows, 0, g.cols)
    from ilrs.ephem.time import utc_grid

    et, _ = utc_grid(p.start, p.end, p.step_s)
    return SiteMaps(dem, res.spec.height_m, p.start, p.end, p.step_s, int(et.size), layers)


def far_layers(paths: list[str] | None) -> tuple[Mosaic, list[Any]]:
    """The coarser layers for a tiled run's far field and holes, finest first, and their identity for the run's
    key: the given DEM files, else the embedded 240 m south-pole DEM and LDEM_4."""
    from ilrs.services.cache import dem_key
    from ilrs.services.data import mosaic_from, pole_dem

    if paths:
        mosaic = mosaic_from(list(paths))
    else:
        from ilrs.services.data import global_dem

        mosaic = Mosaic((pole_dem(), global_dem()))
    return mosaic, [dem_key(d) for d in mosaic.layers]


def tiled_spec(
    grid: DemGrid,
    height_m: float,
    n_azimuths: int,
    tile: int | None,
    halo: int | None,
    period: Period | None = None,
    keep_horizons: bool = False,
) -> TiledSpec:
    """A run's parameters with the defaults filled in: the halo (:data:`DEFAULT_HALO_CELLS`) and the largest tile
    whose window's horizons fit in about 1 GB (:func:`~ilrs.terrain.tiling.default_tile_cells`)."""
    from ilrs.terrain.tiling import default_tile_cells

    if not 4 <= n_azimuths <= 3600:
        raise IlrsError(f"{n_azimuths} azimuths is outside [4, 3600]", source="--azimuths")
    h = DEFAULT_HALO_CELLS if halo is None else int(halo)
    t = default_tile_cells(h, n_azimuths) if tile is None else int(tile)
    if tile is None:  # no bigger than the DEM, no smaller than the halo
        t = max(h, min(t, max(grid.rows, grid.cols)))
    return TiledSpec(float(height_m), int(n_azimuths), t, h, TILE_FAR_STRIDE, period, keep_horizons)


def write_synthetic_dem(path: str | Path, cells: int, factor: int = 4, seed: int = 14) -> Path:
    """Write a SYNTHETIC ``cells`` x ``cells`` DEM (GeoTIFF, labelled in its band description and tags) made from
    the centre of the embedded 240 m DEM upsampled ``factor`` times with fractal detail
    (:func:`ilrs.terrain.synthetic.synthetic_dem`): for scale tests and benchmarks, never a physical claim."""
    from ilrs.iotools.geotiff import write_geotiff
    from ilrs.services.data import pole_dem
    from ilrs.terrain.synthetic import SYNTHETIC_LABEL, synthetic_dem

    base = pole_dem()
    n = -(-cells // factor)
    if n > min(base.shape):
        raise IlrsError(f"{cells} cells at factor {factor} needs more than the 240 m DEM holds", source="cells")
    r0 = (base.shape[0] - n) // 2
    c0 = (base.shape[1] - n) // 2
    dem = synthetic_dem(base.crop(r0, r0 + n, c0, c0 + n), factor, seed=seed)
    if dem.shape != (cells, cells):
        dem = dem.crop(0, cells, 0, cells, name=dem.name)
    return write_geotiff(
        path, dem, band_names=["synthetic_height"], long_names=[SYNTHETIC_LABEL], units=["m"], cog=False
    )
