"""Interferogram networks, triplets and the integer closure correction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from sar4tec.unwrap.closure import closure_cycles, correct_closure, unclosed
from sar4tec.unwrap.network import (
    make_network,
    nearest_pairs,
    single_reference_pairs,
    small_baseline_pairs,
    triplets,
)

TWO_PI = 2 * np.pi


def test_networks():
    assert single_reference_pairs(4, 2).tolist() == [[0, 2], [1, 2], [2, 3]]
    assert nearest_pairs(4, 2).tolist() == [[0, 1], [0, 2], [1, 2], [1, 3], [2, 3]]
    times = [datetime(2020, 1, 1, tzinfo=UTC) + timedelta(days=d) for d in (0, 12, 24, 100)]
    # 24-day limit: (0,1), (0,2), (1,2); (2,3) kept to stay connected
    assert small_baseline_pairs(times, 24).tolist() == [[0, 1], [0, 2], [1, 2], [2, 3]]
    cfg = {"type": "nearest", "neighbours": 3, "reference_index": 0,
           "max_temporal_baseline_days": 48}  # fmt: skip
    assert len(make_network(times, cfg)) == 6
    with pytest.raises(ValueError, match="unknown network type"):
        make_network(times, dict(cfg, type="star"))
    with pytest.raises(ValueError, match="outside"):
        single_reference_pairs(3, 5)


def test_triplets_of_a_nearest_network():
    pairs = nearest_pairs(6, 2)
    trip = triplets(pairs)
    assert len(trip) == 4  # (i, i+1, i+2) for i = 0..3
    for a, b, c in trip:
        assert pairs[a][1] == pairs[b][0]
        assert pairs[a][0] == pairs[c][0] and pairs[b][1] == pairs[c][1]
    assert len(triplets(single_reference_pairs(6))) == 0


def test_closure_cycles_are_integers_of_the_jumps():
    pairs = nearest_pairs(5, 2)
    trip = triplets(pairs)
    theta = np.array([0.0, 2.0, 5.5, 7.0, 12.0])[:, None]
    unw = theta[pairs[:, 1]] - theta[pairs[:, 0]]
    assert np.all(closure_cycles(unw, trip) == 0)
    unw[1] += TWO_PI  # (0, 2) one cycle too high: appears with sign -1 in triplet 0
    assert closure_cycles(unw, trip)[:, 0].tolist() == [-1, 0, 0]
    bad, pixels = unclosed(unw, trip)  # what closure.action "mask" masks
    assert np.flatnonzero(bad[:, 0]).tolist() == sorted(trip[0].tolist()) and pixels[0]
    unw[0] = np.nan
    assert np.isnan(closure_cycles(unw, trip)[0, 0])


def test_correction_recovers_sparse_errors_and_flags_the_rest():
    rng = np.random.default_rng(3)
    n, p = 30, 4000
    pairs = nearest_pairs(n, 3)
    trip = triplets(pairs)
    theta = np.cumsum(rng.normal(0, 2, (n, p)), axis=0)
    unw = theta[pairs[:, 1]] - theta[pairs[:, 0]]
    err = np.zeros(unw.shape, dtype=int)
    hit = rng.random(unw.shape) < 0.02
    err[hit] = rng.choice([-2, -1, 1], hit.sum())
    unw[rng.random(unw.shape) < 0.01] = np.nan  # missing interferograms
    cycles, unresolved, bad = correct_closure(unw + TWO_PI * err, trip, pairs, n)
    fixed = unw + TWO_PI * (err + cycles)
    assert np.all(np.nan_to_num(closure_cycles(fixed, trip)[:, ~unresolved]) == 0)
    ok = ~unresolved & np.all(np.isfinite(unw), axis=0)
    # where every triplet could be used, the fewest-changes solution is the injected one
    assert np.mean(np.all(cycles[:, ok] == -err[:, ok], axis=0)) > 0.97
    assert unresolved.mean() < 0.05
    assert not bad[:, ~unresolved].any() and bad[:, unresolved].any(axis=0).all()


def test_pixels_without_errors_are_untouched():
    pairs = nearest_pairs(8, 3)
    theta = np.linspace(0, 30, 8)[:, None] * np.ones((1, 5))
    unw = theta[pairs[:, 1]] - theta[pairs[:, 0]]
    cycles, unresolved, bad = correct_closure(unw, triplets(pairs), pairs, 8)
    assert not cycles.any() and not unresolved.any() and not bad.any()
