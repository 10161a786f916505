"""How the window speaks to the musician: errors, status-bar messages, yes/no questions, and focus after dialogs.

A mixin for MainWindow (which provides the status-bar labels and `last_error`); kept apart so the
window module stays layout and wiring.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QMessageBox

from .worker import slot


class MessagesMixin:
    """Message boxes, the elided status line with its tooltip, and giving the keyboard back after a dialog."""

    def show_error(self, title: str, text: str) -> None:
        """Every user-facing error goes through here: a non-blocking message box; the sketch is untouched."""
        self.last_error = text
        self.show_status(f"{title}: {text}", 10000)
        self._message_box(QMessageBox.Icon.Warning, title, text)

    def _message_box(self, icon, title: str, text: str, name: str = "") -> None:
        box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, self)
        box.setObjectName(name)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(slot(self.refocus))
        box.open()

    def show_status(self, text: str, ms: int = 0) -> None:
        """A status-bar message elided to the room left by the permanent labels; the whole text in its tooltip
        (and, for an error, in a dialog when the status bar is clicked)."""
        bar = self.statusBar()
        labels = (self.sketch_length, self.device_label, self.pack_label, self.time_label)
        room = bar.width() - sum(w.width() for w in labels if w.isVisible()) - 40
        line = " ".join(text.split())
        bar.showMessage(bar.fontMetrics().elidedText(line, Qt.TextElideMode.ElideRight, max(room, 80)), ms)
        bar.setToolTip(text)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802
        if watched is self.statusBar() and event.type() == QEvent.Type.MouseButtonPress and self.last_error:
            self._message_box(QMessageBox.Icon.Information, "Last message", self.last_error, "lastErrorBox")
            return True
        return super().eventFilter(watched, event)

    def ask(self, title: str, text: str) -> bool:
        """A yes/no question (only asked where the user's answer matters, e.g. restoring after a crash)."""
        answer = QMessageBox.question(self, title, text, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        self.refocus()
        return answer == QMessageBox.StandardButton.Yes

    def refocus(self) -> None:
        """Give the keyboard back to the window after a dialog: without a window manager (a bare X server)
        nobody else does, and every shortcut (Ctrl+G, Space...) would stay dead."""
        if self.isVisible():
            self.raise_()
            self.activateWindow()
