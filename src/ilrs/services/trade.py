"""Trade studies as a use case: the design space loaded and checked, each distinct site environment computed once
and shared with the workers, the designs run through the twin in process or on Dask, and the results written.

The pure parts (space, designs, fronts, search) are in :mod:`ilrs.trade`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ilrs.config import PACKAGE_DATA
from ilrs.errors import IlrsError
from ilrs.scenario import schema as sc
from ilrs.services.executor import dask_client
from ilrs.services.scenarios import MAX_SITE_CELL_M, site_latlon, validated_scenario
from ilrs.station.elements import environment_need
from ilrs.station.environment import SiteEnvironment
from ilrs.station.twin import environment_heights
from ilrs.trade import pareto
from ilrs.trade.designs import Evaluation, apply_design, evaluate_batch, memo_order, objective_matrix, violations
from ilrs.trade.space import METRICS, PARAMETERS, SiteChoice, Space, grid, latin_hypercube, load_space

Progress = Callable[[int, int], None]
#: Twin cost per time step and design used to decide whether a cluster pays [s] (measured: ~1 s for the
#: 8-year, 10-minute built-in scenario on this machine's cores).
SECONDS_PER_STEP = 2.4e-6
METHODS = ("grid", "lhs", "nsga2")
#: Built-in design spaces (``--space NAME``).
SPACES_DIR = PACKAGE_DATA / "scenarios" / "spaces"


# ---------------------------------------------------------------- loading and checks


def load_study(
    scenario: str | Path | sc.Scenario | None,
    space_path: str | Path,
    ranking: Callable[[sc.Scenario, int], list[Any]] | None = None,
) -> tuple[sc.Scenario, Space]:
    """The base scenario (a file, a built-in name or a Scenario already loaded) and the space, checked together
    before any twin runs: every parameter sets some element, every named element exists, every candidate site
    stands on a station-grade DEM. ``top = N`` sites come from ``ranking(base, N)`` (default
    :func:`site_ranking`)."""
    space_path = resolve_space(space_path)
    space = load_space(space_path)
    if isinstance(scenario, sc.Scenario):
        base = scenario
    else:
        base = validated_scenario(scenario if scenario is not None else space.scenario)
    src = str(space_path)
    space = expand_top_sites(base, space, src, ranking or site_ranking)
    names = {e.name for e in base.elements}
    for i, p in enumerate(space.parameters):
        where = f"{src}: parameters[{i}] ({p.parameter})"
        for n in p.elements or []:
            if n not in names:
                raise IlrsError(f"element {n!r} is not in the scenario {base.name!r}", source=where)
        kind = PARAMETERS[p.parameter][0]
        if kind is not None and not any(
            e.kind == kind and (p.elements is None or e.name in p.elements) for e in base.elements
        ):
            raise IlrsError(
                f"the scenario {base.name!r} has no {kind} element for {p.parameter} to set",
                source=where,
                hint=f"add a {kind} element to the scenario or drop the parameter",
            )
        if p.parameter == "site":
            for v in p.levels():
                check_site(v, where)
    try:
        apply_design(base, space, tuple(0 for _ in space.parameters))
    except ValueError as exc:
        raise IlrsError(f"[base] or the first design is not a valid scenario: {exc}", source=src) from None
    return base, space


def site_ranking(base: sc.Scenario, top: int) -> list[Any]:
    """The ``top`` best sites of ``ilrs site rank`` for a scenario: the region's maps over its analysis period
    at its arrays' and antennas' heights (cached on disk), ranked (:func:`ilrs.services.site_maps.rank_sites`)."""
    from ilrs.services.site_maps import rank_sites, scenario_site_maps

    return rank_sites(scenario_site_maps(base), top=top)


def expand_top_sites(
    base: sc.Scenario, space: Space, src: str, ranking: Callable[[sc.Scenario, int], list[Any]]
) -> Space:
    """``top = N`` site choices replaced by the N best sites of ``ranking(base, N)`` (objects with ``rank``,
    ``lat_deg``, ``lon_deg``), best first, each with its rank; a site already listed by the same coordinates is
    kept once."""
    tops = [v.top for p in space.parameters for v in p.levels() if isinstance(v, SiteChoice) and v.top is not None]
    if not tops:
        return space
    ranked = ranking(base, max(tops))
    params = []
    for i, p in enumerate(space.parameters):
        if p.parameter != "site" or not any(v.top is not None for v in p.levels()):
            params.append(p)
            continue
        values: list[SiteChoice] = []
        for v in p.levels():
            if v.top is not None and len(ranked) < v.top:
                raise IlrsError(
                    f"the ranking has only {len(ranked)} sites, fewer than top = {v.top}",
                    source=f"{src}: parameters[{i}] (site)",
                    hint="ask for fewer, or widen the analysis ([analysis] in the scenario)",
                )
            new = (
                [SiteChoice(lat_deg=r.lat_deg, lon_deg=r.lon_deg, rank=r.rank) for r in ranked[: v.top]]
                if v.top is not None
                else [v]
            )
            for n in new:
                here = (n.name, n.lat_deg, n.lon_deg)
                if all((x.name, x.lat_deg, x.lon_deg) != here for x in values):
                    values.append(n)
        params.append(p.model_copy(update={"values": values}))
    return space.model_copy(update={"parameters": params})


def builtin_spaces() -> list[str]:
    return sorted(p.stem for p in SPACES_DIR.glob("*.toml"))


def resolve_space(name_or_path: str | Path) -> Path:
    """A design-space file from a path, or the built-in space of that name."""
    p = Path(name_or_path)
    if p.exists():
        return p
    builtin = SPACES_DIR / f"{name_or_path}.toml"
    if builtin.exists():
        return builtin
    raise IlrsError(
        f"no design-space file or built-in space named {str(name_or_path)!r}",
        source="--space",
        hint="built-in spaces: " + ", ".join(builtin_spaces()),
    )


def check_site(v: SiteChoice, where: str) -> None:
    """A candidate site must be known and stand on a DEM fine enough for a station's horizon."""
    from ilrs.services.data import default_mosaic
    from ilrs.terrain.sites import site_by_key

    if v.name is not None:
        try:
            named = site_by_key(v.name)  # unknown names raise here, with the known ones in the hint
        except IlrsError as exc:
            raise IlrsError(str(exc), source=where) from None
        lat, lon = named.lat_deg, named.lon_deg
    else:
        lat, lon = float(v.lat_deg or 0.0), float(v.lon_deg or 0.0)
    mosaic = default_mosaic()
    layer = int(mosaic.layer_index_latlon(np.array([lat]), np.array([lon]))[0])
    if layer < 0 or mosaic.layers[layer].cell_size_m > MAX_SITE_CELL_M:
        raise IlrsError(
            f"site {v.label()} ({lat:.4f}, {lon:.4f}) lies outside every embedded south-pole DEM (10 m, 240 m)",
            source=where,
            hint="choose a site south of about 84 S, or a named site (ilrs site list)",
        )


