"""Issue 12, "A musician's first ten minutes": the window items, offscreen with a real tiny pack."""

from __future__ import annotations

import json
import shutil

import mido
import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QLabel, QPushButton, QWidget

from musicvae_app.sketch.midi import write_midi
from musicvae_app.sketch.song import Song
from musicvae_app.ui.main_window import MainWindow

TIMEOUT = 60000


def generate(qtbot, w: MainWindow):
    with qtbot.waitSignal(w.songChanged, timeout=TIMEOUT):
        qtbot.mouseClick(w.findChild(QPushButton, "generateButton"), Qt.MouseButton.LeftButton)
    return w.song


def lane_point(lane, beats: float) -> QPoint:
    """Where a beat is on a lane's widget, halfway up the lane."""
    _, (bottom, top) = lane.vb.viewRange()
    scene = lane.vb.mapViewToScene(QPointF(beats, (bottom + top) / 2))
    return lane.mapFromScene(scene)


def drag(qtbot, lane, start_beats: float, end_beats: float) -> None:
    """A real left-button drag across a lane, through Qt's mouse events."""
    viewport = lane.viewport()
    a, b = lane_point(lane, start_beats), lane_point(lane, end_beats)
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=a)
    for i in range(1, 11):
        qtbot.mouseMove(viewport, a + (b - a) * (i / 10))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=b)


# --- item 4: Loop repeats the sketch until a region is dragged on any lane ----------------------
def test_loop_is_the_whole_sketch_until_a_region_is_dragged_on_any_lane(qtbot, window):
    song = generate(qtbot, window)
    assert song.n_bars == 16
    panel = window.playback
    panel.loop_box.setChecked(True)
    assert panel._loop_setting() is True  # the whole sketch, not bars 1-4
    assert not any(lane.loop.isVisible() for lane in window.lanes.lanes)
    for lane_index, (a, b), expected in ((4, (17.0, 30.0), (16.0, 32.0)), (0, (5.0, 9.0), (4.0, 12.0))):
        lane = window.lanes.lanes[lane_index]
        with qtbot.waitSignal(window.lanes.loopChanged, timeout=5000):
            drag(qtbot, lane, a, b)
        assert panel._loop_setting() == expected, lane_index
        assert all(v.loop.isVisible() and v.loop.getRegion() == expected for v in window.lanes.lanes)
    window.lanes._drag_loop(None, None, True)  # a double-click clears the region: the whole sketch again
    assert panel._loop_setting() is True


# --- item 5: the sketch's own length is shown, apart from the next Generate's -------------------
def test_length_labels_say_the_sketch_and_the_next_generate(qtbot, window):
    song = generate(qtbot, window)
    sketch = window.findChild(QLabel, "sketchLengthLabel")
    assert sketch.isVisible() and sketch.text().startswith(f"Sketch: {song.n_bars} bars")
    window.bar.steps.set_value(7)
    assert window.bar.length.text().startswith("next: 32 bars")
    assert sketch.text().startswith("Sketch: 16 bars")  # unchanged: it describes the sketch on screen


# --- item 6: a typed seed is used without Lock ---------------------------------------------------
def test_a_typed_seed_is_used_without_lock(qtbot, window):
    assert not window.bar.seed_lock.isChecked()
    window.bar.seed.clear()
    qtbot.keyClicks(window.bar.seed, "4242")
    first = generate(qtbot, window)
    assert first.settings["seed"] == 4242
    second = generate(qtbot, window)  # nothing typed this time: a new random seed
    assert second.settings["seed"] != 4242
    window.bar.seed.clear()
    qtbot.keyClicks(window.bar.seed, "4242")
    again = generate(qtbot, window)
    assert again.settings["seed"] == 4242 and np.array_equal(again.probs, first.probs)


# --- item 7: the primer's tempo is used and shown -------------------------------------------------
def test_the_primer_tempo_is_used_and_shown(qtbot, window, tmp_path):
    source = generate(qtbot, window)
    fast = Song(source.probs, source.steps_per_beat, source.chunk_steps, source.threshold, tempo=144.0)
    path = write_midi(fast, tmp_path / "fast.mid")
    window.bar.tempo.setValue(95)
    assert window.open_primer(path)
    qtbot.waitUntil(lambda: "144 BPM" in window.bar.primer.text(), timeout=60000)
    assert window.bar.tempo.value() == 144
    assert window.song.tempo == 95  # the sketch on screen keeps its tempo until the next Generate
    song = generate(qtbot, window)
    assert song.tempo == pytest.approx(144.0)


