"""Issue 31, items 4 and 5: the defects and frictions of a musician's first hour in the window, offscreen with
a real tiny pack (the screen-size checks on a real X server are in tests/test_real_x.py)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from jack_fixture import jack_server  # noqa: F401
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction, QColor, QCursor, QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialog, QStyle, QStyleOptionButton, QTableWidget, QTextBrowser

from musicvae_app.errors import disk_words
from musicvae_app.sketch import sketchfile
from musicvae_app.sketch.song import DRUMS, Song
from musicvae_app.theory.sections import Section
from musicvae_app.ui.controls import LaneHeader
from musicvae_app.ui.lanes_view import AXIS_WIDTH, LanesView
from musicvae_app.ui.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 60000


def generate(qtbot, w: MainWindow) -> Song:
    with qtbot.waitSignal(w.songChanged, timeout=TIMEOUT):
        w.generate()
    w.worker.wait()
    qtbot.wait(20)
    return w.song


def action(w: MainWindow, name: str) -> QAction:
    found = w.findChild(QAction, name)
    assert found is not None, name
    return found


# --- drum rows named where they play ---------------------------------------------------------------------
def drum_song(busy: list[int], quiet: list[int], bars: int = 8) -> Song:
    """Drums only: `busy` pitches hit every 8th, `quiet` pitches once each."""
    steps = bars * 16
    probs = np.zeros((5, steps, 128), dtype=np.float32)
    for p in busy:
        probs[DRUMS, ::2, p] = 0.9
    for i, p in enumerate(quiet):
        probs[DRUMS, 4 * i + 1, p] = 0.9
    return Song(probs=probs, steps_per_beat=4, chunk_steps=64, threshold=0.5)


def named_rows(lane) -> list[int]:
    axis = lane.row_axis
    lo, hi = lane.vb.viewRange()[1]
    values = axis.tickValues(lo, hi, lane.vb.height())[0][1]
    return [int(axis.rows[axis.label_rows.get(v, int(v))]) for v in values]


def test_drum_rows_that_play_are_named_first_and_long_names_are_elided(qtbot):
    view = LanesView([LaneHeader(i) for i in range(5)])
    qtbot.addWidget(view)
    view.resize(900, 600)
    view.show()
    # 16 drums; the busy ones are every other row up from Kick 2 (35): under the old every-other-row naming
    # the open and closed hi-hats (42, 46) and the ride (51) went unnamed beside a tom that never played much.
    busy, quiet = [36, 42, 46, 51], [35, 37, 38, 39, 40, 41, 43, 44, 45, 47, 48, 49]
    view.set_song(drum_song(busy, quiet))
    lane = view.lanes[DRUMS]
    lane.setFixedHeight(110)  # a short drum lane: not every row can be named
    qtbot.wait(50)
    assert lane.vb.height() < 16 * lane.row_axis.label_height  # the room is short: some rows go unnamed
    named = named_rows(lane)
    assert set(busy) <= set(named), named
    assert len(named) >= int(lane.vb.height() // lane.row_axis.label_height) - 1  # the room is used
    heights = sorted(v for v in lane.row_axis.tickValues(*lane.vb.viewRange()[1], lane.vb.height())[0][1])
    px = lane.vb.height() / len(lane.rows)
    assert all((b - a) * px >= lane.row_axis.label_height - 1e-6 for a, b in zip(heights, heights[1:]))  # no overlap
    strings = lane.row_axis.tickStrings(heights, 1, 1)
    assert all(lane.row_axis.metrics.horizontalAdvance(s) <= AXIS_WIDTH - 12 for s in strings)


def test_drum_names_fill_the_drum_lane_at_1024x600(qtbot, window):
    generate(qtbot, window)
    window.resize(1024, 600)
    qtbot.wait(50)
    lane = window.lanes.lanes[DRUMS]
    n, room = len(lane.rows), int(lane.vb.height() // lane.row_axis.label_height)
    named = named_rows(lane)
    assert len(named) >= min(n, room) - 2, (named, n, room)
    hits = lane.row_axis.hits
    assert int(lane.rows[int(np.argmax(hits))]) in named  # the busiest drum is always named


# --- the saved name and the chord lane survive quit and crash ------------------------------------------------
def test_save_then_quit_reopens_under_the_saved_name(qtbot, engine, tmp_path):
    data = tmp_path / "data"
    first = MainWindow(engine, data_dir=data, restore="no")
    qtbot.addWidget(first)
    first.bar.steps.set_value(1)
    generate(qtbot, first)
    first.autosave.flush()  # the autosave of the generated take is on disk before the Save
    assert first.save_sketch(tmp_path / "song.mvsketch")
    first.close()  # at once: within the autosave's wait
    assert sketchfile.load(data / "last.mvsketch").settings["path"] == str(tmp_path / "song.mvsketch")
    second = MainWindow(engine, data_dir=data, restore=None)
    qtbot.addWidget(second)
    assert second.sketch_path == tmp_path / "song.mvsketch"
    assert second.windowTitle().startswith("song.mvsketch") and "Untitled" not in second.windowTitle()


KILLED = textwrap.dedent(
    """
    import sys, time
    from PySide6.QtWidgets import QApplication
    from musicvae_app.engine import Engine
    from musicvae_app.ui.main_window import MainWindow

    app = QApplication([])
    w = MainWindow(Engine.load(sys.argv[1], device="cpu"), data_dir=sys.argv[2], restore="no")
    w.bar.steps.set_value(1)
    w.show()
    def wait(cond):
        deadline = time.time() + 60
        while not cond() and time.time() < deadline:
            app.processEvents()
            time.sleep(0.01)
    w.generate()
    wait(lambda: w.song is not None and not w.worker.busy)
    w.session.set_chords("Am F C G")
    wait(lambda: not w.worker.busy)
    w.session.set_chord(2, "Dm7")
    wait(lambda: not w.worker.busy)
    w.session.set_form("intro 2, verse 4, chorus 2")
    saves = w.autosave.saves
    wait(lambda: w.autosave.saves > saves and not w.autosave.timer.isActive())  # the debounced autosave
    print(repr(w.session.chord_lane()), flush=True)
    print(repr([s.to_dict() for s in w.session.sections()]), flush=True)
    app.exec()
    """
)


def test_the_chord_lane_and_form_survive_a_kill(qtbot, engine, tiny_pack, tmp_path):
    data = tmp_path / "data"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED, str(tiny_pack), str(data)], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        lane, sections = proc.stdout.readline().strip(), proc.stdout.readline().strip()
    finally:
        proc.kill()  # SIGKILL: no close, no last save
        proc.wait(30)
    assert lane.startswith("[") and "Dm7" in lane, lane
    w = MainWindow(engine, data_dir=data, restore="yes")
    qtbot.addWidget(w)
    assert repr(w.session.chord_lane()) == lane
    assert w.arrangement.chord_lane.chords == eval(lane)  # drawn, not only held  # noqa: S307
    assert repr([s.to_dict() for s in w.session.sections()]) == sections


# --- the window fits its screen; scroll bar; zoom; Home -------------------------------------------------------
def test_the_window_is_never_bigger_than_its_screen(qtbot, window):
    area = window.screen().availableGeometry()
    window.resize(4000, 3000)
    window.fit_to_screen()
    assert window.width() <= max(area.width(), window.minimumSizeHint().width())
    assert window.frameGeometry().height() <= area.height()
    assert area.contains(window.statusBar().mapToGlobal(window.statusBar().rect().bottomRight()))
    assert window.minimumSizeHint().width() <= 1024 and window.minimumSizeHint().height() <= 600


def test_scroll_bar_zoom_around_the_playhead_and_the_mouse_and_home(qtbot, window):
    song = generate(qtbot, window)
    lanes, total = window.lanes, song.n_steps / song.steps_per_beat
    bar = lanes.scroll
    assert bar.isVisible() and bar.maximum() == 0  # the whole song on screen: nothing to scroll
    window.set_playhead(total * 0.75)
    QCursor.setPos(window.mapToGlobal(QPoint(5, 5)))  # the mouse is not over the roll: the playhead anchors
    action(window, "zoomInAction").trigger()
    lo, hi = lanes.view_range()
    assert hi - lo == pytest.approx(total / 2) and lo <= total * 0.75 <= hi
    assert (total * 0.75 - lo) / (hi - lo) == pytest.approx(0.75, abs=0.02)  # it stayed where it was on screen
    assert bar.maximum() > 0 and bar.value() == round(lo * 100) and bar.pageStep() == round((hi - lo) * 100)
    bar.setValue(0)  # dragging the scroll bar moves the roll
    assert lanes.view_range()[0] == pytest.approx(0) and lanes.view_range()[1] == pytest.approx(hi - lo)
    # Over the roll, the beat under the mouse stays put.
    lane = lanes.lanes[1]
    target = total * 0.3
    scene = lane.vb.mapViewToScene(lane.vb.mapSceneToView(lane.vb.sceneBoundingRect().center()))
    point = lane.mapFromScene(lane.vb.mapViewToScene(type(scene)(target, scene.y())))
    QCursor.setPos(lane.mapToGlobal(point))
    if QCursor.pos() != lane.mapToGlobal(point):
        pytest.skip("this platform cannot move the mouse pointer")
    under = lanes.mouse_beats()
    assert under == pytest.approx(target, abs=0.1)
    action(window, "zoomInAction").trigger()
    lo2, hi2 = lanes.view_range()
    assert hi2 - lo2 == pytest.approx((hi - lo) / 2)
    assert lanes.mouse_beats() == pytest.approx(under, abs=0.1)
    # Home: back to the start, on screen too.
    bar.setValue(bar.maximum())
    QCursor.setPos(window.mapToGlobal(QPoint(5, 5)))
    lanes.setFocus()
    QTest.keyClick(lanes, Qt.Key.Key_Home)
    assert lanes.view_range()[0] == pytest.approx(0) and bar.value() == 0


# --- shortcuts after typing in a box ---------------------------------------------------------------------------
@pytest.mark.parametrize("done_key", [Qt.Key.Key_Return, Qt.Key.Key_Escape])
def test_shortcuts_work_from_a_number_box_and_enter_or_esc_gives_the_keys_back(qtbot, window, done_key):
    generate(qtbot, window)
    window.activateWindow()
    tempo = window.bar.tempo
    tempo.setFocus()
    qtbot.waitUntil(tempo.hasFocus)
    asked = []
    window.export_dialog = lambda: asked.append("export")  # the Ctrl+E action calls the window's dialog
    action(window, "exportAction").triggered.disconnect()
    action(window, "exportAction").triggered.connect(lambda: asked.append("export"))
    QTest.keyClick(tempo, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)  # a line edit's "end of line"
    assert asked == ["export"]
    tempo.lineEdit().selectAll()
    QTest.keyClicks(tempo, "97")
    QTest.keyClick(tempo, done_key)
    qtbot.wait(20)
    assert (
        not tempo.hasFocus()
        and window.lanes.isAncestorOf(QApplication.focusWidget())
        or (QApplication.focusWidget() is window.lanes)
    )
    if done_key == Qt.Key.Key_Return:
        assert window.session.settings.tempo == 97  # Enter applied the value before letting go


def test_text_editing_keys_stay_with_the_box(qtbot, window):
    seed = window.bar.seed
    seed.setFocus()
    qtbot.waitUntil(seed.hasFocus)
    seed.setText("12345")
    QTest.keyClick(seed, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)  # select all, not a window action
    assert seed.selectedText() == "12345"


# --- labels right at every size -----------------------------------------------------------------------------
def test_next_length_follows_a_form_longer_than_steps(qtbot, window):
    generate(qtbot, window)
    window.bar.steps.set_value(1)  # 2 chunks
    steps_bars = window.bar.bars_of(1)
    assert window.bar.length.text().startswith(f"next: {steps_bars:.0f} bars")
    window.session.set_form("intro 4, verse 8, chorus 8, verse 8, chorus 8, outro 4")  # 40 bars
    assert window.bar.length.text().startswith("next: 40 bars"), window.bar.length.text()
    assert "form" in window.bar.length.toolTip()
    with qtbot.waitSignal(window.songChanged, timeout=TIMEOUT):
        window.generate()
    assert window.song.n_bars == 40  # what the label said


def test_next_length_is_the_followed_parts(qtbot, window, tmp_path):
    import mido

    mid = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    mid.tracks.append(track)
    for i in range(4 * 12):  # 12 bars of quarter notes
        track.append(mido.Message("note_on", note=60 + i % 5, velocity=90, time=0))
        track.append(mido.Message("note_off", note=60 + i % 5, velocity=0, time=480))
    mid.save(tmp_path / "part.mid")
    window.bar.steps.set_value(7)
    assert window.session.follow_part(tmp_path / "part.mid")
    qtbot.waitUntil(lambda: window.session.part_song is not None, timeout=TIMEOUT)
    bars = window.session.part_song.n_bars
    assert window.bar.length.text().startswith(f"next: {bars} bars") and bars != window.bar.bars_of(7)
    assert "part" in window.bar.length.toolTip()
    window.session.stop_following()
    assert window.bar.length.text().startswith(f"next: {window.bar.bars_of(7):.0f} bars")


def test_the_whole_seed_shows_at_1024x600(qtbot, window):
    window.resize(1024, 600)
    window.bar.seed.setText("2147483647")
    qtbot.wait(20)
    seed = window.bar.seed
    room = seed.contentsRect().width() - seed.textMargins().left() - seed.textMargins().right()
    assert seed.fontMetrics().horizontalAdvance(seed.text()) <= room - 4


def test_chord_names_never_run_together_at_whole_song_zoom(qtbot, window):
    window.bar.steps.set_value(7)  # 32 bars of 4-bar chunks
    generate(qtbot, window)
    window.session.set_chords("F#dim D5 C D | D/A G C C | D/F# G C D | Gsus2 G C D")
    window.worker.wait()
    qtbot.wait(20)
    window.resize(1024, 600)
    window.lanes.fit()
    qtbot.wait(50)
    lane = window.arrangement.chord_lane
    shown = [item for item in lane.labels if item.isVisible()]
    assert shown, "some chord names show"
    boxes = sorted((item.mapRectToScene(item.boundingRect()) for item in shown), key=lambda r: r.left())
    for a, b in zip(boxes, boxes[1:]):
        assert a.right() <= b.left(), "two chord names overlap"


def test_generate_says_loading_model_while_the_pack_loads(qtbot, tiny_pack, tmp_path):
    w = MainWindow(pack=str(tiny_pack), data_dir=tmp_path / "data", restore="no")
    qtbot.addWidget(w)
    if w.engine is None:
        assert w.bar.generate.text().replace("\n", " ") == "Loading model…"
        assert not w.playback.listed  # the MIDI ports and the synth wait for the pack
    qtbot.waitUntil(lambda: w.engine is not None, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: w.playback.listed, timeout=5000)  # and come right after it
    assert w.bar.generate.text() == "Generate"
    w.worker.busyChanged.emit(True)
    assert w.bar.generate.text() == "Working…"  # a generation, not the pack
    w.worker.busyChanged.emit(False)


# --- Morph keeps sections and length ---------------------------------------------------------------------------
def test_morph_keeps_the_length_and_the_sections(qtbot, window):
    window.bar.variations.setValue(2)
    window.bar.steps.set_value(9)  # 10 chunks of 4 bars: 40 bars
    window.session.set_form("intro 4, verse 12, chorus 8, verse 8, chorus 8")
    song = generate(qtbot, window)
    assert song.n_bars == 40 and len(song.sections) == 5
    from musicvae_app.ui import compose

    dialog = compose.morph_dialog(window.views)
    assert dialog.steps.value() * song.chunk_steps // song.steps_per_bar == 40
    with qtbot.waitSignal(window.songChanged, timeout=TIMEOUT):
        dialog.accept()
    morph = window.song
    assert morph is not song and morph.n_bars == 40 and morph.sections == song.sections
    short = window.session.morph_to_take(0, 3)  # a shorter morph keeps the sections it reaches
    assert short
    window.worker.wait()
    qtbot.wait(20)
    cut = window.song
    assert cut.n_bars == 12 and cut.sections == [Section("intro", 1, 4), Section("verse", 5, 8)]


# --- every disk error in words --------------------------------------------------------------------------------
def locked_folder(tmp_path: Path) -> Path:
    """A folder this process cannot write: a read-only one of its own, or (as root, who writes anywhere
    mode bits forbid) sysfs, which refuses new files to root too."""
    if os.geteuid() != 0:
        folder = tmp_path / "locked"
        folder.mkdir()
        folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
        return folder
    return Path("/sys")


def unlock(folder: Path) -> None:
    if folder != Path("/sys"):
        folder.chmod(stat.S_IRWXU)


def test_wav_export_into_a_read_only_folder_says_why_in_words(qtbot, window, tmp_path):
    from musicvae_app.playback.synth import unavailable_reason

    if unavailable_reason(window.playback.soundfont):
        pytest.skip(unavailable_reason(window.playback.soundfont))
    generate(qtbot, window)
    folder = locked_folder(tmp_path)
    try:
        assert window.export_audio(folder / "song.wav") is None
        job = window.export_audio_in_background(folder / "song.wav")  # File > Export audio runs this one
        job.wait(60)
        qtbot.waitUntil(lambda: window.audio_export is None, timeout=TIMEOUT)
    finally:
        unlock(folder)
    assert not (folder / "song.wav").exists()
    assert "Errno" not in window.last_error and "permission" in window.last_error, window.last_error


def test_disk_errors_are_words():
    erofs = OSError(30, "Read-only file system", "/mnt/x/song.wav")
    assert "[Errno" not in disk_words(erofs) and "read-only" in disk_words(erofs)
    assert "full" in disk_words(OSError(28, "No space left on device"))
    assert disk_words(ValueError("bad")) == "bad"
    from musicvae_app.sketch.jobs import message

    said = message(PermissionError(13, "Permission denied", "/x/y.wav"))
    assert "Errno" not in said and "/x/y.wav" in said and "permission" in said


def test_a_real_disk_error_reads_in_words(tmp_path):
    folder = locked_folder(tmp_path)
    try:
        with pytest.raises(OSError) as info:
            (folder / "x.wav").write_bytes(b"x")
    finally:
        unlock(folder)
    assert "[Errno" in str(info.value) and "[Errno" not in disk_words(info.value)


# --- visible checkboxes ------------------------------------------------------------------------------------------
def test_unticked_checkboxes_show_on_the_dark_theme(qtbot, window):
    for box in (window.playback.loop_box, window.playback.jam_box, window.bar.seed_lock, window.bar.scale_lock):
        box.setChecked(False)
        image = box.grab().toImage()
        option = QStyleOptionButton()
        box.initStyleOption(option)
        square = box.style().subElementRect(QStyle.SubElement.SE_CheckBoxIndicator, option, box)
        ratio = box.devicePixelRatioF()
        inside = [
            QColor(image.pixel(int(x * ratio), int(y * ratio))).lightness()
            for x in range(square.left() + 1, square.right())
            for y in range(square.top() + 1, square.bottom())
        ]
        background = QColor("#2b2e36").lightness()
        assert max(inside) - background >= 25, box.text()  # the square and its rim stand out


# --- File > New; Help -------------------------------------------------------------------------------------------
def test_file_new_starts_an_untitled_sketch_and_undo_brings_the_last_back(qtbot, window, tmp_path):
    song = generate(qtbot, window)
    window.save_sketch(tmp_path / "a.mvsketch")
    window.session.set_chords("Am F C G")
    window.worker.wait()
    action(window, "newSketchAction").trigger()
    assert window.song is None and window.sketch_path is None and window.session.chart is None
    assert window.windowTitle().startswith("Untitled sketch")
    assert action(window, "newSketchAction").shortcut() == QKeySequence(QKeySequence.StandardKey.New)
    window.session.undo()
    assert window.song is not None and window.song.n_bars == song.n_bars


def test_help_lists_the_shortcuts_and_opens_the_guide(qtbot, window):
    action(window, "shortcutsAction").trigger()
    dialog = window.findChild(QDialog, "shortcutsDialog")
    assert dialog is not None and dialog.isVisible()
    table = dialog.findChild(QTableWidget, "shortcutsTable")
    rows = {(table.item(r, 1).text(), table.item(r, 2).text()) for r in range(table.rowCount())}
    assert ("Generate", "Ctrl+G") in rows and ("Export MIDI…", "Ctrl+E") in rows and ("New sketch", "Ctrl+N") in rows
    assert any(keys == "Space" for _, keys in rows) and any(keys == "Home" for _, keys in rows)
    action(window, "guideAction").trigger()
    guide = window.findChild(QDialog, "guideDialog")
    text = guide.findChild(QTextBrowser, "guideText").toPlainText()
    first_heading = next(line for line in (ROOT / "docs" / "guide.md").read_text().splitlines() if line.strip())
    assert first_heading.lstrip("# ").strip() in text and len(text) > 1000


# --- recording: the band plays along, notes drawn as played, the count-in at once ---------------------------------
def test_recording_count_in_at_once_band_along_and_notes_drawn_as_played(qtbot, window, jack_server):  # noqa: F811
    import mido
    import rtmidi

    from musicvae_app.playback.ports import RecordingPort
    from musicvae_app.playback.recorder import LEAD_SECONDS
    from musicvae_app.sketch.song import LANES

    piano, bass = LANES.index("piano"), LANES.index("bass")
    window.bar.steps.set_value(1)
    song = generate(qtbot, window)
    keys = rtmidi.MidiOut(rtapi=rtmidi.API_UNIX_JACK, name="test-keys")
    keys.open_virtual_port("keys")
    try:
        port = RecordingPort("out")
        window.playback.use_output(port, "out")  # clicks, the band and the echoed keys land here
        window.set_tempo(180)
        dialog = window.record_dialog()
        dialog.refresh()
        dialog.input_box.setCurrentText("test-keys:keys (JACK)")
        dialog.lane_box.setCurrentIndex(piano)
        assert dialog.band.isChecked()
        clicked = time.perf_counter()
        dialog.record_button.click()
        returned = time.perf_counter()
        rec = dialog.recorder
        # the count-in is scheduled from the press itself, its first click LEAD_SECONDS (20 ms) after it: not at the
        # next bar, not after a generate (what the click's send time then is depends on the machine's load alone)
        first = rec.downbeat - rec.count_in_beats * rec.beat_seconds
        assert clicked <= first <= returned + LEAD_SECONDS
        qtbot.waitUntil(lambda: bool(rec.clicks), timeout=5000)
        assert rec.clicks[0][1] == 0 and rec.clicks[0][0] >= first  # the count-in's first beat, none skipped
        qtbot.waitUntil(lambda: rec.position_beats >= 0.5, timeout=10000)
        keys.send_message(mido.Message("note_on", note=67, velocity=100).bytes())
        qtbot.waitUntil(lambda: 67 in window.lanes.lanes[piano].rows, timeout=2000)  # held: drawn already
        lane = window.lanes.lanes[piano]
        qtbot.waitUntil(lambda: len(lane.take.opts["x0"]) == 1, timeout=2000)
        row = int(np.searchsorted(lane.rows, 67))
        assert lane.take.opts["y0"][0] == pytest.approx(row + 0.1) and lane.take.opts["x0"][0] >= 0
        qtbot.wait(300)
        keys.send_message(mido.Message("note_off", note=67).bytes())
        qtbot.wait(300)
        band = [(t, m) for t, m in port.received if m.type == "note_on" and m.velocity and m.channel not in (0, 9)]
        assert band, "the band played along"
        assert min(t for t, _ in band) >= rec.downbeat - 0.005  # not before the first downbeat
        assert not [m for _, m in port.received if m.type == "note_on" and m.channel == 0 and m.note != 67]
        with qtbot.waitSignal(window.songChanged, timeout=TIMEOUT):
            dialog.record_button.click()
        assert len(window.lanes.lanes[piano].take.opts["x0"]) == 0  # the take is now the sketch's own
        assert window.session.part_lanes() == [piano] and song is not window.song
        assert bass not in window.session.part_lanes()
    finally:
        keys.close_port()
        keys.delete()
