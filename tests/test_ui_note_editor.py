"""Note editing in the real window (pytest-qt, offscreen), through real Qt mouse events on the lanes' plots:
click to add, drag to move, drag an end to resize, rubber band and Shift to select, Delete, Alt+drag velocity;
each one undo step; the edit exported (read back with mido). The mixer's faders and the new File entries."""

from __future__ import annotations

import mido
import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton

from musicvae_app.sketch.sketchfile import Sketch
from musicvae_app.sketch.song import LANES, Song

TIMEOUT = 60000
PIANO, BASS, DRUMS = LANES.index("piano"), LANES.index("bass"), LANES.index("drums")


def generate(qtbot, w):
    with qtbot.waitSignal(w.songChanged, timeout=TIMEOUT):
        qtbot.mouseClick(w.findChild(QPushButton, "generateButton"), Qt.MouseButton.LeftButton)
    return w.song


def mouse(qtbot, view, cells, mods=Qt.KeyboardModifier(0)) -> None:
    """A real left press at the first (beats, row) point, moves through the others, release at the last."""
    vb = view.vb
    points = [view.mapFromScene(vb.mapViewToScene(QPointF(b, r))) for b, r in cells]
    viewport = view.viewport()
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton

    def send(kind, pos, button, buttons):
        p = QPointF(pos)
        QApplication.sendEvent(viewport, QMouseEvent(kind, p, viewport.mapToGlobal(p), button, buttons, mods))

    send(QMouseEvent.Type.MouseButtonPress, points[0], left, left)
    for pos in points[1:]:
        send(QMouseEvent.Type.MouseMove, pos, none, left)
    send(QMouseEvent.Type.MouseButtonRelease, points[-1], left, none)
    qtbot.wait(10)


def drag(qtbot, view, start, end, mods=Qt.KeyboardModifier(0)) -> None:
    (b0, r0), (b1, r1) = start, end
    mouse(qtbot, view, [(b0 + (b1 - b0) * t, r0 + (r1 - r0) * t) for t in np.linspace(0, 1, 6)], mods)


def empty_cell(view, notes, spb: int) -> tuple[int, int]:
    """A (step, row) of the lane with no note on it and none on the row for two beats after it."""
    for row, pitch in enumerate(view.rows):
        taken = [n for n in notes if n[0] == pitch]
        for step in range(0, 4 * spb * 2, spb):
            if not any(n[1] < step + 2 * spb + 1 and n[2] > step for n in taken):
                return step, row
    raise AssertionError("no empty cell")


def hand_song() -> Song:
    """Four bars at 4 steps a beat: a bass line in one octave, a piano chord, a kick on the beat."""
    probs = np.zeros((5, 64, 128), np.float32)
    for bar, pitch in enumerate((40, 45, 43, 47)):
        probs[BASS, bar * 16 : bar * 16 + 6, pitch] = 0.8
        probs[BASS, bar * 16 + 8 : bar * 16 + 12, pitch + 5] = 0.8
    probs[PIANO, :, [60, 64, 67]] = 0.8
    probs[DRUMS, ::4, 36] = 0.8
    return Song(probs=probs, steps_per_beat=4, chunk_steps=64)


def test_click_drag_resize_select_delete_in_the_roll(qtbot, window, tmp_path):
    w = window
    w.session.restore(Sketch([hand_song()]))
    song = w.song
    w.lanes.lanes[0].setXRange(0, 8, padding=0)  # two bars across the lane: a beat is over 100 pixels
    qtbot.wait(10)
    spb = song.steps_per_beat
    editor = w.note_editor
    w.findChild(type(editor.toggle_action), "editNotesAction").trigger()
    assert editor.editing
    view = w.lanes.lanes[BASS]
    before = w.session.lane_notes("bass")
    step, row = empty_cell(view, before, spb)
    pitch = int(view.rows[row])
    count = w.undo_stack.count()

    # a click on an empty cell adds a beat-long note there, in the bass lane, and selects it
    mouse(qtbot, view, [((step + 0.5) / spb, row + 0.5)])
    added = (pitch, step, step + spb, 100)
    assert added in w.session.lane_notes("bass")
    assert w.undo_stack.count() == count + 1 and w.undo_stack.undo_text == "Add note"
    assert editor.selected == {(pitch, step)} and editor.lane == BASS

    row = int(np.flatnonzero(view.rows == pitch)[0])  # while editing, rows are only ever added
    # a drag on its end makes it two beats long
    drag(qtbot, view, ((step + spb - 0.1) / spb, row + 0.5), ((step + 2 * spb) / spb, row + 0.5))
    assert (pitch, step, step + 2 * spb, 100) in w.session.lane_notes("bass")
    assert w.undo_stack.undo_text == "Resize note"

    # a drag on its body moves it a beat later (time only: the same row)
    drag(qtbot, view, ((step + 0.5) / spb, row + 0.5), ((step + 0.5) / spb + 1, row + 0.5))
    moved = (pitch, step + spb, step + 3 * spb, 100)
    assert moved in w.session.lane_notes("bass")
    assert w.undo_stack.undo_text == "Move note"
    assert w.undo_stack.count() == count + 3

    # Alt+drag up on it: louder
    drag(
        qtbot,
        view,
        ((step + spb + 0.5) / spb, row + 0.5),
        ((step + spb + 0.5) / spb, row + 10.5),  # 40 pixels and more up
        Qt.KeyboardModifier.AltModifier,
    )
    louder = [n for n in w.session.lane_notes("bass") if n[:3] == moved[:3]]
    assert louder and louder[0][3] > 100 and w.undo_stack.undo_text == "Velocity"

    # the exported file holds the edited note as placed, with its velocity
    path = w.export_midi(tmp_path / "edited.mid")
    ticks = 480 // spb
    held, found = {}, []
    now = 0
    for msg in mido.MidiFile(path).tracks[1 + BASS]:
        now += msg.time
        if msg.type == "note_on" and msg.velocity:
            held[msg.note] = (now, msg.velocity)
        elif msg.type in ("note_off", "note_on") and msg.note in held:
            s, v = held.pop(msg.note)
            found.append((msg.note, s, now, v))
    assert (pitch, moved[1] * ticks, moved[2] * ticks, louder[0][3]) in found

    # a rubber band over the whole lane selects every note; Delete deletes them: one undo step
    beats = song.n_steps / spb
    drag(qtbot, view, (0.01, 0.01), (beats - 0.01, len(view.rows) - 0.01))
    assert len(editor.selected) == len(w.session.lane_notes("bass"))
    steps_before = w.undo_stack.count()
    editor.delete_action.trigger()
    assert w.session.lane_notes("bass") == [] and w.undo_stack.count() == steps_before + 1
    w.session.undo()
    assert w.session.lane_notes("bass") and (pitch, moved[1], moved[2], louder[0][3]) in w.session.lane_notes("bass")

    # edited bars are marked on the lane
    xs, _ = editor.overlays[BASS][2].getData()
    assert xs is not None and len(xs) == 2 * len(w.session.edited_bars("bass"))

    # Shift+click adds a second note to the selection; a Shift+click on it again takes it out
    other = next(n for n in w.session.lane_notes("bass") if n[:2] != moved[:2])
    editor.clear_selection()
    mouse(qtbot, view, [((moved[1] + 0.5) / spb, row + 0.5)])
    orow = int(np.flatnonzero(view.rows == other[0])[0])
    mouse(qtbot, view, [((other[1] + 0.5) / spb, orow + 0.5)], Qt.KeyboardModifier.ShiftModifier)
    assert editor.selected == {moved[:2], other[:2]}
    mouse(qtbot, view, [((other[1] + 0.5) / spb, orow + 0.5)], Qt.KeyboardModifier.ShiftModifier)
    assert editor.selected == {moved[:2]}

    # editing off: a click seeks again and adds nothing
    editor.toggle_action.trigger()
    n = len(w.session.lane_notes("bass"))
    mouse(qtbot, view, [((step + 0.5) / spb, row + 0.5)])
    assert len(w.session.lane_notes("bass")) == n


