"""benchmarks/song_bootstrap.py: the harmony benchmarks' intervals over songs."""

from __future__ import annotations

import numpy as np

from benchmarks.song_bootstrap import gain_interval, resamples, share_interval


def test_intervals_hold_the_figure_and_a_system_equal_to_its_base_gains_nothing():
    rng = np.random.default_rng(3)
    totals = rng.integers(40, 200, 60).astype(float)
    hits = np.floor(totals * rng.uniform(0.3, 0.6, 60))
    draws = resamples(np.random.default_rng(0), 60)
    assert draws.shape == (2000, 60) and draws.min() >= 0 and draws.max() < 60
    lo, hi = share_interval(hits, totals, draws)
    assert lo < 100 * hits.sum() / totals.sum() < hi and hi - lo < 10
    assert gain_interval(hits, totals, hits, totals, draws) == (0.0, 0.0)
    better = np.minimum(hits + 5, totals)  # every song better: the whole interval above 0
    lo, hi = gain_interval(better, totals, hits, totals, draws)
    assert 0 < lo < hi
