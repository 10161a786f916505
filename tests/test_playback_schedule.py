"""schedule(): hand-made songs whose every message and time is known."""

from __future__ import annotations

import mido
import numpy as np
import pytest

from musicvae_app.playback.schedule import audible_lanes, region_seconds, schedule
from musicvae_app.sketch.midi import song_to_midifile
from musicvae_app.sketch.song import Song

PIANO, GUITAR, BASS, STRINGS, DRUMS = range(5)


def hand_song(tempo: float = 120.0, steps: int = 32) -> Song:
    """Piano C4 on steps 0-1, bass E2 on steps 2-5, kick on steps 0, 2, 4 (one step each)."""
    probs = np.zeros((5, steps, 128), np.float32)
    probs[PIANO, 0:2, 60] = 1.0
    probs[BASS, 2:6, 40] = 1.0
    probs[DRUMS, [0, 2, 4], 36] = 1.0
    return Song(probs=probs, steps_per_beat=2, chunk_steps=32, tempo=tempo, programs=[1, 25, 33, 49, 0])


def as_tuples(events):
    def value(m):
        return getattr(m, "note", getattr(m, "program", getattr(m, "control", None)))

    return [(round(t, 9), m.type, m.channel, value(m)) for t, m in events]


def test_every_message_and_time_of_a_hand_made_song():
    # 120 BPM, 2 steps a beat: a step is 0.25 s.
    assert as_tuples(schedule(hand_song())) == [
        (0.0, "program_change", 0, 1),
        (0.0, "control_change", 0, 7),  # the mixer: volume
        (0.0, "control_change", 0, 10),  # and pan
        (0.0, "program_change", 1, 25),
        (0.0, "control_change", 1, 7),  # the mixer: volume
        (0.0, "control_change", 1, 10),  # and pan
        (0.0, "program_change", 2, 33),
        (0.0, "control_change", 2, 7),  # the mixer: volume
        (0.0, "control_change", 2, 10),  # and pan
        (0.0, "program_change", 3, 49),
        (0.0, "control_change", 3, 7),  # the mixer: volume
        (0.0, "control_change", 3, 10),  # and pan
        (0.0, "program_change", 9, 0),
        (0.0, "control_change", 9, 7),  # the mixer: volume
        (0.0, "control_change", 9, 10),  # and pan
        (0.0, "note_on", 0, 60),
        (0.0, "note_on", 9, 36),
        (0.25, "note_off", 9, 36),
        (0.5, "note_off", 0, 60),
        (0.5, "note_on", 2, 40),
        (0.5, "note_on", 9, 36),
        (0.75, "note_off", 9, 36),
        (1.0, "note_on", 9, 36),
        (1.25, "note_off", 9, 36),
        (1.5, "note_off", 2, 40),
    ]


def test_notes_play_their_positions_real_velocity_and_note_offs_have_zero_velocity():
    from musicvae_app.theory.dynamics import velocity

    events = schedule(hand_song())
    # every note as sure as its lane's usual: its position's real mean (theory/dynamics.py, by lane and 16th)
    want = {velocity(PIANO, 60, 0, 2, 1.0, 1.0), velocity(BASS, 40, 2, 2, 1.0, 1.0)}
    want |= {velocity(DRUMS, 36, step, 2, 1.0, 1.0) for step in (0, 2, 4)}
    assert {m.velocity for _, m in events if m.type == "note_on"} == want
    assert {m.velocity for _, m in events if m.type == "note_off"} == {0}


def test_tempo_scales_every_time():
    slow = schedule(hand_song(tempo=60.0))
    fast = schedule(hand_song(tempo=120.0))
    assert [m for _, m in slow] == [m for _, m in fast]
    assert [t for t, _ in slow] == pytest.approx([2 * t for t, _ in fast])


def test_note_offs_come_before_note_ons_at_one_instant():
    song = hand_song()
    song.probs[PIANO, 2:4, 62] = 1.0  # piano D4 starts exactly when C4 ends
    events = schedule(song)
    at_half = [(m.type, m.channel, m.note) for t, m in events if t == 0.5]
    assert at_half[0] == ("note_off", 0, 60)
    assert all(kind == "note_on" for kind, _, _ in at_half[1:])
    times = [t for t, _ in events]
    assert times == sorted(times)


def test_drums_play_on_channel_ten_and_pitched_lanes_never_do():
    events = schedule(hand_song())
    assert {m.channel for _, m in events if getattr(m, "note", None) == 36} == {9}
    assert 9 not in {m.channel for _, m in events if getattr(m, "note", None) in (40, 60)}


def test_mutes_by_name_or_flags_remove_only_that_lane_but_keep_its_program():
    by_name = schedule(hand_song(), mutes={"drums"})
    by_flags = schedule(hand_song(), mutes=[False, False, False, False, True])
    assert as_tuples(by_name) == as_tuples(by_flags)
    assert all(m.channel != 9 for _, m in by_name if m.type not in ("program_change", "control_change"))
    assert sum(m.type == "program_change" and m.channel == 9 for _, m in by_name) == 1
    assert {m.note for _, m in by_name if m.type == "note_on"} == {60, 40}


def test_solo_plays_only_soloed_lanes_and_a_muted_solo_stays_silent():
    assert {m.channel for _, m in schedule(hand_song(), solos=["bass"]) if m.type == "note_on"} == {2}
    assert {m.channel for _, m in schedule(hand_song(), solos=[2, 4], mutes=[4]) if m.type == "note_on"} == {2}
    assert audible_lanes(mutes=["piano"], solos=None) == [False, True, True, True, True]


def test_unknown_lane_names_the_lanes():
    with pytest.raises(ValueError, match="piano, guitar, bass, strings, drums"):
        schedule(hand_song(), mutes=["vocals"])


def test_loop_region_counts_from_its_start_and_clips_notes_at_its_end():
    # Beats 1-2 = steps 2-3: the bass starts at step 2 (plays to 6, clipped to 4); kick at step 2.
    events = schedule(hand_song(), loop=(1, 2))
    notes = as_tuples(e for e in events if e[1].type not in ("program_change", "control_change"))
    assert notes == [
        (0.0, "note_on", 2, 40),
        (0.0, "note_on", 9, 36),
        (0.25, "note_off", 9, 36),
        (0.5, "note_off", 2, 40),
    ]
    assert region_seconds(hand_song(), (1, 2)) == pytest.approx(0.5)
    assert region_seconds(hand_song()) == pytest.approx(8.0)


@pytest.mark.parametrize("loop", [(2, 2), (3, 1), (-1, 2), (0, 17)])
def test_a_loop_outside_the_sketch_is_refused_with_its_bounds(loop):
    with pytest.raises(ValueError, match="outside the sketch"):
        schedule(hand_song(), loop=loop)


def test_playback_agrees_with_the_exported_file(engine):
    """The notes you hear are the notes the .mid holds: same channels, pitches, velocities, seconds."""
    song = engine.generate(steps=2, seed=1)
    played = sorted(
        (round(t, 6), m.channel, m.note, m.velocity if m.type == "note_on" else 0)
        for t, m in schedule(song)
        if m.type in ("note_on", "note_off")
    )
    exported, now = [], 0.0
    for msg in song_to_midifile(song):
        now += msg.time
        if msg.type in ("note_on", "note_off"):
            exported.append((round(now, 6), msg.channel, msg.note, msg.velocity if msg.type == "note_on" else 0))
    assert played and played == sorted(exported)
    assert all(isinstance(m, mido.Message) for _, m in schedule(song))
