"""How a band plays, on hand-made 16th-note rolls whose answers are worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from musicvae_app.evaluation import playing_metrics as pm
from musicvae_app.sketch.song import LANES
from musicvae_app.theory.chords import Chord, parse_bars, parse_chord

SPB = 4  # 16ths: a bar is 16 steps, a chunk 4 bars
BAR = 16
CHUNK = 64
PIANO, GUITAR, BASS, STRINGS, DRUMS = range(5)
KICK, SNARE, HAT, CRASH, TOM_LOW, TOM_HIGH = 36, 38, 42, 49, 45, 50


def band(bars: int) -> np.ndarray:
    return np.zeros((len(LANES), bars * BAR, 128), dtype=bool)


def groove(roll: np.ndarray, bars: range) -> None:
    """A rock beat: kick on 1 and 3, snare on 2 and 4, 8th hi-hats."""
    for b in bars:
        s = b * BAR
        roll[DRUMS, s : s + BAR : 2, HAT] = True
        roll[DRUMS, [s, s + 8], KICK] = True
        roll[DRUMS, [s + 4, s + 12], SNARE] = True


def test_a_repeated_four_bar_loop_is_all_repetition():
    rolls = band(16)
    for c in range(4):  # the same chunk four times: a bass riff and a beat
        s = c * CHUNK
        rolls[BASS, s : s + 8, 40] = True
        rolls[BASS, s + 16 : s + 24, 43] = True
        groove(rolls, range(4 * c, 4 * c + 4))
    assert pm.chunk_repetition(rolls[BASS], CHUNK) == 100.0
    assert pm.band_repetition(rolls, CHUNK) == 100.0
    assert math.isnan(pm.chunk_repetition(rolls[PIANO], CHUNK))  # silent throughout: nothing to loop
    rolls[BASS, 2 * CHUNK + 40, 50] = True  # one extra 16th in chunk 2: 17 cells against 16, Jaccard 0.94
    assert pm.chunk_repetition(rolls[BASS], CHUNK) == 100.0
    rolls[BASS, 2 * CHUNK : 2 * CHUNK + 8, 40] = False  # chunk 2 loses its first note: differs before and after
    assert pm.chunk_repetition(rolls[BASS], CHUNK) == pytest.approx(100 / 3)
    stacked = np.stack([rolls, band(16)])
    # the band's chunk 2 shares 56 of 65 cells with its neighbours (0.86); the silent piece adds no pairs
    assert pm.band_repetition(stacked, CHUNK) == pytest.approx(100 / 3)


def test_a_bar_long_note_is_a_long_note():
    roll = np.zeros((4 * BAR, 128), dtype=bool)
    roll[0:BAR, 60] = True  # exactly a bar
    roll[BAR : 3 * BAR, 64] = True  # two bars
    roll[0 : BAR - 1, 67] = True  # a 16th short of a bar
    roll[3 * BAR, 72] = True  # a 16th
    assert pm.long_notes(roll, SPB) == 50.0
    assert math.isnan(pm.long_notes(np.zeros((BAR, 128), dtype=bool), SPB))


def test_onsets_per_bar_over_all_bars_and_playing_bars():
    roll = np.zeros((4 * BAR, 128), dtype=bool)
    roll[0:BAR:4, 40] = True  # bar 0: four quarter notes
    roll[BAR + 2 : 3 * BAR, 43] = True  # bar 1: one start, held through bar 2 (playing, no start); bar 3 empty
    assert pm.onsets_per_bar(roll, SPB) == pytest.approx(5 / 4)
    assert pm.onsets_per_bar(roll, SPB, playing_only=True) == pytest.approx(5 / 3)
    assert math.isnan(pm.onsets_per_bar(np.zeros((4, 128), dtype=bool), SPB))


def test_bass_on_the_root_or_slash_bass_on_beat_one():
    bass = np.zeros((5 * BAR, 128), dtype=bool)
    bass[0:8, 45] = True  # bar 0 Am: A on beat 1
    bass[BAR + 2 : BAR + 8, 41] = True  # bar 1 F: F starts on the third 16th, still beat 1
    bass[2 * BAR : 2 * BAR + 8, 48] = True  # bar 2 C/E: plays C, the slash wants E
    bass[3 * BAR + 8 : 3 * BAR + 12, 43] = True  # bar 3 G: plays only on beat 3
    # bar 4: N.C. - not counted
    chords = [bar[0] for bar in parse_bars("Am F C/E G N.C.")]
    assert pm.bass_on_root(bass, chords, SPB) == 50.0
    assert pm.beat_one_pitch(bass[3 * BAR : 4 * BAR], SPB) is None
    held = np.zeros((5 * BAR, 128), dtype=bool)
    held[: 2 * BAR, 33] = True  # an A held over the bar line sounds on bar 1's first step
    held[BAR, 45] = True
    assert pm.bass_on_root(held, [parse_chord("Am"), parse_chord("A")], SPB) == 100.0
    stacked = np.stack([bass, held])
    assert pm.bass_on_root(stacked, [chords, [parse_chord("C"), None]], SPB) == 40.0
    with pytest.raises(ValueError, match="one chord list per piece"):
        pm.bass_on_root(stacked, [chords], SPB)


def test_a_tom_fill_into_a_crash_at_every_phrase_end():
    rolls = band(9)
    groove(rolls, range(9))
    for end in (3, 7):  # the last bar of each 4-bar phrase: 16th toms over beats 3 and 4, then a crash
        s = end * BAR
        rolls[DRUMS, s + 8 : s + 16, :] = False
        rolls[DRUMS, s + 8 : s + 12, TOM_HIGH] = True
        rolls[DRUMS, s + 12 : s + 16, TOM_LOW] = True
        rolls[DRUMS, s + BAR, CRASH] = True
    assert pm.fill_bars(rolls[DRUMS], SPB).tolist() == [False, False, False, True, False, False, False, True, False]
    out = pm.phrase_fills(rolls[DRUMS], SPB)
    assert out == {"fill_4": 100.0, "fill_8": 100.0, "fill_elsewhere": 0.0, "crash_after": 100.0}


def test_phrases_are_found_from_the_crashes_after_a_pickup_bar():
    rolls = band(10)
    groove(rolls, range(1, 10))  # the drums come in after a pickup bar: phrases start on bars 1, 5, 9
    for end in (4, 8):
        s = end * BAR
        rolls[DRUMS, s + 8 : s + 16, TOM_LOW] = True
        rolls[DRUMS, s + BAR, CRASH] = True
    assert pm.phrase_offset(pm.crash_bars(rolls[DRUMS], SPB), 4) == 1
    aligned = pm.phrase_fills(rolls[DRUMS], SPB)
    assert (aligned["fill_4"], aligned["fill_elsewhere"], aligned["crash_after"]) == (100.0, 0.0, 100.0)
    on_the_grid = pm.phrase_fills(rolls[DRUMS], SPB, align=False)
    assert (on_the_grid["fill_4"], on_the_grid["crash_after"]) == (0.0, 0.0)


def test_a_busy_groove_is_not_a_fill_but_a_burst_above_it_is():
    drums = np.zeros((8 * BAR, 128), dtype=bool)
    for b in range(8):  # toms on every 8th of beats 3-4 in every bar: the groove itself, no fill
        drums[b * BAR + 8 : b * BAR + 16 : 2, TOM_LOW] = True
    assert not pm.fill_bars(drums, SPB).any()
    drums[7 * BAR + 8 : 7 * BAR + 16, SNARE] = True  # bar 7: a snare roll on top: 12 hits against 4
    out = pm.phrase_fills(drums, SPB)
    assert (out["fill_4"], out["fill_8"], out["fill_elsewhere"]) == (50.0, 100.0, 0.0)
    assert out["crash_after"] == 0.0  # bar 3 ends a phrase and bar 4 opens without a crash
    assert math.isnan(pm.phrase_fills(np.zeros((8 * BAR, 128), dtype=bool), SPB)["fill_4"])


def test_chord_accuracy_compares_root_and_tones():
    asked = [bar[0] for bar in parse_bars("Am F C G")]
    assert pm.chord_accuracy(asked, [bar[0] for bar in parse_bars("Am F C G")]) == 100.0
    assert pm.chord_accuracy(asked, [Chord(9, "m", 0), parse_chord("Fmaj7"), None, parse_chord("G")]) == 50.0
    assert pm.chord_accuracy([None, parse_chord("C")], [parse_chord("D"), parse_chord("C")]) == 100.0
    assert pm.chord_accuracy([[parse_chord("C")], [parse_chord("D")]], [[parse_chord("C")], [None]]) == 50.0
    assert math.isnan(pm.chord_accuracy([None], [parse_chord("C")]))


def test_played_chords_are_recognized_and_their_tones_counted():
    rolls = band(2)
    rolls[PIANO, 0:BAR, [57, 60, 64]] = True  # bar 0: A minor
    rolls[BASS, 0:BAR, 45] = True
    rolls[PIANO, BAR : 2 * BAR, [53, 57, 60]] = True  # bar 1: F major, and a passing B on the guitar
    rolls[GUITAR, BAR + 4, 71] = True
    rolls[DRUMS, 0, 42] = True  # drums never count
    heard = pm.band_chords(rolls, SPB)
    assert [c.symbol for c in heard] == ["Am", "F"]
    assert pm.chord_accuracy([bar[0] for bar in parse_bars("Am F")], heard) == 100.0
    # starts: A C E A in bar 0; F and the B in bar 1 (A and C are held over from bar 0, not struck again)
    assert pm.chord_tone_share(rolls, heard, SPB) == pytest.approx(100 * 5 / 6)
    assert math.isnan(pm.chord_tone_share(rolls, [None, None], SPB))  # no chord: nothing to fit
    assert [c.symbol for c in pm.upper_chords(rolls, SPB)] == ["Am", "F"]


def test_kept_share_counts_the_kept_part_cells_still_there():
    kept = np.zeros((2, 4 * BAR, 128), dtype=bool)
    kept[0, 0:32, 40] = True
    kept[1, 0:32:4, 36] = True  # 32 + 8 cells
    output = kept.copy()
    output[0, 24:32, 40] = False  # 8 cells lost
    output[1, 1, 50] = True  # extra notes do not matter
    assert pm.kept_share(kept, output) == 80.0
    assert math.isnan(pm.kept_share(np.zeros_like(kept), output))
    with pytest.raises(ValueError, match="same shape"):
        pm.kept_share(kept, output[:1])


def test_band_playing_measures_every_lane_and_the_band():
    rolls = band(8)
    groove(rolls, range(8))
    rolls[PIANO, :, [60, 64, 67]] = True  # a C chord held throughout
    rolls[BASS, 0 : 8 * BAR : 4, 36] = True  # C quarter notes
    out = pm.band_playing(np.stack([rolls]), SPB, CHUNK)
    assert set(out["lanes"]) == set(LANES)
    assert set(out["lanes"]["drums"]) == {
        "repetition",
        "comes_back",
        "comes_back_near",
        "onsets_per_bar",
        "onsets_per_playing_bar",
    }
    assert out["lanes"]["piano"]["comes_back"] == 100.0  # the held chord: every chunk replays the first
    assert out["lanes"]["piano"]["long_notes"] == 100.0 and out["lanes"]["bass"]["long_notes"] == 0.0
    assert out["lanes"]["bass"]["onsets_per_bar"] == 4.0
    band_figures = out["band"]
    assert band_figures["repetition"] == 100.0 and band_figures["bass_on_root"] == 100.0
    assert band_figures["chord_tones"] == 100.0
    assert band_figures["fill_4"] == 0.0 and band_figures["crash_after"] == 0.0
    asked = [[bar[0] for bar in parse_bars("F F F F F F F F")]]
    assert pm.band_playing(rolls[None], SPB, CHUNK, asked)["band"]["bass_on_root"] == 0.0
