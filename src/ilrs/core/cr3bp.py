"""Circular restricted three-body problem (CR3BP) kernels in nondimensional units.

Rotating (synodic) frame centred on the barycentre, x from the primary to the secondary, z along the angular
velocity; unit length is the primaries' separation, unit time 1/mean motion, so the primaries sit at
``(-mu, 0, 0)`` and ``(1 - mu, 0, 0)`` and the frame spins at rate 1. Equations of motion, Jacobi constant and
collinear points follow Szebehely (1967), *Theory of Orbits*, ch. 4 and 10, and Koon, Lo, Marsden & Ross (2011),
*Dynamical Systems, the Three-Body Problem and Space Mission Design*, ch. 2. The variational equations (state
transition matrix) follow Howell (1984), Celest. Mech. 32, 53-71.

A state is ``[x, y, z, vx, vy, vz]``; with the STM it is 42 long, the 6x6 matrix appended row by row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from scipy.integrate import solve_ivp

from ilrs.core._jit import jit
from ilrs.core.arrays import FloatArray
from ilrs.errors import IlrsError

#: Default integration tolerances: DOP853 at 1e-12 keeps the Jacobi constant to ~1e-12 per halo period.
RTOL = 1e-12
ATOL = 1e-12

if TYPE_CHECKING:
    from scipy.integrate._ivp.ivp import OdeResult


@jit
def eom(t: float, state: FloatArray, mu: float) -> FloatArray:
    """Time derivative of a 6-state (``t`` unused; the CR3BP is autonomous)."""
    x, y, z, vx, vy, vz = state[0], state[1], state[2], state[3], state[4], state[5]
    dx1 = x + mu
    dx2 = x - 1.0 + mu
    r1_3 = (dx1 * dx1 + y * y + z * z) ** 1.5
    r2_3 = (dx2 * dx2 + y * y + z * z) ** 1.5
    g1 = (1.0 - mu) / r1_3
    g2 = mu / r2_3
    out = np.empty(6)
    out[0] = vx
    out[1] = vy
    out[2] = vz
    out[3] = 2.0 * vy + x - g1 * dx1 - g2 * dx2
    out[4] = -2.0 * vx + y - (g1 + g2) * y
    out[5] = -(g1 + g2) * z
    return out


@jit
def eom_stm(t: float, y42: FloatArray, mu: float) -> FloatArray:
    """Time derivative of a 42-state: the 6-state and its 6x6 state transition matrix Phi, dPhi/dt = A Phi."""
    x, y, z = y42[0], y42[1], y42[2]
    dx1 = x + mu
    dx2 = x - 1.0 + mu
    r1s = dx1 * dx1 + y * y + z * z
    r2s = dx2 * dx2 + y * y + z * z
    r1_3 = r1s**1.5
    r2_3 = r2s**1.5
    r1_5 = r1_3 * r1s
    r2_5 = r2_3 * r2s
    a = (1.0 - mu) / r1_3 + mu / r2_3
    b1 = 3.0 * (1.0 - mu) / r1_5
    b2 = 3.0 * mu / r2_5
    # Hessian of the pseudo-potential U = (x^2 + y^2)/2 + (1-mu)/r1 + mu/r2
    uxx = 1.0 - a + b1 * dx1 * dx1 + b2 * dx2 * dx2
    uyy = 1.0 - a + (b1 + b2) * y * y
    uzz = -a + (b1 + b2) * z * z
    uxy = b1 * dx1 * y + b2 * dx2 * y
    uxz = b1 * dx1 * z + b2 * dx2 * z
    uyz = (b1 + b2) * y * z
    out = np.empty(42)
    out[:6] = eom(t, y42[:6], mu)
    phi = y42[6:].reshape((6, 6))
    dphi = np.empty((6, 6))
    for j in range(6):
        p0, p1, p2, p3, p4, p5 = phi[0, j], phi[1, j], phi[2, j], phi[3, j], phi[4, j], phi[5, j]
        dphi[0, j] = p3
        dphi[1, j] = p4
        dphi[2, j] = p5
        dphi[3, j] = uxx * p0 + uxy * p1 + uxz * p2 + 2.0 * p4
        dphi[4, j] = uxy * p0 + uyy * p1 + uyz * p2 - 2.0 * p3
        dphi[5, j] = uxz * p0 + uyz * p1 + uzz * p2
    out[6:] = dphi.ravel()
    return out


def jacobi_constant(state: npt.ArrayLike, mu: float) -> FloatArray:
    """Jacobi constant C = 2U - v^2 of states ``(..., 6)`` (Szebehely 1967, eq. 10.3); vectorised."""
    s = np.asarray(state, dtype=float)
    x, y, z = s[..., 0], s[..., 1], s[..., 2]
    r1 = np.sqrt((x + mu) ** 2 + y**2 + z**2)
    r2 = np.sqrt((x - 1.0 + mu) ** 2 + y**2 + z**2)
    v2 = s[..., 3] ** 2 + s[..., 4] ** 2 + s[..., 5] ** 2
    c: FloatArray = x**2 + y**2 + 2.0 * (1.0 - mu) / r1 + 2.0 * mu / r2 - v2
    return c


def collinear_point(mu: float, which: int, tol: float = 1e-15, max_iter: int = 50) -> float:
    """x of collinear libration point L1, L2 or L3 (``which`` = 1, 2, 3) [nondimensional].

    Newton's method on the quintic in gamma, the distance from the nearer primary (Szebehely 1967, sec. 4.4;
    Koon et al. 2011, sec. 2.5), started from the Hill-sphere estimate (mu/3)^(1/3) for L1/L2.
    """
    if not 0.0 < mu <= 0.5:
        raise IlrsError(f"mass ratio mu={mu} is outside (0, 0.5]", source="mu")
    if which == 1:
        coeffs = [1.0, -(3.0 - mu), 3.0 - 2.0 * mu, -mu, 2.0 * mu, -mu]
        gamma: float = (mu / 3.0) ** (1.0 / 3.0)
    elif which == 2:
        coeffs = [1.0, 3.0 - mu, 3.0 - 2.0 * mu, -mu, -2.0 * mu, -mu]
        gamma = (mu / 3.0) ** (1.0 / 3.0)
    elif which == 3:
        coeffs = [1.0, 2.0 + mu, 1.0 + 2.0 * mu, -(1.0 - mu), -2.0 * (1.0 - mu), -(1.0 - mu)]
        gamma = 1.0 - 7.0 * mu / 12.0
    else:
        raise IlrsError(f"collinear point must be 1, 2 or 3, got {which!r}", source="which")
    poly = np.poly1d(coeffs)
    dpoly = poly.deriv()
    for _ in range(max_iter):
        step: float = poly(gamma) / dpoly(gamma)
        gamma -= step
        if abs(step) < tol:
            break
    else:
        raise IlrsError(f"Newton iteration for L{which} did not converge (mu={mu})", source="which")
    if which == 1:
        return 1.0 - mu - gamma
    if which == 2:
        return 1.0 - mu + gamma
    return -mu - gamma


def _rhs(mu: float, stm: bool) -> Callable[[float, FloatArray], FloatArray]:
    f = eom_stm if stm else eom
    return lambda t, y: f(t, y, mu)


def with_identity_stm(state: npt.ArrayLike) -> FloatArray:
    """A 42-state: ``state`` followed by the 6x6 identity."""
    return np.concatenate([np.asarray(state, dtype=float), np.eye(6).ravel()])


def propagate(
    state0: npt.ArrayLike,
    t_final: float,
    mu: float,
    *,
    stm: bool = False,
    t_eval: FloatArray | None = None,
    events: Callable[[float, FloatArray], float] | None = None,
    dense_output: bool = False,
    rtol: float = RTOL,
    atol: float = ATOL,
) -> OdeResult[np.float64]:
    """Integrate from t = 0 to ``t_final`` with DOP853; returns scipy's ``OdeResult``.

    With ``stm=True`` a 6-state gets the identity appended and the result carries the 42-state.
    """
    y0 = np.asarray(state0, dtype=np.float64)
    if stm and y0.size == 6:
        y0 = with_identity_stm(y0)
    sol = solve_ivp(
        _rhs(mu, stm),
        (0.0, float(t_final)),
        y0,
        method="DOP853",
        rtol=rtol,
        atol=atol,
        t_eval=t_eval,
        events=events,
        dense_output=dense_output,
    )
    if sol.status == -1:
        raise IlrsError(f"integration failed: {sol.message}", source="state0")
    return sol


def xz_crossing(
    state0: npt.ArrayLike,
    mu: float,
    *,
    t_max: float,
    t_min: float = 1e-2,
    stm: bool = True,
    rtol: float = RTOL,
    atol: float = ATOL,
) -> tuple[float, FloatArray]:
    """First crossing of the x-z plane (y = 0) after ``t_min``; returns (time, 6- or 42-state there).

    The first ``t_min`` is integrated without the event so a start on the plane is not reported as a crossing.
    Raises IlrsError (``t_max``) when no crossing occurs before ``t_max``.
    """

    def y_zero(t: float, y: FloatArray) -> float:
        crossing: float = y[1]
        return crossing

    y_zero.terminal = True  # type: ignore[attr-defined]  # scipy reads event options as attributes of the function
    head = propagate(state0, t_min, mu, stm=stm, rtol=rtol, atol=atol)
    sol = propagate(head.y[:, -1], t_max - t_min, mu, stm=stm, rtol=rtol, atol=atol, events=y_zero)
    if sol.status != 1:
        raise IlrsError(f"no x-z plane crossing within t={t_max}", source="t_max")
    assert sol.t_events is not None and sol.y_events is not None  # solve_ivp fills both when given events
    return t_min + float(sol.t_events[0][0]), sol.y_events[0][0]
