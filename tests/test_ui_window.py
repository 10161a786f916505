"""The sketchpad window, offscreen with a real tiny pack: what a musician sees and gets."""

from __future__ import annotations

import numpy as np
import pretty_midi
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QMessageBox, QPushButton, QSlider, QSpinBox, QToolButton, QWidget

from musicvae_app.sketch.midi import lane_notes, read_primer, write_midi
from musicvae_app.sketch.song import LANES
from musicvae_app.ui.main_window import MainWindow

TIMEOUT = 60000


def generate(qtbot, w: MainWindow):
    with qtbot.waitSignal(w.songChanged, timeout=TIMEOUT):
        qtbot.mouseClick(w.findChild(QPushButton, "generateButton"), Qt.MouseButton.LeftButton)
    return w.song


def forbid_engine(monkeypatch, engine):
    def called(*args, **kwargs):
        raise AssertionError("the engine was called")

    for name in ("generate", "regenerate_lane", "continue_song", "reconstruct"):
        monkeypatch.setattr(engine, name, called)


def error_boxes(w: MainWindow) -> list[QMessageBox]:
    return [b for b in w.findChildren(QMessageBox) if b.isVisible()]


def test_widgets_are_findable_by_name(window):
    names = {
        "generateButton": QPushButton,
        "noiseSlider": QSlider,
        "thresholdSlider": QSlider,
        "stepsSlider": QSlider,
        "tempoSpin": QSpinBox,
        "seedEdit": QWidget,
        "variationsSpin": QSpinBox,
        "exportButton": QPushButton,
        "dragHandle": QWidget,
    }
    for name, kind in names.items():
        assert window.findChild(kind, name) is not None, name
    for lane in LANES:
        assert window.findChild(QWidget, f"lane_{lane}") is not None
        assert window.findChild(QToolButton, f"regenerate_{lane}") is not None


def test_generate_fills_all_five_lanes(qtbot, window):
    song = generate(qtbot, window)
    assert song.n_chunks == 4
    counts = song.note_counts()
    assert all(counts[lane] > 0 for lane in LANES), counts
    for lane, view in zip(LANES, window.lanes.lanes):
        assert window.findChild(QWidget, f"lane_{lane}") is view
        assert (view.image.image > 0).sum() > 0
        assert window.headers[LANES.index(lane)].count.text() == f"{counts[lane]} notes"
    assert window.bar.seed.text() == str(song.settings["seed"])
    assert "ms" in window.time_label.text() and "CPU" in window.device_label.text()


def test_regenerate_guitar_changes_guitar_only(qtbot, window):
    before = generate(qtbot, window)
    with qtbot.waitSignal(window.songChanged, timeout=TIMEOUT):
        qtbot.mouseClick(window.findChild(QToolButton, "regenerate_guitar"), Qt.MouseButton.LeftButton)
    after = window.song
    g = LANES.index("guitar")
    assert not np.array_equal(after.probs[g], before.probs[g])
    for i in range(len(LANES)):
        if i != g:
            assert np.array_equal(after.probs[i], before.probs[i]), LANES[i]


def test_threshold_rethresholds_without_the_engine(qtbot, window, engine, monkeypatch):
    song = generate(qtbot, window)
    forbid_engine(monkeypatch, engine)
    slider = window.findChild(QSlider, "thresholdSlider")
    image_before = window.lanes.lanes[0].image.image.copy()
    slider.setValue(slider.value() + 25)
    assert window.song.threshold == pytest.approx(song.threshold + 0.25)
    assert sum(window.song.note_counts().values()) < sum(song.note_counts().values())
    assert np.array_equal(window.song.probs, song.probs)  # no new randomness
    assert not np.array_equal(window.lanes.lanes[0].image.image, image_before)
    assert window.findChild(QWidget, "thresholdSliderValue").text() == f"{window.song.threshold:.2f}"
    slider.setValue(slider.value() - 40)
    assert sum(window.song.note_counts().values()) > sum(song.note_counts().values())
    window.undo_stack.undo()  # a drag is one undo step
    assert window.song.threshold == pytest.approx(song.threshold)
    assert slider.value() == round(song.threshold * 100)


def test_lock_keeps_a_lane_through_generate(qtbot, window):
    first = generate(qtbot, window)
    window.findChild(QToolButton, "lock_bass").setChecked(True)
    second = generate(qtbot, window)
    b = LANES.index("bass")
    assert np.array_equal(second.notes()[b], first.notes()[b])
    assert not np.array_equal(second.notes()[LANES.index("piano")], first.notes()[LANES.index("piano")])


