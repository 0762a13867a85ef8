"""Network redundancy against badly unwrapped dates (docs/unwrap.md, "Robustness").

On a date with strong turbulence the linked phase loses whole cycles in patches, and SNAPHU
then resolves each interferogram of that date on its own: on the demo's seed 1, 40-63 % of
the pixels of every interferogram of dates 9, 10 and 33 were one cycle off, in patches that
differ from one interferogram to the next. In a nearest-k network the interferograms bridging a
date are k (k + 1) / 2, k of them from the date itself. With k = 3 that is half, so at about
one pixel in six the badly unwrapped ones outvote the good ones and the closure correction
(an L1 network inversion, i.e. the fewest changes) turns them into a whole-cycle step of
every later date (4-6 mm/yr of velocity error over 6.6 years). With the default of 6
neighbours they are a minority, also for two such dates in a row. The model below is that
measurement: every interferogram of a "turbulent" date is one cycle off with probability
1/2, at independent pixels.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from sar4tec.config import validate_config
from sar4tec.unwrap.closure import correct_closure
from sar4tec.unwrap.network import make_network, triplets
from sar4tec.unwrap.network_inversion import invert_network

TWO_PI = 2 * np.pi
N, P = 40, 3000


def _steps(n_neighbours: int, bad_dates: list[int], seed: int = 0) -> tuple[float, float]:
    """Share of pixels whose corrected series is a cycle off at every date after the bad ones.

    The same pipeline as the unwrap and inversion stages: closure correction (masking what
    stays unclosed), then the L1 inversion of the corrected interferograms.  Also returns the
    share of pixels with any good date off by a cycle.
    """
    rng = np.random.default_rng(seed)
    times = [datetime(2020, 1, 1, tzinfo=UTC) + timedelta(days=48 * k) for k in range(N)]
    cfg = validate_config({"frames": {"t": {"source": "local"}}})["unwrap"]["network"]
    pairs = make_network(times, dict(cfg, type="nearest", neighbours=n_neighbours))
    truth = np.cumsum(rng.normal(0.0, 0.5, (N, P)), axis=0)  # rad, < 1/2 cycle per date
    truth -= truth[0]
    obs = truth[pairs[:, 1]] - truth[pairs[:, 0]] + rng.normal(0.0, 0.3, (len(pairs), P))
    turbulent = np.isin(pairs, bad_dates).any(axis=1)
    obs -= TWO_PI * (turbulent[:, None] & (rng.random(obs.shape) < 0.5))
    cycles, _, bad = correct_closure(obs, triplets(pairs), pairs, N)
    fixed = np.where(bad, np.nan, obs + TWO_PI * cycles)
    series, _ = invert_network(fixed, np.ones_like(fixed), pairs, N, "l1")
    err = np.nan_to_num(np.round((series - truth) / TWO_PI), nan=99.0)
    step = np.all(err[max(bad_dates) + 1 :] != 0, axis=0)
    good = np.setdiff1d(np.arange(N), bad_dates)
    return float(step.mean()), float(np.any(err[good] != 0, axis=0).mean())


def test_default_network_is_nearest_six():
    cfg = validate_config({"frames": {"t": {"source": "local"}}})["unwrap"]["network"]
    assert cfg["type"] == "nearest" and cfg["neighbours"] == 6


@pytest.mark.parametrize("bad_dates", [[20], [20, 33]])
def test_one_badly_unwrapped_date_no_longer_makes_steps(bad_dates):
    old, _ = _steps(3, bad_dates)
    default = validate_config({"frames": {"t": {"source": "local"}}})["unwrap"]["network"]
    new, new_any = _steps(default["neighbours"], bad_dates)
    # nearest-3: a step where >= 4 of the 6 bridging interferograms are wrong and at half
    # of the 3:3 ties; measured 18 % of the pixels for one bad date, 32 % for two apart
    # (binomial, 3000 pixels: +-0.9 %)
    assert old > 0.10
    # nearest-6: the 6 of 21 cannot outvote the 15 good ones (measured: no step; 4 of 3000
    # pixels with one good date off when two bad dates are 13 apart)
    assert new < 0.003 and new_any < 0.005


def test_two_adjacent_badly_unwrapped_dates():
    # adjacent turbulent dates (summer, 48-day sampling; seed 1 had 9-10 and 32-33): with
    # k = 3 five of the six bridging interferograms are theirs (measured: 62 % of the pixels
    # with a step), with k = 5 nine of fifteen (6 %), with k = 6 eleven of 21 (0.17 %)
    default = validate_config({"frames": {"t": {"source": "local"}}})["unwrap"]["network"]
    old, _ = _steps(3, [20, 21], seed=1)
    new, _ = _steps(default["neighbours"], [20, 21], seed=1)
    assert old > 0.5
    assert new < 0.01
