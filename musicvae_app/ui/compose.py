"""The composing controls' window side: regenerate a bar range (selection, menu, right-click) and Morph to take.

Both forward to the session (Session.infill, Session.morph_to_take), which runs the engine on the worker
thread and records one undo step; this module only asks what to do and says what happened.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QMenu, QSpinBox

from ..errors import InvalidValue
from ..sketch.session import MAX_MORPH_STEPS
from ..sketch.song import BEATS_PER_BAR, LANES
from .context import ViewContext
from .worker import slot

SELECT_HINT = "Shift+drag on a lane selects bars to regenerate (Ctrl+Shift+drag adds a lane); or right-click a lane"
MORPH_STEPS = (2, 16)  # chunks in a morph made from the window (the session takes up to 64)
MORPH_DEFAULT = 8


def lane_names(lanes) -> str:
    lanes = list(lanes)
    return "all lanes" if len(lanes) == len(LANES) else ", ".join(LANES[i] for i in lanes)


def selection_text(picked) -> str:
    if picked is None:
        return "Bar selection cleared"
    first, last, lanes = picked
    return f"Bars {first}-{last} of {lane_names(lanes)} selected: Ctrl+R regenerates them (Ctrl+Shift+R: all lanes)"


def regenerate_bars(views: ViewContext, all_lanes: bool = False) -> bool:
    """Regenerate the selected bars (of the selected lanes, or of every lane): one undo step."""
    picked = views.lanes.selected_bars()
    if picked is None:
        views.status(f"Select bars first: {SELECT_HINT}", 8000)
        return False
    first, last, lanes = picked
    names = None if all_lanes or len(lanes) == len(LANES) else [LANES[i] for i in lanes]
    try:
        return views.session.infill(first, last, names)
    except InvalidValue as exc:
        views.show_error("Regenerate bars", str(exc))
        return False


def lane_menu(views: ViewContext, lane: int, beats: float, pos: QPoint) -> QMenu:
    """The right-click menu of a lane: regenerate the selection (when clicked inside it) or the chunk under
    the mouse, on this lane or on every lane; clear the selection."""
    lanes_view = views.lanes
    picked = lanes_view.selected_bars()
    inside = lanes_view.selection is not None and lanes_view.selection[0] <= beats < lanes_view.selection[1]
    if picked is not None and inside:
        first, last, chosen = picked
    else:
        start, _end = lanes_view._snap_chunks(beats, beats)
        first = int(round(start / BEATS_PER_BAR)) + 1
        last = first + int(round(lanes_view._chunk_beats() / BEATS_PER_BAR)) - 1
        chosen = [lane]
    menu = QMenu(views.parent)
    menu.setObjectName("laneMenu")

    def run(lanes) -> None:
        lanes_view.select_bars(first, last, lanes)
        regenerate_bars(views)

    these = menu.addAction(f"Regenerate bars {first}-{last} of {lane_names(chosen)}")
    these.setObjectName("regenerateBarsAction")
    these.triggered.connect(slot(lambda: run(chosen)))
    if len(chosen) < len(LANES):
        every = menu.addAction(f"Regenerate bars {first}-{last} of all lanes")
        every.setObjectName("regenerateBarsAllAction")
        every.triggered.connect(slot(lambda: run(None)))
    if lanes_view.selection is not None:
        menu.addSeparator()
        menu.addAction("Clear bar selection").triggered.connect(slot(lanes_view.clear_selection))
    menu.popup(pos)
    return menu


class MorphDialog(QDialog):
    """Morph to take: which take, and how many chunks the passage takes to get there."""

    def __init__(self, views: ViewContext):
        super().__init__(views.parent)
        self.views = views
        self.setObjectName("morphDialog")
        self.setWindowTitle("Morph to take")
        self.session = views.session
        current = self.session.index
        self.take = QComboBox()
        self.take.setObjectName("morphTakeCombo")
        for i in range(len(self.session.takes)):
            if i != current:
                self.take.addItem(f"Take {i + 1}", i)
        self.steps = QSpinBox()
        self.steps.setObjectName("morphSteps")
        song = self.session.song
        length = song.n_chunks if song is not None else MORPH_DEFAULT  # as long as this take: 40 bars stay 40
        self.steps.setRange(MORPH_STEPS[0], max(MORPH_STEPS[1], min(length, MAX_MORPH_STEPS)))
        self.steps.setValue(length)
        bars = song.chunk_steps // song.steps_per_bar if song is not None else 4
        self.steps.setSuffix(f" chunks of {bars} bars")
        self.steps.setToolTip(
            "How many chunks the new take has; the first sounds like this take, the last like the other"
        )
        form = QFormLayout(self)
        form.addRow(QLabel(f"A new take that moves from take {current + 1} to another; locked lanes stay."))
        form.addRow("To", self.take)
        form.addRow("Length", self.steps)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.accepted.connect(self._morph)

    def _morph(self) -> None:
        try:
            self.session.morph_to_take(int(self.take.currentData()), int(self.steps.value()))
        except InvalidValue as exc:
            self.views.show_error("Morph", str(exc))


def morph_dialog(views: ViewContext) -> MorphDialog | None:
    """Open Morph to take (non-blocking); with fewer than two takes, say why not."""
    if len(views.session.takes) < 2:
        views.status("Morph needs two takes: set Variations above 1 and Generate", 8000)
        return None
    dialog = MorphDialog(views)
    dialog.finished.connect(lambda _result: _focus_back(views))
    dialog.open()
    return dialog


def _focus_back(views) -> None:
    """The window, not the closed dialog or the Morph button, takes the keys again (Ctrl and Space shortcuts)."""
    views.parent.activateWindow()
    views.parent.raise_()
    views.lanes.setFocus(Qt.FocusReason.OtherFocusReason)
