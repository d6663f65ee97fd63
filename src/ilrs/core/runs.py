"""Runs of True in boolean time series (windows, shedding events, darkness): the one run finder of ilrs."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from ilrs.core.arrays import IntArray


def runs(mask: npt.ArrayLike) -> IntArray:
    """(n, 2) start and stop (exclusive) indices of every run of True in a 1-D boolean array (a non-boolean
    array counts as its values cast to ``int8`` being non-zero)."""
    m = np.asarray(mask)
    if m.dtype != np.bool_:
        m = np.asarray(m, dtype=np.int8) != 0
    m = m.reshape(-1)
    if not m.size:
        return np.empty((0, 2), dtype=np.intp)
    # the steps where the value changes, on the boolean array itself: a run starts at each rise and stops at
    # each fall, so that with the array's first step (when True) and its end (when the last step is True)
    # they alternate start, stop
    changes = np.flatnonzero(m[1:] != m[:-1]) + 1
    first = np.zeros(1 if m[0] else 0, dtype=np.intp)
    last = np.full(1 if m[-1] else 0, m.size, dtype=np.intp)
    return np.concatenate([first, changes, last]).reshape(-1, 2)


def longest_run(mask: npt.ArrayLike) -> int:
    """Length of the longest run of True (0 if none)."""
    r = runs(mask)
    return int((r[:, 1] - r[:, 0]).max()) if r.size else 0


def series_end(t: npt.NDArray[Any], last_step: Any = None) -> Any:
    """The end of a step-held series on the grid ``t``: its last step lasts ``last_step`` (in ``t``'s units; a
    ``numpy.timedelta64`` for datetimes), by default as long as the step before it (0 for a single step)."""
    if last_step is None:
        last_step = t[-1] - t[-2] if t.size > 1 else t[-1] - t[-1]
    return t[-1] + last_step


def run_spans(mask: npt.ArrayLike, t: npt.NDArray[Any], last_step: Any = None) -> npt.NDArray[Any]:
    """(n, 2) start and end times of every run of True in a step-held series on the grid ``t`` (seconds or
    datetime64): a run ends where the step after its last one begins, or at :func:`series_end`."""
    r = runs(mask)
    if not r.size:
        return np.empty((0, 2), dtype=t.dtype)
    ends = np.append(t[1:], series_end(t, last_step))
    return np.stack([t[r[:, 0]], ends[r[:, 1] - 1]], axis=1)
