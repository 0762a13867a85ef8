"""Appending acquisitions to the synthetic frame leaves the earlier dates' files bit-identical."""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from sar4tec.config import load_config
from sar4tec.corrections.layers import write_layer
from sar4tec.files import read_times
from sar4tec.geometry import los_unit_vector
from sar4tec.grid import Grid
from sar4tec.simulate import simulate_frame
from sar4tec.simulate.scattering import cholesky_factor, correlate

CONFIG = """
seed: 3
frames:
  tiny:
    source: simulate
simulation:
  bounds: [30.22, 40.70, 30.54, 40.94]
  spacing: 0.004
  dem_margin: 6
  acquisitions: {{start: "2018-01-03", end: "{end}", subsample: 3}}
  city: {{lon: 30.39, lat: 40.80, radius: 6000.0}}
  scattering:
    cells: 6
    classes: {{urban: {{ps_fraction: 0.5}}}}
  gnss: {{stations: 5, outside: 2}}
phase_linking: {{strides: [2, 2]}}
"""


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def frames(tmp_path_factory):
    """The tiny frame simulated up to May and, separately, extended to August."""
    root = tmp_path_factory.mktemp("append")
    out = {}
    for name, end in (("short", "2018-05-10"), ("long", "2018-08-20")):
        path = root / f"{name}.yaml"
        path.write_text(CONFIG.format(end=end))
        out[name] = simulate_frame(load_config(path), root / name, "tiny")
    out["config"] = path
    return out


def test_appended_dates_leave_every_old_input_file_bit_identical(frames):
    short, long = (json.loads(frames[k].read_text()) for k in ("short", "long"))
    a, b = frames["short"].parent, frames["long"].parent
    assert len(long["slc"]) > len(short["slc"])  # the extension really added dates
    for key in ("slc", "orbits", "era5", "ionex"):
        old = [e["path"] if isinstance(e, dict) else e for e in short[key]]
        new = [e["path"] if isinstance(e, dict) else e for e in long[key]]
        assert new[: len(old)] == old, key  # same names, old ones first
        for rel in old:
            assert _sha(a / rel) == _sha(b / rel), rel
    # the static inputs do not depend on the dates at all
    for rel in ("dem.tif", "water_mask.tif", "gnss/midas.IGS14.txt"):
        assert _sha(a / rel) == _sha(b / rel), rel


def test_appended_dates_leave_the_old_truth_identical(frames):
    with (
        h5py.File(frames["short"].parent / "truth.h5") as a,
        h5py.File(frames["long"].parent / "truth.h5") as b,
    ):
        times = read_times(a)
        n = len(times)
        assert read_times(b)[:n] == times
        checked = 0
        for name, dset in a.items():
            if isinstance(dset, h5py.Dataset) and dset.ndim == 3 and dset.shape[0] == n:
                np.testing.assert_array_equal(dset[()], b[name][:n], err_msg=name)
                checked += 1
            elif isinstance(dset, h5py.Dataset) and name not in ("dates", "sensing_times"):
                np.testing.assert_array_equal(dset[()], b[name][()], err_msg=name)
        assert checked >= 5  # displacement, troposphere, ionosphere, tides, deformation, ...


def test_row_by_row_factor_and_product_are_prefix_stable_and_exact():
    g = np.random.default_rng(1)
    t = np.sort(g.uniform(0, 2000, 60))
    gamma = 0.3 * np.exp(-np.abs(t[:, None] - t[None, :]) / 100.0) + 0.2
    np.fill_diagonal(gamma, 1.0)
    full = cholesky_factor(gamma)
    # the factor is a Cholesky factor (to float64 rounding of a 60x60 SPD solve)
    np.testing.assert_allclose(full @ full.T, gamma, atol=1e-12)
    np.testing.assert_array_equal(cholesky_factor(gamma[:41, :41]), full[:41, :41])
    w = g.standard_normal((60, 500)) + 1j * g.standard_normal((60, 500))
    np.testing.assert_array_equal(correlate(full[:41, :41], w[:41]), correlate(full, w)[:41])
    np.testing.assert_allclose(correlate(full, w), full @ w, rtol=1e-12, atol=1e-12)


