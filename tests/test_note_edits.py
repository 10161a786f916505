"""Note editing and the mixer through the Session (sketch/editing.py, pins.py): each edit one undo step, kept
at any threshold, saved in the sketch file, exported (read back with mido), played (the schedule), and asked
about before Regenerate replaces it. A real engine on the tiny pack; real files in tmp_path."""

from __future__ import annotations

import mido
import numpy as np
import pytest

from musicvae_app.errors import InvalidValue
from musicvae_app.lanes import DRUMS, LANES
from musicvae_app.playback.schedule import schedule
from musicvae_app.sketch.midi import TICKS_PER_BEAT, lane_notes
from musicvae_app.sketch.session import Session
from musicvae_app.sketch.song import Song

BASS = LANES.index("bass")


def empty_song(bars: int = 4, steps_per_beat: int = 4) -> Song:
    steps = bars * 4 * steps_per_beat
    return Song(probs=np.zeros((5, steps, 128), np.float32), steps_per_beat=steps_per_beat, chunk_steps=steps)


@pytest.fixture
def session(engine):
    s = Session(engine)
    s.set_seed(7)
    s.generate()
    return s


def midi_notes(path, track: int) -> list[tuple[int, int, int, int]]:
    """(pitch, start tick, end tick, velocity) of one track, read back with mido."""
    out, held, now = [], {}, 0
    for msg in mido.MidiFile(path).tracks[track]:
        now += msg.time
        if msg.type == "note_on" and msg.velocity:
            held[msg.note] = (now, msg.velocity)
        elif msg.type in ("note_off", "note_on") and msg.note in held:
            start, vel = held.pop(msg.note)
            out.append((msg.note, start, now, vel))
    return sorted(out)


def test_add_move_resize_delete_each_one_undo_step(session):
    song = session.song
    before = lane_notes(song, BASS)
    steps = session.history.count()
    note = session.add_note("bass", 40, 0, length=3, velocity=90)
    assert note == (40, 0, 3, 90)
    assert note in session.lane_notes("bass")
    assert session.history.count() == steps + 1 and session.history.undo_text == "Add note"
    moved = session.move_notes("bass", [(40, 0)], steps=2, semitones=5)
    assert moved == [(45, 2, 5, 90)]
    notes = session.lane_notes("bass")
    assert (45, 2, 5, 90) in notes and (40, 0, 3, 90) not in notes
    session.resize_note("bass", (45, 2), 9)
    assert (45, 2, 9, 90) in session.lane_notes("bass")
    session.set_velocity("bass", [(45, 2)], 33)
    assert (45, 2, 9, 33) in session.lane_notes("bass")
    assert session.delete_notes("bass", [(45, 2)]) == 1
    assert all(n[:2] != (45, 2) for n in session.lane_notes("bass"))
    assert session.history.count() == steps + 5
    for _ in range(5):
        session.undo()
    assert lane_notes(session.song, BASS) == before  # back exactly as the model made it
    assert session.edited_bars("bass") == []
    session.redo()
    assert (40, 0, 3, 90) in session.lane_notes("bass")
    assert session.edited_bars("bass") == [1]


def test_edited_bars_keep_their_notes_at_any_threshold_and_other_bars_follow_it(session):
    session.add_note("piano", 72, 1, length=2, velocity=64)
    edited = [n for n in session.lane_notes("piano") if n[1] < session.song.steps_per_bar]
    session.set_threshold(0.9)
    now = [n for n in session.lane_notes("piano") if n[1] < session.song.steps_per_bar]
    assert now == edited and (72, 1, 3, 64) in now
    session.set_threshold(0.05)
    assert [n for n in session.lane_notes("piano") if n[1] < session.song.steps_per_bar] == edited


