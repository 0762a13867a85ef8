"""Network inversion (L2 / L1) against dense least squares and with injected unwrapping errors."""

from __future__ import annotations

import numpy as np
import pytest

from sar4tec.timeseries.inversion import invert_network, phase_variance
from sar4tec.timeseries.model import TimeFunctions, fit_time_functions
from sar4tec.unwrap.closure import correct_closure
from sar4tec.unwrap.network import nearest_pairs, triplets

TWO_PI = 2 * np.pi


def _random_series(rng, n_dates, n_pix, step=1.0):
    series = np.cumsum(rng.normal(0, step, (n_dates, n_pix)), axis=0)
    return series - series[0]


def test_l2_equals_dense_weighted_least_squares():
    rng = np.random.default_rng(1)
    n = 15
    pairs = nearest_pairs(n, 4)
    m, p = len(pairs), 300
    truth = _random_series(rng, n, p)
    obs = truth[pairs[:, 1]] - truth[pairs[:, 0]] + rng.normal(0, 0.2, (m, p))
    obs[rng.random((m, p)) < 0.1] = np.nan
    w = rng.uniform(0.3, 3.0, (m, p))
    series, _ = invert_network(obs, w, pairs, n, "l2")
    a = np.zeros((m, n))
    a[np.arange(m), pairs[:, 1]] = 1
    a[np.arange(m), pairs[:, 0]] = -1
    checked = 0
    for k in range(p):
        ok = np.isfinite(obs[:, k])
        if np.linalg.matrix_rank(a[ok][:, 1:]) < n - 1:
            continue
        sw = np.sqrt(w[ok, k])
        x = np.linalg.lstsq(a[ok][:, 1:] * sw[:, None], obs[ok, k] * sw, rcond=None)[0]
        np.testing.assert_allclose(series[1:, k], x, atol=1e-9)  # same normal equations
        checked += 1
    assert checked > 250
    assert np.all(series[0] == 0)


def test_reversed_pairs_and_disconnected_dates():
    pairs = np.array([[0, 1], [2, 1], [2, 3], [4, 5]])  # (2, 1) observes x1 - x2
    truth = np.array([0.0, 1.0, 3.0, 6.0, 10.0, 15.0])
    obs = (truth[pairs[:, 1]] - truth[pairs[:, 0]])[:, None]
    series, quality = invert_network(obs, np.ones_like(obs), pairs, 6, "l1")
    np.testing.assert_allclose(series[:4, 0], truth[:4], atol=1e-9)
    assert np.all(np.isnan(series[4:, 0]))  # dates 4, 5 are not tied to date 0: no value
    assert quality[0] == pytest.approx(1.0)
    empty, q = invert_network(np.full((4, 1), np.nan), np.ones((4, 1)), pairs, 6)
    assert np.all(np.isnan(empty)) and np.isnan(q[0])


def test_bad_arguments_are_rejected():
    pairs = np.array([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="do not match"):
        invert_network(np.zeros((3, 2)), np.ones((3, 2)), pairs, 3)
    with pytest.raises(ValueError, match="distinct date indices"):
        invert_network(np.zeros((2, 2)), np.ones((2, 2)), np.array([[0, 1], [1, 3]]), 3)
    with pytest.raises(ValueError, match="'l1' or 'l2'"):
        invert_network(np.zeros((2, 2)), np.ones((2, 2)), pairs, 3, method="l3")


def test_phase_variance_cramer_rao():
    # gamma = 0.5, L = 10: (1 - 0.25) / (2 * 10 * 0.25) = 0.15 rad^2
    assert phase_variance(0.5, 10.0) == pytest.approx(0.15)
    assert np.isfinite(phase_variance(np.array([0.0, 1.0]), 5.0)).all()


def test_injected_unwrapping_errors_l1_and_closure_recover_the_rate():
    """A 2 pi jump on some interferograms of 30 % of the pixels (up to 3 per pixel).

    L2 alone spreads each jump over the dates and biases the rate; closure correction puts
    every jump back; L1 alone already ignores them (they are outliers of a redundant network).
    """
    rng = np.random.default_rng(7)
    n, p = 40, 3000
    t = np.arange(n) * 12 / 365.25
    rate = rng.uniform(-20, 20, p)  # rad/yr (~ +-9 cm/yr)
    noise = 0.05  # rad: phase-linked phases are consistent, a small noise keeps it realistic
    truth = rate * t[:, None] + rng.normal(0, noise, (n, p))
    truth -= truth[0]
    pairs = nearest_pairs(n, 3)
    unw = truth[pairs[:, 1]] - truth[pairs[:, 0]]
    jumps = np.zeros(unw.shape)
    hit = rng.random(p) < 0.3
    for k in np.flatnonzero(hit):
        jumps[rng.choice(len(pairs), rng.integers(1, 4), replace=False), k] = rng.choice([-1, 1])
    bad = unw + TWO_PI * jumps
    ones = np.ones_like(bad)
    model = TimeFunctions(annual=False, semiannual=False)

    def rate_error(series):
        return fit_time_functions(series, t, model).coefficients[1] - rate

    # closure correction (L1, whole cycles) restores the interferograms exactly,
    # except where several jumps combine into a pattern that closes (a whole-cycle step of a
    # date at the edge of the network, invisible to any closure)
    cycles, unresolved, _ = correct_closure(bad, triplets(pairs), pairs, n)
    fixed = bad + TWO_PI * cycles
    exact = np.all(cycles == -jumps, axis=0)
    assert exact[~unresolved].mean() > 0.99
    assert unresolved.mean() < 0.02
    l1_fixed, q_fixed = invert_network(fixed, ones, pairs, n, "l1")
    l1_raw, q_raw = invert_network(bad, ones, pairs, n, "l1")
    l2_raw, _ = invert_network(bad, ones, pairs, n, "l2")
    # rate noise of 0.05 rad over 1.3 yr and 40 dates: sigma ~ 0.012 rad/yr; a single 2 pi
    # error left in the network shifts the rate by ~0.1-1 rad/yr
    assert np.max(np.abs(rate_error(l1_fixed)[exact])) < 0.08
    assert np.percentile(np.abs(rate_error(l1_fixed)[~unresolved]), 99) < 0.08
    assert np.percentile(np.abs(rate_error(l1_raw)[hit]), 99) < 0.08
    assert np.percentile(np.abs(rate_error(l2_raw)[hit]), 50) > 0.2
    # temporal coherence of the residuals: a 2 pi residual is invisible to it (that is why
    # closure is checked on integers), but L2's smeared residuals are not
    assert np.median(q_raw[hit]) > 0.99 and np.median(q_fixed) > 0.99
