"""Adaptive multi-objective search: NSGA-II (Deb et al. 2002, IEEE TEC 6(2)) from pymoo over the space's
discrete levels, each twin run asked of an evaluator that remembers what it has already run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ilrs.trade.designs import Evaluation
from ilrs.trade.space import Space

#: Objective and constraint value given to a design that is not a valid scenario (worse than any real one).
INVALID = 1e30


def nsga2(
    space: Space,
    evaluate: Callable[[list[tuple[int, ...]]], list[Evaluation]],
    population: int,
    generations: int,
    seed: int,
) -> list[tuple[int, ...]]:
    """Run NSGA-II with integer variables (one level index per parameter; SBX and polynomial mutation rounded
    to integers) and return every distinct design it evaluated, in the order first asked.

    ``evaluate`` gets each generation's new designs in one call, so a Dask evaluator runs them in parallel.
    """
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.core.problem import Problem
    from pymoo.operators.crossover.sbx import SBX
    from pymoo.operators.mutation.pm import PM
    from pymoo.operators.repair.rounding import RoundingRepair
    from pymoo.operators.sampling.rnd import IntegerRandomSampling
    from pymoo.optimize import minimize

    dims = space.dimensions()
    upper = np.array([len(levels) - 1 for _, levels in dims], dtype=float)
    sign = np.array([1.0 if o.sense == "min" else -1.0 for o in space.objectives])
    n_constraints = max(1, sum((c.min is not None) + (c.max is not None) for c in space.constraints))
    seen: dict[tuple[int, ...], Evaluation] = {}

    def constraint_values(m: dict[str, float]) -> list[float]:
        g = []
        for c in space.constraints:
            if c.min is not None:
                g.append(c.min - m[c.metric])
            if c.max is not None:
                g.append(m[c.metric] - c.max)
        return g or [-1.0]

    class TradeProblem(Problem):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(
                n_var=len(dims), n_obj=len(space.objectives), n_ieq_constr=n_constraints, xl=0.0, xu=upper, vtype=int
            )

        def _evaluate(self, x: np.ndarray, out: dict[str, Any], *args: Any, **kwargs: Any) -> None:
            rows = [tuple(int(round(v)) for v in r) for r in np.atleast_2d(x)]
            new = list(dict.fromkeys(r for r in rows if r not in seen))
            if new:
                for r, ev in zip(new, evaluate(new), strict=True):
                    seen[r] = ev
            f, g = [], []
            for r in rows:
                ev = seen[r]
                if ev.metrics is None:
                    f.append([INVALID] * sign.size)
                    g.append([INVALID] * n_constraints)
                else:
                    f.append(list(np.array([ev.metrics[o.metric] for o in space.objectives]) * sign))
                    g.append(constraint_values(ev.metrics))
            out["F"] = np.array(f, dtype=float)
            out["G"] = np.array(g, dtype=float)

    algorithm = NSGA2(
        pop_size=population,
        sampling=IntegerRandomSampling(),
        crossover=SBX(prob=0.9, eta=15, vtype=float, repair=RoundingRepair()),
        mutation=PM(eta=20, vtype=float, repair=RoundingRepair()),
        eliminate_duplicates=True,
    )
    minimize(TradeProblem(), algorithm, ("n_gen", generations), seed=seed, verbose=False)
    return list(seen)
