"""Pareto fronts, hypervolume and main-effect sensitivity on plain arrays (all objectives minimised)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def non_dominated(f: FloatArray) -> npt.NDArray[np.bool_]:
    """Which rows of ``f`` (n, k) no other row dominates (no worse in every objective, better in one).

    Rows equal in every objective are all kept. O(n^2 k), vectorised per row: a few thousand designs take
    milliseconds.
    """
    f = np.asarray(f, dtype=float)
    keep = np.ones(f.shape[0], dtype=bool)
    for i in range(f.shape[0]):
        dominates_i = np.all(f <= f[i], axis=1) & np.any(f < f[i], axis=1)
        keep[i] = not dominates_i.any()
    return keep


def brute_force_front(f: FloatArray) -> set[int]:
    """The non-dominated rows by the definition, pair by pair (the reference the vectorised sort is tested on)."""
    n, k = f.shape
    front = set()
    for i in range(n):
        dominated = False
        for j in range(n):
            if j != i and all(f[j][m] <= f[i][m] for m in range(k)) and any(f[j][m] < f[i][m] for m in range(k)):
                dominated = True
                break
        if not dominated:
            front.add(i)
    return front


def hypervolume(f: FloatArray, ideal: FloatArray, nadir: FloatArray) -> float:
    """Hypervolume of a front in objectives scaled to [0, 1] between ``ideal`` and ``nadir``, with the reference
    point at 1.1 (Zitzler & Thiele 1999; exact, pymoo's indicator)."""
    from pymoo.indicators.hv import HV

    f = np.asarray(f, dtype=float)
    if f.size == 0:
        return 0.0
    span = np.where(nadir > ideal, nadir - ideal, 1.0)
    scaled = (f - ideal) / span
    return float(HV(ref_point=np.full(f.shape[1], 1.1))(scaled))


def main_effects(levels: npt.NDArray[np.int64], y: FloatArray) -> FloatArray:
    """First-order sensitivity of ``y`` to each parameter: the variance of the mean of ``y`` over each level of
    the parameter, divided by the variance of ``y`` (the main effect, i.e. the first-order Sobol index estimated
    on a factorial or Latin-hypercube design; Saltelli et al. 2008, "Global Sensitivity Analysis", ch. 1).

    ``levels`` is (n, p) level indices, ``y`` (n,); NaN outcomes are left out. Returns (p,) in [0, 1].
    """
    ok = np.isfinite(y)
    levels, y = levels[ok], y[ok]
    total = float(np.var(y)) if y.size else 0.0
    out = np.zeros(levels.shape[1])
    if total <= 0.0:
        return out
    for j in range(levels.shape[1]):
        keys, inverse = np.unique(levels[:, j], return_inverse=True)
        means = np.bincount(inverse, weights=y) / np.bincount(inverse)
        counts = np.bincount(inverse)
        out[j] = float(np.sum(counts * (means - y.mean()) ** 2) / y.size / total) if keys.size > 1 else 0.0
    return out