# --- item 8: our own drag is no primer; a long name does not widen the window --------------------
def drop(window, path, source=None):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(
        QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    window.dropEvent(event)


def test_dropping_our_own_drag_back_is_ignored(qtbot, window):
    generate(qtbot, window)
    mime = window.findChild(QWidget, "dragHandle").make_mime()
    drop(window, mime.urls()[0].toLocalFile())
    assert window.primer is None and window.bar.primer.text() == "Primer: none"


def test_a_long_primer_name_is_elided_and_the_window_keeps_its_width(qtbot, window, tmp_path):
    song = generate(qtbot, window)
    before = window.minimumSizeHint().width()
    name = "a-very-long-primer-file-name-from-a-daw-export-" * 4 + "end.mid"
    path = write_midi(song, tmp_path / name)
    drop(window, path)
    qtbot.waitUntil(lambda: window.primer == path, timeout=60000)  # the file is read off the UI thread
    assert "…" in window.bar.primer.text() and name in window.bar.primer.toolTip()
    assert window.minimumSizeHint().width() <= before


# --- item 9: sketch files keep their name, open unmodified; exports follow the umask -------------
def test_a_saved_sketch_comes_back_under_its_name_after_a_clean_quit(qtbot, engine, tmp_path):
    data = tmp_path / "data"
    w = MainWindow(engine, data_dir=data, restore="no")
    qtbot.addWidget(w)
    w.bar.steps.set_value(1)
    generate(qtbot, w)
    assert w.save_sketch(tmp_path / "mine.mvsketch")
    w.close()
    w2 = MainWindow(engine, data_dir=data)
    qtbot.addWidget(w2)
    assert w2.song is not None
    assert w2.windowTitle().startswith("mine.mvsketch —")  # not "Untitled sketch", not modified
    generate(qtbot, w2)
    assert "•" in w2.windowTitle()
    w2.close()
    w3 = MainWindow(engine, data_dir=data)
    qtbot.addWidget(w3)
    assert w3.windowTitle().startswith("mine.mvsketch •")  # unsaved changes stay marked


def test_an_opened_sketch_is_not_marked_modified(qtbot, window, tmp_path):
    generate(qtbot, window)
    assert window.save_sketch(tmp_path / "a.mvsketch")
    generate(qtbot, window)
    assert window.open_sketch(tmp_path / "a.mvsketch")
    assert window.windowTitle().startswith("a.mvsketch —") and "•" not in window.windowTitle()


def test_exports_and_drag_files_get_the_users_permissions(qtbot, window, tmp_path):
    import os

    old = os.umask(0o022)
    try:
        generate(qtbot, window)
        mid = window.export_midi(tmp_path / "x.mid")
        stems = window.export_stems(tmp_path / "stems")
        dragged = window.findChild(QWidget, "dragHandle").make_mime().urls()[0].toLocalFile()
        assert window.save_sketch(tmp_path / "for-a-bandmate.mvsketch")
    finally:
        os.umask(old)
    modes = {p.stat().st_mode & 0o777 for p in [mid, *stems, tmp_path / "for-a-bandmate.mvsketch"]}
    modes |= {os.stat(dragged).st_mode & 0o777}
    assert modes == {0o644}


# --- item 12: the first screen ------------------------------------------------------------------
def test_first_screen_shows_a_hint_and_the_packs_defaults_before_it_loads(qtbot, tiny_pack, tmp_path):
    pack = tmp_path / "pack"
    shutil.copytree(tiny_pack, pack)
    card = json.loads((pack / "card.json").read_text())
    card["generation"] = {**card.get("generation", {}), "noise": 0.5, "threshold": 0.2}
    (pack / "card.json").write_text(json.dumps(card))
    w = MainWindow(data_dir=tmp_path / "data", restore="no", pack=str(pack))
    qtbot.addWidget(w)
    w.show()
    assert w.engine is None  # still loading: the card was read without torch
    assert (w.bar.noise.value(), w.bar.threshold.value()) == pytest.approx((0.5, 0.2))
    assert w.lanes.hint.isVisible() and "Generate" in w.lanes.hint.text()
    axis = w.lanes.lanes[-1].getPlotItem().getAxis("bottom")
    assert axis.labelString().count("x0.") == 0 and "bar" in axis.labelString()
    qtbot.waitUntil(lambda: w.engine is not None, timeout=TIMEOUT)
    assert (w.bar.noise.value(), w.bar.threshold.value()) == pytest.approx((0.5, 0.2))  # no jump
    generate(qtbot, w)
    assert not w.lanes.hint.isVisible()


# --- item 14: steps agree with the README; the window fits 1024x600 ------------------------------
def test_steps_span_four_to_sixty_four_bars_and_start_at_thirty_two(qtbot, engine, tmp_path):
    w = MainWindow(engine, data_dir=tmp_path / "data", restore="no")
    qtbot.addWidget(w)
    slider = w.bar.steps.slider
    assert w.bar.bars_of(slider.minimum()) == 4 and w.bar.bars_of(slider.maximum()) == 64
    assert w.bar.bars_of(slider.value()) == 32 and w.bar.length.text().startswith("next: 32 bars")


def test_the_window_fits_1024x600_without_overlaps(qtbot, window):
    generate(qtbot, window)
    window.bar.steps.set_value(window.bar.steps.slider.maximum())
    window.resize(1024, 600)
    qtbot.wait(50)
    assert (window.width(), window.height()) == (1024, 600)
    bar = window.bar
    parts = [
        bar.generate,
        bar.noise,
        bar.threshold,
        bar.steps,
        bar.length,
        bar.tempo,
        bar.variations,
        bar.seed,
        bar.dice,
        bar.seed_lock,
        bar.primer,
        bar.takes,
        bar.export,
        bar.drag,
    ]
    boxes = {}
    for w in parts:
        rect = w.rect().translated(w.mapTo(window, QPoint(0, 0)))
        assert w.isVisible() and window.rect().contains(rect), w.objectName() or type(w).__name__
        boxes[w.objectName() or type(w).__name__] = rect
    names = list(boxes)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert not boxes[a].intersects(boxes[b]), (a, b)
    # The length label shows its whole text at the longest setting.
    assert bar.length.width() >= bar.length.fontMetrics().horizontalAdvance(bar.length.text())
    for lane in window.lanes.lanes:
        assert lane.height() >= 40


# --- item 15: a silent lane says what is true -------------------------------------------------------
def test_a_silent_lane_says_whether_the_threshold_or_the_model_hid_it(qtbot, window):
    probs = np.zeros((5, 64, 128), dtype=np.float32)
    probs[0, 0:4, 60] = 0.25  # piano: notes below the threshold
    probs[2, 0:4, 40] = 0.9  # bass plays; guitar, strings, drums got nothing from the model
    window.lanes.set_song(Song(probs, steps_per_beat=2, chunk_steps=32, threshold=0.3))
    piano, guitar, bass = window.lanes.lanes[:3]
    assert piano.empty.isVisible() and "lower it to 0.25" in piano.empty.textItem.toPlainText()
    assert guitar.empty.isVisible() and "gave this lane no notes" in guitar.empty.textItem.toPlainText()
    assert not bass.empty.isVisible()


# --- item 16: the keyboard comes back to the window after every dialog ----------------------------
@pytest.mark.parametrize("dialog", ["export_dialog", "stems_dialog", "primer_dialog", "open_sketch_dialog"])
def test_the_window_is_active_again_after_a_file_dialog(qtbot, window, monkeypatch, dialog):
    other = QWidget()
    qtbot.addWidget(other)

    def a_dialog_that_took_focus(*args, **kwargs):
        other.show()
        other.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is other, timeout=5000)
        other.hide()  # closed, and nobody (no window manager) hands the focus back
        return ("", "") if "Directory" not in kwargs.get("_kind", "") else ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", a_dialog_that_took_focus)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", a_dialog_that_took_focus)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: a_dialog_that_took_focus()[0])
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5000)
    getattr(window, dialog)()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5000)
    with qtbot.waitSignal(window.songChanged, timeout=TIMEOUT):
        qtbot.keyClick(window, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)


