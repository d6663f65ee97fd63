"""ilrs.station.engine: conservation laws every step, the compiled loop against the plain-Python loop, the
shedding order, the battery's bounds, and small cases worked out by hand."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from ilrs.errors import IlrsError
from ilrs.station.engine import EngineInputs, EngineResult, run_engine

RNG_SEED = 20250301
LUNAR_DAY_H = 708.73  # synodic month [h] (Meeus, "Astronomical Algorithms", 2nd ed., ch. 49: 29.530589 d)


def random_inputs(
    rng: np.random.Generator,
    n: int,
    step_s: float = 600.0,
    day_h: float = LUNAR_DAY_H,
    storage_bits: float | None = None,
) -> EngineInputs:
    """Day/night generation, noisy stepped loads, random battery arrivals (some nearly empty, some overfull)."""
    t_h = np.arange(n) * step_s / 3600.0
    sun = np.clip(np.sin(2 * np.pi * t_h / day_h), 0.0, None) * (rng.random(n) > 0.05)  # 5 % shadowed steps
    generation = 4000.0 * sun + 300.0 * (t_h > t_h[-1] / 3)  # an RTG-like source arrives a third of the way in
    level = (
        rng.uniform(100.0, 800.0, size=(5, 1))
        * np.repeat(rng.uniform(0.0, 1.5, size=(5, n // 500 + 1)), 500, axis=1)[:, :n]
    )
    load = level * rng.uniform(0.8, 1.2, size=(5, n)) * (rng.random((5, n)) > 0.02)
    arrivals = np.sort(rng.choice(n, size=8, replace=False))
    arrivals[0] = n // 50
    capacity_step = np.zeros(n)
    capacity_step[arrivals] = rng.uniform(2_000.0, 20_000.0, size=arrivals.size)
    added = np.zeros(n)
    added[arrivals] = capacity_step[arrivals] * rng.choice([0.02, 0.5, 1.0, 1.3], size=arrivals.size)
    capacity = np.cumsum(capacity_step)
    rate = rng.uniform(0.0, 5e6, size=(5, 1)) * np.ones((5, n))
    downlink = rng.uniform(0.0, 8e6, size=n) * (np.sin(2 * np.pi * t_h / 24.0) > 0)  # Earth contact half the time
    storage = np.full(n, 2e12) if storage_bits is None else np.full(n, storage_bits)
    storage[n // 2 :] *= 2
    return EngineInputs(
        step_s=step_s,
        generation_w=generation,
        load_w=load,
        data_rate_bps=rate,
        battery_capacity_wh=capacity,
        battery_added_wh=added,
        min_soc=0.2,
        charge_efficiency=0.95,
        discharge_efficiency=0.9,
        max_charge_w=0.5 * capacity,
        max_discharge_w=0.8 * capacity,
        downlink_bps=downlink,
        storage_bits=storage,
        initial_energy_wh=0.0,
    )


@pytest.fixture(scope="module")
def long_run() -> tuple[EngineInputs, EngineResult]:
    """About 3.8 years at 10-minute steps."""
    inputs = random_inputs(np.random.default_rng(RNG_SEED), 200_000)
    return inputs, run_engine(inputs)


def test_long_run_exercises_every_branch(long_run):
    inputs, r = long_run
    assert (r.charge_w > 0).any() and (r.discharge_w > 0).any() and (r.curtailed_w > 0).any()
    assert (r.shed_w[4] > 0).any() and (r.shed_w[0] > 0).any() and (r.data_lost_bits > 0).any()
    full = np.isclose(r.stored_wh[1:], inputs.battery_capacity_wh) & (inputs.battery_capacity_wh > 0)
    assert full.any()


def test_energy_conserved_every_step(long_run):
    inputs, r = long_run
    dt = inputs.step_s / 3600.0
    supplied = inputs.generation_w * dt + inputs.battery_added_wh
    used = (r.served_w.sum(axis=0) + r.curtailed_w + r.loss_w) * dt + np.diff(r.stored_wh)
    # Floating-point accuracy: the residual carries rounding of every flow and of the stored level itself
    # (delta stored is a difference of two levels), a few ulp of their sum; 1e-9 leaves a wide margin.
    scale = supplied + used + r.stored_wh[:-1] + r.stored_wh[1:] + 1.0
    assert np.all(np.abs(supplied - used) <= 1e-9 * scale)
    np.testing.assert_allclose(r.served_w + r.shed_w, inputs.load_w, rtol=1e-12, atol=1e-9)  # rounding only


def test_battery_within_reserve_and_capacity(long_run):
    inputs, r = long_run
    cap = inputs.battery_capacity_wh
    reserve = inputs.min_soc * cap
    after_arrival = np.minimum(r.stored_wh[:-1] + inputs.battery_added_wh, cap)
    end = r.stored_wh[1:]
    tol = 1e-9 * (cap + 1.0)  # rounding of stored += charge*eta*dt at a full or reserve-level battery
    assert np.all(end <= cap + tol)
    above = after_arrival >= reserve
    assert np.all(end[above] >= reserve[above] - tol[above])
    below = ~above  # a battery that arrived (or is) under its reserve is never discharged: it only rises
    assert below.any()
    assert np.all(end[below] >= after_arrival[below] - tol[below])
    assert np.all(r.discharge_w[below] == 0.0)


def test_shedding_order_random(long_run):
    inputs, r = long_run
    # rounding in the shortfall bookkeeping: a class counts as wholly shed within 1e-9 of its load
    wholly_shed = r.shed_w >= inputs.load_w - 1e-9 * (inputs.load_w + 1.0)
    for p in range(5):
        touched = r.shed_w[p] > 0
        for q in range(p + 1, 5):  # every lower-priority class is shed whole before class p is touched
            assert np.all(wholly_shed[q][touched])


def test_shedding_order_ramp():
    """No battery, 10 W per class, generation falling from 50 W to 0: priority 5 goes first, priority 1 last."""
    n = 101
    gen = np.linspace(50.0, 0.0, n)
    zeros = np.zeros(n)
    inputs = EngineInputs(
        step_s=60.0,
        generation_w=gen,
        load_w=np.full((5, n), 10.0),
        data_rate_bps=np.zeros((5, n)),
        battery_capacity_wh=zeros,
        battery_added_wh=zeros,
        min_soc=0.0,
        charge_efficiency=1.0,
        discharge_efficiency=1.0,
        max_charge_w=zeros,
        max_discharge_w=zeros,
        downlink_bps=zeros,
        storage_bits=zeros,
    )
    for method in ("numba", "python"):
        r = run_engine(inputs, method=method)
        expected = np.clip(gen[None, :] - 10.0 * np.arange(5)[:, None], 0.0, 10.0)
        np.testing.assert_allclose(r.served_w, expected, rtol=0, atol=1e-12)  # sums of multiples of 0.5 W: ~exact
        np.testing.assert_allclose(r.served_w.sum(axis=0), gen, rtol=0, atol=1e-12)


def test_numba_matches_python():
    inputs = random_inputs(np.random.default_rng(RNG_SEED + 1), 20_000, day_h=24.0)
    fast, ref = run_engine(inputs, method="numba"), run_engine(inputs, method="python")
    for field in dataclasses.fields(EngineResult):
        a, b = getattr(fast, field.name), getattr(ref, field.name)
        assert a.shape == b.shape, field.name
        # Same operations in the same order, so the only allowed difference is compiler rounding;
        # 1e-9 of the field's largest value is far above that.
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9 * np.abs(b).max(), err_msg=field.name)


def test_data_conserved(long_run):
    _, r = long_run
    residual = r.data_generated_bits - r.data_downlinked_bits - r.data_lost_bits - np.diff(r.data_stored_bits)
    # bits up to ~1e13 per step: 1e-9 relative is far above double rounding (~1e-16)
    scale = r.data_generated_bits + r.data_stored_bits[:-1] + r.data_stored_bits[1:] + 1.0
    assert np.all(np.abs(residual) <= 1e-9 * scale)
    assert r.data_stored_bits[0] == 0.0


def test_no_data_lost_with_huge_storage():
    inputs = random_inputs(np.random.default_rng(RNG_SEED + 2), 20_000, storage_bits=1e300)
    r = run_engine(inputs)
    assert np.all(r.data_lost_bits == 0.0)
    np.testing.assert_allclose(
        r.data_stored_bits[-1], r.data_generated_bits.sum() - r.data_downlinked_bits.sum(), rtol=1e-12
    )  # summation-order rounding over 20,000 terms


def _hand_inputs(**overrides) -> EngineInputs:
    """One-hour steps; 10 W and 1 kbit/s per class; 100 Wh battery half full, eta_c 0.9, eta_d 0.8, 10 % reserve."""
    base = dict(
        step_s=3600.0,
        generation_w=np.array([100.0, 0.0, 5.0, 200.0]),
        load_w=np.full((5, 4), 10.0),
        data_rate_bps=np.full((5, 4), 1000.0),
        battery_capacity_wh=np.full(4, 100.0),
        battery_added_wh=np.zeros(4),
        min_soc=0.1,
        charge_efficiency=0.9,
        discharge_efficiency=0.8,
        max_charge_w=np.array([30.0, 1000.0, 1000.0, 1000.0]),
        max_discharge_w=np.full(4, 40.0),
        downlink_bps=np.full(4, 1000.0),
        storage_bits=np.full(4, 2e7),
        initial_energy_wh=50.0,
    )
    base.update(overrides)
    return EngineInputs(**base)


@pytest.mark.parametrize("method", ["numba", "python"])
def test_hand_case_charge_discharge_shed(method):
    """Worked by hand:

    0. surplus 50 W, charge limit 30 W -> charge 30, curtail 20, stored 50 + 27 = 77, loss 3.
    1. deficit 50 W, limit 40 W (reserve allows (77-10)*0.8 = 53.6) -> discharge 40, shed 10 W of class 5,
       stored 77 - 50 = 27, loss 10.
    2. deficit 45 W, reserve allows (27-10)*0.8 = 13.6 W -> discharge 13.6, shed 31.4: classes 5, 4, 3 whole and
       1.4 W of class 2; stored 10 (the reserve), loss 3.4.
    3. surplus 150 W, room (100-10)/0.9 = 100 W -> charge 100, curtail 50, stored 100, loss 10.
    Data (1 kbit/s per fully served class, 3.6 Mbit per hour downlink, 20 Mbit storage): generated 18, 14.4,
    6.696 (1 + 0.86 classes), 18 Mbit; the fill overflows 20 Mbit from step 1 on.
    """
    r = run_engine(_hand_inputs(), method=method)
    # decimal fractions (0.9, 0.8, 13.6) are not exact in binary: agreement to rounding
    ok = dict(rel=1e-12, abs=1e-9)
    assert r.stored_wh == pytest.approx([50.0, 77.0, 27.0, 10.0, 100.0], **ok)
    assert r.charge_w == pytest.approx([30.0, 0.0, 0.0, 100.0], **ok)
    assert r.discharge_w == pytest.approx([0.0, 40.0, 13.6, 0.0], **ok)
    assert r.curtailed_w == pytest.approx([20.0, 0.0, 0.0, 50.0], **ok)
    assert r.loss_w == pytest.approx([3.0, 10.0, 3.4, 10.0], **ok)
    assert r.shed_w[:, 1] == pytest.approx([0.0, 0.0, 0.0, 0.0, 10.0], **ok)
    assert r.served_w[:, 2] == pytest.approx([10.0, 8.6, 0.0, 0.0, 0.0], **ok)
    assert r.shed_w[:, 2] == pytest.approx([0.0, 1.4, 10.0, 10.0, 10.0], **ok)
    assert r.shed_w[:, [0, 3]] == pytest.approx(np.zeros((5, 2)), **ok)
    assert r.data_generated_bits == pytest.approx([1.8e7, 1.44e7, 6.696e6, 1.8e7], **ok)
    assert r.data_downlinked_bits == pytest.approx([3.6e6] * 4, **ok)
    assert r.data_lost_bits == pytest.approx([0.0, 5.2e6, 3.096e6, 1.44e7], **ok)
    assert r.data_stored_bits == pytest.approx([0.0, 1.44e7, 2e7, 2e7, 2e7], **ok)


@pytest.mark.parametrize("method", ["numba", "python"])
def test_hand_case_arrival_below_reserve(method):
    """A 100 Wh battery arrives at step 1 holding 5 Wh, under its 20 Wh reserve: it is not discharged (the
    10 W priority-1 load is shed), is charged 20 Wh at step 2, and a second arrival (+50 Wh) at step 3 lifts it
    above the reserve, so it covers the load: 75 - 10 = 65 Wh. A class with no load but a data rate
    (100 bit/s, priority 5) counts as fully served."""
    n = 4
    load = np.zeros((5, n))
    load[0] = 10.0
    rate = np.zeros((5, n))
    rate[0], rate[4] = 1000.0, 100.0
    inputs = _hand_inputs(
        generation_w=np.array([0.0, 0.0, 30.0, 0.0]),
        load_w=load,
        data_rate_bps=rate,
        battery_capacity_wh=np.array([0.0, 100.0, 100.0, 100.0]),
        battery_added_wh=np.array([0.0, 5.0, 0.0, 50.0]),
        min_soc=0.2,
        charge_efficiency=1.0,
        discharge_efficiency=1.0,
        max_charge_w=np.full(n, 1000.0),
        max_discharge_w=np.full(n, 1000.0),
        downlink_bps=np.zeros(n),
        storage_bits=np.full(n, 1e12),
        initial_energy_wh=0.0,
    )
    r = run_engine(inputs, method=method)
    assert r.stored_wh.tolist() == [0.0, 0.0, 5.0, 25.0, 65.0]  # integers in Wh: exact
    assert r.shed_w[0].tolist() == [10.0, 10.0, 0.0, 0.0]
    assert r.discharge_w.tolist() == [0.0, 0.0, 0.0, 10.0]
    assert r.charge_w.tolist() == [0.0, 0.0, 20.0, 0.0]
    assert r.data_generated_bits.tolist() == [3.6e5, 3.6e5, 3.96e6, 3.96e6]
    assert r.data_stored_bits[-1] == 3.6e5 * 2 + 3.96e6 * 2


@pytest.mark.parametrize("method", ["numba", "python"])
def test_hand_case_overfull_arrival_counted_as_loss(method):
    """An arrival bringing 20 Wh into a 10 Wh battery holding 5 Wh: 15 Wh dropped, shown as 15 W of loss over
    the one-hour step, so energy still balances."""
    z = np.zeros(2)
    inputs = _hand_inputs(
        generation_w=z,
        load_w=np.zeros((5, 2)),
        data_rate_bps=np.zeros((5, 2)),
        battery_capacity_wh=np.full(2, 10.0),
        battery_added_wh=np.array([0.0, 20.0]),
        max_charge_w=z,
        max_discharge_w=z,
        downlink_bps=z,
        storage_bits=z,
        initial_energy_wh=5.0,
    )
    r = run_engine(inputs, method=method)
    assert r.stored_wh.tolist() == [5.0, 5.0, 10.0]
    assert r.loss_w.tolist() == [0.0, 15.0]


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("load_w", np.zeros((4, 4)), "shape"),
        ("max_charge_w", np.zeros(3), "shape"),
        ("generation_w", np.array([1.0, -1.0, 0.0, 0.0]), "negative"),
        ("storage_bits", np.array([1.0, np.nan, 0.0, 0.0]), "NaN"),
        ("charge_efficiency", 0.0, "(0, 1]"),
        ("discharge_efficiency", 1.2, "(0, 1]"),
        ("min_soc", 1.0, "[0, 1)"),
        ("min_soc", -0.1, "[0, 1)"),
        ("step_s", 0.0, "positive"),
        ("initial_energy_wh", -1.0, "non-negative"),
    ],
)
def test_bad_inputs_name_the_field(field, value, needle):
    with pytest.raises(IlrsError, match=field) as err:
        run_engine(_hand_inputs(**{field: value}))
    assert needle in str(err.value)


def test_unknown_method():
    with pytest.raises(IlrsError, match="method"):
        run_engine(_hand_inputs(), method="fortran")


def test_soc_thresholds_and_cycle_fade_same_in_both_loops():
    """The compiled loop and the plain-Python loop agree with shedding thresholds and cycle fade on too."""
    inputs = dataclasses.replace(
        random_inputs(np.random.default_rng(RNG_SEED + 7), 30_000),
        shed_below_soc=(0.0, 0.25, 0.4, 0.55, 0.7),
        cycle_fade=2e-4,
    )
    a, b = run_engine(inputs), run_engine(inputs, method="python")
    for f in dataclasses.fields(EngineResult):
        np.testing.assert_allclose(getattr(a, f.name), getattr(b, f.name), rtol=1e-9, atol=1e-6, err_msg=f.name)


def test_soc_thresholds_protect_the_critical_class_through_a_night():
    """A 100 h night on a 1,000 Wh battery (reserve 0), 5 W critical and 20 W optional: without thresholds the
    battery runs both for 1000 / 25 = 40 h and then sheds the critical load for 60 h; with the optional class
    cut below 80 % state of charge (checked at the start of each step) it runs both while 1000 - 25 k >= 800,
    k = 0..8 (9 h), then the critical load alone needs 91 x 5 = 455 Wh of the 775 Wh left: nothing critical is
    shed (hand calculation, efficiencies 1)."""
    n = 100
    load = np.zeros((5, n))
    load[0] = 5.0
    load[4] = 20.0
    flat = np.full(n, 1e6)
    base = EngineInputs(
        step_s=3600.0,
        generation_w=np.zeros(n),
        load_w=load,
        data_rate_bps=np.zeros((5, n)),
        battery_capacity_wh=np.full(n, 1000.0),
        battery_added_wh=np.zeros(n),
        min_soc=0.0,
        charge_efficiency=1.0,
        discharge_efficiency=1.0,
        max_charge_w=flat,
        max_discharge_w=flat,
        downlink_bps=np.zeros(n),
        storage_bits=np.zeros(n),
        initial_energy_wh=1000.0,
    )
    plain = run_engine(base)
    assert (plain.shed_w[0] > 0).sum() == 60 and (plain.shed_w[4] == 20.0).sum() == 60
    guarded = run_engine(dataclasses.replace(base, shed_below_soc=(0.0, 0.0, 0.0, 0.0, 0.8)))
    assert (guarded.shed_w[0] > 0).sum() == 0
    assert (guarded.served_w[4] == 20.0).sum() == 9 and (guarded.shed_w[4] == 20.0).sum() == 91
    assert guarded.stored_wh[-1] == pytest.approx(1000.0 - 9 * 25.0 - 91 * 5.0)


def test_cycle_fade_shrinks_the_capacity_and_conserves_energy():
    """Daily full cycles of a 1,000 Wh battery with 1e-3 fade per equivalent full cycle: after k cycles the
    capacity is 1000 (1 - 1e-3 k) within the partial-cycle bookkeeping, and energy is still conserved (the
    excess above a faded capacity is a loss)."""
    n = 24 * 60
    t = np.arange(n)
    day = (t % 24) < 12
    gen = np.where(day, 200.0, 0.0)
    load = np.zeros((5, n))
    load[0] = 80.0
    inputs = EngineInputs(
        step_s=3600.0,
        generation_w=gen,
        load_w=load,
        data_rate_bps=np.zeros((5, n)),
        battery_capacity_wh=np.full(n, 1000.0),
        battery_added_wh=np.zeros(n),
        min_soc=0.0,
        charge_efficiency=1.0,
        discharge_efficiency=1.0,
        max_charge_w=np.full(n, 1e6),
        max_discharge_w=np.full(n, 1e6),
        downlink_bps=np.zeros(n),
        storage_bits=np.zeros(n),
        initial_energy_wh=1000.0,
        cycle_fade=1e-3,
    )
    r = run_engine(inputs)
    drawn = np.cumsum(r.discharge_w)[:-1] / 1000.0  # equivalent full cycles before each step (Wh / 1000 Wh)
    np.testing.assert_allclose(r.capacity_wh[1:], 1000.0 * (1.0 - 1e-3 * drawn), rtol=1e-12)
    assert r.capacity_wh[-1] < 1000.0 * (1.0 - 1e-3 * 50)  # 60 nights of 960 Wh: > 50 cycles
    dt = 1.0
    supplied = inputs.generation_w * dt + inputs.battery_added_wh
    used = (r.served_w.sum(axis=0) + r.curtailed_w + r.loss_w) * dt + np.diff(r.stored_wh)
    np.testing.assert_allclose(supplied, used, atol=1e-9)
    assert np.all(r.stored_wh[1:] <= r.capacity_wh + 1e-9)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (np.nan, "NaN or infinite"),
        (np.inf, "NaN or infinite"),
        (-1e-9, "negative values"),
        (1e308, None),  # huge but finite: the sum overflows, the exact test must still accept it
    ],
)
def test_engine_names_a_bad_series_value(bad, message):
    """The engine's input check names the series and what is wrong with it (NaN, infinity, a negative value),
    and does not mistake huge finite values, whose sum overflows, for infinities."""
    from dataclasses import replace

    from ilrs.errors import IlrsError

    inputs = random_inputs(np.random.default_rng(7), 2_000)
    gen = inputs.generation_w.copy()
    gen[1_234] = bad
    if message is None:
        run_engine(replace(inputs, generation_w=gen))
        return
    with pytest.raises(IlrsError, match=message) as err:
        run_engine(replace(inputs, generation_w=gen))
    assert err.value.source == "generation_w"


def test_class_totals_are_numpys_sums_bit_for_bit():
    """The per-step shed totals the KPIs and the verdict read (one compiled pass) equal NumPy's
    ``shed_w.sum(axis=0)`` and ``shed_w[:2].sum(axis=0)`` bit for bit, on magnitudes 40 decades apart (where
    adding in another order would round differently) and with exact zeros."""
    from ilrs.station.engine import _class_totals

    rng = np.random.default_rng(RNG_SEED)
    for _ in range(10):
        shed = rng.random((5, 20_000)) * 10.0 ** rng.integers(-20, 20, (5, 20_000))
        shed[rng.random(shed.shape) < 0.5] = 0.0
        total, critical = _class_totals(shed)
        assert np.array_equal(total.view(np.int64), shed.sum(axis=0).view(np.int64))
        assert np.array_equal(critical.view(np.int64), shed[:2].sum(axis=0).view(np.int64))
    r = run_engine(random_inputs(rng, 5_000))
    assert np.array_equal(r.shed_total_w, r.shed_w.sum(axis=0))
    assert np.array_equal(r.critical_shed_w, r.shed_w[:2].sum(axis=0))
