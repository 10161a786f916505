"""Engine.generate(chords=, follow=), set_chord/set_chords and the edits that keep a take's chords.

Mechanics on the tiny packs (a plain one and a chord-conditioned one with a start bank); what a musician
hears (the asked chords, a followed part kept whole) also on the shipped pack.
"""

from __future__ import annotations

import mido
import numpy as np
import pytest

from band_files import write_notes
from musicvae_app.chords import ChordError, chords_key, fit_chart, parse_chart, recognize
from musicvae_app.engine import Engine
from musicvae_app.engine.chording import PASSING_STEPS
from musicvae_app.errors import InvalidValue
from musicvae_app.keys import key_name
from musicvae_app.lanes import DRUMS, LANES
from musicvae_app.midi import read_chords, read_roll, write_midi
from musicvae_app.song import note_runs

CHART = "Am F C G"


@pytest.fixture(scope="module")
def shipped():
    return Engine.load(device="cpu")


def symbols(chords):
    return [None if c is None else c.symbol for c in chords]


def tones_right(roll, chart, steps_per_bar: int) -> list[bool]:
    """Per bar: whether the chord recognized in the roll has the asked chord's tones."""
    heard = recognize(roll, steps_per_bar)
    return [h is not None and a is not None and set(h.tones) == set(a.tones) for h, a in zip(heard, chart)]


def assert_plays_chord(bar, tones: set[int], steps_per_beat: int) -> None:
    """Every note of a bar's pitched lanes (lanes, bar_steps, 128) is a chord tone, or a passing note: struck
    off the beat, over within PASSING_STEPS steps and a step (1-2 semitones) from a chord tone of its lane
    sounding just before it starts or just after it ends. On every beat, only chord tones start."""
    for lane in bar:
        pitches, starts, ends = note_runs(lane)
        for pitch, start, end in zip(pitches, starts, ends):
            if pitch % 12 in tones:
                continue
            assert start % steps_per_beat != 0, f"pitch {pitch} struck on a beat (step {start})"
            assert end - start <= PASSING_STEPS, f"pitch {pitch} held {end - start} steps from step {start}"
            near = [q for q in (pitch - 2, pitch - 1, pitch + 1, pitch + 2) if q % 12 in tones]
            before = lane[max(start - 1, 0), near].any() if start > 0 else False
            after = lane[min(end, len(lane) - 1), near].any() or lane[min(end + 1, len(lane) - 1), near].any()
            assert before or after, f"pitch {pitch} at step {start} is a step from no chord tone"


# --- a chart --------------------------------------------------------------------------------------
@pytest.mark.parametrize("which", ["engine", "chord_engine"])
def test_a_chart_is_held_for_the_whole_song(which, request):
    engine = request.getfixturevalue(which)
    song = engine.generate(chords=CHART, steps=3, seed=1)
    assert song.n_bars == 16 and song.chords == ["Am", "F", "C", "G"] * 4
    assert song.settings["chords"] == "asked"
    barred = engine.generate(chords="| Dm7 | G7 | Cmaj7 |", steps=2, seed=1)
    assert barred.chords == ["Dm7", "G7", "Cmaj7"] * 4
    listed = engine.generate(chords=["Am", None, "C/E"], steps=1, seed=1)
    assert listed.chords == ["Am", None, "C/E"] * 2 + ["Am", None]
    assert all(song.note_counts()[lane] > 0 for lane in LANES)


def test_without_a_key_the_sketch_is_in_the_charts_key(engine, shipped):
    for eng in (engine, shipped):
        song = eng.generate(chords="Em Am B7 Em", steps=1, seed=3)
        assert song.settings["key"] == "E minor" == key_name(chords_key(parse_chart("Em Am B7 Em")))
        assert eng.generate(chords="Em Am B7 Em", key="G major", steps=1, seed=3).settings["key"] == "G major"


def test_an_unknown_chord_names_the_symbol_and_its_bar(engine):
    with pytest.raises(ChordError) as info:
        engine.generate(chords="Am F Hx7 G", steps=1, seed=1)
    assert "'Hx7'" in str(info.value) and "bar 3" in str(info.value) and "maj7" in str(info.value)
    with pytest.raises(ChordError, match="'Q' in bar 2"):
        engine.generate(chords=["Am", "Q"], steps=1)
    with pytest.raises(ChordError, match="bar 1 of the chart has 2 chords"):
        engine.generate(chords="| Am F | C |", steps=1)
    with pytest.raises(InvalidValue):  # a ChordError is an InvalidValue: the window and CLI report it as one
        engine.generate(chords="", steps=1)


def test_the_shipped_pack_plays_the_asked_chords(shipped):
    """Am F C G over 32 bars, 8 seeds: the chord heard in each bar has the asked tones in 90 % of bars.

    Measured when written: 81, 100, 81, 97, 100, 97, 91, 84 % per seed (91.4 % in all); the misses are
    mostly bars that leave out the third (C5, F5, Gsus4). 16-bar takes of the same seeds: 87.5 % in all.
    """
    chart = parse_chart(CHART, bars=32)
    per_seed = []
    for seed in range(8):
        song = shipped.generate(chords=CHART, steps=7, seed=seed)
        assert song.chords == [c.symbol for c in chart]
        per_seed.append(tones_right(song.notes(), chart, 16))
    share = 100 * np.mean(per_seed)
    figures = ", ".join(f"{100 * np.mean(right):.0f}" for right in per_seed)
    assert share >= 90, f"asked chords heard in {share:.1f} % of bars (per seed: {figures} %)"


