"""SNAPHU adapter (NaN-safe, congruent output), box coherence and reference-point choice."""

from __future__ import annotations

import numpy as np
import pytest

from sar4tec.grid import Grid
from sar4tec.unwrap.reference_point import largest_component, select_reference
from sar4tec.unwrap.snaphu_adapter import boxcar_coherence, snaphu_unwrap

TWO_PI = 2 * np.pi


def test_boxcar_coherence():
    yy, xx = np.mgrid[0:40, 0:50]
    smooth = 0.05 * xx  # gentle ramp: coherence ~1
    assert np.nanmin(boxcar_coherence(smooth, 5)) > 0.99
    rng = np.random.default_rng(0)
    noise = rng.uniform(-np.pi, np.pi, (40, 50))  # random phase: ~1/sqrt(25) = 0.2
    assert 0.1 < np.nanmean(boxcar_coherence(noise, 5)) < 0.3
    smooth = smooth.astype(float)
    smooth[10, 10] = np.nan
    coh = boxcar_coherence(smooth, 5)
    assert np.isnan(coh[10, 10]) and coh[10, 11] > 0.99  # NaN neighbours are skipped


def test_snaphu_unwraps_a_bowl_around_a_hole():
    rows, cols = 120, 150
    yy, xx = np.mgrid[0:rows, 0:cols].astype(float)
    truth = 30.0 * np.exp(-((yy - 60) ** 2 + (xx - 80) ** 2) / (2 * 25.0**2))  # ~5 fringes
    rng = np.random.default_rng(1)
    wrapped = np.angle(np.exp(1j * (truth + rng.normal(0, 0.3, truth.shape))))
    wrapped[50:60, 20:30] = np.nan  # no data
    mask = np.ones(truth.shape, bool)
    mask[:, -5:] = False  # e.g. water
    coh = np.full(truth.shape, 0.7, np.float32)
    unw, cc = snaphu_unwrap(wrapped, coh, mask, nlooks=10)
    assert unw.dtype == np.float32 and cc.dtype == np.uint16
    assert np.all(np.isnan(unw[50:60, 20:30])) and np.all(cc[50:60, 20:30] == 0)
    assert np.all(np.isnan(unw[:, -5:])) and np.all(cc[:, -5:] == 0)
    ok = np.isfinite(unw)
    cycles = (unw[ok] - wrapped[ok]) / TWO_PI
    np.testing.assert_allclose(cycles, np.round(cycles), atol=1e-4)  # congruent
    # correct up to one constant number of cycles (noise 0.3 rad never crosses pi here)
    offset = np.round((unw - truth) / TWO_PI)[ok]
    assert np.mean(offset == np.median(offset)) > 0.999
    empty, cc0 = snaphu_unwrap(np.full((20, 20), np.nan), np.ones((20, 20)))
    assert np.all(np.isnan(empty)) and not cc0.any()


def test_reference_point_auto_and_latlon():
    grid = Grid.from_bounds(30.0, 40.0, 30.0 + 0.1 * 20, 40.0 + 0.1 * 10, 0.1)
    water = np.zeros((10, 20), bool)
    water[:, :4] = True
    comps = np.ones((3, 10, 20), np.uint16)
    comps[1, :, 15:] = 2  # a small second component in interferogram 1
    comps[2, 0, :] = 0  # first row not unwrapped in interferogram 2
    tcoh = np.full((10, 20), 0.5)
    tcoh[6:9, 1:4] = 0.99  # best coherence, but on water
    tcoh[6:9, 16:19] = 0.98  # next best, but outside the main component of ifg 1
    tcoh[2:5, 8:11] = 0.9
    ref = select_reference(comps, tcoh, water, grid, window=3)
    assert (ref.row, ref.col) == (3, 9) and ref.n_main == 3
    assert largest_component(comps[1]) == 1
    lat, lon = grid.y[5], grid.x[10]
    ref = select_reference(comps, tcoh, water, grid, "latlon", lat, lon)
    assert (ref.row, ref.col) == (5, 10)
    with pytest.raises(ValueError, match="on water"):
        select_reference(comps, tcoh, water, grid, "latlon", grid.y[5], grid.x[1])
    with pytest.raises(ValueError, match="outside the largest connected component in 1 of 3"):
        select_reference(comps, tcoh, water, grid, "latlon", grid.y[5], grid.x[17])
    with pytest.raises(ValueError, match="outside the grid"):
        select_reference(comps, tcoh, water, grid, "latlon", 50.0, 10.0)


def test_reference_point_latlon_on_a_utm_grid():
    grid = Grid((600_000.0, 1000.0, 0.0, 4_500_000.0, 0.0, -1000.0), (10, 20), "EPSG:32636")
    comps = np.ones((2, 10, 20), np.uint16)
    water = np.zeros((10, 20), bool)
    lat, lon = (a[4, 7] for a in grid.latlon())
    ref = select_reference(comps, np.full((10, 20), 0.5), water, grid, "latlon", lat, lon)
    # the pixel holding the point, and its centre's geodetic coordinates (not easting/northing)
    assert (ref.row, ref.col) == (4, 7)
    assert (ref.lat, ref.lon) == pytest.approx((lat, lon), abs=1e-9)
    with pytest.raises(ValueError, match="outside the grid"):
        select_reference(comps, np.full((10, 20), 0.5), water, grid, "latlon", 30.0, 30.0)
