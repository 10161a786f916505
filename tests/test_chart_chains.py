"""Issue 29 item 2 under a chart: a return stays one through the chart check (engine/recall.py settle,
engine/recall_chart.py settle_changed). A piano or guitar pattern that comes back to a chunk which itself came back
under a changed chord (a chain) plays that chunk as it was re-voiced, not as it was before; an exact return whose
next chunk starts on the chord that followed its source leads in as its source did (its last beat too). The
shipped pack, real generation, every take exported to .mid and read back with mido alone."""

from __future__ import annotations

import pytest
from cards import with_card
from mid_notes import notes_16ths as _notes

from musicvae_app.engine import Engine
from musicvae_app.sketch.midi import write_midi

PIANO, GUITAR, BASS = range(3)
# every lane returns note for note to the earlier chunk sharing most chords (none moved with the chords), the piano
# never sits out
RETURNS = dict(
    role_absent=[0.0] * 5,
    role_rest=[0.0] * 5,
    recall=[1.0] * 5,
    recall_exact=[1.0] * 5,
    recall_moved=[1.0] * 5,
    recall_exact_changed=[1.0] * 5,
    recall_moves=[0.0] * 5,
    recall_apart=[0.0] * 5,
)
SEEDS = range(8)


@pytest.fixture(scope="module")
def shipped():
    return Engine.load(device="cpu")


def _takes(engine, folder, chart: str, steps: int) -> list:
    def make():
        return [write_midi(engine.generate(steps=steps, seed=s, chords=chart), folder / f"t{s}.mid") for s in SEEDS]

    return [_notes(path) for path in with_card(engine, make, **RETURNS)]


def _cut(notes, lane: int, lo: int, hi: int) -> list[tuple[int, int, int]]:
    """(start, end, pitch) of the lane's notes struck in 16ths [lo, hi), times from lo, ends cut at hi."""
    return sorted((s - lo, min(e, hi) - lo, p) for lane_, p, s, e in notes if lane_ == lane and lo <= s < hi)


def test_a_comp_pattern_coming_back_to_a_re_voiced_return_plays_it_as_re_voiced(shipped, tmp_path):
    """`C G Am F | C G Am G | C G Am G`: the second chunk comes back to the first under a changed last chord (its F
    bar re-voiced onto G), the third to the second (the same chords). The third's G bar plays the second's G bar
    note for note (its first three beats: the last is the band's lead-in) in most piano and guitar parts; before,
    it copied the second chunk before it was re-voiced and the chart check then mended it apart (main at 9ab8c9f: 0
    of 16 parts; this branch 16 of 16)."""
    takes = _takes(shipped, tmp_path, "C G Am F C G Am G C G Am G", 2)
    same = played = 0
    for notes in takes:
        for lane in (PIANO, GUITAR):
            then, now = _cut(notes, lane, 7 * 16, 7 * 16 + 12), _cut(notes, lane, 11 * 16, 11 * 16 + 12)
            if not then or not now:
                continue
            played += 1
            same += then == now
    assert played >= 8, played
    assert same >= 0.8 * played, (same, played)


def test_an_exact_return_leads_in_as_its_source_where_the_same_chord_follows(shipped, tmp_path):
    """`C G Am F` three times: the second chunk comes back to the first note for note and is followed by C, as the
    first was; its last bar, the last beat (the lead-in into the C) too, plays the first chunk's last bar again in
    the piano, the guitar and the bass, note for note, in most parts (before, its last beat the loop's own: main at
    9ab8c9f 14 of 24 parts; this branch 24 of 24)."""
    takes = _takes(shipped, tmp_path, "C G Am F C G Am F C G Am F", 2)
    same = played = 0
    for notes in takes:
        for lane in (PIANO, GUITAR, BASS):
            then, now = _cut(notes, lane, 48, 64), _cut(notes, lane, 112, 128)
            if not then or not now:
                continue
            played += 1
            same += then == now
    assert played >= 12, played
    assert same >= 0.8 * played, (same, played)
