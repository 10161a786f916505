"""Issue 31: every drum row that plays is named, readable, at 1024x600 and 1280x800 (the real window, offscreen;
tests/test_real_x_fit.py counts them on a real X server). The drum lane shows only the drums that play, each
row at least a name high; when the window is too short for every lane, the lanes scroll up and down."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from musicvae_app.sketch.midi import GM_DRUM_RANGE
from musicvae_app.sketch.song import DRUMS, Song

TIMEOUT = 60000


def named_rows(lane) -> list[int]:
    """The pitches whose names the drum lane's axis draws now."""
    axis = lane.row_axis
    lo, hi = lane.vb.viewRange()[1]
    values = axis.tickValues(lo, hi, lane.vb.height())[0][1]
    return [int(axis.rows[axis.label_rows.get(v, int(v))]) for v in values]


def playing_rows(song: Song) -> set[int]:
    hits = song.notes(song.threshold)[DRUMS].any(axis=0)
    return {p for p in np.flatnonzero(hits) if GM_DRUM_RANGE[0] <= p <= GM_DRUM_RANGE[1]}


def kit_song(pitches: list[int], bars: int = 8) -> Song:
    """Drums only: each pitch hit a few times (the first every 8th), pitched lanes silent."""
    steps = bars * 16
    probs = np.zeros((5, steps, 128), dtype=np.float32)
    for i, p in enumerate(pitches):
        probs[DRUMS, (i % 16) :: 16 if i else 2, p] = 0.9
    return Song(probs=probs, steps_per_beat=4, chunk_steps=64, threshold=0.5)


def check_every_row_named(qtbot, window, song: Song) -> tuple[int, int]:
    lane = window.lanes.lanes[DRUMS]
    playing = playing_rows(song)
    assert set(int(p) for p in lane.rows) == playing  # only the drums that play get a row
    axis = lane.row_axis
    px = lane.vb.height() / len(lane.rows)
    assert px >= axis.label_height - 1, (px, axis.label_height)  # each row a name high
    named = named_rows(lane)
    assert sorted(named) == sorted(playing), (named, playing)
    # The drum lane can be brought wholly on screen (scrolled down to when the window is short).
    window.lanes.vscroll.setValue(window.lanes.vscroll.maximum())
    qtbot.wait(20)
    top = lane.mapTo(window.lanes.area.viewport(), lane.rect().topLeft()).y()
    view = window.lanes.area.viewport().height()
    if lane.height() <= view:
        assert top >= 0 and top + lane.height() <= view + 1, (top, lane.height(), view)
    else:  # a kit taller than the window: scrolled to the end, its bottom rows (kick, snare) are on screen
        assert top + lane.height() <= view + 1 and top < 0
    return len(named), len(playing)


@pytest.mark.parametrize("size", [(1280, 800), (1024, 600)])
def test_a_big_kit_has_every_row_named_at_the_issue_sizes(qtbot, window, size):
    window.resize(*size)
    kit = [35, 36, 37, 38, 39, 40, 41, 42, 44, 46, 49, 51, 54, 56]  # 14 drums: the issue's "2 of 14"
    song = kit_song(kit)
    window.lanes.set_song(song)
    qtbot.wait(50)
    named, playing = check_every_row_named(qtbot, window, song)
    assert (named, playing) == (14, 14)
    scroller = window.lanes.vscroll
    if size == (1024, 600):  # too short for five lanes and 14 named drums: the slim bar scrolls them
        assert scroller.isVisible() and scroller.maximum() > 0
        assert window.frameGeometry().height() <= 600 or window.height() <= 600
    # the slim bar lies over the lanes' right margin: the roll keeps its width (the chord lane's beats above)
    assert window.lanes.lanes[0].vb.width() == window.lanes.lanes[DRUMS].vb.width()


@pytest.mark.parametrize("size", [(1280, 800), (1024, 600)])
def test_a_generated_sketch_has_every_drum_that_plays_named(qtbot, window, size):
    with qtbot.waitSignal(window.songChanged, timeout=TIMEOUT):
        window.generate()
    window.worker.wait()
    window.resize(*size)
    qtbot.wait(50)
    check_every_row_named(qtbot, window, window.song)


def test_the_slim_bar_scrolls_the_lanes_and_goes_when_all_fits(qtbot, window):
    window.resize(1024, 600)
    window.lanes.set_song(kit_song(list(range(35, 60))))  # 25 drums
    qtbot.wait(50)
    bar = window.lanes.area.verticalScrollBar()
    assert bar.maximum() > 0 and bar.value() == 0
    window.lanes.vscroll.setValue(window.lanes.vscroll.maximum())  # the slim bar drives the lanes
    assert bar.value() == bar.maximum()
    window.lanes.set_song(kit_song([36, 38, 42]))  # a small kit: everything fits again, the bar goes
    qtbot.wait(50)
    assert bar.maximum() == 0 and not window.lanes.vscroll.isVisible()


def test_the_wheel_over_a_lane_header_scrolls_the_lanes_up_and_down(qtbot, window):
    window.resize(1024, 600)
    window.lanes.set_song(kit_song(list(range(35, 60))))
    qtbot.wait(50)
    bar = window.lanes.area.verticalScrollBar()
    assert bar.value() == 0 and bar.maximum() > 0
    # A real wheel over a header's label goes up to the scroll area's viewport (Qt propagates a spontaneous
    # wheel event the label ignores); a sent one does not propagate, so it goes to the viewport at that place.
    viewport = window.lanes.area.viewport()
    pos = QPointF(window.headers[0].mapTo(viewport, QPoint(10, 8)))
    wheel = QWheelEvent(
        pos,
        QPointF(viewport.mapToGlobal(pos.toPoint())),
        QPoint(0, 0),
        QPoint(0, -120),  # one notch down
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(viewport, wheel)
    qtbot.wait(20)
    assert bar.value() > 0 and window.lanes.vscroll.value() == bar.value()  # the slim bar follows
