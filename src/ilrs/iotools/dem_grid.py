"""A DEM read by windows: one GeoTIFF, several GeoTIFF tiles of one grid, a PDS3 product, or an array in memory.

Out-of-core terrain products read each tile's window when they need it, never the whole grid. A
:class:`DemGrid` holds only the grid's geometry and where its heights are, so it pickles cheaply to Dask workers;
:meth:`DemGrid.read` returns the window as a :class:`~ilrs.terrain.dem.Dem`.

Several GeoTIFF files form one grid when they share the CRS (same points at the same map coordinates), the cell
size and the cell alignment; any disagreement is an error naming the file. Cells no file covers are no-data.
A PDS3 product is read whole once per process (:func:`~ilrs.iotools.pds3.read_pds3`); only GeoTIFFs are read
by windows.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ilrs.errors import IlrsError
from ilrs.terrain.dem import Dem
from ilrs.terrain.projection import Projection


@dataclass(frozen=True)
class _Part:
    """One file of the grid: its cells are rows ``r0:r0+rows``, cols ``c0:c0+cols`` of the grid."""

    path: str
    r0: int
    c0: int
    rows: int
    cols: int


@dataclass(frozen=True, eq=False)
class DemGrid:
    """A DEM's grid (cell (0, 0) centred at ``x0, y0``, steps ``dx, dy`` in map metres) and where its heights are."""

    rows: int
    cols: int
    x0: float
    y0: float
    dx: float
    dy: float
    projection: Projection
    name: str
    source: str
    parts: tuple[_Part, ...] = ()
    array: np.ndarray | None = field(default=None, repr=False)
    pds3: Dem | None = field(default=None, repr=False)

    @property
    def shape(self) -> tuple[int, int]:
        return self.rows, self.cols

    @property
    def cell_m(self) -> float:
        return abs(self.dx)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, xmax, ymin, ymax) of the cell edges [m]."""
        xs = (self.x0 - self.dx / 2, self.x0 + (self.cols - 0.5) * self.dx)
        ys = (self.y0 - self.dy / 2, self.y0 + (self.rows - 0.5) * self.dy)
        return min(xs), max(xs), min(ys), max(ys)

    @classmethod
    def from_dem(cls, dem: Dem) -> DemGrid:
        """A grid over a DEM already in memory (the embedded ones, tests)."""
        rows, cols = dem.shape
        return cls(
            rows, cols, dem.x0, dem.y0, dem.dx, dem.dy, dem.projection, dem.name, dem.source, array=dem.heights_m
        )

    def read(self, r0: int, r1: int, c0: int, c1: int) -> Dem:
        """Heights [m] of rows ``r0:r1``, cols ``c0:c1`` (clipped to the grid) as a DEM; NaN where no data."""
        r0, r1 = max(0, r0), min(self.rows, r1)
        c0, c1 = max(0, c0), min(self.cols, c1)
        if self.array is not None:
            z = np.array(self.array[r0:r1, c0:c1], dtype=np.float64)
        elif self.pds3 is not None:
            z = np.array(self.pds3.heights_m[r0:r1, c0:c1], dtype=np.float64)
        else:
            z = np.full((r1 - r0, c1 - c0), np.nan)
            for part in self.parts:
                pr0, pr1 = max(r0, part.r0), min(r1, part.r0 + part.rows)
                pc0, pc1 = max(c0, part.c0), min(c1, part.c0 + part.cols)
                if pr0 >= pr1 or pc0 >= pc1:
                    continue
                z[pr0 - r0 : pr1 - r0, pc0 - c0 : pc1 - c0] = _read_tif_window(
                    part.path, pr0 - part.r0, pr1 - part.r0, pc0 - part.c0, pc1 - part.c0
                )
        return Dem(
            z,
            self.x0 + c0 * self.dx,
            self.y0 + r0 * self.dy,
            self.dx,
            self.dy,
            self.projection,
            f"{self.name}[{r0}:{r1},{c0}:{c1}]",
            self.source,
        )

    def overview(self, factor: int, rows_per_read: int = 1024) -> Dem:
        """The grid block-averaged over ``factor`` x ``factor`` cells (NaN-aware), read in strips of rows.

        Memory: one strip of ``rows_per_read`` (rounded to the factor) full rows plus the result.
        """
        factor = max(1, int(factor))
        orows, ocols = math.ceil(self.rows / factor), math.ceil(self.cols / factor)
        out = np.full((orows, ocols), np.nan)
        strip = max(1, rows_per_read // factor) * factor
        for r0 in range(0, self.rows, strip):
            z = self.read(r0, r0 + strip, 0, self.cols).heights_m
            pr, pc = (-z.shape[0]) % factor, (-z.shape[1]) % factor
            if pr or pc:
                z = np.pad(z, ((0, pr), (0, pc)), constant_values=np.nan)
            blocks = z.reshape(z.shape[0] // factor, factor, z.shape[1] // factor, factor)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN blocks stay NaN
                out[r0 // factor : r0 // factor + blocks.shape[0]] = np.nanmean(blocks, axis=(1, 3))
        # block centres: the mean of the block's cell centres
        off = (factor - 1) / 2.0
        return Dem(
            out,
            self.x0 + off * self.dx,
            self.y0 + off * self.dy,
            self.dx * factor,
            self.dy * factor,
            self.projection,
            f"{self.name} (mean of {factor}x{factor} cells)",
            self.source,
        )

    def identity(self) -> list[Any]:
        """What identifies the heights for a run's key: each file's path, size and modification time (hashing a
        multi-GB DEM would cost minutes), or the bytes' hash for an array in memory."""
        import hashlib

        if self.array is not None:
            return [hashlib.sha256(np.ascontiguousarray(self.array).tobytes()).hexdigest()]
        paths = [p.path for p in self.parts] or [self.source]
        out: list[Any] = []
        for p in paths:
            st = Path(p).stat()
            out.append([str(Path(p).resolve()), st.st_size, st.st_mtime_ns])
        return out


