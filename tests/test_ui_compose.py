"""The composing controls in the real window (offscreen, tiny pack): key and scale lock, regenerate a bar range,
morph to take, lane density and feel. Each goes through the Session, is undoable and saved with the sketch."""

from __future__ import annotations

import mido
import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QDialog, QPushButton

from musicvae_app.playback.schedule import schedule
from musicvae_app.sketch.song import LANES
from musicvae_app.theory.feel import TICKS_PER_BEAT
from musicvae_app.ui.main_window import MainWindow

TIMEOUT = 60000
GUITAR, BASS = LANES.index("guitar"), LANES.index("bass")


def generate(qtbot, w: MainWindow):
    with qtbot.waitSignal(w.songChanged, timeout=TIMEOUT):
        qtbot.mouseClick(w.findChild(QPushButton, "generateButton"), Qt.MouseButton.LeftButton)
    return w.song


def track_notes(path) -> dict[str, set[tuple[int, int, int]]]:
    """{track name: {(pitch, start tick, end tick)}} of a .mid read back with mido."""
    out: dict[str, set] = {}
    for track in mido.MidiFile(str(path)).tracks[1:]:
        tick, name, held, notes = 0, None, {}, set()
        for msg in track:
            tick += msg.time
            if msg.type == "track_name":
                name = msg.name
            elif msg.type == "note_on" and msg.velocity:
                held[msg.note] = tick
            elif msg.type in ("note_off", "note_on") and msg.note in held:
                notes.add((msg.note, held.pop(msg.note), tick))
        out[name] = notes
    return out


def shift_drag(qtbot, lane_view, from_beats: float, to_beats: float, ctrl: bool = False) -> None:
    """A real Shift(+Ctrl)+left-drag across a lane's plot, from one beat to another, through Qt mouse events."""
    vb = lane_view.vb
    mods = Qt.KeyboardModifier.ShiftModifier | (Qt.KeyboardModifier.ControlModifier if ctrl else Qt.KeyboardModifier(0))
    y = vb.viewRange()[1][0] + 0.5
    points = [lane_view.mapFromScene(vb.mapViewToScene(QPointF(b, y))) for b in np.linspace(from_beats, to_beats, 6)]
    viewport = lane_view.viewport()
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton

    def send(kind, pos, button, buttons):
        p = QPointF(pos)
        event = QMouseEvent(kind, p, viewport.mapToGlobal(p), button, buttons, mods)
        QApplication.sendEvent(viewport, event)

    send(QMouseEvent.Type.MouseButtonPress, points[0], left, left)
    for pos in points[1:]:
        send(QMouseEvent.Type.MouseMove, pos, none, left)
    send(QMouseEvent.Type.MouseButtonRelease, points[-1], left, none)
    qtbot.wait(10)


def outside(notes: set, lo: int, hi: int) -> set:
    """Notes that neither touch nor cross the tick range [lo, hi]."""
    return {n for n in notes if n[2] < lo or n[1] > hi}


def test_key_combo_and_scale_lock_reach_the_generate_and_come_back_with_the_sketch(qtbot, window, engine, tmp_path):
    from test_session import e_minor_primer

    bar = window.bar
    assert bar.key.itemText(0) == "Auto" and bar.key.count() == 25
    assert [bar.key.itemText(i) for i in (7, 8, 22)] == ["Eb major", "Eb minor", "Bb minor"]
    bar.key.setCurrentIndex(bar.key.findText("E minor"))
    qtbot.mouseClick(bar.scale_lock, Qt.MouseButton.LeftButton)
    assert window.session.settings.key == "E minor" and window.session.settings.scale_lock
    song = generate(qtbot, window)
    assert song.settings["key"].startswith("E minor") and song.settings["scale_lock"] is True
    assert "sketch in E minor" in bar.key_info.text() and "E minor" in window.sketch_length.text()
    window.save_sketch(tmp_path / "k.mvsketch")

    other = MainWindow(engine, data_dir=tmp_path / "other", restore="no")
    qtbot.addWidget(other)
    assert other.bar.key_value() is None and not other.bar.scale_lock.isChecked()
    assert other.open_sketch(tmp_path / "k.mvsketch")
    assert other.bar.key.currentText() == "E minor" and other.bar.scale_lock.isChecked()
    assert other.session.settings.key == "E minor"

    window.open_primer(e_minor_primer(tmp_path / "em.mid"))
    qtbot.waitUntil(lambda: window.session.primer is not None, timeout=TIMEOUT)
    assert bar.key.itemText(0) == "From primer: E minor" and "primer in E minor" in bar.key_info.text()
    bar.key.setCurrentIndex(0)
    assert window.session.settings.key is None


