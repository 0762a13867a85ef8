"""Sentinel-1 IW SLC search and download through the ASF DAAC (``asf_search``).

Why ASF rather than the Copernicus Data Space: ASF's catalogue (NASA CMR, queried by
``asf_search``) indexes every IW SLC **burst** by its ESA full burst ID, and its burst
extractor serves single bursts (a few hundred MB instead of 4-8 GB SAFE zips).  A frame of
:mod:`sar4tec.regions` is a set of burst IDs, so "all acquisitions of these bursts between two
dates" is one query, and missing bursts per date can be reported exactly.  ASF also serves the
OPERA CSLC-S1 products (North America) and whole SAFE zips (``product: safe``).  Downloads
need NASA Earthdata credentials (``~/.netrc`` ``machine urs.earthdata.nasa.gov``, or the
``EARTHDATA_USERNAME``/``EARTHDATA_PASSWORD`` environment variables).
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sar4tec.acquire.download import fetch
from sar4tec.files import parse_time

#: Earthdata login host that ASF downloads redirect to
EDL_HOST = "urs.earthdata.nasa.gov"


@dataclass(frozen=True)
class Granule:
    """One downloadable Sentinel-1 item (a burst or a SAFE zip)."""

    name: str
    url: str
    sensing_time: datetime
    burst_id: str | None = None
    size: int | None = None
    mission: str = "S1A"
    bounds: tuple[float, float, float, float] | None = None
    metadata_url: str | None = None

    @property
    def date(self) -> str:
        """Acquisition date ``YYYYMMDD`` (UTC)."""
        return self.sensing_time.strftime("%Y%m%d")

    @property
    def filename(self) -> str:
        """Name in the cache: the granule name plus the URL's extension."""
        suffix = Path(self.url.split("?")[0]).suffix
        return self.name if self.name.endswith(suffix) else self.name + suffix

    @property
    def metadata_filename(self) -> str | None:
        """Cache name of a single burst's metadata XML (next to its TIFF), if it has one."""
        return Path(self.filename).stem + ".xml" if self.metadata_url else None


def earthdata_auth() -> dict[str, tuple[str, str]] | None:
    """Earthdata credentials from ``EARTHDATA_USERNAME``/``EARTHDATA_PASSWORD``, if set.

    ``None`` lets :func:`~sar4tec.acquire.download.fetch` use ``~/.netrc``.
    """
    user, password = os.environ.get("EARTHDATA_USERNAME"), os.environ.get("EARTHDATA_PASSWORD")
    return {EDL_HOST: (user, password)} if user and password else None


def _granule(product) -> Granule:
    props = product.properties
    burst = props.get("burst") or {}
    size = props.get("bytes")
    if isinstance(size, dict):  # SAFE products map file names to sizes
        size = next(iter(size.values()), {}).get("bytes")
    import shapely.geometry

    platform = str(props.get("platform") or "Sentinel-1A")
    geometry = product.geometry
    return Granule(
        name=props["fileID"] if burst else props["sceneName"],
        url=props["url"],
        sensing_time=parse_time(props["startTime"]),
        burst_id=burst.get("fullBurstID"),
        size=int(size) if size else None,
        mission="S1" + platform[-1].upper(),
        bounds=tuple(shapely.geometry.shape(geometry).bounds) if geometry else None,
        # a single burst's annotation, orbit and timing come in an XML of its own
        metadata_url=next(iter(props.get("additionalUrls") or []), None) if burst else None,
    )


