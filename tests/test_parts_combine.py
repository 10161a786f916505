"""Parts, charts, form and record combine as a musician expects (issue 33, item 4), in the session (no Qt).

- a chart typed earlier no longer wins silently over a part followed later: the part's chords rule unless the
  musician chose to play the chart over it; the chord lane says which, and names the bars that clash;
- Record adds a part (one lane each, each kept) to the take on screen; Undo removes it wholly and nothing
  follows it any more;
- a followed part works with a song form longer than itself (it goes round again);
- bad input (a melody with no notes, drums only to harmonize, a part too long) is said; the sketch stays.
"""

from __future__ import annotations

import numpy as np
import pytest

from band_files import read_back, write_notes
from musicvae_app.errors import InvalidValue
from musicvae_app.playback.recorder import PlayedNote, Recording
from musicvae_app.sketch.session import Session
from musicvae_app.sketch.song import LANES
from musicvae_app.theory.chords import parse_bars
from musicvae_app.theory.clash import bar_clashes, clash_bars

PIANO, GUITAR, BASS, DRUMS = (LANES.index(n) for n in ("piano", "guitar", "bass", "drums"))
TRIADS = {"C": (60, 64, 67), "Am": (57, 60, 64), "F": (53, 57, 60), "G": (55, 59, 62), "D": (50, 54, 57)}
TRIADS["Em"] = (52, 55, 59)


def comp(folder, chords: list[str], name: str = "comp.mid", tempo: float = 100):
    """A piano part: each bar's triad struck on beats 1 and 3, held two beats."""
    notes = [
        (0, 0, p, 4 * bar + beat, 4 * bar + beat + 2)
        for bar, chord in enumerate(chords)
        for beat in (0, 2)
        for p in TRIADS[chord]
    ]
    return write_notes(folder / name, notes, tempo=tempo)


def errors_of(session):
    seen: list = []
    session.listen(lambda event, *args: seen.append(args) if event == "error" else None)
    return seen


def test_the_part_s_chords_rule_over_a_chart_typed_earlier_unless_asked(session, tmp_path):
    session.set_chords("C Am F G")  # typed before the part is followed
    assert session.follow_part(comp(tmp_path, ["G", "D", "Em", "C"]))
    assert session.generate()
    song = session.song
    assert song.settings["chords"] == "part" and song.chords[:4] != ["C", "Am", "F", "G"]
    kind, words = session.chord_source()
    assert kind == "part" and "from your part" in words and "your chart is not played" in words
    assert session.chart_clashes() == [1, 2, 3, 4]  # G D Em C under C Am F G: every bar
    session.set_chords_over_part(True)  # the musician's choice: their chart over the part
    assert session.generate()
    assert session.song.chords[:4] == ["C", "Am", "F", "G"] and session.song.settings["chords"] == "asked"
    assert session.chord_source()[0] == "chart over part"
    assert session.chart_clashes() == [1, 2, 3, 4]
    path = tmp_path / "s.mvsketch"
    session.save(path)  # the choice is kept with the sketch
    assert Session.open(path, session.engine).chords_over_part is True


def test_only_the_bars_that_clash_are_marked(session, tmp_path):
    assert session.follow_part(comp(tmp_path, ["C", "Am", "F", "G"]))
    assert session.generate()
    session.arrangement.chart = "C Am Em G"  # bar 3: F A C under Em (E G B): nothing in common
    assert session.chart_clashes() == [3]
    session.arrangement.chart = "C Am Dm G"  # bar 3: F A C under Dm (D F A): two of three tones shared
    assert session.chart_clashes() == []


def test_the_clash_measure_beat_by_beat():
    roll = np.zeros((5, 16, 128), bool)  # one bar at 4 steps a beat: C E G for two beats, then B D F
    roll[PIANO, 0:8, [60, 64, 67]] = True
    roll[PIANO, 8:16, [59, 62, 65]] = True
    assert clash_bars(bar_clashes(parse_bars("| C G7 |"), roll, [PIANO], 4)) == []
    shares = bar_clashes(parse_bars("| C |"), roll, [PIANO], 4)  # half the bar on B D F, outside C: a clash
    assert shares[0] == pytest.approx(0.5) and clash_bars(shares) == [1]
    assert bar_clashes(parse_bars("Am"), roll, [PIANO], 4)[0] == pytest.approx(4 / 6)  # only C and E are in Am
    assert bar_clashes(parse_bars("C"), roll, [DRUMS], 4) == [None]  # drums have no harmony to clash


