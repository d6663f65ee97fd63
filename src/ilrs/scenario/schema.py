"""The scenario schema: where the station stands, what it is made of and when each element arrives.

Every quantity carries its unit in its name (``_kw``, ``_m``, ``_hz``...). A scenario is validated as a whole
before any computation: types, ranges, arrival dates inside the run, unique element names, known stations.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, TypeAdapter, field_validator, model_validator

from ilrs.config import PACKAGE_DATA
from ilrs.constants import JULIAN_YEAR_D, NODAL_CYCLE_YEARS
from ilrs.ephem.time import default_sample_windows

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
Efficiency = Annotated[float, Field(gt=0.0, le=1.0)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _utc(value):
    """Dates and naive datetimes are UTC; aware ones are converted to UTC."""
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    return value


class Site(_Model):
    """Where the station stands: a named site (``ilrs site list``) or a latitude and longitude."""

    name: str | None = Field(None, description="Key of a named site, e.g. 'cr1' (see `ilrs site list`).")
    lat_deg: float | None = Field(None, ge=-90.0, le=90.0, description="Planetocentric latitude [deg].")
    lon_deg: float | None = Field(None, description="East longitude [deg].")
    source: str | None = Field(None, description="Why this site: reference or ranking run.")

    @model_validator(mode="after")
    def _named_or_coordinates(self):
        if self.name is None and (self.lat_deg is None or self.lon_deg is None):
            raise ValueError("give either name or both lat_deg and lon_deg")
        if self.name is not None and (self.lat_deg is not None or self.lon_deg is not None):
            raise ValueError(f"give either name ({self.name!r}) or lat_deg and lon_deg, not both: they could disagree")
        return self


class PowerManagement(_Model):
    """How the station protects its critical loads when energy runs short."""

    shed_below_soc: list[float] = Field(
        default_factory=lambda: [0.0, 0.0, 0.35, 0.45, 0.55],
        description="Per priority 1..5: the battery state of charge below which that class no longer draws on "
        "the battery (low priorities give up early so that the critical ones last the night) [-].",
    )

    @field_validator("shed_below_soc")
    @classmethod
    def _thresholds(cls, v: list[float]) -> list[float]:
        if len(v) != 5 or not all(0.0 <= x <= 1.0 for x in v):
            raise ValueError("give five thresholds in [0, 1], one per priority 1..5")
        if v[0] != 0.0:
            raise ValueError("priority 1 is never shed early: its threshold must be 0")
        if any(b < a for a, b in zip(v, v[1:], strict=False)):
            raise ValueError("a lower priority must not keep the battery longer than a higher one")
        return v


class Analysis(_Model):
    """The site analysis `ilrs run` makes around the station: maps and ranking of the region, and the year at the
    best site. Every field defaults from the scenario itself."""

    start: dt.datetime | None = Field(None, description="Start of the analysis (UTC); default: the run's start.")
    end: dt.datetime | None = Field(
        None, description="End of the analysis (UTC); default: a full 18.6-year nodal cycle after its start."
    )
    step: str = Field("1h", description="Time step of the maps: '1h', '30m', or seconds; at most 1 day.")
    windows: int | None = Field(
        None,
        ge=0,
        le=1000,
        description="Windows of 30 days that sample the maps' period, spread evenly over it (0: every step); "
        "default: 12 (the cost of one year of steps) when the period is longer than a year, else 0.",
    )
    map_height_m: float | None = Field(
        None,
        ge=0.0,
        le=200.0,
        description="Height the maps see the Sun from [m] (the arrays'); default: the highest array's mast.",
    )
    antenna_height_m: float | None = Field(
        None,
        ge=0.0,
        le=200.0,
        description="Height the maps see the Earth from [m] (the antennas'); default: the highest DTE or relay "
        "antenna, else the map height.",
    )
    mast_height_m: float | None = Field(
        None, ge=0.0, le=200.0, description="Observer height of the best site's year [m]; default: the highest mast."
    )
    trade_space: str | None = Field(
        None,
        description="A design space (a file, relative to the scenario's, or a built-in name such as "
        "'report-power-2035') whose grid study `ilrs run` adds to its report; none: no study.",
    )

    _span_utc = field_validator("start", "end", mode="before")(_utc)


class _Element(_Model):
    name: str = Field(description="Unique name of the element.")
    arrival: dt.datetime = Field(description="When the element starts working (UTC date or date-time).")
    mission: str | None = Field(None, description="The mission that delivers it, e.g. 'ILRS-1'.")
    source: str | None = Field(None, description="Source of the element's figures.")

    _arrival_utc = field_validator("arrival", mode="before")(_utc)


class SolarArray(_Element):
    """Photovoltaic array on a mast; the mast height sets the horizon it sees, its vertical extent how much of it
    a low Sun lights."""

    kind: Literal["solar_array"]
    area_m2: float = Field(gt=0.0, description="Panel area (cells and the gaps between them) [m2].")
    cell_efficiency: float = Field(gt=0.0, le=0.5, description="Cell efficiency at beginning of life, 28 C, AM0 [-].")
    mast_height_m: float = Field(ge=0.0, le=200.0, description="Height of the array's centre above ground [m].")
    tracking: Literal["vertical_single_axis", "fixed"] = Field(
        "vertical_single_axis", description="Vertical panel turning about a vertical axis to face the Sun, or fixed."
    )
    azimuth_deg: float = Field(0.0, ge=0.0, lt=360.0, description="Facing azimuth of a fixed array [deg].")
    degradation_per_year: float = Field(
        0.005, ge=0.0, le=0.2, description="Cell degradation per year (radiation, UV, thermal cycling) [-]."
    )
    packing_factor: Fraction = Field(
        0.85, description="Cell area / panel area (Patel, 'Spacecraft Power Systems', 2005: 0.85-0.90) [-]."
    )
    temperature_coefficient_per_k: float = Field(
        -0.0025,
        ge=-0.01,
        le=0.0,
        description="Relative efficiency change per kelvin above 28 C (triple-junction GaAs: -0.2 to -0.3 %/K) [1/K].",
    )
    solar_absorptance: Fraction = Field(0.91, description="Sunlit face, cells with cover glass [-].")
    emittance: Fraction = Field(0.85, description="Infrared emittance of each face [-].")
    mppt_efficiency: Efficiency = Field(0.97, description="Maximum-power-point tracker and converter [-].")
    harness_loss: float = Field(0.02, ge=0.0, lt=0.5, description="Cable and distribution loss to the bus [-].")
    dust_loss_per_year: float = Field(
        0.005, ge=0.0, lt=0.5, description="Output lost per year to settling dust (engineering default) [-]."
    )
    dust_loss_per_landing: float = Field(
        0.01,
        ge=0.0,
        lt=0.5,
        description="Output lost to the plume of each later landing at the site (engineering default) [-].",
    )
    vertical_extent_m: float = Field(
        2.0, ge=0.0, le=50.0, description="Height of the panel, centred on the mast height [m]."
    )
    string_layout: Literal["horizontal", "vertical"] = Field(
        "horizontal",
        description="Strings along rows (each row at its own height) or up the panel (a string is as weak as its "
        "most shaded cell).",
    )


class Battery(_Element):
    """Rechargeable battery."""

    kind: Literal["battery"]
    capacity_kwh: float = Field(gt=0.0, description="Usable nameplate energy [kWh].")
    charge_efficiency: Efficiency = Field(0.95, description="Stored / delivered energy when charging [-].")
    discharge_efficiency: Efficiency = Field(0.95, description="Delivered / drawn energy when discharging [-].")
    min_soc: float = Field(0.2, ge=0.0, lt=1.0, description="Reserve state of charge not to go below [-].")
    initial_soc: Fraction = Field(1.0, description="State of charge on arrival [-].")
    max_charge_kw: float = Field(gt=0.0, description="Charge power limit [kW].")
    max_discharge_kw: float = Field(gt=0.0, description="Discharge power limit [kW].")
    calendar_fade_per_year: float = Field(
        0.02,
        ge=0.0,
        lt=0.5,
        description="Capacity lost per year (Li-ion at moderate temperature; Smith et al., NREL, ACC 2017) [-].",
    )
    cycle_fade: float = Field(
        5e-5,
        ge=0.0,
        lt=0.01,
        description="Capacity lost per equivalent full cycle (20 % after 4,000 cycles; Smith et al. 2017) [-].",
    )


class RegenerativeFuelCell(_Element):
    """Electrolyser + fuel cell energy store."""

    kind: Literal["regenerative_fuel_cell"]
    capacity_kwh: float = Field(gt=0.0, description="Stored energy as reactants [kWh].")
    round_trip_efficiency: Efficiency = Field(0.5, description="Electric energy out / in [-].")
    max_power_kw: float = Field(gt=0.0, description="Charge and discharge power limit [kW].")


class FissionUnit(_Element):
    """Fission surface power unit: power ascension after arrival, then its rated output less planned outages and
    the cable to the station."""

    kind: Literal["fission"]
    power_kw: float = Field(gt=0.0, description="Rated electric output [kWe].")
    commissioning_days: float = Field(
        30.0, ge=0.0, le=365.0, description="Linear power ascension after arrival (engineering default) [d]."
    )
    availability: float = Field(
        0.98, gt=0.0, le=1.0, description="Fraction of the time at power once commissioned (trips and restarts) [-]."
    )
    trip_recovery_days: float = Field(
        3.0, ge=0.0, le=60.0, description="Down time of each trip, restart included (engineering default) [d]."
    )
    cable_loss: float = Field(
        0.03, ge=0.0, lt=0.5, description="Transmission loss of the ~1 km cable from the exclusion zone [-]."
    )


class Rtg(_Element):
    """Radioisotope generator, decaying with its isotope's half-life."""

    kind: Literal["rtg"]
    power_w: float = Field(gt=0.0, description="Electric output at arrival [We].")
    half_life_years: float = Field(87.7, gt=0.0, description="Isotope half-life [yr] (Pu-238: 87.7).")