def test_undo_restores_the_previous_sketch_exactly(qtbot, window):
    first = generate(qtbot, window)
    snapshot = first.probs.copy()
    second = generate(qtbot, window)
    assert not np.array_equal(second.probs, snapshot)
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.song is first and np.array_equal(window.song.probs, snapshot)
    assert window.lanes.song is first
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert window.song is second


def test_takes_flip_keep_and_undo(qtbot, window):
    window.bar.variations.setValue(3)
    generate(qtbot, window)
    takes = window.state.takes
    assert len(takes) == 3 and window.bar.takes.label.text() == "Take 1 / 3"
    qtbot.mouseClick(window.findChild(QToolButton, "nextTake"), Qt.MouseButton.LeftButton)
    assert window.song is takes[1] and window.bar.takes.label.text() == "Take 2 / 3"
    qtbot.mouseClick(window.findChild(QPushButton, "keepTake"), Qt.MouseButton.LeftButton)
    assert window.state.takes == (takes[1],)
    window.undo_stack.undo()
    assert window.state.takes == takes and window.song is takes[1]


def test_bad_primer_shows_an_error_and_keeps_the_sketch(qtbot, window, tmp_path):
    song = generate(qtbot, window)
    bad = tmp_path / "broken.mid"
    bad.write_bytes(b"this is not midi")
    window.open_primer(bad)  # read off the UI thread; the error comes back when the read ends
    qtbot.waitUntil(lambda: "broken.mid" in (window.last_error or ""), timeout=TIMEOUT)
    assert error_boxes(window) and window.song is song and window.primer is None


def test_primer_seeds_the_next_generate(qtbot, window, tmp_path):
    source = generate(qtbot, window)
    path = write_midi(source, tmp_path / "primer.mid")
    assert window.open_primer(path)
    qtbot.waitUntil(lambda: "primer.mid" in window.bar.primer.text(), timeout=TIMEOUT)
    song = generate(qtbot, window)
    primer = read_primer(path, song.steps_per_beat, song.chunk_steps)
    assert primer.any() and np.array_equal(song.notes()[:, : song.chunk_steps], primer)


def test_the_tempo_box_holds_every_tempo_a_primer_may_have(qtbot, window, tmp_path):
    """Issue 21 bug 4: the box went from 40 to 240 BPM, so a 300 BPM primer was clamped; limits say 20-400."""
    from band_files import write_band_midi

    assert (window.bar.tempo.minimum(), window.bar.tempo.maximum()) == (20, 400)
    assert window.open_primer(write_band_midi(tmp_path / "fast.mid", bars=4, tempo=300))
    qtbot.waitUntil(lambda: "fast.mid" in window.bar.primer.text(), timeout=TIMEOUT)
    assert window.bar.tempo.value() == 300


def test_the_primer_label_keeps_its_tempo_whole(window):
    """Issue 21 bug 2: a long primer name pushed its tempo out of the label ("Primer: primer_1...iano.mid ·")."""
    label = window.bar.primer
    window.bar.set_primer("primer_1_a_very_long_name_for_a_band_with_piano.mid", 128.0)
    assert label.text().endswith(" · 128 BPM") and "…" in label.text()
    assert label.fontMetrics().horizontalAdvance(label.text()) <= label.width()
    assert "primer_1_a_very_long_name_for_a_band_with_piano.mid" in label.toolTip()


def test_export_and_stems_read_back(qtbot, window, tmp_path):
    song = generate(qtbot, window)
    path = window.export_midi(tmp_path / "out.mid")
    pm = pretty_midi.PrettyMIDI(str(path))
    expected = {lane.capitalize(): len(lane_notes(song, i)) for i, lane in enumerate(LANES) if lane_notes(song, i)}
    assert {inst.name: len(inst.notes) for inst in pm.instruments} == expected
    assert [inst.is_drum for inst in pm.instruments][-1] is True
    stems = window.export_stems(tmp_path / "stems")
    assert len(stems) == len(expected)
    for stem in stems:
        lane = stem.stem.rsplit("-", 1)[1]
        inst = pretty_midi.PrettyMIDI(str(stem)).instruments
        assert [i.name for i in inst] == [lane.capitalize()]


