"""The phase-linking block driver: slc_stack.h5 -> linked.h5 (sar4tec.phaselink.io)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import h5py
import numpy as np
import pytest

from sar4tec.files import read_times, write_times
from sar4tec.grid import Grid
from sar4tec.phaselink import PhaseLinkOptions, run_phase_linking
from sar4tec.phaselink.io import link_stack_file
from sar4tec.phaselink.synthetic import coherence_model, simulate_stack

GRID = Grid((10.0, 0.001, 0.0, 45.0, 0.0, -0.001), (37, 43))
T0 = datetime(2020, 1, 3, 5, 6, 7, tzinfo=UTC)


def write_stack(path, slc, start=0):
    times = [T0 + timedelta(days=12 * (start + k)) for k in range(slc.shape[0])]
    with h5py.File(path, "w") as f:
        f.create_dataset("slc", data=slc, chunks=(slc.shape[0], 16, 16))
        write_times(f, times)
        f.attrs.update(GRID.to_attrs())
        f.attrs["wavelength"] = 0.0555
    return times


@pytest.fixture(scope="module")
def slc():
    rng = np.random.default_rng(12)
    gamma = coherence_model(20, gamma0=0.8, gamma_inf=0.4)
    psi = np.cumsum(rng.normal(0, 1.0, 20))
    stack = simulate_stack(gamma, psi, GRID.shape, rng)
    stack[:, :, :4] = np.nan  # a no-data strip, as at a burst edge
    stack[:, 20, 30] = 4 * np.exp(1j * psi)  # a persistent scatterer
    return stack


OPTIONS = PhaseLinkOptions(
    half_window=(3, 4), strides=(2, 3), shp_method="glrt", ministack_size=8, closure_phases=True
)


def test_blocks_give_the_in_memory_result(tmp_path, slc):
    stack = tmp_path / "slc_stack.h5"
    times = write_stack(stack, slc)
    out = tmp_path / "linked.h5"
    link_stack_file(stack, out, OPTIONS, block_size=16)  # 3 x 3 blocks with halos
    ref = run_phase_linking(
        slc, half_window=(3, 4), strides=(2, 3), shp_method="glrt", ministack_size=8,
        closure_phases=True,
    )  # fmt: skip
    with h5py.File(out) as f:
        assert Grid.from_attrs(f.attrs) == GRID.decimate((2, 3))
        assert read_times(f) == times
        assert f.attrs["wavelength"] == 0.0555
        assert json.loads(f.attrs["phase_linking"])["ministack_size"] == 8
        assert f["phase"].shape == (20, 19, 15) and f["phase"].dtype == np.float32
        # block-independent: the same numbers up to the eigenvector iteration tolerance
        np.testing.assert_allclose(f["phase"][()], ref.phase, atol=1e-3)
        for name in ("temporal_coherence", "amplitude_dispersion", "amplitude_mean"):
            np.testing.assert_allclose(f[name][()], getattr(ref, name), atol=1e-4, err_msg=name)
        for name in ("shp_count", "estimator_used", "ps_mask"):
            np.testing.assert_array_equal(f[name][()], getattr(ref, name), err_msg=name)
        assert f["ps_mask"][10, 10] == 1 and f["estimator_used"][10, 10] == 2
        assert f["compressed_slc"].shape == (3, 37, 43)
        assert Grid.from_attrs(f["compressed_slc"].attrs) == GRID
        np.testing.assert_allclose(f["compressed_slc"][()], ref.compressed_slc, atol=1e-3)
        assert f["compressed_slc_dates"][()].tolist() == [
            [b"20200103", b"20200327"],
            [b"20200408", b"20200701"],
            [b"20200713", b"20200818"],
        ]
        np.testing.assert_allclose(f["closure_phase"][()], ref.closure_phase, atol=1e-4)
        assert np.all(np.isnan(f["phase"][:, :, :1]))  # no-data strip (SLC columns 0-3)


def test_new_batch_continues_from_file(tmp_path, slc):
    write_stack(tmp_path / "a.h5", slc[:8])
    write_stack(tmp_path / "b.h5", slc[8:], start=8)
    write_stack(tmp_path / "all.h5", slc)
    # a PS threshold only the injected PS passes, with 8 dates as with 20 (with few dates,
    # DS pixels pass 0.25 by chance, and batch one would link them as PS)
    opts = PhaseLinkOptions(
        half_window=(3, 4), strides=(2, 3), shp_method="rect", ministack_size=8, ps_threshold=0.05
    )
    link_stack_file(tmp_path / "a.h5", tmp_path / "la.h5", opts, block_size=16)
    link_stack_file(
        tmp_path / "b.h5", tmp_path / "lb.h5", opts, block_size=16, previous=tmp_path / "la.h5"
    )
    link_stack_file(tmp_path / "all.h5", tmp_path / "lall.h5", opts, block_size=16)
    with h5py.File(tmp_path / "lb.h5") as cont, h5py.File(tmp_path / "lall.h5") as whole:
        assert cont["dates"][()].tolist() == whole["dates"][()].tolist()
        # PS selection pools the amplitude statistics, so it matches the single run too
        np.testing.assert_array_equal(cont["ps_mask"][()], whole["ps_mask"][()])
        assert cont["ps_mask"][()].sum() == 1
        np.testing.assert_allclose(cont["phase"][()], whole["phase"][()], atol=1e-3)
        np.testing.assert_allclose(
            cont["temporal_coherence"][()], whole["temporal_coherence"][()], atol=1e-4
        )
        assert cont["compressed_slc_dates"].shape == (3, 2)
    # a batch that does not come after the previous one is refused
    with pytest.raises(ValueError, match="not after the last processed date"):
        link_stack_file(tmp_path / "a.h5", tmp_path / "x.h5", opts, previous=tmp_path / "la.h5")
    other = PhaseLinkOptions(
        half_window=(2, 2), strides=(2, 3), shp_method="rect", ministack_size=8
    )
    with pytest.raises(ValueError, match="half_window"):
        link_stack_file(tmp_path / "b.h5", tmp_path / "x.h5", other, previous=tmp_path / "la.h5")
    assert not (tmp_path / "x.h5").exists()


def test_bad_input_names_the_file(tmp_path):
    path = tmp_path / "bad.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("amplitude", data=np.ones((2, 3, 3)))
    with pytest.raises(KeyError, match="bad.h5: no dataset /slc"):
        link_stack_file(path, tmp_path / "out.h5", PhaseLinkOptions())
    assert not (tmp_path / "out.h5").exists()
