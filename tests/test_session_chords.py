"""The chord lane and sections of a Session, in plain Python (no Qt): what the window's chord lane and
sections strip call."""

from __future__ import annotations

import mido
import numpy as np
import pytest

from musicvae_app.errors import InvalidValue
from musicvae_app.lanes import DRUMS
from musicvae_app.sketch.arrangement import bars_of_text, bars_text
from musicvae_app.sketch.midi import read_chords
from musicvae_app.sketch.session import Session
from musicvae_app.theory.chords import ChordError, parse_chord, recognize
from musicvae_app.theory.sections import Section, SectionError


@pytest.fixture
def session(engine):
    s = Session(engine)
    s.update_settings(steps=3)
    s.set_seed(7)
    return s


def bar_cells(song, bar: int) -> np.ndarray:
    spb = song.steps_per_bar
    return song.probs[:, (bar - 1) * spb : bar * spb]


def test_bar_ranges_round_trip():
    assert bars_text({1, 2, 3, 4, 9, 11, 12}) == "1-4,9,11-12"
    assert bars_of_text("1-4,9,11-12") == {1, 2, 3, 4, 9, 11, 12}
    assert bars_of_text("x,3-,2") == {2}


def test_a_take_without_chords_shows_the_recognized_ones(session):
    session.generate()
    song = session.song
    assert not song.chords  # the tiny pack's take was made without a chart
    lane = session.chord_lane()
    expected = [None if c is None else c.symbol for c in recognize(song.notes(), song.steps_per_bar)]
    assert [symbol for symbol, _ in lane] == expected and len(lane) == song.n_bars
    assert not any(typed for _, typed in lane)
    assert any(symbol for symbol, _ in lane)


def test_a_typed_chord_revoices_that_bar_only_as_one_undo_step(session):
    session.generate()
    before, steps = session.song, session.history.count()
    lane_before = session.chord_lane()
    assert session.set_chord(6, "Dm7")
    after = session.song
    assert session.history.count() == steps + 1 and session.history.undo_text == "Chord Dm7 in bar 6"
    for bar in range(1, before.n_bars + 1):
        same = bar_cells(before, bar).tobytes() == bar_cells(after, bar).tobytes()
        assert same == (bar != 6), f"bar {bar}"
    assert np.array_equal(bar_cells(before, 6)[DRUMS], bar_cells(after, 6)[DRUMS])  # the drums stay
    lane = session.chord_lane()
    assert lane[5] == ("Dm7", True)
    assert [c for c, _ in lane[:5]] == [c for c, _ in lane_before[:5]] and not any(t for _, t in lane[:5])
    heard = recognize(after.notes()[:, 5 * after.steps_per_bar : 6 * after.steps_per_bar], after.steps_per_bar)[0]
    assert heard is not None and set(heard.tones) <= set(parse_chord("Dm7").tones)
    session.set_chord(7, "G7")
    assert [t for _, t in session.chord_lane()][5:7] == [True, True]
    assert session.song.settings["chords_typed"] == "6-7"
    assert session.undo() and session.undo()
    assert session.song is before and session.chord_lane() == lane_before


def test_a_bad_chord_names_the_symbol_and_bar_and_changes_nothing(session):
    session.generate()
    before, steps = session.song, session.history.count()
    with pytest.raises(ChordError, match="'Hx7' in bar 3"):
        session.set_chord(3, "Hx7")
    with pytest.raises(InvalidValue, match="bar"):
        session.set_chord(99, "C")
    with pytest.raises(ChordError, match="'Q' in bar 2"):
        session.set_chords("Am Q C G")
    assert session.song is before and session.history.count() == steps and session.chart is None


def test_a_chart_typed_before_generate_is_played_and_then_retyped(session):
    assert session.set_chords("| Am | F | C | G |")
    assert session.chart == "| Am | F | C | G |" and session.song is None
    session.generate()
    song = session.song
    assert song.chords == ["Am", "F", "C", "G"] * 4 and all(typed for _, typed in session.chord_lane())
    steps = session.history.count()
    session.set_chords("Am F C G Dm G C C")
    new = session.song
    assert session.history.count() == steps + 1 and new.chords == ["Am", "F", "C", "G", "Dm", "G", "C", "C"] * 2
    for bar in range(1, 17):  # only bars whose chord changed are voiced again
        same = bar_cells(song, bar).tobytes() == bar_cells(new, bar).tobytes()
        assert same == (song.chords[bar - 1] == new.chords[bar - 1]), bar
    assert session.chart_text() == "Am F C G Dm G C C"
    session.undo()
    assert session.song is song
    session.set_chords("")
    assert session.chart is None and session.song is song


def test_a_chart_reads_as_everywhere_else_chords_between_bar_lines_share_the_bar(session):
    """Issue 33: the window's chart goes through the one parser (chords.parse_bars): 'Am F C G | Dm G C C' is two
    bars of a chord a beat, '| C Am | F G |' two a bar, without bar lines one chord a bar."""
    session.generate()
    session.set_chords("Am F C G | Dm G C C")
    assert session.song.chords == ["Am F C G", "Dm G C ."] * 8  # a held beat written as the chart writes it
    assert session.generation_args()["chords"] == "Am F C G | Dm G C C"
    session.set_chords("| C Am | F G |")
    assert session.song.chords == ["C Am", "F G"] * 8
    assert [c for c, _ in session.chord_lane()][:2] == ["C Am", "F G"]
    assert session.chart_text() == "| C Am | F G |"
    with pytest.raises(ChordError, match="bar 2 of the chart has 5 chords"):
        session.set_chords("| Am | F C G E D |")  # at most one a beat, else it says which bar
    session.set_chord(3, "Dm7 G7")  # one bar's two halves, typed in the lane
    assert session.song.chords[2] == "Dm7 G7" and session.song.chords[3] == "F G"


