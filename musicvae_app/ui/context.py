"""What a view of the window is given, explicitly: the Session it forwards to and the window's few shared
widgets and ways to speak. Views take this (and the widgets they draw on) instead of reaching into the window."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QWidget

from ..sketch.session import Session
from .lanes_view import LanesView


@dataclass(frozen=True)
class ViewContext:
    """The session, the window (as the parent of dialogs), the lanes, and how to tell the user something."""

    session: Session
    parent: QWidget
    lanes: LanesView
    show_error: Callable[[str, str], None]  # a message box the user must read (title, text)
    status: Callable[[str, int], None]  # a status bar message for `ms` milliseconds (0: until the next)
    refocus: Callable[[], None]  # the window takes the keys again after a dialog
    settings: QSettings  # the window's preferences store
    data_dir: Path  # the app's data folder (recordings/, recovered/ ...)


@dataclass(frozen=True)
class Menus:
    """The window's menus, held by reference (a view adds its actions to `sketch`, never finds it by text),
    and File > Open recovered sketch… (its text says when new sketches arrived in recovered/)."""

    file: QMenu
    edit: QMenu
    sketch: QMenu
    view: QMenu
    recovered: QAction
    help: QMenu | None = None


def toggle_action(parent: QWidget, menu: QMenu, text: str, name: str, keys: str, tip: str, on_toggled) -> QAction:
    """A checkable menu entry that shows or hides a view (`on_toggled(checked)`), added at the end of `menu`."""
    toggle = QAction(text, parent)
    toggle.setObjectName(name)
    toggle.setCheckable(True)
    toggle.setShortcut(QKeySequence(keys))
    toggle.setToolTip(tip)
    toggle.toggled.connect(on_toggled)
    menu.addAction(toggle)
    return toggle
