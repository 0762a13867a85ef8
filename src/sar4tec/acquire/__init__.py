"""Acquisition: everything a frame needs from outside, downloaded into a shared cache.

:func:`fetch` is the one download primitive (resumable, verified, atomic, locked, offline
aware); the Sentinel-1, orbit, DEM, ERA5, IONEX and GNSS clients build on it.
"""

from sar4tec.acquire.download import DownloadError, OfflineError, fetch, sha256sum, verify

__all__ = ["DownloadError", "OfflineError", "fetch", "sha256sum", "verify"]
