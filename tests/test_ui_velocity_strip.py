"""Issue 31, item 1: the velocity strip under the roll (View > Velocity strip), in the real window offscreen,
through real Qt mouse events on its plot: a drag on a bar changes that note's velocity (a chord's notes move
together), a drag across draws a line, a click sets the height; each one undo step, the bar pinned (kept at any
threshold) and the velocity in the exported .mid (read back with mido)."""

from __future__ import annotations

import mido
import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QAction, QMouseEvent
from PySide6.QtWidgets import QApplication

from musicvae_app.sketch.sketchfile import Sketch
from musicvae_app.sketch.song import LANES, Song

PIANO, BASS = LANES.index("piano"), LANES.index("bass")


def hand_song() -> Song:
    """Two bars: bass notes on every beat of bar 1, a three-note piano chord on beat 1 of bar 2."""
    probs = np.zeros((5, 32, 128), np.float32)
    for beat in range(4):
        probs[BASS, beat * 4 : beat * 4 + 2, 40 + beat] = 0.9
    probs[PIANO, 16:20, [60, 64, 67]] = 0.9
    return Song(probs=probs, steps_per_beat=4, chunk_steps=32, threshold=0.5)


def mouse(qtbot, strip, points) -> None:
    """A real left press at the first (beats, velocity) point, moves through the rest, release at the last."""
    plot = strip.plot
    viewport = plot.viewport()
    pixels = [plot.mapFromScene(strip.vb.mapViewToScene(QPointF(b, v))) for b, v in points]
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton

    def send(kind, pos, button, buttons):
        p = QPointF(pos)
        ev = QMouseEvent(kind, p, viewport.mapToGlobal(p), button, buttons, Qt.KeyboardModifier(0))
        QApplication.sendEvent(viewport, ev)

    send(QMouseEvent.Type.MouseButtonPress, pixels[0], left, left)
    for pos in pixels[1:]:
        qtbot.wait(20)  # pyqtgraph's scene drops moves closer together than its rate limit
        send(QMouseEvent.Type.MouseMove, pos, none, left)
    send(QMouseEvent.Type.MouseButtonRelease, pixels[-1], left, none)
    qtbot.wait(10)


@pytest.fixture
def strip(qtbot, window):
    window.resize(1280, 800)
    window.session.restore(Sketch([hand_song()]))
    found = window.findChild(QAction, "velocityStripAction")
    assert found is not None and found.isCheckable() and not window.velocity.plot.isVisible()
    found.trigger()  # View > Velocity strip
    qtbot.wait(50)
    assert window.velocity.plot.isVisible()
    window.lanes.fit()
    qtbot.wait(20)
    return window.velocity


def velocities(window, lane) -> dict[tuple[int, int], int]:
    return {n[:2]: n[3] for n in window.session.lane_notes(lane)}


def test_a_drag_on_a_bar_changes_its_velocity_in_one_undo_step(qtbot, window, strip, tmp_path):
    strip.show_lane(BASS)
    before = velocities(window, BASS)
    assert len(strip.notes) == 4 and window.session.edited_bars("bass") == []
    v0 = before[(41, 4)]
    target = 30 if v0 > 60 else 110
    count = window.undo_stack.count()
    mouse(qtbot, strip, [(1.0, v0 * 0.5), *[(1.0, v0 * 0.5 + (target - v0) * t) for t in np.linspace(0, 1, 5)]])
    after = velocities(window, BASS)
    assert after[(41, 4)] == pytest.approx(target, abs=2)
    assert {k: v for k, v in after.items() if k != (41, 4)} == {k: v for k, v in before.items() if k != (41, 4)}
    assert window.undo_stack.count() == count + 1  # one drag, one undo step
    assert window.session.edited_bars("bass") == [1]  # pinned like any note edit
    window.session.set_threshold(0.95)  # the edited bar keeps its notes and velocities at any threshold
    assert velocities(window, BASS)[(41, 4)] == after[(41, 4)]
    out = window.export_midi(tmp_path / "v.mid")
    track = next(t for t in mido.MidiFile(out).tracks if any(getattr(m, "name", "") == "Bass" for m in t))
    now, heard = 0, {}
    for msg in track:
        now += msg.time
        if msg.type == "note_on" and msg.velocity:
            heard[(msg.note, now)] = msg.velocity
    assert heard[(41, 480)] == after[(41, 4)]  # step 4 = beat 2 = tick 480
    window.session.set_threshold(0.5)
    window.session.undo()
    window.session.undo()  # the threshold, then the drag
    assert velocities(window, BASS) == before


def test_a_chord_moves_together_and_a_click_sets_the_height(qtbot, window, strip):
    strip.show_lane(PIANO)
    assert strip.choice.currentIndex() == PIANO
    before = velocities(window, PIANO)
    chord = [(60, 16), (64, 16), (67, 16)]
    mouse(qtbot, strip, [(4.0, 60.0), (4.0, 50.0), (4.0, 40.0)])  # down by 20
    after = velocities(window, PIANO)
    assert [after[k] - before[k] for k in chord] == pytest.approx([-20, -20, -20], abs=2)
    count = window.undo_stack.count()
    qtbot.wait(600)  # past the double-click time: a click of its own
    mouse(qtbot, strip, [(4.0, 70.0)])  # a click: the chord at 70
    assert [velocities(window, PIANO)[k] for k in chord] == pytest.approx([70, 70, 70], abs=2)
    assert window.undo_stack.count() == count + 1


def test_a_drag_across_draws_a_line_through_the_notes_it_crosses(qtbot, window, strip):
    strip.show_lane(BASS)
    count = window.undo_stack.count()
    before = velocities(window, BASS)[(40, 0)]
    # from velocity 20 at beat 0.4 (off the bars: a line) to 120 at beat 3.4, crossing the notes on beats 1-3
    mouse(qtbot, strip, [(0.4 + 3.0 * t, 20.0 + 100.0 * t) for t in np.linspace(0, 1, 6)])
    got = [velocities(window, BASS)[(40 + b, 4 * b)] for b in range(4)]
    assert got[0] == before  # before the line: untouched
    assert got[1:] == pytest.approx([20 + 100 * 0.6 / 3, 20 + 100 * 1.6 / 3, 20 + 100 * 2.6 / 3], abs=3)
    assert window.undo_stack.count() == count + 1


def test_the_strip_follows_the_selected_notes_lane(qtbot, window, strip):
    strip.show_lane(BASS)
    window.note_editor._select(PIANO, [(60, 16)])
    assert strip.lane == PIANO and strip.choice.currentIndex() == PIANO
    x, y = strip.moving.getData()  # the selected note's bar is drawn marked
    assert list(x) == [4.0, 4.0] and y[1] == velocities(window, PIANO)[(60, 16)]
    strip.choice.setCurrentIndex(BASS)  # or the lane picked in its header
    assert strip.lane == BASS and len(strip.notes) == 4