def test_editing_opens_rows_to_draw_on_a_drum_the_sketch_does_not_play(qtbot, window):
    w = window
    w.session.restore(Sketch([hand_song()]))
    w.lanes.lanes[0].setXRange(0, 8, padding=0)
    drums, bass = w.lanes.lanes[DRUMS], w.lanes.lanes[BASS]
    assert 39 not in drums.rows
    low = int(bass.rows[0])
    w.note_editor.toggle_action.trigger()
    assert {36, 38, 39, 42, 46, 49} <= set(drums.rows.tolist())
    assert int(bass.rows[0]) == low - 5  # room below the bass line
    row = int(np.flatnonzero(drums.rows == 39)[0])
    mouse(qtbot, drums, [(1.1, row + 0.5)])  # a hand clap on beat 2
    assert (39, 4, 5, 100) in w.session.lane_notes("drums")
    assert drums.vb.viewRange()[1][1] == pytest.approx(len(drums.rows))


def test_regenerate_asks_before_replacing_edited_notes(qtbot, window, monkeypatch):
    w = window
    generate(qtbot, w)
    w.session.add_note("guitar", 64, 0, length=2)
    asked = []
    monkeypatch.setattr(
        QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.Cancel
    )
    count = w.undo_stack.count()
    assert not w.regenerate_lane("guitar")
    assert "guitar bars 1" in asked[0] and w.undo_stack.count() == count


def test_the_mixer_sets_volume_and_pan_and_mirrors_mute(qtbot, window, tmp_path):
    w = window
    generate(qtbot, w)
    mixer = w.mixer
    w.findChild(type(mixer.toggle_action), "mixerAction").trigger()
    assert mixer.isVisible() and mixer.strips[BASS].isVisibleTo(w) and not w.headers[BASS].program.isVisibleTo(w)
    strip = mixer.strips[BASS]
    strip.volume.setValue(80)
    strip.volume.setValue(70)  # one drag
    strip.pan.setValue(30)
    assert w.song.volumes[BASS] == 70 and w.song.pans[BASS] == 30
    assert strip.pan_value.text() == "L34"
    assert w.undo_stack.undo_text == "Bass pan"
    w.session.undo()
    w.session.undo()
    assert w.song.volumes[BASS] == 100 and strip.volume.value() == 100  # the fader follows undo
    strip.pan.mouseDoubleClickEvent(
        QMouseEvent(
            QMouseEvent.Type.MouseButtonDblClick,
            QPointF(5, 5),
            QPointF(5, 5),
            Qt.MouseButton.LeftButton,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier(0),
        )
    )
    assert w.song.pans[BASS] == 64 and strip.pan_value.text() == "C"  # a double-click: the centre
    qtbot.mouseClick(strip.mute, Qt.MouseButton.LeftButton)  # the header's own Mute, beside the faders
    assert w.session.mutes[BASS]
    mixer.toggle_action.trigger()
    assert not strip.isVisibleTo(w) and w.headers[BASS].program.isVisibleTo(w)
    names = [a.objectName() for a in w.menus.file.actions()]
    assert names.index("exportAudioStemsAction") < names.index("soundfontAction")
    sheet = w.exports.export_lead_sheet(tmp_path / "sheet.musicxml", "piano")
    assert sheet is not None and b"<part-name>Piano</part-name>" in sheet.read_bytes()
