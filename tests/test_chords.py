"""Chord symbols, charts, per-bar recognition on real .mid files, a chart's key and the model's chord features."""

from __future__ import annotations

import numpy as np
import pytest

from band_files import write_notes
from musicvae_app.errors import InvalidValue
from musicvae_app.sketch.midi import read_roll
from musicvae_app.theory import chords
from musicvae_app.theory.chords import (
    ACCEPTED_FORMS,
    QUALITIES,
    RECOGNIZED,
    Chord,
    ChordError,
    bar_chroma,
    bars_chroma,
    best_chord,
    chart_text,
    chord_features,
    chord_of_features,
    chords_key,
    parse_chord,
    recognize,
)


# --- symbols ------------------------------------------------------------------------------------
@pytest.mark.parametrize("quality", sorted(QUALITIES))
def test_every_canonical_quality_reads_as_itself(quality):
    chord = parse_chord("D" + quality)
    assert (chord.root, chord.quality, chord.bass) == (2, quality, None)
    assert chord.tones == tuple((2 + i) % 12 for i in QUALITIES[quality])
    assert parse_chord(chord.symbol) == chord  # the canonical symbol reads back


@pytest.mark.parametrize(
    "alias, quality",
    [
        ("M", ""), ("maj", ""), ("major", ""), ("min", "m"), ("minor", "m"), ("-", "m"), ("dom7", "7"),
        ("M7", "maj7"), ("Maj7", "maj7"), ("ma7", "maj7"), ("Δ", "maj7"), ("Δ7", "maj7"), ("min7", "m7"),
        ("-7", "m7"), ("mM7", "mMaj7"), ("minmaj7", "mMaj7"), ("°", "dim"), ("o", "dim"), ("°7", "dim7"),
        ("o7", "dim7"), ("ø", "m7b5"), ("ø7", "m7b5"), ("min7b5", "m7b5"), ("-7b5", "m7b5"), ("+", "aug"),
        ("sus", "sus4"), ("7sus", "7sus4"), ("min6", "m6"), ("-6", "m6"), ("M9", "maj9"), ("min9", "m9"),
        ("-9", "m9"), ("2", "sus2"), ("add2", "add9"), ("(add9)", "add9"), ("(maj7)", "maj7"),
    ],
)  # fmt: skip
def test_every_alias_reads_as_its_canonical_quality(alias, quality):
    assert parse_chord("G" + alias) == Chord(7, quality)


@pytest.mark.parametrize(
    "text, root",
    [("C", 0), ("C#", 1), ("Db", 1), ("C♯", 1), ("D♭", 1), ("E#", 5), ("Fb", 4), ("Cb", 11), ("B#", 0),
     ("Bb", 10), ("B♭", 10), ("Ab", 8), ("G#", 8), ("F#", 6), ("a", 9), ("eb", 3)],
)  # fmt: skip
def test_sharps_flats_unicode_and_lower_case_roots(text, root):
    assert parse_chord(text).root == root
    assert parse_chord(text + "m7").quality == "m7"


def test_slash_chords_keep_their_bass_and_name_it():
    assert parse_chord("C/E") == Chord(0, "", 4)
    assert parse_chord("D/F#") == Chord(2, "", 6)
    assert parse_chord("Am7/G").symbol == "Am7/G"
    assert parse_chord("Bbmaj7/D").symbol == "Bbmaj7/D"
    assert parse_chord("F♯m/C♯") == Chord(6, "m", 1)
    assert parse_chord("C/C") == Chord(0, "")  # the root in the bass is no slash chord
    assert parse_chord("C/E").lowest == 4 and parse_chord("C").lowest == 0
    assert parse_chord("  Am  ").symbol == "Am"


def test_symbols_are_spelled_one_way_and_transpose():
    assert [parse_chord(s).symbol for s in ("A#", "Gb", "Amin7", "CM7", "Bø", "C°7")] == [
        "Bb", "F#", "Am7", "Cmaj7", "Bm7b5", "Cdim7",
    ]  # fmt: skip
    assert parse_chord("C/E").transposed(2).symbol == "D/F#"
    assert parse_chord("B").transposed(1).symbol == "C"
    assert str(parse_chord("Ebm")) == "Ebm"


@pytest.mark.parametrize("text", ["Hm", "Cfoo", "C/", "7", "Am/X", "Cmaj13", "", "C#b"])
def test_an_unknown_symbol_is_a_chord_error_naming_it_and_the_forms(text):
    with pytest.raises(ChordError) as info:
        parse_chord(text, bar=3)
    message = str(info.value)
    assert repr(text.strip()) in message and "bar 3" in message and ACCEPTED_FORMS in message
    assert isinstance(info.value, InvalidValue) and isinstance(info.value, ValueError)