def _read_tif_window(path: str, r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
    import rasterio
    from rasterio.windows import Window

    try:
        with rasterio.open(path) as src:
            masked = src.read(1, window=Window(c0, r0, c1 - c0, r1 - r0), masked=True)
            scale = src.scales[0] if src.scales else 1.0
            offset = src.offsets[0] if src.offsets else 0.0
    except (OSError, ValueError, rasterio.errors.RasterioError) as exc:
        raise IlrsError(f"cannot read rows {r0}:{r1}, cols {c0}:{c1}: {exc}", source=path) from exc
    z = np.ma.filled(masked.astype(np.float64), np.nan)
    if scale != 1.0 or offset != 0.0:
        z = z * scale + offset
    return z


def _tif_header(path: Path) -> tuple[Any, Any, str]:
    """(transform, CRS as pyproj, WKT) of a GeoTIFF, with the checks of :func:`read_geotiff` that need no pixels."""
    import pyproj
    import rasterio
    from rasterio.errors import NotGeoreferencedWarning, RasterioError

    if not path.is_file():
        raise IlrsError("file not found", source=str(path), hint="check the path")
    try:
        with warnings.catch_warnings(action="ignore", category=NotGeoreferencedWarning), rasterio.open(path) as src:
            if src.crs is None:
                raise IlrsError("GeoTIFF has no CRS", source=str(path), hint="assign one, e.g. IAU_2015:30135")
            t = src.transform
            wkt = src.crs.to_wkt()
            shape = (src.height, src.width)
            described = " ".join([*(d or "" for d in src.descriptions), *src.tags(1).values()])
    except IlrsError:
        raise
    except (RasterioError, OSError, ValueError) as exc:
        raise IlrsError(f"cannot read the raster: {exc}", source=str(path), hint="is it a GeoTIFF?") from exc
    if t.b != 0.0 or t.d != 0.0 or t.a == 0.0 or t.e == 0.0 or t.is_identity:
        raise IlrsError("the GeoTIFF has no usable north-up geotransform", source=str(path), hint="warp it (gdalwarp)")
    return (t, shape, "SYNTHETIC" in described), pyproj.CRS.from_wkt(wkt), wkt


def open_dem_grid(paths: list[str] | list[Path] | str | Path, name: str | None = None) -> DemGrid:
    """A :class:`DemGrid` over one DEM file (GeoTIFF, or PDS3 by its .LBL/.IMG) or several GeoTIFF tiles of one
    grid. Only GeoTIFF headers are read here (a PDS3 product is read whole)."""
    from ilrs.iotools.geotiff import _projection_from_crs, same_projection

    plist = [Path(p) for p in ([paths] if isinstance(paths, (str, Path)) else paths)]
    if not plist:
        raise IlrsError("no DEM file given", source="--dem")
    if len(plist) == 1 and plist[0].suffix.lower() in (".lbl", ".img"):
        from ilrs.iotools.pds3 import read_pds3

        p = plist[0]
        dem = read_pds3(p.with_suffix(".LBL") if p.suffix.lower() == ".img" else p, name)
        rows, cols = dem.shape
        return DemGrid(rows, cols, dem.x0, dem.y0, dem.dx, dem.dy, dem.projection, dem.name, str(p), pds3=dem)
    for p in plist:
        if p.suffix.lower() in (".lbl", ".img"):
            raise IlrsError(
                "a PDS3 product must be the only file of a tiled DEM", source=str(p), hint="give GeoTIFF tiles"
            )
    headers = [(p, *_tif_header(p)) for p in plist]
    p0, (t0, _, _), crs0, wkt0 = headers[0]
    synthetic = any(h[1][2] for h in headers)
    for p, (t, _, _), crs, _ in headers[1:]:
        if not same_projection(crs0, crs):
            raise IlrsError(
                f"its CRS differs from that of {p0.name}", source=str(p), hint="reproject every tile to one CRS"
            )
        if not (math.isclose(t.a, t0.a, rel_tol=1e-9) and math.isclose(t.e, t0.e, rel_tol=1e-9)):
            raise IlrsError(
                f"its cells are {t.a:g} x {-t.e:g} map units, those of {p0.name} {t0.a:g} x {-t0.e:g}",
                source=str(p),
                hint="resample every tile to one resolution",
            )
        for what, off, step in (("x", t.c - t0.c, t0.a), ("y", t.f - t0.f, t0.e)):
            k = off / step
            if abs(k - round(k)) > 1e-6:
                raise IlrsError(
                    f"its cells are offset by {k - math.floor(k):.3f} of a cell in {what} from those of {p0.name}",
                    source=str(p),
                    hint="the tiles must share one grid (same origin modulo the cell size)",
                )
    # the union of the tiles' extents, in cells of the first tile's grid
    col_off = [round((t.c - t0.c) / t0.a) for _, (t, _, _), _, _ in headers]
    row_off = [round((t.f - t0.f) / t0.e) for _, (t, _, _), _, _ in headers]
    cmin, rmin = min(col_off), min(row_off)
    parts = tuple(
        _Part(str(p), ro - rmin, co - cmin, shape[0], shape[1])
        for (p, (_, shape, _), _, _), ro, co in zip(headers, row_off, col_off, strict=True)
    )
    rows = max(pt.r0 + pt.rows for pt in parts)
    cols = max(pt.c0 + pt.cols for pt in parts)
    x_edge = t0.c + cmin * t0.a
    y_edge = t0.f + rmin * t0.e
    projection, unit_m = _projection_from_crs(wkt0, p0, x_west_edge=min(x_edge, x_edge + t0.a * cols))
    if unit_m != 1.0:
        raise IlrsError("a tiled DEM needs a projected grid in metres", source=str(p0), hint="reproject it")
    return DemGrid(
        rows,
        cols,
        x_edge + t0.a / 2,
        y_edge + t0.e / 2,
        t0.a,
        t0.e,
        projection,
        # a SYNTHETIC DEM (terrain.synthetic) says so in its name, which titles every product and figure
        ("SYNTHETIC " if synthetic else "") + (name or p0.stem),
        str(p0) if len(plist) == 1 else f"{p0} (+{len(plist) - 1} tiles)",
        parts=parts,
    )
