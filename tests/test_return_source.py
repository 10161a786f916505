"""Issue 29 item 2: a groove held, then one that comes back. A take without chords sends each lane's returns to the
chunk just before at real songs' share (card `recall_free_last`, learned on training songs), the rest to another
earlier chunk of the section: drawn among them all alike, our drums replayed the chunk before in 19 % of chunks
against 31 % in real songs. The shipped pack, real generation, takes exported as .mid and read back with mido."""

from __future__ import annotations

import numpy as np
import pytest

from band_files import read_back
from musicvae_app.engine import Engine
from musicvae_app.engine.recall import Recall
from musicvae_app.evaluation.learn_return_source import last_returns
from musicvae_app.sketch.midi import write_midi
from musicvae_app.sketch.song import LANES

CHUNK = 64  # 16ths in a 4-bar chunk
DRUMS = LANES.index("drums")
SEEDS = range(24)
STEPS = 7


def drum_cells(path, bars: int) -> np.ndarray:
    """(16ths, 128) bool: the drum hits (channel 9) of a .mid read back with mido, one 16th each."""
    out = np.zeros((bars * 16, 128), dtype=bool)
    for pitch, on, _, _ in read_back(path).get(9, []):
        if round(on / 120) < bars * 16:
            out[round(on / 120), pitch] = True
    return out


def _held_share(rolls) -> float:
    """The share of sounding drum chunks after the first that replay the chunk just before (Jaccard >= 0.9)."""
    found = []
    for roll in rolls:
        cells = roll.reshape(-1, CHUNK * 128)
        for c in range(1, len(cells)):
            if cells[c].any() and cells[c - 1].any():
                found.append((cells[c] & cells[c - 1]).sum() / (cells[c] | cells[c - 1]).sum() >= 0.9)
    return float(np.mean(found))


@pytest.fixture(scope="module")
def shipped():
    return Engine.load(device="cpu")


def test_free_drums_hold_a_groove_more_often(shipped, tmp_path):
    """With the card's share the drums replay the chunk just before note for note more often than with every
    return's chunk drawn (the same seeds), and come back to an earlier chunk no less often."""

    def takes(name):
        bars = 4 * (STEPS + 1)
        return [
            drum_cells(write_midi(shipped.generate(steps=STEPS, seed=s), tmp_path / f"{name}{s}.mid"), bars)
            for s in SEEDS
        ]

    held = takes("last")
    before = shipped.use_card(recall_free_last=None)
    try:
        drawn = takes("drawn")
    finally:
        shipped.use_card(before)
    assert _held_share(held) > _held_share(drawn) + 0.04, (_held_share(held), _held_share(drawn))
    back = [np.mean(last_returns(r, CHUNK) or [0]) for r in held]
    assert np.mean(back) > 0.4, back


def test_a_return_goes_to_the_chunk_before_at_the_share():
    """Recall.source: the chunk before at `last`, else another earlier chunk of the section; a twin's and a take
    with no share keep the drawn one."""
    section = np.zeros(8, dtype=int)
    always = Recall(np.ones(5), section, seed=1, free=True, last=np.ones(5))
    never = Recall(np.ones(5), section, seed=1, free=True, last=np.zeros(5))
    unset = Recall(np.ones(5), section, seed=1, free=True)
    assert all(always.source(lane, 0, 6, b) == 5 for lane in range(5) for b in range(4))
    assert all(never.source(lane, 5, 6, b) in range(5) for lane in range(5) for b in range(4))
    assert unset.source(0, 2, 6, 0) == 2
    half = Recall(np.ones(5), section, seed=1, free=True, last=np.full(5, 0.5))
    share = np.mean([half.source(0, 0, 7, b) == 6 for b in range(400)])
    assert 0.4 < share < 0.6, share
    twin = Recall(np.ones(5), section, seed=1, free=True, last=np.ones(5), twin=np.array([-1] * 6 + [1, -1]))
    assert twin.source(0, 1, 6, 0) == 1
    apart = Recall(np.ones(5), np.array([0, 0, 0, 1, 1, 1, 1, 1]), seed=1, free=True, last=np.ones(5))
    assert apart.source(0, 0, 3, 0) == 0  # the chunk before lies in another section


def test_the_learner_reads_which_chunk_came_back():
    """learn_return_source.last_returns: a chunk replaying the one before, one replaying an earlier one, one new."""
    rng = np.random.default_rng(0)
    a, b, new = (rng.random((CHUNK, 128)) < 0.02 for _ in range(3))
    roll = np.concatenate([a, b, b, a, new])
    assert last_returns(roll, CHUNK) == [True, False]
