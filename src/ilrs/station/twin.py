"""The station digital twin: a scenario and its site environment -> engine inputs -> run, KPIs, dataset, sizing.

:func:`build_inputs` adds up the element models (:mod:`ilrs.station.elements`) on the environment's grid,
:func:`run_twin` steps the engine (:mod:`ilrs.station.engine`) through them and computes the KPIs; everything
here is pure (the environment comes in as arrays from :mod:`ilrs.services.twin`).
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from ilrs.constants import AU_M, JULIAN_YEAR_S
from ilrs.core.point_visibility import disk_fractions
from ilrs.core.runs import longest_run, run_spans, runs
from ilrs.core.visibility import point_series
from ilrs.ephem.directions import angular_radius
from ilrs.errors import IlrsError
from ilrs.scenario import schema as sc
from ilrs.scenario.schema import Scenario
from ilrs.station.elements import Contribution, ElementContext, array_sample_heights, model_for
from ilrs.station.engine import N_PRIORITIES, EngineInputs, EngineResult, run_engine
from ilrs.station.environment import DECK_HEIGHT_M, FloatArray, SiteEnvironment
from ilrs.station.power import TERRAIN_DARK_K, TERRAIN_LIT_K, solar_irradiance_w_m2
from ilrs.station.verdict import Verdict, verdict

__all__ = [
    "BatterySizing",
    "SheddingEvent",
    "TwinInputs",
    "TwinKpis",
    "TwinRun",
    "build_inputs",
    "environment_heights",
    "kpis",
    "least_storage_margin",
    "run_twin",
    "shedding_events",
    "size_arrays",
    "size_battery",
    "to_dataset",
]


@dataclass(frozen=True, kw_only=True)
class TwinInputs(EngineInputs):
    """The engine's inputs for a scenario, with the series behind them that the KPIs and reports use."""

    et: FloatArray  #: (T,) [s TDB past J2000]
    utc: npt.NDArray[np.datetime64]  #: (T,)
    lat_deg: float
    lon_deg: float
    solar_w: FloatArray  #: (T,) [W]
    nuclear_w: FloatArray  #: (T,) fission and RTG [W]
    dte_bps: FloatArray  #: (T,) direct-to-Earth rate [bit/s]
    relay_bps: FloatArray  #: (T,) relay rate [bit/s]
    sun_fraction_ground: FloatArray  #: (T,) Sun disk fraction above the horizon at 0 m [-]
    sun_fraction_deck: FloatArray  #: (T,) the same at a lander deck (DECK_HEIGHT_M) [-]
    earth_visible: npt.NDArray[np.bool_]  #: (T,) a DTE antenna sees the Earth
    relay_visible: npt.NDArray[np.bool_]  #: (T,) a relay antenna sees its relay
    dte_in_service: npt.NDArray[np.bool_]  #: (T,) a DTE terminal is at the station
    relay_in_service: npt.NDArray[np.bool_]  #: (T,) a relay terminal is at the station
    #: (arrival time, mission or element name) of every element: the build-up phases
    arrivals: Sequence[tuple[np.datetime64, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: the site environment's warnings (the DEM cannot resolve the terrain at the site, ...)
    warnings: tuple[str, ...] = ()

    def with_series(self, **changes: Any) -> TwinInputs:
        """A copy with some series replaced; the total downlink follows the DTE and relay rates."""
        out = replace(self, **changes)
        return replace(out, downlink_bps=out.dte_bps + out.relay_bps)


def environment_heights(scenario: Scenario) -> tuple[float, ...]:
    """Observer heights [m] whose terrain horizon the scenario's elements need (ground, deck, the rows of each
    array, antennas, heated enclosures)."""
    heights = {0.0, DECK_HEIGHT_M}
    for e in scenario.elements:
        if isinstance(e, sc.SolarArray):
            heights.update(array_sample_heights(e))
        for name in ("antenna_height_m", "height_m"):
            if hasattr(e, name):
                heights.add(float(getattr(e, name)))
    return tuple(sorted(heights))


def landing_times(scenario: Scenario) -> npt.NDArray[np.datetime64]:
    """When the scenario's missions land at the site (launch + transit; orbiters excluded), sorted."""
    from datetime import datetime, time, timedelta

    t = [datetime.combine(m.launch, time()) + timedelta(days=m.transit_days) for m in scenario.missions if m.lands]
    return np.array(sorted(t), dtype="datetime64[s]")


def _working(env: SiteEnvironment, arrival: Any) -> npt.NDArray[np.bool_]:
    """The steps at or after an element's arrival (UTC labels of the grid)."""
    t = np.datetime64(arrival.replace(tzinfo=None), "us")
    return np.asarray(env.utc.astype("datetime64[us]") >= t)


_T = TypeVar("_T")


def _frozen(value: _T) -> _T:
    """``value`` with its arrays made read-only (recursively through tuples and dataclasses), so that a memoised
    result shared by later runs can never be changed in place by one of them."""
    if isinstance(value, np.ndarray):
        value.flags.writeable = False
    elif isinstance(value, tuple):
        for v in value:
            _frozen(v)
    elif hasattr(value, "__dataclass_fields__"):
        for name in value.__dataclass_fields__:
            _frozen(getattr(value, name))
    return value


class _EnvironmentMemo:
    """What :func:`build_inputs` derives from one environment, kept for the next scenario in it.

    A trade study or a sizing bisection runs hundreds of scenarios in one environment that differ in a few
    element sizes: the sky quantities (the Sun's disk fraction at every height, the terrain's temperature), the
    steps each arrival date switches on, and the contribution of every costly element whose definition did not
    change are the same arrays each time, and so are the sums over elements none of which changed (the loads,
    data and links of a study that varies the power system). They are computed once and shared read-only; the
    results are bit-identical to computing them again (the element models are pure functions of the element
    and the context, and a sum is added up in the same order). Element results are kept least-recently-used, at
    most ``MAX_ELEMENTS`` per environment, and only when they took ``MIN_ELEMENT_S`` or more to compute (the
    cheap ones cost less than their memory); sums of memoised elements likewise, at most ``MAX_SUMS``.
    """

    MAX_ELEMENTS = 48
    MIN_ELEMENT_S = 5e-4
    MAX_SUMS = 24

    def __init__(self) -> None:
        self.sky: tuple[Any, ...] | None = None
        self.working: dict[Any, tuple[npt.NDArray[np.bool_], FloatArray]] = {}
        self.landed: dict[tuple[bytes, int], npt.NDArray[np.int64]] = {}
        self.elements: OrderedDict[tuple[Any, ...], tuple[Contribution, dict[str, int], Any]] = OrderedDict()
        self.sums: OrderedDict[tuple[Any, ...], FloatArray] = OrderedDict()
        self.lock = threading.Lock()


_MEMOS: dict[int, _EnvironmentMemo] = {}
_MEMOS_LOCK = threading.Lock()


def _memo(env: SiteEnvironment) -> _EnvironmentMemo:
    """The memo of an environment (dropped when the environment is garbage-collected)."""
    key = id(env)
    with _MEMOS_LOCK:
        memo = _MEMOS.get(key)
        if memo is None:
            memo = _MEMOS[key] = _EnvironmentMemo()
            weakref.finalize(env, _MEMOS.pop, key, None)
        return memo


def _sky(env: SiteEnvironment, memo: _EnvironmentMemo) -> tuple[Any, ...]:
    """(Sun radius, irradiance, disk fraction per height, at the ground, at the deck, terrain temperature)."""
    with memo.lock:
        if memo.sky is not None:
            return memo.sky
    sun_r = angular_radius("SUN", env.sun_distance_m)
    irradiance = solar_irradiance_w_m2(env.sun_distance_m, AU_M)
    heights = sorted(env.horizons_deg)
    rows = disk_fractions([env.horizons_deg[h] for h in heights], env.sun_az_rad, env.sun_el_rad, sun_r)
    fractions = dict(zip(heights, rows, strict=True))
    ground = fractions[0.0] if 0.0 in fractions else point_fraction(env, 0.0, sun_r)[1]
    deck = fractions[DECK_HEIGHT_M] if DECK_HEIGHT_M in fractions else point_fraction(env, DECK_HEIGHT_M, sun_r)[1]
    terrain_k = TERRAIN_DARK_K + (TERRAIN_LIT_K - TERRAIN_DARK_K) * ground
    sky = _frozen((sun_r, irradiance, fractions, ground, deck, terrain_k))
    for row in fractions.values():
        _frozen(row)
    with memo.lock:
        memo.sky = sky
    return sky


def _working_years(env: SiteEnvironment, memo: _EnvironmentMemo, arrival: Any) -> tuple[Any, FloatArray]:
    """(the steps an element arriving at ``arrival`` works, its age then [yr])."""
    with memo.lock:
        hit = memo.working.get(arrival)
    if hit is not None:
        return hit
    on = _working(env, arrival)
    years = np.where(on, (env.et - env.et[np.argmax(on)]) / JULIAN_YEAR_S, 0.0) if on.any() else np.zeros(on.size)
    out = _frozen((on, years))
    with memo.lock:
        memo.working[arrival] = out
    return out


def _landings_since(
    env: SiteEnvironment, memo: _EnvironmentMemo, landings: npt.NDArray[np.datetime64], first: int
) -> npt.NDArray[np.int64]:
    """Landings at the site after step ``first`` (an element's arrival), at every step (0 before)."""
    key = (landings.tobytes(), first)
    with memo.lock:
        hit = memo.landed.get(key)
    if hit is not None:
        return hit
    landed = np.searchsorted(landings, env.utc.astype("datetime64[s]"), side="right")
    out: npt.NDArray[np.int64] = _frozen(np.maximum(landed - landed[first], 0).astype(np.int64))
    with memo.lock:
        if len(memo.landed) > 256:  # a study moving the missions' dates: keep the memo bounded
            memo.landed.clear()
        memo.landed[key] = out
    return out


def _leading_zeros(x: FloatArray) -> int:
    """Steps before the first non-zero value of a series (its length when it is all zero)."""
    nz = np.flatnonzero(x)
    return int(nz[0]) if nz.size else int(x.size)


def _zero_prefixes(c: Contribution) -> dict[str, int]:
    """For each series of a contribution, the steps before its first non-zero value (an element contributes
    nothing before it arrives, and most arrive years into a run), by field name."""
    out: dict[str, int] = {}
    for name in ("solar_w", "nuclear_w", "storage_bits", "dte_bps", "relay_bps", "transmitter_w"):
        x = getattr(c, name)
        if x is not None:
            out[name] = _leading_zeros(x)
    for name in ("load_w", "data_bps"):
        pair = getattr(c, name)
        if pair is not None:
            out[name] = _leading_zeros(pair[1])
    if c.battery is not None:
        for name in ("capacity_wh", "added_wh", "max_charge_w", "max_discharge_w"):
            out[name] = _leading_zeros(getattr(c.battery, name))
    return out


def _contribution(
    memo: _EnvironmentMemo, e: Any, ctx: ElementContext, landings: bytes
) -> tuple[Contribution, dict[str, int], Any]:
    """The element's model on its context, memoised by the element's definition and the landings it counts:
    (contribution, the steps before each of its series' first non-zero value, its memo key), the last two
    empty and None when it is not memoised."""
    key = (type(e).__name__, e.model_dump_json(), landings)
    with memo.lock:
        hit = memo.elements.get(key)
        if hit is not None:
            memo.elements.move_to_end(key)
            return hit
    t = time.perf_counter()
    c: Contribution = model_for(e)(e, ctx)
    if time.perf_counter() - t >= memo.MIN_ELEMENT_S:
        entry = (_frozen(c), _zero_prefixes(c), key)
        with memo.lock:
            memo.elements[key] = entry
            while len(memo.elements) > memo.MAX_ELEMENTS:
                memo.elements.popitem(last=False)
        return entry
    return c, {}, None


@dataclass(frozen=True)
class _Part:
    """One element's series in a sum: its key (the contribution's memo key and the field; None when the
    contribution is not memoised), its values, and the steps before its first non-zero value (0: unknown)."""

    key: Any
    x: FloatArray
    zeros_before: int


def _fold(n: int, parts: Sequence[_Part], out: FloatArray | None = None) -> FloatArray:
    """The parts added up in order, bit for bit as ``np.zeros`` followed by ``+=`` of each part would give them,
    with less memory traffic: the first part is copied as ``x + 0.0`` (what ``0.0 + x`` is), and a later one is
    added only from its first non-zero step (adding +0.0 or -0.0 leaves a sum unchanged, and a sum that starts
    at +0.0 is never -0.0 in round-to-nearest)."""
    if not parts:
        if out is None:
            return np.zeros(n)
        out[...] = 0.0
        return out
    acc: FloatArray = np.add(parts[0].x, 0.0, out=out)
    for p in parts[1:]:
        if p.zeros_before < n:
            acc[p.zeros_before :] += p.x[p.zeros_before :]
    return acc


def _summed(memo: _EnvironmentMemo, name: str, n: int, rows: Sequence[Sequence[_Part]]) -> FloatArray:
    """A sum over elements (one row: a (T,) series; more: a table, one row each), taken from the memo when every
    part is memoised and the same parts were added up before (the loads, data and links of a trade study's
    designs are the same sums design after design; only the series of the elements it varies change)."""
    key = None
    if all(p.key is not None for row in rows for p in row):
        key = (name, tuple(tuple(p.key for p in row) for row in rows))
        with memo.lock:
            hit = memo.sums.get(key)
            if hit is not None:
                memo.sums.move_to_end(key)
                return hit
    if len(rows) == 1:
        out = _fold(n, rows[0])
    else:
        out = np.empty((len(rows), n))
        for i, row in enumerate(rows):
            _fold(n, row, out[i])
    if key is not None:
        with memo.lock:
            memo.sums[key] = _frozen(out)
            while len(memo.sums) > memo.MAX_SUMS:
                memo.sums.popitem(last=False)
    return out


#: The (T,) sums over elements :func:`build_inputs` makes, and its (priority, T) tables.
_SUMMED = (
    "solar_w",
    "nuclear_w",
    "storage_bits",
    "dte_bps",
    "relay_bps",
    "capacity_wh",
    "added_wh",
    "max_charge_w",
    "max_discharge_w",
)
_TABLES = ("load_w", "data_bps")


def build_inputs(scenario: Scenario, env: SiteEnvironment) -> TwinInputs:
    """Every element's contribution at every step of the scenario's run, added up in the scenario's order."""
    n = env.et.size
    et = env.et
    memo = _memo(env)
    sun_r, irradiance, fractions, ground, deck, terrain_k = _sky(env, memo)
    series: dict[str, list[_Part]] = {name: [] for name in _SUMMED}
    tables: dict[str, list[list[_Part]]] = {name: [[] for _ in range(N_PRIORITIES)] for name in _TABLES}
    earth_visible, relay_visible = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    dte_service, relay_service = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    arrivals = [(np.datetime64(e.arrival.replace(tzinfo=None), "s"), e.mission or e.name) for e in scenario.elements]
    shares = []
    transmitters: list[_Part] = []
    landings = landing_times(scenario)
    for e in scenario.elements:
        on, years = _working_years(env, memo, e.arrival)
        if not on.any():
            continue
        later = _landings_since(env, memo, landings, int(np.argmax(on)))  # landings after this element's own
        ctx = ElementContext(env, on, years, sun_r, irradiance, ground, terrain_k, later, fractions)
        c, zeros, ckey = _contribution(memo, e, ctx, landings.tobytes())

        def part(field: str, x: FloatArray, ckey: Any = ckey, zeros: dict[str, int] = zeros) -> _Part:
            return _Part(None if ckey is None else (ckey, field), x, zeros.get(field, 0))

        for name in ("solar_w", "nuclear_w", "storage_bits", "dte_bps", "relay_bps"):
            x = getattr(c, name)
            if x is not None:
                series[name].append(part(name, x))
        for name in _TABLES:
            pair = getattr(c, name)
            if pair is not None:
                tables[name][pair[0] - 1].append(part(name, pair[1]))
        if c.battery is not None:
            for name in ("capacity_wh", "added_wh", "max_charge_w", "max_discharge_w"):
                series[name].append(part(name, getattr(c.battery, name)))
            shares.append(c.battery)
        if c.dte_bps is not None:
            dte_service |= on
        if c.relay_bps is not None:
            relay_service |= on
        if c.earth_visible is not None:
            earth_visible |= c.earth_visible
        if c.relay_visible is not None:
            relay_visible |= c.relay_visible
        if c.transmitter_w is not None:
            transmitters.append(part("transmitter_w", c.transmitter_w))
    tables["load_w"][1] += transmitters  # radios draw power while they can send (priority 2: communications)
    sums = {name: _summed(memo, name, n, [parts]) for name, parts in series.items()}
    solar, nuclear = sums["solar_w"], sums["nuclear_w"]
    load, data = (_summed(memo, name, n, tables[name]) for name in _TABLES)
    cap, added = sums["capacity_wh"], sums["added_wh"]
    max_c, max_d = sums["max_charge_w"], sums["max_discharge_w"]
    storage, dte_bps, relay_bps = sums["storage_bits"], sums["dte_bps"], sums["relay_bps"]
    if shares:
        w = np.array([b.capacity_kwh for b in shares])
        eta_c = float(np.average([b.charge_efficiency for b in shares], weights=w))
        eta_d = float(np.average([b.discharge_efficiency for b in shares], weights=w))
        min_soc = float(np.average([b.min_soc for b in shares], weights=w))
        fade = float(np.average([b.cycle_fade for b in shares], weights=w))
    else:
        eta_c = eta_d = 1.0
        min_soc = fade = 0.0
    return TwinInputs(
        step_s=env.step_s,
        generation_w=solar + nuclear,
        load_w=load,
        data_rate_bps=data,
        battery_capacity_wh=cap,
        battery_added_wh=added,
        min_soc=min_soc,
        charge_efficiency=eta_c,
        discharge_efficiency=eta_d,
        max_charge_w=max_c,
        max_discharge_w=max_d,
        downlink_bps=dte_bps + relay_bps,
        storage_bits=storage,
        shed_below_soc=tuple(scenario.power_management.shed_below_soc),
        cycle_fade=fade,
        et=et,
        utc=env.utc,
        lat_deg=env.lat_deg,
        lon_deg=env.lon_deg,
        solar_w=solar,
        nuclear_w=nuclear,
        dte_bps=dte_bps,
        relay_bps=relay_bps,
        sun_fraction_ground=ground,
        sun_fraction_deck=deck,
        earth_visible=earth_visible,
        relay_visible=relay_visible,
        dte_in_service=dte_service,
        relay_in_service=relay_service,
        arrivals=arrivals,
        warnings=tuple(env.warnings),
    )


def point_fraction(env: SiteEnvironment, height_m: float, sun_radius_rad: FloatArray) -> tuple[Any, FloatArray]:
    """(horizon elevation at the Sun's azimuth [deg], visible fraction of the Sun's disk [-]) at a height."""
    hz, frac = point_series(env.horizon_deg(height_m), env.sun_az_rad, env.sun_el_rad, sun_radius_rad)
    return hz, frac


@dataclass(frozen=True)
class TwinKpis:
    """Key figures of a run (hours are simulated hours; energies in kWh, data in Gbit)."""

    steps: int
    years: float
    loss_of_load_hours: float
    loss_of_critical_load_hours: float
    min_state_of_charge: float
    energy_margin: float
    generated_kwh: float
    demanded_kwh: float
    shed_kwh: float
    curtailed_kwh: float
    earth_contact_hours_per_day: float
    relay_hours_per_day: float
    data_generated_gbit: float
    data_downlinked_gbit: float
    data_lost_gbit: float
    longest_dark_hours_survived: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True)
class TwinRun:
    """A twin run: the scenario, its inputs (series), the engine's flows and the KPIs."""

    scenario: Scenario
    series: TwinInputs
    result: EngineResult
    kpis: TwinKpis
    verdict: Verdict

    @property
    def warnings(self) -> list[str]:
        """What limits the run's figures (e.g. a DEM too coarse for the site's terrain)."""
        return list(self.series.warnings)


def least_storage_margin(v: Verdict) -> float:
    """The least storage margin of a run's build-up phases, over the phases with a battery (NaN: none has one); a
    plain ``min`` would give NaN or skip it depending on where a battery-less phase stands."""
    margins = [p.storage_margin for p in v.phases if np.isfinite(p.storage_margin)]
    return min(margins) if margins else float("nan")


def kpis(series: TwinInputs, r: EngineResult) -> TwinKpis:
    h = series.step_s / 3600.0
    shed = r.shed_total_w
    has = r.capacity_wh > 0
    # the least state of charge over the steps with a battery (counts of steps: np.count_nonzero, exact)
    with np.errstate(invalid="ignore", divide="ignore"):
        least_soc = float(np.min(r.stored_wh[1:][has] / r.capacity_wh[has])) if has.any() else float("nan")
    days = series.et.size * h / 24.0
    demanded = series.load_w.sum() * h / 1e3
    generated = series.generation_w.sum() * h / 1e3
    # darkness survived: the longest stretch without solar power during which no load was shed
    dark = (series.solar_w <= 0) & (series.battery_capacity_wh > 0)
    survived = dark & (shed <= 1e-9)
    return TwinKpis(
        steps=int(series.et.size),
        years=float(series.et.size * series.step_s / JULIAN_YEAR_S),
        loss_of_load_hours=float(np.count_nonzero(shed > 1e-6) * h),
        loss_of_critical_load_hours=float(np.count_nonzero(r.critical_shed_w > 1e-6) * h),
        min_state_of_charge=least_soc,
        energy_margin=float(generated / demanded - 1.0) if demanded > 0 else float("inf"),
        generated_kwh=generated,
        demanded_kwh=demanded,
        shed_kwh=float(shed.sum() * h / 1e3),
        curtailed_kwh=float(r.curtailed_w.sum() * h / 1e3),
        earth_contact_hours_per_day=float(np.count_nonzero(series.dte_bps > 0) * h / days),
        relay_hours_per_day=float(np.count_nonzero(series.relay_bps > 0) * h / days),
        data_generated_gbit=float(r.data_generated_bits.sum() / 1e9),
        data_downlinked_gbit=float(r.data_downlinked_bits.sum() / 1e9),
        data_lost_gbit=float(r.data_lost_bits.sum() / 1e9),
        longest_dark_hours_survived=float(longest_run(survived) * h),
    )


def run_inputs(scenario: Scenario, series: TwinInputs) -> TwinRun:
    """Run the engine on given inputs (e.g. changed by an event) and compute the KPIs."""
    result = run_engine(series)
    return TwinRun(
        scenario,
        series,
        result,
        kpis(series, result),
        verdict(series, result, series.arrivals, series.dte_in_service, series.relay_in_service),
    )


def run_twin(scenario: Scenario, env: SiteEnvironment) -> TwinRun:
    """The twin of a scenario in its site environment."""
    return run_inputs(scenario, build_inputs(scenario, env))


@dataclass(frozen=True)
class SheddingEvent:
    """A stretch of consecutive steps with load shed: when, which classes, how much energy."""

    start_utc: str
    end_utc: str
    hours: float
    lowest_priority_shed: int
    energy_kwh: float


def shedding_events(run: TwinRun) -> list[SheddingEvent]:
    """The load-shedding log: one event per run of consecutive steps with any load shed."""
    s, r = run.series, run.result
    h = s.step_s / 3600.0
    shed = r.shed_w.sum(axis=0) > 1e-6
    spans = run_spans(shed, s.utc, np.timedelta64(int(s.step_s), "s"))
    events = []
    for (a, b), (t0, t1) in zip(runs(shed), spans, strict=True):
        classes = np.flatnonzero(r.shed_w[:, a:b].sum(axis=1) > 1e-6)
        events.append(
            SheddingEvent(
                str(t0) + "Z",
                str(t1) + "Z",
                float((b - a) * h),
                int(classes.min()) + 1,
                float(r.shed_w[:, a:b].sum() * h / 1e3),
            )
        )
    return events


#: NetCDF variables of a run: name -> (units (UDUNITS), long_name, CF standard_name or None). No CF standard name
#: exists for a station's electrical power, energy or data flows, so those carry a long_name only.
DATASET_VARIABLES: dict[str, tuple[str, str, str | None]] = {
    "generation": ("W", "electrical power available from all sources (mean over the step)", None),
    "solar": ("W", "solar array power at the bus (mean over the step)", None),
    "nuclear": ("W", "fission and radioisotope power at the bus (mean over the step)", None),
    "load_demand": ("W", "load demanded per priority class (mean over the step)", None),
    "load_served": ("W", "load served per priority class (mean over the step)", None),
    "load_shed": ("W", "load shed per priority class (mean over the step)", None),
    "battery_energy": ("W h", "energy stored in the batteries at the end of the step", None),
    "battery_capacity": ("W h", "installed battery capacity (nameplate, before cycle fade)", None),
    "charge": ("W", "power into the batteries at the bus (mean over the step)", None),
    "discharge": ("W", "power out of the batteries at the bus (mean over the step)", None),
    "curtailed": ("W", "generation not used: batteries full or at their charge limit (mean over the step)", None),
    "battery_loss": ("W", "battery conversion losses and dropped excess (mean over the step)", None),
    "dte_rate": ("bit s-1", "direct-to-Earth downlink data rate", None),
    "relay_rate": ("bit s-1", "downlink data rate through the relay orbiter", None),
    "data_stored": ("bit", "data held in on-board storage at the end of the step", None),
    "data_lost": ("bit", "data produced in the step with no room in storage", None),
    "sun_fraction_ground": ("1", "fraction of the solar disk above the terrain horizon at the ground", None),
}

#: How the time coordinate counts UTC (written as the time coordinate's ``comment``).
TIME_COMMENT = (
    "UTC. The grid is regular in UTC labels: values count 86400 s per day and leap seconds are not counted (as in "
    "POSIX time), so a step that spans a leap second lasts one second longer in physical time. The exact "
    "ephemeris time of every step, leap seconds included (NAIF LSK), is the variable tdb_seconds."
)


def to_dataset(run: TwinRun) -> Any:
    """The run as a CF-1.10 xarray Dataset: units (UDUNITS), long names, standard names where CF has them, a
    ``time`` coordinate in UTC with the leap-second convention stated, the site as scalar ``lat``/``lon`` on the
    lunar sphere (``crs``, IAU_2015:30100). The on-disk encoding (float32, compression) is
    :func:`ilrs.iotools.netcdf.write_cf_netcdf`'s."""
    import pyproj
    import xarray as xr

    from ilrs import __version__

    s, r = run.series, run.result
    values: dict[str, Any] = {
        "generation": s.generation_w,
        "solar": s.solar_w,
        "nuclear": s.nuclear_w,
        "load_demand": s.load_w,
        "load_served": r.served_w,
        "load_shed": r.shed_w,
        "battery_energy": r.stored_wh[1:],
        "battery_capacity": s.battery_capacity_wh,
        "charge": r.charge_w,
        "discharge": r.discharge_w,
        "curtailed": r.curtailed_w,
        "battery_loss": r.loss_w,
        "dte_rate": s.dte_bps,
        "relay_rate": s.relay_bps,
        "data_stored": r.data_stored_bits[1:],
        "data_lost": r.data_lost_bits,
        "sun_fraction_ground": s.sun_fraction_ground,
    }
    data_vars: dict[str, Any] = {}
    for name, (units, long_name, standard_name) in DATASET_VARIABLES.items():
        v = np.asarray(values[name])
        attrs: dict[str, Any] = {"units": units, "long_name": long_name}
        if standard_name:
            attrs["standard_name"] = standard_name
        attrs["coordinates"] = "lat lon"
        attrs["grid_mapping"] = "crs"
        data_vars[name] = (("priority", "time") if v.ndim == 2 else ("time",), v, attrs)
    data_vars["tdb_seconds"] = (
        "time",
        np.asarray(s.et, dtype=np.float64),
        {"units": "s", "long_name": "ephemeris time of the step: seconds past J2000 TDB (SPICE ET)"},
    )
    moon = pyproj.CRS("IAU_2015:30100").to_cf()
    data_vars["crs"] = ((), np.int32(0), {**moon, "long_name": "the Moon's sphere, IAU_2015:30100"})
    ds = xr.Dataset(
        data_vars,
        coords={
            "time": (
                "time",
                s.utc.astype("datetime64[ns]"),
                {"standard_name": "time", "long_name": "start of the step (UTC)", "axis": "T", "comment": TIME_COMMENT},
            ),
            "priority": (
                "priority",
                np.arange(1, N_PRIORITIES + 1, dtype=np.int32),
                {"units": "1", "long_name": "load priority class (1: most critical, shed last)"},
            ),
            "lat": (
                (),
                np.float64(s.lat_deg),
                {
                    "standard_name": "latitude",
                    "units": "degrees_north",
                    "long_name": "site latitude, planetocentric (Moon)",
                },
            ),
            "lon": (
                (),
                np.float64(s.lon_deg),
                {
                    "standard_name": "longitude",
                    "units": "degrees_east",
                    "long_name": "site longitude, east positive (Moon)",
                },
            ),
        },
        attrs={
            "Conventions": "CF-1.10",
            "title": f"ilrs station digital twin: {run.scenario.name}",
            "institution": "ilrs (International Lunar Research Station planning software)",
            "source": f"ilrs {__version__} station twin (power, batteries, communications, data) at "
            f"{s.step_s:g} s steps; ephemerides DE440s and the DE440 lunar orientation through SPICE",
            "history": f"{np.datetime64('now', 's')}Z: ilrs {__version__} twin of scenario {run.scenario.name!r}",
            "references": "https://naif.jpl.nasa.gov/naif/toolkit.html (SPICE); Park et al. 2021, AJ 161:105 "
            "(DE440); Archinal et al. 2018, Celest. Mech. Dyn. Astr. 130:22 (IAU 2015 lunar frames)",
            "comment": "Site on the Moon (lat, lon on the IAU 2015 lunar sphere, crs). Power [W] and rates are "
            "means over each step; energies and data amounts at the end of each step.",
            "scenario": run.scenario.name,
            "site_lat_deg": s.lat_deg,
            "site_lon_deg": s.lon_deg,
            "step_s": s.step_s,
            **{f"kpi_{k}": v for k, v in run.kpis.as_dict().items()},
        },
    )
    return ds


@dataclass(frozen=True)
class BatterySizing:
    scale: float  #: factor on every battery (capacity and power limits); below 1: the scenario's has a margin
    capacity_kwh: float  #: installed at the end of the run with the factor [kWh]
    base_capacity_kwh: float  #: the scenario's [kWh]
    min_state_of_charge: float
    iterations: int


@dataclass(frozen=True)
class ArraySizing:
    scale: float  #: factor on every array's area; below 1: the scenario's arrays have a margin
    area_m2: float  #: total array area with the factor [m2]
    base_area_m2: float
    iterations: int


def _smallest_factor(
    ok: Callable[[float], bool], what: str, scenario: Scenario, max_scale: float, tol: float
) -> tuple[float, int]:
    """The smallest factor with ``ok`` (monotone: a larger factor never does worse), by doubling then bisection."""
    lo, hi = 0.0, 1.0
    n = 0
    while not ok(hi):
        lo, hi = hi, hi * 2.0
        n += 1
        if hi > max_scale:
            raise IlrsError(
                f"no {what} up to {max_scale:g} times the scenario's keeps the critical loads powered",
                source=f"{scenario.path or scenario.name}",
                hint="add generation (arrays, fission) or storage, or reduce the loads",
            )
    while hi - lo > tol * hi:
        mid = 0.5 * (lo + hi)
        if ok(mid):
            hi = mid
        else:
            lo = mid
        n += 1
    return hi, n


def _protected_load(scenario: Scenario, base: TwinInputs, protect: int, what: str) -> None:
    """Refuse to size ``what`` for a scenario with no load in priorities 1..``protect``: any size keeps it."""
    if not (base.load_w[:protect] > 0).any():
        raise IlrsError(
            f"the scenario has no priority 1-{protect} load, so any {what} keeps it: there is nothing to size against",
            source=f"{scenario.path or scenario.name}: elements",
            hint='add the loads the station must keep (e.g. kind = "load" with priority = 1), or protect more '
            "priorities (--protect)",
        )


def size_battery(
    scenario: Scenario, env: SiteEnvironment, tol: float = 0.01, max_scale: float = 1000.0, protect: int = 2
) -> BatterySizing:
    """The smallest battery, as a factor on every battery of the scenario (capacity and power limits), that
    keeps the state of charge above the reserve with no load shed in priorities 1..``protect`` through the whole
    run (``protect=5``: no load shed at all).

    Found by bisection on the factor, re-running the engine on the same environment series each time (the
    outcome is monotone in the factor: more capacity never sheds more).
    """
    base = build_inputs(scenario, env)
    if not (base.battery_capacity_wh > 0).any():
        raise IlrsError(
            "the scenario has no battery to size",
            source=f"{scenario.path or scenario.name}: elements",
            hint='add a [[elements]] with kind = "battery"',
        )
    _protected_load(scenario, base, protect, "battery")

    def scaled(scale: float) -> EngineResult:
        return run_engine(
            replace(
                base,
                battery_capacity_wh=base.battery_capacity_wh * scale,
                battery_added_wh=base.battery_added_wh * scale,
                max_charge_w=base.max_charge_w * scale,
                max_discharge_w=base.max_discharge_w * scale,
            )
        )

    scale, n = _smallest_factor(lambda f: scaled(f).shed_w[:protect].sum() <= 1e-6, "battery", scenario, max_scale, tol)
    r = scaled(scale)
    with np.errstate(invalid="ignore", divide="ignore"):
        soc = np.where(r.capacity_wh > 0, r.stored_wh[1:] / r.capacity_wh, np.nan)
    base_kwh = float(base.battery_capacity_wh.max() / 1e3)
    least = float(np.nanmin(soc)) if np.isfinite(soc).any() else float("nan")
    return BatterySizing(scale, scale * base_kwh, base_kwh, least, n)


def size_arrays(
    scenario: Scenario, env: SiteEnvironment, tol: float = 0.01, max_scale: float = 100.0, protect: int = 2
) -> ArraySizing:
    """The smallest solar arrays, as a factor on every array's area, with no load shed in priorities
    1..``protect`` (an array's bus power is proportional to its area, so the environment series are reused)."""
    areas = [e.area_m2 for e in scenario.elements if isinstance(e, sc.SolarArray)]
    if not areas:
        raise IlrsError(
            "the scenario has no solar array to size",
            source=f"{scenario.path or scenario.name}: elements",
            hint='add a [[elements]] with kind = "solar_array"',
        )
    base = build_inputs(scenario, env)
    _protected_load(scenario, base, protect, "array area")

    def ok(scale: float) -> bool:
        r = run_engine(replace(base, generation_w=base.nuclear_w + base.solar_w * scale))
        return bool(r.shed_w[:protect].sum() <= 1e-6)

    scale, n = _smallest_factor(ok, "array area", scenario, max_scale, tol)
    return ArraySizing(scale, scale * sum(areas), sum(areas), n)