class Load(_Element):
    """A constant electrical load, shed by priority when energy runs short."""

    kind: Literal["load"]
    power_kw: float = Field(ge=0.0, description="Power draw [kW].")
    priority: int = Field(3, ge=1, le=5, description="1 = never shed (life support, avionics) ... 5 = first shed.")


class SurvivalHeater(_Element):
    """Heaters that hold an insulated enclosure at its setpoint: a lumped thermal model (the blanket's outer layer
    in radiative balance with the Sun at the enclosure's height, the terrain and the sky), or a fixed dark/lit
    draw when ``radiating_area_m2`` is not given."""

    kind: Literal["heater"]
    priority: int = Field(1, ge=1, le=5, description="Shedding priority (1 = never shed).")
    height_m: float = Field(1.0, ge=0.0, le=200.0, description="Height of the enclosure's centre [m].")
    radiating_area_m2: float | None = Field(
        None, gt=0.0, description="Outer area of the insulated enclosure [m2]; gives the thermal model."
    )
    setpoint_c: float = Field(0.0, ge=-60.0, le=60.0, description="Temperature held inside [C].")
    effective_emittance: float = Field(
        0.03,
        gt=0.0,
        le=1.0,
        description="Multilayer insulation's effective emittance (Gilmore 2002, ch. 5: 0.015-0.05 as built) [-].",
    )
    outer_absorptance: Fraction = Field(0.4, description="Solar absorptance of the blanket's outer layer [-].")
    outer_emittance: Efficiency = Field(0.8, description="Infrared emittance of the outer layer [-].")
    sunlit_area_fraction: Fraction = Field(
        0.25, description="Share of the area facing a low Sun (one vertical face of a box) [-]."
    )
    internal_dissipation_kw: float = Field(
        0.0, ge=0.0, description="Heat the enclosed equipment dissipates anyway [kW]."
    )
    power_dark_kw: float | None = Field(
        None, ge=0.0, description="Without the thermal model: draw while the enclosure is in shadow [kW]."
    )
    power_lit_kw: float = Field(0.0, ge=0.0, description="Without the thermal model: draw while it is lit [kW].")

    @model_validator(mode="after")
    def _model_given(self):
        if self.radiating_area_m2 is None and self.power_dark_kw is None:
            raise ValueError("give radiating_area_m2 (thermal model) or power_dark_kw (fixed draw)")
        return self


