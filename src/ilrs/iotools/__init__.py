"""Readers and writers: GeoTIFF, PDS3 IMG/LBL, NetCDF, CSV; atomic file writes."""