def test_two_notes_of_one_pitch_side_by_side_stay_two(session):
    session.add_note("guitar", 60, 0, length=2, velocity=80)
    session.add_note("guitar", 60, 2, length=2, velocity=50)
    mine = [n for n in session.lane_notes("guitar") if n[0] == 60 and n[1] < 4]
    assert mine == [(60, 0, 2, 80), (60, 2, 4, 50)]
    session.add_note("guitar", 60, 1, length=2, velocity=70)  # overlaps both: the first is cut, the second goes
    mine = [n for n in session.lane_notes("guitar") if n[0] == 60 and n[1] < 4]
    assert mine == [(60, 0, 1, 80), (60, 1, 3, 70)]


def test_move_several_together_and_refuse_leaving_the_sketch(session):
    session.add_note("strings", 60, 0, length=2)
    session.add_note("strings", 64, 4, length=2)
    session.move_notes("strings", [(60, 0), (64, 4)], steps=8, semitones=-2)
    notes = session.lane_notes("strings")
    assert (58, 8, 10, 100) in notes and (62, 12, 14, 100) in notes
    count = session.history.count()
    with pytest.raises(InvalidValue, match="outside the sketch"):
        session.move_notes("strings", [(58, 8)], steps=-9)
    with pytest.raises(InvalidValue, match="no note of pitch 61"):
        session.delete_notes("strings", [(61, 0)])
    with pytest.raises(InvalidValue, match="velocity"):
        session.set_velocity("strings", [(58, 8)], 0)
    assert session.history.count() == count  # refused edits change nothing


def test_drum_hits_stay_hits(session):
    note = session.add_note("drums", 42, 3, velocity=77)
    assert note == (42, 3, 4, 77)
    with pytest.raises(InvalidValue, match="hit"):
        session.resize_note("drums", (42, 3), 6)
    with pytest.raises(InvalidValue, match="General MIDI drum"):
        session.add_note("drums", 20, 0)


def test_edits_and_mix_are_saved_exported_and_played(session, tmp_path):
    session.add_note("bass", 41, 1, length=3, velocity=99)
    session.set_volume("bass", 80)
    session.set_volume("bass", 70)  # a fader drag: one undo step
    session.set_pan("bass", 20)
    assert session.history.undo_text == "Bass pan"
    path = tmp_path / "edited.mvsketch"
    assert session.save(path)
    again = Session.open(path)
    assert again.song.pins == session.song.pins
    assert again.song.volumes[BASS] == 70 and again.song.pans[BASS] == 20
    assert lane_notes(again.song, BASS) == lane_notes(session.song, BASS)
    out = session.export_midi(tmp_path / "edited.mid")
    mid = mido.MidiFile(out)
    ticks = TICKS_PER_BEAT // session.song.steps_per_beat
    assert (41, ticks, 4 * ticks, 99) in midi_notes(out, 1 + BASS)
    for lane in range(len(LANES)):
        track = mid.tracks[1 + lane]
        cc = {m.control: m.value for m in track if m.type == "control_change"}
        assert cc == {7: session.song.volumes[lane], 10: session.song.pans[lane]}
        first_note = next(i for i, m in enumerate(track) if m.type == "note_on")
        assert max(i for i, m in enumerate(track) if m.type == "control_change") < first_note
        assert sum(m.time for m in track[:first_note] if m.type == "control_change") == 0  # at the start
    played = schedule(session.song)
    ch = 2  # the bass channel
    assert any(m.type == "control_change" and m.channel == ch and m.control == 7 and m.value == 70 for _, m in played)
    step = 60.0 / session.song.tempo / session.song.steps_per_beat
    assert any(
        m.type == "note_on" and m.channel == ch and m.note == 41 and m.velocity == 99 and abs(t - step) < 1e-9
        for t, m in played
    )
    session.undo()  # the pan
    assert session.song.pans[BASS] == 64
    session.undo()  # both volume moves at once
    assert session.song.volumes[BASS] == 100


