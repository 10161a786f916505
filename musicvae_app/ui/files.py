"""The window's file dialogs: thin, each asks for a place and hands it to the session's action.

Every function takes the window; MainWindow also offers them as methods (window.export_dialog()...).
The folder last used is remembered in the window's settings.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog

from .. import sketchfile

SKETCHES = f"Sketches (*{sketchfile.SUFFIX})"


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


def open_sketch_dialog(window) -> None:
    path, _ = QFileDialog.getOpenFileName(window, "Open sketch", last_folder(window), SKETCHES)
    window.refocus()
    if remember(window, path):
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