class Payload(_Element):
    """A science or technology payload: power and data."""

    kind: Literal["payload"]
    power_kw: float = Field(ge=0.0, description="Power draw while operating [kW].")
    data_rate_mbps: float = Field(ge=0.0, description="Data generated while operating [Mbit/s].")
    duty_cycle: Fraction = Field(1.0, description="Fraction of the time it operates [-].")
    priority: int = Field(4, ge=1, le=5, description="Shedding priority.")


class DataStorage(_Element):
    """On-board data storage that payloads fill and links drain."""

    kind: Literal["storage"]
    capacity_gbit: float = Field(gt=0.0, description="Capacity [Gbit].")


class _Link(_Model):
    frequency_hz: float = Field(gt=1e8, lt=1e12, description="Carrier frequency [Hz].")
    tx_power_w: float = Field(gt=0.0, description="Transmitter RF output [W].")
    antenna_diameter_m: float = Field(gt=0.0, le=20.0, description="Station-side antenna diameter [m].")
    aperture_efficiency: Efficiency = Field(0.55, description="Antenna aperture efficiency [-].")
    modcods: list[str] | None = Field(
        None,
        description="CCSDS modulation and coding options the radios implement, by name (ilrs.station.modcod: "
        "'bpsk-rs-conv-1/2', 'qpsk-1/2', '8psk-3/4', ...); unset: all. The twin uses the fastest that closes.",
    )
    required_ebn0_db: float | None = Field(
        None,
        description="Instead of `modcods`: the Eb/N0 one fixed modulation and coding needs, implementation loss "
        "included [dB] (no band limit).",
    )
    implementation_loss_db: float = Field(
        1.0, ge=0.0, le=10.0, description="Demodulator and decoder losses above the options' ideal Eb/N0 [dB]."
    )
    bandwidth_mhz: float | None = Field(
        None,
        gt=0.0,
        description="Occupied bandwidth allowed [MHz]; unset: the band allocation holding the frequency "
        "(X 8450-8500 MHz for lunar missions, Ka 25.5-27 GHz: ilrs.station.links.BAND_ALLOCATIONS_HZ).",
    )
    margin_db: float = Field(3.0, ge=0.0, description="Link margin kept [dB].")
    max_rate_mbps: float = Field(gt=0.0, description="Terminal's highest data rate [Mbit/s].")
    power_kw: float = Field(ge=0.0, description="Terminal's power draw while transmitting [kW].")
    moon_brightness_k: float = Field(
        250.0,
        ge=0.0,
        le=400.0,
        description="Microwave brightness of the Moon's disk in the receiving antenna's beam [K] (Maral & "
        "Bousquet: 250 K).",
    )


