"""The stack stage's use of what an ingested product brings: its geometry and its orbit."""

from datetime import UTC, datetime, timedelta

import h5py
import numpy as np
import pytest

from sar4tec.files import atomic_output
from sar4tec.grid import Grid
from sar4tec.sentinel1.cslc import CslcMetadata, create_cslc, read_cslc_info
from sar4tec.sentinel1.orbit import Orbit
from sar4tec.stack.pipeline import _date_orbit, apply_source_geometry

GRID = Grid((30.0, 0.001, 0.0, 40.0, 0.0, -0.001), (6, 5))


def _geometry_file(path, grid, layers):
    with h5py.File(path, "w") as f:
        f.attrs.update(grid.to_attrs())
        for name, value in layers.items():
            f[name] = value


def test_source_layers_replace_the_computed_ones_where_the_source_has_values(tmp_path):
    computed = {
        "height": np.full(GRID.shape, 50.0, np.float32),
        "incidence_angle": np.full(GRID.shape, 38.0, np.float32),
        "heading": np.full(GRID.shape, 349.0, np.float32),
        "slant_range": np.full(GRID.shape, 8.5e5, np.float32),
        "layover_shadow_mask": np.zeros(GRID.shape, np.uint8),
    }
    _geometry_file(tmp_path / "geometry.h5", GRID, computed)
    inc = np.full(GRID.shape, 39.0, np.float32)
    inc[0] = np.nan  # the source does not cover the first row
    mask = np.ones(GRID.shape, np.uint8)
    source = {"incidence_angle": inc, "heading": np.full(GRID.shape, 348.0, np.float32)}
    _geometry_file(tmp_path / "source.h5", GRID, {**source, "layover_shadow": mask})
    apply_source_geometry(tmp_path / "geometry.h5", tmp_path / "source.h5", block_size=4)
    with h5py.File(tmp_path / "geometry.h5") as f:
        assert (f["incidence_angle"][0] == 38.0).all() and (f["incidence_angle"][1:] == 39.0).all()
        assert (f["heading"][()] == 348.0).all()
        # the mask follows the source where it covers (its incidence is finite)
        assert (f["layover_shadow_mask"][0] == 0).all()
        assert (f["layover_shadow_mask"][1:] == 1).all()
        # layers the source lacks stay the orbit + DEM ones
        assert (f["height"][()] == 50.0).all() and (f["slant_range"][()] == 8.5e5).all()
        assert f.attrs["geometry_source"].endswith("source.h5")
    _geometry_file(tmp_path / "shifted.h5", GRID.window(slice(1, 7), slice(0, 5)), source)
    with pytest.raises(ValueError, match="shifted.h5 is not on the grid of"):
        apply_source_geometry(tmp_path / "geometry.h5", tmp_path / "shifted.h5")


def _orbit(start, last):
    """State vectors every 10 s from 60 s before ``start`` to ``last`` seconds after it."""
    times = [start + timedelta(seconds=float(t)) for t in range(-60, last + 1, 10)]
    position = np.array([[7e6, 7.5e4 * k, 0.0] for k in range(len(times))])
    return Orbit.from_state_vectors(times, position, np.tile([0.0, 7.5e3, 0.0], (len(times), 1)))


def test_without_eof_the_orbit_carried_by_the_cslc_is_used(tmp_path):
    start = datetime(2023, 10, 21, 14, 7, 57, tzinfo=UTC)
    # the product's state vectors span its 3 s of data, or stop at its first line
    for name, span in (("covered.h5", 60), ("short.h5", 0)):
        meta = CslcMetadata(start, start + timedelta(seconds=3), "descending", 42, "S1A", 1,
                            _orbit(start, span))  # fmt: skip
        with atomic_output(tmp_path / name) as tmp, h5py.File(tmp, "w") as f:
            create_cslc(f, GRID, meta)
    orbit = _date_orbit([], read_cslc_info(tmp_path / "covered.h5"), "m.json")
    assert orbit.covers(start - timedelta(seconds=60), start + timedelta(seconds=60))
    with pytest.raises(ValueError, match="m.json: short.h5: no orbit covers"):
        _date_orbit([], read_cslc_info(tmp_path / "short.h5"), "m.json")
