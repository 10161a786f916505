"""The sections strip under the chord lane: intro / verse / chorus / bridge / outro as coloured blocks over bars.

Drag across bars (or click one, or a section) and pick a name from the menu that opens (or "Unmark"; a
section's menu sets its Energy 1-5, shown on the block as "chorus @5" when set);
Sketch > Song form… types the whole form. A name that comes back plays its first time's music again with
a variation at the next Generate, and the drums fill into every section (engine/sections.py). The strip
shares the lanes' time axis (ui/bar_strip.py's BarStrip); marking goes through Session.mark_section.
"""

from __future__ import annotations

import zlib

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtWidgets import QInputDialog, QMenu

from ..lanes import BEATS_PER_BAR
from ..theory.sections import NAMES, Section
from .bar_strip import BarStrip

SECTIONS_HEIGHT = 18
COLOURS = {
    "intro": "#5f6b7a",
    "verse": "#3f78b5",
    "pre-chorus": "#3f9a9a",
    "chorus": "#c27d2a",
    "bridge": "#8a58b0",
    "solo": "#b5484c",
    "break": "#6b6b6b",
    "outro": "#5f6b7a",
}
OTHER_COLOURS = ("#4f8f5a", "#a0694b", "#7a7f2e", "#5a6fb0")


def section_colour(section: Section) -> str:
    """A colour per kind of section: every chorus the same colour, so the form reads at a glance."""
    return COLOURS.get(section.kind, OTHER_COLOURS[zlib.crc32(section.kind.encode()) % len(OTHER_COLOURS)])


class SectionsViewBox(pg.ViewBox):
    """A left-drag reports the bars it covers (on_drag(start beats, end beats, finished)) instead of scrolling."""

    def __init__(self):
        super().__init__()
        self.on_drag = None

    def mouseDragEvent(self, ev, axis=None):  # noqa: N802 (pyqtgraph's name)
        if ev.button() == Qt.MouseButton.LeftButton and axis is None and self.on_drag is not None:
            start = self.mapSceneToView(ev.buttonDownScenePos()).x()
            end = self.mapSceneToView(ev.scenePos()).x()
            if self.on_drag(start, end, ev.isFinish()):
                ev.accept()
                return
        super().mouseDragEvent(ev, axis)


