"""The keyboard after typing in a box: the window's shortcuts still work, and Enter or Esc hands the keys back.

A number box (Noise, Steps, Tempo, the seed...) that has the keyboard used to swallow the window's
shortcuts: a line edit takes Ctrl+E (end of line), Ctrl+K, Ctrl+M... for itself, so Ctrl+E exported
nothing and said nothing until a click elsewhere. `BoxKeys`, an event filter on each of the window's boxes,
lets every window shortcut through from them (except the keys text editing needs: undo, copy,
paste, select all, arrows, Home/End), and after Enter or Esc in one gives the keyboard to the roll.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import QAbstractSpinBox, QComboBox, QLineEdit, QWidget

# What a box keeps for its text: the window's own action for these waits until the box lets go of the keys.
EDITING = (
    QKeySequence.StandardKey.Undo,
    QKeySequence.StandardKey.Redo,
    QKeySequence.StandardKey.Copy,
    QKeySequence.StandardKey.Cut,
    QKeySequence.StandardKey.Paste,
    QKeySequence.StandardKey.SelectAll,
)
TEXT_KEYS = {
    Qt.Key.Key_Left,
    Qt.Key.Key_Right,
    Qt.Key.Key_Up,
    Qt.Key.Key_Down,
    Qt.Key.Key_Home,
    Qt.Key.Key_End,
    Qt.Key.Key_Backspace,
    Qt.Key.Key_Delete,
    Qt.Key.Key_Space,
}
DONE_KEYS = {Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Escape}


def _box(obj: QObject) -> QWidget | None:
    """The typing box `obj` is (or is inside): a spin box, a line edit, an editable combo box; else None."""
    if isinstance(obj, QLineEdit) and isinstance(obj.parent(), (QAbstractSpinBox, QComboBox)):
        return obj.parent()
    if isinstance(obj, QComboBox):
        return obj if obj.isEditable() else None
    if isinstance(obj, (QAbstractSpinBox, QLineEdit)):
        return obj
    return None


class BoxKeys(QObject):
    """On every typing box of `window` (spin boxes, line edits, editable combo boxes; watch() adds later
    ones); `roll` is the widget that takes the keys back."""

    def __init__(self, window: QWidget, roll: QWidget, shortcuts: Callable[[], list[QKeySequence]]):
        super().__init__(window)
        self.window, self.roll, self.shortcuts = window, roll, shortcuts
        for widget in window.findChildren(QWidget):
            box = _box(widget)
            if box is widget:
                self.watch(box)

    def watch(self, box: QWidget) -> None:
        box.installEventFilter(self)

    def _mine(self, box: QWidget | None) -> bool:
        return box is not None and box.window() is self.window

    def _is_window_shortcut(self, event: QKeyEvent) -> bool:
        if event.key() in TEXT_KEYS and not event.modifiers() & ~Qt.KeyboardModifier.ShiftModifier:
            return False
        if any(event.matches(k) for k in EDITING):
            return False
        pressed = QKeySequence(event.keyCombination())
        return any(s.matches(pressed) == QKeySequence.SequenceMatch.ExactMatch for s in self.shortcuts())

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        kind = event.type()
        if kind not in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress):
            return False
        box = _box(obj)
        if not self._mine(box):
            return False
        if kind == QEvent.Type.ShortcutOverride:
            if event.key() in DONE_KEYS and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
                event.accept()  # the box's (not File > Stop reading primer's Esc): it hands the keys back
                return True
            if self._is_window_shortcut(event):
                event.ignore()  # not the box's: the shortcut fires
                return True
            return False
        if event.key() in DONE_KEYS and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            if event.key() == Qt.Key.Key_Escape:
                self.give_back()
                return True
            QTimer.singleShot(0, self.give_back)  # Enter: the box takes its value first, then lets go
        return False

    def give_back(self) -> None:
        """The roll takes the keyboard (Space plays, Ctrl+G generates...)."""
        if self.roll.isVisible():
            self.roll.setFocus(Qt.FocusReason.OtherFocusReason)
