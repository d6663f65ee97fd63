"""Physical and lunar constants, SI units unless the name says otherwise; each cites its source."""

#: LOLA reference sphere radius [m]. LOLA PDS products (LDEM_*, PGDA 78) give heights above this sphere.
MOON_RADIUS_M = 1_737_400.0

#: Nominal solar radius [m]. IAU 2015 Resolution B3 (Mamajek et al. 2015, arXiv:1510.07674).
SUN_RADIUS_M = 695_700_000.0

#: Earth equatorial radius [m]. IAU 2015 Resolution B3 nominal value.
EARTH_EQUATORIAL_RADIUS_M = 6_378_137.0

#: Earth polar radius [m]. IAU 2015 Resolution B3 nominal value.
EARTH_POLAR_RADIUS_M = 6_356_752.0

#: Earth mean radius R1 = (2a + b) / 3 [m]. IUGG; Moritz 2000, "Geodetic Reference System 1980",
#: J. Geodesy 74:128 (6371.0088 km).
EARTH_MEAN_RADIUS_M = 6_371_008.8

#: Astronomical unit [m]. IAU 2012 Resolution B2.
AU_M = 149_597_870_700.0

#: Speed of light [m/s]. SI definition.
SPEED_OF_LIGHT_M_S = 299_792_458.0

#: Seconds per day [s].
DAY_S = 86_400.0

#: Julian year [d] and [s] (365.25 d; IAU 1976 / IERS Conventions 2010, ch. 1): ages, lifetimes and run lengths.
JULIAN_YEAR_D = 365.25
JULIAN_YEAR_S = JULIAN_YEAR_D * DAY_S

#: Mean synodic month [s] (29.530589 d). Meeus, Astronomical Algorithms, 2nd ed., ch. 49.
SYNODIC_MONTH_S = 29.530589 * DAY_S

#: Lunar nodal precession cycle [s] (18.6 years = 6798.38 d). Meeus, ch. 47.
NODAL_CYCLE_S = 6798.38 * DAY_S
#: The nodal cycle in years as the site analyses round it: the Sun's and the Earth's paths over the pole repeat
#: after it, so a site's long-run illumination needs the whole cycle (a run of 18.6 Julian years = 6794 d).
NODAL_CYCLE_YEARS = 18.6

#: A long site-analysis period is sampled by windows of this many days (a synodic month and half a day: every phase
#: of the lunar day, so a night of up to ~30 days inside a window is seen whole) ...
SAMPLE_WINDOW_DAYS = 30
#: ... this many of them, their starts spread evenly over the period: 12 x 30 days of hourly steps cost what one
#: contiguous year does (8640 against 8760 steps).
SAMPLE_WINDOWS = 12

#: NAIF integer codes (NAIF IDs required reading).
NAIF_SUN = 10
NAIF_EARTH = 399
NAIF_MOON = 301

#: Moon body-fixed frame of the LOLA data: DE440 principal axes rotated to the DE421 mean-Earth/polar-axis
#: frame (NAIF frame kernel moon_de440_220930.tf, frame ID 31009).
MOON_ME_FRAME = "MOON_ME_DE440_ME421"