def test_export_follows_instrument_and_mutes(qtbot, window, tmp_path):
    generate(qtbot, window)
    window.headers[0].program.setCurrentIndex(5)
    assert window.song.programs[0] == 5
    window.findChild(QToolButton, "mute_strings").setChecked(True)
    assert window.lane_mutes() == [False, False, False, True, False]
    assert window.lanes.lanes[3].image.opacity() < 1 and window.lanes.lanes[2].image.opacity() == 1
    pm = pretty_midi.PrettyMIDI(str(window.export_midi(tmp_path / "m.mid")))
    names = {i.name: i.program for i in pm.instruments}
    assert "Strings" not in names and names["Piano"] == 5
    window.findChild(QToolButton, "solo_bass").setChecked(True)
    assert window.lane_mutes() == [True, True, False, True, True]
    window.undo_stack.undo()
    assert window.song.programs[0] == 0 and window.headers[0].program.currentIndex() == 0


def test_export_to_an_unwritable_place_keeps_the_sketch(qtbot, window, tmp_path):
    song = generate(qtbot, window)
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    assert window.export_midi(blocker / "out.mid") is None
    assert "Could not write" in window.last_error and error_boxes(window)
    assert window.song is song
    assert window.export_stems(blocker / "stems") == []


def test_drag_carries_a_fresh_mid_url(qtbot, window):
    song = generate(qtbot, window)
    mime = window.findChild(QWidget, "dragHandle").make_mime()
    urls = mime.urls()
    assert len(urls) == 1 and urls[0].isLocalFile()
    path = urls[0].toLocalFile()
    assert path.endswith(".mid") and path.startswith(str(window.data_dir))
    pm = pretty_midi.PrettyMIDI(path)
    assert sum(len(i.notes) for i in pm.instruments) == sum(len(lane_notes(song, i)) for i in range(5))


def test_drag_with_no_sketch_explains(window):
    assert window.findChild(QWidget, "dragHandle").make_mime() is None
    assert "Generate one first" in window.last_error


def test_second_click_while_busy_is_queued_visibly(qtbot, window):
    calls = []
    window.songChanged.connect(lambda s: calls.append(s))
    assert window.generate()
    assert not window.generate()
    assert "queued" in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: len(calls) == 2 and not window.worker.busy, timeout=TIMEOUT)
    assert calls[0] is not calls[1]


def test_sketch_save_and_open_through_the_window(qtbot, window, tmp_path):
    window.bar.variations.setValue(2)
    generate(qtbot, window)
    takes = window.state.takes
    assert window.save_sketch(tmp_path / "mine.mvsketch")
    assert window.windowTitle().startswith("mine.mvsketch")
    generate(qtbot, window)
    assert window.open_sketch(tmp_path / "mine.mvsketch")
    assert len(window.state.takes) == 2
    for a, b in zip(takes, window.state.takes):
        assert np.array_equal(a.probs, b.probs)
    bad = tmp_path / "bad.mvsketch"
    bad.write_text("nope")
    assert not window.open_sketch(bad) and "bad.mvsketch" in window.last_error


def test_missing_pack_shows_a_message_and_the_window_stays(qtbot, tmp_path):
    w = MainWindow(None, data_dir=tmp_path / "data", restore="no", pack=tmp_path / "no-such-pack")
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.engine_error is not None, timeout=TIMEOUT)
    assert "no-such-pack" in w.last_error and "MUSICVAE_PACK" in w.last_error
    assert error_boxes(w)
    w.last_error = None
    assert not w.generate()
    assert "no-such-pack" in w.last_error
    assert w.pack_label.text() == "Pack: not found"


def test_settings_persist_between_runs(qtbot, engine, tmp_path):
    data = tmp_path / "data"
    w = MainWindow(engine, data_dir=data, restore="no")
    w.bar.noise.set_value(2.5)
    w.bar.steps.set_value(12)
    w.bar.tempo.setValue(93)
    w.bar.variations.setValue(4)
    w.close()
    w2 = MainWindow(engine, data_dir=data, restore="no")
    qtbot.addWidget(w2)
    assert (w2.bar.noise.value(), w2.bar.steps.value(), w2.bar.tempo.value(), w2.bar.variations.value()) == (
        2.5,
        12,
        93,
        4,
    )
    assert w2.bar.length.text().endswith("bars · " + w2.bar.length.text().split("· ")[1])


