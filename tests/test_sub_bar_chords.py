"""Issue 33, item 3: charts as musicians write them, through the whole engine.

Several chords a bar (`| C Am | F G |`), N.C. in a chart and in a list, slash chords and four-note chords:
generated with the shipped pack, exported, and read back with mido (an independent parser), as a DAW sees it.
"""

from __future__ import annotations

import json
import zipfile

import mido
import numpy as np
import pytest

from band_files import write_notes
from musicvae_app.engine import Engine
from musicvae_app.lanes import LANES
from musicvae_app.sketch.midi import read_chords, write_midi
from musicvae_app.sketch.sketchfile import Sketch, load, save
from musicvae_app.theory.chords import (
    ChordError,
    bar_text,
    bars_chroma,
    parse_bar,
    parse_bars,
    parse_chord,
    recognize,
    song_beats,
)

BASS = LANES.index("bass")
BASS_CHANNEL, DRUM_CHANNEL = 2, 9


@pytest.fixture(scope="module")
def shipped():
    return Engine.load(device="cpu")


def midi_notes(path) -> list[tuple[int, int, int]]:
    """(channel, pitch, start in beats x 4: 16ths) of every note of a .mid, read with mido."""
    mid = mido.MidiFile(str(path))
    out = []
    for track in mid.tracks:
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type == "note_on" and msg.velocity > 0:
                out.append((msg.channel, msg.note, round(4 * tick / mid.ticks_per_beat)))
    return out


def midi_markers(path) -> list[tuple[float, str]]:
    mid = mido.MidiFile(str(path))
    out, tick = [], 0
    for msg in mid.tracks[0]:
        tick += msg.time
        if msg.type == "marker":
            out.append((tick / mid.ticks_per_beat, msg.text))
    return out


def bass_starts(path, beat: int) -> list[int]:
    """Pitch classes of the bass notes struck on `beat` (in quarter notes from the start) in an exported file."""
    return sorted({p % 12 for ch, p, t in midi_notes(path) if ch == BASS_CHANNEL and t == 4 * beat})


