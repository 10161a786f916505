"""Which chords rule, over the chord lane: your part's, your chart's (played over your part), the band's own or
the ones heard in the notes; a choice to play your chart over a part you follow; and the bars where your chart
clashes with your part, marked red under the chord lane's bars.

Everything comes from the Session (chord_source, chart_clashes, set_chords_over_part; sketch/arrangement.py);
this module only draws and forwards. Kept apart from ui/chord_lane.py, which draws the chords themselves.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QBoxLayout, QCheckBox, QHBoxLayout, QLabel, QWidget

from ..lanes import BEATS_PER_BAR
from .context import ViewContext
from .worker import slot

CLASH_BRUSH = (239, 95, 103, 150)
CLASH_HEIGHT = 0.16  # of the chord lane's height, at its foot
OVER_PART = "Play my chart over my part"


def bar_ranges(bars: list[int]) -> str:
    """[1, 2, 3, 7] -> "1-3, 7"."""
    out: list[str] = []
    for bar in bars:
        if out and int(out[-1].split("-")[-1]) == bar - 1:
            out[-1] = f"{out[-1].split('-')[0]}-{bar}"
        else:
            out.append(str(bar))
    return ", ".join(out)


class ChordSource(QWidget):
    """One line over the chord lane: the chords' source, the clashes, and the chart-over-part choice."""

    def __init__(self, views: ViewContext, chord_lane):
        super().__init__()
        self.setObjectName("chordSource")
        self.views = views
        self.label = QLabel()
        self.label.setObjectName("chordSourceLabel")
        self.label.setProperty("role", "dim")
        self.over = QCheckBox(OVER_PART)
        self.over.setObjectName("chartOverPart")
        self.over.setToolTip(
            "Off: the chords heard in your part rule and your chart waits. On: the band plays your chart, "
            "even where it clashes with your part. The next Generate uses it."
        )
        self.over.toggled.connect(slot(lambda on: views.session.set_chords_over_part(on), 1))
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 0, 8, 0)
        row.addWidget(self.label, 1)
        row.addWidget(self.over)
        self.marks = pg.BarGraphItem(x0=[], width=BEATS_PER_BAR, y0=0, height=CLASH_HEIGHT, brush=CLASH_BRUSH)
        chord_lane.getPlotItem().addItem(self.marks)
        self.clashes: list[int] = []

    def refresh(self) -> None:
        session = self.views.session
        kind, words = session.chord_source()
        following = session.part is not None or session.recorded_part() is not None or bool(session.part_lanes())
        self.clashes = session.chart_clashes() if session.chart or kind == "chart over part" else []
        text = words
        if self.clashes:
            text += f" · your chart clashes with your part in bars {bar_ranges(self.clashes)}"
        self.label.setText(text)
        self.label.setToolTip(
            "Red under a bar: most of what your part plays there is outside the chart's chord" if self.clashes else ""
        )
        self.over.setVisible(following and bool(session.chart))
        self.over.blockSignals(True)
        self.over.setChecked(bool(session.chords_over_part))
        self.over.blockSignals(False)
        self.setVisible(bool(kind) and (following or kind == "chart"))
        x0 = [(bar - 1) * BEATS_PER_BAR for bar in self.clashes]
        self.marks.setOpts(x0=x0, width=BEATS_PER_BAR, y0=0, height=CLASH_HEIGHT)


def attach_chord_source(views: ViewContext, box: QBoxLayout, arrangement) -> ChordSource:
    """The line above the chord lane (in `box`, before the arrangement view), kept in step with the session."""
    view = ChordSource(views, arrangement.chord_lane)
    box.insertWidget(box.indexOf(arrangement), view)

    def changed(event: str, *_args) -> None:
        if event in ("song", "settings", "part"):
            view.refresh()

    views.session.listen(changed)
    view.refresh()
    return view
