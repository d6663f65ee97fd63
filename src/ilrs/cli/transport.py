"""``ilrs transfer`` and ``ilrs orbit``: Earth-Moon transfers and lunar orbits, with JSON output."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from ilrs.cli.common import console, handle_errors, output_file, print_json

orbit_app = typer.Typer(
    help="Lunar orbits: the 9:2 NRHO, halo families, the relay's frozen orbit, the LLO, the descent.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def _outputs(**paths: Path | None) -> None:
    """Check the export paths given before any computation (a directory, a missing parent, no permission)."""
    for name, path in paths.items():
        if path is not None:
            output_file(path, f"--{name}")


def _print_report(out: dict, as_json: bool, width: int, digits: int) -> None:
    """A flat report as JSON, or one ``key: value`` line per entry (floats to ``digits`` decimals)."""
    if as_json:
        print_json(out)
        return
    for k, v in out.items():
        text = f"{v:.{digits}f}" if isinstance(v, float) else str(v)
        console.print(f"{k:>{width}}: {text}", highlight=False)


transfer_app = typer.Typer(
    help="Earth-Moon transfers: one targeted transfer (no subcommand) or launch windows from a site.",
    invoke_without_command=True,
    rich_markup_mode=None,
)


@transfer_app.callback(invoke_without_command=True)
@handle_errors
def transfer(
    ctx: typer.Context,
    depart: str = typer.Option("2030-06-20T09:00", help="TLI epoch, UTC."),
    tof_days: float = typer.Option(4.75, help="Time of flight [days]."),
    parking_alt_km: float = typer.Option(200.0, help="Circular parking orbit altitude [km]."),
    llo_alt_km: float = typer.Option(100.0, help="Low lunar orbit (targeted periapsis) altitude [km]."),
    inc_deg: float = typer.Option(90.0, help="Inclination of the arrival orbit to the lunar equator [deg]."),
    model: str = typer.Option("ephemeris", help="ephemeris (targeted, default) or patched-conic."),
    oem: Path = typer.Option(None, help="Write the trajectory as a CCSDS OEM file (TDB, EME2000)."),
    spk: Path = typer.Option(None, help="Write the trajectory as a SPICE SPK (type 13) file."),
    czml: Path = typer.Option(None, help="Write the trajectory as CZML for Cesium (Earth-centred inertial)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """An Earth-Moon transfer targeted in the ephemeris model (DE440s Earth, Moon, Sun; Earth J2; lunar J2/C22)
    to a lunar periapsis of given altitude and inclination, with TLI and LOI delta-v and targeting residuals."""
    if ctx.invoked_subcommand is not None:
        return
    from ilrs.services.campaign import transfer_summary

    _outputs(oem=oem, spk=spk)
    out = transfer_summary(
        depart, tof_days, parking_alt_km, llo_alt_km, oem, spk_path=spk, czml_path=czml, inc_deg=inc_deg, model=model
    )
    _print_report(out, as_json, width=20, digits=3)


@transfer_app.command("windows")
@handle_errors
def windows(
    site: str = typer.Option("wenchang", help="Launch site: wenchang, xichang, vostochny, baikonur."),
    month: str = typer.Option("2030-06", help="Calendar month of lift-off, YYYY-MM (UTC)."),
    step_min: float = typer.Option(60.0, help="Lift-off spacing [min]."),
    parking_alt_km: float = typer.Option(200.0, help="Circular parking orbit altitude [km]."),
    llo_alt_km: float = typer.Option(100.0, help="Targeted lunar periapsis altitude [km]."),
    inc_deg: float = typer.Option(90.0, help="Arrival inclination to the lunar equator [deg]."),
    max_coast_min: float = typer.Option(None, help="Longest parking-orbit coast to TLI [min] (default: one orbit)."),
    target: bool = typer.Option(True, help="Target each feasible departure in the ephemeris model."),
    plot: Path = typer.Option(None, help="Write a porkchop plot of the feasible departures (PNG)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Launch windows of a month from a launch site: parking-orbit planes the site's azimuths allow, the coast to
    TLI, and per feasible lift-off hour the TLI, flight time and LOI (patched-conic screen, then targeted in
    the ephemeris model)."""
    from ilrs.ephem.time import utc_text
    from ilrs.transport.windows import month_span, scan_windows, summary

    _outputs(plot=plot)
    start, end = month_span(month)
    scan = scan_windows(
        site,
        start,
        end,
        step_s=step_min * 60.0,
        parking_alt_km=parking_alt_km,
        periapsis_alt_km=llo_alt_km,
        arrival_inclination_deg=inc_deg,
        max_coast_s=None if max_coast_min is None else max_coast_min * 60.0,
        target=target,
    )
    out = summary(scan)
    if plot is not None:
        from ilrs.iotools.atomic import atomic_write_bytes
        from ilrs.reports.porkchop import porkchop_png

        atomic_write_bytes(plot, porkchop_png(scan))  # never a half-written PNG
        out["plot"] = str(plot)
    if as_json:
        print_json(out)
        return
    lo, hi = scan.site.inclination_range_deg
    console.print(
        f"{scan.site.name}: azimuths {scan.site.azimuth_min_deg:g}-{scan.site.azimuth_max_deg:g} deg, parking "
        f"inclinations {lo:.2f}-{hi:.2f} deg; {out['feasible_launch_epochs']} feasible of "
        f"{out['launch_epochs']} lift-off epochs in {len(scan.windows)} windows, {out['targeted']} targeted "
        f"(screen {scan.screen_s:.1f} s, targeting {scan.target_s:.1f} s)",
        highlight=False,
    )
    console.print(
        f"{'lift-off UTC':<21}{'coast min':>10}{'az deg':>8}{'inc deg':>8}{'TLI m/s':>9}{'tof d':>7}{'LOI m/s':>9}",
        highlight=False,
    )
    for d in scan.departures:
        tli, tof, loi = (
            (d.tli_dv_m_s, d.tof_s, d.loi_dv_m_s)
            if d.targeted
            else (d.conic_tli_dv_m_s, d.conic_tof_s, d.conic_loi_dv_m_s)
        )
        console.print(
            f"{utc_text(d.launch_et):<21}{d.coast_s / 60:10.1f}{d.azimuth_deg:8.1f}{d.inclination_deg:8.2f}"
            f"{tli:9.1f}{tof / 86400:7.3f}{loi:9.1f}{'' if d.targeted else '  (patched conic)'}",
            highlight=False,
        )


