"""Phase linking on synthetic stacks with a known answer (sar4tec.phaselink)."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from scipy import stats as sps

from sar4tec.phaselink import AmplitudeStats, PhaseLinkOptions, run_phase_linking
from sar4tec.phaselink.engine import output_centers, window_starts
from sar4tec.phaselink.shp import RAYLEIGH_RELVAR, effective_looks, glrt_mask, glrt_table
from sar4tec.phaselink.synthetic import coherence_model, crlb_std, simulate_stack

# PS selection off where a test is about DS estimation: with strongly correlated speckle a
# few DS pixels have a low amplitude dispersion and would (rightly) be taken as PS
NO_PS = 1e-9


def wrap(x):
    return np.angle(np.exp(1j * x))


def rmse_per_date(phase, truth):
    """RMS error of each date over the image, truth (N,) referenced to date 0."""
    err = wrap(phase - wrap(truth - truth[0])[:, None, None])
    return np.sqrt(np.nanmean(err**2, axis=(1, 2)))


@pytest.fixture(scope="module")
def stack30():
    rng = np.random.default_rng(30)
    gamma = coherence_model(30)
    psi = rng.uniform(-np.pi, np.pi, 30)
    return gamma, psi, simulate_stack(gamma, psi, (64, 64), rng)


@pytest.mark.parametrize("estimator", ["emi", "evd"])
def test_phase_sign_and_reference(estimator):
    # SLC_k = A exp(i psi_k) -> phase_k = wrap(psi_k - psi_0), also for psi_0 != 0
    rng = np.random.default_rng(1)
    gamma = coherence_model(10, gamma0=0.9, gamma_inf=0.6)
    psi = np.linspace(0.5, 2.9, 10) ** 2
    res = run_phase_linking(
        simulate_stack(gamma, psi, (20, 20), rng),
        half_window=(3, 3), estimator=estimator, shp_method="rect", ps_threshold=NO_PS,
    )  # fmt: skip
    assert res.phase.dtype == np.float32 and res.phase.shape == (10, 20, 20)
    assert np.all(res.phase[0] == 0)
    # 49 looks at coherence >= 0.6: the CRB is below 0.1 rad; the wrong sign would be off by
    # 2 * psi_k (several radians)
    assert rmse_per_date(res.phase, psi).max() < 0.15
    assert rmse_per_date(res.phase, -psi).max() > 1.0


@pytest.mark.parametrize(("estimator", "factor"), [("emi", 1.25), ("evd", 1.3)])
def test_rmse_within_cramer_rao_bound(stack30, estimator, factor):
    gamma, psi, slc = stack30
    res = run_phase_linking(
        slc, half_window=(5, 5), estimator=estimator, shp_method="rect", ministack_size=30,
        ps_threshold=NO_PS,
    )  # fmt: skip
    ratio = rmse_per_date(res.phase, psi)[1:] / crlb_std(gamma, 121)[1:]
    # Both estimators are asymptotically efficient for many looks; with L = 121 looks, 30
    # dates and |Gamma| itself estimated from the same 121 samples they are ~5-15 % above the
    # bound (Ansari et al. 2018, Fig. 3).  EVD is not the MLE and loses a little more.  The
    # RMSE of a date over 64 x 64 pixels (~34 independent windows) scatters by ~10 %, so the
    # mean over the 29 dates is checked against the factor and each date loosely.
    assert 0.95 < ratio.mean() < factor
    assert ratio.max() < factor + 0.25
    assert np.all(res.estimator_used == (1 if estimator == "emi" else 0))
    assert np.all(res.shp_count == 121)
    assert 0.9 < np.nanmean(res.temporal_coherence) <= 1.0


def test_partial_eigensolvers_match_full_eigh(stack30):
    gamma, psi, slc = stack30
    sub = slc[:, :7, :7]
    out = {
        est: run_phase_linking(
            sub, half_window=(3, 3), estimator=est, shp_method="rect", ministack_size=30,
            ps_threshold=NO_PS,
        ).phase[:, 3, 3]
        for est in ("emi", "evd")
    }  # fmt: skip
    z = sub.reshape(30, -1).astype(np.complex128)
    c = z @ z.conj().T
    d = np.sqrt(np.diag(c).real)
    c = c / np.outer(d, d)
    _, vec = np.linalg.eigh(np.linalg.inv(np.abs(c)) * c)
    emi = vec[:, 0]
    _, vec = np.linalg.eigh(c * np.abs(c))
    evd = vec[:, -1]
    # the iterations stop at 1 - |<v_k, v_k+1>| < 1e-9, i.e. ~5e-5 rad of vector change
    for name, ref in (("emi", emi), ("evd", evd)):
        expected = np.angle(ref * np.conj(ref[0]))
        assert np.abs(wrap(out[name] - expected)).max() < 1e-3, name


def test_sequential_estimator_close_to_single_stack():
    rng = np.random.default_rng(90)
    gamma = coherence_model(90, gamma0=0.7, tau=10.0, gamma_inf=0.2)
    psi = np.cumsum(rng.normal(0, 0.8, 90))
    slc = simulate_stack(gamma, psi, (40, 40), rng)
    common = dict(half_window=(5, 5), shp_method="rect", ps_threshold=NO_PS)
    single = run_phase_linking(slc, ministack_size=90, **common)
    seq = run_phase_linking(slc, ministack_size=15, max_compressed=5, **common)
    assert seq.compressed_slc.shape == (6, 40, 40)
    assert seq.compressed_ranges.tolist()[0] == [0, 14] and seq.compressed_ranges[-1][1] == 89
    r_single = rmse_per_date(single.phase, psi)[1:].mean()
    r_seq = rmse_per_date(seq.phase, psi)[1:].mean()
    # Ansari et al. (2017) find the sequential estimator within a few per cent of the full
    # estimator when the long-term coherence carries the information through the compressed
    # SLCs; a datum error (a ministack offset from date 0) would show up as an RMSE of ~1 rad.
    assert r_seq < 1.15 * r_single
    assert r_single < 0.3


def test_continuation_equals_one_run():
    rng = np.random.default_rng(7)
    gamma = coherence_model(30)
    psi = rng.uniform(-np.pi, np.pi, 30)
    slc = simulate_stack(gamma, psi, (24, 24), rng)
    common = dict(half_window=(3, 3), shp_method="rect", ps_threshold=NO_PS, ministack_size=15)
    whole = run_phase_linking(slc, **common)
    first = run_phase_linking(slc[:15], **common)
    cont = run_phase_linking(slc[15:], previous=first, **common)
    # same ministacks, the second continued from the stored compressed SLC: same numbers up
    # to the eigenvector iteration tolerance
    np.testing.assert_allclose(cont.phase, whole.phase, atol=2e-4)
    np.testing.assert_allclose(cont.compressed_slc, whole.compressed_slc, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(cont.temporal_coherence, whole.temporal_coherence, atol=1e-5)
    np.testing.assert_array_equal(cont.amplitude_stats.count, whole.amplitude_stats.count)
    np.testing.assert_allclose(cont.amplitude_stats.m2, whole.amplitude_stats.m2, rtol=1e-9)


def test_result_does_not_depend_on_the_thread_count():
    # chunks of output rows are fixed and each starts its own eigenvector iterations, so the
    # threads (and the order in which they take the chunks) change nothing, bit for bit
    rng = np.random.default_rng(31)
    slc = simulate_stack(coherence_model(12), np.zeros(12), (40, 30), rng)
    before = numba.get_num_threads()
    results = []
    try:
        for threads in (1, numba.config.NUMBA_NUM_THREADS):
            numba.set_num_threads(threads)
            results.append(run_phase_linking(slc, half_window=(3, 4), ps_threshold=NO_PS))
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(results[0].phase, results[1].phase)
    np.testing.assert_array_equal(results[0].temporal_coherence, results[1].temporal_coherence)


def test_window_centres_follow_strides():
    # a 1 x 1 window gives each output pixel the phase of its own SLC pixel, so the output
    # must be angle(z_k conj(z_0)) at SLC pixel (i*sy + sy//2, j*sx + sx//2) (clipped)
    rng = np.random.default_rng(3)
    slc = (rng.normal(size=(5, 11, 10)) + 1j * rng.normal(size=(5, 11, 10))).astype(np.complex64)
    res = run_phase_linking(
        slc, half_window=(0, 0), strides=(3, 4), estimator="emi", shp_method="rect",
        ps_threshold=NO_PS,
    )  # fmt: skip
    assert res.phase.shape == (5, 4, 3)
    rows = np.minimum(np.arange(4) * 3 + 1, 10)
    cols = np.minimum(np.arange(3) * 4 + 2, 9)
    centre = slc[:, rows][:, :, cols]
    expected = np.angle(centre * np.conj(centre[0]))
    np.testing.assert_allclose(res.phase, expected, atol=1e-5)
    # one sample: |Gamma| is all ones, singular -> EMI falls back to EVD, and says so
    assert np.all(res.estimator_used == 0)


def test_emi_falls_back_to_evd_when_gamma_singular():
    rng = np.random.default_rng(4)
    gamma = coherence_model(8)
    psi = np.linspace(0, 2, 8)
    slc = simulate_stack(gamma, psi, (12, 12), rng)
    slc[3] = slc[2]  # two identical dates: |Gamma| has two equal rows
    res = run_phase_linking(slc, half_window=(2, 2), shp_method="rect", ps_threshold=NO_PS)
    assert np.all(res.estimator_used == 0)
    assert np.all(np.isfinite(res.phase))
    np.testing.assert_allclose(res.phase[3], res.phase[2], atol=1e-4)


def test_nodata_is_excluded_not_biasing():
    rng = np.random.default_rng(5)
    gamma = coherence_model(12, gamma0=0.9, gamma_inf=0.5)
    psi = np.linspace(0, 3, 12)
    slc = simulate_stack(gamma, psi, (30, 30), rng)
    slc[:, :, :10] = np.nan  # outside the burst on every date
    slc[4, 20:, 20:] = 0  # a missing patch on one date
    res = run_phase_linking(slc, half_window=(2, 2), shp_method="rect", ps_threshold=NO_PS)
    assert np.all(np.isnan(res.phase[:, :, :10]))
    assert np.all(np.isnan(res.temporal_coherence[:, :10]))
    # a window reaching into the no-data columns counts only valid pixels
    assert res.shp_count[15, 10] == 15 and res.shp_count[15, 15] == 25
    # pixels next to the no-data edge are as good as the rest: valid samples only
    edge = rmse_per_date(res.phase[:, :20, 10:12], psi)[1:].mean()
    inner = rmse_per_date(res.phase[:, :20, 14:30], psi)[1:].mean()
    assert edge < 1.5 * inner
    # the pixels missing date 4 have no sample with all 12 dates nearby: no estimate
    assert np.all(np.isnan(res.phase[:, 23:, 23:]))


def test_persistent_scatterer_keeps_its_own_phase():
    rng = np.random.default_rng(6)
    gamma = coherence_model(20, gamma0=0.3, gamma_inf=0.05)
    psi = np.zeros(20)
    slc = simulate_stack(gamma, psi, (21, 21), rng)
    ps_phase = rng.uniform(-np.pi, np.pi, 20)
    slc[:, 10, 10] = (5.0 + rng.normal(0, 0.2, 20)) * np.exp(1j * ps_phase)
    res = run_phase_linking(slc, half_window=(3, 3), shp_method="glrt")
    assert res.ps_mask[10, 10] == 1 and res.estimator_used[10, 10] == 2
    assert res.amplitude_dispersion[10, 10] < 0.1
    np.testing.assert_allclose(res.phase[:, 10, 10], wrap(ps_phase - ps_phase[0]), atol=1e-5)
    # the GLRT keeps the bright PS out of its neighbours' windows
    assert res.shp_count[10, 11] < 49
    assert res.ps_mask.sum() == 1


def test_ps_merged_on_strided_output():
    rng = np.random.default_rng(8)
    slc = simulate_stack(coherence_model(15, 0.3, 1, 0.0), np.zeros(15), (12, 12), rng)
    phase = rng.uniform(-np.pi, np.pi, 15)
    slc[:, 4, 5] = 3 * np.exp(1j * phase)  # in output cell (1, 1) of strides (3, 3)
    slc[:, 5, 3] = 2 * np.exp(1j * (phase + 1))  # a fainter PS in the same cell
    res = run_phase_linking(slc, half_window=(2, 2), strides=(3, 3), shp_method="glrt")
    assert res.ps_mask.tolist()[1][1] == 1 and res.ps_mask.sum() == 1
    np.testing.assert_allclose(res.phase[:, 1, 1], wrap(phase - phase[0]), atol=1e-5)
    assert res.amplitude_mean[1, 1] == pytest.approx(3.0, rel=1e-5)


@pytest.mark.parametrize("method", ["glrt", "ks"])
def test_shp_tests_separate_textures(method):
    # independent looks (no temporal correlation of the speckle) so both tests hold their
    # nominal false-rejection rate alpha
    rng = np.random.default_rng(9)
    n = 40
    amplitude = np.ones((30, 30))
    amplitude[:, 15:] = 2.0  # 4x the intensity on the right half
    slc = simulate_stack(np.eye(n), np.zeros(n), (30, 30), rng, amplitude=amplitude)
    res = run_phase_linking(
        slc, half_window=(3, 3), shp_method=method, shp_alpha=0.01, ps_threshold=NO_PS,
        estimator="evd",
    )  # fmt: skip
    # a pixel 3 columns left of the edge: its window has 7 x 7 pixels all of the same texture
    inside = res.shp_count[5:25, 5:12]
    assert inside.mean() > 0.95 * 49  # expected (1 - alpha) = 99 % of them
    # at the edge the window is 4 columns of one texture and 3 of the other
    edge = res.shp_count[5:25, 14]
    assert edge.mean() < 4 * 7 + 0.1 * 21  # nearly all of the other texture rejected
    assert edge.mean() > 0.9 * 28


def glrt_false_alarm_rate(slc, alpha, half_window=(5, 5)):
    """Fraction of the neighbours (centres excluded) the GLRT rejects on homogeneous speckle."""
    n, rows, cols = slc.shape
    st = AmplitudeStats.from_slc(slc)
    cen_r = output_centers(0, rows, 1, rows)
    cen_c = output_centers(0, cols, 1, cols)
    win_r0, wy = window_starts(cen_r, half_window[0], rows)
    win_c0, wx = window_starts(cen_c, half_window[1], cols)
    mask = glrt_mask(
        np.log(st.mean_intensity()), st.m2, st.count * st.mean**2,
        np.ones((rows, cols), np.uint8), cen_r, cen_c, win_r0, win_c0, wy, wx,
        glrt_table(n, alpha), n,
    )  # fmt: skip
    return 1.0 - (mask.sum() - rows * cols) / (mask.size - rows * cols)


def test_glrt_false_alarm_rate_is_alpha_for_independent_dates():
    # homogeneous speckle, independent dates: the exact F test of Parizzi & Brcic (2011).
    # Over 12 seeds the rate on 96 x 96 px, 11 x 11 windows scatters by 0.0017 (1 sigma)
    # around 0.0467: the test for correlated amplitudes (one-sided 5 %) switches 5 % of the
    # windows to fewer looks, which lowers the rate by ~0.003.  Bound: alpha - 0.008 (about
    # 3 sigma below that mean) to alpha + 0.004.
    slc = simulate_stack(np.eye(20), np.zeros(20), (96, 96), np.random.default_rng(21))
    rate = glrt_false_alarm_rate(slc, 0.05)
    assert 0.042 < rate < 0.054


def test_glrt_counts_the_looks_of_temporally_correlated_speckle():
    # the benchmark's speckle: coherence 0.7 -> 0.2 over 10 dates, so the amplitudes of a pixel
    # are correlated in time and its mean amplitude has ~3.3 independent looks, not 15.  With 15
    # looks the exact F test would reject ~30 % of the (identically distributed) neighbours.
    slc = simulate_stack(coherence_model(15), np.zeros(15), (96, 96), np.random.default_rng(22))
    log_int = np.log(AmplitudeStats.from_slc(slc).mean_intensity())
    naive = np.mean(abs(log_int[:, 3:] - log_int[:, :-3]) > np.log(sps.f.isf(0.025, 30, 30)))
    assert naive > 0.25
    # with the effective looks the rate is at most alpha (the temporal mean of correlated
    # speckle has lighter tails than the Gamma law of the same variance: 0.032 measured over
    # 12 seeds, 1 sigma 0.0013)
    assert glrt_false_alarm_rate(slc, 0.05) < 0.05
    # so the GLRT keeps nearly every look and the phases are nearly as good as with the full
    # window.  The few rejections fall on centres in the tail of the intensity distribution
    # (any two-sample test rejects many neighbours of an extreme centre), whose estimates get
    # noisier: RMSE +1.5 to +3 % over three seeds.
    common = dict(half_window=(5, 5), ps_threshold=NO_PS, shp_alpha=0.01)
    rect = run_phase_linking(slc, shp_method="rect", **common)
    glrt = run_phase_linking(slc, shp_method="glrt", **common)
    assert glrt.shp_count.mean() > 0.98 * 121
    zero = np.zeros(15)
    assert (
        rmse_per_date(glrt.phase, zero)[1:].mean()
        < 1.06 * rmse_per_date(rect.phase, zero)[1:].mean()
    )


def test_effective_looks_match_the_variance_of_the_temporal_mean():
    # truth: the looks of the temporal mean amplitude, k / (var(mean A) / E[mean A]^2), measured
    # over 40000 independent pixels (relative sampling error of the variance ~0.7 %)
    for gamma0, gamma_inf in ((0.7, 0.2), (0.9, 0.6)):
        gamma = coherence_model(30, gamma0, 10.0, gamma_inf)
        slc = simulate_stack(gamma, np.zeros(30), (200, 200), np.random.default_rng(23))
        st = AmplitudeStats.from_slc(slc)
        looks = effective_looks(st.m2.sum() / (st.count * st.mean**2).sum(), 30)
        truth = RAYLEIGH_RELVAR / (st.mean.var() / st.mean.mean() ** 2)
        assert looks == pytest.approx(truth, rel=0.03)
    # independent dates: all of them
    slc = simulate_stack(np.eye(30), np.zeros(30), (200, 200), np.random.default_rng(24))
    st = AmplitudeStats.from_slc(slc)
    assert effective_looks(st.m2.sum() / (st.count * st.mean**2).sum(), 30) > 27


def test_boxcar_interferogram_is_worse_than_phase_linking(stack30):
    gamma, psi, slc = stack30
    res = run_phase_linking(slc, half_window=(5, 5), shp_method="rect", ps_threshold=NO_PS)
    from scipy.ndimage import uniform_filter

    ifg = slc * np.conj(slc[0])
    boxcar = uniform_filter(ifg.real, (1, 11, 11)) + 1j * uniform_filter(ifg.imag, (1, 11, 11))
    linked = rmse_per_date(res.phase[:, 5:-5, 5:-5], psi)[1:].mean()
    single_ref = rmse_per_date(np.angle(boxcar[:, 5:-5, 5:-5]), psi)[1:].mean()
    # single-reference interferograms to date 0 lose the long-term coherence (0.2): phase
    # linking uses every pair, the boxcar only the pairs with date 0
    assert linked < 0.7 * single_ref


def test_closure_phases():
    rng = np.random.default_rng(10)
    gamma = coherence_model(20, gamma0=0.95, gamma_inf=0.8)
    slc = simulate_stack(gamma, np.zeros(20), (16, 16), rng)
    res = run_phase_linking(
        slc, half_window=(3, 3), shp_method="rect", ministack_size=10, closure_phases=True
    )
    assert res.closure_phase.shape == (18, 16, 16)
    # triplets (8, 9, 10) and (9, 10, 11) straddle the two ministacks
    assert np.all(np.isnan(res.closure_phase[8:10]))
    inside = np.concatenate([res.closure_phase[:8], res.closure_phase[10:]])
    assert np.all(np.isfinite(inside))
    # consistent (real Gamma) data: closure phases are noise around 0, small at coherence 0.9
    assert abs(np.mean(inside)) < 0.01 and np.sqrt(np.mean(inside**2)) < 0.1


def test_amplitude_stats_pool_across_batches():
    rng = np.random.default_rng(11)
    slc = (rng.normal(size=(25, 4, 5)) + 1j * rng.normal(size=(25, 4, 5))).astype(np.complex64)
    slc[3, 0, 0] = np.nan
    whole = AmplitudeStats.from_slc(slc)
    pooled = AmplitudeStats.from_slc(slc[:10]).combine(AmplitudeStats.from_slc(slc[10:]))
    np.testing.assert_array_equal(pooled.count, whole.count)
    np.testing.assert_allclose(pooled.mean, whole.mean, rtol=1e-12)
    np.testing.assert_allclose(pooled.m2, whole.m2, rtol=1e-9)
    amp = np.abs(slc[:, 1, 1])
    assert whole.dispersion()[1, 1] == pytest.approx(amp.std(ddof=1) / amp.mean(), rel=1e-6)
    assert whole.count[0, 0] == 24


@pytest.mark.parametrize(
    ("key", "value"),
    [("estimator", "mle"), ("shp_method", "box"), ("strides", (0, 1)), ("shp_alpha", 1.5)],
)
def test_bad_options_name_the_key(key, value):
    with pytest.raises(ValueError, match=key):
        PhaseLinkOptions(**{key: value})


def test_bad_stack_is_rejected():
    with pytest.raises(ValueError, match="complex"):
        run_phase_linking(np.ones((3, 4, 4), np.float32))
