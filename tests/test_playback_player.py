"""Player against a real in-memory mido port that records when each message arrives.

Timing checks are one-sided (never earlier than scheduled) so a loaded machine cannot flake them;
order and completeness are checked exactly.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from midi_streams import sounding as sounding_after
from midi_streams import wait_until

from musicvae_app.playback.player import Player
from musicvae_app.playback.ports import RecordingPort
from musicvae_app.playback.schedule import schedule
from musicvae_app.sketch.song import Song

PIANO, GUITAR, BASS, STRINGS, DRUMS = range(5)


def band_song(tempo: float = 480.0, steps: int = 32) -> Song:
    """At 480 BPM and 2 steps a beat a step is 1/16 s: 32 steps play in 2 s."""
    probs = np.zeros((5, steps, 128), np.float32)
    probs[PIANO, 0:8, 60] = 1.0
    probs[PIANO, 8:16, 64] = 0.8
    probs[BASS, ::4, 36] = 1.0
    probs[STRINGS, 0:steps, 67] = 0.6  # one long note: sounding whenever we stop
    probs[DRUMS, ::2, 42] = 1.0
    probs[DRUMS, ::8, 36] = 1.0
    return Song(probs=probs, steps_per_beat=2, chunk_steps=steps, tempo=tempo)


def is_panic(m) -> bool:
    """All notes off (CC123) or reset controllers (CC121): not the mixer's volume (CC7) and pan (CC10)."""
    return m.type == "control_change" and m.control in (121, 123)


def assert_panic_on_every_channel(messages):
    ccs = {(m.channel, m.control) for m in messages if m.type == "control_change"}
    assert ccs >= {(ch, cc) for ch in range(16) for cc in (123, 121)}


@pytest.fixture
def port():
    return RecordingPort()


@pytest.fixture
def player(port):
    p = Player(port)
    yield p
    p.close()


def test_plays_every_scheduled_message_in_order_and_never_early(port, player):
    song = band_song()
    player.play(song)
    assert player.is_playing
    wait_until(lambda: not player.is_playing)
    expected = schedule(song)
    played = [(t, m) for t, m in port.received if not is_panic(m)]
    assert [m for _, m in played] == [m for _, m in expected]
    late = [(arrived - player.pass_origin) - due for (arrived, _), (due, _) in zip(played, expected)]
    assert min(late) >= 0.0
    assert sounding_after(port.messages()) == set()
    assert player.position_beats == 0.0


def test_playhead_moves_forward_in_beats(player):
    player.play(band_song())
    seen = []
    for _ in range(5):
        time.sleep(0.1)
        seen.append(player.position_beats)
    player.stop()
    assert seen == sorted(seen) and seen[-1] > seen[0] > 0.0
    assert seen[-1] <= 16.0


def test_stop_mid_note_leaves_nothing_sounding_and_sends_nothing_after(port, player):
    player.play(band_song())
    wait_until(lambda: player.position_beats > 3.0)
    assert sounding_after(port.messages())  # strings and piano are held right now
    player.stop()
    count = len(port.received)
    after_stop = port.messages()
    assert sounding_after(after_stop) == set()
    released = {(m.channel, m.note) for m in after_stop if m.type == "note_off"}
    assert (3, 67) in released  # the held strings note got its own note-off, not just CC123
    assert_panic_on_every_channel(after_stop[-32:])
    time.sleep(0.3)
    assert len(port.received) == count
    assert not player.is_playing and player.position_beats == 0.0


def test_pause_keeps_the_playhead_and_play_resumes_there(port, player):
    song = band_song(tempo=240.0)
    player.play(song)
    wait_until(lambda: player.position_beats > 2.0)
    player.pause()
    paused_at = player.position_beats
    assert 2.0 < paused_at < 16.0 and not player.is_playing
    assert sounding_after(port.messages()) == set()
    mark = len(port.received)
    player.play()
    wait_until(lambda: any(m.type == "note_on" for m in port.messages(mark)))
    player.stop()
    resumed = port.messages(mark)
    first_on = next(m for m in resumed if m.type == "note_on")
    onsets_after = [m for t, m in schedule(song) if m.type == "note_on" and t / 0.25 >= paused_at - 1e-9]
    assert first_on == onsets_after[0]
    assert resumed[0].type == "program_change"  # programs again before the first note