def test_shift_drag_selects_bars_and_regenerating_them_keeps_every_other_note_bit_identical(qtbot, window, tmp_path):
    song = generate(qtbot, window)  # 4 chunks of 4 bars (the tiny pack: 2 steps a beat, 32-step chunks)
    before = track_notes(window.export_midi(tmp_path / "before.mid"))
    lanes = window.lanes.lanes
    shift_drag(qtbot, lanes[GUITAR], 4 * 4 + 1.0, 4 * 5 + 2.0)  # inside bars 5-6: snaps out to the chunk, bars 5-8
    assert window.lanes.selected_bars() == (5, 8, [GUITAR])
    assert lanes[GUITAR].pick.isVisible() and not lanes[BASS].pick.isVisible()
    assert "Bars 5-8 of guitar selected" in window.statusBar().currentMessage()
    shift_drag(qtbot, lanes[BASS], 4 * 6.0, 4 * 5.0, ctrl=True)  # Ctrl+Shift adds a lane
    assert window.lanes.selected_bars() == (5, 8, [GUITAR, BASS])
    steps = len(window.undo_stack.steps)
    with qtbot.waitSignal(window.songChanged, timeout=TIMEOUT):
        qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    new = window.song
    assert len(window.undo_stack.steps) == steps + 1
    assert window.undo_stack.undo_text == "Regenerate bars 5-8 (guitar, bass)"
    lo, hi = song.chunk_steps, 2 * song.chunk_steps
    others = [i for i in range(len(LANES)) if i not in (GUITAR, BASS)]
    assert np.array_equal(new.probs[others], song.probs[others])
    for lane in (GUITAR, BASS):
        assert np.array_equal(new.probs[lane, :lo], song.probs[lane, :lo])
        assert np.array_equal(new.probs[lane, hi:], song.probs[lane, hi:])
    assert not np.array_equal(new.probs[[GUITAR, BASS], lo:hi], song.probs[[GUITAR, BASS], lo:hi])

    after = track_notes(window.export_midi(tmp_path / "after.mid"))  # and in the file a DAW reads
    tick = TICKS_PER_BEAT // song.steps_per_beat
    for name in before:
        if name.lower() in ("guitar", "bass"):
            assert outside(after[name], lo * tick, hi * tick) == outside(before[name], lo * tick, hi * tick), name
        else:
            assert after[name] == before[name], name
    assert window.lanes.selected_bars() == (5, 8, [GUITAR, BASS])  # kept: regenerate again if you like
    window.undo_stack.undo()
    assert window.song is song


def test_the_lane_menu_regenerates_the_chunk_under_the_mouse_on_all_lanes(qtbot, window):
    song = generate(qtbot, window)
    window.lanes.clear_selection()
    assert not window.regenerate_bars()  # nothing selected: says how to select
    assert "Shift+drag" in window.statusBar().currentMessage()
    menu = window.lane_menu(GUITAR, 4 * 9 + 1.0, QPoint(10, 10))  # bar 10: the third chunk, bars 9-12
    texts = [a.text() for a in menu.actions() if a.text()]
    assert texts[:2] == ["Regenerate bars 9-12 of guitar", "Regenerate bars 9-12 of all lanes"]
    every = next(a for a in menu.actions() if a.objectName() == "regenerateBarsAllAction")
    with qtbot.waitSignal(window.songChanged, timeout=TIMEOUT):
        every.trigger()
    menu.close()
    new = window.song
    lo, hi = 2 * song.chunk_steps, 3 * song.chunk_steps
    assert np.array_equal(new.probs[:, :lo], song.probs[:, :lo])
    assert np.array_equal(new.probs[:, hi:], song.probs[:, hi:])
    assert not np.array_equal(new.probs[:, lo:hi], song.probs[:, lo:hi])
    assert window.undo_stack.undo_text == "Regenerate bars 9-12 (all lanes)"
    assert all(lane.pick.isVisible() for lane in window.lanes.lanes)


def test_morph_to_take_from_the_take_strip_is_a_new_take_and_one_undo_step(qtbot, window):
    assert window.morph_dialog() is None  # no takes yet: says why
    window.bar.variations.setValue(2)
    generate(qtbot, window)
    button = window.bar.takes.morph
    assert button.isEnabled() and button.text() == "Morph…"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    dialog = window.findChild(QDialog, "morphDialog")
    assert dialog is not None and dialog.isVisible()
    assert dialog.take.count() == 1 and dialog.take.currentText() == "Take 2"
    dialog.steps.setValue(5)
    steps = len(window.undo_stack.steps)
    with qtbot.waitSignal(window.songChanged, timeout=TIMEOUT):
        dialog.accept()
    assert len(window.session.takes) == 3 and window.session.index == 2
    assert window.song.n_chunks == 5 and window.bar.takes.label.text() == "Take 3 / 3"
    assert len(window.undo_stack.steps) == steps + 1
    window.undo_stack.undo()
    assert len(window.session.takes) == 2


def test_closing_morph_gives_the_keys_back_to_the_window(qtbot, window):
    """Issue 21 bug 3: after the Morph dialog closed, Ctrl and Space shortcuts were dead until a click."""
    window.bar.variations.setValue(2)
    generate(qtbot, window)
    window.show()
    for close in ("reject", "accept"):
        dialog = window.morph_dialog()
        qtbot.waitUntil(dialog.isVisible, timeout=TIMEOUT)
        getattr(dialog, close)()
        qtbot.waitUntil(lambda: window.focusWidget() is window.lanes, timeout=TIMEOUT)
        assert not dialog.isVisible()


