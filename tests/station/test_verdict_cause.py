"""The worst event's cause names what actually held the battery back: its reserve, a class's shedding
threshold, or its discharge limit. Cases built by hand on a night of 24 one-hour steps (no generation)."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np

from ilrs.station.engine import EngineInputs, run_engine
from ilrs.station.verdict import verdict

T = 24


def _night(*, stored_wh: float, thresholds=(0.0, 0.0, 0.0, 0.0, 0.0), max_discharge_w: float = 10_000.0):
    """100 W of priority 1 and 500 W of priority 5 all night, a 10 kWh battery with a 20 % reserve, lossless."""
    load = np.zeros((5, T))
    load[0], load[4] = 100.0, 500.0
    zeros = np.zeros(T)
    inputs = EngineInputs(
        step_s=3600.0,
        generation_w=zeros,
        load_w=load,
        data_rate_bps=np.zeros((5, T)),
        battery_capacity_wh=np.full(T, 10_000.0),
        battery_added_wh=zeros,
        min_soc=0.2,
        charge_efficiency=1.0,
        discharge_efficiency=1.0,
        max_charge_w=np.full(T, 10_000.0),
        max_discharge_w=np.full(T, max_discharge_w),
        downlink_bps=zeros,
        storage_bits=np.full(T, 1e12),
        initial_energy_wh=stored_wh,
        shed_below_soc=thresholds,
    )
    series = SimpleNamespace(
        **{f.name: getattr(inputs, f.name) for f in dataclasses.fields(inputs)},
        utc=np.datetime64("2031-06-01T00:00", "s") + np.arange(T) * np.timedelta64(3600, "s"),
        solar_w=zeros,
        nuclear_w=zeros,
        dte_bps=zeros,
        relay_bps=zeros,
    )
    r = run_engine(inputs)
    none = np.zeros(T, dtype=bool)
    return verdict(series, r, [(series.utc[0], "lander")], none, none)


def test_a_shedding_threshold_is_named_as_the_cause():
    """8 kWh stored, priority 5 stops drawing below 55 %: it is shed from the fifth hour (8 - 4 x 0.6 = 5.6 kWh,
    then 5.0 < 5.5) while the battery is far above its 20 % reserve and its 10 kW limit."""
    v = _night(stored_wh=8_000.0, thresholds=(0.0, 0.0, 0.0, 0.0, 0.55))
    assert v.survives and v.worst_event is not None and v.worst_event.lowest_priority_shed == 5
    cause = v.worst_event.cause
    assert "priority-5 shedding threshold (55 %" in cause and "discharge limit" not in cause, cause
    assert "24 h without solar power" in cause
    head = v.headline()
    assert head.startswith("SURVIVES") and "lower-priority (3-5) load shed for" in head and "worst event" in head


def test_the_discharge_limit_is_named_when_it_binds():
    """600 W of load against a 300 W discharge limit, a full battery: 300 W of priority 5 shed every hour."""
    v = _night(stored_wh=10_000.0, max_discharge_w=300.0)
    assert v.worst_event is not None
    assert "battery at its discharge limit (0.3 kW)" in v.worst_event.cause


def test_the_reserve_is_named_when_the_battery_is_empty():
    """The battery starts at its reserve: nothing can be drawn, the critical 100 W is shed too."""
    v = _night(stored_wh=2_000.0)
    assert not v.survives and v.worst_event is not None
    assert "battery at its 20 % reserve" in v.worst_event.cause
    assert v.headline().startswith("DOES NOT SURVIVE: critical load lost for 24.0 h; worst event 2031-06-01 00:00")


def test_without_thresholds_the_reserve_ends_the_critical_load_too():
    """No thresholds: 600 W drawn from 8 kWh usable runs the battery to its reserve after 13 h 20 min, then the
    critical 100 W is shed with the rest: the cause is the reserve, and the station does not survive."""
    v = _night(stored_wh=10_000.0)
    assert not v.survives and v.worst_event is not None
    assert (
        v.worst_event.start_utc.startswith("2031-06-01T13:00") and "battery at its 20 % reserve" in v.worst_event.cause
    )
