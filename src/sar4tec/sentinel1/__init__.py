"""Sentinel-1 specifics: EOF orbits, zero-Doppler geometry, CSLC and SAFE files."""
