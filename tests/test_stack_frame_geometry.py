"""Per-pixel geometry layers: layover/shadow on a synthetic ridge, acquisition times, UTM grids."""

from datetime import UTC, datetime, timedelta

import h5py
import numpy as np
import pytest

from sar4tec.grid import Grid
from sar4tec.sentinel1.geometry import zero_doppler_geometry
from sar4tec.sentinel1.orbit import Orbit
from sar4tec.stack.frame_geometry import (
    LAYOVER,
    SHADOW,
    layover_shadow_mask,
    write_output_geometry,
    write_slc_geometry,
)

EPOCH = datetime(2021, 6, 1, 12, tzinfo=UTC)
#: ridge crest (lat, lon): ~40 deg incidence from the orbit below (4.5 deg east of its track)
CREST = (0.05, 4.5)
H, SLOPE = 1500.0, 60.0  # ridge height (m) and flank slope (deg): steeper than 90 - 40 deg


def polar_orbit(track_lon: float = 0.0) -> Orbit:
    """Earth-fixed circular orbit 700 km up, flying north over ``track_lon`` at t = 100 s."""
    radius, speed = 7.078e6, 7.5e3
    omega = speed / radius
    t = np.arange(0.0, 201.0, 10.0)
    phase = omega * (t - 100.0)
    meridian = np.array([np.cos(np.radians(track_lon)), np.sin(np.radians(track_lon)), 0.0])
    pole = np.array([0.0, 0.0, 1.0])
    position = radius * (np.cos(phase)[:, None] * meridian + np.sin(phase)[:, None] * pole)
    velocity = speed * (-np.sin(phase)[:, None] * meridian + np.cos(phase)[:, None] * pole)
    return Orbit(EPOCH, t, position, velocity)