def test_a_symbol_that_is_not_text_is_a_chord_error():
    with pytest.raises(ChordError, match="7"):
        parse_chord(7)


# --- charts -------------------------------------------------------------------------------------
def symbols(chart):
    return [None if c is None else c.symbol for c in chart]


def bar_chords(text, bars=None):
    """A chart of one chord a bar (chords.parse_bars, the app's one chart parser) as each bar's chord."""
    return [bar[0] for bar in chords.parse_bars(text, bars)]


def test_a_chart_is_one_chord_a_bar_with_or_without_bar_lines():
    assert symbols(bar_chords("Am F C G")) == ["Am", "F", "C", "G"]
    assert bar_chords("| Am | F | C | G |") == bar_chords("Am F C G")
    assert bar_chords("Am|F|C|G") == bar_chords("Am F C G")
    assert symbols(bar_chords("  Am7   D7\nGmaj7  ")) == ["Am7", "D7", "Gmaj7"]  # any whitespace parts bars


def test_no_chord_and_repeat_signs():
    assert symbols(bar_chords("C N.C. NC x n.c. G")) == ["C", None, None, None, None, "G"]
    assert symbols(bar_chords("C % F /")) == ["C", "C", "F", "F"]
    assert symbols(bar_chords("| Am | % | N.C. | % |")) == ["Am", "Am", None, None]
    with pytest.raises(ChordError, match="bar 1.*start with a chord"):
        bar_chords("% Am")


def test_a_chart_is_repeated_or_cut_to_the_songs_bars():
    assert symbols(bar_chords("Am F C G", bars=10)) == ["Am", "F", "C", "G"] * 2 + ["Am", "F"]
    assert symbols(bar_chords("Am F C G", bars=2)) == ["Am", "F"]
    assert chords.fit_chart([], 3) == [None, None, None]
    assert chart_text(bar_chords("Am N.C. C/E")) == "| Am | N.C. | C/E |"


def test_an_unknown_symbol_in_a_chart_names_it_and_its_bar():
    with pytest.raises(ChordError) as info:
        bar_chords("Am F Cx7 G")
    assert "'Cx7'" in str(info.value) and "bar 3" in str(info.value) and "maj7" in str(info.value)
    with pytest.raises(ChordError, match="'Q' in bar 2"):
        bar_chords("| Am | Q | C |")


@pytest.mark.parametrize("text", ["", "   ", None])
def test_an_empty_chart_is_a_chord_error(text):
    with pytest.raises(ChordError, match="empty"):
        bar_chords(text)


def test_a_chart_of_bar_lines_only_is_a_chord_error():
    with pytest.raises(ChordError):
        bar_chords("| | |")


# --- recognition on real files ------------------------------------------------------------------
# Diatonic chords with the qualities pop songs use, per scale degree (semitones above the tonic).
MAJOR_PALETTE = {0: ("", "maj7", "6", "sus4"), 2: ("m", "m7"), 4: ("m", "m7"), 5: ("", "maj7", "6"),
                 7: ("", "7", "sus4"), 9: ("m", "m7"), 11: ("dim",)}  # fmt: skip
MINOR_PALETTE = {0: ("m", "m7", "sus4"), 2: ("dim",), 3: ("", "maj7"), 5: ("m", "m7"), 7: ("m", "7"),
                 8: ("", "maj7"), 10: ("", "7")}  # fmt: skip
