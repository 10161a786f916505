"""A thin plot that shares the lanes' time axis: the base of the chord lane and the sections strip."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor

from ..lanes import BEATS_PER_BAR
from .lanes_view import AXIS_WIDTH, BACKGROUND


class BarStrip(pg.PlotWidget):
    """A thin plot that shares the lanes' time axis: a left margin as wide as theirs, bar lines, y 0-1."""

    def __init__(self, height: int, view_box: pg.ViewBox | None = None):
        super().__init__(viewBox=view_box or pg.ViewBox())
        plot = self.getPlotItem()
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setMouseEnabled(x=True, y=False)
        plot.layout.setContentsMargins(0, 0, 6, 0)
        plot.hideAxis("bottom")
        left = plot.getAxis("left")
        left.setWidth(AXIS_WIDTH)
        left.setStyle(showValues=False, tickLength=0)
        left.setTicks([[]])
        self.vb = plot.getViewBox()
        self.vb.setDefaultPadding(0)
        self.vb.setBackgroundColor(QColor(BACKGROUND).lighter(112))
        self.vb.setYRange(0, 1, padding=0)
        self.vb.setLimits(yMin=0, yMax=1)
        self.bar_lines = pg.PlotCurveItem(pen=pg.mkPen("#3a3e48", width=1), connect="pairs")
        plot.addItem(self.bar_lines)
        self.setFixedHeight(height)
        self.n_bars = 0

    def set_length(self, n_bars: int) -> None:
        if n_bars == self.n_bars:
            return
        self.n_bars = n_bars
        beats = n_bars * BEATS_PER_BAR
        xs = np.arange(0, beats + 1e-9, BEATS_PER_BAR, dtype=np.float64)
        self.bar_lines.setData(np.repeat(xs, 2), np.tile([0.0, 1.0], len(xs)))
        self.vb.setLimits(xMin=0, xMax=max(beats, BEATS_PER_BAR), minXRange=BEATS_PER_BAR)

    def bar_at(self, scene_pos) -> int | None:
        """The bar (1-based) under a scene position, or None outside the song."""
        beats = self.vb.mapSceneToView(scene_pos).x()
        bar = int(np.floor(beats / BEATS_PER_BAR)) + 1
        return bar if 1 <= bar <= self.n_bars else None

    def bar_rect(self, first: int, last: int | None = None) -> tuple[int, int]:
        """(x, width) in viewport pixels of bars first..last (1-based, inclusive)."""
        last = first if last is None else last
        left = self.mapFromScene(self.vb.mapViewToScene(QPointF((first - 1) * BEATS_PER_BAR, 0.5)))
        right = self.mapFromScene(self.vb.mapViewToScene(QPointF(last * BEATS_PER_BAR, 0.5)))
        return int(left.x()), max(int(right.x() - left.x()), 1)

    def px_per_bar(self) -> float:
        lo, hi = self.vb.viewRange()[0]
        return self.vb.width() / max(hi - lo, 1e-6) * BEATS_PER_BAR
