"""Issue 32, round 3 at the edges: forms typed with odd digits, charts of any accepted length through Save and
reopen, a chart longer than the song said, a form longer than a followed part said with its reason, and a part
file read once per operation (counted with an audit hook on the file's opens)."""

from __future__ import annotations

import json
import sys
import zipfile

import pytest

from band_files import write_notes
from musicvae_app.cli import main
from musicvae_app.sketch import sketchfile
from musicvae_app.sketch.arrangement import bars_of_text, bars_text
from musicvae_app.sketch.session import Session
from musicvae_app.theory.chords import MAX_CHART_BARS, MAX_CHART_CHARS, ChordError, chart_cut, parse_bars
from musicvae_app.theory.sections import SectionError, parse_form

CHORDS = ("Am", "F", "C", "G", "Dm7", "E7", "Fmaj7", "Bb", "C/E", "G7sus4", "Ebdim7", "Abmaj9")


def long_chart(bars: int) -> str:
    """A chart of `bars` bars that never repeats its first bars exactly at a period (so nothing is lost unseen)."""
    return " ".join(CHORDS[(i * 7 + i // 12) % len(CHORDS)] for i in range(bars))


def events_of(session: Session) -> list[tuple]:
    seen: list[tuple] = []
    session.listen(lambda event, *args: seen.append((event, *args)))
    return seen


# --- 1. a form typed with a digit that is not 0-9 ----------------------------------------------------------
@pytest.mark.parametrize("token", ["²", "½", "⑧", "8²", "٣٣٣٣٣٣٣٣٣٣"])
def test_a_form_with_an_odd_number_is_refused_naming_the_token(token):
    with pytest.raises(SectionError) as err:
        parse_form(f"intro {token} verse 8")
    text = str(err.value)
    assert repr(token) in text and "intro 4 verse 8 chorus 8" in text


def test_digits_of_other_scripts_read_as_bars_and_huge_numbers_are_refused():
    assert [(s.name, s.bars) for s in parse_form("intro ４ verse ٨")] == [("intro", 4), ("verse", 8)]
    with pytest.raises(SectionError, match=r"more bars than a sketch holds \(4096\)"):
        parse_form("intro " + "9" * 5000)  # int() of 5000 digits raises its own ValueError: never reached


def test_the_session_and_the_form_dialog_say_it(qtbot, window):
    with pytest.raises(SectionError, match="'²'"):
        window.session.set_form("intro ² verse 8")
    window.arrangement.form_dialog().field.setText("intro ² verse 8")
    window.arrangement.dialog.accept()
    assert "'²' in the form is not a number of bars" in (window.last_error or "")
    assert window.session.sections() == []


# --- 2. a chart of any accepted length survives Save and reopen ----------------------------------------------
def test_the_longest_chart_survives_save_and_reopen_and_a_longer_one_is_refused_at_entry(engine, tmp_path):
    session = Session(engine)
    session.update_settings(steps=1)
    assert session.generate()
    chart = long_chart(MAX_CHART_BARS)
    assert len(chart) > 4096 * 4  # far past the 4,096 characters the loader once kept
    seen = events_of(session)
    assert session.set_chords(chart)
    said = [args[0] for event, *args in seen if event == "status"]
    assert any(f"bars 9-{MAX_CHART_BARS} of the chart are not played" in s for s in said), said
    path = tmp_path / "long.mvsketch"
    assert session.save(path)
    back = Session.open(path, engine)
    assert back.chart == chart and back.last_error is None
    assert [b[0].symbol for b in parse_bars(back.chart)] == chart.split()
    with pytest.raises(ChordError, match=f"more than the longest sketch \\({MAX_CHART_BARS} bars\\)"):
        session.set_chords(long_chart(MAX_CHART_BARS + 1))
    with pytest.raises(ChordError, match="characters, more than the 262,144 a chart may be"):
        session.set_chords("Am " * (MAX_CHART_CHARS // 3 + 1))  # spaces between bars are no characters of it
    assert session.chart == chart  # a refused chart changes nothing


def test_a_sketch_whose_chart_cannot_be_kept_opens_and_says_so(engine, tmp_path):
    session = Session(engine)
    session.update_settings(steps=1)
    assert session.generate() and session.set_chords("Am F C G")
    path = tmp_path / "s.mvsketch"
    assert session.save(path)
    for chart, said in (("Am " * (MAX_CHART_CHARS // 3 + 1), "characters; a chart is at most"), ("Am Hb7", "Hb7")):
        bad = tmp_path / "bad.mvsketch"
        with zipfile.ZipFile(path) as z:
            members = {name: z.read(name) for name in z.namelist()}
        header = json.loads(members["sketch.json"])
        header["settings"]["generation"]["chart"] = chart
        members["sketch.json"] = json.dumps(header).encode()
        with zipfile.ZipFile(bad, "w") as z:
            for name, data in members.items():
                z.writestr(name, data)
        other = Session(engine)
        seen = events_of(other)
        assert other.open_sketch(bad)
        errors = [args for event, *args in seen if event == "error"]
        assert len(errors) == 1 and "the chord chart" in errors[0][1] and said in errors[0][1], errors
        assert other.chart is None and other.song is not None


def test_typed_bars_of_a_long_song_survive_save_and_reopen(engine, tmp_path):
    session = Session(engine)
    session.update_settings(steps=1)
    assert session.generate()
    typed = bars_text(range(1, 4096, 2))  # every other bar of the longest sketch: far past 256 characters
    assert len(typed) > 4096 and bars_of_text(typed) == set(range(1, 4096, 2))
    song = session.song
    song.settings = song.settings.replace(chords_typed=typed)
    path = sketchfile.save(sketchfile.Sketch([song]), tmp_path / "typed.mvsketch")
    assert sketchfile.load(path).takes[0].settings["chords_typed"] == typed
    assert bars_of_text("²,3") == {3} and bars_of_text("9" * 5000) == set()  # unreadable reads as no bars


def test_a_chart_longer_than_the_song_is_said_by_the_session_and_the_cli(engine, tiny_pack, tmp_path, capsys):
    assert chart_cut("Am F C G", 8) is None and chart_cut("Am F C G", 2).startswith("the chord chart has 4 bars")
    assert "bar 9 of the chart is not played" in chart_cut(long_chart(9), 8)
    session = Session(engine)
    session.update_settings(steps=1)
    assert session.set_chords(long_chart(12))
    seen = events_of(session)
    assert session.generate() and session.song.n_bars == 8
    said = [args[0] for event, *args in seen if event == "status"]
    assert said and "bars 9-12 of the chart are not played" in said[-1]
    out = tmp_path / "o.mid"
    code = main(["generate", "--out", str(out), "--pack", str(tiny_pack), "--steps", "1", "--chords", long_chart(12)])
    err = capsys.readouterr().err
    assert code == 0 and "note: the chord chart has 12 bars and the sketch 8: bars 9-12" in err
    capsys.readouterr()
    assert main(["generate", "--out", str(out), "--pack", str(tiny_pack), "--steps", "1", "--chords", "Am F"]) == 0
    assert "not played" not in capsys.readouterr().err  # a shorter chart repeats, as asked: nothing to say


# --- 5. a form longer than a followed part ---------------------------------------------------------------------
def bass_part(folder, bars: int = 8):
    notes = [(2, 33, 36 + (bar % 4) * 2, 4 * bar + b, 4 * bar + b + 0.5) for bar in range(bars) for b in range(4)]
    return write_notes(folder / "my-bass.mid", notes, tempo=96)


def test_a_form_longer_than_a_followed_part_has_the_part_go_round(engine, tmp_path):
    """Issue 33 item 4: a followed part works with a song form; one longer than the part has it go round again
    (as a Band-in-a-Box melody goes round each chorus) until the form ends, nothing refused."""
    session = Session(engine)
    assert session.follow_part(bass_part(tmp_path))
    session.set_form("verse 4 chorus 8")
    assert session.generate() and session.last_error is None
    song = session.song
    assert song.n_bars >= 12 and [s.name for s in song.sections] == ["verse", "chorus"]
    bass = song.notes()[2]
    bar = song.steps_per_bar
    assert (bass[8 * bar : 12 * bar] == bass[: 4 * bar]).all()  # bars 9-12: the part's first four again


# --- 3. a part file is read once per operation ---------------------------------------------------------------
class Opens:
    """Counts the opens of one path (an audit hook: hooks cannot be removed, so it listens only while armed)."""

    hooked = False
    path: str | None = None
    count = 0

    @classmethod
    def watch(cls, path) -> None:
        if not cls.hooked:
            sys.addaudithook(cls._hook)
            cls.hooked = True
        cls.path, cls.count = str(path), 0

    @classmethod
    def _hook(cls, event, args) -> None:
        if cls.path is not None and event == "open" and args and str(args[0]) == cls.path:
            cls.count += 1

    @classmethod
    def stop(cls) -> int:
        cls.path = None
        return cls.count


def test_a_part_file_is_read_once_by_the_cli_the_session_and_the_engine(engine, tiny_pack, tmp_path, capsys):
    part = bass_part(tmp_path)
    Opens.watch(part)
    out = tmp_path / "band.mid"
    assert main(["generate", "--out", str(out), "--pack", str(tiny_pack), "--follow", str(part), "--seed", "2"]) == 0
    assert Opens.stop() == 1
    assert "following 'my-bass.mid': bass kept as played" in capsys.readouterr().out
    Opens.watch(part)
    session = Session(engine)
    assert session.follow_part(part, then_generate=True) and session.song is not None
    assert Opens.stop() == 1
    Opens.watch(part)
    song = engine.generate(follow=part, seed=1)
    assert Opens.stop() == 1 and song.settings["follow"] == "my-bass.mid"
    Opens.watch(part)
    engine.harmonize(part, alternatives=1)
    assert Opens.stop() == 1


def test_the_window_shows_a_chart_cut_to_the_song_in_its_status_bar(qtbot, window):
    assert window.session.set_chords(long_chart(20))  # before any take: the next Generate's chart
    with qtbot.waitSignal(window.songChanged, timeout=60000):
        window.generate()
    assert window.song.n_bars == 16
    shown = window.statusBar().currentMessage() + " " + window.statusBar().toolTip()
    assert "bars 17-20 of the chart are not played" in shown, shown