# --- following a part -----------------------------------------------------------------------------
PART_CHART = parse_chart("C Am F G Dm Em F G", bars=32)


def part_notes(lane: str, bars: int = 32) -> list[tuple[int, int, int, float, float]]:
    """A part on one lane: piano block chords, a bass on the roots or a drum beat; no note re-struck at once."""
    notes = []
    for bar in range(bars):
        chord, beat = PART_CHART[bar % len(PART_CHART)], 4.0 * bar
        if lane == "piano":
            root = 55 + (chord.root - 55) % 12  # root position: the chart's chords, no inversions
            pitches = [root + (t - chord.root) % 12 for t in chord.tones]
            notes += [(0, 0, p, beat + b, beat + b + 1.5) for b in (0, 2) for p in pitches]
        elif lane == "bass":
            notes += [(2, 33, 36 + (chord.root - 36) % 12, beat + b, beat + b + 0.5) for b in range(4)]
        else:
            notes += [(9, 0, 42, beat + b / 2, beat + b / 2 + 0.25) for b in range(8)]
            notes += [(9, 0, 36 if b % 2 == 0 else 38, beat + b, beat + b + 0.25) for b in range(4)]
    return notes


def part_cells(notes, steps_per_beat: int, steps: int) -> np.ndarray:
    """The cells the part's notes cover on the grid, worked out from the notes as written."""
    roll = np.zeros((steps, 128), bool)
    for channel, _, pitch, start, end in notes:
        lo = round(start * steps_per_beat)
        roll[lo : lo + 1 if channel == 9 else round(end * steps_per_beat), pitch] = True
    return roll


def write_part(folder, lane: str, bars: int = 32):
    notes = part_notes(lane, bars)
    return write_notes(folder / f"{lane}-part.mid", notes, tempo=96), notes


def assert_part_kept(engine, song, notes, lane: str, bars: int = 32):
    spb = engine.cfg.steps_per_beat
    steps = bars * 4 * spb
    li = LANES.index(lane)
    assert song.n_bars == bars and song.n_steps == steps
    assert np.array_equal(song.notes()[li], part_cells(notes, spb, steps)), f"the {lane} part changed"
    for other in range(len(LANES)):
        if other != li:
            assert song.notes()[other].any(), f"{LANES[other]} is silent beside a followed {lane} part"
            assert song.chunks[0][other].source != "part"
    assert all(chunk[li].source == "part" for chunk in song.chunks)
    assert song.settings["chords"] == "part" and song.settings["part_lanes"] == lane


@pytest.mark.parametrize("lane", ["piano", "bass", "drums"])
@pytest.mark.parametrize("which", ["engine", "chord_engine"])
def test_a_followed_part_is_kept_note_for_note_and_the_band_plays_around_it(which, lane, request, tmp_path):
    engine = request.getfixturevalue(which)
    path, notes = write_part(tmp_path, lane)
    song = engine.generate(follow=path, steps=2, seed=4)  # steps is the part's length, not the flag's
    assert_part_kept(engine, song, notes, lane)
    heard = recognize(read_roll(path, engine.cfg.steps_per_beat)[0], 4 * engine.cfg.steps_per_beat)
    assert song.chords == symbols(heard)
    if lane == "piano":
        assert song.chords == [c.symbol for c in PART_CHART]
    if lane == "drums":
        assert song.chords == [None] * 32  # drums name no chord


def test_the_shipped_pack_follows_a_piano_part_and_plays_its_chords(shipped, tmp_path):
    """Measured when written: the band beside the part plays its chords in 97-100 % of bars (seeds 5-8)."""
    path, notes = write_part(tmp_path, "piano")
    song = shipped.generate(follow=path, seed=5)
    assert_part_kept(shipped, song, notes, "piano")
    assert song.chords == [c.symbol for c in PART_CHART]
    band = song.notes().copy()
    band[0] = False  # the band without the part: does it play the part's chords?
    right = tones_right(band, PART_CHART, 16)
    assert np.mean(right) >= 0.9, f"the band plays the part's chords in {100 * np.mean(right):.0f} % of bars"


def test_a_song_can_be_followed_too(engine, tmp_path):
    part = engine.song_from_midi(write_part(tmp_path, "bass", bars=8)[0])
    song = engine.generate(follow=part, seed=1)
    assert np.array_equal(song.notes()[2], part.notes()[2]) and song.n_bars == 8


