"""Surface-direct vs Gateway-staged chains against published figures, and ``ilrs orbit nrho --json``.

References (one-way): Acta Astronautica 2020, Table 4 (PMC7385728; ILRS-FACTS 3.3), 5 % reserve included:
TLI -> LLO 952, TLI -> NRHO 450, NRHO -> LLO 740, LLO -> surface 2,180 m/s. Whitley & Martinez 2016, "Options for
Staging Orbits in Cis-Lunar Space" (NASA NTRS 20150019648): ~5 days Earth -> NRHO, ~0.5 day and ~730 m/s
NRHO -> LLO. ESA 2019 ("Orbiting lunar Gateway"): about five days to the Gateway, perilune ~3,000 km above the
surface. Lee 2019 (NTRS 20190030294): the 9:2 NRHO's period is 2/9 of the synodic month, ~6.56 d.
"""

from __future__ import annotations

import json

import pytest

from ilrs.constants import MOON_RADIUS_M
from ilrs.ephem.time import to_et
from ilrs.transport.halo import nrho_9_2
from ilrs.transport.staging import circular_period_s, compare, nrho_perilune, nrho_to_llo_dv
from ilrs.transport.transfer import direct_transfer
from tests.clirunner import assert_ok, assert_user_error, invoke

RESERVE = 1.05  # Acta Astronautica 2020 Table 4 includes a 5 % reserve


@pytest.fixture(scope="module")
def chains():
    t = direct_transfer(float(to_et("2030-06-20T09:00")[0]), 4.75 * 86400.0)
    return compare(t, nrho_9_2())


def _leg(arch, prefix):
    return next(leg for leg in arch.legs if leg.name.startswith(prefix))


def test_chains_sum_the_published_legs(chains):
    direct, staged = chains
    assert direct.delta_v_after_tli_m_s == pytest.approx(952.0 + 2180.0)
    assert staged.delta_v_after_tli_m_s == pytest.approx(450.0 + 740.0 + 2180.0)
    # staging costs 238 m/s more after TLI; a forum post [low] quotes ~300 m/s for the NRHO -> surface penalty
    assert 200.0 < staged.delta_v_after_tli_m_s - direct.delta_v_after_tli_m_s < 300.0
    # Earth -> NRHO ~5 d (Whitley & Martinez 2016, ESA 2019) + mean wait of half a 6.56 d period + ~0.5 d down
    assert staged.days == pytest.approx(5.0 + 6.562 / 2 + 0.5 + 12 / 1440, abs=0.02)
    # the direct transfer flown here: 4.75 d coast + half a 1.96 h LLO revolution + ~12 min descent
    assert direct.days == pytest.approx(4.75 + 0.98 / 24 + 12 / 1440, abs=0.01)
    assert "97 %" in staged.pole_access and "1.96 h" in direct.pole_access


def test_direct_legs_by_our_model_against_published(chains):
    """Patched conics from a 200 km LEO vs the table's 407 km LEO without its reserve: TLI 3,120 m/s (+0.7 %
    measured) to 3 %, since 200 vs 407 km changes it by ~1.5 %; LOI 907 m/s to 15 % (measured -10.6 %): the
    arrival v-infinity changes by that much with the Moon's distance over a month (see test_transfer)."""
    direct, _ = chains
    assert _leg(direct, "TLI").model_m_s == pytest.approx(3276.0 / RESERVE, rel=0.03)
    assert _leg(direct, "LOI").model_m_s == pytest.approx(952.0 / RESERVE, rel=0.15)


def test_nrho_legs_bound_the_published_figures(chains):
    """Our NRHO -> LLO is two impulses from perilune (upper bound): it must exceed the optimised published 730 m/s
    (Whitley & Martinez) and stay within 25 % of it (measured +20 %; psatellite.com's "Artemis: From Gateway to Low
    Lunar Orbit" gets 0.49 + 0.39 = 0.88 km/s the same way, to a 15 km orbit). The NRHO insertion from the
    hyperbola is a lower bound and must stay below the table's 450 / 1.05 = 429 m/s."""
    _, staged = chains
    to_llo = _leg(staged, "NRHO -> ").model_m_s
    assert 730.0 <= to_llo <= 1.25 * 730.0
    assert 0.0 < _leg(staged, "NRHO insertion").model_m_s < 450.0 / RESERVE


def test_nrho_perilune_and_llo_period_against_published():
    """9:2 NRHO perilune radius ~3,250 km (cislunar.news, ILRS-FACTS 3.4, which takes 3,000-3,300 km given ESA's
    ~3,000 km) to 2 %; its perilune speed lies between circular and escape speed there (nearly parabolic).
    A 100 km circular LLO: Apollo 11's CSM in a 100 x 122 km orbit went round in about 2 h; Kepler for 100 km
    gives 1.96 h (-2 % for the lower, circular orbit), so 3 %."""
    rp, vp = nrho_perilune(nrho_9_2())
    assert rp / 1e3 == pytest.approx(3250.0, rel=0.02)
    mu = 4.902800118e12
    assert (mu / rp) ** 0.5 < vp < (2 * mu / rp) ** 0.5
    assert circular_period_s(MOON_RADIUS_M + 100e3) / 3600.0 == pytest.approx(2.0, rel=0.03)
    dv, t = nrho_to_llo_dv(rp, vp, MOON_RADIUS_M + 100e3)
    assert t / 3600.0 < 12.0  # the half ellipse is faster than the published ~0.5 d transfer


