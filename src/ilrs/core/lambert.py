"""Lambert's problem: the two-body orbit joining two positions in a given time of flight.

Method: D. Izzo (2015), "Revisiting Lambert's problem", Celest. Mech. Dyn. Astr. 121, 1-15
(doi:10.1007/s10569-014-9587-y). The time-of-flight equation is solved in Izzo's variable ``x`` by
Householder iterations (third order) from the paper's initial guesses; the guess for the elliptic single-revolution
branch is the corrected form (the expression after eq. 30 in the paper has a misprint, see poliastro issue 1362).
Near the parabola (``x`` close to 1) the time of flight uses the hypergeometric series of Izzo's eq. 20 to avoid
the cancellation in the closed form.

Plain Python on floats: one solve is ~30 scalar operations per iteration, so a JIT gains nothing here.
Units are SI throughout (m, s, m^3/s^2).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from ilrs.errors import IlrsError

#: Stop when the Householder step in ``x`` is below this (x is O(1); cubic convergence leaves it near eps).
X_TOL = 1e-13
#: Householder converges in 2-5 iterations from Izzo's guesses; 50 only bounds pathological inputs.
MAX_ITER = 50
#: |sin(transfer angle)| below this is treated as collinear: the transfer plane is not defined by the inputs
#: (at 1e-10 rad the off-line offset of a 10,000 km vector is 1 mm, below the positions' own rounding).
COLLINEAR_SIN = 1e-10


def lambert(
    r1_m: npt.ArrayLike,
    r2_m: npt.ArrayLike,
    tof_s: float,
    mu_m3_s2: float,
    *,
    prograde: bool = True,
    revolutions: int = 0,
    low_path: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Velocities at both ends of the two-body arc from ``r1_m`` to ``r2_m`` in ``tof_s`` (Izzo 2015).

    Parameters
    ----------
    r1_m, r2_m : array_like, shape (3,)
        Initial and final positions relative to the central body [m].
    tof_s : float
        Time of flight, > 0 [s].
    mu_m3_s2 : float
        Gravitational parameter of the central body, > 0 [m^3/s^2].
    prograde : bool
        True for motion counter-clockwise about +z (angular momentum with z >= 0), False for clockwise.
        This picks the short or long way round between the two positions.
    revolutions : int
        Number of complete revolutions before arrival, >= 0 [-].
    low_path : bool
        For ``revolutions > 0``, which of the two solutions: True the one with the larger ``x`` (Izzo's
        convention; the lower-energy, "low" path for most geometries). Ignored for ``revolutions == 0``.

    Returns
    -------
    v1_m_s, v2_m_s : numpy.ndarray, shape (3,)
        Velocity at departure and at arrival [m/s].

    Raises
    ------
    IlrsError
        Non-positive or non-finite time of flight or mu, position vectors of zero length, not 3-vectors or
        collinear (0 or 180 degrees apart: the transfer plane is undefined), no solution with that many
        revolutions, or no convergence.
    """
    r1 = _vector(r1_m, "r1_m")
    r2 = _vector(r2_m, "r2_m")
    if not (math.isfinite(tof_s) and tof_s > 0.0):
        raise IlrsError(f"time of flight must be positive and finite, got {tof_s!r}", source="tof_s")
    if not (math.isfinite(mu_m3_s2) and mu_m3_s2 > 0.0):
        raise IlrsError(f"gravitational parameter must be positive and finite, got {mu_m3_s2!r}", source="mu_m3_s2")
    if int(revolutions) != revolutions or revolutions < 0:
        raise IlrsError(f"must be a whole number >= 0, got {revolutions!r}", source="revolutions")
    revolutions = int(revolutions)

    r1_norm = float(np.linalg.norm(r1))
    r2_norm = float(np.linalg.norm(r2))
    for norm, name in ((r1_norm, "r1_m"), (r2_norm, "r2_m")):
        if norm == 0.0:
            raise IlrsError("position vector has zero length", source=name)
    chord = r2 - r1
    c_norm = float(np.linalg.norm(chord))
    h = np.cross(r1, r2)
    h_norm = float(np.linalg.norm(h))
    if h_norm <= COLLINEAR_SIN * r1_norm * r2_norm:
        raise IlrsError(
            "r1_m and r2_m are collinear (transfer angle 0 or 180 deg), so the transfer plane is undefined",
            source="r1_m, r2_m",
            hint="perturb one position slightly out of line",
        )

    s = 0.5 * (r1_norm + r2_norm + c_norm)
    i_r1 = r1 / r1_norm
    i_r2 = r2 / r2_norm
    i_h = h / h_norm
    # lambda^2 = 1 - c/s (Izzo eq. 6) loses all digits near 180 deg; the equivalent
    # lambda = sqrt(r1 r2) cos(theta/2) / s with |cos(theta/2)| = |i_r1 + i_r2| / 2 keeps them.
    half_sum = 0.5 * float(np.linalg.norm(i_r1 + i_r2))
    half_diff = 0.5 * float(np.linalg.norm(i_r1 - i_r2))
    ll = min(1.0, math.sqrt(r1_norm * r2_norm) * half_sum / s)
    if i_h[2] < 0.0:
        # Transfer angle > 180 deg when seen from +z: the long way round for prograde motion.
        ll = -ll
        i_h = -i_h
    i_t1 = np.cross(i_h, i_r1)
    i_t2 = np.cross(i_h, i_r2)
    if not prograde:
        ll = -ll
        i_t1 = -i_t1
        i_t2 = -i_t2

    t_nd = math.sqrt(2.0 * mu_m3_s2 / s**3) * tof_s
    x, y = _find_xy(ll, t_nd, revolutions, low_path)

    # Izzo (2015), Algorithm 1, last lines.
    gamma = math.sqrt(mu_m3_s2 * s / 2.0)
    rho = (r1_norm - r2_norm) / c_norm
    sigma = 2.0 * math.sqrt(r1_norm * r2_norm) * half_diff / c_norm  # sqrt(1 - rho^2) without cancellation
    v_r1 = gamma * ((ll * y - x) - rho * (ll * y + x)) / r1_norm
    v_r2 = -gamma * ((ll * y - x) + rho * (ll * y + x)) / r2_norm
    v_t1 = gamma * sigma * (y + ll * x) / r1_norm
    v_t2 = gamma * sigma * (y + ll * x) / r2_norm
    return v_r1 * i_r1 + v_t1 * i_t1, v_r2 * i_r2 + v_t2 * i_t2


