"""Static figures (matplotlib, Agg) as PNG bytes: maps with colour bars and site marks, horizon profiles."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

CMAPS = {
    "sun_visible_fraction": "inferno",
    "mean_disk_fraction": "inferno",
    "longest_dark_hours": "viridis_r",
    "earth_visible_fraction": "cividis",
    "slope_deg": "magma_r",
    "never_lit": "Blues",
    "distance_to_shadow_km": "PuBu_r",
}


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def map_png(
    values: np.ndarray, extent_km, title: str, unit: str, name: str, marks=(), ranked=(), station=None
) -> bytes:
    """A map in polar stereographic km (0 E up), with a colour bar, named sites, ranked sites and the station
    (``(x_km, y_km, label)``: a red star)."""
    fig, ax = plt.subplots(figsize=(6.4, 5.6))
    data = values * (100.0 if unit == "%" else 1.0)
    norm = None
    if name == "longest_dark_hours" and np.isfinite(data).any() and np.nanmax(data) > 1.0:
        # from hours to the whole period: a log scale shows the short nights of the ridges and the craters
        from matplotlib.colors import LogNorm

        lo = max(1.0, float(np.nanmin(data)))
        norm = LogNorm(vmin=lo, vmax=float(np.nanmax(data)))
        data = np.maximum(data, lo)
    im = ax.imshow(
        data, extent=extent_km, origin="upper", cmap=CMAPS.get(name, "viridis"), norm=norm, interpolation="nearest"
    )
    cb = fig.colorbar(im, ax=ax, shrink=0.85)
    cb.set_label(unit)
    for m in marks:
        ax.plot(m[0], m[1], marker="^", color="cyan", markersize=6, markeredgecolor="black")
        ax.annotate(
            m[2],
            (m[0], m[1]),
            xytext=(3, 3),
            textcoords="offset points",
            fontsize=7,
            color="white",
            bbox={"boxstyle": "round,pad=0.1", "fc": "black", "alpha": 0.5, "lw": 0},
        )
    for r in ranked:
        ax.plot(r[0], r[1], marker="o", color="lime", markersize=7, markerfacecolor="none", markeredgewidth=1.5)
        ax.annotate(str(r[2]), (r[0], r[1]), xytext=(4, -9), textcoords="offset points", fontsize=7, color="lime")
    if station is not None:
        ax.plot(station[0], station[1], marker="*", color="red", markersize=14, markeredgecolor="white")
        ax.annotate(
            station[2],
            (station[0], station[1]),
            xytext=(6, 6),
            textcoords="offset points",
            fontsize=8,
            color="white",
            bbox={"boxstyle": "round,pad=0.15", "fc": "darkred", "alpha": 0.8, "lw": 0},
        )
    ax.set_xlabel("x [km] (toward 90 E)")
    ax.set_ylabel("y [km] (toward 0 E)")
    ax.set_title(title, fontsize=10)
    return _png(fig)


def horizon_png(azimuth_deg, horizon_deg, sun_az_deg, sun_el_deg, earth_az_deg, earth_el_deg, title: str) -> bytes:
    """The terrain horizon of a site with the year's Sun and Earth tracks."""
    fig, ax = plt.subplots(figsize=(9, 3.4))
    ax.fill_between(azimuth_deg, -10, horizon_deg, color="0.35", label="terrain")
    ax.scatter(sun_az_deg, sun_el_deg, s=1, color="orange", label="Sun (hourly)")
    ax.scatter(earth_az_deg, earth_el_deg, s=1, color="tab:blue", label="Earth (hourly)")
    lo = min(float(np.min(horizon_deg)), float(np.min(sun_el_deg)), float(np.min(earth_el_deg))) - 0.5
    hi = max(float(np.max(horizon_deg)), float(np.max(sun_el_deg)), float(np.max(earth_el_deg))) + 0.5
    ax.set_ylim(lo, hi)
    ax.set_xlim(0, 360)
    ax.set_xlabel("azimuth [deg] from north toward east")
    ax.set_ylabel("elevation [deg]")
    ax.legend(loc="upper right", fontsize=8, markerscale=6)
    ax.set_title(title, fontsize=10)
    return _png(fig)


def extent_km(dem) -> tuple[float, float, float, float]:
    """(xmin, xmax, ymin, ymax) of a map grid in km, for ``imshow``."""
    xmin, xmax, ymin, ymax = dem.bounds
    return xmin / 1000, xmax / 1000, ymin / 1000, ymax / 1000


def site_marks(dem, sites) -> list[tuple[float, float, str]]:
    """(x_km, y_km, short name) of the named sites that fall on the map."""
    xmin, xmax, ymin, ymax = dem.bounds
    marks = []
    for s in sites:
        x, y = dem.projection.forward(np.array([s.lat_deg]), np.array([s.lon_deg]))
        if xmin <= x[0] <= xmax and ymin <= y[0] <= ymax:
            marks.append((float(x[0]) / 1000, float(y[0]) / 1000, s.name.split(",")[0].split(" (")[0]))
    return marks
