"""Help > Keyboard shortcuts (every menu entry with its keys, read off the menus themselves) and Help > Guide
(docs/guide.md, shown in the window: it reads the same with no browser and no network)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QMenuBar,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ..resources import resources_dir

# Keys that are not on a menu: the transport's and the roll's.
OTHER_KEYS = (
    ("Transport", "Play / pause", "Space"),
    ("Transport", "Stop, back to the start of the song", "Home"),
    ("Roll", "Zoom around the mouse (or the playhead)", "Ctrl+wheel, Ctrl+=, Ctrl+-"),
    ("Roll", "Select bars to regenerate (add a lane: with Ctrl)", "Shift+drag"),
    ("Roll", "Clear the loop or the selection", "double-click"),
    ("Any box", "Done typing: the keys go back to the roll", "Enter or Esc"),
)


def guide_path() -> Path:
    """docs/guide.md: beside resources/ in a checkout, inside the bundle when shipped."""
    for folder in (resources_dir().parent / "docs", resources_dir() / "docs"):
        if (folder / "guide.md").is_file():
            return folder / "guide.md"
    return resources_dir().parent / "docs" / "guide.md"


def shortcut_rows(bar: QMenuBar) -> list[tuple[str, str, str]]:
    """(menu, entry, keys) for every menu entry that has keys, in menu order, then the keys off the menus."""
    rows = []
    for menu_action in bar.actions():
        menu = menu_action.menu()
        if menu is None:
            continue
        name = menu_action.text().replace("&", "")
        for action in menu.actions():
            keys = [k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts()]
            if keys and action.text():
                rows.append((name, action.text().replace("&", ""), ", ".join(keys)))
    return rows + list(OTHER_KEYS)


def shortcuts_dialog(parent: QWidget, bar: QMenuBar) -> QDialog:
    """Help > Keyboard shortcuts: a table of them (non-modal)."""
    rows = shortcut_rows(bar)
    dialog = QDialog(parent)
    dialog.setObjectName("shortcutsDialog")
    dialog.setWindowTitle("Keyboard shortcuts")
    table = QTableWidget(len(rows), 3, dialog)
    table.setObjectName("shortcutsTable")
    table.setHorizontalHeaderLabels(["Where", "What", "Keys"])
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            table.setItem(r, c, QTableWidgetItem(text))
    table.verticalHeader().hide()
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
    table.resizeColumnsToContents()
    _layout(dialog, table)
    dialog.resize(620, min(560, parent.height() - 40 if parent is not None else 560))
    dialog.show()
    return dialog


def guide_dialog(parent: QWidget) -> QDialog:
    """Help > Guide: docs/guide.md, rendered (or where it should be, when it is missing)."""
    path = guide_path()
    dialog = QDialog(parent)
    dialog.setObjectName("guideDialog")
    dialog.setWindowTitle("musicvae-app guide")
    view = QTextBrowser(dialog)
    view.setObjectName("guideText")
    view.setOpenExternalLinks(True)
    try:
        view.setMarkdown(path.read_text(encoding="utf-8"))
        view.setSearchPaths([str(path.parent)])
    except OSError as exc:
        view.setPlainText(f"The guide could not be read from '{path}' ({exc.strerror or exc}).")
    _layout(dialog, view)
    dialog.resize(760, min(640, parent.height() - 40 if parent is not None else 640))
    dialog.show()
    return dialog


def _layout(dialog: QDialog, body: QWidget) -> None:
    box = QVBoxLayout(dialog)
    box.addWidget(body)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dialog.close)
    box.addWidget(buttons)