def _vector(value: npt.ArrayLike, name: str) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    if arr.shape != (3,):
        raise IlrsError(f"expected a 3-vector, got shape {arr.shape}", source=name)
    if not np.all(np.isfinite(arr)):
        raise IlrsError("position vector has non-finite components", source=name)
    return arr


def _find_xy(ll: float, t_nd: float, revs: int, low_path: bool) -> tuple[float, float]:
    """Solve the non-dimensional time-of-flight equation for Izzo's ``x`` (and ``y``)."""
    m_max = math.floor(t_nd / math.pi)
    t_00 = math.acos(ll) + ll * math.sqrt(1.0 - ll**2)  # eq. 19 with M = 0
    if m_max > 0 and t_nd < t_00 + m_max * math.pi:
        # Between T_00 + M pi and the M-revolution minimum time there is no M-revolution solution.
        x_min = _halley_t_min(0.1, ll, m_max)
        if t_nd < _tof(x_min, ll, m_max):
            m_max -= 1
    if revs > m_max:
        raise IlrsError(
            f"no {revs}-revolution transfer exists for this time of flight (at most {m_max})",
            source="revolutions",
        )
    x = _householder(_initial_guess(t_nd, ll, revs, low_path), t_nd, ll, revs)
    return x, _y(x, ll)


def _y(x: float, ll: float) -> float:
    return math.sqrt(1.0 - ll**2 * (1.0 - x**2))


def _tof(x: float, ll: float, revs: int) -> float:
    """Non-dimensional time of flight T(x), Izzo (2015) eq. 18, or the series of eq. 20 near x = 1."""
    y = _y(x, ll)
    if revs == 0 and math.sqrt(0.6) < x < math.sqrt(1.4):
        eta = y - ll * x
        s1 = 0.5 * (1.0 - ll - x * eta)
        q = 4.0 / 3.0 * _hyp2f1b(s1)
        return 0.5 * (eta**3 * q + 4.0 * ll * eta)
    if -1.0 <= x < 1.0:
        psi = math.acos(max(-1.0, min(1.0, x * y + ll * (1.0 - x**2))))
    elif x > 1.0:
        psi = math.asinh((y - x * ll) * math.sqrt(x**2 - 1.0))
    else:
        psi = 0.0
    return ((psi + revs * math.pi) / math.sqrt(abs(1.0 - x**2)) - x + ll * y) / (1.0 - x**2)


