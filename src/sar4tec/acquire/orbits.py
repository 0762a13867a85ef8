"""Sentinel-1 orbit files (EOF): pick the POEORB, else RESORB, covering each acquisition.

Orbit files are named ``S1A_OPER_AUX_POEORB_OPOD_<production>_V<start>_<stop>.EOF``: the
validity interval is in the name, so choosing one needs only an index listing.  Precise
orbits (POEORB, ~20 days after sensing, ~5 cm) are preferred to restituted ones (RESORB,
hours after, ~10 cm); among candidates the latest production wins.  The index is any HTTP
directory listing (an HTML page with links, e.g. ASF's ``s1qc.asf.alaska.edu/aux_poeorb/``)
or a plain list of names; files land in the shared cache ``<cache>/orbits/``.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urljoin

from sar4tec.acquire.download import OfflineError, fetch
from sar4tec.files import to_utc

#: ``<mission>_OPER_AUX_<kind>_OPOD_<produced>_V<start>_<stop>.EOF``
EOF_NAME = re.compile(
    r"(S1[ABCD])_OPER_AUX_(POEORB|RESORB)_OPOD_(\d{8}T\d{6})_V(\d{8}T\d{6})_(\d{8}T\d{6})\.EOF"
)
#: default indexes (ASF, behind NASA Earthdata login)
DEFAULT_INDEXES = {
    "POEORB": "https://s1qc.asf.alaska.edu/aux_poeorb/",
    "RESORB": "https://s1qc.asf.alaska.edu/aux_resorb/",
}
#: orbit state vectors are needed a little beyond the acquisition for interpolation
MARGIN = timedelta(seconds=60)


@dataclass(frozen=True)
class OrbitName:
    """The fields of an EOF file name."""

    name: str
    mission: str
    kind: str
    produced: datetime
    start: datetime
    stop: datetime

    def covers(self, start: datetime, stop: datetime) -> bool:
        """True when the validity interval contains ``[start - MARGIN, stop + MARGIN]``."""
        return self.start <= to_utc(start) - MARGIN and to_utc(stop) + MARGIN <= self.stop


def _time(text: str) -> datetime:
    return to_utc(datetime.strptime(text, "%Y%m%dT%H%M%S"))


def parse_orbit_names(text: str) -> list[OrbitName]:
    """Every distinct EOF file name found in ``text`` (HTML listing or plain list)."""
    seen = {}
    for m in EOF_NAME.finditer(text):
        seen[m[0]] = OrbitName(m[0], m[1], m[2], _time(m[3]), _time(m[4]), _time(m[5]))
    return list(seen.values())


def choose_orbit(
    candidates: Iterable[OrbitName], mission: str, start: datetime, stop: datetime
) -> OrbitName | None:
    """The POEORB (else RESORB) of ``mission`` covering the interval, latest production."""
    good = [c for c in candidates if c.mission == mission and c.covers(start, stop)]
    if not good:
        return None
    return max(good, key=lambda c: (c.kind == "POEORB", c.produced))


def _listing(url: str, **fetch_options) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        return fetch(url, Path(tmp) / "index.html", **fetch_options).read_text(errors="replace")


def orbit_files(
    acquisitions: Sequence[tuple[str, datetime, datetime]],
    cache_dir: str | os.PathLike,
    *,
    indexes: Mapping[str, str] = DEFAULT_INDEXES,
    offline: bool = False,
    **fetch_options,
) -> list[Path]:
    """Orbit files covering each acquisition ``(mission, start, stop)``, in that order.

    Offline, only the cache (``cache_dir``) is searched.  POEORB indexes are read before
    RESORB ones, and only when some acquisition is still uncovered.

    Raises
    ------
    OfflineError
        Offline, and no cached file covers an acquisition.
    FileNotFoundError
        No index lists a covering file (the message names the acquisition and indexes).
    """
    cache = Path(cache_dir)
    cached = parse_orbit_names("\n".join(p.name for p in cache.glob("*.EOF")))
    chosen: list[OrbitName | None] = [choose_orbit(cached, *a) for a in acquisitions]
    if offline:
        for acq, pick in zip(acquisitions, chosen, strict=True):
            if pick is None:
                raise OfflineError(
                    f"offline mode: no orbit file in {cache} covers {acq[0]} {acq[1]}-{acq[2]}"
                )
    listed: list[OrbitName] = []
    for kind in ("POEORB", "RESORB"):
        if all(c is not None and c.kind == "POEORB" for c in chosen) or kind not in indexes:
            continue
        listed += parse_orbit_names(_listing(indexes[kind], **fetch_options))
        for i, acq in enumerate(acquisitions):
            better = choose_orbit(listed + [c for c in [chosen[i]] if c], *acq)
            chosen[i] = better or chosen[i]
    paths = []
    for acq, pick in zip(acquisitions, chosen, strict=True):
        if pick is None:
            raise FileNotFoundError(
                f"no orbit file covers {acq[0]} {acq[1]} - {acq[2]} in {cache} or the indexes "
                f"{', '.join(indexes.values())}"
            )
        dest = cache / pick.name
        if not dest.is_file():
            dest = fetch(urljoin(indexes[pick.kind], pick.name), dest, **fetch_options)
        paths.append(dest)
    return paths
