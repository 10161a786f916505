"""Issue 29 item 2 for free takes (no chords, no primer: `musicvae generate`'s defaults, the window's plain
Generate): each pitched lane comes back to an earlier 4-bar chunk at about the share learned from training songs
with no chords read (card `recall_free`), instead of the 2-3x that the pull toward the first chunk held them at, and
keeps its key. The shipped pack, real generation, takes exported as .mid and read back with mido alone."""

from __future__ import annotations

import numpy as np
import pytest

from band_files import read_back
from musicvae_app.engine import Engine
from musicvae_app.evaluation.learn_arrangement import free_returns
from musicvae_app.sketch.midi import write_midi
from musicvae_app.sketch.song import LANES

PITCHED = [LANES.index(n) for n in ("piano", "guitar", "bass", "strings")]
SEEDS = range(16)
MAJOR = np.array([0, 2, 4, 5, 7, 9, 11])
CHUNK = 64  # 16ths in a 4-bar chunk


def cells(path, bars: int = 32) -> np.ndarray:
    """(5, 16ths, 128) bool: where a note sounds in a .mid read back with mido (lane i on channel i, drums on 9; a
    drum hit one 16th), as learn_arrangement reads real songs' rolls."""
    out = np.zeros((len(LANES), bars * 16, 128), dtype=bool)
    for channel, notes in read_back(path).items():
        lane = LANES.index("drums") if channel == 9 else channel
        for pitch, on, off, _ in notes:
            start = round(on / 120)
            end = start + 1 if channel == 9 else max(round(off / 120), start + 1)
            if lane < len(LANES):
                out[lane, start : min(end, bars * 16), pitch] = True
    return out


def _best_earlier(roll: np.ndarray, lane: int, chunk: int) -> float | None:
    """The highest on-cell Jaccard of a sounding chunk with any earlier sounding chunk (None: silent or none)."""
    now = roll[lane, chunk * CHUNK : (chunk + 1) * CHUNK]
    found = []
    for e in range(chunk):
        then = roll[lane, e * CHUNK : (e + 1) * CHUNK]
        if now.any() and then.any():
            found.append((now & then).sum() / (now | then).sum())
    return max(found) if found else None


@pytest.fixture(scope="module")
def shipped():
    return Engine.load(device="cpu")


def _takes(engine, folder, name: str) -> list[np.ndarray]:
    return [cells(write_midi(engine.generate(steps=7, seed=s), folder / f"{name}{s}.mid")) for s in SEEDS]


@pytest.fixture(scope="module")
def free_and_held(shipped, tmp_path_factory):
    """Free takes with the card's shares, and the same seeds held by the pull alone (recall_free unset)."""
    folder = tmp_path_factory.mktemp("free")
    free = _takes(shipped, folder, "free")
    before = shipped.use_card(recall_free=None)
    try:
        held = _takes(shipped, folder, "held")
    finally:
        shipped.use_card(before)
    return free, held


def _near_share(rolls, lane: int) -> float:
    found = [j for roll in rolls for c in range(1, 8) if (j := _best_earlier(roll, lane, c)) is not None]
    return float(np.mean([j >= 0.6 for j in found]))


def test_pitched_lanes_come_back_at_about_their_learned_share(shipped, free_and_held):
    """Each pitched lane returns to an earlier chunk (on-cell Jaccard >= 0.6) at about its learned `recall_free`, far
    less often than held by the pull, where they came back 2-3x as often as real songs."""
    free, held = free_and_held
    card = shipped.card
    for lane in PITCHED:
        ours, pulled = _near_share(free, lane), _near_share(held, lane)
        assert abs(ours - card.recall_free[lane]) < 0.1, (LANES[lane], ours, card.recall_free[lane])
        assert ours < pulled - 0.1, (LANES[lane], ours, pulled)
        assert ours > 0.05, (LANES[lane], ours)  # they do come back: grooves return, not a stream of new bars


def _in_scale(roll: np.ndarray) -> float:
    """The share of the pitched lanes' sounding cells in the take's best-fitting diatonic scale."""
    counts = np.bincount(np.nonzero(roll[PITCHED])[2] % 12, minlength=12)
    return max(counts[(MAJOR + t) % 12].sum() for t in range(12)) / max(counts.sum(), 1)


def test_free_pitched_lanes_keep_their_key(free_and_held):
    """Free of the pull, the pitched lanes still keep one key: their sounding notes lie in one diatonic scale about as
    much as held (the pull was not what kept the take in key)."""
    free, held = free_and_held
    ours, pulled = np.mean([_in_scale(r) for r in free]), np.mean([_in_scale(r) for r in held])
    assert ours >= 0.9 and ours >= pulled - 0.03, (ours, pulled)


def test_a_primer_continuation_and_a_form_are_unchanged(shipped):
    """Continuations of a primer with no chords (`musicvae evaluate`'s) keep the pull on every lane, as before; so
    does a free take with a song form (sections.repeat and the sections' energy shape it)."""
    primer = shipped.generate(steps=0, seed=3).notes()
    form = [("verse", 1, 8), ("chorus", 9, 8)]
    asks = [{"primer": primer}, {"sections": form}]
    takes = [shipped.generate(steps=3, seed=5, **ask).notes() for ask in asks]
    before = shipped.use_card(recall_free=None)
    try:
        again = [shipped.generate(steps=3, seed=5, **ask).notes() for ask in asks]
    finally:
        shipped.use_card(before)
    for take, same in zip(takes, again):
        assert np.array_equal(take, same)


def test_free_returns_measured_from_rolls():
    """learn_arrangement's measure with no chords read: a chunk that replays an earlier one exactly comes back
    exactly; one with a changed last bar comes back near; a new one does not; a silent chunk is not counted."""
    chunk = 64
    rng = np.random.default_rng(0)
    a = rng.random((chunk, 128)) > 0.97
    b = rng.random((chunk, 128)) > 0.97
    varied = a.copy()
    varied[48:] = rng.random((16, 128)) > 0.97
    lane = np.concatenate([a, b, a, np.zeros_like(a), varied, rng.random((chunk, 128)) > 0.97])
    assert free_returns(lane, chunk) == [(False, False), (True, True), (True, False), (False, False)]
