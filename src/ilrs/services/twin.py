"""The station digital twin: a scenario's series through the engine, into results (xarray) and KPIs."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ilrs.core.runs import longest_run, runs
from ilrs.scenario.schema import Scenario
from ilrs.services.twin_inputs import TwinSeries, build_series
from ilrs.station.engine import EngineInputs, EngineResult, run_engine


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

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class TwinRun:
    scenario: Scenario
    series: TwinSeries
    result: EngineResult
    kpis: TwinKpis


def engine_inputs(series: TwinSeries) -> EngineInputs:
    return EngineInputs(
        step_s=series.step_s,
        generation_w=series.generation_w,
        load_w=series.load_w,
        data_rate_bps=series.data_rate_bps,
        battery_capacity_wh=series.battery_capacity_wh,
        battery_added_wh=series.battery_added_wh,
        min_soc=series.min_soc,
        charge_efficiency=series.charge_efficiency,
        discharge_efficiency=series.discharge_efficiency,
        max_charge_w=series.max_charge_w,
        max_discharge_w=series.max_discharge_w,
        downlink_bps=series.downlink_bps,
        storage_bits=series.storage_bits,
    )


def kpis(series: TwinSeries, r: EngineResult) -> TwinKpis:
    h = series.step_s / 3600.0
    shed = r.shed_w.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        soc = np.where(series.battery_capacity_wh > 0, r.stored_wh[1:] / series.battery_capacity_wh, np.nan)
    days = series.et.size * h / 24.0
    demanded = series.load_w.sum() * h / 1e3
    generated = series.generation_w.sum() * h / 1e3
    # darkness survived: the longest stretch without solar power during which no load was shed
    dark = (series.solar_w <= 0) & (series.battery_capacity_wh > 0)
    survived = dark & (shed <= 1e-9)
    return TwinKpis(
        steps=int(series.et.size),
        years=float(series.et.size * series.step_s / (365.25 * 86400)),
        loss_of_load_hours=float((shed > 1e-6).sum() * h),
        loss_of_critical_load_hours=float((r.shed_w[:2].sum(axis=0) > 1e-6).sum() * h),
        min_state_of_charge=float(np.nanmin(soc)) if np.isfinite(soc).any() else float("nan"),
        energy_margin=float(generated / demanded - 1.0) if demanded > 0 else float("inf"),
        generated_kwh=generated,
        demanded_kwh=demanded,
        shed_kwh=float(shed.sum() * h / 1e3),
        curtailed_kwh=float(r.curtailed_w.sum() * h / 1e3),
        earth_contact_hours_per_day=float((series.dte_bps > 0).sum() * h / days),
        relay_hours_per_day=float((series.relay_bps > 0).sum() * h / days),
        data_generated_gbit=float(r.data_generated_bits.sum() / 1e9),
        data_downlinked_gbit=float(r.data_downlinked_bits.sum() / 1e9),
        data_lost_gbit=float(r.data_lost_bits.sum() / 1e9),
        longest_dark_hours_survived=float(longest_run(survived) * h),
    )


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
    events = []
    for a, b in runs(shed):
        classes = np.flatnonzero(r.shed_w[:, a:b].sum(axis=1) > 1e-6)
        end = s.utc[b] if b < s.utc.size else s.utc[-1] + np.timedelta64(int(s.step_s), "s")
        events.append(
            SheddingEvent(
                str(s.utc[a]) + "Z",
                str(end) + "Z",
                float((b - a) * h),
                int(classes.min()) + 1,
                float(r.shed_w[:, a:b].sum() * h / 1e3),
            )
        )
    return events


def run_twin(scenario: Scenario) -> TwinRun:
    series = build_series(scenario)
    result = run_engine(engine_inputs(series))
    return TwinRun(scenario, series, result, kpis(series, result))


def to_dataset(run: TwinRun):
    """The run as an xarray Dataset with units in the attributes (NetCDF-ready)."""
    import xarray as xr

    s, r = run.series, run.result
    prio = np.arange(1, 6)
    ds = xr.Dataset(
        {
            "generation": ("time", s.generation_w, {"units": "W", "long_name": "power available from all sources"}),
            "solar": ("time", s.solar_w, {"units": "W"}),
            "nuclear": ("time", s.nuclear_w, {"units": "W", "long_name": "fission and RTG"}),
            "load_demand": (("priority", "time"), s.load_w, {"units": "W"}),
            "load_served": (("priority", "time"), r.served_w, {"units": "W"}),
            "load_shed": (("priority", "time"), r.shed_w, {"units": "W"}),
            "battery_energy": ("time", r.stored_wh[1:], {"units": "Wh", "long_name": "stored energy after step"}),
            "battery_capacity": ("time", s.battery_capacity_wh, {"units": "Wh"}),
            "charge": ("time", r.charge_w, {"units": "W"}),
            "discharge": ("time", r.discharge_w, {"units": "W"}),
            "curtailed": ("time", r.curtailed_w, {"units": "W"}),
            "battery_loss": ("time", r.loss_w, {"units": "W"}),
            "dte_rate": ("time", s.dte_bps, {"units": "bit/s", "long_name": "direct-to-Earth data rate"}),
            "relay_rate": ("time", s.relay_bps, {"units": "bit/s"}),
            "data_stored": ("time", r.data_stored_bits[1:], {"units": "bit"}),
            "data_lost": ("time", r.data_lost_bits, {"units": "bit"}),
            "sun_fraction_ground": ("time", s.sun_fraction_ground, {"units": "1"}),
        },
        coords={"time": s.utc.astype("datetime64[ns]"), "priority": prio},
        attrs={
            "scenario": run.scenario.name,
            "site_lat_deg": s.lat_deg,
            "site_lon_deg": s.lon_deg,
            "step_s": s.step_s,
            **{f"kpi_{k}": v for k, v in run.kpis.as_dict().items()},
        },
    )
    return ds


def save_netcdf(run: TwinRun, path: str | Path) -> Path:
    from ilrs.iotools.atomic import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        to_dataset(run).to_netcdf(tmp, engine="h5netcdf")
    return path


@dataclass(frozen=True)
class BatterySizing:
    scale: float
    capacity_kwh: float
    base_capacity_kwh: float
    min_state_of_charge: float
    iterations: int


def size_battery(scenario: Scenario, tol: float = 0.01, max_scale: float = 1000.0, protect: int = 2) -> BatterySizing:
    """The smallest battery, as a factor on every battery of the scenario (capacity and power limits), that
    keeps the state of charge above the reserve with no load shed in priorities 1..``protect`` through the whole
    run (``protect=5``: no load shed at all).

    Found by bisection on the factor, re-running the engine on the same environment series each time (the
    outcome is monotone in the factor: more capacity never sheds more).
    """
    from ilrs.errors import IlrsError

    series = build_series(scenario)
    if not (series.battery_capacity_wh > 0).any():
        raise IlrsError(
            "the scenario has no battery to size",
            source=f"{scenario.name}: elements",
            hint='add a [[elements]] with kind = "battery"',
        )
    base = engine_inputs(series)

    def ok(scale: float) -> tuple[bool, float]:
        from dataclasses import replace

        r = run_engine(
            replace(
                base,
                battery_capacity_wh=base.battery_capacity_wh * scale,
                battery_added_wh=base.battery_added_wh * scale,
                max_charge_w=base.max_charge_w * scale,
                max_discharge_w=base.max_discharge_w * scale,
            )
        )
        critical_shed = r.shed_w[:protect].sum() > 1e-6
        with np.errstate(invalid="ignore", divide="ignore"):
            soc = np.where(base.battery_capacity_wh > 0, r.stored_wh[1:] / (base.battery_capacity_wh * scale), np.nan)
        return (not critical_shed), float(np.nanmin(soc))

    lo, hi = 0.0, 1.0
    n = 0
    while not ok(hi)[0]:
        lo, hi = hi, hi * 2.0
        n += 1
        if hi > max_scale:
            raise IlrsError(
                f"no battery up to {max_scale:g} times the scenario's keeps the critical loads powered",
                source=f"{scenario.name}",
                hint="add generation (arrays, fission) or reduce the loads",
            )
    while hi - lo > tol * hi:
        mid = 0.5 * (lo + hi)
        if ok(mid)[0]:
            hi = mid
        else:
            lo = mid
        n += 1
    base_kwh = float(series.battery_capacity_wh.max() / 1e3)
    return BatterySizing(
        scale=hi, capacity_kwh=hi * base_kwh, base_capacity_kwh=base_kwh, min_state_of_charge=ok(hi)[1], iterations=n
    )
