"""The sparse and vectorised paths of the chart check, the voice cap and Song.notes give what the plain dense
rules they replaced give (issue 20: a take held to a chart made as fast as the budget asks, its notes unchanged)."""

from __future__ import annotations

import numpy as np
import torch

from musicvae_app.engine.chording import keep_passing
from musicvae_app.engine.groove import Groove
from musicvae_app.model.fast import fold
from musicvae_app.sketch.song import hysteresis


def dense_hysteresis(high, low):
    """The runs of `low` (along steps) that hold a `high` cell, one column at a time."""
    low = low | high
    keep = np.zeros_like(low)
    flat_low, flat_high, flat_keep = (a.reshape(-1, *a.shape[-2:]) for a in (low, high, keep))
    for r in range(flat_low.shape[0]):
        for p in range(flat_low.shape[2]):
            t = 0
            while t < flat_low.shape[1]:
                if not flat_low[r, t, p]:
                    t += 1
                    continue
                end = t
                while end < flat_low.shape[1] and flat_low[r, end, p]:
                    end += 1
                if flat_high[r, t:end, p].any():
                    flat_keep[r, t:end, p] = True
                t = end
    return keep


def test_hysteresis_is_the_runs_rule():
    rng = np.random.default_rng(0)
    for shape in [(7, 5), (2, 30, 9), (3, 2, 16, 12), (1, 1, 4)]:
        p = rng.random(shape)
        high, low = p > 0.85, p > 0.5
        assert np.array_equal(hysteresis(high, low), dense_hysteresis(high, low))
        other = rng.random(shape) > 0.6  # a low roll that misses some high cells
        assert np.array_equal(hysteresis(high, other), dense_hysteresis(high, other))


def dense_keep_passing(src, mapped, is_tone, beat, floor):
    """keep_passing as first written: every test on every cell."""
    steps = src.shape[-2]
    pad = torch.nn.functional.pad
    on = src >= floor
    weak = (torch.arange(steps) % beat != 0)[:, None]
    before_on = pad(on, (0, 0, 1, 0))[..., :-1, :]
    held = on.clone()
    for k in range(1, 4):
        held &= pad(on, (0, 0, 0, k))[..., k:, :]
    cand = (~is_tone)[..., None, :] & weak & on & ~before_on & ~held
    sounds = mapped >= floor
    near = torch.zeros_like(sounds)
    for k in (1, 2):
        near[..., k:] |= sounds[..., :-k]
        near[..., :-k] |= sounds[..., k:]
    before = pad(near, (0, 0, 1, 0))[..., :-1, :]
    after = pad(near, (0, 0, 0, 1))[..., 1:, :] | pad(near, (0, 0, 0, 2))[..., 2:, :]
    return cand & (before | after)


def test_passing_cells_are_the_dense_rule():
    g = torch.Generator().manual_seed(0)
    for trial in range(40):
        src = torch.rand((3, 2, 4, 16, 128), generator=g) ** (1 + trial % 5)
        mapped = torch.rand((3, 2, 4, 16, 128), generator=g) ** (1 + trial % 5)
        is_tone = torch.rand((2, 4, 128), generator=g) < 0.3
        assert torch.equal(keep_passing(src, mapped, is_tone, 4, 0.3), dense_keep_passing(src, mapped, is_tone, 4, 0.3))


def dense_voices(take, free, floor, spb, doublings_first):
    """The voice cap as first written: a doubling ranks 2 below its probability, the kth rank over all 128."""
    from musicvae_app.engine.groove import VOICES

    steps = free.shape[0] * spb
    for lane, most in VOICES.items():
        cells = take[lane, :steps]
        crowded = ((cells >= floor[lane]).sum(axis=1) > most) & np.repeat(free[:, lane], spb)
        if not crowded.any():
            continue
        rows = cells[crowded]
        sounding = rows >= floor[lane]
        lower = np.zeros_like(sounding)
        for shift in range(12, 128, 12):
            lower[:, shift:] |= sounding[:, :-shift]
        rank = rows - 2.0 * (lower & sounding) if doublings_first else rows
        kth = np.partition(rank, -most, axis=1)[:, -most][:, None]
        rows[rank < kth] = 0.0
        cells[crowded] = rows


def test_voice_cap_is_the_ranking_rule():
    rng = np.random.default_rng(1)
    for trial in range(30):
        bars = 1 + trial % 4
        take = (rng.random((5, bars * 16, 128)) ** (1 + trial % 9)).astype(np.float32)
        free = rng.random((bars, 5)) < 0.8
        floor = rng.uniform(0.05, 0.3, 5)
        for doublings_first in (False, True):
            ours, ref = take.copy(), take.copy()
            Groove.voices(ours, free, floor, 16, doublings_first)
            dense_voices(ref, free, floor, 16, doublings_first)
            assert np.array_equal(ours, ref)


def test_fold_windows_is_the_blocked_round_trip(engine):
    if engine.cfg.pitches >= 128:
        return
    g = torch.Generator().manual_seed(2)
    whole = torch.rand((5, 6, engine.cfg.chunk_steps, 128), generator=g)
    pitched = whole[:4, 1:]  # a strided view, as the loop hands it over
    want = pitched.clone()
    for lane, lo in enumerate(engine.cfg.pitch_low[:4]):
        folded = fold(want[lane], engine.fast.window[lane], engine.cfg.pitches)
        want[lane].zero_()
        want[lane][..., lo : lo + engine.cfg.pitches] = folded
    engine.decoder.fold_windows(pitched)
    assert torch.equal(whole[:4, 1:], want)