def ridge_grid(spacing: float = 0.0001) -> tuple[Grid, np.ndarray, np.ndarray]:
    """Grid across a north-south ridge (crest on a pixel centre); heights and east distance (m)."""
    cols, rows = 801, 5
    x0 = CREST[1] - (cols // 2 + 0.5) * spacing
    y0 = CREST[0] + (rows / 2) * spacing
    grid = Grid((x0, spacing, 0.0, y0, 0.0, -spacing), (rows, cols))
    lat, lon = grid.meshgrid()
    east = np.radians(lon - CREST[1]) * 6378137.0 * np.cos(np.radians(lat))
    height = np.maximum(H - np.abs(east) * np.tan(np.radians(SLOPE)), 0.0)
    return grid, height, east


def expected_mask(east: np.ndarray, incidence_deg: float) -> np.ndarray:
    """Flat-Earth layover/shadow classes of the ridge (x east = away from the satellite).

    Slant range along the profile is ``x sin(i) - h cos(i)`` up to a constant: the foreslope
    (toward the radar, slope > i) reverses it; look angles reverse where slopes facing away
    exceed 90 - i.  Shadow runs from the crest until the ray grazing the crest reaches the
    ground, ``H tan(i)``; layover from the flat ground as near as ``H cot(i)`` in front,
    over the crest, to the backslope point whose range equals the foreslope foot's.
    """
    i = np.radians(incidence_deg)
    w = H / np.tan(np.radians(SLOPE))
    back = (H * np.cos(i) - w * np.sin(i)) / (np.sin(i) + np.tan(np.radians(SLOPE)) * np.cos(i))
    mask = np.zeros(east.shape, np.uint8)
    mask[(east > 0) & (east <= H * np.tan(i))] |= SHADOW
    mask[(east >= -H / np.tan(i)) & (east <= back)] |= LAYOVER
    boundaries = np.array([-H / np.tan(i), 0.0, back, H * np.tan(i)])
    return mask, boundaries


def test_layover_and_shadow_of_a_steep_ridge():
    orbit = polar_orbit()
    grid, height, east = ridge_grid()
    lat, lon = grid.meshgrid()
    geo = zero_doppler_geometry(orbit, lat, lon, height)
    mask = layover_shadow_mask(height, grid, geo.los_enu, geo.slant_range)
    incidence = float(geo.incidence[2, 400])
    assert 38 < incidence < 42 and np.all(geo.los_enu[..., 0] < 0)  # looks east, from the west
    truth, boundaries = expected_mask(east, incidence)
    # away from the class boundaries by two pixels (11 m each): the DEM is sampled at pixel
    # centres, so a boundary can move by up to a pixel; the flat-Earth formula ignores the
    # Earth's curvature (0.3 m drop over 2 km) and the 0.03 deg change of incidence over the
    # profile, metres at most
    far = np.min(np.abs(east[..., None] - boundaries), axis=-1) > 22.0
    assert np.array_equal(mask[far], truth[far])
    assert set(np.unique(mask)) == {0, SHADOW, LAYOVER, SHADOW | LAYOVER}
    # a gentle hill (slopes below both limits) has neither
    gentle = np.maximum(200.0 - np.abs(east) * np.tan(np.radians(20.0)), 0.0)
    geo = zero_doppler_geometry(orbit, lat, lon, gentle)
    assert not layover_shadow_mask(gentle, grid, geo.los_enu, geo.slant_range).any()


def write_dem(path, grid: Grid, values: np.ndarray) -> None:
    import rasterio

    profile = dict(driver="GTiff", width=grid.cols, height=grid.rows, count=1, dtype="float32")
    with rasterio.open(
        path, "w", crs=grid.crs, transform=grid.rasterio_transform(), **profile
    ) as dst:
        dst.write(values.astype(np.float32), 1)


@pytest.mark.parametrize("utm", [False, True])
def test_geometry_file_with_times_and_masks(tmp_path, utm):
    orbit = polar_orbit()
    west, south, east, north = ridge_grid()[0].bounds
    crs = Grid.utm_crs(*CREST) if utm else "EPSG:4326"
    spacing = (10.0, 10.0) if utm else (1e-4, 1e-4)
    # the DEM in the grid's CRS (raster.read_onto_grid checks coverage in the grid's CRS)
    dem_grid = Grid.from_lonlat_bounds((west, south - 0.01, east, north + 0.01), spacing, crs)
    lat_d, lon_d = dem_grid.latlon()
    distance = np.radians(lon_d - CREST[1]) * 6378137.0 * np.cos(np.radians(lat_d))
    ridge = np.maximum(H - np.abs(distance) * np.tan(np.radians(SLOPE)), 0.0)
    write_dem(tmp_path / "dem.tif", dem_grid, ridge)
    grid = Grid.from_lonlat_bounds((west + 0.003, south, east - 0.003, north), spacing, crs)
    assert grid.crs == ("EPSG:32631" if utm else "EPSG:4326")
    start = EPOCH + timedelta(seconds=90)
    out = write_slc_geometry(
        tmp_path / "geometry.h5",
        grid,
        orbit,
        tmp_path / "dem.tif",
        None,
        block_size=16,
        reference_time=start,
    )
    with h5py.File(out) as f:
        assert Grid.from_attrs(f.attrs) == grid
        lat, lon = grid.latlon()
        geo = zero_doppler_geometry(orbit, lat, lon, f["height"][:])
        assert f["azimuth_time"].attrs["reference_time"] == "2021-06-01T12:01:30.000000Z"
        # float64 seconds: the time of each pixel to well below a microsecond
        assert np.abs(f["azimuth_time"][:] - (geo.azimuth_time - 90.0)).max() < 1e-6
        mask = f["layover_shadow_mask"][:]
        whole = layover_shadow_mask(f["height"][:], grid, geo.los_enu, geo.slant_range)
        # blocks of 16 pixels with halos give the mask of the whole grid at once
        assert np.array_equal(mask, whole)
        assert (mask == SHADOW).any() and (mask == LAYOVER).any()
    decimated = write_output_geometry(out, tmp_path / "out.h5", (2, 3))
    with h5py.File(decimated) as f:
        assert f["layover_shadow_mask"].dtype == np.uint8
        assert f["azimuth_time"].attrs["reference_time"] == "2021-06-01T12:01:30.000000Z"


def test_utm_grid_helpers():
    assert Grid.utm_crs(-33.9, 18.4) == "EPSG:32734"
    assert (
        Grid.utm_crs(40.0, -179.99) == "EPSG:32601" and Grid.utm_crs(40.0, 179.99) == "EPSG:32660"
    )
    grid = Grid.from_lonlat_bounds((30.0, 40.0, 30.1, 40.05), (30.0, 30.0), "EPSG:32636")
    assert grid.spacing == (-30.0, 30.0) and grid.transform[0] % 30 == 0
    lat, lon = grid.latlon()
    # the grid covers the requested box (snapped outward) and no more than one pixel beyond
    assert lat.min() < 40.0 + 3e-4 and lat.max() > 40.05 - 3e-4
    assert lon.min() < 30.0 + 4e-4 and lon.max() > 30.1 - 4e-4
    row, col = grid.index_latlon(lat[5, 7], lon[5, 7])
    assert abs(row - 5) < 1e-6 and abs(col - 7) < 1e-6