def test_drum_hits_in_the_window_export_match_the_drum_lane(qtbot, window, tmp_path):
    song = generate(qtbot, window)
    path = window.export_midi(tmp_path / "d.mid")
    tracks = mido.MidiFile(str(path)).tracks
    hits = sum(m.type == "note_on" and m.velocity > 0 and m.channel == 9 for t in tracks for m in t)
    assert hits == int((window.lanes.lanes[4].image.image > 0).sum()) == int(song.notes()[4, :, 35:82].sum())


# --- item 3: WAV export renders in the background, says where it saved, can be cancelled ---------
needs_synth = pytest.mark.skipif(
    __import__("musicvae_app.playback.synth", fromlist=["x"]).unavailable_reason() is not None,
    reason="FluidSynth or a GM soundfont is missing",
)


@needs_synth
def test_wav_export_runs_in_the_background_and_says_where_it_saved(qtbot, window, tmp_path):
    import time
    import wave

    window.bar.steps.set_value(window.bar.steps.slider.maximum())  # 64 bars: seconds of rendering
    generate(qtbot, window)
    started = time.perf_counter()
    job = window.export_audio_in_background(tmp_path / "long.wav")
    assert job is not None and time.perf_counter() - started < 0.5  # the window is not frozen
    assert job.dialog.isVisible() and not job.dialog.isModal()
    values = []
    job.progressed.connect(values.append)
    with qtbot.waitSignal(job.done, timeout=120000) as done:
        pass
    assert done.args == [tmp_path / "long.wav"]
    assert values and max(values) > 500  # the progress bar moved
    assert window.statusBar().currentMessage() == f"Saved audio to {tmp_path / 'long.wav'}"
    with wave.open(str(tmp_path / "long.wav")) as w:
        assert w.getnframes() / w.getframerate() > 60
    assert not job.dialog.isVisible()


