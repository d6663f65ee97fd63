"""Pareto sorting against the definition pair by pair; main effects against an additive model's exact shares."""

from __future__ import annotations

import numpy as np
import pytest

from ilrs.trade.pareto import brute_force_front, hypervolume, main_effects, non_dominated


@pytest.mark.parametrize("seed", range(5))
def test_non_dominated_equals_brute_force(seed):
    rng = np.random.default_rng(seed)
    # integer objectives so that ties and duplicates occur
    f = rng.integers(0, 6, size=(60, 2 + seed % 2)).astype(float)
    assert set(np.flatnonzero(non_dominated(f))) == brute_force_front(f)


def test_hypervolume_of_a_staircase():
    # two points in the unit square, reference 1.1: 1.1*1.1 - uncovered parts
    f = np.array([[0.0, 1.0], [1.0, 0.0]])
    hv = hypervolume(f, np.array([0.0, 0.0]), np.array([1.0, 1.0]))
    assert hv == pytest.approx(1.1 * 0.1 + 0.1 * 1.0, rel=1e-12)


def test_main_effects_of_an_additive_model_are_its_variance_shares():
    a, b, c = np.array([0.0, 3.0, 6.0]), np.array([0.0, 1.0]), np.array([5.0, 5.0])
    levels = np.array([(i, j, k) for i in range(3) for j in range(2) for k in range(2)])
    y = a[levels[:, 0]] + b[levels[:, 1]] + c[levels[:, 2]]
    shares = main_effects(levels, y)
    va, vb = np.var(a), np.var(b)
    assert shares == pytest.approx([va / (va + vb), vb / (va + vb), 0.0], abs=1e-12)