def test_regenerate_asks_before_replacing_edited_bars(session):
    session.add_note("guitar", 64, 0, length=2)
    edited = session.edited_bars("guitar")  # bar 1, and any bar a held note there reaches
    assert edited[0] == 1
    asked = []
    session.editing.ask = lambda title, text: asked.append(text) or False
    count = session.history.count()
    assert not session.regenerate_lane("guitar")
    assert "guitar bars 1" in asked[0] and session.history.count() == count
    assert session.regenerate_lane("piano")  # no edits there: no question
    assert len(asked) == 1
    session.editing.ask = lambda title, text: True
    assert session.regenerate_lane("guitar")
    assert session.edited_bars("guitar") == []  # the new part shows where the edits were
    session.undo()
    assert session.edited_bars("guitar") == edited


def test_infill_over_edited_bars_asks_and_drops_only_those(session):
    n_bars = session.song.n_bars
    per_chunk = session.song.chunk_steps // session.song.steps_per_bar
    last = session.song.n_steps - 2
    session.add_note("bass", 40, 0, length=2)
    session.add_note("bass", 40, last, length=2)
    session.editing.ask = lambda title, text: True
    assert session.infill(1, 1, ["bass"])
    assert session.edited_bars("bass") == [n_bars] if n_bars > per_chunk else session.edited_bars("bass") == []


def test_a_locked_lane_keeps_its_edits_through_generate(session):
    session.add_note("bass", 40, 0, length=2, velocity=33)
    edited = session.edited_bars("bass")
    session.set_lane("bass", lock=True)
    assert session.generate()
    assert (40, 0, 2, 33) in session.lane_notes("bass") and session.edited_bars("bass") == edited
    session.set_lane("bass", lock=False)
    session.generate()
    assert session.edited_bars("bass") == []  # a new bass: nothing of the edit is left to keep


def test_pins_transpose_with_the_take(session):
    session.add_note("piano", 60, 0, length=2, velocity=90)
    session.transpose(3)
    assert (63, 0, 2, 90) in session.lane_notes("piano")


def test_pins_in_a_damaged_file_are_refused_in_words(tmp_path):
    from musicvae_app.sketch.pins import pins_from_json

    with pytest.raises(InvalidValue, match="reaches outside"):
        pins_from_json({"bass": {"bars": [0], "notes": [[40, 0, 20, 90]]}}, 64, 16)
    with pytest.raises(InvalidValue, match="not a lane"):
        pins_from_json({"kazoo": {"bars": [], "notes": []}}, 64, 16)
    assert pins_from_json({"bass": {"bars": [0], "notes": [[40, 0, 4, 90]]}}, 64, 16)[BASS].notes == ((40, 0, 4, 90),)


def test_pinning_never_cuts_a_held_note_in_two():
    from musicvae_app.sketch.pins import pin

    song = empty_song()
    song.probs[BASS, 12:20, 40] = 0.9  # held over the line between bars 1 and 2
    pinned, notes = pin(song, BASS, {1})
    assert notes == [(40, 12, 20, lane_notes(song, BASS)[0][3])]
    assert sorted(pinned.pins[BASS].bars) == [0, 1]
    assert lane_notes(pinned, BASS) == lane_notes(song, BASS)
    assert lane_notes(pinned.with_threshold(0.95), DRUMS) == []


def test_a_revoiced_bar_under_edits_still_shows_and_plays_the_edits():
    """Whatever rewrites a take's probabilities in an edited bar (a re-voiced chord), the bar shows, plays and
    exports the musician's notes: Song.notes() and lane_notes agree."""
    import dataclasses

    from musicvae_app.sketch.pins import with_pins

    song = with_pins(empty_song(), BASS, [0], [(40, 0, 4, 90), (40, 4, 8, 60)])
    probs = song.probs.copy()
    probs[BASS, 0:16, :] = 0.0
    probs[BASS, 0:16, 47] = 0.9  # the engine put a B there
    changed = dataclasses.replace(song, probs=probs)
    roll = changed.notes()[BASS]
    assert roll[0:8, 40].all() and not roll[:, 47].any()
    assert lane_notes(changed, BASS) == [(40, 0, 4, 90), (40, 4, 8, 60)]
