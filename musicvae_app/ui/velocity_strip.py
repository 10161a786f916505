"""The velocity strip (View > Velocity strip, Ctrl+Alt+V): a thin strip under the roll showing one lane's note
velocities as bars at the notes' starts, on the roll's time axis, as in a DAW's velocity lane.

Drag a bar up or down to change that note's velocity (every note starting there: a chord's notes move together;
a note of the note editor's selection moves the whole selection); a drag that starts off the bars draws a line
and the notes it crosses take its height; a click sets the notes under it to the height clicked. Each drag or
click is one undo step through Session.set_velocity, which pins the bars it touches (sketch/pins.py) like the
other note edits. The strip follows the lane of the note editor's selection, or the lane picked in its header.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QComboBox, QLabel, QVBoxLayout, QWidget

from ..errors import InvalidValue
from ..sketch.song import LANES
from .context import Menus, ViewContext, toggle_action
from .lanes_view import AXIS_WIDTH, BACKGROUND, LANE_COLOURS, LANE_RIGHT_MARGIN
from .worker import slot

STRIP_HEIGHT = 64
TOP = 132  # the strip's height in velocity (127 and a little room)
GRAB_PX = 6  # a press this close to a bar (in pixels) grabs it
DRAG_COLOUR = "#ffffff"


class VelocityViewBox(pg.ViewBox):
    """Left drags and clicks go to the strip; the wheel zooms time as on the lanes (the views are x-linked)."""

    def __init__(self, strip: VelocityStrip):
        super().__init__()
        self.strip = strip

    def mouseDragEvent(self, ev, axis=None):  # noqa: N802 (pyqtgraph's name)
        if ev.button() != Qt.MouseButton.LeftButton or axis is not None:
            return super().mouseDragEvent(ev, axis)
        ev.accept()
        down = self.mapSceneToView(ev.buttonDownScenePos())
        now = self.mapSceneToView(ev.scenePos())
        self.strip.dragged((down.x(), down.y()), (now.x(), now.y()), ev.isStart(), ev.isFinish())

    def mouseClickEvent(self, ev):  # noqa: N802
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            p = self.mapSceneToView(ev.scenePos())
            self.strip.clicked(p.x(), p.y())
        else:
            super().mouseClickEvent(ev)


class VelocityStrip(QObject):
    """The strip's header (its name and the lane it shows) and its plot, placed under the lanes."""

    def __init__(self, views: ViewContext, editor=None):
        super().__init__(views.parent)
        self.views, self.session, self.editor = views, views.session, editor
        self.lane = 0
        self.notes: list[tuple[int, int, int, int]] = []
        self.preview: dict[tuple[int, int], int] = {}  # (pitch, start) -> velocity while a drag goes on
        self._grab: dict | None = None
        self.header = QWidget()
        self.header.setObjectName("velocityHeader")
        box = QVBoxLayout(self.header)
        box.setContentsMargins(10, 2, 4, 2)
        box.setSpacing(2)
        box.addWidget(QLabel("Velocity"))
        self.choice = QComboBox()
        self.choice.setObjectName("velocityLane")
        self.choice.addItems([name.capitalize() for name in LANES])
        self.choice.setToolTip("The lane whose velocities the strip shows (it follows the selected notes too)")
        self.choice.currentIndexChanged.connect(slot(self.show_lane, 1))
        box.addWidget(self.choice)
        self.plot = pg.PlotWidget(viewBox=VelocityViewBox(self))
        self.plot.setObjectName("velocityStrip")
        item = self.plot.getPlotItem()
        item.setMenuEnabled(False)
        item.hideButtons()
        item.hideAxis("bottom")
        item.setMouseEnabled(x=True, y=False)
        item.layout.setContentsMargins(0, 0, LANE_RIGHT_MARGIN, 0)
        left = item.getAxis("left")
        left.setWidth(AXIS_WIDTH)
        font = QFont()
        font.setPointSizeF(8.5)
        left.setStyle(tickFont=font, tickLength=-4, tickTextOffset=6)
        left.setTicks([[(32, "32"), (64, "64"), (96, "96")]])  # inside the strip: no label cut at its edge
        self.vb = item.getViewBox()
        self.vb.setDefaultPadding(0)
        self.vb.setBackgroundColor(QColor(BACKGROUND).lighter(118))
        self.vb.setLimits(yMin=0, yMax=TOP)
        self.vb.setYRange(0, TOP, padding=0)
        self.stems = pg.PlotCurveItem(connect="pairs")
        self.heads = pg.ScatterPlotItem(size=5, symbol="s", pen=None)
        self.moving = pg.PlotCurveItem(pen=pg.mkPen(DRAG_COLOUR, width=2), connect="pairs")
        for it in (self.stems, self.heads, self.moving):
            self.plot.addItem(it)
        self.plot.setFixedHeight(STRIP_HEIGHT)
        self.header.setFixedHeight(STRIP_HEIGHT)
        self.plot.setXLink(views.lanes.lanes[0])
        views.lanes.add_strip(self.header, self.plot)
        self.set_shown(False)
        self.session.listen(self._session_event)
        if editor is not None:
            editor.selectionChanged.connect(self._follow_selection)

    # --- showing --------------------------------------------------------------------------------------
    def set_shown(self, on: bool) -> None:
        self.shown = bool(on)
        self.header.setVisible(self.shown)
        self.plot.setVisible(self.shown)
        if self.shown:
            self.redraw()

    def show_lane(self, lane: int) -> None:
        self.lane = int(lane)
        if self.choice.currentIndex() != self.lane:
            self.choice.setCurrentIndex(self.lane)  # calls back here once, with the same lane
        self.redraw()

    def _follow_selection(self) -> None:
        if self.editor.lane is not None and self.editor.lane != self.lane:
            self.show_lane(self.editor.lane)
        else:
            self.redraw()

    def _session_event(self, event: str, *args) -> None:
        if event == "song" and self.shown:
            self.redraw()

    def redraw(self) -> None:
        if not self.shown:
            return
        song = self.session.song
        self.notes = [] if song is None else self.session.lane_notes(self.lane)
        spb = song.steps_per_beat if song is not None else 4
        colour = LANE_COLOURS[self.lane]
        xs = np.array([n[1] / spb for n in self.notes], dtype=float)
        vs = np.array([self.preview.get(n[:2], n[3]) for n in self.notes], dtype=float)
        self.stems.setPen(pg.mkPen(colour, width=2))
        self.stems.setData(np.repeat(xs, 2), np.column_stack([np.zeros_like(vs), vs]).reshape(-1))
        self.heads.setData(xs, vs, brush=pg.mkBrush(colour))
        ed = self.editor
        chosen = ed.selected if ed is not None and ed.lane == self.lane else set()
        marked = [n[:2] in self.preview or n[:2] in chosen for n in self.notes]  # dragged or selected: white
        moving = [(x, v) for x, v, m in zip(xs, vs, marked) if m]
        self.moving.setData(np.repeat([x for x, _ in moving], 2), np.array([[0.0, v] for _, v in moving]).reshape(-1))

    # --- editing --------------------------------------------------------------------------------------
    def _spb(self) -> int:
        return self.session.song.steps_per_beat

    def _near(self, beats: float) -> list[tuple[int, int, int, int]]:
        """The notes whose bar is nearest `beats`, when it is within GRAB_PX pixels (a chord's notes together)."""
        if not self.notes:
            return []
        lo, hi = self.vb.viewRange()[0]
        px_per_beat = self.vb.width() / max(hi - lo, 1e-9)
        starts = np.array([n[1] for n in self.notes]) / self._spb()
        i = int(np.argmin(np.abs(starts - beats)))
        if abs(starts[i] - beats) * px_per_beat > GRAB_PX:
            return []
        hit = [n for n in self.notes if n[1] == self.notes[i][1]]
        ed = self.editor
        if ed is not None and ed.lane == self.lane and any(n[:2] in ed.selected for n in hit):
            hit = [n for n in self.notes if n[:2] in ed.selected]  # a selected note moves the selection
        return hit

    def dragged(self, down: tuple[float, float], now: tuple[float, float], start: bool, finish: bool) -> None:
        if self.session.song is None:
            return
        if start or self._grab is None:
            grabbed = self._near(down[0])
            self._grab = {"notes": grabbed, "line": not grabbed}
        g = self._grab
        if g["line"]:  # drawn across: each note between the press and the pointer takes the line's height
            (x0, y0), (x1, y1) = down, now
            a, b = sorted((x0, x1))
            spb = self._spb()
            self.preview = {}
            for n in self.notes:
                x = n[1] / spb
                if a <= x <= b:
                    t = 0.0 if x1 == x0 else (x - x0) / (x1 - x0)
                    self.preview[n[:2]] = _velocity(y0 + t * (y1 - y0))
        else:  # a bar (and its chord, or the selection) moved by the drag's height
            delta = now[1] - down[1]
            self.preview = {n[:2]: _velocity(n[3] + delta) for n in g["notes"]}
        self.redraw()
        if finish:
            self._commit()

    def clicked(self, beats: float, value: float) -> None:
        if self.session.song is None:
            return
        self.preview = {n[:2]: _velocity(value) for n in self._near(beats)}
        self._commit()

    def _commit(self) -> None:
        """The drag's or click's velocities as one undo step (Session.set_velocity pins their bars)."""
        change, self.preview, self._grab = self.preview, {}, None
        if change:
            keys = sorted(change)
            try:
                self.session.set_velocity(self.lane, keys, [change[k] for k in keys])
            except InvalidValue as exc:
                self.views.status(str(exc)[:1].upper() + str(exc)[1:], 6000)
        self.redraw()


def _velocity(value: float) -> int:
    return int(min(max(round(value), 1), 127))


def attach_velocity_strip(views: ViewContext, menus: Menus, editor=None) -> VelocityStrip:
    """The strip under the lanes (hidden at first) and View > Velocity strip (Ctrl+Alt+V) to show or hide it."""
    strip = VelocityStrip(views, editor)
    strip.toggle_action = toggle_action(
        views.parent,
        menus.view,
        "Velocity strip",
        "velocityStripAction",
        "Ctrl+Alt+V",
        "A lane's note velocities under the roll: drag a bar to change it",
        slot(strip.set_shown, 1),
    )
    return strip
