"""A melody's repeated lines share their evidence before decoding (musicvae_app.theory.harmony_decode.repeat_ties,
tie_repeats), on melodies written here and the shipped model."""

from __future__ import annotations

import numpy as np
import pytest

from musicvae_app.theory.harmony import HarmonyModel
from musicvae_app.theory.harmony_decode import (
    CHORD_FAMILY,
    REPEAT_THRESHOLD,
    REPEAT_WINDOW,
    forward_backward,
    mbr_path,
    repeat_ties,
    tie_repeats,
    top_line_grid,
)

LINE = [(76, 0, 1), (74, 1, 1.5), (72, 1.5, 2), (71, 2, 3), (67, 3, 4), (69, 4, 5), (72, 5, 6), (74, 6, 8)]
PHRASE = LINE + [(p - (2 if i % 3 else 0), s + 8, e + 8) for i, (p, s, e) in enumerate(LINE)]  # four bars


def as_notes(rows) -> np.ndarray:
    return np.array([(p, s, e, 90) for p, s, e in rows], dtype=float)


def repeated_melody() -> np.ndarray:
    """Bars 1-4 the phrase, bars 5-6 another line, bars 7-10 the phrase again, bars 11-12 a third line."""
    other = [(60 + (3 * i) % 17, 16 + i, 17 + i) for i in range(8)]
    third = [(79 - (5 * i) % 13, 40 + 0.5 * i, 40.5 + 0.5 * i) for i in range(16)]
    return as_notes(PHRASE + other + [(p, s + 24, e + 24) for p, s, e in PHRASE] + third)


@pytest.fixture(scope="module")
def model() -> HarmonyModel:
    return HarmonyModel.load()


def test_top_line_grid_reads_the_highest_sounding_pitch_and_onsets_per_16th():
    notes = as_notes([(60, 0, 1), (64, 0.5, 0.75), (67, 1.5, 2)])
    pitch, onset = top_line_grid(notes, 1, 4)
    assert pitch.tolist() == [[60, 60, 64, 60, -1, -1, 67, 67]]
    assert onset.tolist() == [[True, False, True, False, False, False, True, False]]


def test_a_repeated_phrase_ties_its_half_bars_and_nothing_else():
    ties = repeat_ties(repeated_melody(), 24, 4)
    assert np.allclose(ties, ties.T)
    tied = {(int(i), int(j)) for i, j in zip(*np.nonzero(ties))}
    # the phrase's half bars 0-7 come back as 12-19; a tie needs the two half bars either side to match as well,
    # so the phrase's first and last half bar (next to other lines, or the part's start) stay apart
    assert tied == {(h, h + 12) for h in range(1, 7)} | {(h + 12, h) for h in range(1, 7)}
    assert ties[3, 15] == 1.0 and ties[1, 13] == pytest.approx(0.8)  # the window's mean likeness


def test_a_melody_without_repeats_has_no_ties_and_decodes_as_before(model):
    rows = [(60 + (7 * i) % 19, 0.5 * i, 0.5 * i + 0.5) for i in range(64)]  # 8 bars, no line comes back
    notes = as_notes(rows)
    assert not repeat_ties(notes, 16, 4).any()
    tied = model.harmonize(notes, alternatives=3)
    model.repeat_weight = 0.0
    try:
        apart = model.harmonize(notes, alternatives=3)
    finally:
        model.repeat_weight = HarmonyModel.load().repeat_weight
    assert tied.charts == apart.charts and tied.half_bars == apart.half_bars and tied.scores == apart.scores