def test_an_old_sketch_files_chart_in_lines_keeps_its_meaning(session):
    """A chart saved before sub-bar charts ('Am F C G | Dm G C C' read then as eight bars) reads as eight bars."""
    session.restore_arrangement({"chart": "Am F C G | Dm G C C"})
    assert session.chart == "| Am | F | C | G | Dm | G | C | C |"
    session.restore_arrangement({"chart": "| C Am | F G |", "chart_syntax": 2})
    assert session.chart == "| C Am | F G |"


def test_a_chart_of_no_chord_never_sticks_failing_generate(session):
    """Issue 33: 'N.C.' alone is a chart (the band rests but the drums); Generate plays it, and a chart that no
    longer reads is dropped with a word, not failed on every Generate."""
    assert session.set_chords("N.C.")
    session.generate()
    song = session.song
    assert song.chords == [None] * song.n_bars and song.settings["chords"] == "asked"
    notes = song.notes()
    assert not notes[:4].any() and notes[4].any()  # pitched lanes rest on N.C., the drums play
    session.arrangement.chart = "Am Q"  # as a stale chart would be
    session.generate()
    assert session.chart is None and session.song is not song


def test_chords_and_sections_are_saved_and_exported(session, tmp_path):
    session.set_chords("Am F C G")
    session.generate()
    session.set_chord(2, "Dm")
    session.set_sections([("verse", 1, 8), ("chorus", 9, 8)])
    assert [s.name for s in session.song.sections] == ["verse", "chorus"]
    path = tmp_path / "s.mvsketch"
    assert session.save(path)
    back = Session.open(path, session.engine)
    assert back.song.chords == session.song.chords and back.chord_lane() == session.chord_lane()
    assert back.sections() == session.sections() and back.chart == "Am F C G"
    out = session.export_midi(tmp_path / "s.mid")
    texts = [m.text for m in mido.merge_tracks(mido.MidiFile(out).tracks) if m.type == "marker"]
    assert "Verse" in texts and "Chorus" in texts and "Dm" in texts
    assert read_chords(out, session.song.steps_per_beat) == session.song.chords


def test_sections_are_one_undo_step_and_the_next_generate_plays_them(session):
    session.generate()
    take, steps = session.song, session.history.count()
    session.set_sections([("chorus", 1, 4), ("verse", 5, 4), ("chorus", 9, 4)])
    assert session.history.count() == steps + 1 and session.song.equal_notes(take)
    assert session.song.probs is take.probs  # marking sections changes no note
    session.mark_section("bridge", 6, 7)
    assert [(s.name, s.start, s.bars) for s in session.sections()] == [
        ("chorus", 1, 4),
        ("verse", 5, 1),
        ("bridge", 6, 2),
        ("verse", 8, 1),
        ("chorus", 9, 4),
    ]
    session.undo()
    assert [s.name for s in session.sections()] == ["chorus", "verse", "chorus"]
    session.generate()
    assert [s.name for s in session.song.sections] == ["chorus", "verse", "chorus"]
    with pytest.raises(SectionError, match="'verse' starts at bar 3, inside 'intro'"):
        session.set_sections([("intro", 1, 4), ("verse", 3, 4)])


def test_a_form_longer_than_the_take_makes_the_next_generate_longer(session):
    session.generate()
    take = session.song
    assert take.n_bars == 16
    session.set_form("intro 4 verse 8 chorus 8 verse 8 chorus 8 outro 4")
    assert session.song is take and not take.sections  # kept for the next Generate
    assert session.sections()[-1] == Section("outro", 37, 4)
    assert session.generation_args()["steps"] == 9
    session.generate()
    assert session.song.n_bars == 40 and session.song.sections[-1] == Section("outro", 37, 4)
    spb = session.song.steps_per_bar
    first, again = session.song.notes()[:, 12 * spb : 20 * spb], session.song.notes()[:, 28 * spb : 36 * spb]
    assert not np.array_equal(first, again)


def test_a_form_kept_for_the_next_generate_is_saved_with_the_sketch(session, tmp_path):
    session.generate()
    session.set_form("intro 4, verse 8, chorus 8, verse 8, chorus 8")  # 36 bars: longer than the 16-bar take
    assert not session.song.sections and session.sections()[-1].end == 36
    assert session.save(tmp_path / "s.mvsketch")
    back = Session.open(tmp_path / "s.mvsketch", session.engine)
    assert back.sections() == session.sections() and not back.song.sections
    back.generate()
    assert back.song.n_bars == 36 and back.song.sections == session.sections()
    back.undo()  # the form stays with the take it was typed on
    assert back.sections() == session.sections()


@pytest.mark.parametrize("bad", [float("nan"), "two", 2.5, None])
def test_a_section_mark_with_a_bar_that_is_no_number_is_the_apps_own_error(session, bad):
    """Issue 32: scripts calling mark_section get an InvalidValue naming the bar, and nothing changes."""
    from musicvae_app.errors import InvalidValue

    session.generate()
    before = session.song.sections
    with pytest.raises(InvalidValue, match="bar"):
        session.mark_section("bridge", bad, 3)
    assert session.song.sections == before
