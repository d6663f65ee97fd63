"""Monte Carlo of the roadmap on Dask: when is each capability in place, and with what probability.

Each run draws every mission's slip, launch outcome, landing outcome and the failures of what it delivers from
its own generator ``numpy.random.default_rng([seed, i])``, so run ``i`` is the same whatever the workers or
chunking. Inside a chunk the model is vectorised over runs. A mission launches at the later of its slipped date
and its predecessors' landings; a failed predecessor is not re-flown, so its dependents never launch.

What a mission delivers works from its landing (or orbit insertion) until it fails: dead on arrival with
probability ``p_failure_on_arrival``, otherwise after an exponential lifetime of mean ``mtbf_years``
(constant hazard: P(still working t after arrival) = exp(-t / MTBF)). A capability is in place on a date when
at least one mission providing it has arrived and still works. A landed predecessor that later fails does not
hold back its dependents (they needed its landing, e.g. for site data, not its survival).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from ilrs.campaign.roadmap import CAPABILITIES, Mission, check_roadmap, topological_order
from ilrs.constants import JULIAN_YEAR_D
from ilrs.errors import IlrsError

_EPOCH = date(1970, 1, 1)
_SLIP_CODE = {"none": 0, "triangular": 1, "lognormal": 2}


@dataclass(frozen=True)
class _Plan:
    """The roadmap as arrays in dependency order (picklable, shipped to the workers)."""

    planned: np.ndarray  # (M,) planned launch [day since 1970-01-01]
    kind: np.ndarray  # (M,) slip code
    slip_params: np.ndarray  # (M, 5) min, mode, max, median [day], sigma
    p_launch: np.ndarray
    p_landing: np.ndarray
    transit: np.ndarray  # [day]
    deps: tuple[tuple[int, ...], ...]
    p_doa: np.ndarray  # (M,) probability that what it delivers is dead on arrival
    mtbf: np.ndarray  # (M,) mean life [day]; 0 = never fails


def _plan(missions: tuple[Mission, ...]) -> _Plan:
    index = {m.name: k for k, m in enumerate(missions)}
    return _Plan(
        planned=np.array([(m.launch - _EPOCH).days for m in missions], dtype=float),
        kind=np.array([_SLIP_CODE[m.slip.kind] for m in missions]),
        slip_params=np.array(
            [[m.slip.min_days, m.slip.mode_days, m.slip.max_days, m.slip.median_days, m.slip.sigma] for m in missions],
            dtype=float,
        ).reshape(len(missions), 5),
        p_launch=np.array([m.p_launch for m in missions], dtype=float),
        p_landing=np.array([m.p_landing for m in missions], dtype=float),
        transit=np.array([m.transit_days for m in missions], dtype=float),
        deps=tuple(tuple(index[d] for d in m.depends_on) for m in missions),
        p_doa=np.array([m.p_failure_on_arrival for m in missions], dtype=float),
        mtbf=np.array([m.mtbf_years * JULIAN_YEAR_D for m in missions], dtype=float),
    )


def _triangular_ppf(u: np.ndarray, a: float, c: float, b: float) -> np.ndarray:
    """Inverse CDF of the triangular distribution (min a, mode c, max b)."""
    if b == a:
        return np.full_like(u, a)
    fc = (c - a) / (b - a)
    lo = a + np.sqrt(u * (b - a) * (c - a))
    hi = b - np.sqrt((1.0 - u) * (b - a) * (b - c))
    return np.where(u < fc, lo, hi)


def simulate_chunk(plan: _Plan, seed: int, start: int, stop: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Runs ``start..stop-1``: launch, landing and failure days [day since 1970], shape (runs, M).

    NaN launch/landing = never launched / never landed; failure is +inf when what landed never fails, equal to
    the landing when it was dead on arrival, NaN when it never landed.
    """
    m = len(plan.planned)
    n = stop - start
    u = np.empty((n, 3 * m))
    z = np.empty((n, m))
    f = np.empty((n, 2 * m))
    for k, i in enumerate(range(start, stop)):
        g = np.random.default_rng([seed, i])
        u[k] = g.random(3 * m)
        z[k] = g.standard_normal(m)
        f[k] = g.random(2 * m)  # drawn after the others: runs without failures keep their earlier numbers
    launch = np.full((n, m), np.nan)
    landing = np.full((n, m), np.nan)
    for j in range(m):
        lo, mode, hi, median, sigma = plan.slip_params[j]
        if plan.kind[j] == 1:
            slip = _triangular_ppf(u[:, 3 * j], lo, mode, hi)
        elif plan.kind[j] == 2:
            slip = median * np.exp(sigma * z[:, j])
        else:
            slip = np.zeros(n)
        t = plan.planned[j] + slip
        for d in plan.deps[j]:
            t = np.maximum(t, landing[:, d])  # NaN (predecessor failed) propagates: never launches
        launch[:, j] = t
        ok = (u[:, 3 * j + 1] < plan.p_launch[j]) & (u[:, 3 * j + 2] < plan.p_landing[j])
        landing[:, j] = np.where(ok, t + plan.transit[j], np.nan)
    # exponential lifetime by inversion, -MTBF ln(1 - U); 1 - U is in (0, 1] so the log is finite
    life = np.where(plan.mtbf > 0, -plan.mtbf * np.log1p(-f[:, m:]), np.inf)
    life = np.where(f[:, :m] < plan.p_doa, 0.0, life)
    return launch, landing, landing + life