def search(
    start: str | datetime,
    end: str | datetime,
    *,
    burst_ids: Sequence[str] = (),
    track: int | None = None,
    intersects: str | None = None,
    product: str = "burst",
    polarization: str = "VV",
    host: str | None = None,
    session=None,
) -> list[Granule]:
    """Find Sentinel-1 IW SLC bursts (``product="burst"``) or SAFE zips (``"safe"``).

    Parameters
    ----------
    start, end
        Sensing-time interval (UTC).
    burst_ids
        Full burst IDs ``TTT_BBBBBB_IWs`` (burst search).
    track, intersects
        Relative orbit and a WKT footprint (SAFE search).
    product
        ``burst`` (SLC-BURST dataset) or ``safe`` (whole IW SLC products).
    polarization
        Polarisation of the bursts.
    host, session
        CMR host (``host:port``) and an ``asf_search.ASFSession``: for tests and mirrors.

    Returns
    -------
    list of Granule
        Sorted by sensing time then burst ID; duplicates (reprocessed granules) removed.
    """
    import asf_search as asf

    options = {"start": start, "end": end, "beamMode": asf.BEAMMODE.IW}
    if host is not None:
        options["host"] = host
    if session is not None:
        options["session"] = session
    if product == "burst":
        if not burst_ids:
            raise ValueError("a burst search needs burst_ids")
        options.update(
            dataset=asf.DATASET.SLC_BURST, fullBurstID=list(burst_ids), polarization=polarization
        )
    elif product == "safe":
        if track is None or intersects is None:
            raise ValueError("a SAFE search needs the track and a footprint")
        options.update(
            dataset=asf.DATASET.SENTINEL1,
            processingLevel=asf.PRODUCT_TYPE.SLC,
            relativeOrbit=int(track),
            intersectsWith=intersects,
        )
    else:
        raise ValueError(f"unknown Sentinel-1 product {product!r} (burst or safe)")
    results = asf.search(opts=asf.ASFSearchOptions(**options))
    unique = {}
    for granule in map(_granule, results):
        unique.setdefault((granule.burst_id or granule.name, granule.date), granule)
    return sorted(unique.values(), key=lambda g: (g.sensing_time, g.burst_id or ""))


def coverage_report(
    granules: Sequence[Granule], burst_ids: Sequence[str], max_gap_days: float = 24.0
) -> dict:
    """Dates found, bursts missing per date, and gaps longer than ``max_gap_days``.

    Returns
    -------
    dict
        ``dates`` (sorted ``YYYYMMDD``), ``missing_bursts`` (``{date: [burst IDs]}``, only
        dates with some missing), ``gaps`` (``[[date_before, date_after, days], ...]``).
    """
    found: dict[str, set[str]] = defaultdict(set)
    times: dict[str, datetime] = {}
    for g in granules:
        found[g.date].add(g.burst_id or g.name)
        times.setdefault(g.date, g.sensing_time)
    dates = sorted(found)
    missing = {d: sorted(set(burst_ids) - found[d]) for d in dates if set(burst_ids) - found[d]}
    gaps = []
    for before, after in zip(dates, dates[1:], strict=False):
        days = (times[after] - times[before]).total_seconds() / 86400.0
        if days > max_gap_days:
            gaps.append([before, after, round(days, 1)])
    return {"dates": dates, "missing_bursts": missing, "gaps": gaps}


def download(
    granules: Sequence[Granule],
    cache_dir: str | os.PathLike,
    *,
    auth=None,
    workers: int = 4,
    offline: bool = False,
    **fetch_options,
) -> list[Path]:
    """Fetch every granule into ``cache_dir`` with at most ``workers`` transfers at once.

    A single burst's metadata XML is fetched next to its TIFF (same stem), because geocoding
    needs it.  ``auth`` defaults to :func:`earthdata_auth` (else ``~/.netrc``).  Returns the
    data paths in the order of ``granules``.
    """
    auth = earthdata_auth() if auth is None else auth
    cache = Path(cache_dir)

    def one(g: Granule) -> Path:
        if g.metadata_url:
            fetch(
                g.metadata_url,
                cache / g.metadata_filename,
                auth=auth,
                offline=offline,
                **fetch_options,
            )
        return fetch(
            g.url,
            cache / g.filename,
            expected_size=g.size,
            auth=auth,
            offline=offline,
            **fetch_options,
        )

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return list(pool.map(one, granules))
