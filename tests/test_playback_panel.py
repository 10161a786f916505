"""The playback panel offscreen: Play/Stop, the playhead signal, Jam requests, a lost port, no song."""

from __future__ import annotations

import pytest
from test_playback_player import band_song, sounding_after

from musicvae_app.playback.ports import BUILT_IN, RecordingPort
from musicvae_app.ui.playback_panel import PlaybackPanel


@pytest.fixture
def panel(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))  # QSettings of the test stay in tmp
    song = band_song(tempo=480.0)
    made = PlaybackPanel(lambda: song, lambda: [False] * 5)
    qtbot.addWidget(made)
    yield made
    made.shutdown()


def test_the_picker_always_offers_the_built_in_synth(panel):
    assert panel.output_box.findText(BUILT_IN) >= 0


def test_play_moves_the_playhead_and_stop_silences(qtbot, panel):
    port = RecordingPort()
    panel.use_output(port, "recorder")
    positions: list[float] = []
    panel.playhead_moved.connect(positions.append)
    with qtbot.waitSignal(panel.playing_changed, timeout=2000) as started:
        panel.play_button.click()
    assert started.args == [True] and panel.play_button.text() == "Pause"
    qtbot.waitUntil(lambda: len(positions) >= 5, timeout=5000)
    assert positions == sorted(positions) and positions[-1] > 0.0
    with qtbot.waitSignal(panel.playing_changed, timeout=2000) as stopped:
        panel.play_button.click()
    assert stopped.args == [False] and not panel.is_playing
    assert any(m.type == "note_on" for m in port.messages())
    assert sounding_after(port.messages()) == set()


def test_jam_asks_for_more_before_the_sketch_runs_out(qtbot, panel):
    panel.use_output(RecordingPort(), "recorder")
    panel.jam_box.setChecked(True)
    with qtbot.waitSignal(panel.jam_wanted, timeout=5000) as wanted:
        panel.play()
    assert 0.0 < wanted.args[0] <= 8.0
    panel.stop()


def test_a_lost_port_stops_with_a_message(qtbot, panel):
    panel.use_output(RecordingPort(fail_after=10), "recorder")
    with qtbot.waitSignal(panel.error_raised, timeout=5000) as raised:
        panel.play()
    assert "recorder" in raised.args[0] and "device unplugged" in raised.args[0]
    qtbot.waitUntil(lambda: not panel.play_button.isChecked(), timeout=2000)
    assert panel.status.toolTip() == raised.args[0]  # the details, such as the OS error, in the tooltip
    assert panel.status.text() == raised.args[0].replace(" (OSError: device unplugged)", "")


def test_nothing_to_play_says_so(qtbot):
    empty = PlaybackPanel(lambda: None)
    qtbot.addWidget(empty)
    with qtbot.waitSignal(empty.error_raised, timeout=1000) as raised:
        empty.play()
    assert "Nothing to play" in raised.args[0]
    assert not empty.is_playing
    empty.shutdown()


def test_space_pauses_and_goes_on_from_there_and_stop_returns_to_the_start(qtbot, panel):
    port = RecordingPort()
    panel.use_output(port, "recorder")
    panel.toggle_play()  # Space
    qtbot.waitUntil(lambda: panel.transport.position_beats > 2.0, timeout=5000)
    panel.toggle_play()  # Space again: paused where it was
    assert not panel.is_playing and panel.play_button.text() == "Play"
    paused = panel.transport.position_beats
    assert paused > 2.0 and sounding_after(port.messages()) == set()
    panel.toggle_play()  # and on from there, not from the start
    assert panel.is_playing and panel.transport.position_beats >= paused
    panel.stop_button.click()  # Stop: silent, back to the start
    assert not panel.is_playing and panel.transport.position_beats == 0.0
    assert sounding_after(port.messages()) == set()
    panel.stop_shortcut.activated.emit()  # Home (the Stop shortcut) when stopped stays at the start
    assert panel.transport.position_beats == 0.0
