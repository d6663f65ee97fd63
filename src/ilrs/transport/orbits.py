"""Two-body lunar orbits: Keplerian elements, vectorised propagation, and the Queqiao-2-like relay orbit.

Elements are given in the Moon's mean-Earth/polar-axis frame frozen at the epoch (MOON_ME at ``epoch_et``
treated as inertial): inclination to the lunar equator, node and periapsis argument measured there. Positions
come out in J2000 (for SPICE) or in MOON_ME at each epoch (for surface visibility).

An elliptical *frozen* orbit keeps its eccentricity and argument of periapsis nearly constant under the
Earth's pull (Ely 2005, J. Astronaut. Sci. 53); two-body propagation with fixed elements is therefore the
first-order model of a relay such as Queqiao-2 over days to months. Its slow node drift is not modelled.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ilrs.constants import MOON_RADIUS_M
from ilrs.errors import IlrsError

#: Lunar gravitational parameter [m^3/s^2]: GM = 4902.800118 km^3/s^2 of DE440 (Park et al. 2021, AJ 161:105).
MOON_GM_M3_S2 = 4.902800118e12


def solve_kepler(mean_anomaly: npt.ArrayLike, e: npt.ArrayLike, tol: float = 1e-14, max_iter: int = 30) -> np.ndarray:
    """Eccentric anomaly E [rad] with E - e sin E = M, by Newton's method (vectorised, e < 1)."""
    m = np.mod(np.asarray(mean_anomaly, dtype=float), 2 * np.pi)
    ecc = np.asarray(e, dtype=float)
    big = np.where(ecc > 0.8, np.pi, m)  # Danby's start for high eccentricity
    ea = big + 0.0
    for _ in range(max_iter):
        f = ea - ecc * np.sin(ea) - m
        step = f / (1.0 - ecc * np.cos(ea))
        ea = ea - step
        if np.all(np.abs(step) < tol):
            break
    return ea


@dataclass(frozen=True)
class KeplerOrbit:
    """An elliptical orbit about the Moon (SI units, angles in radians)."""

    a_m: float
    e: float
    inc_rad: float
    raan_rad: float
    argp_rad: float
    mean_anomaly_rad: float
    epoch_et: float
    mu_m3_s2: float = MOON_GM_M3_S2
    name: str = "orbit"

    def __post_init__(self) -> None:
        if not (0.0 <= self.e < 1.0):
            raise IlrsError(f"eccentricity {self.e} is outside [0, 1)", source=f"orbit {self.name!r}: e")
        if self.a_m * (1.0 - self.e) <= MOON_RADIUS_M:
            raise IlrsError(
                f"periapsis radius {self.a_m * (1 - self.e) / 1e3:.1f} km is inside the Moon",
                source=f"orbit {self.name!r}",
                hint="raise the periapsis altitude above 0 km",
            )

    @classmethod
    def from_altitudes(
        cls,
        periapsis_alt_km: float,
        apoapsis_alt_km: float,
        inc_deg: float,
        raan_deg: float,
        argp_deg: float,
        mean_anomaly_deg: float,
        epoch_et: float,
        name: str = "orbit",
    ) -> KeplerOrbit:
        """From periapsis and apoapsis altitudes above the 1737.4 km sphere [km] and angles [deg]."""
        if apoapsis_alt_km < periapsis_alt_km:
            raise IlrsError("apoapsis altitude is below the periapsis altitude", source=f"orbit {name!r}")
        rp = MOON_RADIUS_M + periapsis_alt_km * 1e3
        ra = MOON_RADIUS_M + apoapsis_alt_km * 1e3
        return cls(
            (rp + ra) / 2,
            (ra - rp) / (ra + rp),
            np.radians(inc_deg),
            np.radians(raan_deg),
            np.radians(argp_deg),
            np.radians(mean_anomaly_deg),
            float(epoch_et),
            name=name,
        )

    @property
    def period_s(self) -> float:
        """Keplerian period 2 pi sqrt(a^3 / mu) [s]."""
        period: float = 2 * np.pi * np.sqrt(self.a_m**3 / self.mu_m3_s2)
        return period

    def _perifocal_to_frame(self) -> np.ndarray:
        """Rotation perifocal (P, Q, W) -> the epoch's equatorial frame: R3(-raan) R1(-i) R3(-argp)."""
        co, so = np.cos(self.raan_rad), np.sin(self.raan_rad)
        ci, si = np.cos(self.inc_rad), np.sin(self.inc_rad)
        cw, sw = np.cos(self.argp_rad), np.sin(self.argp_rad)
        return np.array(
            [
                [co * cw - so * sw * ci, -co * sw - so * cw * ci, so * si],
                [so * cw + co * sw * ci, -so * sw + co * cw * ci, -co * si],
                [sw * si, cw * si, ci],
            ]
        )

    def state_epoch_frame(self, et: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """Position [m] and velocity [m/s] in the epoch's MOON_ME-fixed frame, each (n, 3)."""
        et = np.atleast_1d(np.asarray(et, dtype=float))
        n = np.sqrt(self.mu_m3_s2 / self.a_m**3)
        ea = solve_kepler(self.mean_anomaly_rad + n * (et - self.epoch_et), self.e)
        ce, se = np.cos(ea), np.sin(ea)
        b = self.a_m * np.sqrt(1 - self.e**2)
        r = self.a_m * (1 - self.e * ce)
        pq = np.stack([self.a_m * (ce - self.e), b * se, np.zeros_like(ce)], axis=1)
        vq = np.stack([-self.a_m * n * se * self.a_m / r, b * n * ce * self.a_m / r, np.zeros_like(ce)], axis=1)
        rot = self._perifocal_to_frame()
        return pq @ rot.T, vq @ rot.T


#: Queqiao-2's mission orbit as reported: 200 km x 16,000 km, 62.4 deg, 24 h frozen elliptical orbit, entered
#: 2 April 2024 (ILRS-FACTS 1.8; CNSA reports). Apolune over the south (periapsis argument 90 deg puts the
#: periapsis at +62.4 deg latitude) so the relay lingers above the south-pole region. The node is not published.
QUEQIAO2_ORBIT = dict(
    periapsis_alt_km=200.0, apoapsis_alt_km=16_000.0, inc_deg=62.4, raan_deg=0.0, argp_deg=90.0, mean_anomaly_deg=0.0
)


def relay_orbit(epoch_et: float, **overrides: float) -> KeplerOrbit:
    """The Queqiao-2-like relay orbit at an epoch (elements of :data:`QUEQIAO2_ORBIT`, any overridden)."""
    params = {**QUEQIAO2_ORBIT, **overrides}
    return KeplerOrbit.from_altitudes(epoch_et=epoch_et, name="relay", **params)