def _hyp2f1b(z: float) -> float:
    """Gauss 2F1(3, 1; 5/2; z) by its series (|z| < 1 near the parabola, where it is used)."""
    if z >= 1.0:
        return math.inf
    total, term, k = 1.0, 1.0, 0
    while True:
        term *= (3.0 + k) * (1.0 + k) / (2.5 + k) * z / (k + 1.0)
        new = total + term
        if new == total:
            return total
        total = new
        k += 1


def _derivatives(x: float, t: float, ll: float) -> tuple[float, float, float]:
    """dT/dx, d2T/dx2, d3T/dx3 at x where T(x) = t, Izzo (2015) eq. 22."""
    y = _y(x, ll)
    om = 1.0 - x**2
    d1 = (3.0 * t * x - 2.0 + 2.0 * ll**3 * x / y) / om
    d2 = (3.0 * t + 5.0 * x * d1 + 2.0 * (1.0 - ll**2) * ll**3 / y**3) / om
    d3 = (7.0 * x * d2 + 8.0 * d1 - 6.0 * (1.0 - ll**2) * ll**5 * x / y**5) / om
    return d1, d2, d3


def _initial_guess(t_nd: float, ll: float, revs: int, low_path: bool) -> float:
    """Izzo (2015) eq. 30 (single revolution) and eq. 31 (multi-revolution)."""
    if revs == 0:
        t_0 = math.acos(ll) + ll * math.sqrt(1.0 - ll**2)
        t_1 = 2.0 * (1.0 - ll**3) / 3.0
        if t_nd >= t_0:
            power: float = (t_0 / t_nd) ** (2.0 / 3.0)  # float ** float is typed Any (a negative base is complex)
            return power - 1.0
        if t_nd < t_1:
            return 2.5 * t_1 / t_nd * (t_1 - t_nd) / (1.0 - ll**5) + 1.0
        return math.exp(math.log(2.0) * math.log(t_nd / t_0) / math.log(t_1 / t_0)) - 1.0
    a: float = ((revs * math.pi + math.pi) / (8.0 * t_nd)) ** (2.0 / 3.0)
    b: float = ((8.0 * t_nd) / (revs * math.pi)) ** (2.0 / 3.0)
    x_left = (a - 1.0) / (a + 1.0)
    x_right = (b - 1.0) / (b + 1.0)
    return max(x_left, x_right) if low_path else min(x_left, x_right)


def _householder(x: float, t_target: float, ll: float, revs: int) -> float:
    """Third-order Householder iteration on T(x) - t_target (Izzo 2015, section 3)."""
    for _ in range(MAX_ITER):
        t = _tof(x, ll, revs)
        f = t - t_target
        d1, d2, d3 = _derivatives(x, t, ll)
        step = f * (d1**2 - f * d2 / 2.0) / (d1 * (d1**2 - f * d2) + d3 * f**2 / 6.0)
        x_new = x - step
        if not math.isfinite(x_new):
            break
        if abs(x_new - x) < X_TOL:
            return x_new
        x = x_new
    raise IlrsError(
        f"Lambert solver did not converge in {MAX_ITER} iterations", source="tof_s", hint="check the geometry"
    )


def _halley_t_min(x: float, ll: float, revs: int) -> float:
    """x at the minimum time of flight of the ``revs``-revolution family: Halley iteration on dT/dx = 0."""
    for _ in range(MAX_ITER):
        t = _tof(x, ll, revs)
        d1, d2, d3 = _derivatives(x, t, ll)
        if d2 == 0.0:
            break
        x_new = x - 2.0 * d1 * d2 / (2.0 * d2**2 - d1 * d3)
        if not math.isfinite(x_new):
            break
        if abs(x_new - x) < X_TOL:
            return x_new
        x = x_new
    raise IlrsError(f"Lambert solver did not find the {revs}-revolution minimum time of flight", source="revolutions")