class DteTerminal(_Element, _Link):
    """Direct-to-Earth terminal: talks when the Earth is above the terrain and the Moon above a station's mask."""

    kind: Literal["dte"]
    antenna_height_m: float = Field(ge=0.0, le=200.0, description="Antenna height above ground [m].")
    stations: list[str] = Field(
        default_factory=lambda: ["kashi", "jiamusi", "neuquen", "bear_lakes", "ussuriysk"],
        description="Ground station keys (see ilrs.ephem.ground_stations).",
    )
    min_elevation_deg: float = Field(10.0, ge=0.0, le=60.0, description="Moon elevation mask at the stations [deg].")
    rx_system_noise_k: float = Field(
        gt=0.0,
        description="Ground receiving system's own noise temperature (LNA, feed, waveguide, spillover) [K]; the "
        "twin adds the sky's at the Moon's elevation (ITU-R P.618) and the Moon's disk in the beam.",
    )
    weather_exceedance_percent: float = Field(
        5.0,
        ge=0.001,
        le=5.0,
        description="Weather the rate is planned for: atmospheric losses exceeded this percentage of the year "
        "(5: '95 % weather') [%].",
    )

    @model_validator(mode="after")
    def _stations_receive_it(self):
        from ilrs.ephem.ground_stations import STATION_RX_BANDS_HZ

        if not any(lo <= self.frequency_hz <= hi for lo, hi in STATION_RX_BANDS_HZ):
            bands = ", ".join(f"{lo / 1e9:g}-{hi / 1e9:g} GHz" for lo, hi in STATION_RX_BANDS_HZ)
            raise ValueError(
                f"receiver frequency mismatch: the ground stations receive {bands}, not {self.frequency_hz / 1e9:g} GHz"
            )
        return self


