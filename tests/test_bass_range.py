"""The band's bass in a bass's range (engine/bass_range.py): no free bass note under E1, the line moved whole by
octaves, the musician's own low bass untouched. Takes of the shipped pack, exported and read back with mido."""

from __future__ import annotations

import mido
import numpy as np
import pytest
from mid_notes import notes_16ths

from musicvae_app.engine import Engine, bass_range
from musicvae_app.lanes import LANES
from musicvae_app.sketch.midi import write_midi
from musicvae_app.sketch.song import Song

BASS = LANES.index("bass")


@pytest.fixture(scope="module")
def shipped():
    return Engine.load(device="cpu")


def test_charted_and_free_takes_keep_their_bass_at_or_above_e1_with_the_same_notes(shipped, tmp_path):
    for i, kw in enumerate(({"chords": "C G Am F"}, {}, {"chords": "C G Am F", "sections": [("verse", 1, 8)]})):
        for seed in (0, 1, 2):
            song = shipped.generate(steps=5, seed=seed, **kw)
            bass = [n for n in notes_16ths(write_midi(song, tmp_path / f"{i}-{seed}.mid")) if n[0] == BASS]
            assert bass and min(p for _, p, _, _ in bass) >= bass_range.LOWEST, (kw, seed)
            assert max(p for _, p, _, _ in bass) <= max(bass_range.HIGHEST, 60)


def test_a_span_moves_whole_by_an_octave_and_its_notes_stay_the_same_notes():
    """A 4-bar chunk whose line dips to C1 moves up whole (its octave leaps kept); a bar reaching too high for that
    moves only its low notes; a locked (not free) bar stays."""
    spb = 16
    probs = np.zeros((5, 12 * spb, 128), np.float32)
    for bar in range(4):  # chunk 1: C1 C2 octaves, 8ths
        for k, pitch in enumerate((24, 36, 24, 36, 24, 36, 24, 36)):
            probs[BASS, bar * spb + 2 * k, pitch] = 0.9
    for k, pitch in enumerate((26, 60, 26, 60)):  # bar 5: D1 and C4: the bar cannot move whole
        probs[BASS, 4 * spb + 4 * k : 4 * spb + 4 * k + 3, pitch] = 0.9
    probs[BASS, 8 * spb : 9 * spb - 1, 24] = 0.9  # bar 9, kept by the caller: stays
    song = Song(probs=probs.copy(), steps_per_beat=4, chunk_steps=4 * spb, threshold=0.5)
    before = song.notes()[BASS]
    free = np.ones((12, 5), bool)
    free[8:, BASS] = False
    assert bass_range.keep_in_range(song, free, 4) == 0  # the kept bar plays under E1: its register rules
    free[8, BASS] = True
    song.probs[BASS, 8 * spb : 9 * spb] = 0.0
    song.probs[BASS, 8 * spb, 40] = 0.9
    before = song.notes()[BASS]
    assert bass_range.keep_in_range(song, free, 4) == 1
    after = song.notes()[BASS]
    assert np.array_equal(after[: 4 * spb, 12:], before[: 4 * spb, :-12])  # the chunk, an octave up, whole
    bar5 = sorted({int(p) for p in np.flatnonzero(after[4 * spb : 5 * spb].any(axis=0))})
    assert bar5 == [38, 60]  # D1 up to D2, C4 where it was
    assert after.sum() == before.sum() and after[:, :28].sum() == 0


def test_the_musicians_low_bass_comes_back_as_played_and_the_band_keeps_its_register(shipped, tmp_path):
    """A followed part whose bass walks down to C1 is exported as played (the band's bass is its own part's)."""
    mid = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    mid.tracks.append(track)
    track.append(mido.Message("program_change", channel=BASS, program=33, time=0))
    pitches = [36, 31, 28, 24] * 4
    for i, pitch in enumerate(pitches):  # a bar each, a little short of the next
        track.append(mido.Message("note_on", channel=BASS, note=pitch, velocity=70 + i, time=0 if i == 0 else 20))
        track.append(mido.Message("note_off", channel=BASS, note=pitch, velocity=0, time=1900))
    path = tmp_path / "low.mid"
    mid.save(path)
    song = shipped.generate(follow=path, seed=3)
    back = [n for n in notes_16ths(write_midi(song, tmp_path / "take.mid")) if n[0] == BASS]
    assert [p for _, p, _, _ in sorted(back, key=lambda n: n[2])] == pitches


def test_the_edits_keep_their_new_bass_at_or_above_e1_too(shipped, tmp_path):
    """Regenerate of the bass, Continue, Infill of the bass, Morph and a new chart (set_chords) decode new bass
    outside generate's per-take stage: under `C G Am F` (seeds 0-3) they put notes under E1 (a new chart's
    re-voiced bars up to 24 of 74) until each edit kept its bass in range too. Exported and read back with mido."""
    for seed in range(4):
        take = shipped.generate(steps=3, seed=seed, chords="C G Am F")
        other = shipped.generate(steps=3, seed=seed + 10, chords="C G Am F")
        edits = {
            "regenerate": shipped.regenerate_lane(take, "bass", seed=seed),
            "continue": shipped.continue_song(take, 2, seed=seed),
            "infill": shipped.infill(take, 5, 8, lanes=["bass"], seed=seed),
            "morph": shipped.morph(take, other, steps=4),
            "set_chords": shipped.set_chords(take, "F C G Am"),
        }
        for name, song in edits.items():
            bass = [n for n in notes_16ths(write_midi(song, tmp_path / f"{name}-{seed}.mid")) if n[0] == BASS]
            assert bass and min(p for _, p, _, _ in bass) >= bass_range.LOWEST, (name, seed)
