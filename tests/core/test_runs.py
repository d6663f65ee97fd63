"""ilrs.core.runs: the run finder against a step-by-step enumeration."""

from __future__ import annotations

import numpy as np
import pytest

from ilrs.core.runs import longest_run, run_spans, runs


def _brute_force(mask: list[bool]) -> list[tuple[int, int]]:
    """Runs of True found one step at a time."""
    out, start = [], None
    for i, m in enumerate(mask):
        if m and start is None:
            start = i
        if not m and start is not None:
            out.append((start, i))
            start = None
    if start is not None:
        out.append((start, len(mask)))
    return out


@pytest.mark.parametrize("n", [0, 1, 2, 3, 7, 500])
def test_runs_equal_a_step_by_step_enumeration(n):
    rng = np.random.default_rng(n)
    for p in (0.0, 0.1, 0.5, 0.9, 1.0):
        for _ in range(20):
            mask = rng.random(n) < p
            r = runs(mask)
            assert r.shape == (len(_brute_force(list(mask))), 2) and r.dtype == np.intp
            assert [tuple(map(int, x)) for x in r] == _brute_force(list(mask))
            assert longest_run(mask) == max((b - a for a, b in _brute_force(list(mask))), default=0)


def test_non_boolean_masks_count_their_int8_values():
    # a list of ints, and floats cast to int8 as before (0.5 -> 0 is not a run; 256 wraps to 0)
    assert runs([1, 0, 1, 1]).tolist() == [[0, 1], [2, 4]]
    assert runs(np.array([0.5, 2.0, 0.0, -1.0])).tolist() == [[1, 2], [3, 4]]
    assert runs(np.array([3, 0, 0, 256], dtype=np.int64)).tolist() == [[0, 1]]


def test_spans_end_where_the_next_step_begins():
    t = np.arange(6) * 10.0
    assert run_spans(np.array([0, 1, 1, 0, 1, 1], dtype=bool), t).tolist() == [[10.0, 30.0], [40.0, 60.0]]
