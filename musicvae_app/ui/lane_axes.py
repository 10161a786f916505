"""The left and bottom axes of a lane: pitch names or GM drum names by row, bar numbers along time."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetrics

from ..sketch.song import BEATS_PER_BAR
from . import gm

AXIS_WIDTH = 92


class BarAxis(pg.AxisItem):
    """Beats on the axis, bar numbers (1-based) on the labels, spaced to stay readable."""

    def tickValues(self, minVal, maxVal, size):  # noqa: N802 (pyqtgraph's name)
        span = max(maxVal - minVal, 1e-6)
        px_per_bar = size / span * BEATS_PER_BAR
        every = next((b for b in (1, 2, 4, 8, 16, 32, 64) if b * px_per_bar >= 36), 128)
        step = every * BEATS_PER_BAR
        first = np.ceil(max(minVal, 0) / step) * step
        major = list(np.arange(first, maxVal + 1e-9, step))
        return [(step, major)]

    def tickStrings(self, values, scale, spacing):  # noqa: N802
        return [str(int(round(v / BEATS_PER_BAR)) + 1) for v in values]


class RowAxis(pg.AxisItem):
    """Pitch names at the Cs (melodic lanes) or every drum's GM name (drum lane)."""

    def __init__(self, drums: bool):
        super().__init__("left")
        self.drums = drums
        self.rows = np.arange(0)
        self.hits = np.zeros(0)  # drums: notes per row, so the rows that play are the ones named
        self.label_rows: dict[float, int] = {}  # drums: the row each (possibly nudged) name belongs to
        self.label_height = 12  # set from the tick font (set_font)
        self.metrics = QFontMetrics(QFont())

    def set_font(self, font: QFont) -> None:
        self.setStyle(tickFont=font, tickLength=-4, tickTextOffset=6)
        self.label_height = QFontMetrics(font).height()
        self.metrics = QFontMetrics(font)

    def tickValues(self, minVal, maxVal, size):  # noqa: N802
        """Labels at row centres, only where the whole label fits inside the lane (none is cut).

        Drums: every row in use when rows are at least a label high (the lane's stretch grows with its
        drums); the bottom and top labels are nudged inward so they are not cut at the lane's edge. When
        not all fit, the rows that play most are named first, and a row is left unnamed only where a
        busier row's name already takes its place (never every other row, whatever plays there).
        """
        n = len(self.rows)
        px = size / max(maxVal - minVal, 1e-6)
        edge = (self.label_height / 2 + 1) / px  # the room, in rows, a label needs from an edge

        def inside(y: float) -> bool:
            return minVal + edge - 1e-9 <= y <= maxVal - edge + 1e-9

        if self.drums:
            if px >= self.label_height - 1:
                ys = [i + 0.5 for i in range(n)]
                if edge < 1:
                    ys = [min(max(y, minVal + edge), maxVal - edge) for y in ys]
                return [(1, [y for y in ys if inside(y)])]
            hits = self.hits if len(self.hits) == n else np.zeros(n)
            ys = np.clip(np.arange(n) + 0.5, minVal + edge, maxVal - edge)  # nudged in from the lane's edges
            picked = gm.named_rows(ys, hits, self.label_height / max(px, 1e-6))
            self.label_rows = {float(ys[i]): i for i in picked}  # a nudged name still names its own row
            return [(1, [float(ys[i]) for i in picked])]
        octaves = max(1, int(np.ceil((self.label_height + 1) / max(12 * px, 1e-6))))  # Cs apart enough to read
        cs = [(i, p) for i, p in enumerate(self.rows) if p % 12 == 0 and (p // 12) % octaves == 0]
        return [(12, [i + 0.5 for i, _ in cs if inside(i + 0.5)])]

    def tickStrings(self, values, scale, spacing):  # noqa: N802
        out = []
        for v in values:
            i = self.label_rows.get(float(v), int(v)) if self.drums else int(v)
            if not 0 <= i < len(self.rows):
                out.append("")
            else:
                name = gm.drum_name(int(self.rows[i])) if self.drums else gm.note_name(int(self.rows[i]))
                room = AXIS_WIDTH - 12  # a long drum name is elided ("Acoustic Bass D…"), never cut
                out.append(self.metrics.elidedText(name, Qt.TextElideMode.ElideRight, room))
        return out
