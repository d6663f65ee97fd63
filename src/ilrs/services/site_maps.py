"""Illumination, Earth-visibility and slope maps of the south-pole region, and the site ranking."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ilrs.constants import SAMPLE_WINDOW_DAYS
from ilrs.core import horizon as hz
from ilrs.core import visibility as vis
from ilrs.ephem.directions import angular_radius, body_position_me
from ilrs.ephem.time import parse_step, sample_windows, utc_bounds, utc_grid
from ilrs.errors import IlrsError
from ilrs.iotools.cache import file_sha256
from ilrs.scenario.schema import Scenario
from ilrs.services.cache import dem_key, product_cache
from ilrs.services.data import global_dem, pole_dem
from ilrs.services.horizon_maps import HorizonMap, horizon_map
from ilrs.terrain.adequacy import dem_adequacy
from ilrs.terrain.dem import Dem
from ilrs.terrain.sites import SITES, NamedSite
from ilrs.terrain.slope import slope_map_deg

#: Map layers, their titles and units (the report and the GeoTIFF band names use them).
LAYERS = {
    "sun_visible_fraction": ("Sun visible (any part of the disk)", "%"),
    "mean_disk_fraction": ("Mean visible fraction of the solar disk", "%"),
    "longest_dark_hours": ("Longest continuous darkness", "h"),
    "earth_visible_fraction": ("Earth visible (centre above the horizon)", "%"),
    "slope_deg": ("Slope", "deg"),
    "never_lit": ("Never lit in the period (permanent shadow candidate)", "-"),
    "distance_to_shadow_km": ("Distance to the nearest never-lit cell", "km"),
}

#: Default analysis region: rows/cols of the 240 m DEM within this distance of the pole [m] (to ~85.6 S).
DEFAULT_REGION_HALF_M = 132_000.0


@dataclass(frozen=True)
class SiteMaps:
    """Maps on the analysis grid ``dem`` (a window of the 240 m south-pole DEM), float32, NaN = no value."""

    dem: Dem
    height_m: float
    start: str
    end: str
    step_s: float
    n_steps: int
    layers: dict[str, np.ndarray] = field(repr=False)
    #: the Earth's observer height [m] (the antennas'; None: ``height_m``)
    earth_height_m: float | None = None
    #: windows of ``SAMPLE_WINDOW_DAYS`` that sampled the period (0: every step of it)
    windows: int = 0

    @property
    def earth_observer_m(self) -> float:
        return self.height_m if self.earth_height_m is None else self.earth_height_m

    @property
    def period_label(self) -> str:
        """The period and how it was sampled, for titles and captions."""
        start, end = self.start[:10], self.end[:10]
        if not self.windows:
            return f"{start} .. {end}"
        return f"{start} .. {end}, sampled by {self.windows} windows of {SAMPLE_WINDOW_DAYS} days"

    @property
    def observers_label(self) -> str:
        """The observer heights, for titles and captions."""
        if self.earth_observer_m == self.height_m:
            return f"observer {self.height_m:g} m"
        return f"Sun at {self.height_m:g} m, Earth at {self.earth_observer_m:g} m"

    def to_xarray(self):
        """The maps as an ``xarray.Dataset`` on the DEM's grid: ``x``, ``y`` [m] of its south polar stereographic
        projection, one variable per layer with its long name and units (fractions 0..1, ``never_lit`` 0/1)."""
        import xarray as xr

        data = {}
        for name, a in self.layers.items():
            title, unit = LAYERS.get(name, (name, ""))
            data[name] = (("y", "x"), np.asarray(a), {"long_name": title, "units": "1" if unit in ("%", "-") else unit})
        coords = {
            "x": ("x", self.dem.x_coords(), {"units": "m", "standard_name": "projection_x_coordinate"}),
            "y": ("y", self.dem.y_coords(), {"units": "m", "standard_name": "projection_y_coordinate"}),
        }
        attrs = {
            "dem": self.dem.name,
            "observer_height_m": self.height_m,
            "earth_observer_height_m": self.earth_observer_m,
            "start_utc": self.start,
            "end_utc": self.end,
            "step_s": self.step_s,
            "n_steps": self.n_steps,
            "sample_windows": self.windows,
            "sample_window_days": SAMPLE_WINDOW_DAYS if self.windows else 0,
        }
        return xr.Dataset(data, coords=coords, attrs=attrs)


@dataclass(frozen=True)
class RankedSite:
    rank: int
    lat_deg: float
    lon_deg: float
    x_m: float
    y_m: float
    score: float
    ground_elevation_m: float
    slope_deg: float
    sun_visible_fraction: float
    mean_disk_fraction: float
    longest_dark_hours: float
    earth_visible_fraction: float
    distance_to_shadow_km: float
    nearest_named_site: str
    nearest_named_km: float
    #: the ranking DEM cannot resolve the terrain at the site (ilrs.terrain.adequacy): re-score it on a finer one
    warnings: list[str] = field(default_factory=list)


def region_window(dem: Dem, half_m: float | None) -> tuple[int, int, int, int]:
    """(row0, row1, col0, col1) of the cells within ``half_m`` of the pole in x and y (all if None)."""
    rows, cols = dem.shape
    if half_m is None:
        return 0, rows, 0, cols
    xs, ys = dem.x_coords(), dem.y_coords()
    c = np.flatnonzero(np.abs(xs) <= half_m)
    r = np.flatnonzero(np.abs(ys) <= half_m)
    if c.size == 0 or r.size == 0:
        raise IlrsError(f"region half-width {half_m} m holds no cell", source="--region-km")
    return int(r[0]), int(r[-1]) + 1, int(c[0]), int(c[-1]) + 1


def _sun_and_earth(start, end, step_s):
    et, utc = utc_grid(start, end, step_s)
    sun = body_position_me("SUN", et)
    dist = np.linalg.norm(sun, axis=1)
    earth = body_position_me("EARTH", et)
    return et, utc, sun / dist[:, None], angular_radius("SUN", dist), earth


def compute_site_maps(
    hmap: HorizonMap | Callable[[], HorizonMap],
    window,
    start,
    end,
    step_s,
    progress: Callable[[float], None] | None = None,
    *,
    windows: int = 0,
    earth_hmap: HorizonMap | Callable[[], HorizonMap] | None = None,
) -> dict[str, np.ndarray]:
    """The map layers over [start, end): every step, or ``windows`` windows of ``SAMPLE_WINDOW_DAYS`` spread over
    the period (:func:`ilrs.ephem.time.sample_windows`; the longest darkness is then the longest inside a window).
    The Sun is seen over ``hmap``'s horizons, the Earth over ``earth_hmap``'s (another observer height; default
    ``hmap``). Either may be a callable that computes or loads the map: it is called when needed and the map
    released once its window is copied, so that only one whole cube is held at a time."""
    r0, r1, c0, c1 = window
    spans = sample_windows(start, end, step_s, windows, SAMPLE_WINDOW_DAYS)

    def sub(a, b):
        return (lambda f: progress(a + (b - a) * f)) if progress else None

    def window_of(source: HorizonMap | Callable[[], HorizonMap]) -> tuple[Dem, float, np.ndarray]:
        # the map itself is not kept: only its window, cell-major (the whole cube is freed on return)
        m = source() if callable(source) else source
        return m.dem, m.height_m, vis.to_cell_major(np.asarray(m.stored[:, r0:r1, c0:c1]))

    full_dem, sun_height, cell_major = window_of(hmap)
    dem = full_dem.crop(r0, r1, c0, c1)
    lat, lon = dem.latlon_grid()
    lat_r, lon_r = np.radians(lat), np.radians(lon)
    # the windows end to end: one pass over the cells (their bounds computed once); dark runs restart at each window
    sky = [_sun_and_earth(a, b, step_s) for a, b in spans]
    sizes = [et.size for et, *_ in sky]
    sun_dir = np.concatenate([d for _, _, d, _, _ in sky])
    sun_r = np.concatenate([r for _, _, _, r, _ in sky])
    earth_pos = np.concatenate([e for *_, e in sky])
    starts = np.cumsum([0, *sizes[:-1]])[1:]
    sun = vis.sun_visibility_map(
        cell_major, lat_r, lon_r, sun_dir, sun_r, progress=sub(0.0, 0.75), segment_starts=starts
    )
    if earth_hmap is None:
        earth_height = sun_height
    else:
        del cell_major
        _, earth_height, cell_major = window_of(earth_hmap)
    earth_maps = vis.earth_visibility_map(cell_major, lat_r, lon_r, dem.heights_m, earth_height, earth_pos)
    del cell_major
    if progress:
        progress(0.95)
    never = ~np.asarray(sun["ever_lit"], dtype=bool)
    from scipy.ndimage import distance_transform_edt

    if never.any():
        dist_km = distance_transform_edt(~never) * abs(dem.dx) / 1000.0
    else:
        dist_km = np.full(dem.shape, np.inf)
    step_h = step_s / 3600.0
    out = {
        "sun_visible_fraction": np.asarray(sun["sun_visible_fraction"], dtype=np.float32),
        "mean_disk_fraction": np.asarray(sun["mean_disk_fraction"], dtype=np.float32),
        "longest_dark_hours": (np.asarray(sun["longest_dark_steps"]) * step_h).astype(np.float32),
        "earth_visible_fraction": np.asarray(earth_maps["earth_visible_fraction"], dtype=np.float32),
        "slope_deg": slope_map_deg(dem).astype(np.float32),
        "never_lit": never.astype(np.float32),
        "distance_to_shadow_km": dist_km.astype(np.float32),
    }
    if progress:
        progress(1.0)
    return out


def site_maps(
    start="2025-01-01",
    end="2026-01-01",
    step_s: float = 3600.0,
    height_m: float = 2.0,
    region_half_m: float | None = DEFAULT_REGION_HALF_M,
    progress: Callable[[str, float], None] | None = None,
    *,
    earth_height_m: float | None = None,
    windows: int = 0,
) -> SiteMaps:
    """Maps of the south-pole region over a period (cached on disk by their inputs): the Sun seen ``height_m``
    above the ground (the arrays'), the Earth ``earth_height_m`` above it (the antennas'; default the same), over
    every step or ``windows`` windows of ``SAMPLE_WINDOW_DAYS`` spread over the period."""
    if step_s <= 0:
        raise IlrsError("the step must be positive", source="--step")
    full = pole_dem()
    earth_h = float(height_m if earth_height_m is None else earth_height_m)

    def stage(name, a, b):
        return (lambda f: progress(name, a + (b - a) * f)) if progress else None

    window = region_window(full, region_half_m)
    spans = sample_windows(start, end, step_s, windows, SAMPLE_WINDOW_DAYS)
    sampled = spans != [utc_bounds(start, end)]
    n_steps = sum(int(utc_grid(a, b, step_s)[0].size) for a, b in spans)
    cache = product_cache()
    key = cache.key(
        kind="site_maps",
        v=3,
        code=[file_sha256(str(m.__file__)) for m in (vis, hz)],
        dem=dem_key(full),
        height=float(height_m),
        earth_height=earth_h,
        window=list(window),
        spans=[[str(a), str(b)] for a, b in spans],
        step=float(step_s),
        far=dem_key(global_dem()),
    )

    def compute() -> dict[str, np.ndarray]:
        # the horizon maps only when the maps are not cached (a warm run neither decodes nor holds their 1.7 GB),
        # one at a time: each is released once its window is copied
        def hmap() -> HorizonMap:
            return horizon_map(full, height_m, 360, global_dem(), stage("horizon map (360 azimuths)", 0.0, 1.0))

        earth: Callable[[], HorizonMap] | None = None
        if earth_h != float(height_m):

            def earth() -> HorizonMap:
                return horizon_map(
                    full, earth_h, 360, global_dem(), stage(f"horizon map at {earth_h:g} m (360 azimuths)", 0.0, 1.0)
                )

        return compute_site_maps(
            hmap,
            window,
            start,
            end,
            step_s,
            stage("sun and Earth visibility", 0.0, 1.0),
            windows=windows,
            earth_hmap=earth,
        )

    layers = cache.get_or_compute("site_maps", key, compute)
    r0, r1, c0, c1 = window
    return SiteMaps(
        full.crop(r0, r1, c0, c1),
        float(height_m),
        str(start),
        str(end),
        float(step_s),
        n_steps,
        dict(layers),
        earth_height_m=earth_h,
        windows=len(spans) if sampled else 0,
    )


def scenario_site_maps(scenario: Scenario, progress: Callable[[str, float], None] | None = None) -> SiteMaps:
    """The maps a scenario's site analysis ranks: its ``[analysis]`` period and step (by default a nodal cycle
    from the run's start, sampled by windows), the Sun at its arrays' height, the Earth at its antennas'."""
    start, end, step = scenario.analysis_period()
    map_h, _ = scenario.array_heights_m()
    return site_maps(
        f"{start:%Y-%m-%d}",
        f"{end:%Y-%m-%d}",
        parse_step(step),
        map_h,
        progress=progress,
        earth_height_m=scenario.antenna_height_m(),
        windows=scenario.analysis_windows(),
    )


