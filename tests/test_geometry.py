import numpy as np
import pyproj
import pytest

from sar4tec.geometry import (
    ecef_to_enu_vectors,
    enu_to_ecef_vectors,
    geodetic_to_ecef,
    incidence_heading_from_los,
    los_unit_vector,
    project_enu_to_los,
)


def test_design_reference_vector():
    # DESIGN.md: Sentinel-1 ascending at 39 deg incidence is about (-0.616, -0.131, 0.777)
    np.testing.assert_allclose(los_unit_vector(39.0, -12.0), [-0.616, -0.131, 0.777], atol=1e-3)
    # descending (heading ~ -168 deg) looks west: the ground-to-satellite vector points east
    east, north, up = los_unit_vector(39.0, -168.0)
    assert east > 0.6 and north < 0 and up == pytest.approx(np.cos(np.radians(39.0)))


def test_los_round_trip_and_unit_norm():
    inc = np.linspace(29.0, 46.0, 7)[:, None]
    head = np.array([-170.0, -12.0, 10.0, 100.0])[None, :]
    v = los_unit_vector(inc, head)
    np.testing.assert_allclose(np.linalg.norm(v, axis=-1), 1.0)
    inc2, head2 = incidence_heading_from_los(v)
    np.testing.assert_allclose(inc2, np.broadcast_to(inc, inc2.shape))
    np.testing.assert_allclose(head2, np.broadcast_to(head, head2.shape))


def test_uplift_is_toward_satellite():
    v = los_unit_vector(39.0, -12.0)
    assert project_enu_to_los(0.0, 0.0, 1.0, *v) == pytest.approx(np.cos(np.radians(39.0)))
    # eastward motion moves away from an ascending (west-of-target) satellite
    assert project_enu_to_los(1.0, 0.0, 0.0, *v) < 0


def test_ecef_matches_pyproj_and_enu_rotation_is_orthonormal():
    lat, lon, h = (
        np.array([40.7, -33.9, 89.0]),
        np.array([30.0, -118.2, 10.0]),
        np.array([0, 1500, -30]),
    )
    x = geodetic_to_ecef(lat, lon, h)
    to_ecef = pyproj.Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True)
    np.testing.assert_allclose(x, np.stack(to_ecef.transform(lon, lat, h), axis=-1), atol=1e-6)
    vec = np.array([[1.0, 2.0, 3.0]] * 3)
    np.testing.assert_allclose(
        enu_to_ecef_vectors(ecef_to_enu_vectors(vec, lat, lon), lat, lon), vec
    )
    # "up" is the ellipsoid normal: moving 1 m up changes the ECEF position by the up vector
    up = enu_to_ecef_vectors(np.array([0.0, 0.0, 1.0]), lat, lon)
    np.testing.assert_allclose(geodetic_to_ecef(lat, lon, h + 1.0) - x, up, atol=1e-6)
