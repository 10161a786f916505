"""The harmony model's readings of your part at the chord lane (issue 33): flip through them, or pick per bar.

When the band follows your part, the chord lane's header shows "◀ 1/3 ▶": which reading of your part the band
plays (best first) and buttons that flip the whole chart to the previous or next one ("mix" when bars come from
several readings, "–/3" when the chords are your own chart). A right-click on a bar of the chord lane lists that
bar's chord in each reading (the one playing is checked); picking one re-voices that bar only, a mixed chart.
Sketch › Harmonize my part (Ctrl+Shift+H, also on the right-click menu) asks for the readings of a part on screen
that has none yet (a reopened sketch, a recorded part). Each change is one undo step and never touches your part.

Everything goes through the Session (chord_alternatives, chosen_alternative, bar_alternatives, use_alternative,
pick_chord, harmonize_part: sketch/choices.py); this module draws and forwards.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMenu, QToolButton, QWidget

from ..errors import InvalidValue
from ..sketch.choices import bar_texts
from .context import ViewContext
from .worker import slot

HARMONIZE_KEYS = "Ctrl+Shift+H"
NEXT_KEYS, PREVIOUS_KEYS = "Alt+Shift+Right", "Alt+Shift+Left"


class Readings(QWidget):
    """ "◀ 2/3 ▶" in the chord lane's header; hidden while there are no readings of your part."""

    def __init__(self, views: ViewContext, chord_lane):
        super().__init__()
        self.setObjectName("chordReadings")
        self.views, self.chord_lane = views, chord_lane
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 4, 0)
        row.setSpacing(0)
        self.previous = self._button("◀", "readingPrevious", f"The previous reading of your part ({PREVIOUS_KEYS})")
        self.label = QLabel()
        self.label.setObjectName("readingLabel")
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setMinimumWidth(self.label.fontMetrics().horizontalAdvance("mix/3") + 6)
        self.next = self._button("▶", "readingNext", f"The next reading of your part ({NEXT_KEYS})")
        for widget in (self.previous, self.label, self.next):
            row.addWidget(widget)
        self.previous.clicked.connect(slot(lambda: self.flip(-1)))
        self.next.clicked.connect(slot(lambda: self.flip(1)))
        self.menu: QMenu | None = None

    @staticmethod
    def _button(text: str, name: str, tip: str) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setObjectName(name)
        button.setToolTip(tip)
        button.setAutoRaise(True)
        button.setFixedSize(18, 18)
        return button

    def refresh(self) -> None:
        session = self.views.session
        n = len(session.chord_alternatives())
        self.setVisible(n > 0)
        if not n:
            return
        chosen = session.chosen_alternative()
        if chosen is None:
            text, words = f"–/{n}", f"Your own chart plays, none of the {n} readings of your part"
        elif chosen < 0:
            text, words = "mix", f"A mix: bars from several of the {n} readings of your part"
        else:
            text, words = f"{chosen + 1}/{n}", f"Reading {chosen + 1} of {n} of your part (best first)"
        self.label.setText(text)
        tip = f"{words}. ◀ ▶ flip the whole chart; right-click a bar to pick its chord from each reading"
        self.setToolTip(tip)
        self.label.setToolTip(tip)

    # --- actions ---------------------------------------------------------------------------------------
    def flip(self, step: int) -> bool:
        """The whole chart to the next (step 1) or previous (-1) reading, round and round."""
        session = self.views.session
        n = len(session.chord_alternatives())
        if not n:
            return session.use_alternative(0)  # says why there is nothing to flip (no part, no readings yet)
        chosen = session.chosen_alternative()
        at = chosen if chosen is not None and chosen >= 0 else (-1 if step > 0 else n)
        return self._do(lambda: session.use_alternative((at + step) % n))

    def pick(self, bar: int, index: int) -> bool:
        return self._do(lambda: self.views.session.pick_chord(bar, index))

    def harmonize(self) -> bool:
        return self._do(self.views.session.harmonize_part)

    def _do(self, fn) -> bool:
        try:
            return bool(fn())
        except InvalidValue as exc:
            self.views.show_error("Chord readings", str(exc))
            return False

    def open_menu(self, bar: int) -> QMenu:
        """Bar `bar`'s chord in each reading of your part (non-blocking; `self.menu` while it is open)."""
        session, lane = self.views.session, self.chord_lane
        menu = QMenu(lane)
        menu.setObjectName("chordReadingsMenu")
        choices = session.bar_alternatives(bar) if session.chord_alternatives() else []
        song = session.song
        playing = bar_texts(song)[bar - 1] if song is not None and bar <= song.n_bars else None
        if choices:
            title = menu.addAction(f"Bar {bar} in each reading of your part")
            title.setEnabled(False)
            for i, text in enumerate(choices):
                action = menu.addAction(f"{i + 1}.  {text}")
                action.setObjectName(f"reading_{i + 1}")
                action.setCheckable(True)
                action.setChecked(text == playing)
                action.triggered.connect(lambda _=False, i=i: self.pick(bar, i))
            menu.addSeparator()
        harmonize = menu.addAction(f"Harmonize my part\t{HARMONIZE_KEYS}")  # the keys are the Sketch menu's
        harmonize.setObjectName("harmonizeMenuAction")
        harmonize.triggered.connect(slot(self.harmonize))
        edit = menu.addAction(f"Type bar {bar}'s chord…")
        edit.setObjectName("typeChordAction")
        edit.triggered.connect(lambda: lane.edit_bar(bar))
        self.menu = menu
        x, _width = lane.bar_rect(bar)
        menu.popup(lane.viewport().mapToGlobal(QPoint(max(x, 0), lane.viewport().height())))
        return menu

    def clicked(self, event) -> None:
        """A right-click on a bar of the chord lane: its menu."""
        if event.button() != Qt.MouseButton.RightButton:
            return
        bar = self.chord_lane.bar_at(event.scenePos())
        if bar is not None:
            event.accept()
            self.open_menu(bar)


def attach_readings(views: ViewContext, arrangement, menu: QMenu) -> Readings:
    """The readings control in the chord lane's header (before its Chart… button), the chord lane's right-click
    menu, and Sketch › Harmonize my part / Next / Previous reading, kept in step with the session."""
    view = Readings(views, arrangement.chord_lane)
    row = arrangement.chart_button.parentWidget().layout()
    row.insertWidget(row.indexOf(arrangement.chart_button), view)
    arrangement.chord_lane.scene().sigMouseClicked.connect(view.clicked)
    menu.addSeparator()
    for text, fn, keys, name in (
        ("Harmonize my part", view.harmonize, HARMONIZE_KEYS, "harmonizeAction"),
        ("Next reading of my part's chords", lambda: view.flip(1), NEXT_KEYS, "nextReadingAction"),
        ("Previous reading of my part's chords", lambda: view.flip(-1), PREVIOUS_KEYS, "previousReadingAction"),
    ):
        action = menu.addAction(text)
        action.setObjectName(name)
        action.setShortcut(QKeySequence(keys))
        action.triggered.connect(slot(fn))

    def changed(event: str, *_args) -> None:
        if event in ("song", "settings", "part"):
            view.refresh()

    views.session.listen(changed)
    view.refresh()
    return view
