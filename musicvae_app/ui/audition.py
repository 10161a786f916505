"""Audition in the window: the playback panel wired to the sketch, Jam, and File > Export audio.

Everything here is given the window's ViewContext (the session, the dialogs' parent, the lanes, the
preferences, how to speak) and the widgets and signals it needs explicitly, never the window itself.
`attach_playback` builds the transport; `Audition` holds File > Export audio and Choose soundfont over it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal, SignalInstance
from PySide6.QtWidgets import QFileDialog, QProgressDialog, QWidget

from ..errors import disk_words
from ..playback.synth import RenderCancelled, SynthUnavailable, render_wav, unavailable_reason
from ..sketch.session import JAM_CHUNKS, JAM_MERGE
from .context import ViewContext
from .files import last_folder
from .playback_panel import PlaybackPanel
from .worker import slot


def attach_playback(
    views: ViewContext,
    *,
    place: Callable[[QWidget], None],
    feel: QWidget,
    song_changed: SignalInstance,
    mutes_changed: SignalInstance,
    list_outputs: bool = True,
) -> PlaybackPanel:
    """Build the transport, `place` it (the window's row under the generate bar), put the `feel` controls on it
    and keep it in step with the sketch (`song_changed`, `mutes_changed`: the window's signals) and the lanes."""
    session, lanes = views.session, views.lanes
    panel = PlaybackPanel(lambda: session.song, session.lane_mutes, settings=views.settings, list_outputs=list_outputs)
    panel.setObjectName("playbackPanel")
    place(panel)
    panel.add_controls(feel)
    panel.playhead_moved.connect(slot(lanes.set_playhead, 1))
    panel.error_raised.connect(slot(lambda text: views.show_error("Playback", text), 1))
    panel.jam_wanted.connect(slot(lambda: jam_more(views)))
    song_changed.connect(slot(panel.song_changed))
    lanes.seekRequested.connect(slot(panel.seek, 1))
    lanes.loopChanged.connect(slot(panel.set_loop_region, 2))
    panel.loop_box.toggled.connect(slot(lanes.show_loop, 1))
    mutes_changed.connect(slot(panel.mutes_changed))
    return panel


def jam_more(views: ViewContext) -> bool:
    """Jam: continue the current take by a chunk in the background; playback picks it up without a gap."""
    return views.session.continue_song(JAM_CHUNKS, JAM_MERGE)


def audio_export_possible(views: ViewContext, playback: PlaybackPanel) -> bool:
    """A take to render and a synth to render it with; otherwise say which is missing and return False."""
    if views.session.song is None:
        views.show_error("Export audio", "Generate a sketch first")
        return False
    reason = unavailable_reason(playback.soundfont)
    if reason:
        views.show_error("Export audio needs FluidSynth", reason)
        return False
    return True


class AudioExport(QObject):
    """File > Export audio in the background: the window stays live, a progress dialog can cancel it,
    and the status bar says where the file went. `done` carries the path, or None (failed or cancelled);
    `ended` (if given) is told first, with this job, that it is over."""

    progressed = Signal(int)  # per mille
    done = Signal(object)
    _finished = Signal(object, object)  # path or None, error text or None (from the render thread)

    def __init__(
        self,
        views: ViewContext,
        playback: PlaybackPanel,
        path: str | Path,
        ended: Callable[[AudioExport], None] | None = None,
    ):
        super().__init__(views.parent)
        self.views, self.playback, self.path = views, playback, Path(path)
        self.ended = ended
        self.cancelled = False
        self.result: Path | None = None
        self.error: str | None = None
        self.dialog = QProgressDialog(f"Rendering {self.path.name}…", "Cancel", 0, 1000, views.parent)
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
        views = self.views
        if not audio_export_possible(views, self.playback):
            return False
        song, soundfont, mutes = views.session.song.copy(), self.playback.soundfont, views.session.lane_mutes()
        self.dialog.setValue(0)
        self.dialog.show()
        views.status(f"Rendering {self.path.name} in the background…", 0)

        def run() -> None:
            try:
                out = render_wav(song, self.path, soundfont=soundfont, mutes=mutes, progress=self._report)
                self._finished.emit(out, None)
            except RenderCancelled:
                self._finished.emit(None, None)
            except Exception as exc:  # a synth or disk error is a message, never a crash
                self._finished.emit(None, f"Could not write '{self.path}': {disk_words(exc)}")

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
        views = self.views
        if error:
            self.error = error
            views.show_error("Export audio failed", error)
        elif path is None:
            views.status(f"Export audio cancelled: {self.path.name} was not written", 8000)
        else:
            self.result = Path(path)
            views.status(f"Saved audio to {path}", 15000)
        if self.ended is not None:
            self.ended(self)
        views.refocus()
        self.done.emit(self.result)


@dataclass
class Audition:
    """File > Export audio (WAV) and Choose soundfont, over the ViewContext and the window's playback panel.
    `running` is the audio export under way (one at a time), or None."""

    views: ViewContext
    playback: PlaybackPanel
    running: AudioExport | None = None

    def audio_export_possible(self) -> bool:
        return audio_export_possible(self.views, self.playback)

    def export_audio(self, path: str | Path) -> Path | None:
        """Render the current take through FluidSynth (muted lanes left out) to a WAV file."""
        views = self.views
        if not self.audio_export_possible():
            return None
        song = views.session.song
        try:
            return render_wav(song, path, soundfont=self.playback.soundfont, mutes=views.session.lane_mutes())
        except Exception as exc:  # a synth or disk error is a message, never a crash
            views.show_error("Export audio failed", f"Could not write '{path}': {disk_words(exc)}")
            return None

    def export_audio_in_background(self, path: str | Path) -> AudioExport | None:
        """Start rendering the current take to `path`; None (with a message) when it cannot start."""
        if self.running is not None:
            self.views.status("An audio export is already running: wait for it or cancel it", 5000)
            return None
        job = AudioExport(self.views, self.playback, path, ended=self._ended)
        if not job.start():
            job.deleteLater()
            return None
        self.running = job
        return job

    def _ended(self, job: AudioExport) -> None:
        if self.running is job:
            self.running = None

    def export_audio_dialog(self) -> None:
        v = self.views
        path, _ = QFileDialog.getSaveFileName(v.parent, "Export audio", last_folder(v), "WAV audio (*.wav)")
        v.refocus()
        if path:
            self.export_audio_in_background(path if path.lower().endswith(".wav") else path + ".wav")

    def choose_soundfont(self, path: str | Path) -> bool:
        """Use a General MIDI .sf2/.sf3 for the built-in synth and audio export; a bad file is a message."""
        try:
            self.playback.set_soundfont(str(path))
        except SynthUnavailable as exc:
            self.views.show_error("Soundfont", str(exc))
            return False
        self.views.status(f"Built-in synth soundfont: {Path(path).name}", 5000)
        return True

    def choose_soundfont_dialog(self) -> None:
        v = self.views
        path, _ = QFileDialog.getOpenFileName(v.parent, "Choose a soundfont", last_folder(v), "SoundFont (*.sf2 *.sf3)")
        v.refocus()
        if path:
            self.choose_soundfont(path)
