"""Runs of True in boolean time series (windows, shedding events, darkness)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ilrs.core.arrays import IntArray


def runs(mask: npt.ArrayLike) -> IntArray:
    """(n, 2) start and stop (exclusive) indices of every run of True in a 1-D boolean array."""
    m = np.asarray(mask, dtype=np.int8)
    return np.flatnonzero(np.diff(np.concatenate([[0], m, [0]]))).reshape(-1, 2)


def longest_run(mask: npt.ArrayLike) -> int:
    """Length of the longest run of True (0 if none)."""
    r = runs(mask)
    return int((r[:, 1] - r[:, 0]).max()) if r.size else 0
