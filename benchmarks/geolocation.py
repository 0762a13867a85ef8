"""Geolocation accuracy against ESA's geolocation grids, and the speed of rdr2geo.

    python benchmarks/geolocation.py        # writes benchmarks/results/geolocation.json

Needs ``../shared/data/real`` (or ``SAR4TEC_REAL_DATA``).  For each real SAFE product in
``sentinel1/safe/`` and each VV sub-swath annotation, every geolocation-grid point is checked
with the annotation's own orbit (:func:`sar4tec.sentinel1.geometry.geolocation_residuals`):

- geo2rdr (``zero_doppler_range``) of (lat, lon, height) minus ``azimuthTime`` (s) and
  ``slantRangeTime · c / 2`` (m);
- rdr2geo (``radar_to_geo``) of (azimuthTime, slantRangeTime, height): horizontal distance (m)
  to the point's lat/lon;
- incidence and elevation angles measured from geocentric radii (ESA's convention) minus
  ``incidenceAngle`` / ``elevationAngle`` (deg), and the project's ellipsoid-normal incidence
  minus ``incidenceAngle``.

Speed: rdr2geo on 10^6 samples of the 2022 IW2 scene, with a constant height and over a
0.001 deg DEM, with one numba thread and with all; geo2rdr (numpy Newton) for comparison.
"""

from __future__ import annotations

import json
import platform
import re
import sys
import time
import zipfile
from pathlib import Path

import numba
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from conftest import REAL_DATA  # noqa: E402

from sar4tec.grid import Grid  # noqa: E402
from sar4tec.sentinel1.geometry import (  # noqa: E402
    geolocation_residuals,
    radar_to_geo,
    zero_doppler_range,
)
from sar4tec.sentinel1.safe import annotation_orbit  # noqa: E402

RESULTS = HERE / "results" / "geolocation.json"
VV = re.compile(r"annotation/s1[abc]-(iw[123])-slc-vv-.*\.xml$")


def accuracy() -> dict:
    """Residual statistics per SAFE product and sub-swath."""
    out = {}
    for safe in sorted((REAL_DATA / "sentinel1/safe").glob("*.zip")):
        with zipfile.ZipFile(safe) as z:
            xmls = {m.group(1).upper(): z.read(n) for n in z.namelist() if (m := VV.search(n))}
        per_swath = {}
        for swath, xml in sorted(xmls.items()):
            r = geolocation_residuals(xml)
            per_swath[swath] = {
                "points": int(r["horizontal"].size),
                "horizontal_max_m": float(r["horizontal"].max()),
                "horizontal_rms_m": float(np.sqrt(np.mean(r["horizontal"] ** 2))),
                "azimuth_time_max_abs_s": float(np.abs(r["azimuth_time"]).max()),
                "slant_range_max_abs_m": float(np.abs(r["slant_range"]).max()),
                "incidence_max_abs_deg": float(np.abs(r["incidence"]).max()),
                "elevation_max_abs_deg": float(np.abs(r["elevation"]).max()),
                "incidence_ellipsoid_normal_minus_esa_deg": [
                    float(r["incidence_ellipsoid"].min()),
                    float(r["incidence_ellipsoid"].max()),
                ],
            }
        out[safe.name.removesuffix(".zip")] = per_swath
    return out


def speed() -> dict:
    """Samples per second of rdr2geo (constant height, DEM) and of geo2rdr."""
    safe = (
        REAL_DATA
        / "sentinel1/safe/S1A_IW_SLC__1SDV_20221016T015043_20221016T015111_045461_056FC0_6681.zip"
    )
    with zipfile.ZipFile(safe) as z:
        xml = next(z.read(n) for n in z.namelist() if VV.search(n))
    import xml.etree.ElementTree as ET

    orbit = annotation_orbit(ET.fromstring(xml))
    rng = np.random.default_rng(0)
    n = 1_000_000
    lat = rng.uniform(34.6, 35.1, n)
    lon = rng.uniform(-118.0, -117.4, n)
    grid = Grid.from_bounds(-118.2, 34.5, -117.2, 35.2, 0.001)
    yy, xx = grid.meshgrid()
    dem = 600.0 + 400.0 * np.sin(np.radians(yy) * 900) * np.cos(np.radians(xx) * 700)
    t, r = zero_doppler_range(orbit, lat, lon, 500.0)
    radar_to_geo(orbit, t[:10], r[:10], 500.0)  # compile
    radar_to_geo(orbit, t[:10], r[:10], dem=(dem, grid))

    def rate(func) -> float:
        start = time.perf_counter()
        func()
        return n / (time.perf_counter() - start)

    results = {}
    for label, threads in (("one_thread", 1), ("all_threads", numba.config.NUMBA_NUM_THREADS)):
        numba.set_num_threads(threads)
        results[label] = {
            "rdr2geo_constant_height_per_s": rate(lambda: radar_to_geo(orbit, t, r, 500.0)),
            "rdr2geo_dem_per_s": rate(lambda: radar_to_geo(orbit, t, r, dem=(dem, grid))),
        }
    results["geo2rdr_numpy_per_s"] = rate(lambda: zero_doppler_range(orbit, lat, lon, 500.0))
    return results


def main() -> None:
    report = {
        "benchmark": "geolocation",
        "command": "python benchmarks/geolocation.py",
        "machine": f"{platform.machine()} {numba.config.NUMBA_NUM_THREADS} cpus",
        "caveat": "shared 2-core machine with other jobs running: timings are noisy",
        "orbit": "each annotation's own state vectors (no EOF here covers these dates)",
        "accuracy": accuracy(),
        "speed": speed(),
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
