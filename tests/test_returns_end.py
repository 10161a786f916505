"""Issue 29 items 2 and 3: a drum return played as a drummer repeats a groove, and an outro that ends on one hit
under a chart. An exact drum return plays its source's last beat too (before, it left that beat to the loop and
the groove, so only 71 % of them read back as exact), but where it leads into a new section (the fill stays); the
chart check moves a bass note held across a beat as one note (a held final hit was split into F C F C). The shipped
pack, real generation, every take exported to .mid and read back with mido alone."""

from __future__ import annotations

import numpy as np
import pytest

from band_files import read_back
from musicvae_app.engine import Engine
from musicvae_app.engine import generate as generate_module
from musicvae_app.sketch.midi import write_midi
from musicvae_app.sketch.song import LANES

DRUMS = LANES.index("drums")
CHUNK = 64  # 16ths in a 4-bar chunk
FORM6 = [("intro", 1, 4), ("verse", 5, 8), ("chorus", 13, 8), ("verse", 21, 8), ("chorus", 29, 8), ("outro", 37, 4)]


@pytest.fixture(scope="module")
def shipped():
    return Engine.load(device="cpu")


def _drum_cells(path, bars: int) -> np.ndarray:
    """(16ths, 128) bool: the drum hits (channel 9, one 16th each) of a .mid read back with mido."""
    out = np.zeros((bars * 16, 128), dtype=bool)
    for pitch, on, _, _ in read_back(path).get(9, []):
        if round(on / 120) < bars * 16:
            out[round(on / 120), pitch] = True
    return out


def _jaccard(a: np.ndarray, b: np.ndarray) -> float:
    union = (a | b).sum()
    return float((a & b).sum() / union) if union else 1.0


def test_an_exact_drum_return_plays_its_chunk_again_to_the_last_beat(shipped, tmp_path, monkeypatch):
    """Free takes (no chords, no primer, no form): each drawn exact drum return reads back note for note against its
    source (on-cell Jaccard >= 0.9 over the whole chunk, its last beat with it, a fill at its end as the source
    played it, or none). Before, the return left its last beat to the loop and the groove (whose fills are drawn
    bar by bar): 0.71 of them read back so. The drawn returns are taken from the take's own stage (the notes come
    from the .mid)."""
    seen = {}
    settle = generate_module.settle

    def spy(song, made, *args):
        seen["made"] = list(made)
        return settle(song, made, *args)

    monkeypatch.setattr(generate_module, "settle", spy)
    found = []
    for seed in range(100, 148):
        seen.clear()
        path = write_midi(shipped.generate(steps=7, seed=seed), tmp_path / f"t{seed}.mid")
        drums = _drum_cells(path, 32)
        for target, lane, _, src, _, exact in seen.get("made", []):
            if lane == DRUMS and exact:
                now, then = drums[target * CHUNK : (target + 1) * CHUNK], drums[src * CHUNK : (src + 1) * CHUNK]
                found.append(_jaccard(now, then))
    assert len(found) >= 40, found
    assert np.mean(np.array(found) >= 0.9) >= 0.95, found


def test_a_charted_form_ends_on_one_hit_in_every_lane(shipped, tmp_path):
    """Under a chart, the outro's last bar is one hit: no lane strikes after its first beat (seed 15's bass struck
    the chord's bass note, then the held note's own, on beats 2-4: the chart check moved beats 1 and 3 of a held
    note apart), and the bass still names the last chord (F) on beat 1."""
    for seed in (13, 14, 15, 16):
        take = shipped.generate(steps=9, seed=seed, sections=FORM6, chords="C G Am F")
        notes = read_back(write_midi(take, tmp_path / f"end{seed}.mid"))
        last = 39 * 4 * 480
        late = {ch: [n for n in ns if n[1] > last] for ch, ns in notes.items()}
        assert not any(late.values()), (seed, late)
        bass = [n for n in notes.get(LANES.index("bass"), []) if n[1] == last]
        assert bass and all(n[0] % 12 == 5 for n in bass), (seed, bass)  # F, the last bar's chord
