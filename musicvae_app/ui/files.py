"""The window's file dialogs and drag and drop: thin, each asks for a place and hands it to the session's action.

Every function takes the window; MainWindow also offers them as methods (window.export_dialog()...).
The folder last used is remembered in the window's settings.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QMimeData, Qt, QUrl
from PySide6.QtWidgets import QFileDialog

from ..sketch import sketchfile

SKETCHES = f"Sketches (*{sketchfile.SUFFIX})"
MIDI_SUFFIXES = (".mid", ".midi")


def last_folder(window) -> str:
    """The folder the user picked last (home at first): where every file dialog opens."""
    return str(window.settings.value("last_dir", str(Path.home())))


def remember(window, path: str) -> str:
    if path:
        window.settings.setValue("last_dir", str(Path(path).parent))
    return path


def export_dialog(window) -> None:
    start = str(Path(last_folder(window)) / f"{window.session.file_stem()}.mid")
    path, _ = QFileDialog.getSaveFileName(window, "Export MIDI", start, "MIDI (*.mid)")
    window.refocus()
    if remember(window, path):
        window.export_midi(path)


def stems_dialog(window) -> None:
    folder = QFileDialog.getExistingDirectory(window, "Export stems into folder", last_folder(window))
    window.refocus()
    if folder:
        window.settings.setValue("last_dir", folder)
        window.export_stems(folder)


def primer_dialog(window) -> None:
    path, _ = QFileDialog.getOpenFileName(window, "Open primer", last_folder(window), "MIDI (*.mid *.midi)")
    window.refocus()
    if remember(window, path):
        window.open_primer(path)


def follow_dialog(window) -> None:
    """File > Follow a part…: a .mid whose lanes are kept whole while Generate makes the band around them."""
    path, _ = QFileDialog.getOpenFileName(window, "Follow a part", last_folder(window), "MIDI (*.mid *.midi)")
    window.refocus()
    if remember(window, path):
        window.session.follow_part(path)


def open_sketch_dialog(window) -> None:
    path, _ = QFileDialog.getOpenFileName(window, "Open sketch", last_folder(window), SKETCHES)
    window.refocus()
    if remember(window, path):
        window.open_sketch(path)


def open_recovered_dialog(window) -> None:
    """File > Open recovered sketch…: the sketches kept in the data folder's recovered/ (other windows' last
    sketches, unrestored or damaged ones), in a file dialog opened there."""
    folder = window.autosave.recovered
    window.recovered_action.setText("Open recovered sketch…")
    if not window.autosave.recovered_sketches():
        window.statusBar().showMessage(f"No recovered sketches: '{folder}' holds none", 8000)
        return
    path, _ = QFileDialog.getOpenFileName(window, "Open recovered sketch", str(folder), SKETCHES)
    window.refocus()
    if path:
        window.open_sketch(path)


def save_sketch_dialog(window, save_as: bool = False) -> None:
    session = window.session
    if session.path is not None and not save_as:
        window.save_sketch(session.path)
        return
    start = str(Path(last_folder(window)) / f"{session.file_stem()}{sketchfile.SUFFIX}")
    path, _ = QFileDialog.getSaveFileName(window, "Save sketch", start, SKETCHES)
    window.refocus()
    if remember(window, path):
        window.save_sketch(path if path.endswith(sketchfile.SUFFIX) else path + sketchfile.SUFFIX)


# --- drag and drop -------------------------------------------------------------------------------------
def drag_mime(window) -> QMimeData | None:
    """A fresh .mid of the current sketch in the user's drag folder, as a file URL (Drag MIDI into a DAW)."""
    if not window.session.have_song("drag out"):
        return None
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = (window.data_dir / "drag").resolve() / f"{window.session.file_stem()}-{stamp}.mid"
    path.parent.mkdir(parents=True, exist_ok=True)
    path = window.export_midi(path)
    if path is None:
        return None
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    return mime


def dropped_kind(url: QUrl) -> str | None:
    name = url.toLocalFile().lower()
    if name.endswith(MIDI_SUFFIXES):
        return "primer"
    if name.endswith(sketchfile.SUFFIX):
        return "sketch"
    return None


def own_drop(window, event) -> bool:
    """A drag that started in this app (Drag MIDI dropped back on the window): not a primer."""
    if event.source() is not None:
        return True
    drag_dir = (window.data_dir / "drag").resolve()
    return any(Path(u.toLocalFile()).resolve().parent == drag_dir for u in event.mimeData().urls())


def drag_enter(window, event) -> None:
    if not own_drop(window, event) and any(dropped_kind(u) for u in event.mimeData().urls()):
        event.acceptProposedAction()


def drop(window, event) -> None:
    """A .mid dropped on the window becomes the primer (with Shift held: the part to follow); a sketch file opens."""
    if own_drop(window, event):
        event.ignore()
        return
    for url in event.mimeData().urls():
        kind = dropped_kind(url)
        if kind == "primer" and event.modifiers() & Qt.KeyboardModifier.ShiftModifier:  # Shift+drop: follow it
            window.session.follow_part(url.toLocalFile())
            event.setDropAction(Qt.DropAction.CopyAction)  # never a move: the user's file stays where it is
            event.accept()
            return
        if kind == "primer":
            window.open_primer(url.toLocalFile())
        elif kind == "sketch":
            window.open_sketch(url.toLocalFile())
        if kind:
            event.acceptProposedAction()
            return
