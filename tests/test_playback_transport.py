"""The transport without Qt: play, stop, seek, loop, mutes, Jam look-ahead and a lost port, on an in-memory port."""

from __future__ import annotations

import subprocess
import sys
import time

from test_playback_player import band_song, wait_until

from musicvae_app.playback.ports import RecordingPort
from musicvae_app.playback.transport import JAM_AHEAD_BEATS, Transport


def make(song=None, mutes=None):
    errors: list[str] = []
    state = {"song": song if song is not None else band_song(tempo=480.0)}
    t = Transport(lambda: state["song"], (lambda: mutes) if mutes else None, on_error=errors.append)
    return t, state, errors


def test_importing_the_transport_loads_no_qt():
    code = "import sys, musicvae_app.playback.transport; print(any(m in sys.modules for m in ('PySide6', 'pyqtgraph')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "False"


def test_play_stop_and_seek_on_an_in_memory_port():
    t, _, errors = make()
    assert t.seek(4.0) == 4.0 and t.position_beats == 4.0  # before an output is open: the next Play starts here
    port = RecordingPort()
    t.use_output(port, "recorder")
    t.player.set_song(band_song(tempo=480.0))
    assert t.play() and t.is_playing and not errors
    wait_until(lambda: any(m.type == "note_on" for m in port.messages()))
    beats = t.stop()
    assert beats is not None and not t.is_playing
    t.close()
    assert t.player is None and t.port_label is None


def test_a_seek_after_a_longer_sketch_and_on_a_fresh_port_stays_where_it_was_asked():
    """Issue 21 bug 1: stopped, a longer Generate left the player clamping seeks to the old sketch's length
    (a click on bar 20 went to bar 1), and a seek on a freshly attached port before the first Play was dropped."""
    t, state, errors = make(band_song(tempo=480.0, steps=32))  # 16 beats
    t.use_output(RecordingPort(), "recorder")
    assert t.seek(8.0) == 8.0  # a fresh port: the player takes the sketch first
    state["song"] = band_song(tempo=480.0, steps=128)  # a longer Generate, while stopped: 64 beats
    t.song_changed()
    assert t.seek(40.0) == 40.0 and t.position_beats == 40.0
    assert t.play() and not errors
    assert t.position_beats >= 40.0
    t.stop()
    t.close()


def test_nothing_to_play_and_no_output_are_said_once_each():
    t, state, errors = make()
    state["song"] = None
    assert not t.play()
    assert errors == ["Nothing to play yet: generate a sketch first"]
    state["song"] = band_song()
    assert not t.play("no such output")
    assert len(errors) == 2 and not t.is_playing


def test_loop_setting_follows_the_box_and_the_region():
    t, _, _ = make()
    assert t.loop_setting() is None
    t.set_loop(True)
    assert t.loop_setting() is True
    t.set_loop(region=(4.0, 16.0))
    assert t.loop_setting() == (4.0, 16.0)
    t.set_loop(region=None)
    assert t.loop_setting() is True


def test_jam_asks_once_when_the_end_is_near():
    song = band_song(tempo=480.0, steps=32)  # 16 beats, played in 2 s
    t, _, _ = make(song)
    t.use_output(RecordingPort(), "recorder")
    t.jam = True
    assert t.play()
    asked = None
    deadline = time.monotonic() + 10
    while asked is None and time.monotonic() < deadline:
        _, asked = t.tick()
        time.sleep(0.01)
    assert asked is not None and asked < JAM_AHEAD_BEATS
    assert t.tick()[1] is None  # asked once, until the sketch grows
    t.song_changed()
    assert not t.jam_asked
    t.close()


def test_a_lost_port_stops_and_is_said():
    t, _, errors = make()
    t.use_output(RecordingPort(fail_after=5), "recorder")
    assert t.play()
    wait_until(lambda: t.player.error is not None)
    wait_until(lambda: not t.player.is_playing)
    t.tick()
    assert errors and t.player is None and not t.is_playing