def bass_sounding(path, beat: int) -> list[int]:
    """Pitch classes of the bass notes sounding at the start of `beat` (struck there, or held from a push just
    before it, as a bassist anticipates a change) in an exported file, read with mido."""
    mid = mido.MidiFile(str(path))
    at = beat * mid.ticks_per_beat
    out = set()
    for track in mid.tracks:
        tick, open_ = 0, {}
        for msg in track:
            tick += msg.time
            if msg.type == "note_on" and msg.velocity > 0 and msg.channel == BASS_CHANNEL:
                open_[msg.note] = tick
            elif msg.type in ("note_off", "note_on") and msg.channel == BASS_CHANNEL and msg.note in open_:
                if open_.pop(msg.note) <= at < tick:
                    out.add(msg.note % 12)
    return sorted(out)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_two_chords_a_bar_bass_on_each_root_on_beats_1_and_3(shipped, tmp_path, seed):
    song = shipped.generate(chords="| C Am | F G |", steps=1, seed=seed)
    assert song.chords == ["C Am", "F G"] * 4
    path = write_midi(song, tmp_path / "two.mid")
    roots = {"C": 0, "Am": 9, "F": 5, "G": 7}
    for bar in range(song.n_bars):
        first, second = song.chords[bar].split()
        assert bass_starts(path, 4 * bar) == [roots[first]], (bar, first)
        assert bass_starts(path, 4 * bar + 2) == [roots[second]], (bar, second)
    # each half bar is heard as its chord (chords.recognize on the half bars of the exported take)
    heard = recognize(song.notes(), song.steps_per_bar // 2)
    asked = [parse_chord(name) for text in song.chords for name in text.split()]
    right = [h is not None and h.root == a.root and set(h.tones) == set(a.tones) for h, a in zip(heard, asked)]
    assert np.mean(right) >= 0.9, [str(h) for h in heard]
    # the markers stand on the beats the chords change, and read back as the chart
    assert midi_markers(path)[:4] == [(0.0, "C"), (2.0, "Am"), (4.0, "F"), (6.0, "G")]
    assert read_chords(path, 4) == song.chords


def test_a_chord_a_beat_and_held_beats(shipped, tmp_path):
    song = shipped.generate(chords="| C . . G | Am F G C |", steps=1, seed=3)
    assert song.chords[:2] == ["C . . G", "Am F G C"]
    path = write_midi(song, tmp_path / "beats.mid")
    expected = [0, None, None, 7, 9, 5, 7, 0]  # the bass's pitch class on each beat where the chord changes
    for beat, pc in enumerate(expected):
        if pc is not None:  # struck on the beat, or pushed an 8th or 16th before it and held into it
            assert bass_sounding(path, beat) == [pc], beat
    assert [text for _, text in midi_markers(path)[:6]] == ["C", "G", "Am", "F", "G", "C"]


def test_a_slash_chord_puts_its_bass_note_in_the_bass(shipped, tmp_path):
    song = shipped.generate(chords="| C C/E | F G/B |", steps=1, seed=1)
    path = write_midi(song, tmp_path / "slash.mid")
    for bar in range(0, song.n_bars, 2):
        assert bass_starts(path, 4 * bar) == [0] and bass_starts(path, 4 * bar + 2) == [4]
        assert bass_starts(path, 4 * bar + 4) == [5] and bass_starts(path, 4 * bar + 6) == [11]


def test_a_list_of_one_chord_a_bar_and_a_chart_with_bar_lines_both_work(shipped):
    a = shipped.generate(chords=["Am", "F", "C", "G"], steps=1, seed=2)
    b = shipped.generate(chords="| Am | F | C | G |", steps=1, seed=2)
    assert a.chords == b.chords == ["Am", "F", "C", "G"] * 2
    assert np.array_equal(a.notes(), b.notes())
    c = shipped.generate(chords=["C Am", "F G"], steps=1, seed=2)  # a list's item may be a bar's chords
    assert c.chords == ["C Am", "F G"] * 4


def test_no_chord_in_a_list_and_in_a_chart_rests_the_band_but_the_drums(shipped, tmp_path):
    song = shipped.generate(chords=["C", "N.C.", "Am", "G"], steps=1, seed=4)
    assert song.chords == ["C", None, "Am", "G"] * 2
    path = write_midi(song, tmp_path / "nc.mid")
    notes = midi_notes(path)
    for bar in (1, 5):  # the N.C. bars: no pitched note sounds there, the drums play
        inside = [(ch, p) for ch, p, t in notes if 16 * bar <= t < 16 * (bar + 1)]
        assert inside and all(ch == DRUM_CHANNEL for ch, _ in inside), inside
    assert any(ch != DRUM_CHANNEL and 0 <= t < 16 for ch, _, t in notes)
    markers = midi_markers(path)
    assert (4.0, "N.C.") in markers and (8.0, "Am") in markers
    half = shipped.generate(chords="| C N.C. | Am G |", steps=1, seed=4)
    assert half.chords[0] == "C N.C." and not half.notes()[:4, 8:16].any()


def test_a_chart_of_no_chord_alone_generates_drums(shipped):
    song = shipped.generate(chords="N.C.", steps=1, seed=5)
    assert song.chords == [None] * song.n_bars and song.settings["chords"] == "asked"
    assert not song.notes()[:4].any() and song.notes()[4].any()
    assert shipped.generate(chords="N.C.", key="A minor", steps=1, seed=5).settings["key"] == "A minor"


def test_set_chord_takes_a_bars_chords_and_changes_that_bar_only(shipped):
    take = shipped.generate(chords="Am F C G", steps=1, seed=6)
    new = shipped.set_chord(take, 2, "Dm7 G7")
    assert new.chords[1] == "Dm7 G7" and new.chords[0] == "Am" and new.chords[2:4] == ["C", "G"]
    spb = take.steps_per_bar
    for bar in range(take.n_bars):
        same = np.array_equal(take.probs[:, bar * spb : (bar + 1) * spb], new.probs[:, bar * spb : (bar + 1) * spb])
        assert same == (bar != 1), bar
    heard = recognize(new.notes()[:, spb : 2 * spb], spb // 2)
    assert [h.root for h in heard] == [2, 7]
    with pytest.raises(ChordError, match="'Hx' in bar 3"):
        shipped.set_chord(take, 3, "C Hx")


@pytest.mark.parametrize(
    "chart",
    ["Cmaj7 Am7 Dm7 G7", "C6 Am Fmaj7 Gsus4", "Csus2 Bdim Eaug Am", "Dm7b5 G7 Cm6 Fm7"],
)
def test_four_note_chords_sus_dim_and_aug_are_voiced_with_their_tones(shipped, chart):
    """The comping lanes voice each asked chord's own tones (not a triad): every bar is heard as its chord."""
    asked = [parse_chord(s) for s in chart.split()]
    right = []
    for seed in range(3):
        song = shipped.generate(chords=chart, steps=1, seed=seed)
        heard = recognize(song.notes(), song.steps_per_bar)
        right += [h is not None and h.root == a.root and set(h.tones) == set(a.tones) for h, a in zip(heard, asked * 2)]
    assert np.mean(right) >= 0.9, f"{chart}: {100 * np.mean(right):.0f} % of bars heard as asked"


def test_sub_bar_chords_survive_the_sketch_file_and_old_files_still_load(shipped, tmp_path):
    song = shipped.generate(chords="| C Am | F G/B | Dm . . G7 | N.C. |", steps=1, seed=7)
    path = save(Sketch([song]), tmp_path / "s.mvsketch")
    back = load(path).takes[0]
    assert back.chords == song.chords == ["C Am", "F G/B", "Dm . . G7", None] * 2
    assert song_beats(back.chords)[:8] == [parse_chord(s) for s in ("C", "C", "Am", "Am", "F", "F", "G/B", "G/B")]
    # a file written before sub-bar charts: one symbol a bar, N.C. spelled out, another spelling
    with zipfile.ZipFile(path) as z:
        files = {name: z.read(name) for name in z.namelist()}
    meta = json.loads(files["sketch.json"])
    meta["takes"][0]["chords"] = ["Am", "N.C.", "Amin7", "G"]
    files["sketch.json"] = json.dumps(meta).encode()
    old = tmp_path / "old.mvsketch"
    with zipfile.ZipFile(old, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    assert load(old).takes[0].chords == ["Am", None, "Am7", "G"]


def test_a_followed_part_with_two_chords_a_bar_is_played_at_full_resolution(shipped, tmp_path):
    """follow=: the harmony model's best chart at its full resolution (two chords a bar), not the downbeats."""
    chart = parse_bars("| C Am | F G | Dm G | C C |")
    notes = []
    for bar in range(16):
        beats = chart[bar % 4]
        for half in (0, 1):
            chord = beats[2 * half]
            root = 55 + (chord.root - 55) % 12
            start = 4.0 * bar + 2 * half
            notes += [(0, 0, root + (t - chord.root) % 12, start, start + 1.5) for t in chord.tones]
            notes += [(0, 0, root + (t - chord.root) % 12, start + 1, start + 1.75) for t in chord.tones]
    path = write_notes(tmp_path / "comp.mid", notes, tempo=100)
    best = parse_bars(shipped.harmonize(path, alternatives=1)[0])
    song = shipped.generate(follow=path, seed=3)
    assert song.chords == [bar_text(b) for b in best][: song.n_bars]
    two = [i for i, text in enumerate(song.chords) if text and len(set(parse_bar(text))) == 2]
    assert len(two) >= song.n_bars // 2, song.chords  # the model hears the half bars, and the band gets them
    out = write_midi(song, tmp_path / "band.mid")
    for bar in two:
        second = parse_bar(song.chords[bar])[2]
        assert bass_starts(out, 4 * bar + 2) == [second.lowest], (bar, song.chords[bar])


@pytest.mark.parametrize("chart", ["C9 Fmaj9 Am9 Gadd9", "G7sus4 Cdim7 AmMaj7 E7"])
def test_ninths_and_chords_the_ear_has_no_name_for_are_voiced_with_every_tone(shipped, chart):
    """9ths, add9, 7sus4, dim7, mMaj7: the recognizer names none of them, so each bar is checked tone by tone:
    every tone of the chord is at least 7 % of the bar's pitched weight (the recognizer's own line)."""
    asked = [parse_chord(s) for s in chart.split()]
    full = []
    for seed in range(3):
        song = shipped.generate(chords=chart, steps=1, seed=seed)
        chroma, _ = bars_chroma(song.notes()[[i for i in range(len(LANES)) if i != 4]], song.steps_per_bar, None)
        share = chroma / chroma.sum(axis=1, keepdims=True)
        full += [bool(np.all(share[bar, list(c.tones)] >= 0.07)) for bar, c in enumerate(asked * 2)]
    assert np.mean(full) >= 0.9, f"{chart}: every tone voiced in {100 * np.mean(full):.0f} % of bars"
