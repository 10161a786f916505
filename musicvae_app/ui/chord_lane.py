"""The chord lane above the five lanes: each chord at its beat, typed (bright) or recognized (dim, italic).

It shares the lanes' time axis (x-linked: it scrolls and zooms with the roll). A bar's chords stand where
they start (`| C Am |`: C on beat 1, Am on beat 3); zoomed out, a name repeating the chord before is left
out, a name wider than its room is cut short ("Cmaj…") and one with no room at all is not drawn, so names
never run together. Click a bar to type its chords in place ("Dm7" or "Dm7 G7"; Enter applies: the bar is
re-voiced at once, one undo step; Esc cancels); "Chart…" (or Sketch > Chord chart…, Ctrl+Shift+C) types a
whole chart, "| C Am | F G |", for the take on screen and the next Generate. Under it, the sections strip
(ui/sections_strip.py). Everything goes through the Session (its Arrangement, sketch/arrangement.py); this
module only draws and forwards.
"""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QFont, QFontMetricsF, QKeySequence
from PySide6.QtWidgets import (
    QBoxLayout,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..errors import InvalidValue
from ..lanes import BEATS_PER_BAR
from ..theory.chords import ACCEPTED_FORMS, ChordError, parse_bar
from .bar_strip import BarStrip
from .context import ViewContext
from .sections_strip import SECTIONS_HEIGHT, SectionsStrip
from .worker import slot

CHORD_LANE_HEIGHT = 22
TYPED_COLOUR = "#eef1f6"
RECOGNIZED_COLOUR = "#8d93a0"
TYPED_BAND = (120, 200, 255, 38)  # the faint band behind a typed bar
MIN_PX_PER_BAR_ALL = 36  # narrower bars show a chord only where it changes
MIN_PX_NAME = 12  # a name with less room than this is not drawn (an ellipsis alone says nothing)
LABEL_PAD_PX = 4  # room kept free before the next name
LABEL_FONT_PT = 9


def chord_events(chords: list[tuple[str | None, bool]]) -> list[tuple[float, str, bool, bool, int]]:
    """The names the lane draws: (beat, name, typed, changes, bar) at each bar's start and at each change of
    chord inside a bar, from each bar's chart text ('C Am': C on beat 1, Am on beat 3). changes: the name
    differs from the chord sounding before it. A bar's text that does not read stands whole at its start."""
    out: list[tuple[float, str, bool, bool, int]] = []
    before: object = object()
    for bar, (text, typed) in enumerate(chords):
        try:
            beats = parse_bar(text, bar + 1) if text else (None,) * BEATS_PER_BAR
            names = ["N.C." if c is None else c.symbol for c in beats]
        except ChordError:
            names = [text] * BEATS_PER_BAR
        for i, name in enumerate(names):
            if i == 0 or name != names[i - 1]:
                out.append((bar * BEATS_PER_BAR + i, name, typed, name != before, bar))
            before = name
    return out


class ChordEditor(QLineEdit):
    """The in-place editor of one bar's chord: Enter applies, Esc (or a click elsewhere) cancels."""

    applied = Signal(int, str)  # bar, text

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.setObjectName("chordEditor")
        self.bar = 0
        self.setPlaceholderText("Am7, or C Am")
        self.setToolTip(
            f"Type the bar's chord, or its chords sharing the bar ('C Am': two halves, 'C . . G'): {ACCEPTED_FORMS}. "
            "Enter applies, Esc cancels"
        )
        self.setStyleSheet(
            "QLineEdit { background: #fafbfd; color: #15171c; border: 1px solid #78c8ff; padding: 0 3px; }"
        )
        self.returnPressed.connect(self._apply)
        self.hide()

    def _apply(self) -> None:
        if self.isVisible():
            bar, text = self.bar, self.text()
            self.hide()
            self.applied.emit(bar, text)

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and event.key() == Qt.Key.Key_Escape:
            event.accept()  # Esc cancels the edit here, before the window's Esc shortcut (stop reading a primer)
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Escape:
            self.hide()
            event.accept()
            return
        super().keyPressEvent(event)

    def focusOutEvent(self, event) -> None:  # noqa: N802
        super().focusOutEvent(event)
        self.hide()


class ChordLane(BarStrip):
    """Each bar's chord; a click on a bar opens the editor there (chordTyped when Enter is pressed)."""

    chordTyped = Signal(int, str)  # bar (1-based), text

    def __init__(self):
        super().__init__(CHORD_LANE_HEIGHT)
        self.setObjectName("chordLane")
        self.setToolTip("Chords: click a bar to type its chord (Enter applies, Esc cancels); dim ones are recognized")
        self.band = pg.BarGraphItem(x0=[], x1=[], y0=[], y1=[], brush=pg.mkBrush(*TYPED_BAND), pen=pg.mkPen(None))
        self.band.setZValue(-2)
        self.getPlotItem().addItem(self.band)
        self.labels: list[pg.TextItem] = []
        self.chords: list[tuple[str | None, bool]] = []
        self.events: list[tuple[float, str, bool, bool, int]] = []  # chord_events of self.chords
        self.shown: list[str | None] = []
        self.editor = ChordEditor(self.viewport())
        self.editor.applied.connect(self.chordTyped)
        self.scene().sigMouseClicked.connect(self._clicked)
        self.vb.sigXRangeChanged.connect(self._level_of_detail)

    def show_chords(self, chords: list[tuple[str | None, bool]]) -> None:
        """Draw (the bar's chart text, typed) per bar, each chord at its beat; [] clears."""
        self.chords = list(chords)
        self.set_length(len(chords) if chords else 0)
        plot = self.getPlotItem()
        for item in self.labels:
            plot.removeItem(item)
        self.labels = []
        typed = [i for i, (_, t) in enumerate(chords) if t]
        x0 = np.array(typed, dtype=float) * BEATS_PER_BAR
        self.band.setOpts(x0=x0, x1=x0 + BEATS_PER_BAR, y0=np.zeros(len(typed)), y1=np.ones(len(typed)))
        self.events = chord_events(self.chords)
        self.shown: list[str | None] = []  # the text each label draws now (None: hidden)
        for beat, name, is_typed, _, bar in self.events:
            item = pg.TextItem(html=self._html(name, is_typed), anchor=(0, 0.5))
            item.setPos(beat + 0.12, 0.5)
            text = chords[bar][0] or "no chord"
            item.setToolTip(f"Bar {bar + 1}: {text} ({'typed' if is_typed else 'recognized'})")
            plot.addItem(item)
            self.labels.append(item)
            self.shown.append(name)
        self._level_of_detail()

    @staticmethod
    def _html(name: str, typed: bool) -> str:
        style = f"color: {TYPED_COLOUR}; font-weight: bold;" if typed else f"color: {RECOGNIZED_COLOUR};"
        if not typed:
            style += " font-style: italic;"
        return f'<span style="{style} font-size: {LABEL_FONT_PT}pt;">{html.escape(name)}</span>'

    def label_texts(self) -> list[str | None]:
        """What each chord name draws now (cut short with an ellipsis where it has no room; None: not drawn)."""
        return [text if item.isVisible() else None for item, text in zip(self.labels, self.shown)]

    def _level_of_detail(self, *_) -> None:
        """Names that fit: zoomed out, a name that repeats the chord before goes; each name then gets the room to
        the next drawn one, cut short with an ellipsis where it is wider, and left out under MIN_PX_NAME."""
        px_bar = self.px_per_bar()
        px_beat = px_bar / BEATS_PER_BAR
        all_names = px_bar >= MIN_PX_PER_BAR_ALL
        wanted = [all_names or changes for _, _, _, changes, _ in self.events]
        end = len(self.chords) * BEATS_PER_BAR
        fonts = {}
        texts: list[str | None] = [None] * len(self.events)

        def next_drawn(k: int) -> float:
            return next((self.events[j][0] for j in range(k + 1, len(texts)) if texts[j] is not None), end)

        for k in range(len(self.events) - 1, -1, -1):  # right to left: each name's room runs to the next drawn one
            beat, name, typed, _, bar = self.events[k]
            if not wanted[k]:
                continue
            if typed not in fonts:
                font = QFont(self.font())
                font.setPointSizeF(LABEL_FONT_PT)
                font.setBold(typed)
                font.setItalic(not typed)
                fonts[typed] = QFontMetricsF(font)
            metrics = fonts[typed]

            def fitted(room: float, name=name, metrics=metrics) -> str | None:
                if metrics.horizontalAdvance(name) <= room:
                    return name
                cut = metrics.elidedText(name, Qt.TextElideMode.ElideRight, room) if room >= MIN_PX_NAME else ""
                return cut if cut and cut != "…" else None

            texts[k] = fitted((next_drawn(k) - beat - 0.12) * px_beat - LABEL_PAD_PX)
            if texts[k] is None and beat % BEATS_PER_BAR == 0:
                # a bar's first chord comes before the changes inside the bar: they give up their room to it
                for j in range(k + 1, len(texts)):
                    if self.events[j][4] != bar:
                        break
                    texts[j] = None
                texts[k] = fitted((next_drawn(k) - beat - 0.12) * px_beat - LABEL_PAD_PX)
        for k, (item, text) in enumerate(zip(self.labels, texts)):
            if text != self.shown[k] and text is not None:
                item.setHtml(self._html(text, self.events[k][2]))
            self.shown[k] = text if text is not None else self.shown[k]
            item.setVisible(text is not None)

    def _clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        bar = self.bar_at(event.scenePos())
        if bar is not None:
            event.accept()
            self.edit_bar(bar)

    def edit_bar(self, bar: int) -> ChordEditor:
        """Open the editor over bar `bar` (1-based) with its chord selected."""
        x, width = self.bar_rect(bar)
        width = max(width, 72)
        self.editor.bar = bar
        self.editor.setGeometry(x, 1, width, self.viewport().height() - 2)
        symbol = self.chords[bar - 1][0] if 0 < bar <= len(self.chords) else None
        self.editor.setText(symbol or "")
        self.editor.selectAll()
        self.editor.show()
        self.editor.raise_()
        self.editor.setFocus(Qt.FocusReason.MouseFocusReason)
        return self.editor


class TextDialog(QDialog):
    """A small non-blocking dialog with one line of text (the chart, the form); `accepted_text` on OK."""

    accepted_text = Signal(str)

    def __init__(self, parent: QWidget, title: str, intro: str, text: str, placeholder: str, name: str):
        super().__init__(parent)
        self.setObjectName(name)
        self.setWindowTitle(title)
        self.field = QLineEdit(text)
        self.field.setObjectName(f"{name}Field")
        self.field.setPlaceholderText(placeholder)
        self.field.setMinimumWidth(420)
        box = QVBoxLayout(self)
        intro_label = QLabel(intro)
        intro_label.setWordWrap(True)
        box.addWidget(intro_label)
        box.addWidget(self.field)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        box.addWidget(buttons)
        self.accepted.connect(lambda: self.accepted_text.emit(self.field.text()))


class _HeaderWidth(QObject):
    """Keeps the strips' header column as wide as the lanes' headers (so bars line up with the roll)."""

    def __init__(self, source: QWidget, targets: list[QWidget]):
        super().__init__(source)
        self.source, self.targets = source, targets
        source.installEventFilter(self)
        self.sync()

    def sync(self) -> None:
        for target in self.targets:
            target.setFixedWidth(self.source.width())

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Resize:
            self.sync()
        return False


def _header(title: str, button_text: str, tip: str, name: str) -> tuple[QWidget, QToolButton]:
    widget = QWidget()
    row = QHBoxLayout(widget)
    row.setContentsMargins(10, 0, 6, 0)
    label = QLabel(title)
    label.setProperty("role", "dim")
    button = QToolButton()
    button.setText(button_text)
    button.setObjectName(name)
    button.setToolTip(tip)
    row.addWidget(label)
    row.addStretch(1)
    row.addWidget(button)
    return widget, button


class ArrangementView(QWidget):
    """The chord lane and the sections strip, with their headers, above the lanes."""

    def __init__(self, views: ViewContext, lane_header: QWidget):
        super().__init__()
        self.setObjectName("arrangementView")
        self.views = views
        self.chord_lane = ChordLane()
        self.sections = SectionsStrip()
        chord_head, self.chart_button = _header(
            "Chords", "Chart…", "Type a whole chord chart (Ctrl+Shift+C)", "chartButton"
        )
        section_head, self.form_button = _header(
            "Sections", "Form…", "Type the song's form, e.g. intro 4 verse 8 chorus 8 (Ctrl+Alt+F)", "formButton"
        )
        chord_head.setFixedHeight(CHORD_LANE_HEIGHT)
        section_head.setFixedHeight(SECTIONS_HEIGHT)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 1, 0, 2)
        grid.setHorizontalSpacing(0)
        grid.setVerticalSpacing(1)
        grid.addWidget(chord_head, 0, 0)
        grid.addWidget(self.chord_lane, 0, 1)
        grid.addWidget(section_head, 1, 0)
        grid.addWidget(self.sections, 1, 1)
        grid.setColumnStretch(1, 1)
        self.chord_lane.setXLink(views.lanes.lanes[0])
        self.sections.setXLink(views.lanes.lanes[0])
        self._width = _HeaderWidth(lane_header, [chord_head, section_head])
        self.dialog: TextDialog | None = None

    def refresh(self) -> None:
        """Redraw what changed (a slider's "settings" events redraw nothing)."""
        session = self.views.session
        chords = session.chord_lane()
        if chords != self.chord_lane.chords:
            self.chord_lane.show_chords(chords)
        song = session.song
        sections = session.sections()
        n_bars = song.n_bars if song is not None else 0
        if sections and sections[-1].end > n_bars:  # kept for the next Generate: shown as far as it goes
            n_bars = max(n_bars, sections[-1].end)
        if (sections, n_bars) != (self.sections.sections, self.sections.n_bars):
            self.sections.show_sections(sections, n_bars)
        tip = f"Chart of the next Generate: {session.chart}" if session.chart else "Type a whole chord chart"
        self.chart_button.setToolTip(tip + " (Ctrl+Shift+C)")

    # --- actions ---------------------------------------------------------------------------------------
    def type_chord(self, bar: int, text: str) -> bool:
        try:
            return bool(self.views.session.set_chord(bar, text))
        except InvalidValue as exc:
            self.views.show_error("Chord", str(exc))
            return False

    def chart_dialog(self) -> TextDialog:
        """Chord chart…: a non-blocking dialog; OK re-voices the take and sets the next Generate's chords."""
        session = self.views.session
        self.dialog = TextDialog(
            self.views.parent,
            "Chord chart",
            "One chord a bar (Am F C G), or chords sharing a bar between bar lines (| C Am | F G |: two a bar; "
            "| C Am F G |: one a beat; . holds a chord a beat), repeated to the sketch's length; % repeats the "
            "bar before, N.C. is no chord. The take on screen is re-voiced at once (one undo step) and the next "
            "Generate plays the chart; leave it empty to let Generate choose.",
            session.chart_text(),
            "| C Am | F G |",
            "chartDialog",
        )
        self.dialog.accepted_text.connect(slot(self.apply_chart, 1))
        self.dialog.open()
        return self.dialog

    def apply_chart(self, text: str) -> bool:
        try:
            return bool(self.views.session.set_chords(text))
        except InvalidValue as exc:
            self.views.show_error("Chord chart", str(exc))
            return False

    def form_dialog(self) -> TextDialog:
        """Sections (form)…: the song's form typed as names and bars, from bar 1."""
        from ..theory.sections import form_text

        session = self.views.session
        self.dialog = TextDialog(
            self.views.parent,
            "Song form",
            "Sections one after another from bar 1: a name and its bars. A name that comes back (chorus, "
            "verse 2) plays its first time's music again with a variation, and the drums fill into every "
            "section, at the next Generate. '@N' after the bars sets its energy 1-5 (default: intro 2, verse 3, "
            "chorus 4, outro 2): a chorus lifts, an outro ends. Empty clears the sections.",
            form_text(session.sections()),
            "intro 4, verse 8, chorus 8 @5, verse 8, chorus 8 @5, outro 4",
            "formDialog",
        )
        self.dialog.accepted_text.connect(slot(self.apply_form, 1))
        self.dialog.open()
        return self.dialog

    def apply_form(self, text: str) -> bool:
        try:
            self.views.session.set_form(text)
            return True
        except InvalidValue as exc:
            self.views.show_error("Song form", str(exc))
            return False

    def mark(self, name: str | None, first: int, last: int) -> bool:
        try:
            self.views.session.mark_section(name or "", first, last)
            return True
        except InvalidValue as exc:
            self.views.show_error("Sections", str(exc))
            return False


def attach_arrangement(views: ViewContext, box: QBoxLayout, lane_header: QWidget, menu: QMenu) -> ArrangementView:
    """Build the chord lane and the sections strip above the lanes (in `box`, the layout that holds them), add
    their actions to the Sketch `menu`, and keep them in step with the session."""
    view = ArrangementView(views, lane_header)
    box.insertWidget(box.indexOf(views.lanes), view)
    view.chord_lane.chordTyped.connect(slot(view.type_chord, 2))
    view.sections.markRequested.connect(slot(view.mark, 3))
    view.chart_button.clicked.connect(slot(view.chart_dialog))
    view.form_button.clicked.connect(slot(view.form_dialog))
    menu.addSeparator()
    for text, fn, keys, name in (
        ("Chord chart…", view.chart_dialog, "Ctrl+Shift+C", "chartAction"),
        ("Song form (sections)…", view.form_dialog, "Ctrl+Alt+F", "formAction"),
    ):
        action = menu.addAction(text)
        action.setObjectName(name)
        action.setShortcut(QKeySequence(keys))
        action.triggered.connect(slot(fn))

    def changed(event: str, *_args) -> None:
        if event in ("song", "settings"):
            view.refresh()

    views.session.listen(changed)
    view.refresh()
    return view