def environment_key(s: sc.Scenario) -> tuple[Any, ...]:
    """What a scenario's site environment depends on: the site, the run's grid, the observer heights and what
    the links need (ground stations, the relay's orbit and arrival). Designs with equal keys share one."""
    needs = tuple(repr(environment_need(e)) for e in s.elements if environment_need(e) is not None)
    return (site_latlon(s), s.start, s.end, s.step, environment_heights(s), needs)


# ---------------------------------------------------------------- execution


@dataclass
class Runner:
    """Where the designs run: in this process, on a LocalCluster, or on a scheduler by address."""

    mode: str
    client: Any = None
    workers: int = 0
    #: what is already on the workers (by ``id`` of the object in this process): a search's later generations
    #: reuse the scattered environments instead of sending them again
    scattered: dict[int, Any] = field(default_factory=dict)

    def _on_workers(self, obj: Any) -> Any:
        if id(obj) not in self.scattered:
            self.scattered[id(obj)] = (obj, self.client.scatter(obj, broadcast=True, hash=False))
        return self.scattered[id(obj)][1]

    def run(
        self,
        groups: list[tuple[SiteEnvironment, list[list[tuple[int, ...]]]]],
        base: sc.Scenario,
        space: Space,
        progress: Progress | None = None,
    ) -> dict[tuple[int, ...], Evaluation]:
        """Evaluate batches of designs, each group sharing one environment; results keyed by design."""
        total = sum(len(b) for _, batches in groups for b in batches)
        done = 0
        out: dict[tuple[int, ...], Evaluation] = {}
        if total == 0:  # everything asked for is known already (a search over a finished grid)
            return out
        if self.client is None:
            for env, batches in groups:
                for batch in batches:
                    for ev in evaluate_batch(env, base, space, batch):
                        out[ev.levels] = ev
                    done += len(batch)
                    if progress:
                        progress(done, total)
            return out
        from distributed import as_completed

        futures = []
        base_f, space_f = self._on_workers(base), self._on_workers(space)
        for env, batches in groups:
            # the environment travels to each worker once, not with every task
            env_f = self._on_workers(env)
            futures += [
                self.client.submit(evaluate_batch, env_f, base_f, space_f, batch, pure=False) for batch in batches
            ]
        for fut in as_completed(futures):
            res = fut.result()
            for ev in res:
                out[ev.levels] = ev
            done += len(res)
            if progress:
                progress(done, total)
        return out