SCALES = {"major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10)}
STYLES = ("block", "arpeggio", "inverted", "melody")
PIANO, GUITAR, BASS, STRINGS = (0, 0), (1, 25), (2, 33), (3, 48)  # (channel, GM program)


def progression(rng, bars: int):
    """A key and `bars` diatonic chords in it (no chord twice in a row)."""
    tonic, mode = int(rng.integers(12)), ("major", "minor")[int(rng.integers(2))]
    palette = MAJOR_PALETTE if mode == "major" else MINOR_PALETTE
    degrees = list(palette)
    out: list[Chord] = []
    while len(out) < bars:
        degree = degrees[int(rng.integers(len(degrees)))]
        chord = Chord((tonic + degree) % 12, palette[degree][int(rng.integers(len(palette[degree])))])
        if not out or chord != out[-1]:
            out.append(chord)
    return tonic, mode, out


def voicing(chord: Chord, low: int, inversion: int = 0) -> list[int]:
    """The chord in close position from the first root at or above `low`, its lowest `inversion` tones an octave up."""
    root = low + (chord.root - low) % 12
    pitches = [root + i for i in QUALITIES[chord.quality]]
    pitches = sorted(p + 12 * (i < inversion) for i, p in enumerate(pitches))
    return pitches


def bar_notes(chord: Chord, style: str, rng, scale: tuple[int, ...], tonic: int, beat: float):
    """(channel, program, pitch, start, end) notes of one 4-beat bar of `chord` played in `style`."""
    notes = []
    bass_pitch = 36 + (chord.root - 36) % 12
    if style == "arpeggio":
        tones = voicing(chord, 52)
        tones = tones + [tones[0] + 12]
        step = (0.5, 0.25)[int(rng.integers(2))]  # 8ths or 16ths
        order = tones + tones[-2:0:-1] if rng.integers(2) else tones  # up, or up and down
        for i in range(int(4 / step)):
            notes.append((*GUITAR, order[i % len(order)], beat + i * step, beat + (i + 1) * step))
        notes.append((*BASS, bass_pitch, beat, beat + 4))
        return notes
    inversion = int(rng.integers(1, 3)) if style == "inverted" else 0
    inversion = min(inversion, len(QUALITIES[chord.quality]) - 1)
    pitches = voicing(chord, 53, inversion)
    if style == "inverted":
        bass_pitch = 36 + (pitches[0] - 36) % 12  # the bass on the inverted note: C/E, C/G
    rhythm = ((0, 4),) if rng.integers(2) else ((0, 2), (2, 4))
    for start, end in rhythm:
        notes += [(*PIANO, p, beat + start, beat + end) for p in pitches]
    notes += [(*BASS, bass_pitch, beat + b, beat + b + 1) for b in range(4)]
    if style == "melody":  # chord tones on the beats, passing notes from the key's scale between them
        top = 72
        for eighth in range(8):
            if eighth % 2 == 0:
                pc = chord.tones[int(rng.integers(len(chord.tones)))]
            else:
                pc = (tonic + scale[int(rng.integers(len(scale)))]) % 12
            pitch = top + (pc - top) % 12
            notes.append((*STRINGS, pitch, beat + eighth / 2, beat + (eighth + 1) / 2))
    return notes


def style_accuracy(folder, style: str, songs: int = 12, bars: int = 16, seed: int = 2611):
    """(bars right, bars, wrong examples) over `songs` files of `style`, each in its own key.

    Right: the chord's tones and root; for inversions its tones and the bass note (C6/E and Am7/E are one sound).
    """
    rng = np.random.default_rng(seed + STYLES.index(style))
    right, total, wrong = 0, 0, []
    for song in range(songs):
        tonic, mode, chart = progression(rng, bars)
        notes = []
        for bar, chord in enumerate(chart):
            notes += bar_notes(chord, style, rng, SCALES[mode], tonic, 4.0 * bar)
        path = write_notes(folder / f"{style}-{song}.mid", notes, tempo=100)
        roll, _ = read_roll(path, 4)
        heard = recognize(roll, 16)
        assert len(heard) == bars
        bass = roll[2].argmax(axis=1)[::16] % 12  # each bar's bass note as written
        for bar, (asked, got) in enumerate(zip(chart, heard)):
            ok = got is not None and set(got.tones) == set(asked.tones)
            ok = ok and (got.lowest == bass[bar] if style == "inverted" else got.root == asked.root)
            right += ok
            total += 1
            if not ok:
                wrong.append(f"{asked.symbol}->{got.symbol if got else None}")
    return right, total, wrong


@pytest.mark.parametrize("style", STYLES)
def test_recognize_names_the_chords_written_in_real_files(tmp_path, style):
    """Block chords, guitar arpeggios (8ths or 16ths), 1st/2nd inversions over their bass note and a melody
    with passing notes on top, 12 files of 16 bars in random keys and modes: at least 95 % of bars right."""
    right, total, wrong = style_accuracy(tmp_path, style)
    assert right >= 0.95 * total, f"{style}: {100 * right / total:.1f} % of {total} bars (wrong: {', '.join(wrong)})"


def test_recognize_per_half_bar_and_silence():
    roll = np.zeros((5, 32, 128), bool)
    roll[0, 0:8, [60, 64, 67]] = True  # C for two beats
    roll[0, 8:16, [65, 69, 72]] = True  # then F
    roll[4, :, 36] = True  # drums are no chord
    assert symbols(recognize(roll, 16, per_bar=2)) == ["C", "F", None, None]
    whole = recognize(roll, 16)
    assert len(whole) == 2 and whole[0] is not None and whole[1] is None
    with pytest.raises(ValueError, match="per_bar"):
        recognize(roll, 16, per_bar=3)


def test_all_bars_at_once_read_as_each_bar_alone():
    """bars_chroma / best_chords (every bar in one pass, as the engine's chart check reads a take) give
    what bar_chroma and best_chord give bar by bar, on band rolls with held notes across bar lines."""
    rng = np.random.default_rng(20)
    for _ in range(5):
        roll = np.zeros((5, 8 * 16 + 5, 128), bool)  # a trailing partial bar too
        for lane in range(5):
            for _ in range(40):
                start, pitch = rng.integers(0, roll.shape[1]), rng.integers(28, 90)
                roll[lane, start : start + rng.integers(1, 20), pitch] = True
        chroma, lowest = bars_chroma(roll, 16)
        assert chroma.shape == lowest.shape == (9, 12)
        for i in range(9):
            one = bar_chroma(roll[:, i * 16 : (i + 1) * 16])
            assert np.array_equal(chroma[i], one[0]) and np.array_equal(lowest[i], one[1])
        assert recognize(roll, 16) == [best_chord(*bar_chroma(roll[:, i * 16 : (i + 1) * 16])) for i in range(9)]


def test_recognized_qualities_are_all_readable():
    assert set(RECOGNIZED) <= set(QUALITIES)


# --- a chart's key ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "chart, key",
    [("C F G C", (0, "major")), ("Am Dm E7 Am", (9, "minor")), ("D G A D", (2, "major")),
     ("Em Am B7 Em", (4, "minor")), ("Bb Eb F Bb", (10, "major")), ("F#m Bm C#7 F#m", (6, "minor")),
     ("| G | Em | C | D7 |", (7, "major")), ("Cm Ab Eb Bb Cm", (0, "minor"))],
)  # fmt: skip
def test_chords_key_names_the_key_of_a_chart(chart, key):
    assert chords_key(bar_chords(chart)) == key


