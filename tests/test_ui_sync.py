"""The window's sync controls offscreen (issue 30): the bar.beat counter, Clock out, Sync, and Live against a
keyboard process on a real JACK port."""

from __future__ import annotations

import time

import mido
import pytest
from jack_fixture import jack_server  # noqa: F401
from test_playback_clock import Sender
from test_playback_player import band_song, sounding_after

from musicvae_app.playback.link import link_unavailable
from musicvae_app.playback.ports import RecordingPort
from musicvae_app.ui.playback_panel import PlaybackPanel


@pytest.fixture
def panel(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    song = band_song(tempo=480.0)
    made = PlaybackPanel(lambda: song, lambda: [False] * 5)
    qtbot.addWidget(made)
    yield made
    made.shutdown()


def test_the_counter_shows_bar_and_beat_as_it_plays(qtbot, panel):
    controls = panel.sync_controls
    assert controls.counter.text() == "1.1"
    panel.use_output(RecordingPort(), "recorder")
    panel.play_button.click()
    qtbot.waitUntil(lambda: controls.counter.text().startswith("2."), timeout=5000)  # 480 BPM: bar 2 at 0.5 s
    panel.stop()
    assert controls.counter.text() == "1.1"


def test_clock_out_sends_the_clock_with_the_notes(qtbot, panel):
    port = RecordingPort()
    panel.use_output(port, "recorder")
    panel.sync_controls.clock_out_box.setChecked(True)
    panel.play_button.click()
    qtbot.waitUntil(lambda: not panel.is_playing, timeout=10000)
    kinds = [m.type for m in port.messages()]
    assert "start" in kinds and kinds.count("clock") == 16 * 24 and "stop" in kinds
    assert sounding_after(port.messages()) == set()


def test_midi_clock_in_without_an_input_says_what_to_do(panel):
    controls = panel.sync_controls
    controls.input_box.clear()
    controls.set_sync("midi-clock")
    assert panel.transport.sync == "internal" and controls.sync_box.currentText() == "Internal"
    assert "--clock-in" in panel.status.full_text or "input" in panel.status.full_text


@pytest.mark.skipif(link_unavailable() is not None, reason=str(link_unavailable()))
def test_link_is_a_choice_and_play_starts_on_a_bar_line(qtbot, panel):
    port = RecordingPort()
    panel.use_output(port, "recorder")
    panel.sync_controls.set_sync("link")
    assert panel.transport.sync == "link" and panel.transport.source is not None
    panel.play_button.click()
    qtbot.waitUntil(lambda: any(m.type == "note_on" for m in port.messages()), timeout=5000)
    panel.stop()
    assert sounding_after(port.messages()) == set()


def test_live_follows_the_keyboard_and_saves_the_take(qtbot, jack_server, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    song = band_song(tempo=120.0)
    panel = PlaybackPanel(lambda: song, lambda: [False] * 5)
    qtbot.addWidget(panel)
    keys = Sender("ui-keys")
    try:
        controls = panel.sync_controls
        controls.refresh_inputs()
        controls.input_box.setCurrentText(next(n for n in controls.input_box_items() if n.startswith("ui-keys")))
        port = RecordingPort()
        panel.use_output(port, "recorder")
        controls.start_live(wait=True)
        assert controls.band is not None and panel.transport.is_playing, panel.status.full_text
        keys("hold 57 60 64")
        qtbot.waitUntil(lambda: any(c == "Am" for _, c in controls.band.chords), timeout=15000)
        keys("release")
        controls.stop_live()
        assert controls.save_button.isEnabled()
        assert panel.transport.get_song() is song and panel.transport.player.song is song  # the sketch again
        path = controls.save_take(str(tmp_path / "take.mid"))
    finally:
        keys.kill()
        panel.shutdown()
    mid = mido.MidiFile(path)
    assert [m.note for m in mid.tracks[-1] if m.type == "note_on" and m.velocity] == [57, 60, 64]
    assert sounding_after(port.messages()) == set()
    time.sleep(0.05)
