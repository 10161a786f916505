"""The harmony model's readings of your part on the chord lane (issue 33, item 1), in the session (no Qt).

A followed part comes with a few readings (Engine.harmonize, best first); the musician flips the whole chart
between them or picks one bar's chord from any of them (a mixed chart). Each is one undo step that re-voices the
band from its own latents and never touches the part; the sketch file keeps it and the next Generate plays it.
Bad cases (no take, no part, drums only, a harmony model that fails) are said and change nothing.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_parts_combine import comp

from band_files import read_back, write_notes
from musicvae_app.engine import Engine
from musicvae_app.engine.harmonizing import ALTERNATIVES
from musicvae_app.model.pack import load_pack
from musicvae_app.sketch.choices import CHOSEN_KEY, READINGS, bar_texts, reading_bars
from musicvae_app.sketch.session import Session
from musicvae_app.sketch.sketchfile import SUFFIX
from musicvae_app.sketch.song import LANES
from musicvae_app.theory import harmony
from musicvae_app.theory.chords import parse_bars

PIANO, DRUMS = LANES.index("piano"), LANES.index("drums")
# a tune over C Am F G | C Em F G: chord tones on the beats, passing notes between
TUNE = [
    (67, 64, 62, 64),
    (69, 72, 71, 69),
    (65, 69, 67, 65),
    (67, 71, 74, 71),
    (72, 67, 64, 67),
    (64, 67, 71, 69),
    (69, 65, 60, 65),
    (62, 67, 71, 74),
]


def tune(folder, name: str = "tune.mid", times: int = 1):
    notes = [
        (0, 0, p, 4 * bar + beat, 4 * bar + beat + 0.9)
        for bar, ps in enumerate(TUNE * times)
        for beat, p in enumerate(ps)
    ]
    return write_notes(folder / name, notes, tempo=96)


def said(session) -> list[tuple]:
    seen: list = []
    session.listen(lambda event, *args: seen.append((event, *args)) if event in ("status", "error") else None)
    return seen


def followed(session, path) -> None:
    assert session.follow_part(path)
    assert session.generate()
    assert session.part_lanes() == [PIANO]


def part_of(session, song=None):
    song = session.song if song is None else song
    return song.notes()[PIANO].copy(), song.performance.only([PIANO]).notes.copy()


def test_a_followed_part_comes_with_its_readings_best_first(session, engine, tmp_path):
    followed(session, tune(tmp_path))
    song = session.song
    charts = session.chord_alternatives()
    assert len(charts) == 3 and len(set(charts)) == 3  # three distinct charts, each a chart the app reads
    assert charts == engine.harmonize(tune(tmp_path, "again.mid"), alternatives=3)  # the model's own, best first
    assert all(len(parse_bars(c)) == song.n_bars for c in charts)
    assert bar_texts(song) == reading_bars(charts[0], song.n_bars)  # the band plays the best one
    assert session.chosen_alternative() == 0
    assert session.chord_source()[0] == "part"
    assert session.bar_alternatives(2) == [reading_bars(c, song.n_bars)[1] for c in charts]


def test_a_followed_generate_runs_the_harmony_model_once_with_the_same_readings(engine, tmp_path, monkeypatch):
    """The band's chords and the chord lane's readings come from one run of the model on the part (kept by the
    engine's Harmonizer); they are what a fresh model reads, and the band plays the best one."""
    assert READINGS == ALTERNATIVES  # the chord lane asks for as many readings as the band's chords are read with
    fresh = Engine.load(engine.pack, one_song_threads=1)  # nothing kept yet
    model = fresh.harmonizer.model
    runs, real = [], model.harmonize
    monkeypatch.setattr(model, "harmonize", lambda *args, **kwargs: runs.append(1) or real(*args, **kwargs))
    session = Session(fresh)
    session.update_settings(steps=1)
    followed(session, tune(tmp_path))
    assert len(runs) == 1
    charts = session.chord_alternatives()
    read = harmony.HarmonyModel.load().harmonize(
        fresh.harmonizer.note_events(fresh.read_part(tune(tmp_path, "b.mid"))), alternatives=3, bars=session.song.n_bars
    )
    assert charts == read.charts and len(charts) == 3
    assert bar_texts(session.song) == reading_bars(charts[0], session.song.n_bars)
    assert session.generate() and len(runs) == 1  # the same part again: nothing to run


def test_flipping_the_whole_chart_is_one_undo_step_and_never_touches_the_part(session, tmp_path):
    followed(session, tune(tmp_path, times=2))  # 16 bars: readings that differ past the primer's bars
    first, part = session.song, part_of(session)
    charts, steps = session.chord_alternatives(), session.history.count()
    band = [i for i in range(len(LANES)) if i not in (PIANO, DRUMS)]
    per_chunk = first.n_bars // first.n_chunks
    primed = {b for b in range(first.n_bars) if first.chunks[b // per_chunk][band[0]].source == "primer"}
    readings = [reading_bars(c, first.n_bars) for c in charts]
    # the reading to flip to: one that changes a bar past the primer (the primer's bars are kept as they are)
    index = next(i for i in (1, 2) if any(readings[i][b] != readings[0][b] for b in set(range(first.n_bars)) - primed))
    assert session.use_alternative(index)
    song = session.song
    assert session.history.count() == steps + 1 and session.history.undo_text == f"Chords: reading {index + 1} of 3"
    assert bar_texts(song) == readings[index] and session.chosen_alternative() == index
    assert song.settings["chords"] == "asked" and song.settings[CHOSEN_KEY] == str(index + 1)
    kind, words = session.chord_source()
    assert kind == "picked" and "your pick among the readings of your part" in words
    mine = part_of(session)
    assert np.array_equal(mine[0], part[0]) and np.array_equal(mine[1], part[1])  # the part exactly as played
    changed = [b for b in range(song.n_bars) if bar_texts(song)[b] != bar_texts(first)[b]]
    spb = song.steps_per_bar
    unchanged = [b for b in range(song.n_bars) if b not in changed or b in primed]
    for b in unchanged:  # bars whose chord stays, and the primer's, are bit-identical
        assert np.array_equal(song.probs[:, b * spb : (b + 1) * spb], first.probs[:, b * spb : (b + 1) * spb])
    assert changed and np.array_equal(song.probs[DRUMS], first.probs[DRUMS])
    assert any(
        not np.array_equal(song.probs[band, b * spb : (b + 1) * spb], first.probs[band, b * spb : (b + 1) * spb])
        for b in changed
        if b not in primed
    )
    # Undo: the best reading again, as the part's own chords; Redo: the pick again
    assert session.undo() and session.song is first and session.chosen_alternative() == 0
    assert session.redo() and session.song is song and session.chosen_alternative() == index
    # back to the best: the part's chords rule again
    assert session.use_alternative(0)
    assert session.song.settings["chords"] == "part" and CHOSEN_KEY not in session.song.settings
    assert session.chosen_alternative() == 0 and session.chord_source()[0] == "part"


def test_the_readings_stay_through_a_quantize_change_and_a_density_change(session, tmp_path):
    followed(session, tune(tmp_path))
    charts = session.chord_alternatives()
    session.set_quantize("8th")
    session.set_density("piano", 0.5)
    assert session.chord_alternatives() == charts and session.chosen_alternative() == 0


def test_a_bar_picked_from_another_reading_makes_a_mixed_chart(session, tmp_path):
    followed(session, tune(tmp_path))
    song = session.song
    readings = [reading_bars(c, song.n_bars) for c in session.chord_alternatives()]
    bar, index = next((b + 1, i) for b in range(song.n_bars) for i in (1, 2) if readings[i][b] != readings[0][b])
    steps = session.history.count()
    assert session.pick_chord(bar, index)
    new = session.song
    want = list(readings[0])
    want[bar - 1] = readings[index][bar - 1]
    assert bar_texts(new) == want and session.history.count() == steps + 1
    assert session.history.undo_text.startswith(f"Bar {bar}: ")
    if want not in readings:  # a chart no single reading gives
        assert session.chosen_alternative() == -1 and new.settings[CHOSEN_KEY] == "mixed"
    assert session.bar_alternatives(bar)[index] == bar_texts(new)[bar - 1]
    # the same pick again changes nothing and says so
    seen = said(session)
    assert session.pick_chord(bar, index) and session.song is new and "already plays it" in seen[-1][1]


def test_the_next_generate_plays_the_pick_over_the_same_part(session, tmp_path):
    followed(session, tune(tmp_path))
    part = part_of(session)
    assert session.use_alternative(2)
    picked = bar_texts(session.song)
    args = session.generation_args()
    assert args["chords_over_part"] is True and reading_bars(args["chords"], len(picked)) == picked
    assert session.generate()
    new = session.song
    assert bar_texts(new) == picked and new.settings[CHOSEN_KEY] == "3" and session.chosen_alternative() == 2
    mine = part_of(session)
    assert np.array_equal(mine[0], part[0]) and np.array_equal(mine[1], part[1])
    # Regenerate a lane: the take's chords (the pick) stay
    assert session.regenerate_lane("bass") and bar_texts(session.song) == picked
    # a different part followed: its own chords, not the pick
    followed(session, comp(tmp_path, ["G", "D", "Em", "C"] * 2))
    assert session.song.settings["chords"] == "part" and session.chosen_alternative() == 0


def test_the_pick_is_saved_in_the_sketch_and_harmonize_brings_the_readings_back(session, engine, tmp_path):
    followed(session, tune(tmp_path))
    assert session.use_alternative(1)
    picked = bar_texts(session.song)
    path = tmp_path / ("picked" + SUFFIX)
    assert session.save(path)
    again = Session.open(path, engine)
    assert bar_texts(again.song) == picked and again.song.settings[CHOSEN_KEY] == "2"
    assert again.chord_source()[0] == "picked"
    assert again.regenerate_lane("strings") and bar_texts(again.song) == picked  # the take's chords play on
    assert "chords_over_part" not in again.generation_args()  # no part followed: Generate makes a whole band
    assert again.follow_part(tmp_path / "tune.mid")  # the same part followed again: Generate plays the pick over it
    args = again.generation_args()
    assert args["chords_over_part"] is True and reading_bars(args["chords"], len(picked)) == picked
    steps = again.history.count()
    assert again.harmonize_part()
    assert again.history.count() == steps and again.chosen_alternative() == 1  # shown, nothing re-voiced
    assert len(again.chord_alternatives()) == 3


def test_harmonize_my_part_plays_the_best_reading_where_the_take_plays_none(session, tmp_path):
    followed(session, tune(tmp_path))
    session.set_chords("| D | D | D | D | D | D | D | D |")  # a typed chart, played over the part
    assert session.chosen_alternative() is None
    steps = session.history.count()
    assert session.harmonize_part()
    assert session.history.count() == steps + 1 and session.history.undo_text == "Harmonize my part"
    assert session.chosen_alternative() == 0 and session.song.settings["chords"] == "part"
    assert session.undo() and bar_texts(session.song) == ["D"] * session.song.n_bars


def test_a_pick_wins_over_a_typed_chart_played_over_the_part_which_waits(session, tmp_path):
    followed(session, tune(tmp_path))
    session.set_chords("| D | D | D | D | D | D | D | D |")
    session.set_chords_over_part(True)
    seen = said(session)
    assert session.use_alternative(1)
    assert session.chart == "| D | D | D | D | D | D | D | D |" and session.chords_over_part is False
    assert "your typed chart waits" in seen[-1][1]
    args = session.generation_args()
    assert args["chords_over_part"] is True and "D |" not in args["chords"]


def test_bad_cases_are_said_and_nothing_changes(session, engine, tiny_pack, tmp_path, monkeypatch):
    seen = said(session)
    assert not session.harmonize_part() and "no sketch yet" in seen[-1][1]
    assert not session.use_alternative(0) and "no sketch yet" in seen[-1][1]
    assert session.generate()  # a band with no part of the musician's
    song, steps = session.song, session.history.count()
    assert not session.harmonize_part() and "no part of yours" in seen[-1][1]
    assert not session.pick_chord(1, 0) and session.song is song and session.history.count() == steps
    # a drums-only part: followed, but there is no harmony to read
    drums = write_notes(tmp_path / "drums.mid", [(9, 0, 36, b, b + 0.25) for b in range(32)], tempo=100)
    assert session.follow_part(drums) and session.generate()
    song, steps = session.song, session.history.count()
    assert session.chord_alternatives() == []
    assert not session.harmonize_part() and "only drums" in seen[-1][1]
    assert session.song is song and session.history.count() == steps
    # readings out of range are refused naming the range
    followed(session, tune(tmp_path))
    with pytest.raises(ValueError, match="reading"):
        session.use_alternative(3)
    with pytest.raises(ValueError, match="bar"):
        session.pick_chord(99, 0)
    # a harmony model that cannot load: said, the take and the part as they were
    broken = tmp_path / "missing" / "harmony.npz"  # the weights are not where they should be
    real_load = harmony.HarmonyModel.load.__func__
    monkeypatch.setattr(harmony.HarmonyModel, "load", classmethod(lambda cls, path=None: real_load(cls, broken)))
    other = Session(Engine.load(load_pack(tiny_pack), device="cpu"))
    other.restore(session.snapshot(), "Open")
    seen = said(other)
    song, steps = other.song, other.history.count()
    assert not other.chord_alternatives()
    other.harmonize_part()
    errors = [s for s in seen if s[0] == "error"]
    assert errors and errors[-1][1] == "Harmonize my part failed" and str(broken) in errors[-1][2]
    assert other.song is song and other.history.count() == steps
    # the same model failing during a Generate that follows a part: the band is made, and the missing readings said
    assert other.follow_part(tmp_path / "tune.mid") and other.generate()
    assert other.song is not song and other.chord_alternatives() == []
    notes = [s for s in seen if s[0] == "status" and s[1].startswith("No chord alternatives for your part")]
    assert notes and str(broken) in notes[-1][1]
    got = read_back(other.export_midi(tmp_path / "still.mid"))[0]
    assert got == read_back(tune(tmp_path, "once.mid"))[0]
