"""Real check: our geo2rdr, rdr2geo and angles reproduce ESA's geolocation grids.

Every grid point of every VV annotation of both real SAFE products (S1A 2020-05-11 track 71
descending, IW1–IW3; S1A 2022-10-16 track 64 ascending, IW2), with the annotations' own orbit
state vectors (the EOF file here covers 2023-08-23, neither acquisition).
"""

import re
import zipfile

import numpy as np
import pytest

from sar4tec.sentinel1.geometry import geolocation_residuals

SAFES = {
    "S1A_IW_SLC__1SDV_20200511T135117_20200511T135144_032518_03C421_7768.zip": 3,
    "S1A_IW_SLC__1SDV_20221016T015043_20221016T015111_045461_056FC0_6681.zip": 1,
}
VV = re.compile(r"annotation/s1[abc]-(iw[123])-slc-vv-.*\.xml$")


def vv_annotations(path):
    with zipfile.ZipFile(path) as z:
        return {m.group(1): z.read(n) for n in z.namelist() if (m := VV.search(n))}


@pytest.mark.parametrize("safe", sorted(SAFES))
def test_geolocation_grid_residuals(real_data, safe):
    annotations = vv_annotations(real_data / "sentinel1/safe" / safe)
    assert len(annotations) == SAFES[safe]
    for swath, xml in annotations.items():
        r = geolocation_residuals(xml)
        assert r["horizontal"].size == 210, swath  # 21 columns x 10 rows per sub-swath
        # issue tolerance 1e-4 s; measured 2.2 µs: ESA prints azimuth times to 1 µs and the
        # Hermite orbit is mm-accurate, so anything above ~5 µs would be a real error
        assert np.abs(r["azimuth_time"]).max() < 1e-5, swath
        # slant range times are printed to 1e-15 s (0.15 µm); measured 0.25 mm
        assert np.abs(r["slant_range"]).max() < 1e-3, swath
        # issue tolerance "a few metres"; measured 1.5 cm max: 1 µs of azimuth-time rounding
        # is 7 mm along track at the 7 km/s ground speed, twice that at most with the orbit
        assert r["horizontal"].max() < 0.05, swath
        assert np.abs(r["vertical"]).max() < 1e-3, swath  # rdr2geo keeps the given height
        # issue tolerance 0.01 deg; ESA measures both angles from geocentric radii, as
        # geocentric_look_angles does: agreement to 1e-8 deg (float rounding of the printout)
        assert np.abs(r["incidence"]).max() < 1e-6, swath
        assert np.abs(r["elevation"]).max() < 1e-6, swath
        # the project's incidence is from the ellipsoid normal, which leans ~0.19 deg poleward
        # of the radius at 35-38 deg N; the right-looking LOS leans equatorward in both pass
        # directions, so ours is larger by that lean projected on the LOS azimuth, ~0.03 deg
        assert np.all((r["incidence_ellipsoid"] > 0.02) & (r["incidence_ellipsoid"] < 0.04))