def test_record_adds_a_part_and_undo_removes_it_wholly(session, engine, tmp_path):
    assert session.follow_part(comp(tmp_path, ["C", "Am", "F", "G"] * 2))
    assert session.generate()
    before = session.song
    beat = 60.0 / before.tempo
    played = [PlayedNote(40 + (k % 5), 60 + k, k * beat / 2 + 0.013, k * beat / 2 + 0.2) for k in range(24)]
    path = session.follow_recording(Recording(GUITAR, before.tempo, played), tmp_path / "rec")
    song = session.song
    assert path is not None and session.history.undo_text == "Record guitar"
    assert song.n_bars == before.n_bars  # the song is not cut to the recording
    assert sorted(session.part_lanes()) == [PIANO, GUITAR] and song.settings["recorded"] == "guitar"
    assert np.array_equal(song.notes()[[BASS, DRUMS]], before.notes()[[BASS, DRUMS]])  # the band stays
    got = read_back(session.export_midi(tmp_path / "with-guitar.mid"))
    ticks = before.tempo / 60 * 480
    assert got[1] == [(n.pitch, round(n.start * ticks), round(n.end * ticks), n.velocity) for n in played]
    assert got[0] == read_back(session.export_midi(tmp_path / "x.mid"))[0]  # the piano part as before
    # a second recording on another lane: both kept, one lane each
    bass = [PlayedNote(36, 90, k * beat, k * beat + 0.3) for k in range(8)]
    session.follow_recording(Recording(BASS, before.tempo, bass), tmp_path / "rec")
    assert sorted(session.part_lanes()) == [PIANO, GUITAR, BASS]
    # the next Generate makes the band around all of them
    assert session.generate()
    new = session.song
    assert sorted(session.part_lanes(new)) == [PIANO, GUITAR, BASS] and new.settings["recorded"] == "guitar,bass"
    assert np.array_equal(new.notes()[GUITAR], song.notes()[GUITAR])
    assert read_back(session.export_midi(tmp_path / "again.mid"))[1] == got[1]
    # Undo three times: back to the take before any recording, and Generate no longer follows them
    session.undo(), session.undo(), session.undo()
    assert session.song is before and session.recorded_part() is None
    assert session.generate() and session.part_lanes() == [PIANO]


def test_record_with_no_take_follows_the_recording_and_stop_following_stops_it(session, tmp_path):
    played = [PlayedNote(48 + k, 80, k * 0.5, k * 0.5 + 0.4) for k in range(8)]
    assert session.follow_recording(Recording(BASS, 120.0, played), tmp_path / "rec") is not None
    assert session.song is not None and session.part_lanes() == [BASS]
    session.stop_following()
    assert session.generate() and session.part_lanes() == []


def test_a_followed_part_goes_round_a_longer_form(session, tmp_path):
    path = comp(tmp_path, ["C", "Am", "F", "G"])  # four bars
    assert session.follow_part(path)
    session.set_form("verse 8 chorus 8")
    errors = errors_of(session)
    assert session.generate() and not errors
    song = session.song
    assert song.n_bars == 16 and [s.name for s in song.sections] == ["verse", "chorus"]
    got = read_back(session.export_midi(tmp_path / "form.mid"))[0]
    once = read_back(path)[0]
    assert got == [(p, s + k * 16 * 480, e + k * 16 * 480, v) for k in range(4) for p, s, e, v in once]


def test_bad_parts_are_said_and_the_sketch_stays(session, engine, tmp_path):
    assert session.generate()
    song, errors = session.song, errors_of(session)
    empty = write_notes(tmp_path / "empty.mid", [], tempo=100)
    assert not session.follow_part(empty)
    assert "has no notes to follow" in errors[-1][1] and session.song is song and session.part is None
    with pytest.raises(InvalidValue, match="no notes"):
        engine.harmonize(empty)  # a melody with no notes
    drums = write_notes(tmp_path / "drums.mid", [(9, 0, 36, b, b + 0.25) for b in range(8)], tempo=100)
    with pytest.raises(InvalidValue, match="only drums"):
        engine.harmonize(drums)
    long = write_notes(tmp_path / "long.mid", [(0, 0, 60, 0, 1), (0, 0, 62, 4 * 4200, 4 * 4200 + 1)], tempo=300)
    assert not session.follow_part(long)
    assert "more than the" in errors[-1][1] and session.song is song
    # a recording longer than a sketch may hold: said, the file kept, the take as it was
    many = [PlayedNote(60, 90, k * 0.05, k * 0.05 + 0.04) for k in range(4)] + [PlayedNote(62, 90, 30000.0, 30000.5)]
    kept = session.follow_recording(Recording(PIANO, 120.0, many), tmp_path / "rec")
    assert kept is not None and kept.exists() and session.song is song
    assert errors[-1][0] == "Recording not added" and "longer than" in errors[-1][1]


def test_a_key_asked_with_scale_lock_starts_on_its_tonic_with_the_shipped_pack():
    """E minor with scale lock used to come out as C / G / D (its relative major's harmony, no Em)."""
    from musicvae_app.engine import Engine
    from musicvae_app.theory.chords import recognize

    engine = Engine.load(device="cpu")
    for key, (root, minor) in (("E minor", (4, True)), ("G major", (7, False))):
        for seed in (0, 1):
            song = engine.generate(steps=1, key=key, scale_lock=True, seed=seed)
            first = recognize(song.notes(), song.steps_per_bar)[0]
            assert first is not None and first.root == root, (key, seed, first)
            assert first.quality.startswith("m") == minor and song.settings["key"] == key


def test_the_cli_says_the_part_s_chords_rule_and_plays_the_chart_over_it_when_asked(tiny_pack, tmp_path, capsys):
    from musicvae_app.cli import main
    from musicvae_app.sketch.midi import read_chords, read_settings

    part = comp(tmp_path, ["G", "D", "Em", "C"])
    base = ["generate", "--pack", str(tiny_pack), "--follow", str(part), "--chords", "C Am F G", "--seed", "2"]
    assert main([*base, "--out", str(tmp_path / "a.mid")]) == 0
    assert "the part's own chords rule over --chords" in capsys.readouterr().err
    assert read_settings(tmp_path / "a.mid")["chords"] == "part"
    assert main([*base, "--chords-over-part", "--out", str(tmp_path / "b.mid")]) == 0
    assert read_settings(tmp_path / "b.mid")["chords"] == "asked"
    assert read_chords(tmp_path / "b.mid", 2)[:4] == ["C", "Am", "F", "G"]
