"""End to end on a small synthetic frame with a known answer: unwrap stage, then inversion.

The frame: a subsiding bowl (-40 mm/yr peak, with a 4 mm annual term) on a 12 mm/yr east-west
gradient, a lake, 24 dates 24 days apart; the linked phases carry, besides the deformation, a
"troposphere" (ramp + height-correlated term, ~1 cm), an "ionosphere" ramp and a "tide", each
also given as a correction layer, and white phase noise (0.35 rad = 1.5 mm per date) that no
correction sees.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import h5py
import numpy as np
import pytest

from sar4tec.config import validate_config
from sar4tec.constants import los_to_phase
from sar4tec.files import read_times, write_times
from sar4tec.grid import Grid
from sar4tec.timeseries.stage import run_inversion
from sar4tec.unwrap.stage import run_unwrap

ROWS, COLS, N = 60, 80, 24
NOISE_RAD = 0.35
REF = (45, 20)  # a noise-free persistent scatterer, used as the reference point


def _scene(seed=0):
    rng = np.random.default_rng(seed)
    grid = Grid.from_bounds(29.9, 40.6, 29.9 + COLS * 0.002, 40.6 + ROWS * 0.002, 0.002)
    times = [datetime(2020, 1, 5, 16, 0, tzinfo=UTC) + timedelta(days=24 * k) for k in range(N)]
    t = np.array([(x - times[0]).days / 365.25 for x in times])
    yy, xx = np.mgrid[0:ROWS, 0:COLS].astype(float)
    bowl = np.exp(-((yy - 30) ** 2 + (xx - 50) ** 2) / (2 * 8.0**2))
    velocity = -0.040 * bowl + 0.012 * (xx / COLS - 0.5)  # m/yr
    annual = 0.004 * bowl
    deform = velocity * t[:, None, None] + annual * np.sin(2 * np.pi * t)[:, None, None]
    height = 300 + 200 * np.sin(xx / 15.0) * np.cos(yy / 20.0)
    water = ((yy - 10) ** 2 / 36 + (xx - 12) ** 2 / 64) < 1
    layers = {
        "troposphere": rng.normal(0, 0.004, (N, 1, 1)) * (xx / COLS)
        + rng.normal(0, 0.004, (N, 1, 1)) * (yy / ROWS)
        - rng.normal(0, 2e-5, (N, 1, 1)) * height,
        "ionosphere": rng.normal(0, 0.003, (N, 1, 1)) * (xx + yy) / (ROWS + COLS),
        "tides": rng.normal(0, 0.002, (N, 1, 1)) * (1 + yy / ROWS),
    }
    signal = deform + sum(layers.values())
    noise = rng.normal(0, NOISE_RAD, (N, ROWS, COLS))
    noise[:, REF[0], REF[1]] = 0.0
    phase = los_to_phase(signal) + noise
    phase[:, water] = rng.uniform(-np.pi, np.pi, (N, int(water.sum())))
    phase -= phase[0]
    linked = np.angle(np.exp(1j * phase)).astype(np.float32)
    tcoh = np.where(water, 0.15, 0.85).astype(np.float32)
    ps = np.zeros(grid.shape, np.uint8)
    ps[::4, ::4] = 1
    ps[REF] = 1
    ps[water] = 0
    return grid, times, linked, tcoh, ps, water, height, layers, velocity


@pytest.fixture(scope="module")
def frame(tmp_path_factory):
    root = tmp_path_factory.mktemp("frame")
    grid, times, linked, tcoh, ps, water, height, layers, velocity = _scene()
    with h5py.File(root / "linked.h5", "w") as f:
        f.attrs.update(grid.to_attrs())
        write_times(f, times)
        f["phase"] = linked
        f["temporal_coherence"] = tcoh
        f["ps_mask"] = ps
    with h5py.File(root / "geometry.h5", "w") as f:
        f.attrs.update(grid.to_attrs())
        f["water_mask"] = water.astype(np.uint8)
        f["height"] = height.astype(np.float32)
        f["incidence_angle"] = np.full(grid.shape, 39.0, np.float32)
    paths = {}
    for kind, layer in layers.items():
        paths[kind] = root / f"{kind}.h5"
        with h5py.File(paths[kind], "w") as f:
            f.attrs.update(grid.to_attrs())
            write_times(f, times)
            # not re-referenced: add a per-date constant the inversion must remove
            f["correction"] = (layer + 0.01 * np.arange(N)[:, None, None]).astype(np.float32)
    config = validate_config({"frames": {"t": {"source": "local"}}})
    config["unwrap"]["coherence_window"] = 3
    lat, lon = grid.y[REF[0]], grid.x[REF[1]]
    config["unwrap"]["reference"].update(method="latlon", lat=float(lat), lon=float(lon))
    config["inversion"]["block_size"] = 32  # several blocks, to exercise the stitching
    summary_unw = run_unwrap(root / "linked.h5", root / "geometry.h5", root / "unw.h5",
                             config["unwrap"], workers=2, correction_paths=paths)  # fmt: skip
    summary_inv = run_inversion(
        root / "unw.h5", root / "linked.h5", root / "geometry.h5", paths,
        root / "ts.h5", root / "stats.csv", config["inversion"],
    )  # fmt: skip
    return {"root": root, "velocity": velocity, "water": water, "times": times,
            "unw": summary_unw, "inv": summary_inv, "config": config}  # fmt: skip


def test_unwrapped_file_layout(frame):
    with h5py.File(frame["root"] / "unw.h5", "r") as f:
        pairs = f["pairs"][()]
        m = len(pairs)
        assert m == 6 * N - 21  # nearest-6 network (the default)
        assert f["unwrapped_phase"].shape == (m, ROWS, COLS)
        assert f["connected_components"].dtype == np.uint16
        assert f["closure_fixed"].shape == (m,)
        assert read_times(f) == frame["times"]
        r, c = f.attrs["reference_row"], f.attrs["reference_col"]
        assert (r, c) == REF
        cc = f["connected_components"][()]
        # the reference lies in the largest component of every interferogram
        for k in range(m):
            counts = np.bincount(cc[k].ravel())
            counts[0] = 0
            assert cc[k, r, c] == np.argmax(counts)
        # congruence: unwrapped - wrapped is a whole number of cycles
        linked = h5py.File(frame["root"] / "linked.h5", "r")["phase"][()]
        unw = f["unwrapped_phase"][()]
        wrapped = linked[pairs[:, 1]] - linked[pairs[:, 0]]
        cycles = (unw - wrapped) / (2 * np.pi)
        ok = np.isfinite(cycles)
        np.testing.assert_allclose(cycles[ok], np.round(cycles[ok]), atol=1e-4)
        # water is never unwrapped
        assert np.all(cc[:, frame["water"]] == 0)


def test_velocity_matches_truth_with_calibrated_sigma(frame):
    with h5py.File(frame["root"] / "ts.h5", "r") as f:
        v = f["velocity"][()]
        s = f["velocity_std"][()]
        mask = f["mask"][()].astype(bool)
        r, c = f.attrs["reference_row"], f.attrs["reference_col"]
        assert f["displacement"].shape == (N, ROWS, COLS)
        assert f["velocity"].attrs["units"] == "m/yr"
        assert f.attrs["reference_date"] == frame["times"][0].strftime("%Y%m%d")
        assert "ar1" in f.attrs["velocity_std_method"]
        np.testing.assert_allclose(f["displacement"][:, r, c], 0.0, atol=1e-9)
        np.testing.assert_allclose(f["displacement"][0][mask], 0.0, atol=1e-9)
        v_raw = f["velocity_raw"][()]
    truth = frame["velocity"] - frame["velocity"][r, c]
    assert mask.sum() > 0.8 * (~frame["water"]).sum()
    assert not mask[frame["water"]].any()
    err = (v - truth)[mask]
    # white noise of 1.5 mm per date, 24 dates over 1.5 yr, 6 parameters: sigma_v ~ 0.8
    # mm/yr; the uncorrected velocity is off by the layers' rates (~2 mm/yr RMS here)
    rmse = np.sqrt(np.mean(err**2))
    assert rmse < 1.1e-3
    assert rmse < 0.5 * np.sqrt(np.mean((v_raw - truth)[mask] ** 2))
    # calibration: |error| < sigma for ~67 % of the pixels (a t variable with 18 dof: 67.0 %);
    # the band allows for ~0.7 % binomial sampling over ~4600 independent pixels and the
    # small conservative bias of the AR(1) estimate (ca. +3 % for white noise).
    assert 0.62 < np.mean(np.abs(err) < s[mask]) < 0.74
    # the sign: the bowl moves away from the satellite
    assert v[30, 50] - v[r, c] < -0.02


def test_corrections_reduce_scatter_and_are_reported(frame):
    rows = {row["correction"]: row for row in frame["inv"]["corrections"]}
    assert list(rows) == ["troposphere", "ionosphere", "tides", "all"]
    # the troposphere (~1 cm per date) dominates the raw scatter; white noise of 1.5 mm stays
    assert rows["troposphere"]["reduction_percent"] > 50
    assert rows["all"]["residual_rms_after_mm"] < 2.5
    assert rows["all"]["residual_rms_after_mm"] < rows["all"]["residual_rms_before_mm"] / 2
    text = (frame["root"] / "stats.csv").read_text().splitlines()
    assert text[0].startswith("correction,layer_rms_mm")
    assert len(text) == 5
    with h5py.File(frame["root"] / "ts.h5", "r") as f:
        mask = f["mask"][()].astype(bool)
        raw_minus_corr = f["velocity_raw"][()] - f["velocity"][()]
        np.testing.assert_allclose(
            raw_minus_corr[mask], f["correction_velocity"][()].sum(axis=0)[mask], atol=1e-6
        )


def test_spurt_emcf_agrees_with_snaphu_on_the_coherent_pixels(frame, tmp_path):
    pytest.importorskip("spurt")
    # the persistent scatterers only (every 4th pixel), to keep the test short
    cfg = dict(frame["config"]["unwrap"], method="spurt")
    cfg["spurt"] = {"temporal_coherence": 1.0, "include_ps": True}
    cfg["network"] = dict(cfg["network"], neighbours=3)  # spurt's Hop-3 graph
    root = frame["root"]
    paths = {k: root / f"{k}.h5" for k in ("troposphere", "ionosphere", "tides")}
    run_unwrap(root / "linked.h5", root / "geometry.h5", tmp_path / "u.h5", cfg, workers=1,
               correction_paths=paths)  # fmt: skip
    with h5py.File(tmp_path / "u.h5", "r") as sp, h5py.File(root / "unw.h5", "r") as sn:
        assert sp.attrs["unwrapper"] == "spurt"
        # spurt's Hop-3 pairs are the nearest-3 subset of SNAPHU's nearest-6 network
        index = {(int(i), int(j)): m for m, (i, j) in enumerate(sn["pairs"][()])}
        common = [index[int(i), int(j)] for i, j in sp["pairs"][()]]
        assert len(common) == 3 * N - 6
        points = sp["connected_components"][0] > 0
        ps = h5py.File(root / "linked.h5", "r")["ps_mask"][()] == 1
        np.testing.assert_array_equal(points, ps)
        # both tied to the same noise-free reference pixel: identical where both unwrapped
        a, b = sp["unwrapped_phase"][()], sn["unwrapped_phase"][()][common]
        both = np.isfinite(a) & np.isfinite(b)
        assert both.sum() > 0.95 * points.sum() * len(a)
        np.testing.assert_allclose(a[both], b[both], atol=1e-4)


def test_dem_error_term_from_baselines(frame, tmp_path):
    root = frame["root"]
    bperp = np.random.default_rng(5).uniform(-100, 100, N)
    with h5py.File(tmp_path / "stack.h5", "w") as f:
        f["bperp"] = bperp
    paths = {k: root / f"{k}.h5" for k in ("troposphere", "ionosphere", "tides")}
    run_inversion(root / "unw.h5", root / "linked.h5", root / "geometry.h5", paths,
                  tmp_path / "ts.h5", tmp_path / "s.csv", frame["config"]["inversion"],
                  slc_stack_path=tmp_path / "stack.h5")  # fmt: skip
    with h5py.File(tmp_path / "ts.h5", "r") as f, h5py.File(root / "ts.h5", "r") as g:
        mask = f["mask"][()].astype(bool)
        assert "dem_error" in f["velocity"].attrs["model"]
        dz = f["dem_error"][()][mask]
        # no DEM error in the scene: 1.5 mm noise, B_perp std 58 m, 24 dates, R sin(theta)
        # ~ 0.56e6 m give sigma(dz) ~ 3 m per pixel
        assert abs(np.median(dz)) < 1.0 and np.sqrt(np.mean(dz**2)) < 5.0
        dv = f["velocity"][()][mask] - g["velocity"][()][mask]
        assert np.sqrt(np.mean(dv**2)) < 5e-4  # one more parameter, same velocity
    strict = dict(frame["config"]["inversion"])
    strict["model"] = dict(strict["model"], dem_error=True)
    with pytest.raises(ValueError, match="no /bperp"):
        run_inversion(root / "unw.h5", root / "linked.h5", root / "geometry.h5", paths,
                      tmp_path / "ts2.h5", tmp_path / "s2.csv", strict)  # fmt: skip


def test_bad_inputs_name_the_culprit(frame, tmp_path):
    root, cfg = frame["root"], frame["config"]
    bad = dict(cfg["inversion"], reference_date="19990101")
    with pytest.raises(ValueError, match="reference_date 19990101"):
        run_inversion(root / "unw.h5", root / "linked.h5", root / "geometry.h5",
                      {k: root / f"{k}.h5" for k in ("troposphere", "ionosphere", "tides")},
                      tmp_path / "ts.h5", tmp_path / "s.csv", bad)  # fmt: skip
    with pytest.raises(KeyError, match="ionosphere"):
        run_inversion(root / "unw.h5", root / "linked.h5", root / "geometry.h5",
                      {"troposphere": root / "troposphere.h5"},
                      tmp_path / "ts.h5", tmp_path / "s.csv", cfg["inversion"])  # fmt: skip
    paths = {k: root / f"{k}.h5" for k in ("troposphere", "ionosphere", "tides")}
    with pytest.raises(KeyError, match="precorrect lists 'ionosphere'"):
        run_unwrap(root / "linked.h5", root / "geometry.h5", tmp_path / "u.h5", cfg["unwrap"],
                   correction_paths={"troposphere": paths["troposphere"]})  # fmt: skip
    lake = dict(cfg["unwrap"], reference={"method": "latlon", "lat": 40.6 + (ROWS - 10.5) * 0.002,
                                          "lon": 29.9 + 12.5 * 0.002, "window": 5})  # fmt: skip
    with pytest.raises(ValueError, match="on water"):
        run_unwrap(root / "linked.h5", root / "geometry.h5", tmp_path / "u.h5", lake,
                   correction_paths=paths)  # fmt: skip
    with pytest.raises(ValueError, match="neighbours to 3"):
        run_unwrap(root / "linked.h5", root / "geometry.h5", tmp_path / "u.h5",
                   dict(cfg["unwrap"], method="spurt", network={"type": "single_reference",
                        "reference_index": 0, "neighbours": 3}),
                   correction_paths=paths)  # fmt: skip
    assert not (tmp_path / "ts.h5").exists() and not (tmp_path / "u.h5").exists()


def test_cache_unwraps_only_interferograms_whose_inputs_changed(frame, tmp_path, caplog):
    root = frame["root"]
    paths = {k: root / f"{k}.h5" for k in ("troposphere", "ionosphere", "tides")}
    cfg = frame["config"]["unwrap"]
    cache = tmp_path / "cache"

    def run(linked, out):
        caplog.clear()
        with caplog.at_level("INFO", logger="sar4tec.unwrap.stage"):
            run_unwrap(linked, root / "geometry.h5", out, cfg, workers=2,
                       correction_paths=paths, cache_dir=cache)  # fmt: skip
        return caplog.text

    n_ifg = len(h5py.File(root / "unw.h5")["pairs"])
    assert f"0 of {n_ifg} interferograms from the cache" in run(
        root / "linked.h5", tmp_path / "a.h5"
    )
    assert len(list(cache.glob("*.npz"))) == n_ifg
    # the same inputs: every interferogram from the cache, the output bit-identical to the
    # uncached run of the module fixture
    assert f"{n_ifg} of {n_ifg} interferograms from the cache" in run(
        root / "linked.h5", tmp_path / "b.h5"
    )
    with h5py.File(tmp_path / "b.h5") as b, h5py.File(root / "unw.h5") as ref:
        for name in ("unwrapped_phase", "connected_components"):
            np.testing.assert_array_equal(b[name][()], ref[name][()], err_msg=name)
    # a changed last date: only the interferograms with that date run SNAPHU again
    changed = tmp_path / "linked.h5"
    with h5py.File(root / "linked.h5") as src, h5py.File(changed, "w") as dst:
        for key in src:
            src.copy(key, dst)
        dst.attrs.update(src.attrs)
        dst["phase"][-1] = np.angle(np.exp(1j * (dst["phase"][-1] + 0.3)))
        pairs = h5py.File(root / "unw.h5")["pairs"][()]
    with_last = int(np.sum(pairs[:, 1] == N - 1))
    assert f"{n_ifg - with_last} of {n_ifg} interferograms from the cache" in run(
        changed, tmp_path / "c.h5"
    )


def test_all_water_frame_fails_before_unwrapping_and_says_why(frame, tmp_path):
    root = frame["root"]
    with h5py.File(root / "geometry.h5") as src, h5py.File(tmp_path / "geometry.h5", "w") as dst:
        for key in src:
            src.copy(key, dst)
        dst.attrs.update(src.attrs)
        dst["water_mask"][...] = 1
    paths = {k: root / f"{k}.h5" for k in ("troposphere", "ionosphere", "tides")}
    auto = dict(frame["config"]["unwrap"], reference={"method": "auto", "lat": None,
                                                     "lon": None, "window": 5})  # fmt: skip
    with pytest.raises(ValueError, match=r"nothing to unwrap: every pixel is water \(\d+ of"):
        run_unwrap(root / "linked.h5", tmp_path / "geometry.h5", tmp_path / "u.h5", auto,
                   correction_paths=paths)  # fmt: skip
    assert not (tmp_path / "u.h5").exists()