def test_a_part_with_no_notes_or_too_long_is_refused_by_name(engine, tmp_path):
    empty = write_notes(tmp_path / "empty.mid", [], tempo=120)
    with pytest.raises(InvalidValue, match="'empty.mid' has no notes"):
        engine.generate(follow=empty)
    # one note at the start and one 4,200 bars later (56 minutes at 300 BPM): more than 1,025 chunks
    far = write_notes(tmp_path / "long.mid", [(0, 0, 60, 0, 1), (0, 0, 62, 4 * 4200, 4 * 4200 + 1)], tempo=300)
    with pytest.raises(InvalidValue) as info:
        engine.generate(follow=far)
    assert type(info.value) is InvalidValue
    assert "'long.mid' is 4200 bars long" in str(info.value) and "4100 bars" in str(info.value)


def test_follow_with_a_primer_locked_lanes_or_a_key_is_refused(engine, tmp_path):
    path, _ = write_part(tmp_path, "piano", bars=8)
    take = engine.generate(steps=1, seed=1)
    for extra in (dict(primer=path), dict(keep=take, keep_lanes=["bass"]), dict(key="E minor")):
        with pytest.raises(InvalidValue):
            engine.generate(follow=path, **extra)


def test_a_chart_given_with_a_part_wins_over_the_parts_own(engine, tmp_path):
    path, notes = write_part(tmp_path, "piano", bars=8)
    song = engine.generate(follow=path, chords="Dm G", seed=1)
    assert song.chords == ["Dm", "G"] * 4 and song.settings["chords"] == "asked"
    assert np.array_equal(song.notes()[0], part_cells(notes, 2, song.n_steps))


# --- changing a take's chords ---------------------------------------------------------------------
@pytest.mark.parametrize("which", ["engine", "chord_engine", "shipped"])
def test_set_chord_changes_that_bar_only(which, request):
    engine = request.getfixturevalue(which)
    take = engine.generate(chords=CHART, steps=3, seed=2)
    new = engine.set_chord(take, 2, "Dm")
    assert new.chords == ["Am", "Dm", "C", "G"] + ["Am", "F", "C", "G"] * 3
    spb = take.steps_per_bar
    outside = np.r_[0:spb, 2 * spb : take.n_steps]
    assert np.array_equal(new.probs[:, outside], take.probs[:, outside])  # every other bar bit-identical
    assert np.array_equal(new.probs[DRUMS], take.probs[DRUMS])
    assert np.array_equal(new.latents, take.latents)
    bar = new.notes()[:DRUMS, spb : 2 * spb]
    assert not np.array_equal(bar, take.notes()[:DRUMS, spb : 2 * spb])
    assert_plays_chord(bar, {2, 5, 9}, take.steps_per_beat)  # Dm's tones, passing notes aside
    assert take.chords[1] == "F"  # the take itself is left as it was


def test_set_chords_with_the_same_chart_changes_no_note(chord_engine, shipped):
    for engine in (chord_engine, shipped):
        take = engine.generate(chords=CHART, steps=3, seed=6)
        same = engine.set_chords(take, CHART)
        assert np.array_equal(same.probs, take.probs) and same.chords == take.chords


def test_set_chords_reads_its_chart_like_generate(engine):
    take = engine.generate(chords=CHART, steps=1, seed=1)
    assert engine.set_chords(take, "| Dm | G |").chords == ["Dm", "G"] * 4
    with pytest.raises(ChordError, match="'Zz' in bar 2"):
        engine.set_chords(take, "C Zz")
    with pytest.raises(ChordError, match="bar must be a whole number from 1 to 8"):
        engine.set_chord(take, 9, "C")


def test_regenerate_and_continue_keep_the_takes_chords(engine, chord_engine):
    for eng in (engine, chord_engine):
        take = eng.generate(chords=CHART, steps=1, seed=8)
        again = eng.regenerate_lane(take, "guitar", seed=9)
        assert again.chords == take.chords and again.settings["chords"] == "asked"
        longer = eng.continue_song(take, 2, seed=9)
        assert longer.n_bars == 16 and longer.chords == ["Am", "F", "C", "G"] * 4


def test_continue_goes_on_round_the_chart_when_its_length_does_not_divide_the_songs(engine):
    take = engine.generate(chords="Dm G C", steps=3, seed=1)
    assert take.chords == fit_chart(["Dm", "G", "C"], 16)
    assert engine.continue_song(take, 2, seed=3).chords == fit_chart(["Dm", "G", "C"], 24)


# --- export ---------------------------------------------------------------------------------------
def test_an_exported_take_carries_its_chords_as_markers(engine, tmp_path):
    take = engine.generate(chords="| Am | % | F | N.C. |", steps=1, seed=1)
    path = write_midi(take, tmp_path / "take.mid")
    mid = mido.MidiFile(str(path))
    ticks, markers = 0, []
    for msg in mid.tracks[0]:
        ticks += msg.time
        if msg.type == "marker":
            markers.append((ticks / mid.ticks_per_beat / 4, msg.text))
    assert markers == [(0, "Am"), (2, "F"), (3, "N.C."), (4, "Am"), (6, "F"), (7, "N.C.")]
    assert read_chords(path, engine.cfg.steps_per_beat) == take.chords == ["Am", "Am", "F", None] * 2
