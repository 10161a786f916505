"""Playback in the window: the transport is there, Jam extends the take, Export audio makes sound."""

from __future__ import annotations

import wave

import numpy as np
import pytest
from PySide6.QtWidgets import QWidget
from test_ui_window import TIMEOUT, generate

from musicvae_app.playback.synth import unavailable_reason


def test_transport_sits_in_the_window_and_follows_the_sketch(qtbot, window):
    panel = window.findChild(QWidget, "playbackPanel")
    assert panel is window.playback and panel.isVisible()
    generate(qtbot, window)
    window.playback.playhead_moved.emit(6.5)
    assert all(lane.playhead.isVisible() and lane.playhead.value() == 6.5 for lane in window.lanes.lanes)


def test_jam_continues_the_take_and_undo_takes_it_back(qtbot, window):
    song = generate(qtbot, window)
    with qtbot.waitSignal(window.songChanged, timeout=TIMEOUT):
        assert window.jam_more()
    longer = window.song
    assert longer.n_chunks == song.n_chunks + 1
    assert np.array_equal(longer.probs[:, : song.n_steps], song.probs)
    window.undo_stack.undo()
    assert window.song.n_chunks == song.n_chunks


@pytest.mark.skipif(unavailable_reason() is not None, reason=f"FluidSynth: {unavailable_reason()}")
def test_export_audio_renders_the_audible_lanes(qtbot, window, tmp_path):
    generate(qtbot, window)
    path = window.export_audio(tmp_path / "take.wav")
    assert path is not None
    with wave.open(str(path)) as w:
        frames = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    assert frames.size > 0 and np.sqrt(np.mean(frames.astype(float) ** 2)) > 50


def test_export_audio_errors_keep_the_sketch(qtbot, window, tmp_path):
    assert window.export_audio(tmp_path / "x.wav") is None  # nothing generated yet
    assert "Generate" in window.last_error
    song = generate(qtbot, window)
    assert window.export_audio(tmp_path / "missing" / "x.wav") is None
    assert window.last_error and window.song is song


@pytest.mark.skipif(unavailable_reason() is not None, reason=f"FluidSynth: {unavailable_reason()}")
def test_a_chosen_soundfont_is_used_and_a_bad_one_is_refused(qtbot, window, tmp_path):
    from musicvae_app.playback.synth import find_soundfont

    system = find_soundfont()
    assert not window.choose_soundfont(tmp_path / "missing.sf2")
    assert "missing.sf2" in window.last_error and "does not exist" in window.last_error
    assert window.choose_soundfont(system)
    assert window.playback.soundfont == str(system)
    assert window.settings.value("playback/soundfont") == str(system)  # remembered in the window's settings
    generate(qtbot, window)
    assert window.export_audio(tmp_path / "take.wav") is not None


def test_click_seeks_and_the_loop_region_snaps_to_bars(qtbot, window):
    from musicvae_app.ui.playback_panel import PlaybackPanel

    generate(qtbot, window)
    panel: PlaybackPanel = window.playback
    with qtbot.waitSignal(panel.playhead_moved, timeout=5000) as moved:
        window.lanes.seekRequested.emit(6.0)
    assert moved.args == [6.0]
    assert all(lane.playhead.value() == 6.0 for lane in window.lanes.lanes)
    panel.loop_box.setChecked(True)
    assert panel._loop_setting() is True  # Loop alone repeats the whole sketch
    drums = window.lanes.lanes[-1]
    with qtbot.waitSignal(window.lanes.loopChanged, timeout=5000) as changed:
        window.lanes._drag_loop(3.2, 14.5, True)  # a drag over bars 1-4
    assert changed.args == [0.0, 16.0] and drums.loop.isVisible()
    with qtbot.waitSignal(window.lanes.loopChanged, timeout=5000) as changed:
        drums.loop.setRegion((3.2, 14.5))  # moving its edges snaps them to the nearest bar lines
    assert changed.args == [4.0, 16.0]
    assert panel._loop_setting() == (4.0, 16.0)
