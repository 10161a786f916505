"""The window's file dialogs and drag and drop: thin, each asks for a place and hands it to the session's action.

`FileDialogs` is given the window's ViewContext (the session, the dialogs' parent, the preferences, the data
folder, how to speak) and explicit callbacks for what the window does with a place (export, open, save), never
the window itself. MainWindow builds one and offers its dialogs as methods (window.export_dialog()...).
The folder last used is remembered in the window's settings.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QMimeData, Qt, QUrl
from PySide6.QtWidgets import QFileDialog

from ..sketch import sketchfile
from .context import ViewContext

SKETCHES = f"Sketches (*{sketchfile.SUFFIX})"
MIDI_SUFFIXES = (".mid", ".midi")


@dataclass
class FileDialogs:
    """The File menu's dialogs and the window's drag and drop, over a ViewContext and the window's actions."""

    views: ViewContext
    export_midi: Callable[[str | Path], Path | None]  # write the current take's .mid there (None: not written)
    export_stems: Callable[[str], object]  # one .mid a lane into the folder
    open_primer: Callable[[str], object]
    open_sketch: Callable[[str], object]
    save_sketch: Callable[[str | Path], object]
    autosave: object  # ui/autosave.Autosave: where recovered sketches are kept
    recovered_label: Callable[[str], None]  # the text of File > Open recovered sketch…

    def last_folder(self) -> str:
        """The folder the user picked last (home at first): where every file dialog opens."""
        return last_folder(self.views)

    def remember(self, path: str) -> str:
        return remember(self.views, path)

    def export_dialog(self) -> None:
        v = self.views
        start = str(Path(self.last_folder()) / f"{v.session.file_stem()}.mid")
        path, _ = QFileDialog.getSaveFileName(v.parent, "Export MIDI", start, "MIDI (*.mid)")
        v.refocus()
        if self.remember(path):
            self.export_midi(path)

    def stems_dialog(self) -> None:
        v = self.views
        folder = QFileDialog.getExistingDirectory(v.parent, "Export stems into folder", self.last_folder())
        v.refocus()
        if folder:
            v.settings.setValue("last_dir", folder)
            self.export_stems(folder)

    def primer_dialog(self) -> None:
        v = self.views
        path, _ = QFileDialog.getOpenFileName(v.parent, "Open primer", self.last_folder(), "MIDI (*.mid *.midi)")
        v.refocus()
        if self.remember(path):
            self.open_primer(path)

    def follow_dialog(self) -> None:
        """File > Follow a part…: a .mid whose lanes are kept whole while Generate makes the band around them."""
        v = self.views
        path, _ = QFileDialog.getOpenFileName(v.parent, "Follow a part", self.last_folder(), "MIDI (*.mid *.midi)")
        v.refocus()
        if self.remember(path):
            v.session.follow_part(path)

    def open_sketch_dialog(self) -> None:
        v = self.views
        path, _ = QFileDialog.getOpenFileName(v.parent, "Open sketch", self.last_folder(), SKETCHES)
        v.refocus()
        if self.remember(path):
            self.open_sketch(path)

    def open_recovered_dialog(self) -> None:
        """File > Open recovered sketch…: the sketches kept in the data folder's recovered/ (other windows' last
        sketches, unrestored or damaged ones), in a file dialog opened there."""
        v, folder = self.views, self.autosave.recovered
        self.recovered_label("Open recovered sketch…")
        if not self.autosave.recovered_sketches():
            v.status(f"No recovered sketches: '{folder}' holds none", 8000)
            return
        path, _ = QFileDialog.getOpenFileName(v.parent, "Open recovered sketch", str(folder), SKETCHES)
        v.refocus()
        if path:
            self.open_sketch(path)

    def save_sketch_dialog(self, save_as: bool = False) -> None:
        v = self.views
        session = v.session
        if session.path is not None and not save_as:
            self.save_sketch(session.path)
            return
        start = str(Path(self.last_folder()) / f"{session.file_stem()}{sketchfile.SUFFIX}")
        path, _ = QFileDialog.getSaveFileName(v.parent, "Save sketch", start, SKETCHES)
        v.refocus()
        if self.remember(path):
            self.save_sketch(path if path.endswith(sketchfile.SUFFIX) else path + sketchfile.SUFFIX)

    # --- drag and drop ---------------------------------------------------------------------------------
    def drag_mime(self) -> QMimeData | None:
        """A fresh .mid of the current sketch in the user's drag folder, as a file URL (Drag MIDI into a DAW)."""
        v = self.views
        if not v.session.have_song("drag out"):
            return None
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = (v.data_dir / "drag").resolve() / f"{v.session.file_stem()}-{stamp}.mid"
        path.parent.mkdir(parents=True, exist_ok=True)
        path = self.export_midi(path)
        if path is None:
            return None
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(path))])
        return mime

    def own_drop(self, event) -> bool:
        """A drag that started in this app (Drag MIDI dropped back on the window): not a primer."""
        if event.source() is not None:
            return True
        drag_dir = (self.views.data_dir / "drag").resolve()
        return any(Path(u.toLocalFile()).resolve().parent == drag_dir for u in event.mimeData().urls())

    def drag_enter(self, event) -> None:
        if not self.own_drop(event) and any(dropped_kind(u) for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def drop(self, event) -> None:
        """A .mid dropped on the window becomes the primer (with Shift held: the part to follow); a sketch opens."""
        if self.own_drop(event):
            event.ignore()
            return
        for url in event.mimeData().urls():
            kind = dropped_kind(url)
            if kind == "primer" and event.modifiers() & Qt.KeyboardModifier.ShiftModifier:  # Shift+drop: follow it
                self.views.session.follow_part(url.toLocalFile())
                event.setDropAction(Qt.DropAction.CopyAction)  # never a move: the user's file stays where it is
                event.accept()
                return
            if kind == "primer":
                self.open_primer(url.toLocalFile())
            elif kind == "sketch":
                self.open_sketch(url.toLocalFile())
            if kind:
                event.acceptProposedAction()
                return


def last_folder(views: ViewContext) -> str:
    """The folder the user picked last (home at first): where every file dialog opens."""
    return str(views.settings.value("last_dir", str(Path.home())))


def remember(views: ViewContext, path: str) -> str:
    if path:
        views.settings.setValue("last_dir", str(Path(path).parent))
    return path


def dropped_kind(url: QUrl) -> str | None:
    name = url.toLocalFile().lower()
    if name.endswith(MIDI_SUFFIXES):
        return "primer"
    if name.endswith(sketchfile.SUFFIX):
        return "sketch"
    return None