@contextmanager
def runner(workers: int | None, scheduler: str | None, serial_seconds: float) -> Iterator[Runner]:
    """Where a study runs (:func:`ilrs.services.executor.dask_client`)."""
    with dask_client(workers, scheduler, serial_seconds) as (mode, client, n):
        yield Runner(mode, client, n)


# ---------------------------------------------------------------- the study


@dataclass
class Evaluator:
    """Runs designs through the twin on a :class:`Runner`, each distinct environment built once, each design
    run once (a search that asks again gets the remembered result)."""

    base: sc.Scenario
    space: Space
    run_on: Runner
    progress: Progress | None = None
    planned: int = 0  #: twin runs expected over the study (the progress bar's total)
    runs: int = 0
    seen: dict[tuple[int, ...], Evaluation] = field(default_factory=dict)
    environments: dict[tuple[Any, ...], SiteEnvironment] = field(default_factory=dict)

    def __call__(self, designs: list[tuple[int, ...]]) -> list[Evaluation]:
        from ilrs.services.twin import site_environment

        todo: dict[tuple[Any, ...], list[tuple[int, ...]]] = {}
        for levels in dict.fromkeys(designs):
            if levels in self.seen:
                continue
            try:
                s = apply_design(self.base, self.space, levels)
            except ValueError as exc:
                self.seen[levels] = Evaluation(levels, None, f"not a valid scenario: {exc}")
                continue
            key = environment_key(s)
            if key not in self.environments:
                self.environments[key] = site_environment(s)
            todo.setdefault(key, []).append(levels)
        groups = []
        order = memo_order(self.base, self.space)
        for key, items in todo.items():
            items.sort(key=order)  # neighbours share element definitions: the workers' memos hit (no result changes)
            per = max(1, min(16, -(-len(items) // (4 * max(1, self.run_on.workers)))))
            groups.append((self.environments[key], [items[i : i + per] for i in range(0, len(items), per)]))
        before = self.runs

        def tick(done: int, total: int) -> None:
            # one bar over the whole study: a search's later generations continue where the first ones ended
            if self.progress:
                self.progress(before + done, max(self.planned, before + total))

        self.seen.update(self.run_on.run(groups, self.base, self.space, tick))
        self.runs += sum(len(items) for items in todo.values())
        return [self.seen[d] for d in designs]


@dataclass(frozen=True)
class SearchCheck:
    """NSGA-II run on the same space after a grid study, its designs looked up in the grid's results: how many
    twin runs it would have needed on its own, and how much of the grid's Pareto front it recovers (hypervolume
    ratio between the grid's feasible ideal and nadir points; 1 = the whole front)."""

    method: str
    evaluations: int  #: distinct designs the search asked for (its twin runs on its own)
    grid_evaluations: int
    hypervolume_ratio: float
    front_found: int  #: grid front designs the search found
    grid_front: int


@dataclass(frozen=True)
class TradeResult:
    """A study's outcome: every design evaluated, which are feasible and why not, the Pareto front among the
    feasible ones, and the parameters' main effects on each objective."""

    scenario: sc.Scenario
    space: Space
    method: str
    mode: str
    levels: np.ndarray  #: (n, p) level index of each parameter per design
    evaluations: tuple[Evaluation, ...]
    feasible: np.ndarray  #: (n,)
    reasons: tuple[str, ...]  #: why each infeasible design fails ("" when feasible)
    on_front: np.ndarray  #: (n,) on the Pareto front of the feasible designs
    sensitivity: dict[str, list[tuple[str, float]]]  #: objective -> (parameter, main-effect share), largest first
    twin_runs: int
    environments: int
    seconds: float
    #: a grid study's check of the adaptive search against it (None for other methods)
    search: SearchCheck | None = None

    def values(self, i: int) -> dict[str, Any]:
        """Design ``i``'s parameter values by label."""
        out = {}
        for (label, levels), j in zip(self.space.dimensions(), self.levels[i], strict=True):
            v = levels[int(j)]
            out[label] = v.label() if isinstance(v, SiteChoice) else v
        return out

    def metric(self, name: str) -> np.ndarray:
        return np.array([e.metrics.get(name, np.nan) if e.metrics else np.nan for e in self.evaluations])

    def front_order(self) -> list[int]:
        """Front designs, best in the first objective first."""
        idx = np.flatnonzero(self.on_front)
        o = self.space.objectives[0]
        key = self.metric(o.metric)[idx] * (1 if o.sense == "min" else -1)
        return [int(i) for i in idx[np.argsort(key, kind="stable")]]

    def hypervolume(self, ideal: np.ndarray, nadir: np.ndarray) -> float:
        rows = [self.evaluations[i].metrics for i in np.flatnonzero(self.on_front)]
        return pareto.hypervolume(objective_matrix(self.space, [r for r in rows if r]), ideal, nadir)

    def as_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario.name,
            "space": self.space.name,
            "method": self.method,
            "ran": self.mode,
            "designs": len(self.evaluations),
            "twin_runs": self.twin_runs,
            "environments": self.environments,
            "feasible": int(self.feasible.sum()),
            "infeasible": int((~self.feasible).sum()),
            "front": [
                {"design": i, **self.values(i), **{o.metric: self.metric(o.metric)[i] for o in self.space.objectives}}
                for i in self.front_order()
            ],
            "infeasible_reasons": {str(i): r for i, r in enumerate(self.reasons) if r},
            "sensitivity": {k: [{"parameter": p, "share": s} for p, s in v] for k, v in self.sensitivity.items()},
            "seconds": self.seconds,
            "search_check": asdict(self.search) if self.search is not None else None,
        }


def designs_for(space: Space, method: str) -> list[tuple[int, ...]]:
    if method == "grid":
        return [d.levels for d in grid(space)]
    if method == "lhs":
        return [d.levels for d in latin_hypercube(space, space.samples, space.seed)]
    raise IlrsError(f"unknown method {method!r}", source="--method", hint=", ".join(METHODS))


def run_trade(
    scenario: str | Path | sc.Scenario | None,
    space_path: str | Path,
    method: str = "grid",
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Progress | None = None,
    on_mode: Callable[[str], None] | None = None,
) -> TradeResult:
    """Run a trade study: load and check, evaluate the designs of ``method`` (grid, lhs or nsga2), then the
    feasible split, the Pareto front and the main effects."""
    if method not in METHODS:
        raise IlrsError(f"unknown method {method!r}", source="--method", hint=", ".join(METHODS))
    base, space = load_study(scenario, space_path)
    t0 = time.perf_counter()
    first = apply_design(base, space, tuple(0 for _ in space.parameters))
    from ilrs.ephem.time import parse_step

    steps = (first.end - first.start).total_seconds() / parse_step(first.step)
    n_planned = (
        space.size()
        if method == "grid"
        else (space.samples if method == "lhs" else space.population * space.generations)
    )
    with runner(workers, scheduler, n_planned * steps * SECONDS_PER_STEP) as where:
        if on_mode:
            on_mode(where.mode)
        ev = Evaluator(base, space, where, progress, planned=n_planned)
        if method == "nsga2":
            from ilrs.trade.search import nsga2

            designs = nsga2(space, ev, space.population, space.generations, space.seed)
        else:
            designs = designs_for(space, method)
            ev(designs)
        evaluations = tuple(ev.seen[d] for d in designs)
        seconds = time.perf_counter() - t0
        result = summarise(base, space, method, where.mode, evaluations, len(ev.environments), seconds)
        if method == "grid" and space.size() > space.population:
            result = replace(result, search=search_check(result, ev))
    return result


def search_check(grid_result: TradeResult, ev: Evaluator) -> SearchCheck:
    """NSGA-II on the grid's space with the grid's results (every design it asks for is already evaluated, so
    no twin runs again): its evaluations and the share of the grid front's hypervolume it recovers."""
    from ilrs.trade.search import nsga2

    space = grid_result.space
    asked = nsga2(space, ev, space.population, space.generations, space.seed)
    found = summarise(grid_result.scenario, space, "nsga2", grid_result.mode, tuple(ev.seen[d] for d in asked), 0, 0.0)
    feasible = [e.metrics for e, ok in zip(grid_result.evaluations, grid_result.feasible, strict=True) if ok]
    ratio = float("nan")
    if feasible:
        f = objective_matrix(space, feasible)  # type: ignore[arg-type]
        ideal, nadir = f.min(axis=0), f.max(axis=0)
        full = grid_result.hypervolume(ideal, nadir)
        ratio = found.hypervolume(ideal, nadir) / full if full > 0 else 1.0
    grid_front = {grid_result.evaluations[i].levels for i in np.flatnonzero(grid_result.on_front)}
    return SearchCheck(
        method="nsga2",
        evaluations=len(asked),
        grid_evaluations=len(grid_result.evaluations),
        hypervolume_ratio=ratio,
        front_found=len(grid_front & set(asked)),
        grid_front=len(grid_front),
    )


def summarise(
    base: sc.Scenario,
    space: Space,
    method: str,
    mode: str,
    evaluations: tuple[Evaluation, ...],
    environments: int,
    seconds: float,
) -> TradeResult:
    reasons = []
    for e in evaluations:
        if e.metrics is None:
            reasons.append(e.error or "not evaluated")
        else:
            reasons.append("; ".join(violations(space, e.metrics)))
    feasible = np.array([r == "" for r in reasons], dtype=bool)
    on_front = np.zeros(len(evaluations), dtype=bool)
    idx = np.flatnonzero(feasible)
    if idx.size:
        f = objective_matrix(space, [evaluations[i].metrics for i in idx])  # type: ignore[misc]
        on_front[idx[pareto.non_dominated(f)]] = True
    levels = np.array([e.levels for e in evaluations], dtype=np.int64).reshape(-1, len(space.parameters))
    labels = [label for label, _ in space.dimensions()]
    sensitivity = {}
    for o in space.objectives:
        y = np.array([e.metrics[o.metric] if e.metrics else np.nan for e in evaluations])
        shares = pareto.main_effects(levels, y) if len(evaluations) else np.zeros(len(labels))
        sensitivity[o.metric] = sorted(zip(labels, map(float, shares), strict=True), key=lambda t: -t[1])
    return TradeResult(
        scenario=base,
        space=space,
        method=method,
        mode=mode,
        levels=levels,
        evaluations=evaluations,
        feasible=feasible,
        reasons=tuple(reasons),
        on_front=on_front,
        sensitivity=sensitivity,
        twin_runs=sum(e.metrics is not None for e in evaluations),
        environments=environments,
        seconds=seconds,
    )


UNITS = {k: v[0] for k, v in METRICS.items()} | {"survives": "1"}


def results_dataset(result: TradeResult) -> Any:
    """The results table as an xarray Dataset on a ``design`` dimension: each parameter's value (``param_*``),
    every metric, ``feasible``, ``on_front`` and the ``reason`` a design fails, units in the attributes."""
    import xarray as xr

    n = len(result.evaluations)
    data: dict[str, Any] = {}
    for j, (label, levels) in enumerate(result.space.dimensions()):
        vals = [levels[int(i)] for i in result.levels[:, j]]
        name = "param_" + label.replace("[", "_").replace("]", "").replace(",", "_")
        unit = PARAMETERS[result.space.parameters[j].parameter][1]
        if all(isinstance(v, SiteChoice) for v in vals):
            data[name] = ("design", np.array([v.label() for v in vals], dtype=object), {"units": unit, "label": label})
        else:
            data[name] = ("design", np.array(vals, dtype=float), {"units": unit, "label": label})
    for m in [*METRICS, "survives"]:
        data[m] = ("design", result.metric(m), {"units": UNITS[m]})
    data["feasible"] = ("design", result.feasible.astype(np.int8), {"units": "1"})
    data["on_front"] = ("design", result.on_front.astype(np.int8), {"units": "1"})
    data["reason"] = ("design", np.array(result.reasons, dtype=object), {"long_name": "why the design is infeasible"})
    ds = xr.Dataset(
        data,
        coords={"design": np.arange(n)},
        attrs={
            "scenario": result.scenario.name,
            "space": result.space.name,
            "method": result.method,
            "ran": result.mode,
            "objectives": ", ".join(f"{o.sense} {o.metric}" for o in result.space.objectives),
        },
    )
    return ds


def write_results(result: TradeResult, out_dir: str | Path, best: int = 5) -> dict[str, Path]:
    """The results table (NetCDF, :func:`results_dataset`) and the best front designs as scenario files that
    ``ilrs twin`` and ``ilrs compare`` read; every file written atomically."""
    from ilrs.iotools.atomic import atomic_path, atomic_write_text
    from ilrs.trade.toml_out import scenario_toml

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ds = results_dataset(result)
    paths = {"table": out / "designs.nc"}
    with atomic_path(paths["table"]) as tmp:
        ds.to_netcdf(tmp, engine="h5netcdf")
    requests = result.scenario.requests_path()
    for rank, i in enumerate(result.front_order()[:best], start=1):
        s = apply_design(result.scenario, result.space, tuple(int(x) for x in result.levels[i]))
        name = f"{result.space.name}-{rank}"
        update: dict[str, Any] = {"name": name, "description": f"design {i} of trade {result.space.name}"}
        if requests is not None and requests.is_file():
            update["requests"] = str(requests.resolve())
        s = s.model_copy(update=update)
        header = (
            f"{name}: Pareto design {i} (rank {rank} by {result.space.objectives[0].metric}) of the trade "
            f"{result.space.name} on {result.scenario.name}\n"
            + "\n".join(f"{k} = {v}" for k, v in result.values(i).items())
        )
        path = out / f"{name}.toml"
        atomic_write_text(path, scenario_toml(s, header))
        paths[name] = path
    return paths
