"""Products users open: COG GeoTIFFs, CF-NetCDF, MintPy-compatible HDF5, STAC, quicklooks."""