def test_orbit_nrho_json_has_both_chains():
    r = assert_ok(invoke("orbit", "nrho", "--json"))
    out = json.loads(r.stdout)
    arch = {a["architecture"]: a for a in out["architectures"]}
    assert set(arch) == {"surface-direct", "gateway-staged"}
    assert arch["gateway-staged"]["cz10_landed_kg"] < arch["surface-direct"]["cz10_landed_kg"]
    names = [leg["name"] for leg in arch["gateway-staged"]["legs"]]
    assert names[:3] == ["TLI", "coast Earth -> NRHO", "NRHO insertion"] and names[-1].startswith("descent")
    assert_user_error(invoke("orbit", "nrho", "--tof-days", "99"), "--tof-days")


@pytest.fixture(scope="module")
def ephemeris_chains(tmp_path_factory):
    """The staged chain with the NRHO flown 10 revolutions in the ephemeris model (as ``ilrs orbit nrho``)."""
    from ilrs.transport.nrho_ephemeris import nrho_report

    d = tmp_path_factory.mktemp("nrho_chain")
    figures: list = []
    report = nrho_report(float(to_et("2030-06-01T00:00")[0]), 10, spk_path=d / "n.bsp", figures=figures)
    t = direct_transfer(float(to_et("2030-06-20T09:00")[0]), 4.75 * 86400.0)
    return compare(t, nrho_9_2(), ephemeris=figures[0]), figures[0], report, d / "n.bsp"


def test_ephemeris_perilunes_are_where_spice_reads_the_exported_nrho(ephemeris_chains):
    """Each revolution's perilune (epoch, radius, inertial speed) that the staged chain uses, against SPICE
    reading the run's SPK at that epoch: radius within 10 m and speed within 5 mm/s (the propagator's periapsis
    event against SPICE's degree-7 Hermite between the recorded states: metres and mm/s at most), and the
    radial speed there below 0.5 m/s (it is the perilune: 0.5 m/s is 0.3 s of a 1.7 km/s pass at 3,250 km)."""
    import numpy as np
    import spiceypy

    from ilrs.ephem.kernels import SPICE_LOCK
    from ilrs.transport.nrho_ephemeris import NRHO_NAIF_ID

    _, fig, _, spk = ephemeris_chains
    with SPICE_LOCK:
        spiceypy.furnsh(str(spk))
        try:
            st = np.array(
                [spiceypy.spkezr(str(NRHO_NAIF_ID), float(t), "J2000", "NONE", "MOON")[0] for t in fig.perilune_et]
            )
        finally:
            spiceypy.unload(str(spk))
    r = np.linalg.norm(st[:, :3], axis=1) * 1e3
    v = np.linalg.norm(st[:, 3:], axis=1) * 1e3
    print(f"perilunes vs SPICE: {np.abs(r - fig.perilune_radius_m).max():.4f} m, "
          f"{np.abs(v - fig.perilune_speed_m_s).max() * 1e3:.4f} mm/s")  # fmt: skip
    assert np.abs(r - fig.perilune_radius_m).max() < 10.0
    assert np.abs(v - fig.perilune_speed_m_s).max() < 5e-3
    assert (np.abs(np.einsum("ij,ij->i", st[:, :3], st[:, 3:])) / np.linalg.norm(st[:, :3], axis=1)).max() < 0.5e-3


def test_staged_chain_uses_the_ephemeris_nrho(ephemeris_chains):
    """With the ephemeris NRHO the staged chain waits half its *mean* period, which is the 9:2 resonance's 2/9
    of the synodic month, 6.562 d (Lee 2019, NTRS 20190030294), to 0.01 d (one perilune timing of ~minutes
    over 9 intervals); it carries an orbit-maintenance leg whose budget is Whitley & Martinez's < 10 m/s per year
    over the wait and whose model value (our station-keeping estimate) stays below it; its NRHO -> LLO upper
    bound keeps the CR3BP chain's bracket around the published 730 m/s (see test_nrho_legs_bound_the_published_
    figures) and moves by < 3 % from the CR3BP value (perilunes within 300 km of the CR3BP's)."""
    (_, staged), fig, report, _ = ephemeris_chains
    assert fig.mean_period_days == pytest.approx(2.0 / 9.0 * 29.530588861, abs=0.01)
    assert report["mean_period_days"] == fig.mean_period_days
    wait = _leg(staged, "wait in the NRHO")
    assert wait.days == pytest.approx(0.5 * fig.mean_period_days)
    assert "ephemeris model, 10 revolutions" in wait.source
    upkeep = _leg(staged, "NRHO orbit maintenance")
    assert upkeep.delta_v_m_s == pytest.approx(10.0 * wait.days / 365.25)
    assert 0.0 < upkeep.model_m_s < upkeep.delta_v_m_s
    to_llo = _leg(staged, "NRHO -> ").model_m_s
    assert 730.0 <= to_llo <= 1.25 * 730.0
    rp, vp = nrho_perilune(nrho_9_2())
    cr3bp_to_llo, _ = nrho_to_llo_dv(rp, vp, MOON_RADIUS_M + 100e3)
    assert to_llo == pytest.approx(cr3bp_to_llo, rel=0.03)
    assert 0.0 < _leg(staged, "NRHO insertion").model_m_s < 450.0 / RESERVE
    assert staged.delta_v_after_tli_m_s == pytest.approx(450.0 + 740.0 + 2180.0 + upkeep.delta_v_m_s)