def test_a_lane_density_spin_is_live_one_undo_step_and_saved(qtbot, window, engine, tmp_path, monkeypatch):
    song = generate(qtbot, window)
    for name in ("generate", "regenerate_lane", "continue_song", "infill", "morph"):
        monkeypatch.setattr(engine, name, lambda *a, **k: pytest.fail("the engine was called"))
    spin = window.headers[BASS].density
    assert spin.value() == 1.0 and spin.minimum() == 0.25 and spin.maximum() == 4.0
    steps = len(window.undo_stack.steps)
    cells = [int(window.song.notes()[BASS].sum())]
    image_before = window.lanes.lanes[BASS].image.image.copy()
    for _ in range(5):  # holding the up arrow: one undo step
        spin.stepUp()
        cells.append(int(window.song.notes()[BASS].sum()))
    assert window.song.density == {"bass": 1.5} and cells == sorted(cells) and cells[-1] > cells[0]
    assert len(window.undo_stack.steps) == steps + 1
    assert np.array_equal(window.song.probs, song.probs)
    assert window.headers[BASS].count.text() == f"{window.song.note_counts()['bass']} notes"
    assert not np.array_equal(window.lanes.lanes[BASS].image.image, image_before)  # drawn as it plays
    window.save_sketch(tmp_path / "d.mvsketch")
    window.undo_stack.undo()
    assert spin.value() == 1.0 and window.song is song
    assert window.open_sketch(tmp_path / "d.mvsketch")
    assert spin.value() == 1.5


def test_the_feel_row_swings_playback_export_and_drag_out_alike(qtbot, window, tmp_path):
    from PySide6.QtCore import QUrl

    song = generate(qtbot, window)
    feel = window.feel
    assert feel.isVisible() and window.playback.isAncestorOf(feel)
    steps = len(window.undo_stack.steps)
    for value in range(51, 61):  # a slider drag to 60 %
        feel.swing.setValue(value)
    assert window.song.feel.swing == 60 and feel.swing_label.text() == "60 %"
    assert len(window.undo_stack.steps) == steps + 1
    half = TICKS_PER_BEAT // 2
    swung_tick = round(0.6 * TICKS_PER_BEAT)

    def off_beats(starts):
        return [t % TICKS_PER_BEAT for t in starts if t % TICKS_PER_BEAT in (half, swung_tick)]

    exported = track_notes(window.export_midi(tmp_path / "swung.mid"))
    starts = [n[1] for notes in exported.values() for n in notes]
    assert off_beats(starts) and set(off_beats(starts)) == {swung_tick}
    mime = window._drag_mime()  # Drag MIDI writes the same file
    dragged = track_notes(QUrl(mime.urls()[0]).toLocalFile())
    assert dragged == exported
    beat = 60.0 / window.song.tempo  # playback: the player's schedule of the same take
    on_times = [t for t, msg in schedule(window.song) if msg.type == "note_on"]
    fractions = {round((t / beat) % 1.0, 3) for t in on_times}
    assert 0.6 in fractions and 0.5 not in fractions

    feel.grid.setCurrentText("16th")
    feel.humanize_ms.setValue(8)
    feel.humanize_velocity.setValue(10)
    felt = window.song.feel
    assert (felt.swing_grid, felt.humanize_ms, felt.humanize_velocity) == ("16th", 8, 10)
    assert len(window.undo_stack.steps) == steps + 4
    assert np.array_equal(window.song.probs, song.probs)
    window.undo_stack.undo()
    assert feel.humanize_velocity.value() == 0 and window.song.feel.humanize_ms == 8


def test_the_new_controls_fit_1024x600_without_overlaps(qtbot, window):
    generate(qtbot, window)
    window.resize(1024, 600)
    qtbot.wait(50)
    assert (window.width(), window.height()) == (1024, 600)
    bar, feel, panel = window.bar, window.feel, window.playback
    parts = [
        bar.key,
        bar.scale_lock,
        bar.takes.keep,
        bar.takes.morph,
        feel.swing,
        feel.swing_label,
        feel.grid,
        feel.humanize_ms,
        feel.humanize_velocity,
        panel.output_box,
        panel.play_button,
        panel.loop_box,
        panel.jam_box,
    ] + [h.density for h in window.headers]
    boxes = {}
    for w in parts:
        rect = w.rect().translated(w.mapTo(window, QPoint(0, 0)))
        assert w.isVisible() and window.rect().contains(rect), w.objectName()
        boxes[w.objectName() or repr(w)] = rect
    names = list(boxes)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert not boxes[a].intersects(boxes[b]), (a, b)
    for header in window.headers:  # the density spin shows its whole value
        spin = header.density
        assert spin.width() >= spin.fontMetrics().horizontalAdvance("×4.00")
    for lane in window.lanes.lanes:
        assert lane.height() >= 40
