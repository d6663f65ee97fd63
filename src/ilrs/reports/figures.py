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


#: Candidate label offsets from a mark [points], tried in order until the label overlaps no label placed before
LABEL_OFFSETS = ((4, 4), (4, -11), (-4, 4), (-4, -11), (4, 14), (4, -21), (-4, 14), (-4, -21), (10, -4), (-10, -4))

#: Spacings of latitude rings [deg], the first that draws at least two rings across the map wins
RING_SPACINGS_DEG = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0)


def place_labels(ax, labels, fig) -> list:
    """Annotate ``(x, y, text, style)`` points so that no two labels overlap: each label takes the first offset of
    :data:`LABEL_OFFSETS` whose box overlaps no label already placed (greedy, in the given order); a label
    with no free offset keeps the first. Returns the annotations."""
    renderer = fig.canvas.get_renderer()
    placed: list = []
    boxes: list = []
    for x, y, text, style in labels:
        chosen = None
        for dx, dy in LABEL_OFFSETS:
            ha = "left" if dx >= 0 else "right"
            a = ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points", ha=ha, **style)
            box = a.get_window_extent(renderer)
            if not any(box.overlaps(b) for b in boxes):
                chosen = (a, box)
                break
            a.remove()
        if chosen is None:
            dx, dy = LABEL_OFFSETS[0]
            a = ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points", **style)
            chosen = (a, a.get_window_extent(renderer))
        placed.append(chosen[0])
        boxes.append(chosen[1])
    return placed


def latitude_rings(ax, dem) -> list[float]:
    """Draw circles of constant latitude across a map of ``dem`` (any projection with ``forward``/``inverse``),
    labelled in degrees; return the latitudes drawn [deg]."""
    xmin, xmax, ymin, ymax = dem.bounds
    edge = np.linspace(0.0, 1.0, 41)
    xs = np.concatenate(
        [xmin + (xmax - xmin) * edge, np.full(41, xmax), xmin + (xmax - xmin) * edge, np.full(41, xmin)]
    )
    ys = np.concatenate(
        [np.full(41, ymin), ymin + (ymax - ymin) * edge, np.full(41, ymax), ymin + (ymax - ymin) * edge]
    )
    lat_edge, _ = dem.projection.inverse(xs, ys)
    lat_c, _ = dem.projection.inverse(np.array([(xmin + xmax) / 2]), np.array([(ymin + ymax) / 2]))
    lats = np.concatenate([np.asarray(lat_edge, dtype=float), np.asarray(lat_c, dtype=float)])
    if xmin <= 0.0 <= xmax and ymin <= 0.0 <= ymax and dem.projection.polar_stereographic_south:
        lats = np.append(lats, -90.0)  # the pole is on the map
    lo, hi = float(np.nanmin(lats)), float(np.nanmax(lats))
    rings: list[float] = []
    for spacing in RING_SPACINGS_DEG:
        rings = [float(v) for v in np.arange(np.ceil(lo / spacing) * spacing, hi + 1e-9, spacing) if -90.0 < v < 90.0]
        if 2 <= len(rings) <= 8:
            break
    lon = np.linspace(0.0, 360.0, 721)
    for lat in rings:
        x, y = dem.projection.forward(np.full(lon.size, lat), lon)
        x_km, y_km = np.asarray(x) / 1000, np.asarray(y) / 1000
        ax.plot(x_km, y_km, color="white", lw=0.6, ls="--", alpha=0.6)
        inside = (x_km >= xmin / 1000) & (x_km <= xmax / 1000) & (y_km >= ymin / 1000) & (y_km <= ymax / 1000)
        if inside.any():
            k = int(np.flatnonzero(inside)[np.argmax(y_km[inside] - x_km[inside])])  # toward the upper left
            ax.annotate(
                f"{abs(lat):g}\N{DEGREE SIGN}{'S' if lat < 0 else 'N'}",
                (x_km[k], y_km[k]),
                fontsize=6,
                color="white",
                alpha=0.8,
                xytext=(2, 2),
                textcoords="offset points",
            )
    ax.set_xlim(xmin / 1000, xmax / 1000)
    ax.set_ylim(ymin / 1000, ymax / 1000)
    return rings


def map_png(
    values: np.ndarray,
    extent_km,
    title: str,
    unit: str,
    name: str,
    marks=(),
    ranked=(),
    station=None,
    dem=None,
    note: str | None = None,
) -> bytes:
    """A map in polar stereographic km (0 E up), with a colour bar, latitude rings (given the ``dem`` of the
    grid), named sites, ranked sites and the station (``(x_km, y_km, label)``: a red star); labels placed so
    that they do not overlap (:func:`place_labels`); ``note``: a text box in the lower left corner."""
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
    if dem is not None:
        latitude_rings(ax, dem)
    labels = []
    if station is not None:
        ax.plot(station[0], station[1], marker="*", color="red", markersize=14, markeredgecolor="white")
        style = {
            "fontsize": 8,
            "color": "white",
            "bbox": {"boxstyle": "round,pad=0.15", "fc": "darkred", "alpha": 0.8, "lw": 0},
        }
        labels.append((station[0], station[1], station[2], style))
    for m in marks:
        ax.plot(m[0], m[1], marker="^", color="cyan", markersize=6, markeredgecolor="black")
        style = {
            "fontsize": 7,
            "color": "white",
            "bbox": {"boxstyle": "round,pad=0.1", "fc": "black", "alpha": 0.5, "lw": 0},
        }
        labels.append((m[0], m[1], m[2], style))
    for r in ranked:
        ax.plot(r[0], r[1], marker="o", color="lime", markersize=7, markerfacecolor="none", markeredgewidth=1.5)
        labels.append((r[0], r[1], str(r[2]), {"fontsize": 7, "color": "lime"}))
    if note:
        ax.text(
            0.02,
            0.02,
            note,
            transform=ax.transAxes,
            fontsize=7,
            va="bottom",
            ha="left",
            bbox={"boxstyle": "round,pad=0.3", "fc": "white", "alpha": 0.85, "lw": 0},
        )
    ax.set_xlabel("x [km] (toward 90 E)")
    ax.set_ylabel("y [km] (toward 0 E)")
    ax.set_title(title, fontsize=10)
    place_labels(ax, labels, fig)
    return _png(fig)


def window_around(dem, x_km: float, y_km: float, half_km: float) -> tuple[slice, slice, tuple[float, ...]] | None:
    """(rows, cols, extent in km) of the cells within ``half_km`` of a point on a map grid, None off the grid."""
    xs, ys = dem.x_coords() / 1000.0, dem.y_coords() / 1000.0
    c = np.flatnonzero(np.abs(xs - x_km) <= half_km)
    r = np.flatnonzero(np.abs(ys - y_km) <= half_km)
    if c.size < 2 or r.size < 2:
        return None
    hx, hy = abs(dem.dx) / 2000.0, abs(dem.dy) / 2000.0
    extent = (xs[c[0]] - hx, xs[c[-1]] + hx, min(ys[r[0]], ys[r[-1]]) - hy, max(ys[r[0]], ys[r[-1]]) + hy)
    return slice(int(r[0]), int(r[-1]) + 1), slice(int(c[0]), int(c[-1]) + 1), tuple(float(v) for v in extent)


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