@pytest.fixture(scope="module")
def geometry(tmp_path_factory):
    """Geometry on a 0.008 deg output grid of the tiny frame (heights, angles, LOS vectors)."""
    grid = Grid.from_bounds(30.22, 40.70, 30.54, 40.94, 0.008)
    lat, lon = grid.meshgrid()
    height = 40.0 + 800.0 * np.exp(-((lat - 40.8) ** 2 + (lon - 30.4) ** 2) / 0.005)
    incidence = np.broadcast_to(np.linspace(33.0, 44.0, grid.cols), grid.shape)
    heading = np.full(grid.shape, -10.5)
    los = los_unit_vector(incidence, heading)
    path = tmp_path_factory.mktemp("geometry") / "geometry.h5"
    with h5py.File(path, "w") as f:
        f.attrs.update(grid.to_attrs())
        for name, value in {
            "height": height,
            "incidence_angle": incidence,
            "heading": heading,
            "los_east": los[..., 0],
            "los_north": los[..., 1],
            "los_up": los[..., 2],
        }.items():
            f[name] = np.asarray(value, dtype=np.float32)
    return path


def _layer(path: Path) -> np.ndarray:
    with h5py.File(path, "r") as h5:
        return h5["correction"][()]


@pytest.mark.parametrize("kind", ["troposphere", "ionosphere", "tides"])
def test_appending_dates_computes_only_the_new_layers(frames, geometry, tmp_path, kind, caplog):
    settings = load_config(frames["config"])["corrections"]
    out = tmp_path / "corrections" / f"{kind}.h5"
    caplog.set_level(logging.INFO, logger="sar4tec")
    write_layer(kind, frames["short"], geometry, out, settings)
    before = _layer(out)
    n = before.shape[0]
    assert f"{kind}: computed {n} of {n} dates, 0 from the cache" in caplog.text
    caplog.clear()
    write_layer(kind, frames["long"], geometry, out, settings)
    after = _layer(out)
    k = after.shape[0] - n
    assert k > 0 and f"{kind}: computed {k} of {n + k} dates, {n} from the cache" in caplog.text
    np.testing.assert_array_equal(after[:n], before)  # old dates copied bit for bit
    # and the incremental layer is the layer a run without the cache computes
    write_layer(kind, frames["long"], geometry, tmp_path / "full.h5", settings, use_cache=False)
    np.testing.assert_array_equal(after, _layer(tmp_path / "full.h5"))
    assert np.isfinite(after).all() and np.abs(after).max() > 0


def test_cache_key_follows_settings_geometry_and_input_files(frames, geometry, tmp_path, caplog):
    settings = load_config(frames["config"])["corrections"]
    out = tmp_path / "corrections" / "ionosphere.h5"
    caplog.set_level(logging.INFO, logger="sar4tec")
    write_layer("ionosphere", frames["short"], geometry, out, settings)
    n = _layer(out).shape[0]
    changed = {**settings, "ionosphere": {**settings["ionosphere"], "interpolation": "nearest"}}
    caplog.clear()
    write_layer("ionosphere", frames["short"], geometry, out, changed)
    assert f"computed {n} of {n} dates, 0 from the cache" in caplog.text  # settings changed
    # one cache file per date: the outdated keys were removed
    assert len(list((out.parent / "cache" / "ionosphere").glob("*.h5"))) == n
    moved = tmp_path / "geometry.h5"
    shutil.copy(geometry, moved)
    with h5py.File(moved, "a") as f:
        f["heading"][0, 0] += 1.0
    caplog.clear()
    write_layer("ionosphere", frames["short"], moved, out, changed)
    assert f"computed {n} of {n} dates, 0 from the cache" in caplog.text  # geometry changed
    # a modified IONEX file changes the key of the dates it covers, and only those
    data = tmp_path / "data"
    shutil.copytree(frames["short"].parent, data)
    first = json.loads((data / "manifest.json").read_text())["ionex"][0]
    text = gzip.decompress((data / first).read_bytes()).replace(b"Simulated", b"simulated")
    (data / first).write_bytes(gzip.compress(text))
    caplog.clear()
    write_layer("ionosphere", data / "manifest.json", moved, out, changed)
    assert f"computed 1 of {n} dates, {n - 1} from the cache" in caplog.text


def test_ionex_header_span_matches_the_parsed_maps_of_real_files(real_data):
    from sar4tec.corrections.ionosphere import read_ionex
    from sar4tec.corrections.layers import _ionex_span

    files = sorted((real_data / "ionex").iterdir())
    assert files
    for path in files:
        ionex = read_ionex(path)
        assert _ionex_span(path) == (float(ionex.epochs[0]), float(ionex.epochs[-1])), path.name
