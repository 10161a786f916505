"""File > Export audio stems… (one WAV per lane, rendered in the background like File > Export audio) and
File > Export lead sheet… (MusicXML: the tune, chord symbols, key, tempo, sections; sketch/leadsheet.py)."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QInputDialog

from ..errors import MusicVAEError
from ..playback.stems import render_stems
from ..playback.synth import RenderCancelled
from ..sketch.leadsheet import default_tune_lane, lead_sheet_of_song, write_lead_sheet
from ..sketch.song import DRUMS, LANES
from .audition import AudioExport, Audition
from .context import Menus, ViewContext
from .files import last_folder
from .worker import slot


class StemsExport(AudioExport):
    """The audio stems of the current take rendered in the background: `done` carries the list of paths (or
    None when it failed or was cancelled). `path` is the folder's base name: folder/<stem>-piano.wav ..."""

    def start(self) -> bool:
        from .audition import audio_export_possible

        views = self.views
        if not audio_export_possible(views, self.playback):
            return False
        song, soundfont, mutes = views.session.song.copy(), self.playback.soundfont, views.session.lane_mutes()
        self.dialog.setLabelText(f"Rendering the stems of {self.path.stem}…")
        self.dialog.setWindowTitle("Export audio stems")
        self.dialog.setValue(0)
        self.dialog.show()
        views.status(f"Rendering audio stems into {self.path.parent} in the background…", 0)

        def run() -> None:
            try:
                out = render_stems(song, self.path, soundfont=soundfont, mutes=mutes, progress=self._report)
                self._finished.emit(out, None)
            except RenderCancelled:
                self._finished.emit(None, None)
            except Exception as exc:  # a synth or disk error is a message, never a crash
                self._finished.emit(None, f"Could not write the stems into '{self.path.parent}': {exc}")

        self._thread = threading.Thread(target=run, name="export-stems", daemon=True)
        self._thread.start()
        return True

    def _end(self, paths, error) -> None:
        self.dialog.close()
        views = self.views
        if error:
            self.error = error
            views.show_error("Export audio stems failed", error)
        elif paths is None:
            views.status("Export audio stems cancelled", 8000)
        else:
            self.result = list(paths)
            views.status(f"Wrote {len(paths)} audio stems to {self.path.parent}", 15000)
        if self.ended is not None:
            self.ended(self)
        views.refocus()
        self.done.emit(self.result)


class Exports:
    """The two File menu entries over the ViewContext and the window's Audition (its playback and soundfont)."""

    def __init__(self, views: ViewContext, audition: Audition):
        self.views, self.audition = views, audition
        self.running: StemsExport | None = None

    # --- audio stems -------------------------------------------------------------------------------
    def export_audio_stems(self, folder: str | Path) -> StemsExport | None:
        """Start rendering one WAV per audible lane into `folder` (<sketch>-piano.wav ...); None when it cannot."""
        if self.running is not None or self.audition.running is not None:
            self.views.status("An audio export is already running: wait for it or cancel it", 5000)
            return None
        folder = Path(folder)
        if not folder.is_dir():
            self.views.show_error("Export audio stems", f"Folder '{folder}' does not exist: choose another")
            return None
        base = folder / f"{self.views.session.file_stem()}.wav"
        job = StemsExport(self.views, self.audition.playback, base, ended=self._ended)
        if not job.start():
            job.deleteLater()
            return None
        self.running = job
        return job

    def _ended(self, job) -> None:
        if self.running is job:
            self.running = None

    def audio_stems_dialog(self) -> None:
        v = self.views
        folder = QFileDialog.getExistingDirectory(v.parent, "Export audio stems into folder", last_folder(v))
        v.refocus()
        if folder:
            v.settings.setValue("last_dir", folder)
            self.export_audio_stems(folder)

    # --- lead sheet --------------------------------------------------------------------------------
    def tune_lane(self) -> int:
        """The lane the lead sheet carries by default: the musician's part, else the piano."""
        try:
            return default_tune_lane(self.views.session.part_lanes())
        except MusicVAEError:
            return 0

    def export_lead_sheet(self, path: str | Path, lane: int | str | None = None) -> Path | None:
        """Write the current take's lead sheet (MusicXML) with `lane` as the tune (default: tune_lane())."""
        v = self.views
        if not v.session.have_song("export a lead sheet"):
            return None
        lane = self.tune_lane() if lane is None else lane
        try:
            sheet = lead_sheet_of_song(v.session.song, lane, v.session.file_stem())
            out = write_lead_sheet(sheet, path)
        except (MusicVAEError, OSError) as exc:
            text = str(exc)
            if isinstance(exc, OSError) and exc.strerror:  # in words, never a raw "[Errno 30]"
                text = f"{exc.strerror}: '{exc.filename or path}'"
            v.show_error("Export lead sheet failed", f"Could not write the lead sheet: {text}")
            return None
        v.status(f"Lead sheet (the tune from the {sheet.tune_name}) saved to {out}", 10000)
        return out

    def lead_sheet_dialog(self) -> None:
        v = self.views
        if not v.session.have_song("export a lead sheet"):
            return
        names = [name.capitalize() for i, name in enumerate(LANES) if i != DRUMS]
        mine = v.session.part_lanes()
        choices = [f"{n} (your part)" if LANES.index(n.lower()) in mine else n for n in names]
        pick, ok = QInputDialog.getItem(
            v.parent, "Export lead sheet", "The tune is the part of:", choices, self.tune_lane(), False
        )
        if not ok:
            v.refocus()
            return
        lane = LANES.index(pick.split(" ")[0].lower())
        start = str(Path(last_folder(v)) / f"{v.session.file_stem()}.musicxml")
        path, _ = QFileDialog.getSaveFileName(v.parent, "Export lead sheet", start, "MusicXML (*.musicxml *.xml)")
        v.refocus()
        if path:
            v.settings.setValue("last_dir", str(Path(path).parent))
            self.export_lead_sheet(path if path.lower().endswith((".musicxml", ".xml")) else path + ".musicxml", lane)


def attach_exports(views: ViewContext, menus: Menus, audition: Audition) -> Exports:
    """File > Export audio stems… and File > Export lead sheet…, after File > Export audio (WAV)…"""
    exports = Exports(views, audition)
    after = next((a for a in menus.file.actions() if a.objectName() == "soundfontAction"), None)
    for text, fn, name in (
        ("Export audio stems…", exports.audio_stems_dialog, "exportAudioStemsAction"),
        ("Export lead sheet…", exports.lead_sheet_dialog, "exportLeadSheetAction"),
    ):
        action = QAction(text, views.parent)
        action.setObjectName(name)
        action.triggered.connect(slot(fn))
        if after is not None:
            menus.file.insertAction(after, action)
        else:
            menus.file.addAction(action)
    return exports
