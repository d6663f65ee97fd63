"""The site environment a station twin runs in, as arrays on the run's time grid.

:mod:`ilrs.services.twin` computes it (SPICE directions, terrain horizons, ground-station and relay geometry,
cached on disk); the twin only reads it, so that :mod:`ilrs.station` stays pure: no files, no SPICE calls, no
terrain marches.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from ilrs.ephem.atmosphere import StationAtmosphere
from ilrs.ephem.ground_stations import DteWindows
from ilrs.errors import IlrsError

FloatArray = npt.NDArray[np.float64]

#: Height of the payloads' deck above the ground [m]: where partner instruments see the Sun (operations planner).
DECK_HEIGHT_M = 2.0


@dataclass(frozen=True)
class RelayGeometry:
    """A relay orbiter seen from the site, per step: azimuth and elevation [rad] in the site's topocentric frame
    (MOON_ME), range [m]."""

    az_rad: FloatArray
    el_rad: FloatArray
    range_m: FloatArray
    #: (T,) the Moon leaves the relay's line of sight to the Earth free (None: not computed, taken as free)
    sees_earth: npt.NDArray[np.bool_] | None = None


@dataclass(frozen=True)
class SiteEnvironment:
    """Everything outside the station that the element models need, on a uniform grid of ``T`` steps."""

    et: FloatArray  #: (T,) epochs [s TDB past J2000]
    utc: npt.NDArray[np.datetime64]  #: (T,) the same epochs as UTC
    step_s: float  #: step [s]
    lat_deg: float  #: site latitude, planetocentric [deg]
    lon_deg: float  #: site east longitude [deg]
    sun_az_rad: FloatArray  #: (T,) apparent Sun azimuth from the site [rad]
    sun_el_rad: FloatArray  #: (T,) apparent Sun elevation above the site's horizontal plane [rad]
    sun_distance_m: FloatArray  #: (T,) Sun distance [m]
    earth_az_rad: FloatArray  #: (T,) apparent Earth azimuth [rad]
    earth_el_rad: FloatArray  #: (T,) apparent Earth elevation [rad]
    #: terrain horizon elevation profile [deg] (uniform azimuths from north) per observer height [m]
    horizons_deg: Mapping[float, FloatArray] = field(repr=False)
    #: per DTE terminal (by element name): the ground stations' view of the Moon, Earth in view everywhere
    stations: Mapping[str, DteWindows] = field(default_factory=dict, repr=False)
    #: per relay terminal (by element name): the relay's geometry from the site
    relays: Mapping[str, RelayGeometry] = field(default_factory=dict, repr=False)
    #: per DTE terminal (by element name): atmospheric loss and sky noise at its stations and frequency
    atmospheres: Mapping[str, StationAtmosphere] = field(default_factory=dict, repr=False)
    #: the terrain model's limits at the site (DEM adequacy: ilrs.terrain.adequacy), for every result made here
    warnings: tuple[str, ...] = ()

    def horizon_deg(self, height_m: float) -> FloatArray:
        """The horizon profile at an observer height [m] (computed by the environment's builder)."""
        try:
            return self.horizons_deg[float(height_m)]
        except KeyError:
            raise IlrsError(
                f"the environment has no horizon at {height_m:g} m (it has "
                f"{', '.join(f'{h:g}' for h in sorted(self.horizons_deg))} m)",
                source="environment",
                hint="build the environment with every element's height (ilrs.station.twin.environment_heights)",
            ) from None

    def link(self, kind: str, name: str) -> object:
        table: Mapping[str, object] = self.stations if kind == "dte" else self.relays
        if name not in table:
            raise IlrsError(
                f"the environment has no {kind} geometry for element {name!r}",
                source="environment",
                hint="build the environment from the same scenario",
            )
        return table[name]