@orbit_app.command("nrho")
@handle_errors
def nrho(
    depart: str = typer.Option("2030-06-20T09:00", help="TLI epoch of the transfer compared, UTC."),
    tof_days: float = typer.Option(4.75, help="Its time of flight [days]."),
    revs: int = typer.Option(10, help="Revolutions in the ephemeris model (10-60; 0: CR3BP only)."),
    epoch: str = typer.Option("2030-06-01T00:00", help="Epoch of the first apolune in the ephemeris model, UTC."),
    oem: Path = typer.Option(None, help="Write the ephemeris NRHO as a CCSDS OEM file (TDB, Moon-centred EME2000)."),
    spk: Path = typer.Option(None, help="Write the ephemeris NRHO as a SPICE SPK (type 13) file."),
    czml: Path = typer.Option(None, help="Write the ephemeris NRHO as CZML for Cesium (Earth-centred inertial)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The 9:2 L2 southern near-rectilinear halo orbit (Gateway's) in the Earth-Moon CR3BP and carried into the
    ephemeris model by multiple shooting (perilune/apolune drift, station-keeping estimate), and the
    surface-direct vs Gateway-staged chains to the south pole (delta-v and time per leg)."""
    from ilrs.errors import IlrsError
    from ilrs.services.campaign import architecture_chains
    from ilrs.transport.halo import nrho_9_2, south_pole_visibility

    if not 0.5 <= tof_days <= 30.0:
        raise IlrsError(f"time of flight {tof_days} d is outside [0.5, 30] d", source="--tof-days")
    _outputs(oem=oem, spk=spk, czml=czml)
    o = nrho_9_2()
    out: dict[str, Any] = {
        "period_days": o.period_days,
        "perilune_radius_km": o.perilune_radius_km,
        "apolune_radius_km": o.apolune_radius_km,
        "jacobi": o.jacobi,
        "state0_nondim": list(o.state0),
        "south_pole_visible_fraction": south_pole_visibility(o),
    }
    figures: list[Any] = []
    if revs:
        from ilrs.ephem.time import to_et
        from ilrs.transport.nrho_ephemeris import nrho_report

        out["ephemeris"] = nrho_report(
            float(to_et(epoch)[0]), revs, oem_path=oem, spk_path=spk, czml_path=czml, figures=figures
        )
    elif oem is not None or spk is not None or czml is not None:
        raise IlrsError("OEM/SPK/CZML export needs the ephemeris model", source="--revs", hint="give --revs 10 or more")
    # the staged chain uses the ephemeris NRHO's perilunes, mean period and station-keeping when it was flown
    out["architectures"] = architecture_chains(
        nrho=o, depart=depart, tof_days=tof_days, ephemeris=figures[0] if figures else None
    )
    if as_json:
        print_json(out)
        return
    console.print(
        f"9:2 NRHO: period {o.period_days:.4f} d, perilune radius {o.perilune_radius_km:,.0f} km, "
        f"apolune radius {o.apolune_radius_km:,.0f} km, Jacobi {o.jacobi:.5f}, above 10 deg from the "
        f"south pole {100 * out['south_pole_visible_fraction']:.0f} % of the period"
    )
    if revs:
        e = out["ephemeris"]
        console.print(
            f"ephemeris model ({revs} revolutions from {epoch}): multiple shooting converged in "
            f"{e['iterations']} iterations ({e['max_discontinuity_m']:.3f} m left); perilune "
            f"{e['perilune_radius_km_range'][0]:,.0f}-{e['perilune_radius_km_range'][1]:,.0f} km, apolune "
            f"{e['apolune_radius_km_range'][0]:,.0f}-{e['apolune_radius_km_range'][1]:,.0f} km; station-keeping "
            f"estimate {e['station_keeping_m_s_per_year']:.2f} m/s per year; mean period {e['mean_period_days']:.4f} d",
            highlight=False,
        )
    for a in out["architectures"]:
        console.print(
            f"\n{a['architecture']}: {a['delta_v_after_tli_m_s']:,.0f} m/s after TLI, "
            f"{a['tli_to_surface_days']:.2f} d TLI to touchdown, CZ-10 lands {a['cz10_landed_kg']:,.0f} kg; "
            f"{a['south_pole_access']}",
            highlight=False,
        )
        for leg in a["legs"]:
            model = f"  (model {leg['model_m_s']:,.0f} m/s, {leg['model_kind']})" if leg["model_m_s"] else ""
            console.print(
                f"  {leg['name']:<52} {leg['delta_v_m_s']:7,.0f} m/s {leg['days']:6.2f} d{model}", highlight=False
            )


@orbit_app.command("halo")
@handle_errors
def halo(
    l_point: int = typer.Option(2, min=1, max=2, help="Libration point (1 or 2)."),
    n: int = typer.Option(200, min=2, max=400, help="Largest number of members (continuation stops at the Moon)."),
    step: float = typer.Option(0.01, min=0.001, max=0.05, help="Continuation step [nondimensional]."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The southern halo family about L1 or L2 by continuation, by default the whole family from the planar
    Lyapunov bifurcation down to the NRHOs (until a member's perilune would fall inside the Moon): periods,
    Jacobi constants, perilune radii."""
    from ilrs.transport.halo import halo_family

    f = halo_family(l_point, n, step=step)
    rows = [
        {"period_days": float(p), "jacobi": float(j), "perilune_radius_km": float(r)}
        for p, j, r in zip(f.periods_days, f.jacobi, f.perilune_radius_km, strict=True)
    ]
    if as_json:
        print_json(rows)
        return
    for r in rows:
        console.print(
            f"period {r['period_days']:7.3f} d  Jacobi {r['jacobi']:.5f}  perilune {r['perilune_radius_km']:9,.0f} km"
        )


@orbit_app.command("relay")
@handle_errors
def relay(
    epoch: str = typer.Option("2030-06-01T00:00", help="Epoch of the orbit (at perilune), UTC."),
    days: float = typer.Option(365.0, help="Span to fly [days]."),
    min_perilune_km: float = typer.Option(100.0, help="Perilune altitude floor held by station-keeping [km]."),
    restore_perilune_km: float = typer.Option(None, help="Perilune a burn restores [km] (default: the design's)."),
    oem: Path = typer.Option(None, help="Write the flight as a CCSDS OEM file (TDB, Moon-centred EME2000)."),
    spk: Path = typer.Option(None, help="Write the flight as a SPICE SPK (type 13) file."),
    czml: Path = typer.Option(None, help="Write the flight as CZML for Cesium (Earth-centred inertial)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The relay's frozen elliptical orbit (Queqiao-2-like, 200 x 16,000 km) designed and flown in the perturbed
    field (Earth, Sun, lunar J2/C22): elements, mean e and periapsis argument bounds, lifetime without
    manoeuvres, station-keeping delta-v per year, and the comparison with Queqiao-2's published orbit."""
    from ilrs.ephem.time import to_et
    from ilrs.transport.relay import relay_report

    _outputs(oem=oem, spk=spk, czml=czml)
    out = relay_report(
        float(to_et(epoch)[0]),
        days,
        min_perilune_alt_km=min_perilune_km,
        restore_perilune_alt_km=restore_perilune_km,
        oem_path=oem,
        spk_path=spk,
        czml_path=czml,
    )
    _print_report(out, as_json, width=40, digits=4)


@orbit_app.command("llo")
@handle_errors
def llo(
    epoch: str = typer.Option("2030-06-01T00:00", help="Epoch of the orbit (at its ascending node), UTC."),
    days: float = typer.Option(28.0, help="Span to fly [days] (up to 366)."),
    alt_km: float = typer.Option(100.0, help="Circular orbit altitude above the 1737.4 km sphere [km]."),
    inc_deg: float = typer.Option(90.0, help="Inclination to the lunar equator (MOON_ME) [deg]; 90 is polar."),
    node_lon_deg: float = typer.Option(0.0, help="MOON_ME longitude of the ascending node at the epoch [deg]."),
    min_perilune_km: float = typer.Option(None, help="Perilune altitude floor held by station-keeping [km]."),
    oem: Path = typer.Option(None, help="Write the flight as a CCSDS OEM file (TDB, Moon-centred EME2000)."),
    spk: Path = typer.Option(None, help="Write the flight as a SPICE SPK (type 13) file."),
    czml: Path = typer.Option(None, help="Write the flight as CZML for Cesium (Earth-centred inertial)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """A circular low lunar orbit flown in the perturbed field (Earth, Sun, lunar J2/C22): perilune and apolune
    range, inclination drift, lifetime without manoeuvres, station-keeping above a floor, and its export."""
    from ilrs.ephem.time import to_et
    from ilrs.transport.llo import llo_report

    _outputs(oem=oem, spk=spk, czml=czml)
    out = llo_report(
        float(to_et(epoch)[0]),
        days,
        alt_km,
        inc_deg,
        node_lon_deg,
        min_perilune_alt_km=min_perilune_km,
        oem_path=oem,
        spk_path=spk,
        czml_path=czml,
    )
    _print_report(out, as_json, width=40, digits=4)


@orbit_app.command("descent")
@handle_errors
def descent(
    case: str = typer.Option(
        "gravity-turn",
        help="gravity-turn: DOI from the LLO then a gravity turn; apollo11: Apollo 11's powered descent flown like "
        "for like (PDI state, LM mass, DPS thrust and throttle, flight gates) against its published delta-v.",
    ),
    llo_alt_km: float = typer.Option(100.0, help="Circular low lunar orbit altitude [km] (gravity-turn)."),
    thrust_to_weight: float = typer.Option(1.8, help="Initial thrust over lunar weight at ignition (gravity-turn)."),
    isp_s: float | None = typer.Option(
        None, help="Specific impulse [s] (default: 311 s for gravity-turn, the DPS's 305 s for apollo11)."
    ),
    mass_kg: float | None = typer.Option(None, help="LM mass at PDI [kg] (apollo11; default the flown 15,150.8 kg)."),
    thrust_n: float | None = typer.Option(
        None, help="Descent engine rated thrust [N] (apollo11; default the DPS's 46,706 N, flown at 92.5 %)."
    ),
    pdi_alt_km: float | None = typer.Option(None, help="PDI altitude [km] (apollo11; default the flown 14.88 km)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Powered descent. gravity-turn: descent-orbit insertion from a circular LLO, then a gravity turn whose
    ignition altitude makes it stop at the surface. apollo11: the Apollo 11 descent (fixed-throttle braking, then
    throttled explicit guidance through the flight's gates), compared with the Mission Report's 6,775 ft/s.
    Prints delta-v, gravity and steering losses, burn time, downrange, propellant."""
    from ilrs.errors import IlrsError

    if case == "apollo11":
        _apollo11(mass_kg, thrust_n, isp_s, pdi_alt_km, as_json)
        return
    if case != "gravity-turn":
        raise IlrsError(f"unknown case {case!r}", source="--case", hint="gravity-turn or apollo11")
    for name, value in (("--mass-kg", mass_kg), ("--thrust-n", thrust_n), ("--pdi-alt-km", pdi_alt_km)):
        if value is not None:
            raise IlrsError(f"{name} applies to --case apollo11 only", source=name)
    from ilrs.transport.descent import gravity_turn_descent

    d = gravity_turn_descent(llo_alt_km, thrust_to_weight, 311.0 if isp_s is None else isp_s)
    out = {
        "llo_alt_km": d.llo_alt_km,
        "thrust_to_weight": d.thrust_to_weight,
        "isp_s": d.isp_s,
        "ignition_alt_km": d.ignition_alt_km,
        "doi_dv_m_s": d.doi_dv_m_s,
        "powered_dv_m_s": d.powered_dv_m_s,
        "gravity_loss_m_s": d.gravity_loss_m_s,
        "total_dv_m_s": d.total_dv_m_s,
        "burn_time_s": d.burn_time_s,
        "downrange_km": d.downrange_km,
        "propellant_fraction": d.propellant_fraction,
    }
    _print_report(out, as_json, width=20, digits=3)


def _apollo11(
    mass_kg: float | None, thrust_n: float | None, isp_s: float | None, pdi_alt_km: float | None, as_json: bool
) -> None:
    """The Apollo 11 reference descent and its published figures."""
    from ilrs.transport import guided_descent as g

    d = g.apollo11_descent(mass_kg, thrust_n, isp_s, pdi_alt_km)
    _print_report(g.apollo11_figures(d), as_json, width=32, digits=3)
