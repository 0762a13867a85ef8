"""Ingesting SLC stacks that others made: OPERA CSLC-S1 bursts, ISCE2 topsStack, complex GeoTIFFs.

Every format ends in the same place as the project's own geocoding: one CSLC per date on the
frame's EPSG:4326 grid (OPERA CSLC-S1 layout, :mod:`sar4tec.sentinel1.cslc`) and a frame manifest
whose ``slc`` lists them, which the ``stack`` rule reads.  :func:`ingest_frame` is the entry
point; ``opera``, ``isce2`` and ``geotiff`` open the sources, ``common`` writes them.
"""

from sar4tec.ingest.common import FORMATS, IngestSettings, ingest_frame, open_source

__all__ = ["FORMATS", "IngestSettings", "ingest_frame", "open_source"]
