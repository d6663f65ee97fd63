"""Terrain: DEM objects, nested mosaics, horizons, slopes, site metrics and named sites."""
