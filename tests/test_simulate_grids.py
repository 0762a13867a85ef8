"""The simulated frame's grid in EPSG:4326 or UTM (``sar4tec.simulate.grids``)."""

import numpy as np
import pytest

from sar4tec.grid import Grid
from sar4tec.simulate.grids import frame_grid, geodetic, grid_coordinates, pixel_size

BOUNDS = [29.95, 40.45, 30.55, 40.95]


def test_geographic_grid_is_the_bounds_exactly():
    grid = frame_grid({"bounds": BOUNDS, "spacing": 0.002, "grid_crs": "EPSG:4326"})
    assert grid == Grid.from_bounds(*BOUNDS, 0.002) and grid.shape == (250, 300)


def test_utm_grid_covers_the_bounds_with_square_metre_pixels():
    grid = frame_grid({"bounds": BOUNDS, "spacing": 200.0, "grid_crs": "utm"})
    assert grid.crs == "EPSG:32636" and grid.spacing == (-200.0, 200.0)
    lat, lon = grid.latlon()
    # the pixel centres reach to within one pixel (200 m < 0.003 deg) of every edge
    assert lat.min() < BOUNDS[1] + 0.003 and lat.max() > BOUNDS[3] - 0.003
    assert lon.min() < BOUNDS[0] + 0.003 and lon.max() > BOUNDS[2] - 0.003
    with pytest.raises(ValueError, match="in metres"):
        frame_grid({"bounds": BOUNDS, "spacing": 0.002, "grid_crs": "utm"})


def test_pixel_size_and_coordinate_round_trip():
    geo = Grid.from_bounds(*BOUNDS, 0.002)
    dy, dx = pixel_size(geo, 60.0, 111.195, 1e-3)
    assert dy == pytest.approx(0.22239) and dx == pytest.approx(0.22239 / 2)  # cos 60 = 1/2
    utm = frame_grid({"bounds": BOUNDS, "spacing": 200.0, "grid_crs": "utm"})
    assert pixel_size(utm, 60.0, 111.195, 1e-3) == (0.2, 0.2)
    lat, lon = np.array([40.6, 40.9]), np.array([30.0, 30.5])
    y, x = grid_coordinates(utm, lat, lon)
    assert np.all((y > 4.4e6) & (x > 5e5 - 3.0e5))  # northing/easting in metres, zone 36
    np.testing.assert_allclose(geodetic(utm, y, x), (lat, lon), atol=1e-9)
