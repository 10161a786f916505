"""Following a part and recording one, in the session (no Qt): the part is kept whole, the band made around it.

Also Clear primer giving back the tempo the sketch had before the primer set its own.
"""

from __future__ import annotations

import numpy as np
import pytest

from band_files import write_notes
from musicvae_app.errors import InvalidValue
from musicvae_app.playback.recorder import PlayedNote, Recording
from musicvae_app.sketch.midi import read_roll
from musicvae_app.sketch.session import Session
from musicvae_app.sketch.song import LANES
from musicvae_app.sketch.spec import DEFAULT_TEMPO

PIANO, BASS = LANES.index("piano"), LANES.index("bass")


def events_of(session: Session) -> list[tuple]:
    seen: list[tuple] = []
    session.listen(lambda event, *args: seen.append((event, *args)))
    return seen


def bass_part(folder, bars: int = 8, tempo: float = 96):
    notes = [(2, 33, 36 + (bar % 4) * 2, 4 * bar + b, 4 * bar + b + 0.5) for bar in range(bars) for b in range(4)]
    return write_notes(folder / "my-bass.mid", notes, tempo=tempo)


def cells(engine, path, lane, steps: int):
    """The part's cells on the pack's grid, as the app's reader puts them, `steps` long."""
    roll, _ = read_roll(path, engine.cfg.steps_per_beat)
    out = np.zeros((steps, 128), bool)
    out[: roll.shape[1]] = roll[lane, :steps]
    return out


def test_a_followed_part_is_kept_whole_by_generate_and_regenerate(session, engine, tmp_path):
    path = bass_part(tmp_path)
    seen = events_of(session)
    assert session.follow_part(path)
    assert session.part == path and session.part_bpm == pytest.approx(96) and ("part",) in seen
    assert session.generate()
    song = session.song
    part = cells(engine, path, BASS, song.n_steps)
    assert song.n_bars == 8 and song.tempo == pytest.approx(96)
    assert np.array_equal(song.notes()[BASS], part)
    assert session.part_lanes() == [BASS] and song.settings["follow"] == "my-bass.mid"
    assert all(song.notes()[lane].any() for lane in range(len(LANES)) if lane != BASS)  # a band around it
    assert session.generate() and np.array_equal(session.song.notes()[BASS], part)  # Generate again: kept
    assert session.song is not song
    before = session.song
    assert not session.regenerate_lane(BASS)  # the user's part is not the model's to rewrite
    assert session.song is before and any("Bass is your part" in e[1] for e in seen if e[0] == "status")
    assert session.regenerate_lane("guitar")
    assert np.array_equal(session.song.notes()[BASS], part)
    assert not np.array_equal(session.song.notes()[1], before.notes()[1])
    assert session.infill(1, 4)  # "every lane" leaves the part alone
    assert np.array_equal(session.song.notes()[BASS], part)
    with pytest.raises(InvalidValue, match="your part"):
        session.infill(1, 4, lanes=["bass"])


def test_the_part_and_its_marks_are_saved_with_the_sketch(session, tmp_path):
    path = bass_part(tmp_path, bars=4)
    session.follow_part(path)
    session.generate()
    assert session.save(tmp_path / "along.mvsketch")
    again = Session.open(tmp_path / "along.mvsketch")
    assert again.part_lanes() == [BASS]
    assert [c[BASS].source for c in again.song.chunks] == ["part"] * again.song.n_chunks
    assert again.opened_settings["follow"] == str(path)


def test_stop_following_makes_a_whole_band_again(session, tmp_path):
    session.follow_part(bass_part(tmp_path, bars=4))
    session.stop_following()
    assert session.part is None and session.generate()
    assert session.part_lanes() == [] and "follow" not in session.song.settings


