"""Site environment at a point: Sun and Earth visibility above the real terrain over a time span."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ilrs.constants import NODAL_CYCLE_YEARS
from ilrs.core.runs import longest_run
from ilrs.core.visibility import point_series
from ilrs.ephem.directions import angular_radius, topocentric_az_el
from ilrs.ephem.time import utc_grid
from ilrs.errors import IlrsError
from ilrs.iotools.tables import write_csv
from ilrs.services.cache import dem_key, product_cache
from ilrs.services.data import mosaic_from
from ilrs.terrain.adequacy import dem_adequacy
from ilrs.terrain.dem import Mosaic
from ilrs.terrain.profile import HorizonProfile, point_horizon, point_horizons
from ilrs.terrain.slope import point_slope_deg

#: Azimuth spacing of point horizon profiles [deg].
PROFILE_AZIMUTHS = 3600


@dataclass(frozen=True)
class PointEnvironment:
    """Sun and Earth visibility at one point over a time span (the ``ilrs site point`` result).

    Fractions are of the time steps; ``sun_visible_fraction`` counts a step when any part of the solar disk is
    above the terrain horizon, ``sun_mean_disk_fraction`` averages the visible fraction of the disk,
    ``earth_visible_fraction`` counts steps with the Earth's centre above the horizon. ``longest_dark_hours``
    is the longest run of consecutive steps with the whole disk hidden, times the step.
    """

    lat_deg: float
    lon_deg: float
    height_m: float
    start: str
    end: str
    step_s: float
    n_steps: int
    ground_elevation_m: float
    slope_deg: float
    dem_layer: str
    dem_cell_m: float
    sun_visible_fraction: float
    sun_mean_disk_fraction: float
    earth_visible_fraction: float
    longest_dark_hours: float
    longest_earth_gap_hours: float
    horizon_max_deg: float
    horizon_mean_deg: float
    series: dict[str, np.ndarray] = field(repr=False, compare=False)
    profile: HorizonProfile = field(repr=False, compare=False)
    #: results to read with care, e.g. a DEM too coarse for the point (ilrs.terrain.adequacy)
    warnings: list[str] = field(default_factory=list)
    #: the observer height of the Earth's visibility [m] when it differs from ``height_m`` (an antenna's)
    earth_height_m: float | None = None

    def summary(self) -> dict:
        d = asdict(self)
        d.pop("series")
        d.pop("profile")
        return d


def cached_point_horizon(
    mosaic: Mosaic, lat_deg: float, lon_deg: float, height_m: float, n_azimuths: int = PROFILE_AZIMUTHS
) -> HorizonProfile:
    """:func:`point_horizon`, cached on disk by its inputs (the DEM files by content)."""
    return cached_point_horizons(mosaic, lat_deg, lon_deg, (height_m,), n_azimuths)[0]


def cached_point_horizons(
    mosaic: Mosaic,
    lat_deg: float,
    lon_deg: float,
    heights_m: Sequence[float],
    n_azimuths: int = PROFILE_AZIMUTHS,
) -> list[HorizonProfile]:
    """:func:`point_horizon` at several heights above one point, each cached on disk by its inputs; the heights
    not cached yet are computed together (:func:`ilrs.terrain.profile.point_horizons` marches the rays once)."""
    cache = product_cache()
    dems = [dem_key(layer) for layer in mosaic.layers]
    keys = [
        cache.key(
            kind="point_horizon", dems=dems, lat=float(lat_deg), lon=float(lon_deg), height=float(h), n=int(n_azimuths)
        )
        for h in heights_m
    ]
    missing = [
        h
        for h, k in zip(heights_m, keys, strict=True)
        if not (cache.enabled and cache.path("point_horizon", k).exists())
    ]
    fresh = {p.height_m: p for p in point_horizons(mosaic, lat_deg, lon_deg, missing, n_azimuths)} if missing else {}

    def computed(h: float) -> dict[str, np.ndarray]:
        p = fresh[float(h)] if float(h) in fresh else point_horizon(mosaic, lat_deg, lon_deg, h, n_azimuths)
        return {"elevation_deg": p.elevation_deg, "distance_m": p.distance_m, "ground_m": np.array(p.ground_m)}

    out = []
    for h, k in zip(heights_m, keys, strict=True):
        a = cache.get_or_compute("point_horizon", k, functools.partial(computed, h))
        out.append(
            HorizonProfile(
                float(lat_deg),
                float(lon_deg),
                float(h),
                float(a["ground_m"]),
                np.asarray(a["elevation_deg"]),
                np.asarray(a["distance_m"]),
            )
        )
    return out


def _check_point(lat_deg: float, lon_deg: float, height_m: float) -> None:
    if not -90.0 <= lat_deg <= 90.0:
        raise IlrsError(f"latitude {lat_deg} is outside [-90, 90]", source="--lat")
    if not np.isfinite(lon_deg):
        raise IlrsError(f"longitude {lon_deg} is not a number", source="--lon")
    if not 0.0 <= height_m <= 10_000.0:
        raise IlrsError(
            f"height {height_m} m is outside [0, 10000] m",
            source="--height",
            hint="give the observer's height above the ground in metres",
        )


def point_environment(
    lat_deg: float,
    lon_deg: float,
    start,
    end,
    step_s: float,
    height_m: float = 0.0,
    dems: list[str] | None = None,
    earth_height_m: float | None = None,
) -> PointEnvironment:
    """Sun and Earth visibility at a point from ``start`` to ``end`` every ``step_s`` seconds.

    The horizon comes from the nested mosaic (the embedded one unless ``dems`` lists DEM files, finest
    first); the Sun's and the Earth's apparent topocentric directions from SPICE (DE440s, DE440 lunar
    orientation, MOON_ME). The Sun is seen from ``height_m`` (an array's), the Earth from ``earth_height_m``
    (an antenna's; default the same height).
    """
    _check_point(lat_deg, lon_deg, height_m)
    earth_h = float(height_m if earth_height_m is None else earth_height_m)
    _check_point(lat_deg, lon_deg, earth_h)
    lon_deg = float(np.mod(lon_deg, 360.0))
    mosaic = mosaic_from(dems)
    et, utc = utc_grid(start, end, step_s)
    heights = (float(height_m),) if earth_h == float(height_m) else (float(height_m), earth_h)
    profiles = cached_point_horizons(mosaic, lat_deg, lon_deg, heights, PROFILE_AZIMUTHS)
    profile, earth_profile = profiles[0], profiles[-1]
    layer = mosaic.layer_at_latlon(lat_deg, lon_deg)
    try:
        slope = point_slope_deg(layer, lat_deg, lon_deg)
    except ValueError:
        slope = float("nan")
    adequacy = dem_adequacy(layer, lat_deg, lon_deg, height_m)
    warnings = [adequacy.warning] if adequacy.warning else []
    sun_az, sun_el, sun_d = topocentric_az_el("SUN", et, lat_deg, lon_deg, height_m)
    earth_az, earth_el, _ = topocentric_az_el("EARTH", et, lat_deg, lon_deg, earth_h)
    sun_hz, frac = point_series(profile.elevation_deg, sun_az, sun_el, angular_radius("SUN", sun_d))
    # the Earth counts as visible when its centre is above the horizon: a zero radius in point_series
    earth_hz, earth_frac = point_series(earth_profile.elevation_deg, earth_az, earth_el, 0.0)
    earth_vis = earth_frac > 0.0
    step_h = step_s / 3600.0
    series = {
        "time_utc": utc,
        "sun_azimuth_deg": np.degrees(sun_az),
        "sun_elevation_deg": np.degrees(sun_el),
        "sun_horizon_deg": sun_hz,
        "sun_disk_fraction": frac,
        "earth_azimuth_deg": np.degrees(earth_az),
        "earth_elevation_deg": np.degrees(earth_el),
        "earth_horizon_deg": earth_hz,
        "earth_visible": earth_vis,
    }
    return PointEnvironment(
        lat_deg=float(lat_deg),
        lon_deg=lon_deg,
        height_m=float(height_m),
        start=str(utc[0]) + "Z",
        end=str(utc[-1] + np.timedelta64(int(step_s), "s")) + "Z",
        step_s=float(step_s),
        n_steps=int(et.size),
        ground_elevation_m=profile.ground_m,
        slope_deg=slope,
        dem_layer=layer.name,
        dem_cell_m=layer.cell_size_m,
        sun_visible_fraction=float(np.mean(frac > 0.0)),
        sun_mean_disk_fraction=float(np.mean(frac)),
        earth_visible_fraction=float(np.mean(earth_vis)),
        longest_dark_hours=longest_run(frac <= 0.0) * step_h,
        longest_earth_gap_hours=longest_run(~earth_vis) * step_h,
        horizon_max_deg=float(profile.elevation_deg.max()),
        horizon_mean_deg=float(profile.elevation_deg.mean()),
        series=series,
        profile=profile,
        warnings=warnings,
        earth_height_m=None if earth_h == float(height_m) else earth_h,
    )


def write_series_csv(env: PointEnvironment, path: str | Path) -> Path:
    """One row per time step (see the ``--series`` contract of ``ilrs site point``)."""
    s = env.series
    return write_csv(path, s, float_format={k: "%.6f" for k in s if k not in ("time_utc", "earth_visible")})


@dataclass(frozen=True)
class RescoredSite:
    """A shortlisted site re-scored at its own point on the finest DEM that covers it, over a nodal cycle."""

    rank_on_map: int
    lat_deg: float
    lon_deg: float
    height_m: float
    env: PointEnvironment = field(repr=False)

    @property
    def warnings(self) -> list[str]:
        return self.env.warnings


def rescore_shortlist(
    sites: list[tuple[int, float, float]],
    start,
    height_m: float,
    step_s: float = 3600.0,
    years: float = NODAL_CYCLE_YEARS,
    earth_height_m: float | None = None,
    dems: list[str] | None = None,
) -> list[RescoredSite]:
    """Re-score ``(rank, lat, lon)`` sites over ``years`` from ``start`` (default the 18.6-year nodal cycle) on
    the nested mosaic (each point on the finest layer that covers it: the embedded 10 m tile, or the ``dems`` a
    user brings, finest first), the Sun at ``height_m`` (the arrays') and the Earth at ``earth_height_m`` (the
    antennas'), best first by sunlit time then shortest night."""
    import datetime as dt

    t0 = np.datetime64(start, "s").astype(dt.datetime) if not isinstance(start, dt.datetime) else start
    t0 = t0.replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
    t1 = t0 + dt.timedelta(days=round(years * 365.25))
    out = [
        RescoredSite(
            rank, lat, lon, height_m, point_environment(lat, lon, t0, t1, step_s, height_m, dems, earth_height_m)
        )
        for rank, lat, lon in sites
    ]
    return sorted(out, key=lambda r: (-r.env.sun_visible_fraction, r.env.longest_dark_hours))
