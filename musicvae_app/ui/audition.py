"""Audition in the window: the playback panel wired to the sketch, Jam, and File > Export audio."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QFileDialog, QProgressDialog

from ..playback.synth import RenderCancelled, SynthUnavailable, render_wav, unavailable_reason
from ..sketch.session import JAM_CHUNKS, JAM_MERGE
from .playback_panel import PlaybackPanel
from .worker import slot


def attach_playback(window) -> PlaybackPanel:
    """Build the transport, put it in the window's generate bar and keep it in step with the sketch."""
    panel = PlaybackPanel(lambda: window.song, window.lane_mutes, settings=window.settings)
    panel.setObjectName("playbackPanel")
    window.add_playback_panel(panel)
    panel.add_controls(window.feel)
    panel.playhead_moved.connect(slot(window.set_playhead, 1))
    panel.error_raised.connect(slot(lambda text: window.show_error("Playback", text), 1))
    panel.jam_wanted.connect(slot(lambda: jam_more(window)))
    window.songChanged.connect(slot(panel.song_changed))
    window.lanes.seekRequested.connect(slot(panel.seek, 1))
    window.lanes.loopChanged.connect(slot(panel.set_loop_region, 2))
    panel.loop_box.toggled.connect(slot(window.lanes.show_loop, 1))
    window.mutesChanged.connect(slot(panel.mutes_changed))
    return panel


def jam_more(window) -> bool:
    """Jam: continue the current take by a chunk in the background; playback picks it up without a gap."""
    return window.session.continue_song(JAM_CHUNKS, JAM_MERGE)


def audio_export_possible(window) -> bool:
    """A take to render and a synth to render it with; otherwise say which is missing and return False."""
    if window.song is None:
        window.show_error("Export audio", "Generate a sketch first")
        return False
    reason = unavailable_reason(window.playback.soundfont)
    if reason:
        window.show_error("Export audio needs FluidSynth", reason)
        return False
    return True


def export_audio(window, path: str | Path) -> Path | None:
    """Render the current take through FluidSynth (muted lanes left out) to a WAV file."""
    if not audio_export_possible(window):
        return None
    song = window.song
    try:
        return render_wav(song, path, soundfont=window.playback.soundfont, mutes=window.lane_mutes())
    except Exception as exc:  # a synth or disk error is a message, never a crash
        window.show_error("Export audio failed", f"Could not write '{path}': {exc}")
        return None


class AudioExport(QObject):
    """File > Export audio in the background: the window stays live, a progress dialog can cancel it,
    and the status bar says where the file went. `done` carries the path, or None (failed or cancelled)."""

    progressed = Signal(int)  # per mille
    done = Signal(object)
    _finished = Signal(object, object)  # path or None, error text or None (from the render thread)

    def __init__(self, window, path: str | Path):
        super().__init__(window)
        self.window, self.path = window, Path(path)
        self.cancelled = False
        self.result: Path | None = None
        self.error: str | None = None
        self.dialog = QProgressDialog(f"Rendering {self.path.name}…", "Cancel", 0, 1000, window)
        self.dialog.setObjectName("audioExportProgress")
        self.dialog.setWindowTitle("Export audio")
        self.dialog.setWindowModality(Qt.WindowModality.NonModal)  # keep sketching while it renders
        self.dialog.setMinimumDuration(0)
        self.dialog.setAutoClose(False)
        self.dialog.setAutoReset(False)
        self.dialog.canceled.connect(self.cancel)
        self.progressed.connect(self.dialog.setValue)
        self._finished.connect(self._end)
        self._thread: threading.Thread | None = None

    def start(self) -> bool:
        window, song = self.window, self.window.song
        if not audio_export_possible(window):
            return False
        song, soundfont, mutes = song.copy(), window.playback.soundfont, window.lane_mutes()
        self.dialog.setValue(0)
        self.dialog.show()
        window.statusBar().showMessage(f"Rendering {self.path.name} in the background…")

        def run() -> None:
            try:
                out = render_wav(song, self.path, soundfont=soundfont, mutes=mutes, progress=self._report)
                self._finished.emit(out, None)
            except RenderCancelled:
                self._finished.emit(None, None)
            except Exception as exc:  # a synth or disk error is a message, never a crash
                self._finished.emit(None, f"Could not write '{self.path}': {exc}")

        self._thread = threading.Thread(target=run, name="export-audio", daemon=True)
        self._thread.start()
        return True

    def _report(self, fraction: float) -> bool:
        self.progressed.emit(int(fraction * 1000))
        return not self.cancelled

    def cancel(self) -> None:
        self.cancelled = True

    def wait(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _end(self, path, error) -> None:
        self.dialog.close()
        window = self.window
        if error:
            self.error = error
            window.show_error("Export audio failed", error)
        elif path is None:
            window.statusBar().showMessage(f"Export audio cancelled: {self.path.name} was not written", 8000)
        else:
            self.result = Path(path)
            window.statusBar().showMessage(f"Saved audio to {path}", 15000)
        if getattr(window, "audio_export", None) is self:
            window.audio_export = None
        window.refocus()
        self.done.emit(self.result)


def export_audio_in_background(window, path: str | Path) -> AudioExport | None:
    """Start rendering the current take to `path`; None (with a message) when it cannot start."""
    running = getattr(window, "audio_export", None)
    if running is not None:
        window.statusBar().showMessage("An audio export is already running: wait for it or cancel it", 5000)
        return None
    job = AudioExport(window, path)
    if not job.start():
        job.deleteLater()
        return None
    window.audio_export = job
    return job


def export_audio_dialog(window) -> None:
    path, _ = QFileDialog.getSaveFileName(window, "Export audio", window.folder(), "WAV audio (*.wav)")
    window.refocus()
    if path:
        export_audio_in_background(window, path if path.lower().endswith(".wav") else path + ".wav")


def choose_soundfont(window, path: str | Path) -> bool:
    """Use a General MIDI .sf2/.sf3 for the built-in synth and audio export; a bad file is a message."""
    try:
        window.playback.set_soundfont(str(path))
    except SynthUnavailable as exc:
        window.show_error("Soundfont", str(exc))
        return False
    window.statusBar().showMessage(f"Built-in synth soundfont: {Path(path).name}", 5000)
    return True


def choose_soundfont_dialog(window) -> None:
    path, _ = QFileDialog.getOpenFileName(window, "Choose a soundfont", window.folder(), "SoundFont (*.sf2 *.sf3)")
    window.refocus()
    if path:
        choose_soundfont(window, path)