class RelayOrbit(_Model):
    model: Literal["perturbed_frozen", "two_body"] = Field(
        "perturbed_frozen",
        description="perturbed_frozen: designed frozen in the Earth-Moon plane for the apsides and flown with the "
        "Earth, the Sun and lunar J2/C22 (inclination, node and periapsis argument are the design's); two_body: "
        "the Kepler ellipse of these elements (a two-body reference that does not stay frozen).",
    )
    periapsis_alt_km: float = Field(200.0, gt=0.0, description="Periapsis altitude [km].")
    apoapsis_alt_km: float = Field(16_000.0, gt=0.0, description="Apoapsis altitude [km].")
    inc_deg: float = Field(62.4, ge=0.0, le=180.0, description="two_body: inclination to the lunar equator [deg].")
    raan_deg: float = Field(0.0, ge=0.0, lt=360.0, description="two_body: ascending node in MOON_ME [deg].")
    argp_deg: float = Field(90.0, ge=0.0, lt=360.0, description="two_body: argument of periapsis [deg].")


class RelayTerminal(_Element, _Link):
    """Link to a relay satellite in a frozen elliptical lunar orbit (a Queqiao-2-like default)."""

    kind: Literal["relay"]
    antenna_height_m: float = Field(ge=0.0, le=200.0, description="Antenna height above ground [m].")
    orbit: RelayOrbit = Field(default_factory=RelayOrbit, description="The relay's orbit.")
    min_elevation_deg: float = Field(5.0, ge=0.0, le=60.0, description="Relay elevation mask at the site [deg].")
    rx_system_noise_k: float = Field(
        gt=0.0, description="Relay receiver's own noise temperature [K]; the twin adds the Moon in its beam."
    )
    trunk_rate_mbps: float | None = Field(
        None,
        gt=0.0,
        description="The relay's trunk to Earth while it sees the Earth [Mbit/s] (Queqiao-2's Ka link: about 100 "
        "on average); unset: no limit.",
    )
    trunk_share: float = Field(
        1.0, gt=0.0, le=1.0, description="Share of the relay's trunk this terminal gets (the relay serves several)."
    )
    relay_antenna_diameter_m: float = Field(gt=0.0, description="Relay's antenna toward the surface [m].")
    relay_rx_bands_hz: list[tuple[float, float]] = Field(
        default_factory=lambda: [(390e6, 450e6), (7.0e9, 8.5e9)],
        description="Bands the relay receives from the surface [Hz] (Queqiao-2: UHF and X).",
    )

    @model_validator(mode="after")
    def _relay_receives_it(self):
        if not any(lo <= self.frequency_hz <= hi for lo, hi in self.relay_rx_bands_hz):
            bands = ", ".join(f"{lo / 1e9:g}-{hi / 1e9:g} GHz" for lo, hi in self.relay_rx_bands_hz)
            raise ValueError(
                f"receiver frequency mismatch: the relay receives {bands}, not {self.frequency_hz / 1e9:g} GHz"
            )
        return self