def test_seek_while_playing_silences_then_goes_on_from_there(port, player):
    song = band_song(tempo=240.0)
    player.play(song)
    wait_until(lambda: player.position_beats > 1.0)
    mark = len(port.received)
    player.seek(12.0)
    assert player.position_beats >= 12.0
    wait_until(lambda: sum(m.type == "note_on" for m in port.messages(mark)) >= 2)
    player.stop()
    after = port.messages(mark)
    assert_panic_on_every_channel(after[:40])
    first_on = next(m for m in after if m.type == "note_on")
    assert (first_on.channel, first_on.note) in {(9, 42), (9, 36), (2, 36)}  # beat 12 = step 24: bass, hats, kick


def test_loop_region_repeats_until_stopped(port, player):
    song = band_song(tempo=480.0)
    per_pass = [m for _, m in schedule(song, loop=(4, 8)) if m.type == "note_on"]
    player.play(song, loop=(4, 8))  # 4 beats at 480 BPM: half a second a pass
    wait_until(lambda: sum(m.type == "note_on" for m in port.messages()) >= 3 * len(per_pass))
    assert player.is_playing
    assert 4.0 <= player.position_beats <= 8.0
    player.stop()
    ons = [m for m in port.messages() if m.type == "note_on"]
    assert ons[: 3 * len(per_pass)] == per_pass * 3
    assert sounding_after(port.messages()) == set()
    assert player.position_beats == 4.0


def test_muting_a_lane_while_playing_releases_it_and_keeps_the_rest(port, player):
    player.play(band_song(tempo=240.0))
    wait_until(lambda: player.position_beats > 2.0)
    mark = len(port.received)
    player.set_mutes(["strings"])
    assert (3, 67) not in sounding_after(port.messages())  # the held strings note released at once
    wait_until(lambda: sum(m.type == "note_on" for m in port.messages(mark)) >= 4)
    player.stop()
    after = port.messages(mark)
    assert not any(m.type == "note_on" and m.channel == 3 for m in after)
    assert any(m.type == "note_on" and m.channel == 9 for m in after)
    assert not any(is_panic(m) for m in after[:-32])  # a mute is no panic: drums play on


def test_a_grown_song_plays_on_seamlessly_and_an_edited_one_is_silenced_first(port, player):
    short = band_song(tempo=240.0, steps=32)
    player.play(short)
    wait_until(lambda: player.position_beats > 1.0)
    longer = band_song(tempo=240.0, steps=64)  # same first 32 steps (the Jam case)
    player.set_song(longer)
    wait_until(lambda: player.position_beats > 16.5)  # past the old end: still playing
    assert player.is_playing
    assert not any(is_panic(m) for m in port.messages())
    edited = longer.copy()
    edited.probs[PIANO] = 0.0
    mark = len(port.received)
    player.set_song(edited)
    assert_panic_on_every_channel(port.messages(mark))
    wait_until(lambda: any(m.type == "note_on" for m in port.messages(mark)))
    player.stop()
    assert not any(m.type == "note_on" and m.channel == 0 for m in port.messages(mark))


def test_a_port_that_dies_mid_play_stops_playback_with_a_message():
    port = RecordingPort(fail_after=12)
    errors: list[str] = []
    called = threading.Event()
    player = Player(port, on_error=lambda msg: (errors.append(msg), called.set()))
    player.play(band_song())
    assert called.wait(10.0)
    assert not player.is_playing
    assert "recorder" in player.error and "device unplugged" in player.error
    assert errors == [player.error]
    player.stop()  # stopping a dead port neither raises nor hangs
    good = RecordingPort()
    player.output = good
    player.play()  # the app goes on: pick another output and play again
    assert player.error is None
    wait_until(lambda: any(m.type == "note_on" for m in good.messages()))
    player.close()


def test_a_port_closed_under_the_player_is_a_handled_loss(port, player):
    player.play(band_song())
    wait_until(lambda: player.position_beats > 1.0)
    port.close()
    wait_until(lambda: not player.is_playing)
    assert "closed" in player.error


def test_nothing_to_play_is_a_clear_error(player):
    with pytest.raises(ValueError, match="nothing to play"):
        player.play()


def test_a_bad_loop_region_is_refused_and_playback_goes_on(player):
    player.play(band_song(tempo=240.0))
    with pytest.raises(ValueError, match="outside the sketch"):
        player.set_loop((10, 40))
    assert player.is_playing and player.loop is None
    player.set_loop((0, 4))
    wait_until(lambda: player.position_beats < 4.0)
    player.stop()
    assert player.position_beats == 0.0
