"""Runs of True in boolean time series (windows, shedding events, darkness): the one run finder of ilrs."""

from __future__ import annotations

from typing import Any

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
