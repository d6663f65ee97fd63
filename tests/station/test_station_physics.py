"""Station physics against published figures and hand calculations: radiative equilibrium (Diviner), array cell
temperature and bus power, fission power ascension and trips, survival heaters, the verdict and bad scenarios."""

from __future__ import annotations

import numpy as np
import pytest

from ilrs.errors import IlrsError
from ilrs.station import power

SIGMA = 5.670374419e-8  # W m-2 K-4 (CODATA 2018)


def test_radiative_equilibrium_matches_diviner_equatorial_noon():
    """Regolith at the subsolar point: albedo 0.12 (absorptance 0.88) and emissivity 0.95 in balance with
    1361 W/m2 give about 386 K; Diviner measured equatorial noon temperatures of 387-397 K (Vasavada et al.
    2012, JGR 117, E00H18, fig. 4). The one-node balance neglects conduction into the regolith (a few W/m2 at
    noon), hence a tolerance of 10 K."""
    t = float(power.radiative_equilibrium_k(0.88 * 1361.0, 0.95))
    assert 380.0 <= t <= 400.0
    assert t == pytest.approx((0.88 * 1361.0 / (0.95 * SIGMA)) ** 0.25, rel=1e-12)


def test_cell_temperature_and_bus_power_by_hand():
    """A sun-tracking vertical panel, 1361 W/m2 at normal incidence, absorptance 0.91, emittance 0.85 on both
    faces, terrain at 200 K over half of each face's view: the heat balance
    2 x 0.85 sigma T^4 = 0.91 G - P_el + 2 x 0.85 x 0.5 sigma 200^4 is solved by hand with a fixed point on
    P_el = 0.30 x 0.85 G (1 - 0.0025 (T - 301.15)); bus power = area P_el x 0.97 x (1 - 0.02)."""
    g = 1361.0
    losses = power.ArrayLosses(
        packing_factor=0.85,
        temperature_coefficient_per_k=-0.0025,
        solar_absorptance=0.91,
        emittance_front=0.85,
        emittance_back=0.85,
        mppt_efficiency=0.97,
        harness_loss=0.02,
    )
    bus, temp = power.array_bus_power_w(10.0, 0.30, g, 1.0, 1.0, 1.0, losses, 200.0)
    p = 0.30 * 0.85 * g
    for _ in range(50):
        t_hand = ((0.91 * g - p + 1.7 * 0.5 * SIGMA * 200.0**4) / (1.7 * SIGMA)) ** 0.25
        p = 0.30 * 0.85 * g * (1 - 0.0025 * (t_hand - 301.15))
    assert float(temp) == pytest.approx(t_hand, abs=0.05)  # three fixed-point passes: converged to < 0.05 K
    assert float(bus) == pytest.approx(10.0 * p * 0.97 * 0.98, rel=2e-4)
    # the realistic chain is some 20 % below the ideal 30 % of the whole area (the issue's 'about 25 %
    # optimistic' before temperature and harness): 0.85 x (1 - 0.0025 x ~15 K) x 0.97 x 0.98
    assert 0.75 < float(bus) / (10.0 * 0.30 * g) < 0.80


def test_fission_ascension_trips_and_cable():
    days = np.arange(0.0, 400.0, 0.25)
    p = power.fission_power_w(
        40e3, days, commissioning_days=30.0, availability=0.95, cable_loss=0.03, trip_recovery_days=3.0
    )
    assert p[days == 15.0][0] == pytest.approx(20e3 * 0.97)  # half-way up the ramp
    on = days >= 30.0
    # one 3-day trip every 3 / 0.05 = 60 days of operation, the first after 60 days
    assert p[(days >= 30.0) & (days < 90.0)] == pytest.approx(40e3 * 0.97)
    assert np.all(p[(days >= 90.0) & (days < 93.0)] == 0.0)
    assert np.mean(p[on] > 0) == pytest.approx(0.95, abs=0.01)


def test_survival_heater_dark_and_lit():
    """100 m2 of MLI at an effective emittance of 0.03 held at 5 C: in shadow the outer layer sits at
    90 K x 0.5^(1/4) (terrain at 90 K over half the view) and the heater makes up
    0.03 sigma 100 (278.15^4 - T_o^4); with the Sun on a quarter of the area at grazing elevation the outer
    layer warms and the draw falls (hand calculation)."""
    dark, t_dark = power.survival_heater_w(100.0, 278.15, 0.03, 0.4, 0.8, 0.25, 1361.0, 0.0, 0.0, 90.0)
    t_o = 90.0 * 0.5**0.25
    assert float(t_dark) == pytest.approx(t_o, rel=1e-9)
    assert float(dark) == pytest.approx(0.03 * SIGMA * 100.0 * (278.15**4 - t_o**4), rel=1e-9)
    lit, t_lit = power.survival_heater_w(100.0, 278.15, 0.03, 0.4, 0.8, 0.25, 1361.0, 1.0, np.radians(1.5), 220.0)
    absorbed = 0.4 * 0.25 * 1361.0 * np.cos(np.radians(1.5)) + 0.8 * 0.5 * SIGMA * 220.0**4
    assert float(t_lit) == pytest.approx((absorbed / (0.8 * SIGMA)) ** 0.25, rel=1e-9)
    assert 0.2 < float(lit) / float(dark) < 0.45
    hot, _ = power.survival_heater_w(1.0, 278.15, 0.03, 0.9, 0.8, 1.0, 1361.0, 1.0, 0.0, 220.0)
    assert float(hot) == 0.0  # a sunlit dark box needs no heater


