"""Equations of motion written afresh for the tests' independent propagations (not the project's kernels)."""

from __future__ import annotations

import math

import numpy as np
import spiceypy

from ilrs.transport import forces


def moon_centred_rhs(mu_e: float, mu_s: float, mu_m: float):
    """Moon-centred equations of motion written afresh: third bodies from SPICE ``spkpos`` at every call (no
    tables), lunar J2/C22 as the gradient of U = mu R^2 / r^3 [-J2 P20(z/r) + 3 C22 (x^2 - y^2) / r^2] in
    MOON_PA from ``pxform`` (Kaula 1966)."""
    j2, c22, re = forces.MOON_J2, forces.MOON_C22, forces.MOON_GRAVITY_RADIUS_M

    def third(rel_body_m: np.ndarray, r: np.ndarray, mu: float) -> np.ndarray:
        d = rel_body_m - r
        return mu * (d / np.linalg.norm(d) ** 3 - rel_body_m / np.linalg.norm(rel_body_m) ** 3)

    def rhs(t: float, y: np.ndarray) -> np.ndarray:
        r = y[:3]
        earth = np.array(spiceypy.spkpos("EARTH", t, "J2000", "NONE", "MOON")[0]) * 1e3
        sun = np.array(spiceypy.spkpos("SUN", t, "J2000", "NONE", "MOON")[0]) * 1e3
        m = np.array(spiceypy.pxform("J2000", forces.MOON_PA_FRAME, t))
        x, yy, z = m @ r
        rr = math.sqrt(x * x + yy * yy + z * z)
        # a = grad U, U = mu re^2 [-J2 f + 3 C22 g], f = (3 z^2 - r^2) / (2 r^5), g = (x^2 - y^2) / r^5
        k = mu_m * re**2
        r5, r7 = rr**5, rr**7
        q = 3.0 * z * z - rr * rr
        w = x * x - yy * yy
        df = np.array([-x / r5 - 2.5 * q * x / r7, -yy / r5 - 2.5 * q * yy / r7, 2.0 * z / r5 - 2.5 * q * z / r7])
        dg = np.array([2.0 * x / r5 - 5.0 * w * x / r7, -2.0 * yy / r5 - 5.0 * w * yy / r7, -5.0 * w * z / r7])
        gx, gy, gz = k * (-j2 * df + 3.0 * c22 * dg)
        a = -mu_m * r / np.linalg.norm(r) ** 3 + m.T @ np.array([gx, gy, gz])
        a += third(earth, r, mu_e) + third(sun, r, mu_s)
        return np.concatenate((y[3:], a))

    return rhs