class SectionsStrip(BarStrip):
    """Sections as blocks; drag or click to mark (markRequested(name, first bar, last bar); "" unmarks)."""

    markRequested = Signal(str, int, int)

    def __init__(self):
        super().__init__(SECTIONS_HEIGHT, SectionsViewBox())
        self.setObjectName("sectionsStrip")
        self.setToolTip(
            "Sections: drag across bars (or click) and pick intro, verse, chorus…; click a section for its energy 1-5"
        )
        plot = self.getPlotItem()
        self.blocks = pg.BarGraphItem(x0=[], x1=[], y0=[], y1=[], brushes=[], pen=pg.mkPen("#1c1e24", width=1))
        self.blocks.setZValue(-2)
        self.bar_lines.setZValue(-3)  # a section reads as one block
        plot.addItem(self.blocks)
        self.pick = pg.LinearRegionItem(values=(0, BEATS_PER_BAR), movable=False, brush=pg.mkBrush(120, 200, 255, 70))
        self.pick.setVisible(False)
        plot.addItem(self.pick)
        self.labels: list[pg.TextItem] = []
        self.sections: list[Section] = []
        self.menu: QMenu | None = None
        self.vb.on_drag = self._dragged
        self.scene().sigMouseClicked.connect(self._clicked)

    def show_sections(self, sections: list[Section], n_bars: int) -> None:
        self.sections = list(sections)
        self.set_length(n_bars)
        plot = self.getPlotItem()
        for item in self.labels:
            plot.removeItem(item)
        self.labels = []
        x0 = np.array([(s.start - 1) * BEATS_PER_BAR for s in sections], dtype=float)
        x1 = np.array([s.end * BEATS_PER_BAR for s in sections], dtype=float)
        brushes = [pg.mkBrush(section_colour(s)) for s in sections]
        self.blocks.setOpts(x0=x0, x1=x1, y0=np.zeros(len(sections)), y1=np.ones(len(sections)), brushes=brushes)
        for s in sections:  # an energy set by the musician is shown as typed ("chorus @5"); the tooltip says it
            item = pg.TextItem(
                s.name if s.energy is None else f"{s.name} @{s.energy}", color="#f4f6fa", anchor=(0, 0.5)
            )
            item.setPos((s.start - 1) * BEATS_PER_BAR + 0.15, 0.5)
            whose = "set" if s.energy is not None else f"a {s.kind}'s own"
            item.setToolTip(f"{s.name}: bars {s.start}-{s.end}, energy {s.level} of 5 ({whose}; click to change)")
            plot.addItem(item)
            self.labels.append(item)

    def section_at(self, bar: int) -> Section | None:
        return next((s for s in self.sections if s.start <= bar <= s.end), None)

    def _bars(self, start: float, end: float) -> tuple[int, int]:
        lo, hi = sorted((start, end))
        first = int(np.floor(max(lo, 0.0) / BEATS_PER_BAR)) + 1
        last = int(np.floor(max(hi - 1e-6, 0.0) / BEATS_PER_BAR)) + 1
        last = max(min(last, self.n_bars), first)
        return min(first, self.n_bars), last

    def _dragged(self, start: float, end: float, finished: bool) -> bool:
        if not self.n_bars:
            return False
        first, last = self._bars(start, end)
        self.pick.setRegion(((first - 1) * BEATS_PER_BAR, last * BEATS_PER_BAR))
        self.pick.setVisible(True)
        if finished:
            self.open_menu(first, last)
        return True

    def _clicked(self, event) -> None:
        if event.button() not in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
            return
        bar = self.bar_at(event.scenePos())
        if bar is None:
            return
        event.accept()
        section = self.section_at(bar)
        first, last = (section.start, section.end) if section is not None else (bar, bar)
        self.pick.setRegion(((first - 1) * BEATS_PER_BAR, last * BEATS_PER_BAR))
        self.pick.setVisible(True)
        self.open_menu(first, last)

    def open_menu(self, first: int, last: int) -> QMenu:
        """The names to mark bars first..last with (non-blocking; `self.menu` while it is open)."""
        menu = QMenu(self)
        menu.setObjectName("sectionsMenu")
        span = f"bar {first}" if first == last else f"bars {first}-{last}"
        title = menu.addAction(f"Mark {span} as")
        title.setEnabled(False)
        for name in NAMES:
            action = menu.addAction(name.capitalize())
            action.setObjectName(f"section_{name}")
            action.triggered.connect(lambda _=False, n=name: self.markRequested.emit(n, first, last))
        other = menu.addAction("Other name…")
        other.setObjectName("section_other")
        other.triggered.connect(lambda: self._other_name(first, last))
        section = self.section_at(first)
        if section is not None and (section.start, section.end) == (first, last):
            self._energy_menu(menu, section)
        menu.addSeparator()
        clear = menu.addAction("Unmark")
        clear.setObjectName("section_unmark")
        clear.triggered.connect(lambda: self.markRequested.emit("", first, last))
        menu.aboutToHide.connect(lambda: self.pick.setVisible(False))
        self.menu = menu
        x, _width = self.bar_rect(first, last)
        menu.popup(self.viewport().mapToGlobal(QPoint(max(x, 0), self.viewport().height())))
        return menu

    def _energy_menu(self, menu: QMenu, section: Section) -> None:
        """Energy 1-5 of a marked section (1 lightest, 5 fullest), the current one checked: "name @N" marked again."""
        energy = menu.addMenu(f"Energy ({section.level})")
        energy.setObjectName("sectionEnergyMenu")
        name, first, last = section.name, section.start, section.end
        for level in range(1, 6):
            action = energy.addAction(f"{level}" + {1: " (lightest)", 5: " (fullest)"}.get(level, ""))
            action.setObjectName(f"section_energy_{level}")
            action.setCheckable(True)
            action.setChecked(level == section.level)
            action.triggered.connect(lambda _=False, n=level: self.markRequested.emit(f"{name} @{n}", first, last))

    def _other_name(self, first: int, last: int) -> None:
        name, ok = QInputDialog.getText(self, "Section name", f"Name bars {first}-{last} ('chorus @5': energy 1-5):")
        if ok and name.strip():
            self.markRequested.emit(name.strip(), first, last)