def _to_dates(days: np.ndarray) -> np.ndarray:
    out = np.full(days.shape, np.datetime64("NaT"), dtype="datetime64[D]")
    finite = np.isfinite(days)
    out[finite] = np.floor(days[finite]).astype("int64").astype("datetime64[D]")
    return out


@dataclass(frozen=True)
class CampaignResult:
    """Monte Carlo outcome. Date arrays are ``datetime64[D]`` of shape (runs,) or (runs, missions); NaT = never.

    ``landing_day`` and ``failure_day`` hold the same runs as float days since 1970-01-01 (NaN: never landed;
    ``failure_day`` +inf: never fails, equal to the landing: dead on arrival).
    """

    missions: tuple[str, ...]  # in dependency order, the columns of ``launch`` and ``landing``
    capabilities: tuple[str, ...]
    in_place: dict[str, np.ndarray]  # capability -> (runs,) first date it works (a landing not dead on arrival)
    launch: np.ndarray  # (runs, M) launch attempt date (NaT: a predecessor failed)
    landing: np.ndarray  # (runs, M) successful landing (or orbit insertion) date
    runs: int
    seed: int
    providers: dict[str, tuple[int, ...]]  # capability -> columns of the missions providing it
    landing_day: np.ndarray  # (runs, M) [day since 1970-01-01]
    failure_day: np.ndarray  # (runs, M) [day since 1970-01-01]

    def _working(self, cols, by) -> np.ndarray:
        """(runs,) True where a mission of ``cols`` has arrived by the day ``by`` and still works on it."""
        # numpy's stubs type a difference of datetime64[D] as datetime.timedelta; at run time it is a timedelta64
        day = float((np.datetime64(by, "D") - np.datetime64(_EPOCH, "D")).astype(int))  # type: ignore[attr-defined]
        arrived = np.floor(self.landing_day[:, list(cols)]) <= day  # NaN compares False: never arrived
        alive = self.failure_day[:, list(cols)] > day
        return (arrived & alive).any(axis=1)

    def probability_by(self, capability: str, by: date | str | np.datetime64) -> float:
        """Fraction of runs with ``capability`` in place on ``by``: delivered on or before it and still working
        (without failures, the same as delivered by then)."""
        if capability not in self.in_place:
            raise IlrsError(
                f"unknown capability {capability!r}",
                source="probability_by",
                hint="known: " + ", ".join(self.capabilities),
            )
        return float(np.mean(self._working(self.providers[capability], by)))

    def mission_working(self, mission: str, by: date | str | np.datetime64) -> float:
        """Fraction of runs in which what ``mission`` delivers has arrived by ``by`` and still works on it."""
        if mission not in self.missions:
            raise IlrsError(
                f"unknown mission {mission!r}", source="mission_working", hint="known: " + ", ".join(self.missions)
            )
        return float(np.mean(self._working((self.missions.index(mission),), by)))

    def summary(self, by: date = date(2035, 12, 31)) -> list[dict]:
        """One row per capability: P(in place and working on ``by``), P(ever working), median first date of the
        runs that got it."""
        rows = []
        for c in self.capabilities:
            d = self.in_place[c]
            got = np.sort(d[~np.isnat(d)])
            rows.append(
                {
                    "capability": c,
                    f"p_by_{by.isoformat()}": self.probability_by(c, by),
                    "p_ever": len(got) / self.runs,
                    "median": str(got[len(got) // 2]) if len(got) else None,
                }
            )
        return rows

    def table(self, by: date = date(2035, 12, 31)) -> str:
        """The summary as fixed-width text."""
        lines = [f"{'capability':<16} {'P(by ' + by.isoformat() + ')':>18} {'P(ever)':>8}  median (if ever)"]
        for r in self.summary(by):
            lines.append(
                f"{r['capability']:<16} {r[f'p_by_{by.isoformat()}']:>18.3f} {r['p_ever']:>8.3f}  {r['median'] or '-'}"
            )
        return "\n".join(lines)


def simulate(
    missions: tuple[Mission, ...] | list[Mission],
    runs: int,
    seed: int,
    *,
    scheduler: str | None = None,
    workers: int = 2,
    chunk: int | None = None,
    client: Any = None,
    progress: Callable[[float], None] | None = None,
) -> CampaignResult:
    """Monte Carlo of ``runs`` campaigns.

    Parameters
    ----------
    missions : the roadmap (checked with ``check_roadmap`` first).
    runs : number of Monte Carlo runs.
    seed : non-negative integer; run ``i`` uses ``default_rng([seed, i])``.
    scheduler : ``None`` starts a ``LocalCluster(n_workers=workers, processes=True)`` and closes it afterwards;
        ``"tcp://host:port"`` uses an existing cluster; ``"local-sync"`` runs in this process (no cluster),
        as does ``workers=0``.
    workers : worker processes of the local cluster.
    chunk : runs per task; default splits the runs into about four tasks per worker.
    client : a connected Dask client to run on (``ilrs.services.executor.dask_client`` chooses it); takes
        precedence over ``scheduler`` and ``workers``.
    progress : called with the fraction of runs done as chunks finish.
    """
    missions = tuple(missions)
    check_roadmap(missions)
    if runs < 1:
        raise IlrsError(f"runs {runs} must be >= 1", source="simulate.runs")
    if not (isinstance(seed, int | np.integer) and seed >= 0):
        raise IlrsError(f"seed {seed!r} must be a non-negative integer", source="simulate.seed")
    order = topological_order(missions)
    plan = _plan(order)
    if chunk is None:
        chunk = max(1, math.ceil(runs / (4 * max(workers, 1))))
    if chunk < 1:
        raise IlrsError(f"chunk {chunk} must be >= 1", source="simulate.chunk")
    bounds = [(a, min(a + chunk, runs)) for a in range(0, runs, chunk)]

    if client is not None:
        parts = _submit(client, plan, int(seed), bounds, progress)
    elif scheduler == "local-sync" or (scheduler is None and workers == 0):
        parts = []
        for a, b in bounds:
            parts.append(simulate_chunk(plan, int(seed), a, b))
            if progress:
                progress(b / runs)
    else:
        parts = _run_distributed(plan, int(seed), bounds, scheduler, workers)
    launch = np.concatenate([p[0] for p in parts])
    landing = np.concatenate([p[1] for p in parts])
    failure = np.concatenate([p[2] for p in parts])

    caps = tuple(c for c in CAPABILITIES if any(c in m.capabilities for m in order))
    in_place, providers = {}, {}
    for c in caps:
        cols = tuple(k for k, m in enumerate(order) if c in m.capabilities)
        providers[c] = cols
        # earliest landing that works on arrival (dead on arrival: failure == landing); none -> NaN
        sub = np.where(failure[:, cols] > landing[:, cols], landing[:, cols], np.inf)
        earliest = sub.min(axis=1)
        in_place[c] = _to_dates(np.where(np.isinf(earliest), np.nan, earliest))
    return CampaignResult(
        tuple(m.name for m in order),
        caps,
        in_place,
        _to_dates(launch),
        _to_dates(landing),
        runs,
        int(seed),
        providers,
        landing,
        failure,
    )


#: How long to wait for a remote Dask scheduler to answer [s] (distributed's default is 30 s).
SCHEDULER_TIMEOUT_S = 10.0


def _run_distributed(
    plan: _Plan, seed: int, bounds: list[tuple[int, int]], scheduler: str | None, workers: int
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    from distributed import Client, LocalCluster

    if scheduler is None:
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0") as cl:
            with Client(cl) as client:
                return _submit(client, plan, seed, bounds)
    if not scheduler.startswith(("tcp://", "tls://")):
        raise IlrsError(
            f"unknown scheduler {scheduler!r}",
            source="simulate.scheduler",
            hint="None, 'local-sync', 'tcp://host:port' or 'tls://host:port'",
        )
    try:
        client = Client(scheduler, timeout=f"{SCHEDULER_TIMEOUT_S}s")
    except (OSError, TimeoutError) as exc:
        raise IlrsError(
            f"no Dask scheduler answered at {scheduler} within {SCHEDULER_TIMEOUT_S:g} s ({exc.__class__.__name__})",
            source="simulate.scheduler",
            hint="start one there (`dask scheduler` and `dask worker ADDRESS`), check the address and port, or "
            "leave the scheduler out for a local cluster",
        ) from None
    with client:
        return _submit(client, plan, seed, bounds)


def _submit(
    client, plan: _Plan, seed: int, bounds: list[tuple[int, int]], progress: Callable[[float], None] | None = None
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    from distributed import as_completed

    plan_f = client.scatter(plan, broadcast=True)
    futures = [client.submit(simulate_chunk, plan_f, seed, a, b, pure=False) for a, b in bounds]
    if progress is None:
        return client.gather(futures)
    index = {f.key: i for i, f in enumerate(futures)}
    parts: list = [None] * len(futures)
    done = 0
    for fut in as_completed(futures):
        i = index[fut.key]
        parts[i] = fut.result()
        done += bounds[i][1] - bounds[i][0]
        progress(done / bounds[-1][1])
    return parts