def test_bad_scenarios_are_named(tmp_path):
    from ilrs.scenario.load import BUILTIN_DIR, load_scenario

    text = (BUILTIN_DIR / "ilrs-basic-2035.toml").read_text()
    cases = [
        (text.replace('step = "10m"', 'step = "30d"'), "longer than the twin can represent"),
        (text.replace("lat_deg = -89.4455", 'name = "cr1"\nlat_deg = -89.4455'), "not both"),
        (
            text.replace("[power_management]", "[power_management]")
            + "\n[power_management]\nshed_below_soc = [0.1, 0.2, 0.3, 0.4, 0.5]\n",
            "priority 1 is never shed early",
        ),
    ]
    for i, (bad, needle) in enumerate(cases):
        path = tmp_path / f"bad{i}.toml"
        path.write_text(bad)
        with pytest.raises(IlrsError) as err:
            load_scenario(path)
        assert needle in str(err.value) and str(path) in str(err.value), str(err.value)


def test_no_elements_is_refused_before_any_work(tmp_path):
    from ilrs.scenario.load import BUILTIN_DIR
    from ilrs.services.scenarios import validated_scenario
    from ilrs.services.twin import run_twin

    text = (BUILTIN_DIR / "ilrs-basic-2035.toml").read_text()
    head = text.split("[[elements]]")[0]
    path = tmp_path / "empty.toml"
    path.write_text(head)
    s = validated_scenario(path)
    with pytest.raises(IlrsError, match="no elements") as err:
        run_twin(s)
    assert "elements" in (err.value.source or "")


def test_builtin_scenario_survives_with_a_battery_margin():
    """The built-in ilrs-basic-2035 under the full physics: no priority 1-2 load shed over 2028-2036, the
    verdict agrees with the KPIs and its own phases, and the battery sizing shows a margin (a factor below 1)."""
    from ilrs.services.scenarios import validated_scenario
    from ilrs.services.twin import run_twin, size_battery

    s = validated_scenario(None)
    run = run_twin(s)
    v = run.verdict
    assert v.survives and v.critical_load_lost_h == 0.0 == run.kpis.loss_of_critical_load_hours
    assert v.load_lost_h == pytest.approx(run.kpis.loss_of_load_hours)
    assert sum(p.critical_load_lost_h for p in v.phases) == 0.0
    assert sum(p.load_lost_h for p in v.phases) == pytest.approx(v.load_lost_h)
    assert [p.start_utc[:10] for p in v.phases] == sorted(p.start_utc[:10] for p in v.phases)
    assert v.worst_event is None or v.worst_event.lowest_priority_shed >= 3
    assert "SURVIVES" in v.headline()
    sizing = size_battery(s)
    assert sizing.scale < 1.0  # a margin, not a shortfall
    assert 0.0 < 1.0 - sizing.scale < 0.5


def test_disk_fractions_for_many_heights_equal_point_series():
    """The one-pass kernel for several horizon profiles agrees with point_series profile by profile."""
    from ilrs.core.point_visibility import disk_fractions
    from ilrs.core.visibility import point_series

    rng = np.random.default_rng(3)
    profiles = rng.uniform(-2.0, 4.0, size=(4, 360))
    profiles[1, 10:20] = np.nan  # no terrain counts as -90 deg in both
    az = rng.uniform(-7.0, 7.0, 5000)
    el = np.radians(rng.uniform(-3.0, 5.0, 5000))
    radius = np.full(5000, np.radians(0.267))
    radius[::7] = 0.0
    got = disk_fractions(profiles, az, el, radius)
    for k in range(4):
        np.testing.assert_allclose(got[k], point_series(profiles[k], az, el, radius)[1], rtol=0, atol=1e-14)


def test_twin_relay_flies_the_perturbed_frozen_orbit(tmp_path):
    """The twin's relay geometry comes from the frozen orbit flown in the perturbed field: over 60 days the relay is
    never closer to the station than the design's perilune allows nor farther than its apolune across the Moon
    (200 x 16,000 km apsides: 200 km - 0 and 16,000 km + 2 x 1,737 km), and it differs from the two-body ellipse."""
    from ilrs.scenario.load import BUILTIN_DIR
    from ilrs.services.scenarios import validated_scenario
    from ilrs.services.twin import site_environment

    text = (BUILTIN_DIR / "ilrs-basic-2035.toml").read_text().split("\n# The re-planning example")[0]
    text = text.replace("start = 2028-01-01", "start = 2031-06-01").replace("end = 2036-01-01", "end = 2031-07-31")
    text = text.replace('step = "10m"', 'step = "30m"')
    blocks = text.split("[[elements]]")
    keep = [b for b in blocks[1:] if "arrival = 2031-06-01" in b]
    path = tmp_path / "relay.toml"
    path.write_text(
        blocks[0].split("[[missions]]")[0] + "".join("[[elements]]" + b.split("[[missions]]")[0] for b in keep)
    )
    s = validated_scenario(path)
    geo = site_environment(s).relays["relay-x"]
    assert geo.range_m.min() > 100e3 and geo.range_m.max() < (16_000 + 2 * 1737.4 + 100) * 1e3
    assert (geo.el_rad > 0).mean() > 0.3  # the relay spends most of its 24 h orbit high over the south pole
    relay = next(e for e in s.elements if e.name == "relay-x")
    two_body = relay.model_copy(update={"orbit": relay.orbit.model_copy(update={"model": "two_body"})})
    s2 = s.model_copy(update={"elements": [two_body if e.name == "relay-x" else e for e in s.elements]})
    geo2 = site_environment(s2).relays["relay-x"]
    assert np.abs(geo.range_m - geo2.range_m).max() > 100e3