@needs_synth
def test_wav_export_can_be_cancelled(qtbot, window, tmp_path):
    window.bar.steps.set_value(window.bar.steps.slider.maximum())
    generate(qtbot, window)
    job = window.export_audio_in_background(tmp_path / "never.wav")
    with qtbot.waitSignal(job.done, timeout=120000) as done:
        qtbot.mouseClick(job.dialog.findChild(QPushButton), Qt.MouseButton.LeftButton)  # Cancel
    assert done.args == [None] and not (tmp_path / "never.wav").exists()
    assert "cancelled" in window.statusBar().currentMessage()
    assert window.audio_export is None  # a new export may start


# --- item 13: the built-in synth is the default output; long messages are elided, not cut ---------
def fake_outputs():
    from musicvae_app.playback.ports import BUILT_IN, Output, OutputList

    return OutputList(
        [Output("musicvae-app (virtual JACK port)", "virtual", "UNIX_JACK", "musicvae-app"), Output(BUILT_IN, "synth")]
    )


def test_the_built_in_synth_is_the_default_output_and_a_choice_is_remembered(qtbot, tmp_path, monkeypatch):
    from PySide6.QtCore import QSettings

    from musicvae_app.playback import transport
    from musicvae_app.ui import playback_panel

    monkeypatch.setattr(transport, "list_outputs", fake_outputs)  # the panel's Transport lists the outputs
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    panel = playback_panel.PlaybackPanel(lambda: None, settings=settings)
    qtbot.addWidget(panel)
    assert panel.output_box.currentText() == "Built-in synth"  # JACK present: still the synth that sounds
    panel.output_box.setCurrentText("musicvae-app (virtual JACK port)")  # the user's choice
    again = playback_panel.PlaybackPanel(lambda: None, settings=settings)
    qtbot.addWidget(again)
    assert again.output_box.currentText() == "musicvae-app (virtual JACK port)"


def test_a_long_playback_message_is_elided_with_the_whole_text_a_click_away(qtbot, window):
    from PySide6.QtWidgets import QMessageBox

    panel = window.playback
    text = "could not open 'Built-in synth': " + "no audio device answered, try another output; " * 8 + "END"
    panel._fail(text)
    status = panel.status
    assert status.text().endswith("…") and "END" not in status.text()
    assert status.fontMetrics().horizontalAdvance(status.text()) <= status.width()
    assert status.toolTip() == text
    assert window.minimumSizeHint().width() <= 1024
    qtbot.mouseClick(status, Qt.MouseButton.LeftButton)
    box = window.findChild(QMessageBox, "playbackMessage")
    assert box is not None and box.text() == text
    bar = window.statusBar()
    assert "END" not in bar.currentMessage() and bar.currentMessage().endswith("…")
    assert text in bar.toolTip()


# --- item 11: every drum row in use is named; no label is cut ------------------------------------
def test_every_drum_row_is_labelled_and_no_label_is_cut(qtbot, window):
    from musicvae_app.ui import gm

    probs = np.zeros((5, 128, 128), dtype=np.float32)
    kit = [36, 38, 42, 46, 49, 51, 45, 48]  # kick, snare, hats, crash, ride, two toms
    for i, pitch in enumerate(kit):
        probs[4, i::8, pitch] = 0.9
    probs[0, 0:4, 24] = probs[0, 8:12, 96] = 0.9  # a piano part spanning C1..C7
    window.lanes.set_song(Song(probs, steps_per_beat=2, chunk_steps=32, threshold=0.3))
    window.resize(1280, 800)
    qtbot.wait(50)
    for lane in window.lanes.lanes[:1] + window.lanes.lanes[4:]:
        axis = lane.row_axis
        low, high = lane.vb.viewRange()[1]
        height = lane.vb.height()
        values = axis.tickValues(low, high, height)[0][1]
        names = axis.tickStrings(values, 1, 1)
        px = height / (high - low)
        for v in values:  # the whole label inside the lane
            assert (v - low) * px >= axis.label_height / 2 and (high - v) * px >= axis.label_height / 2, v
        for a, b in zip(sorted(values), sorted(values)[1:]):  # and apart from its neighbour
            assert (b - a) * px >= axis.label_height - 2
        if axis.drums:
            assert sorted(names) == sorted(gm.drum_name(p) for p in kit)
        else:
            assert len(names) >= 3 and all(n.startswith("C") for n in names)
