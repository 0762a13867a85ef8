import h5py
import numpy as np
import pytest

from sar4tec.grid import Grid


def test_pixel_centres_and_bounds():
    grid = Grid.from_bounds(30.0, 40.0, 30.5, 40.2, 0.1)
    assert grid.shape == (2, 5)
    np.testing.assert_allclose(grid.x, [30.05, 30.15, 30.25, 30.35, 30.45])
    np.testing.assert_allclose(grid.y, [40.15, 40.05])
    np.testing.assert_allclose(grid.bounds, (30.0, 40.0, 30.5, 40.2))
    assert grid.nearest_pixel(40.06, 30.31) == (1, 3)
    with pytest.raises(ValueError, match="outside"):
        grid.nearest_pixel(41.0, 30.3)


@pytest.mark.parametrize("strides", [(1, 1), (3, 5), (2, 4), (4, 3)])
def test_decimate_centres_are_input_centres(strides):
    grid = Grid((10.0, 0.01, 0.0, 50.0, 0.0, -0.01), (23, 37))
    out = grid.decimate(strides)
    sy, sx = strides
    assert out.shape == (-(-23 // sy), -(-37 // sx))
    # output pixel i sits on input pixel i*s + s//2 (exactly, also for even strides)
    rows = np.arange(out.rows) * sy + sy // 2
    cols = np.arange(out.cols) * sx + sx // 2
    np.testing.assert_allclose(out.y, 50.0 - (rows + 0.5) * 0.01, atol=1e-12)
    np.testing.assert_allclose(out.x, 10.0 + (cols + 0.5) * 0.01, atol=1e-12)


def test_attrs_round_trip(tmp_path):
    grid = Grid((-118.0, 0.002, 0.0, 34.5, 0.0, -0.002), (100, 150))
    with h5py.File(tmp_path / "g.h5", "w") as f:
        f.attrs.update(grid.to_attrs())
    with h5py.File(tmp_path / "g.h5", "r") as f:
        assert Grid.from_attrs(f.attrs) == grid
    with pytest.raises(KeyError, match="grid_transform"):
        Grid.from_attrs({})


def test_window_and_rotated_transform_rejected():
    grid = Grid((0.0, 1.0, 0.0, 10.0, 0.0, -1.0), (10, 10))
    sub = grid.window(slice(2, 5), slice(3, 10))
    assert sub.shape == (3, 7)
    np.testing.assert_allclose(sub.x, grid.x[3:10])
    np.testing.assert_allclose(sub.y, grid.y[2:5])
    with pytest.raises(ValueError, match="north-up"):
        Grid((0.0, 1.0, 0.1, 10.0, 0.0, -1.0), (10, 10))
