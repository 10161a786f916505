"""Bootstrap intervals over songs (songs drawn with replacement), shared by the harmony benchmarks: a share's 95 %
interval (hits over totals, each summed over the drawn songs) and a paired gain's (two systems on the same draws)."""

from __future__ import annotations

import numpy as np

ROUNDS = 2000


def resamples(rng: np.random.Generator, songs: int, rounds: int = ROUNDS) -> np.ndarray:
    """(rounds, songs) song indices, each round `songs` drawn with replacement."""
    return rng.integers(0, songs, size=(rounds, songs))


def share_interval(hits: np.ndarray, totals: np.ndarray, draws: np.ndarray) -> tuple[float, float]:
    """95 % interval, in %, of sum(hits) / sum(totals) over the drawn songs."""
    shares = 100 * hits[draws].sum(axis=1) / np.maximum(1, totals[draws].sum(axis=1))
    lo, hi = np.percentile(shares, [2.5, 97.5])
    return float(lo), float(hi)


def gain_interval(
    hits: np.ndarray, totals: np.ndarray, base_hits: np.ndarray, base_totals: np.ndarray, draws: np.ndarray
) -> tuple[float, float]:
    """95 % interval, in points, of a system's share minus the base's, both on the same drawn songs."""
    ours = hits[draws].sum(axis=1) / totals[draws].sum(axis=1)
    gain = 100 * (ours - base_hits[draws].sum(axis=1) / base_totals[draws].sum(axis=1))
    lo, hi = np.percentile(gain, [2.5, 97.5])
    return float(lo), float(hi)
