"""Porkchop plot of a launch-window scan (matplotlib, Agg): only the departures the launch site allows."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ilrs.ephem.time import utc_text  # noqa: E402
from ilrs.transport.windows import WindowScan  # noqa: E402

_DAY_S = 86_400.0


def porkchop_png(scan: WindowScan) -> bytes:
    """Lift-off epoch x time of flight, coloured by patched-conic TLI + LOI [m/s] where the site's azimuths allow
    the launch (blank elsewhere), with each launch epoch's targeted ephemeris-model transfer on top."""
    day0 = float(scan.launch_et[0])
    x = (scan.launch_et - day0) / _DAY_S
    y = scan.tof_s / _DAY_S
    total = np.where(scan.feasible, scan.total_dv_m_s, np.nan)
    fig, ax = plt.subplots(figsize=(10.0, 4.8))
    if np.isfinite(total).any():
        lo, hi = np.nanpercentile(total, [1, 99])
        mesh = ax.pcolormesh(x, y, total.T, shading="nearest", cmap="viridis", vmin=lo, vmax=hi)
        fig.colorbar(mesh, ax=ax, label="patched-conic TLI + LOI [m/s]")
    deps = [d for d in scan.departures if d.targeted]
    if deps:
        tx = np.array([(d.launch_et - day0) / _DAY_S for d in deps])
        ty = np.array([d.tof_s / _DAY_S for d in deps])
        tv = np.array([d.tli_dv_m_s + d.loi_dv_m_s for d in deps])
        sc = ax.scatter(tx, ty, c=tv, s=9, cmap="plasma", edgecolors="black", linewidths=0.3)
        fig.colorbar(sc, ax=ax, label="targeted (ephemeris model) TLI + LOI [m/s]")
    ax.set_xlabel(f"lift-off [days after {utc_text(day0)}]")
    ax.set_ylabel("time of flight [days]")
    ax.set_title(
        f"{scan.site.name}: {len(scan.departures)} feasible of {scan.launch_et.size} lift-off epochs, "
        f"{len(deps)} targeted (parking {scan.parking_alt_km:g} km, LLO {scan.periapsis_alt_km:g} km, "
        f"{scan.arrival_inclination_deg:g} deg)",
        fontsize=9,
    )
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()