def _nearest_named(lat, lon) -> tuple[NamedSite, float]:
    from ilrs.constants import MOON_RADIUS_M
    from ilrs.core.geometry import central_angle

    best, best_km = SITES[0], np.inf
    for s in SITES:
        km = (
            float(central_angle(np.radians(lat), np.radians(lon), np.radians(s.lat_deg), np.radians(s.lon_deg)))
            * MOON_RADIUS_M
            / 1000.0
        )
        if km < best_km:
            best, best_km = s, km
    return best, best_km


def rank_sites(
    maps: SiteMaps,
    top: int = 10,
    max_slope_deg: float = 15.0,
    min_separation_km: float = 5.0,
    weights: dict[str, float] | None = None,
) -> list[RankedSite]:
    """The best station sites: high sunlight and Earth visibility, short darkness, gentle slope, near shadow.

    Score (each term scaled to about [0, 1]): ``w_sun * sun_visible + w_disk * mean_disk - w_dark *
    min(longest_dark, 360 h) / 360 + w_earth * earth_visible - w_psr * min(distance_to_shadow, 20 km) / 20``.
    Cells steeper than ``max_slope_deg`` or never lit are excluded (the slope limit is a user choice: the
    sources give no number). Picks are at least ``min_separation_km`` apart, so the list names distinct places.
    """
    w = {"sun": 1.0, "disk": 0.5, "dark": 1.0, "earth": 0.5, "psr": 0.25}
    w.update(weights or {})
    L = maps.layers
    score = (
        w["sun"] * L["sun_visible_fraction"]
        + w["disk"] * L["mean_disk_fraction"]
        - w["dark"] * np.minimum(L["longest_dark_hours"], 360.0) / 360.0
        + w["earth"] * L["earth_visible_fraction"]
        - w["psr"] * np.minimum(L["distance_to_shadow_km"], 20.0) / 20.0
    ).astype(np.float64)
    ok = (L["slope_deg"] <= max_slope_deg) & (L["never_lit"] < 0.5) & np.isfinite(score)
    score = np.where(ok, score, -np.inf)
    dem = maps.dem
    order = np.argsort(score, axis=None)[::-1]
    xs, ys = dem.x_coords(), dem.y_coords()
    picked: list[RankedSite] = []
    sep = min_separation_km * 1000.0
    for flat in order:
        if len(picked) >= top or not np.isfinite(score.flat[flat]):
            break
        r, c = divmod(int(flat), dem.shape[1])
        x, y = float(xs[c]), float(ys[r])
        if any((p.x_m - x) ** 2 + (p.y_m - y) ** 2 < sep * sep for p in picked):
            continue
        lat, lon = dem.projection.inverse(x, y)
        lat, lon = float(lat), float(lon)
        named, km = _nearest_named(lat, lon)
        picked.append(
            RankedSite(
                rank=len(picked) + 1,
                lat_deg=lat,
                lon_deg=lon,
                x_m=x,
                y_m=y,
                score=float(score[r, c]),
                ground_elevation_m=float(dem.heights_m[r, c]),
                slope_deg=float(L["slope_deg"][r, c]),
                sun_visible_fraction=float(L["sun_visible_fraction"][r, c]),
                mean_disk_fraction=float(L["mean_disk_fraction"][r, c]),
                longest_dark_hours=float(L["longest_dark_hours"][r, c]),
                earth_visible_fraction=float(L["earth_visible_fraction"][r, c]),
                distance_to_shadow_km=float(L["distance_to_shadow_km"][r, c]),
                nearest_named_site=named.name,
                nearest_named_km=km,
                warnings=[note]
                if (note := dem_adequacy(dem, lat, lon, min(maps.height_m, maps.earth_observer_m)).warning)
                else [],
            )
        )
    return picked
