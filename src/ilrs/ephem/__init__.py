"""Ephemerides: SPICE kernels from PyPI packages, time scales, Sun/Earth directions in MOON_ME."""
