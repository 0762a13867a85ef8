"""Phase linking over tiles (sar4tec.phaselink.tiles): seams, per-tile files, continuation."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import h5py
import numpy as np
import pytest

from sar4tec.files import write_times
from sar4tec.grid import Grid
from sar4tec.phaselink import PhaseLinkOptions, tiles
from sar4tec.phaselink.io import link_stack_file
from sar4tec.phaselink.synthetic import coherence_model, simulate_stack

GRID = Grid((29.95, 0.002, 0.0, 40.95, 0.0, -0.002), (70, 90))
T0 = datetime(2016, 5, 3, 15, 55, 21, tzinfo=UTC)
N = 20
# 4 ministacks (6, 6, 6, 2 dates): the halo spans 4 ministacks; strides differ per axis
OPTIONS = PhaseLinkOptions(
    half_window=(2, 3), strides=(1, 2), shp_method="glrt", ministack_size=6, closure_phases=True
)
LAYERS = ("temporal_coherence", "amplitude_dispersion", "amplitude_mean")
EXACT = ("shp_count", "estimator_used", "ps_mask")


@pytest.fixture(scope="module")
def slc():
    rng = np.random.default_rng(3)
    gamma = coherence_model(N, gamma0=0.8, gamma_inf=0.3)
    psi = np.cumsum(rng.normal(0, 1.0, N))
    stack = simulate_stack(gamma, psi, GRID.shape, rng)
    # texture: a brighter patch across tile borders, a no-data strip, a PS
    stack[:, 25:45, 20:70] *= 3.0
    stack[:, :, :3] = np.nan
    stack[:, 33, 41] = 5 * np.exp(1j * psi)
    return stack.astype(np.complex64)


def write_stack(path, slc):
    with h5py.File(path, "w") as f:
        f.create_dataset("slc", data=slc, chunks=(1, 16, 16))
        write_times(f, [T0 + timedelta(days=48 * k) for k in range(slc.shape[0])])
        f.attrs.update(GRID.to_attrs())
        f.attrs["wavelength"] = 0.05546576
    return path


def run_tiled(tmp_path, stack, options, tile_size=32, history=None, tag="t"):
    plan = tiles.write_tile_plan(stack, tmp_path / f"{tag}_plan.json", options, tile_size)
    files = {}
    for name in plan.tiles:
        files[name] = tmp_path / f"{tag}_{name}.h5"
        tiles.link_tile(
            stack, tmp_path / f"{tag}_plan.json", name, files[name], options,
            block_size=16, history=history,
        )  # fmt: skip
    out = tmp_path / f"{tag}_linked.h5"
    tiles.gather_tiles(
        stack, tmp_path / f"{tag}_plan.json", files, out, options, block_size=16, history=history
    )
    return out, plan


def assert_same(a, b, phase_atol):
    """Equal up to the eigenvector iteration tolerance (see the test docstrings)."""
    with h5py.File(a) as fa, h5py.File(b) as fb:
        assert fa["dates"][()].tolist() == fb["dates"][()].tolist()
        pa, pb = fa["phase"][()], fb["phase"][()]
        np.testing.assert_array_equal(np.isnan(pa), np.isnan(pb))
        # wrapped phases: compare on the circle
        diff = np.abs(np.angle(np.exp(1j * (pa - pb))))
        assert np.nanmax(diff) < phase_atol, np.nanmax(diff)
        for name in LAYERS:
            np.testing.assert_allclose(fa[name][()], fb[name][()], atol=1e-4, err_msg=name)
        for name in EXACT:
            np.testing.assert_array_equal(fa[name][()], fb[name][()], err_msg=name)
        ca, cb = fa["compressed_slc"][()], fb["compressed_slc"][()]
        np.testing.assert_allclose(ca, cb, rtol=1e-3, atol=1e-3)  # phase ~ relative error
        np.testing.assert_allclose(fa["closure_phase"][()], fb["closure_phase"][()], atol=1e-3)
        assert fa["compressed_slc_dates"][()].tolist() == fb["compressed_slc_dates"][()].tolist()
        return np.nanmax(diff)


def test_plan_and_tile_size():
    plan = tiles.plan_tiles((250, 300), (1, 1))  # the demo frame: a few tiles
    assert plan.tile_size == 192 and len(plan.tiles) == 4
    assert plan.tiles["t0003"] == (192, 250, 192, 300)
    big = tiles.plan_tiles((10_000, 10_000), (2, 5))
    assert big.tile_size == 2240  # 2048 rounded up to a multiple of lcm(64, 2, 5) = 320
    with pytest.raises(ValueError, match=r"phase_linking.tile_size = 33 .* strides \(1, 2\)"):
        tiles.plan_tiles((70, 90), (1, 2), 33)
    # every ministack adds a half window rounded up to the strides, plus one stride
    assert tiles.ministack_halo(OPTIONS) == (3, 6)


def test_tiles_equal_the_untiled_run(tmp_path, slc):
    """3 x 3 tiles with halos reproduce the untiled driver (no seams).

    Bitwise equality is not expected: every pixel's eigenvector iteration starts from its
    neighbour's solution, and a tile starts that chain at its own edge, so phases agree to
    the iteration tolerance (1e-9 in 1 - |<v, v'>|, i.e. ~5e-5 rad per pixel, amplified a
    little through the compressed SLCs of later ministacks), not to the last bit.  The SHP
    masks, PS and estimator codes are identical (integers from the same samples).
    """
    stack = write_stack(tmp_path / "slc_stack.h5", slc)
    ref = tmp_path / "untiled.h5"
    link_stack_file(stack, ref, OPTIONS, block_size=16)
    out, plan = run_tiled(tmp_path, stack, OPTIONS)
    assert len(plan.tiles) == 9
    assert assert_same(out, ref, phase_atol=2e-3) < 2e-3


def test_halo_is_needed(tmp_path, slc, monkeypatch):
    """Without the per-ministack halo the tile borders show: the test above can fail."""
    stack = write_stack(tmp_path / "slc_stack.h5", slc)
    ref = tmp_path / "untiled.h5"
    link_stack_file(stack, ref, OPTIONS, block_size=16)
    monkeypatch.setattr(tiles, "ministack_halo", lambda options: (0, 0))
    out, _ = run_tiled(tmp_path, stack, OPTIONS)
    with pytest.raises(AssertionError):
        assert_same(out, ref, phase_atol=2e-3)


def test_failed_tile_leaves_no_file(tmp_path, slc, monkeypatch):
    """A tile job killed mid-way leaves no tile file: a rerun redoes that tile only."""
    stack = write_stack(tmp_path / "slc_stack.h5", slc)
    plan = tiles.write_tile_plan(stack, tmp_path / "plan.json", OPTIONS, 32)

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(tiles, "run_engine", boom)
    with pytest.raises(KeyboardInterrupt):
        tiles.link_tile(stack, tmp_path / "plan.json", "t0004", tmp_path / "t.h5", OPTIONS)
    assert not (tmp_path / "t.h5").exists()
    assert list(tmp_path.glob(".t.tmp-*")) == []
    with pytest.raises(KeyError, match="no tile 't0099'"):
        tiles.link_tile(stack, tmp_path / "plan.json", "t0099", tmp_path / "t.h5", OPTIONS)
    assert "t0004" in plan.tiles


@pytest.mark.parametrize(("n_first", "shp_method"), [(14, "glrt"), (5, "rect")])
def test_continuation_equals_full_run(tmp_path, slc, caplog, n_first, shp_method):
    """Run on the first dates, append the rest, rerun: equal to a full run on all dates.

    14 dates: the history's last ministack (12-13) is incomplete, so the continuation reuses
    the two complete ones and relinks from date 12; 5: no complete ministack, hence a full
    run.  The amplitude statistics are causal (a ministack's SHP tests and PS see the dates
    up to it only), so the reused ministacks are those a full run computes, with the GLRT and
    the default PS threshold too; tolerance: the iteration tolerance as above.
    """
    opts = PhaseLinkOptions(
        half_window=(2, 3), strides=(1, 2), shp_method=shp_method, ministack_size=6,
        closure_phases=True,
    )  # fmt: skip
    history = tmp_path / "history" / "linked.h5"
    first = write_stack(tmp_path / "first.h5", slc[:n_first])
    out1, _ = run_tiled(tmp_path, first, opts, history=history, tag="a")
    assert history.exists() and history.stat().st_ino == out1.stat().st_ino  # a hard link
    full_stack = write_stack(tmp_path / "all.h5", slc)
    full, _ = run_tiled(tmp_path, full_stack, opts, tag="full")
    with caplog.at_level(logging.INFO, logger="sar4tec.phaselink.tiles"):
        cont, _ = run_tiled(tmp_path, full_stack, opts, history=history, tag="b")
    reused = n_first // 6 * 6
    if reused:
        assert f"continuing from history {history}: {reused} dates" in caplog.text
    else:
        assert "no /continuation group" in caplog.text
    with h5py.File(tmp_path / "b_t0000.h5") as t:
        assert t.attrs["n_prev_dates"] == reused
        assert t["phase"].shape[0] == N - reused  # only the new dates were linked
    assert assert_same(cont, full, phase_atol=2e-3) < 2e-3
    with h5py.File(cont) as c, h5py.File(full) as f:
        for name in ("continuation/temporal_coherence", "continuation/amplitude_stats/m2"):
            np.testing.assert_allclose(c[name][()], f[name][()], atol=1e-4, err_msg=name)
        assert c["continuation"].attrs["n_dates"] == 18
    assert history.stat().st_ino == cont.stat().st_ino


def test_history_mismatch_falls_back(tmp_path, slc, caplog):
    """Other options, or other SLCs of the covered dates: full run, and the log says why."""
    history = tmp_path / "linked_hist.h5"
    stack = write_stack(tmp_path / "a.h5", slc[:12])
    run_tiled(tmp_path, stack, OPTIONS, history=history, tag="a", tile_size=64)
    other = PhaseLinkOptions(**{**OPTIONS.__dict__, "shp_alpha": 0.05})
    changed = slc.copy()
    changed[:, 30:40, 40:50] *= 1j  # another realisation of the centre patch
    cases = [(stack, other, "options changed"), (write_stack(tmp_path / "c.h5", changed), OPTIONS,
             "differ (fingerprint)")]  # fmt: skip
    for path, opts, reason in cases:
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="sar4tec.phaselink.tiles"):
            n_prev = tiles.link_tile(
                path, tmp_path / "a_plan.json", "t0000", tmp_path / "x.h5", opts,
                history=history,
            )  # fmt: skip
        assert n_prev == 0 and reason in caplog.text