def test_split_evidence_on_a_repeated_phrase_gives_the_same_chords_at_both_places():
    """The phrase's half bars lean to C in bars 1-2 and to Am in bars 5-6 (A minor's and C major's evidence nearly
    equal): decoded apart they differ, tied they agree."""
    ties = repeat_ties(repeated_melody(), 24, 4)
    c, am = 0, 12 + 9  # chord classes quality * 12 + root
    log_post = np.full((24, 84), -9.0)
    phrase = range(1, 7)
    log_post[[h for h in range(24) if h not in phrase and h - 12 not in phrase], 7] = -0.2  # G elsewhere
    for h in phrase:
        log_post[h, [c, am]] = (-0.6, -0.9)  # leans to C
        log_post[h + 12, [c, am]] = (-0.8, -0.7)  # leans to Am
    flat = [np.zeros((84, 84)), np.zeros((84, 84))]
    apart = mbr_path(forward_backward(log_post, flat))
    tied = mbr_path(forward_backward(tie_repeats(log_post, ties), flat))
    assert [apart[h] for h in phrase] == [c] * 6 and [apart[h + 12] for h in phrase] == [am] * 6
    assert [tied[h] for h in phrase] == [tied[h + 12] for h in phrase]
    assert CHORD_FAMILY[tied[1]] == CHORD_FAMILY[c]  # the summed evidence leans to C
    others = [h for h in range(24) if h not in phrase and h - 12 not in phrase]
    assert [tied[h] for h in others] == [apart[h] for h in others]  # untied half bars keep their chords


def test_the_shipped_model_charts_a_repeated_phrase_alike(model):
    notes = repeated_melody()
    res = model.harmonize(notes, alternatives=1)
    assert res.half_bars[1:7] == res.half_bars[13:19]
    assert model.repeat_weight > 0


def _dense_ties(notes, n_halves, beats_per_bar, window, threshold) -> np.ndarray:
    """repeat_ties as it was written before its rows went in blocks: the full likeness and mean matrices."""
    pitch, onset = top_line_grid(notes, n_halves, beats_per_bar)
    sounds = pitch >= 0
    code = np.where(sounds, 2 * pitch + onset, -1)
    n_sounding = sounds.sum(axis=1)
    same = ((code[:, None, :] == code[None, :, :]) & sounds[:, None, :]).sum(axis=2)
    union = n_sounding[:, None] + n_sounding[None, :] - sounds.astype(np.int32) @ sounds.T
    sim = same / np.maximum(union, 1)
    quiet = n_sounding < 2
    sim[quiet, :] = 0.0
    sim[:, quiet] = 0.0
    mean = np.zeros_like(sim)
    for k in range(-window, window + 1):
        lo, hi = max(0, -k), min(n_halves, n_halves - k)
        mean[lo:hi, lo:hi] += sim[lo + k : hi + k, lo + k : hi + k]
    mean /= 2 * window + 1
    idx = np.arange(n_halves)
    tie = (mean >= threshold) & (sim > 0) & (idx[:, None] % 2 == idx[None, :] % 2) & (idx[:, None] != idx[None, :])
    return np.where(tie, mean, 0.0)


def test_a_long_part_ties_across_the_row_blocks_as_the_full_matrices_do():
    """A 12-times repeated 12-bar melody (288 half bars, past two of repeat_ties' 128-row blocks) with a quiet
    stretch: the blocked rows give the full matrices' ties exactly, ties reaching across block edges included."""
    song = repeated_melody()
    parts = [song + np.array([48.0 * k, 48.0 * k, 0, 0]) * [0, 1, 1, 0] for k in range(12)]
    notes = np.concatenate(parts)
    notes = notes[(notes[:, 1] < 200) | (notes[:, 1] >= 216)]  # bars 51-54 silent: half bars alike to none
    ties = repeat_ties(notes, 288, 4)
    dense = _dense_ties(notes, 288, 4, REPEAT_WINDOW, REPEAT_THRESHOLD)
    assert np.array_equal(ties, dense)
    assert ties[:128, 128:].any() and ties[128:256, 256:].any()  # ties across the blocks' edges
    assert not ties[100:108].any() and not ties[:, 100:108].any()  # the silent bars tie to nothing