Element = Annotated[
    SolarArray
    | Battery
    | RegenerativeFuelCell
    | FissionUnit
    | Rtg
    | Load
    | SurvivalHeater
    | Payload
    | DataStorage
    | DteTerminal
    | RelayTerminal,
    Field(discriminator="kind"),
]


class SlipSpec(_Model):
    """Schedule slip of a launch [days]: none, triangular (min/mode/max) or lognormal (median, sigma)."""

    kind: Literal["none", "triangular", "lognormal"] = "none"
    min_days: float = Field(0.0, description="Triangular minimum (negative: early) [d].")
    mode_days: float = Field(0.0, description="Triangular mode [d].")
    max_days: float = Field(0.0, description="Triangular maximum [d].")
    median_days: float = Field(0.0, ge=0.0, description="Lognormal median delay [d].")
    sigma: float = Field(0.0, ge=0.0, description="Lognormal shape [-].")


class MissionSpec(_Model):
    """A roadmap mission: launcher, date, mass at TLI, what it brings, and its risks."""

    name: str = Field(description="Unique mission name; elements refer to it in their `mission` field.")
    agency: str = Field("", description="Agency.")
    vehicle: str = Field(description="Launch vehicle key (ilrs.transport.vehicles, or a [[vehicles]] entry).")
    launch: dt.date = Field(description="Planned launch date (UTC).")
    mass_kg: float = Field(gt=0.0, description="Mass injected to trans-lunar orbit [kg].")
    capabilities: list[str] = Field(default_factory=list, description="Capabilities it brings.")
    depends_on: list[str] = Field(default_factory=list, description="Missions that must have landed first.")
    p_launch: float = Field(1.0, ge=0.0, le=1.0, description="Probability of launch success [-].")
    p_landing: float = Field(1.0, ge=0.0, le=1.0, description="Probability of landing success [-].")
    slip: SlipSpec = Field(default_factory=SlipSpec, description="Schedule slip distribution.")
    transit_days: float = Field(0.0, ge=0.0, description="Launch to landing [d].")
    source: str = Field("", description="Source of the figures.")
    lands: bool = Field(
        True, description="False: stays in lunar orbit (orbiter, relay); p_landing is then the orbit-insertion success."
    )
    in_orbit: list[str] = Field(
        default_factory=list, description="Spacecraft it leaves in lunar orbit (e.g. a lander mission's orbiter)."
    )
    p_failure_on_arrival: float = Field(
        0.0, ge=0.0, le=1.0, description="Probability that what it delivers is dead on arrival [-]."
    )
    mtbf_years: float = Field(
        0.0,
        ge=0.0,
        description="Mean time between failures of what it delivers, exponential lifetime [yr]; 0 = never fails.",
    )


class VehicleSpec(_Model):
    """A launch vehicle the user adds to the catalogue."""

    key: str = Field(description="Key missions use.")
    name: str = Field(description="Name.")
    country: str = Field("", description="Country.")
    tli_capacity_kg: float | None = Field(None, gt=0.0, description="Mass to trans-lunar injection [kg].")
    leo_capacity_kg: float | None = Field(None, gt=0.0, description="Mass to low Earth orbit [kg].")
    source: str = Field("", description="Source of the figures.")


class ElementFailure(_Model):
    """An element stops working at a time: its power, storage, loads or link are gone from then on."""

    kind: Literal["element_failure"]
    element: str = Field(description="Name of the element that fails.")
    at: dt.datetime = Field(description="When it fails (UTC).")

    _at_utc = field_validator("at", mode="before")(_utc)

    def describe(self) -> str:
        return f"{self.element} failure on {self.at:%Y-%m-%d}"


