"""Engine.generate(chords=, follow=), set_chord/set_chords and the edits that keep a take's chords.

Mechanics on the tiny packs (a plain one and a chord-conditioned one with a start bank); what a musician
hears (the asked chords, a followed part kept whole) also on the shipped pack.
"""

from __future__ import annotations

import mido
import numpy as np
import pytest

from band_files import write_notes
from musicvae_app.engine import Engine
from musicvae_app.engine.chording import PASSING_STEPS
from musicvae_app.errors import InvalidValue
from musicvae_app.lanes import DRUMS, LANES
from musicvae_app.sketch.midi import read_chords, write_midi
from musicvae_app.sketch.song import note_runs
from musicvae_app.theory.chords import (
    ChordError,
    bar_text,
    chords_key,
    fit_chart,
    parse_bar,
    parse_bars,
    parse_chord,
    per_beat,
    recognize,
)
from musicvae_app.theory.keys import key_name

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


def assert_plays_chord(lanes, chords, steps_per_beat: int) -> None:
    """Every note of pitched lanes (lanes, steps, 128) is a tone of its bar's chord (chords: one Chord a bar),
    or a passing note: struck off the beat, off the chord for at most PASSING_STEPS steps and a step (1-2
    semitones) from a chord tone its lane sounds just before it starts or just after it ends. A note struck off
    the chord just before a bar line and held into the next bar, where it is a chord tone (an anticipation),
    counts its steps before the bar line. On every beat, only chord tones start."""
    bar = 4 * steps_per_beat
    steps = lanes.shape[1]
    tone = np.zeros((steps, 128), dtype=bool)
    for t in range(steps):
        tone[t, [p for p in range(128) if p % 12 in chords[t // bar].tones]] = True
    for lane in lanes:
        sounds = lane & tone
        pitches, starts, ends = note_runs(lane)
        for pitch, start, end in zip(pitches, starts, ends):
            if tone[start, pitch]:
                continue
            assert start % steps_per_beat != 0, f"pitch {pitch} struck on a beat (step {start})"
            off = int((~tone[start:end, pitch]).sum())
            assert off <= PASSING_STEPS, f"pitch {pitch} off the chord {off} steps from step {start}"
            near = [q for q in (pitch - 2, pitch - 1, pitch + 1, pitch + 2) if 0 <= q < 128]
            before = start > 0 and sounds[start - 1, near].any()
            after = any(t < steps and sounds[t, near].any() for t in (end, end + 1))
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
        assert song.settings["key"] == "E minor" == key_name(chords_key([bar[0] for bar in parse_bars("Em Am B7 Em")]))
        assert eng.generate(chords="Em Am B7 Em", key="G major", steps=1, seed=3).settings["key"] == "G major"


def test_an_unknown_chord_names_the_symbol_and_its_bar(engine):
    with pytest.raises(ChordError) as info:
        engine.generate(chords="Am F Hx7 G", steps=1, seed=1)
    assert "'Hx7'" in str(info.value) and "bar 3" in str(info.value) and "maj7" in str(info.value)
    with pytest.raises(ChordError, match="'Q' in bar 2"):
        engine.generate(chords=["Am", "Q"], steps=1)
    with pytest.raises(ChordError, match="bar 2 of the chart has 5 chords"):  # at most a chord a beat
        engine.generate(chords="| Am F | C G Am F Dm |", steps=1)
    with pytest.raises(ChordError, match="'Hx' in bar 3"):  # a list's bar given as its chords
        engine.generate(chords=["Am", "F", "C Hx"], steps=1)
    with pytest.raises(InvalidValue):  # a ChordError is an InvalidValue: the window and CLI report it as one
        engine.generate(chords="", steps=1)


def test_the_shipped_pack_plays_the_asked_chords(shipped):
    """Am F C G over 32 bars, 8 seeds: the chord heard in each bar has the asked tones in 95 % of bars.

    Measured when written: 81, 100, 81, 97, 100, 97, 91, 84 % per seed (91.4 % in all), the misses mostly
    bars that left out the third (C5, F5, Gsus4); with the chart check (issue 20, session 2) 100 % on
    every seed.
    """
    chart = [bar[0] for bar in parse_bars(CHART, bars=32)]
    per_seed = []
    for seed in range(8):
        song = shipped.generate(chords=CHART, steps=7, seed=seed)
        assert song.chords == [c.symbol for c in chart]
        per_seed.append(tones_right(song.notes(), chart, 16))
    share = 100 * np.mean(per_seed)
    figures = ", ".join(f"{100 * np.mean(right):.0f}" for right in per_seed)
    assert share >= 95, f"asked chords heard in {share:.1f} % of bars (per seed: {figures} %)"


# --- following a part -----------------------------------------------------------------------------
PART_CHART = [bar[0] for bar in parse_bars("C Am F G Dm Em F G", bars=32)]


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
    if lane != "drums":  # the harmony model's best chart at its full resolution (issue 33: up to two a bar)
        best = parse_bars(engine.harmonize(path, alternatives=1)[0])
        assert song.chords == [bar_text(bar) for bar in best][: song.n_bars]
    if lane == "piano":  # every bar opens on the part's own chord
        assert [parse_bar(text)[0] for text in song.chords] == PART_CHART
    if lane == "drums":
        assert song.chords == [None] * 32  # drums name no chord


def test_the_shipped_pack_follows_a_piano_part_and_plays_its_chords(shipped, tmp_path):
    """Measured when written: the band beside the part plays its chords in 97-100 % of bars (seeds 5-8); since the
    guitar may sit a followed piano out (card role_absent, issue 29) 81-94 % a seed, 91 % over seeds 5-8."""
    path, notes = write_part(tmp_path, "piano")
    right = []
    for seed in (5, 6, 7, 8):
        song = shipped.generate(follow=path, seed=seed)
        assert_part_kept(shipped, song, notes, "piano")
        assert [parse_bar(text)[0] for text in song.chords] == PART_CHART
        band = song.notes().copy()
        band[0] = False  # the band without the part: does it play the part's chords?
        right += tones_right(band, PART_CHART, 16)
    assert np.mean(right) >= 0.88, f"the band plays the part's chords in {100 * np.mean(right):.0f} % of bars"


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


def test_a_part_s_chords_rule_over_a_chart_unless_it_is_played_over_the_part(engine, tmp_path):
    path, notes = write_part(tmp_path, "piano", bars=8)
    ruled = engine.generate(follow=path, chords="Dm G", seed=1)  # issue 33: a chart no longer wins silently
    assert ruled.settings["chords"] == "part" and ruled.chords == engine.generate(follow=path, seed=1).chords
    song = engine.generate(follow=path, chords="Dm G", seed=1, chords_over_part=True)  # the musician's choice
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
    assert_plays_chord(bar, [parse_chord("Dm")], take.steps_per_beat)  # Dm's tones, passing notes aside
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


# --- real charts: 7ths, slash chords, passing notes, the voice cap, the chart check (issue 20, session 2) ---
def test_a_7th_chord_s_7th_is_voiced(shipped):
    """Dm7 G7 Cmaj7 Am7 (7ths were voiced as triads): each bar heard as asked, its 7th among the notes."""
    chart = [bar[0] for bar in parse_bars("Dm7 G7 Cmaj7 Am7", bars=16)]
    right = voiced = 0
    for seed in range(4):
        notes = shipped.generate(chords="Dm7 G7 Cmaj7 Am7", steps=3, seed=seed).notes()
        right += sum(tones_right(notes, chart, 16))
        for bar, chord in enumerate(chart):
            seventh = (chord.root + (11 if chord.quality == "maj7" else 10)) % 12
            played = np.flatnonzero(notes[:DRUMS, bar * 16 : (bar + 1) * 16].any(axis=(0, 1))) % 12
            voiced += seventh in played
    assert right >= 0.9 * 64, f"{right} of 64 bars heard as their 7th chord"
    assert voiced >= 0.95 * 64, f"the 7th sounds in {voiced} of 64 bars"


def test_a_slash_chord_s_bass_is_played(shipped, tmp_path):
    """C/E and G/B: the bass strikes the slash note on beat 1, read back from the exported file by pretty_midi."""
    import pretty_midi

    chart = [bar[0] for bar in parse_bars("C C/E F G/B", bars=16)]
    hits = counted = 0
    for seed in range(4):
        song = shipped.generate(chords="C C/E F G/B", steps=3, seed=seed)
        path = write_midi(song, tmp_path / f"slash{seed}.mid")
        midi = pretty_midi.PrettyMIDI(str(path))
        beat = 60.0 / midi.get_tempo_changes()[1][0]
        bass = next(inst for inst in midi.instruments if inst.name.lower() == "bass")
        for bar, chord in enumerate(chart):
            lo = 4 * bar * beat
            first = [n for n in bass.notes if lo - 1e-6 <= n.start < lo + beat - 1e-6]  # struck in beat 1
            if chord.bass is None or not first:
                continue
            counted += 1
            hits += min(first, key=lambda n: (n.start, n.pitch)).pitch % 12 == chord.bass
    assert counted >= 24 and hits == counted, f"slash bass on beat 1 in {hits} of {counted} bars"


def test_passing_notes_are_off_the_beat_short_and_next_to_chord_tones(shipped):
    """A take of a chart keeps some notes off the chord (it is not 100 % chord tones, as real parts are not),
    and every one of them is a passing or neighbour note (assert_plays_chord); every bar heard as asked."""
    from musicvae_app.evaluation.playing_metrics import chord_tone_share

    chart_text = "Am7 Dm7 G7 Cmaj7 Fmaj7 Bm7b5 E7 Am"
    chart = [bar[0] for bar in parse_bars(chart_text, bars=32)]
    shares = []
    for seed in range(3):
        song = shipped.generate(chords=chart_text, steps=7, seed=seed)
        notes = song.notes()
        assert_plays_chord(notes[:DRUMS], chart, song.steps_per_beat)
        assert np.mean(tones_right(notes, chart, 16)) >= 0.9
        shares.append(chord_tone_share(notes, chart, song.steps_per_beat))
    assert min(shares) < 100.0 and min(shares) > 80.0, f"chord tones {shares} %"


def test_the_voice_cap_drops_an_octave_doubling_before_a_third_or_a_seventh(engine):
    """Five piano notes at once, the doubled root likelier than the 7th: held to chords, the doubling goes."""
    from musicvae_app.engine.groove import PIANO, VOICES

    take = np.zeros((len(LANES), 16, 128), dtype=np.float32)
    cells = {48: 0.9, 60: 0.8, 55: 0.7, 64: 0.5, 59: 0.45}  # C3, C4 (a doubling), G3, E4, B3: Cmaj7
    for pitch, p in cells.items():
        take[PIANO, 4, pitch] = p
    free = np.ones((1, len(LANES)), dtype=bool)
    plain = take.copy()
    engine.groove.voices(take, free, np.full(len(LANES), 0.3), 16, doublings_first=True)
    kept = set(np.flatnonzero(take[PIANO, 4]).tolist())
    assert VOICES[PIANO] == 4 and kept == {48, 55, 64, 59}
    engine.groove.voices(plain, free, np.full(len(LANES), 0.3), 16)  # a take without chords: the likeliest four
    assert set(np.flatnonzero(plain[PIANO, 4]).tolist()) == {48, 60, 55, 64}


def test_the_chart_check_mends_a_bar_heard_as_another_chord(engine):
    """A take whose bars play a C triad over an A bass (heard otherwise), asked Cmaj7: after the check each bar
    is heard as Cmaj7 (its 7th voiced from the doubled root, the bass on C on beats 1 and 3); a bar not free
    (a kept part) is left as it was."""
    from musicvae_app.engine.chording import fit_to_chart
    from musicvae_app.sketch.song import Song

    probs = np.zeros((len(LANES), 64, 128), dtype=np.float32)
    for bar in range(4):
        lo = bar * 16
        probs[0, lo : lo + 16, [60, 64, 67, 72]] = 0.9  # piano: C E G C
        probs[LANES.index("bass"), lo : lo + 16 : 4, 45] = 0.9  # bass: A on every beat
    song = Song(probs, 4, 64, threshold=0.5)
    chart = [bar[0] for bar in parse_bars("Cmaj7 Cmaj7 Cmaj7 Cmaj7")]
    assert not any(tones_right(song.notes(), chart, 16))
    free = np.ones((4, len(LANES)), dtype=bool)
    free[3] = False
    before = song.probs[:, 48:].copy()
    fit_to_chart(song, per_beat(chart), free)
    heard = recognize(song.notes(), 16)
    assert all(h.root == 0 and h.quality == "maj7" for h in heard[:3]), symbols(heard)
    assert tones_right(song.notes(), chart, 16) == [True, True, True, False]
    assert np.array_equal(song.probs[:, 48:], before)


def test_a_lineup_that_leaves_out_the_followed_part_is_refused(engine, tmp_path):
    """Issue 32: following a bass part with only drums in the lineup would keep none of it; say so instead."""
    path, _ = write_part(tmp_path, "bass", bars=8)
    with pytest.raises(InvalidValue, match="the part plays bass, which the lineup leaves out"):
        engine.generate(follow=path, lineup="drums", seed=1)
    song = engine.generate(follow=path, lineup="bass,drums", seed=1)
    assert song.notes()[2].any()