def test_ctrl_g_generates(qtbot, window):
    window.activateWindow()
    with qtbot.waitSignal(window.songChanged, timeout=TIMEOUT):
        qtbot.keyClick(window, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    assert window.song is not None


def test_dropping_a_mid_sets_the_primer(qtbot, window, tmp_path):
    song = generate(qtbot, window)
    path = write_midi(song, tmp_path / "dropped.mid")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(
        QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    window.dropEvent(event)
    qtbot.waitUntil(lambda: window.primer == path and "dropped.mid" in window.bar.primer.text(), timeout=TIMEOUT)


def test_generate_clicked_while_the_pack_loads_runs_when_it_is_ready(qtbot, tiny_pack, tmp_path):
    w = MainWindow(data_dir=tmp_path / "data", restore="no", pack=str(tiny_pack))
    qtbot.addWidget(w)
    w.bar.steps.set_value(1)
    assert w.engine is None  # still loading on the worker thread
    with qtbot.waitSignal(w.songChanged, timeout=TIMEOUT, check_params_cb=lambda song: song is not None):
        qtbot.mouseClick(w.findChild(QPushButton, "generateButton"), Qt.MouseButton.LeftButton)
    assert w.song is not None and w.song.n_chunks == 2


def test_a_lane_switched_out_of_the_band_stays_silent_and_is_saved(qtbot, window, tmp_path):
    guitar = window.findChild(QToolButton, "lineup_guitar")
    assert guitar.isChecked()  # all five lanes play by default
    guitar.setChecked(False)
    song = generate(qtbot, window)
    assert song.note_counts()["guitar"] == 0 and "guitar" not in song.lineup
    assert all(song.note_counts()[lane] > 0 for lane in song.lineup)
    assert window._snapshot().settings["lineup"] == [True, False, True, True, True]
    path = window.export_midi(tmp_path / "band.mid")
    assert "Guitar" not in {inst.name for inst in pretty_midi.PrettyMIDI(str(path)).instruments}


def test_export_after_a_threshold_change_records_the_new_threshold(qtbot, window, tmp_path):
    from musicvae_app.sketch.midi import read_settings

    generate(qtbot, window)
    window.bar.threshold.set_value(0.5)  # the slider forwards to the session
    assert window.song.threshold == pytest.approx(0.5) and window.session.settings.threshold == pytest.approx(0.5)
    out = window.export_midi(tmp_path / "t.mid")
    assert read_settings(out)["threshold"] == pytest.approx(0.5)


def test_lane_buttons_and_the_seed_forward_to_the_session(qtbot, window):
    session = window.session
    qtbot.mouseClick(window.findChild(QToolButton, "lock_bass"), Qt.MouseButton.LeftButton)
    qtbot.mouseClick(window.findChild(QToolButton, "solo_piano"), Qt.MouseButton.LeftButton)
    assert session.locks == [False, False, True, False, False]
    assert window.lane_mutes() == [False, True, True, True, True]
    window.bar.seed_lock.setChecked(True)
    window.bar.seed.setText("4321")
    window.bar.seed.textEdited.emit("4321")
    assert session.seed_locked and session.seed == 4321
    song = generate(qtbot, window)
    assert song.settings["seed"] == 4321 and window.bar.seed.text() == "4321"
    session.set_lane("bass", lock=False)  # the session's change is drawn on the button
    assert not window.findChild(QToolButton, "lock_bass").isChecked()


def test_a_primer_is_read_off_the_ui_thread_and_esc_stops_it(qtbot, window, tmp_path):
    from band_files import write_band_midi

    first = write_band_midi(tmp_path / "first.mid", bars=300, tempo=128)
    assert window.open_primer(first)
    assert window.session.primer_reading == first and window.session.primer is None  # the read is running
    qtbot.waitUntil(lambda: window.session.primer == first, timeout=TIMEOUT)
    second = write_band_midi(tmp_path / "second.mid", bars=300, tempo=90)
    window.open_primer(second)
    assert window.session.primer_reading == second
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not window.worker.busy, timeout=TIMEOUT)
    assert window.session.primer == first and window.session.primer_reading is None
    assert "Stopped reading second.mid" in window.statusBar().currentMessage()


def test_transpose_from_the_sketch_menu_is_one_undo_step(qtbot, window):
    song = generate(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    moved = window.song
    assert moved is not song and moved.settings["transpose"] == int(song.settings.get("transpose", 0)) + 1
    assert np.array_equal(moved.probs[0, :, 1:100], song.probs[0, :, :99])
    window.undo_stack.undo()
    assert np.array_equal(window.song.probs, song.probs)