@pytest.mark.parametrize(
    "notes, tempo, words",
    [
        ([], 120, "'bad.mid' has no notes to follow"),
        ([(0, 0, 60, 0, 1), (0, 0, 62, 4 * 4200, 4 * 4200 + 1)], 300, "'bad.mid' is 4200 bars long"),
    ],
)
def test_a_part_with_no_notes_or_too_long_is_said_and_the_sketch_stays(session, tmp_path, notes, tempo, words):
    session.generate()
    song, seen = session.song, events_of(session)
    assert not session.follow_part(write_notes(tmp_path / "bad.mid", notes, tempo=tempo))
    errors = [e for e in seen if e[0] == "error"]
    assert errors and errors[0][1] == "Cannot follow this part" and words in errors[0][2]
    assert session.part is None and session.song is song and session.part_reading is None


def test_a_damaged_file_is_said_by_name(session, tmp_path):
    bad = tmp_path / "broken.mid"
    bad.write_bytes(b"MThd\x00\x00\x00\x06garbage")
    seen = events_of(session)
    assert not session.follow_part(bad)
    assert "broken.mid" in next(e for e in seen if e[0] == "error")[2]


def test_a_part_given_before_the_model_loaded_is_followed_once_it_has(engine, tmp_path):
    waiting = Session(None)
    path = bass_part(tmp_path, bars=4)
    assert waiting.follow_part(path) and waiting.part_song is None
    waiting.generate()  # asked while loading: runs when the engine arrives
    waiting.set_engine(engine)
    assert np.array_equal(waiting.song.notes()[BASS], cells(engine, path, BASS, waiting.song.n_steps))


def test_a_recording_is_added_to_the_take_in_one_undo_step(session, engine, tmp_path):
    session.generate()
    first = session.song
    beat = 60 / 100
    played = [PlayedNote(60 + i % 5, 100, i * beat, i * beat + beat / 2) for i in range(8)]
    take = Recording(PIANO, 100.0, played)
    path = session.follow_recording(take, tmp_path / "recordings")
    assert path is not None and path.parent == tmp_path / "recordings"
    song = session.song
    # added on its lane to the take on screen (issue 33): the take keeps its tempo, length and band
    assert song.tempo == first.tempo and song.n_bars == first.n_bars and session.part_lanes() == [PIANO]
    assert np.array_equal(np.delete(song.notes(), PIANO, 0), np.delete(first.notes(), PIANO, 0))
    spb = engine.cfg.steps_per_beat
    expected = np.zeros_like(song.notes()[PIANO])
    for i in range(8):  # every quarter, an 8th long (its beats at the recording's tempo)
        expected[i * spb : i * spb + spb // 2, 60 + i % 5] = True
    assert np.array_equal(song.notes()[PIANO], expected)
    assert session.history.undo_text == "Record piano"
    session.undo()
    assert session.song is first


def test_an_empty_recording_keeps_nothing_and_says_so(session, tmp_path):
    session.generate()
    song, seen = session.song, events_of(session)
    assert session.follow_recording(Recording(PIANO, 100.0, []), tmp_path) is None
    assert session.song is song and any(e[0] == "error" and e[1] == "Nothing recorded" for e in seen)


def test_clear_primer_gives_back_the_tempo_from_before_it(session, engine, tmp_path):
    session.set_tempo(100)
    session.generate()
    primer = write_notes(tmp_path / "fast.mid", [(0, 0, 60, b, b + 1) for b in range(16)], tempo=150)
    assert session.open_primer(primer) and session.primer_bpm == pytest.approx(150)
    session.generate()
    assert session.song.tempo == pytest.approx(150)
    session.clear_primer()
    assert session.settings.tempo == pytest.approx(100) and session.song.tempo == pytest.approx(100)
    assert session.history.undo_text == "Tempo 100"
    session.undo()  # the takes made at the primer's tempo come back at it
    assert session.song.tempo == pytest.approx(150)

    fresh = Session(engine)  # no tempo set before the primer: the default comes back
    fresh.open_primer(primer)
    fresh.clear_primer()
    assert fresh.settings.tempo == pytest.approx(DEFAULT_TEMPO) and fresh.primer is None

    override = Session(engine)  # a tempo typed over the primer's is the user's: Clear primer leaves it
    override.open_primer(primer)
    override.set_tempo(133)
    override.clear_primer()
    assert override.settings.tempo == pytest.approx(133)
