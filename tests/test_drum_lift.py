"""Issue 29 item 3, the drums: a chorus's drums lift over its verse part by part (engine/drum_lift.py, the learned
`drum_contrast` of energy.json), keep the kit (kick and backbeat), and the verse's drums stay as they were. The
shipped pack, real generation, every take exported to .mid and read back with mido alone (test_energy's reader)."""

from __future__ import annotations

import numpy as np
import pytest
from test_energy import FORM, _in, read_back

from musicvae_app.engine import Engine, drum_lift, energy
from musicvae_app.lanes import DRUMS
from musicvae_app.sketch.midi import write_midi
from musicvae_app.theory.dynamics import BACKBEAT, HATS, KICKS

SEEDS = (3, 4, 5, 6, 7, 8)


@pytest.fixture(scope="module")
def shipped():
    return Engine.load(device="cpu")


@pytest.fixture(scope="module")
def takes(shipped, tmp_path_factory):
    """{"free": [...], "chart": [...]}: per seed, the take's notes read back with mido."""
    folder = tmp_path_factory.mktemp("drumlift")
    out = {}
    for kind, chords in (("free", None), ("chart", "C G Am F")):
        out[kind] = [
            read_back(
                write_midi(shipped.generate(steps=9, seed=s, sections=FORM, chords=chords), folder / f"{kind}{s}")
            )
            for s in SEEDS
        ]
    return out


def _drums(notes, kind: str, pitches=None) -> list:
    return [
        n
        for name, start, bars in FORM
        if name == kind
        for n in _in(notes, start, bars, DRUMS)
        if pitches is None or n[1] in pitches
    ]


def _kit_bars(notes, kind: str) -> float:
    """The share of `kind`'s bars whose drums play a kick and a backbeat."""
    bars = [(start - 1 + i) for name, start, length in FORM if name == kind for i in range(length)]
    kit = 0
    for bar in bars:
        hits = {n[1] for n in notes if n[0] == DRUMS and bar * 16 <= n[2] < (bar + 1) * 16}
        kit += bool(hits & set(KICKS)) and bool(hits & set(BACKBEAT))
    return kit / len(bars)


def test_the_shipped_table_has_the_learned_drum_contrast():
    """Learned from the training songs: every part of the kit plays more in a song's fuller half (kick and backbeat
    x1.2 or more); a level-4 section's figures are the contrast, level 5's x the fifths' step over 4, a verse's none,
    and a table without the contrast lifts the drums as one lane (none here)."""
    table = energy.table()
    contrast = table["drum_contrast"]
    assert set(contrast) == set(drum_lift.NAMES)
    assert contrast["kick"] > 1.2 and contrast["backbeat"] > 1.2 and contrast["hats"] > 1.05, contrast
    four, five = drum_lift.figures(table, 4), drum_lift.figures(table, 5)
    assert four == pytest.approx([contrast[name] for name in drum_lift.NAMES])
    row = table["notes"]["drums"]
    assert five == pytest.approx(four * row[4] / row[3])
    assert drum_lift.figures(table, 3) is None
    assert drum_lift.figures({k: v for k, v in table.items() if k != "drum_contrast"}, 4) is None


@pytest.mark.parametrize("kind", ["free", "chart"])
def test_the_chorus_drums_play_more_and_keep_the_kit(takes, kind):
    """Over six seeds the choruses' drums play more notes a bar than the verses' by x1.2 or more in all takes together
    (real songs' fuller over lighter halves x1.43; main x1.04-1.06), more in most takes, with more kick and more hats
    and ride; the choruses' bars play a kick and a backbeat as often as the verses' (less 5 %)."""
    chorus = [len(_drums(t, "chorus")) for t in takes[kind]]
    verse = [len(_drums(t, "verse")) for t in takes[kind]]
    assert sum(chorus) > 1.2 * sum(verse), (kind, chorus, verse)
    assert sum(c > v for c, v in zip(chorus, verse)) >= 4, (kind, chorus, verse)
    for pitches in (KICKS, HATS):
        assert sum(len(_drums(t, "chorus", pitches)) for t in takes[kind]) > sum(
            len(_drums(t, "verse", pitches)) for t in takes[kind]
        ), (kind, pitches)
    kit_chorus = np.mean([_kit_bars(t, "chorus") for t in takes[kind]])
    kit_verse = np.mean([_kit_bars(t, "verse") for t in takes[kind]])
    assert kit_chorus >= kit_verse - 0.05, (kind, kit_chorus, kit_verse)


def test_the_verse_drums_are_as_they_were_without_the_lift(shipped, tmp_path):
    """The lift touches the lifted sections alone: with the table's drum contrast taken away (the drums lifted as one
    lane, as before) the verses' drums are the same notes, and the choruses' fewer."""
    table = shipped.post.energy if shipped.post.energy is not None else energy.table()
    plain = {k: v for k, v in table.items() if k != "drum_contrast"}
    was = shipped.post.energy
    lifted, flat = [], []
    try:
        for seed in SEEDS[:3]:
            shipped.post.energy = table
            lifted.append(read_back(write_midi(shipped.generate(steps=9, seed=seed, sections=FORM), tmp_path / "a")))
            shipped.post.energy = plain
            flat.append(read_back(write_midi(shipped.generate(steps=9, seed=seed, sections=FORM), tmp_path / "b")))
    finally:
        shipped.post.energy = was
    for a, b in zip(lifted, flat):
        assert sorted(_drums(a, "verse")) == sorted(_drums(b, "verse"))
    assert sum(len(_drums(a, "chorus")) for a in lifted) > sum(len(_drums(b, "chorus")) for b in flat)
