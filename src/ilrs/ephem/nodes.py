"""SPICE quantities sampled on a fixed time grid, cached, and interpolated by cubic Hermite polynomials.

The fast paths of :mod:`ilrs.ephem.directions` and :mod:`ilrs.ephem.ground_stations` share this: SPICE is called
only at the nodes ``k * spacing`` (with the values' time derivatives), and any epoch between two nodes is
interpolated. Nodes lie on a fixed grid, so a result never depends on the other epochs of a request.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ilrs.ephem.kernels import SPICE_LOCK


@dataclass(frozen=True)
class NodeSet:
    """Values and their time derivatives at the nodes ``k * spacing`` for sorted integer ``k``."""

    k: np.ndarray  # (m,)
    values: np.ndarray  # (m, q)
    rates: np.ndarray  # (m, q), per second


class HermiteNodes:
    """Nodes of one set of quantities, evaluated by ``evaluate(k) -> (values, rates)`` and cached.

    ``cost_node_s`` is the measured SPICE time of one node, used to decide whether interpolating a request
    costs less than calling SPICE per epoch (:meth:`cheaper_than`).
    """

    def __init__(
        self,
        spacing_s: float,
        evaluate: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
        cost_node_s: float,
        cache_size: int = 4,
    ):
        self.spacing_s = float(spacing_s)
        self._evaluate = evaluate
        self.cost_node_s = cost_node_s
        self._cache_size = cache_size
        self._cache: OrderedDict[tuple[int, int], NodeSet] = OrderedDict()

    def needed(self, et: np.ndarray) -> np.ndarray:
        """The sorted node indices that interpolating at ``et`` uses."""
        k = np.floor(et / self.spacing_s).astype(np.int64)
        return np.unique(np.concatenate([k, k + 1]))

    def _cached(self, lo: int, hi: int) -> NodeSet | None:
        with SPICE_LOCK:
            for (c_lo, c_hi), nodes in self._cache.items():
                if c_lo <= lo and hi <= c_hi:
                    self._cache.move_to_end((c_lo, c_hi))
                    return nodes
        return None

    def clear(self) -> None:
        with SPICE_LOCK:
            self._cache.clear()

    def _build(self, k: np.ndarray) -> NodeSet:
        values, rates = self._evaluate(k)
        return NodeSet(k=k, values=values, rates=rates)

    def nodes_for(self, k_needed: np.ndarray) -> NodeSet:
        """Node values for the sorted unique indices ``k_needed``, from the cache when it holds them."""
        lo, hi = int(k_needed[0]), int(k_needed[-1])
        nodes = self._cached(lo, hi)
        if nodes is not None:
            return nodes
        if hi - lo + 1 > 2 * k_needed.size:  # scattered epochs: evaluate just the nodes they use, do not cache
            return self._build(k_needed)
        nodes = self._build(np.arange(lo, hi + 1, dtype=np.int64))
        with SPICE_LOCK:
            self._cache[(lo, hi)] = nodes
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return nodes

    def cheaper_than(self, et: np.ndarray, spice_cost_s: float) -> bool:
        """True when interpolating ``et`` costs less SPICE time than ``spice_cost_s``: dense or cached epochs."""
        needed = self.needed(et)
        if self._cached(int(needed[0]), int(needed[-1])) is not None:
            return True
        return min(needed.size, int(needed[-1] - needed[0]) + 1) * self.cost_node_s < spice_cost_s

    def interpolate(self, et: np.ndarray, nodes: NodeSet | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Cubic Hermite values at ``et``, and the derivative of the interpolant, each (n, q)."""
        if nodes is None:
            nodes = self.nodes_for(self.needed(et))
        h = self.spacing_s
        k = np.floor(et / h).astype(np.int64)
        s = ((et - k * h) / h)[:, None]
        i0 = np.searchsorted(nodes.k, k)
        i1 = np.searchsorted(nodes.k, k + 1)
        p0, p1 = nodes.values[i0], nodes.values[i1]
        m0, m1 = nodes.rates[i0] * h, nodes.rates[i1] * h
        s2 = s * s
        s3 = s2 * s
        value = (2 * s3 - 3 * s2 + 1) * p0 + (s3 - 2 * s2 + s) * m0 + (3 * s2 - 2 * s3) * p1 + (s3 - s2) * m1
        rate = ((6 * s2 - 6 * s) * (p0 - p1) + (3 * s2 - 4 * s + 1) * m0 + (3 * s2 - 2 * s) * m1) / h
        return value, rate