@pytest.mark.parametrize("chart", ["Am F C G", "Em C G D", "F#m D A E"])
def test_chords_key_of_a_vi_iv_i_v_chart_is_its_major_key_or_the_relative_minor(chart):
    """vi-IV-I-V is heard in either key; both have the same scale."""
    tonic, mode = chords_key(bar_chords(chart))
    first = bar_chords(chart)[0].root
    assert (tonic, mode) in ((first, "minor"), ((first + 3) % 12, "major"))


def test_chords_key_of_no_chords_is_none():
    assert chords_key([None, None]) is None and chords_key([]) is None


# --- the model's chord features -----------------------------------------------------------------
def test_chord_features_are_the_tones_and_the_lowest_note():
    rows = chord_features([parse_chord("C/E"), None, parse_chord("Am7")])
    assert rows.shape == (3, chords.CHORD_FEATURES) and rows.dtype == np.float32
    assert np.flatnonzero(rows[0, :12]).tolist() == [0, 4, 7] and np.flatnonzero(rows[0, 12:]).tolist() == [4]
    assert not rows[1].any()
    assert np.flatnonzero(rows[2, :12]).tolist() == [0, 4, 7, 9] and np.flatnonzero(rows[2, 12:]).tolist() == [9]
    moved = chord_features([parse_chord("C/E"), None, parse_chord("Am7")], shift=3)
    assert np.array_equal(moved, chord_features([parse_chord("Eb/G"), None, parse_chord("Cm7")]))


@pytest.mark.parametrize("quality", sorted(QUALITIES))
def test_chord_features_round_trip_keeps_the_sound(quality):
    """Every chord comes back with its tones and its bass; a chord with one spelling comes back as itself."""
    for root in range(12):
        for bass in (None, (root + QUALITIES[quality][1]) % 12):
            chord = Chord(root, quality, bass)
            back = chord_of_features(chord_features([chord])[0])
            assert back is not None and set(back.tones) == set(chord.tones) and back.lowest == chord.lowest
            if quality in ("", "m", "7", "maj7", "dim", "9", "maj9", "m9", "add9", "mMaj7", "m7b5"):
                assert back == chord
    assert chord_of_features(np.zeros(chords.CHORD_FEATURES)) is None


# --- several chords a bar (the one chart parser: window, CLI, files) ---------------------------------
def beat_symbols(bars):
    return [[None if c is None else c.symbol for c in bar] for bar in bars]


