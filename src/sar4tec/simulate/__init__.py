"""The physically based synthetic Sentinel-1 frame and its truth.

:func:`simulate_frame` writes a frame's inputs in the formats real inputs come in (OPERA CSLC
HDF5, EOF orbits, GeoTIFF DEM and water mask, new-CDS ERA5 NetCDF, IONEX, UNR MIDAS) plus
``truth.h5`` and ``manifest.json``. The modules hold one concept each: ``terrain``, ``orbit``,
``deformation``, ``troposphere`` + ``era5``, ``ionosphere`` + ``ionex``, ``tides``,
``scattering``, ``gnss``, ``truth``, and the driver ``frame``.
"""

from sar4tec.simulate.frame import simulate_frame

__all__ = ["simulate_frame"]
