"""Solid earth tides: the grid evaluation against pysolid's point mode, pixel centres, LOS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pysolid
import pytest

from sar4tec.corrections.tides import enu_displacement, enu_grid, interpolate, los_displacement
from sar4tec.geometry import los_unit_vector
from sar4tec.grid import Grid

WHEN = datetime(2020, 11, 5, 12, tzinfo=UTC)


def point_mode(lat: float, lon: float, when: datetime) -> np.ndarray:
    naive = when.replace(tzinfo=None)
    _, e, n, u = pysolid.calc_solid_earth_tides_point(
        lat, lon, naive, naive + timedelta(minutes=1), step_sec=60, verbose=False
    )
    return np.array([e[0], n[0], u[0]])


def test_point_value_of_the_issue():
    # pysolid point mode, 34°N -118°E, 2020-11-05 12:00 UTC: up 0.16008235 m
    enu = enu_displacement(34.0, -118.0, WHEN)
    assert enu.shape == (3,)
    assert enu[2] == pytest.approx(0.16008235, abs=1e-8)
    np.testing.assert_allclose(enu, point_mode(34.0, -118.0, WHEN), atol=1e-9)


def test_off_node_points_match_point_mode():
    lat = np.array([34.03, 33.517, 35.9])
    lon = np.array([-118.07, -117.21, -116.33])
    enu = enu_displacement(lat, lon, WHEN)
    for k in range(lat.size):
        # bilinear on 0.1° nodes of a field varying over ~10,000 km: < 1 µm
        np.testing.assert_allclose(enu[k], point_mode(lat[k], lon[k], WHEN), atol=1e-6)


def test_pixel_centres_not_corners():
    """A grid whose pixel (3, 4) is centred on 34°N -118°E gets the point value there.

    Taking GDAL's corner coordinate instead would move the evaluation half a pixel (0.05°),
    which changes the tide by ~1e-5 m here: 1e-7 separates the two.
    """
    d = 0.1
    grid = Grid((-118.0 - 4.5 * d, d, 0.0, 34.0 + 3.5 * d, 0.0, -d), (8, 9))
    lat, lon = grid.meshgrid()
    assert (lat[3, 4], lon[3, 4]) == pytest.approx((34.0, -118.0))
    up = los_displacement(lat, lon, WHEN, np.array([0.0, 0.0, 1.0]))
    assert up[3, 4] == pytest.approx(0.16008235, abs=1e-7)
    corner = enu_displacement(34.0 + d / 2, -118.0 - d / 2, WHEN)[2]
    assert abs(corner - 0.16008235) > 1e-6


def test_los_projection_sign():
    los = los_unit_vector(39.0, -12.0)
    enu = point_mode(34.0, -118.0, WHEN)
    value = los_displacement(34.0, -118.0, WHEN, los)
    # an uplift moves the ground toward a satellite above it: positive
    assert value == pytest.approx(float(enu @ los), abs=1e-9)
    assert los_displacement(34.0, -118.0, WHEN, [0, 0, 1]) > 0


def test_microseconds_round_to_the_second():
    late = WHEN + timedelta(microseconds=700_000)
    np.testing.assert_array_equal(
        enu_displacement(34.0, -118.0, late),
        enu_displacement(34.0, -118.0, WHEN + timedelta(seconds=1)),
    )


def test_kernel_at_nodes_nan_and_outside():
    glat, glon, enu = enu_grid(WHEN, 33.0, 34.0, -118.5, -117.5)
    lat, lon = np.meshgrid(glat, glon, indexing="ij")
    # at its nodes the bilinear kernel returns pysolid's values (node positions are rounded sums
    # of the step, 1e-15 off: the weights leave 1e-16 m)
    np.testing.assert_allclose(interpolate(glat, glon, enu, lat, lon), enu, rtol=0, atol=1e-12)
    los = los_unit_vector(39.0, -12.0)
    out = interpolate(glat, glon, enu, np.array([33.55, np.nan]), -117.73, tuple(los))
    assert np.isnan(out[1])
    assert out[0] == pytest.approx(float(point_mode(33.55, -117.73, WHEN) @ los), abs=1e-6)
    with pytest.raises(ValueError, match="1 point.* outside the tide grid"):
        interpolate(glat, glon, enu, np.array([33.5, 34.5]), -118.0)