def test_chords_between_bar_lines_share_the_bar():
    assert beat_symbols(chords.parse_bars("| C Am | F G |")) == [["C", "C", "Am", "Am"], ["F", "F", "G", "G"]]
    assert beat_symbols(chords.parse_bars("| C Am F G |")) == [["C", "Am", "F", "G"]]
    assert beat_symbols(chords.parse_bars("| C F G |")) == [["C", "C", "F", "G"]]  # the first takes the half bar
    assert beat_symbols(chords.parse_bars("| C . . G7 |")) == [["C", "C", "C", "G7"]]
    assert beat_symbols(chords.parse_bars("Am F")) == [["Am"] * 4, ["F"] * 4]  # no bar lines: one a bar


def test_percent_repeats_a_bar_and_nc_is_no_chord_inside_a_bar_too():
    assert beat_symbols(chords.parse_bars("| C Am | % | N.C. G |")) == [
        ["C", "C", "Am", "Am"],
        ["C", "C", "Am", "Am"],
        [None, None, "G", "G"],
    ]
    assert beat_symbols(chords.parse_bars("N.C.")) == [[None] * 4]


def test_a_hold_at_a_bar_start_carries_the_chord_over_the_bar_line():
    assert beat_symbols(chords.parse_bars("| C | . G |")) == [["C"] * 4, ["C", "C", "G", "G"]]
    with pytest.raises(ChordError, match="bar 1"):
        chords.parse_bars("| . C |")


def test_a_bom_crlf_and_tabs_are_whitespace():
    assert chords.parse_bars("\ufeff| C\tAm |\r\n| F G |\r\n") == chords.parse_bars("| C Am | F G |")
    assert symbols(bar_chords("\ufeffAm\tF\r\nC G")) == ["Am", "F", "C", "G"]


def test_more_than_four_chords_in_a_bar_names_the_bar():
    with pytest.raises(ChordError, match="bar 2 .* at most 4"):
        chords.parse_bars("| C | C D E F G |")


def test_bars_come_back_as_the_chart_writes_them():
    text = "| C | C Am | C . . G7 | N.C. | F/A G |"
    bars = chords.parse_bars(text)
    assert chords.bars_text(bars) == text
    assert chords.parse_bars(chords.bars_text(bars)) == bars


def test_an_unknown_symbol_is_quoted_short():
    long = "Q" * 200_000
    with pytest.raises(ChordError) as info:
        chords.parse_bars(f"C {long}")
    assert len(str(info.value)) < 600 and "200,000 characters" in str(info.value) and "bar 2" in str(info.value)


# --- chords at their beats (issue 33, item 3) -----------------------------------------------------
def test_a_songs_bar_texts_read_as_a_chord_a_beat_and_back():
    from musicvae_app.theory.chords import (
        downbeats,
        resolution,
        slot_chords,
        song_beats,
        song_texts,
    )

    texts = ["C Am", "F . . G7/B", None, "Dm N.C.", "Em"]
    beats = song_beats(texts)
    c, am, f, g7b, dm, em = (parse_chord(s) for s in ("C", "Am", "F", "G7/B", "Dm", "Em"))
    assert beats == [c, c, am, am, f, f, f, g7b, None, None, None, None, dm, dm, None, None, em, em, em, em]
    assert song_texts(beats) == ["C Am", "F . . G7/B", None, "Dm N.C.", "Em"]
    assert resolution(beats) == 4 and resolution(song_beats(["C Am", "F"])) == 2 and resolution(song_beats(["C"])) == 1
    assert slot_chords(song_beats(["C Am", "F"]), 2) == [c, am, parse_chord("F"), parse_chord("F")]
    assert downbeats(beats) == [c, f, None, dm, em]
    assert song_beats(["Hx7", "C"]) == [None] * 4 + [c] * 4  # a bar that does not read is no chord
    assert song_beats(["C Am"], n_bars=3) == [c, c, am, am] * 3  # round and round


def test_one_bar_of_a_chart_names_its_bar_when_it_does_not_read():
    from musicvae_app.theory.chords import parse_bar

    assert parse_bar("C F G") == tuple(parse_chord(s) for s in ("C", "C", "F", "G"))
    with pytest.raises(ChordError, match="'Hx' in bar 7"):
        parse_bar("C Hx", 7)
    with pytest.raises(ChordError, match="bar 3 of the chart starts with '.'"):
        parse_bar(". C", 3)
    with pytest.raises(ChordError, match="bar 2 holds"):
        parse_bar("C | G", 2)