class WindowLost(_Model):
    """A link is out of service over a span (a ground station or the relay): ``from`` .. ``to``."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    kind: Literal["window_lost"]
    condition: Literal["earth", "relay", "downlink"] = Field(
        description="Which link: earth (direct to Earth), relay, or downlink (both)."
    )
    start: dt.datetime = Field(alias="from", description="Start of the outage (UTC).")
    end: dt.datetime = Field(alias="to", description="End of the outage (UTC, exclusive).")

    _span_utc = field_validator("start", "end", mode="before")(_utc)

    @model_validator(mode="after")
    def _ordered(self):
        if self.end <= self.start:
            raise ValueError(f"'to' ({self.end:%Y-%m-%dT%H:%M}) is not after 'from' ({self.start:%Y-%m-%dT%H:%M})")
        return self

    def describe(self) -> str:
        return f"{self.condition} link lost {self.start:%Y-%m-%d} .. {self.end:%Y-%m-%d}"


#: An event the operations planner re-plans after (``[[events]]`` in a scenario, ``ilrs plan --event``).
Event = Annotated[ElementFailure | WindowLost, Field(discriminator="kind")]
EVENT_ADAPTER: TypeAdapter[ElementFailure | WindowLost] = TypeAdapter(Event)


ELEMENT_KINDS = (
    "solar_array",
    "battery",
    "regenerative_fuel_cell",
    "fission",
    "rtg",
    "load",
    "heater",
    "payload",
    "storage",
    "dte",
    "relay",
)


class Scenario(_Model):
    """One ILRS station scenario: the run's period, the site, and the elements with their arrivals."""

    name: str = Field(description="Scenario name.")
    description: str = Field("", description="What the scenario represents.")
    start: dt.datetime = Field(description="Start of the run (UTC).")
    end: dt.datetime = Field(description="End of the run (UTC, exclusive).")
    step: str = Field("10m", description="Time step: '10m', '1h', or seconds.")
    site: Site
    elements: list[Element] = Field(default_factory=list, description="The station's elements.")
    missions: list[MissionSpec] = Field(default_factory=list, description="The roadmap (for `ilrs campaign`).")
    vehicles: list[VehicleSpec] = Field(default_factory=list, description="Launch vehicles added to the catalogue.")
    analysis: Analysis = Field(default_factory=Analysis, description="The site analysis of `ilrs run`.")
    power_management: PowerManagement = Field(
        default_factory=PowerManagement, description="Load-shedding thresholds that protect the critical loads."
    )
    requests: str | None = Field(
        None,
        description="Partner activity requests (TOML or JSON) for `ilrs plan` and `ilrs run`, a path relative to "
        "this file.",
    )
    events: list[Event] = Field(
        default_factory=list,
        description="Events `ilrs run` re-plans after: `[[events]]` with kind element_failure (element, at) or "
        "window_lost (condition, from, to).",
    )

    #: The file the scenario was read from (None when built in code); relative paths resolve against it.
    _path: Path | None = PrivateAttr(None)

    @property
    def path(self) -> Path | None:
        return self._path

    def analysis_period(self) -> tuple[dt.datetime, dt.datetime, str]:
        """(start, end, step) of the site analysis: given, else from the run's start over a nodal cycle."""
        a = self.analysis
        start = a.start or self.start
        end = a.end or start + dt.timedelta(days=round(NODAL_CYCLE_YEARS * JULIAN_YEAR_D))
        return (start, end, a.step)

    def analysis_windows(self) -> int:
        """Windows that sample the site analysis's maps (0: every step): given, else ``SAMPLE_WINDOWS`` for a
        period longer than a year."""
        if self.analysis.windows is not None:
            return self.analysis.windows
        a, b, _ = self.analysis_period()
        return default_sample_windows(a.replace(tzinfo=None), b.replace(tzinfo=None))

    def array_heights_m(self) -> tuple[float, float]:
        """(map, mast) observer heights of the site analysis [m]: given, else the highest array's mast for both
        (2 m, a lander deck, without arrays)."""
        masts = [e.mast_height_m for e in self.elements if isinstance(e, SolarArray)] or [2.0]
        a = self.analysis
        return (
            a.map_height_m if a.map_height_m is not None else max(masts),
            a.mast_height_m if a.mast_height_m is not None else max(masts),
        )

    def antenna_height_m(self) -> float:
        """Height the site analysis sees the Earth from [m]: given, else the highest DTE or relay antenna, else
        the map height."""
        if self.analysis.antenna_height_m is not None:
            return self.analysis.antenna_height_m
        links = [e.antenna_height_m for e in self.elements if isinstance(e, DteTerminal | RelayTerminal)]
        return max(links) if links else self.array_heights_m()[0]

    def requests_path(self) -> Path | None:
        """The requests file (None when the scenario names none): relative to the scenario's folder, else one of
        the built-in requests (so that a copy of a built-in scenario still finds its requests)."""
        if self.requests is None:
            return None
        p = Path(self.requests)
        if p.is_absolute():
            return p
        candidates = ([self._path.parent / p] if self._path is not None else []) + [PACKAGE_DATA / "scenarios" / p]
        return next((c for c in candidates if c.is_file()), candidates[0])

    _start_utc = field_validator("start", "end", mode="before")(_utc)

    @model_validator(mode="before")
    @classmethod
    def _arrivals_from_missions(cls, data):
        """An element without ``arrival`` arrives when its mission lands (launch + transit): the roadmap sets
        the dates the twin uses."""
        if not isinstance(data, dict):
            return data
        landings = {}
        for m in data.get("missions") or []:
            if isinstance(m, dict) and "name" in m and isinstance(m.get("launch"), dt.date):
                launch = dt.datetime.combine(m["launch"], dt.time(), tzinfo=dt.UTC)
                landings[m["name"]] = launch + dt.timedelta(days=float(m.get("transit_days", 0.0)))
        elements = data.get("elements") or []
        if landings and any(isinstance(e, dict) and "arrival" not in e for e in elements):
            data = dict(data)
            data["elements"] = [
                {**e, "arrival": landings[e["mission"]]}
                if isinstance(e, dict) and "arrival" not in e and e.get("mission") in landings
                else e
                for e in elements
            ]
        return data

    @model_validator(mode="after")
    def _consistent(self):
        if self.end <= self.start:
            raise ValueError(f"end {self.end:%Y-%m-%d} is not after start {self.start:%Y-%m-%d}")
        names = [e.name for e in self.elements]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"element names must be unique; repeated: {', '.join(dup)}")
        for e in self.elements:
            if not self.start <= e.arrival < self.end:
                raise ValueError(
                    f"element {e.name!r} arrives {e.arrival:%Y-%m-%d}, outside the run "
                    f"{self.start:%Y-%m-%d} .. {self.end:%Y-%m-%d}"
                )
        missions = {m.name: m for m in self.missions}
        if missions:
            for e in self.elements:
                m = missions.get(e.mission) if e.mission else None
                if e.mission and m is None:
                    raise ValueError(f"element {e.name!r} names mission {e.mission!r}, which is not in [[missions]]")
                if m is not None:
                    landed = dt.datetime.combine(m.launch, dt.time(), tzinfo=dt.UTC) + dt.timedelta(days=m.transit_days)
                    if e.arrival < landed:
                        raise ValueError(
                            f"element {e.name!r} arrives {e.arrival:%Y-%m-%d}, before its mission "
                            f"{m.name!r} lands ({landed:%Y-%m-%d}: launch + {m.transit_days:g} d)"
                        )
        a0, a1, _ = self.analysis_period()
        if a1 <= a0:
            raise ValueError(f"analysis end {a1:%Y-%m-%d} is not after its start {a0:%Y-%m-%d}")
        for ev in self.events:
            when = ev.at if isinstance(ev, ElementFailure) else ev.start
            if isinstance(ev, ElementFailure) and ev.element not in names:
                raise ValueError(f"event names element {ev.element!r}, which is not in [[elements]]")
            if not self.start <= when < self.end:
                raise ValueError(
                    f"event {ev.describe()!r} starts {when:%Y-%m-%d}, outside the run "
                    f"{self.start:%Y-%m-%d} .. {self.end:%Y-%m-%d}"
                )
        return self
