"""The transport: output picker with Refresh, Play/Pause (Space), Stop (back to the start; Home), Loop and Jam.

A view of playback.transport.Transport.

PlaybackPanel(get_song, get_mutes=None, get_solos=None, parent=None, settings=None)
    get_song() -> Song | None is read on Play; get_mutes()/get_solos() -> five booleans (or lane
    names) are read on Play and on mutes_changed().

Signals
    playhead_moved(float)   the playhead in beats, ~30 times a second while playing (and once on stop)
    playing_changed(bool)   playback started / stopped (Stop, end of the sketch, a lost port)
    error_raised(str)       a message for the status bar: a lost port, an output that will not open
    jam_wanted(float)       Jam is on and less than JAM_AHEAD_BEATS of sketch is left ahead of the
                            playhead (the value): generate more, then call song_changed()
    output_changed(str)     the label of the chosen output

Slots
    toggle_play() (Space: pause / go on), play(), pause(), stop() (back to the start), refresh_outputs(),
    song_changed(), mutes_changed(),
    seek(beats), set_loop_region(start, end) (None, None: the whole sketch), shutdown(),
    set_soundfont(path) (the built-in synth's soundfont, remembered; `soundfont` holds it)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from PySide6.QtCore import QSettings, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..playback.player import Player
from ..playback.transport import JAM_AHEAD_BEATS, Transport
from ..sketch.song import Song
from .sync_controls import SyncControls

PLAYHEAD_MS = 33
__all__ = ["JAM_AHEAD_BEATS", "PlaybackPanel"]
SETTINGS_KEY = "playback/output"
SOUNDFONT_KEY = "playback/soundfont"


class MessageLabel(QLabel):
    """One line of status, elided to its width; the whole text is in the tooltip and in a dialog on click."""

    def __init__(self) -> None:
        super().__init__()
        self.full_text = ""
        self.setWordWrap(False)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def set_message(self, short: str, full: str) -> None:
        self.full_text, self._short = full, short
        self.setToolTip(full)
        self._elide()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        short = getattr(self, "_short", "")
        self.setText(self.fontMetrics().elidedText(short, Qt.TextElideMode.ElideRight, max(self.width(), 40)))

    def minimumSizeHint(self):  # noqa: N802 (a long message must not widen the window)
        hint = super().minimumSizeHint()
        hint.setWidth(40)
        return hint

    def mousePressEvent(self, event) -> None:  # noqa: N802
        if self.full_text:
            ok = QMessageBox.StandardButton.Ok
            box = QMessageBox(QMessageBox.Icon.Information, "Playback", self.full_text, ok, self)
            box.setObjectName("playbackMessage")
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()


class PlaybackPanel(QWidget):
    playhead_moved = Signal(float)
    playing_changed = Signal(bool)
    error_raised = Signal(str)
    jam_wanted = Signal(float)
    output_changed = Signal(str)

    def __init__(
        self,
        get_song: Callable[[], Song | None],
        get_mutes: Callable[[], Sequence] | None = None,
        get_solos: Callable[[], Sequence] | None = None,
        parent: QWidget | None = None,
        settings: QSettings | None = None,
        list_outputs: bool = True,
    ) -> None:
        super().__init__(parent)
        self.listed = False  # the outputs were listed (deferred at launch until the pack has loaded)
        self._was_playing = False
        self._settings = settings if settings is not None else QSettings("musicvae-app", "musicvae-app")
        soundfont = self._settings.value(SOUNDFONT_KEY, "", str) or None
        self.transport = Transport(get_song, get_mutes, get_solos, on_error=self._fail, soundfont=soundfont)

        self.output_box = QComboBox()
        self.output_box.setMinimumContentsLength(8)  # "Built-in…" at 1024 px: the list shows each name whole
        self.output_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.output_box.setToolTip("Where the sketch plays: a MIDI port, our virtual port, or the built-in synth")
        self.refresh_button = QToolButton()
        self.refresh_button.setText("Refresh")
        self.refresh_button.setToolTip("List the MIDI outputs again")
        self.play_button = QPushButton("Play")
        self.play_button.setCheckable(True)
        self.play_button.setToolTip("Play / Pause (Space): Play goes on from where it paused")
        self.stop_button = QToolButton()
        self.stop_button.setText("■")
        self.stop_button.setObjectName("stopButton")
        self.stop_button.setToolTip("Stop and go back to the start (Home)")
        self.loop_box = QCheckBox("Loop")
        self.jam_box = QCheckBox("Jam")
        self.jam_box.setToolTip("Keep generating ahead of the playhead while it plays")
        self.status = MessageLabel()
        self.status.setObjectName("playbackStatus")

        self.row = row = QHBoxLayout()
        row.addWidget(self.output_box)
        row.addWidget(self.refresh_button)
        row.addWidget(self.play_button)
        row.addWidget(self.stop_button)
        row.addWidget(self.loop_box)
        row.addWidget(self.jam_box)
        self.sync_controls = SyncControls(self)  # bar.beat, Sync, Input, Clock out, Live (issue 30)
        row.addWidget(self.sync_controls)
        row.addWidget(self.status, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 3, 8, 3)
        layout.addLayout(row)

        self.play_shortcut = QShortcut(QKeySequence(Qt.Key.Key_Space), self)
        self.play_shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        self.play_shortcut.activated.connect(self.toggle_play)
        self.stop_shortcut = QShortcut(QKeySequence(Qt.Key.Key_Home), self)
        self.stop_shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        self.stop_shortcut.activated.connect(self.stop)
        self.stop_button.clicked.connect(self.stop)
        self.refresh_button.clicked.connect(self.refresh_outputs)
        self.play_button.clicked.connect(self._play_clicked)
        self.loop_box.toggled.connect(self._apply_loop)
        self.jam_box.toggled.connect(self._apply_jam)
        self.output_box.currentIndexChanged.connect(self._output_picked)
        self._timer = QTimer(self)
        self._timer.setInterval(PLAYHEAD_MS)
        self._timer.timeout.connect(self._tick)
        if list_outputs:
            self.refresh_outputs()

    def ensure_outputs(self) -> None:
        """List the outputs if nobody has yet (MIDI systems probed, the built-in synth checked)."""
        if not self.listed:
            self.refresh_outputs()

    # --- state the window may read ---------------------------------------------------------------
    @property
    def player(self) -> Player | None:
        return self.transport.player

    @property
    def is_playing(self) -> bool:
        return self.transport.is_playing

    @property
    def soundfont(self) -> str | None:
        return self.transport.soundfont

    @soundfont.setter
    def soundfont(self, path: str | None) -> None:
        self.transport.soundfont = path

    # --- slots -------------------------------------------------------------------------------------
    @Slot()
    def refresh_outputs(self) -> None:
        """List the outputs again, keeping the current (or remembered) choice where it is still offered."""
        wanted = self.output_box.currentText() or self._settings.value(SETTINGS_KEY, "", str)
        self.listed = True
        choice = self.transport.refresh(wanted)
        outputs = self.transport.outputs
        self.output_box.blockSignals(True)
        self.output_box.clear()
        model = self.output_box.model()
        for i, out in enumerate(outputs.outputs):
            self.output_box.addItem(out.label)
            if not out.available:
                model.item(i).setEnabled(False)
                self.output_box.setItemData(i, out.reason, Qt.ItemDataRole.ToolTipRole)
        if choice is not None:
            self.output_box.setCurrentText(choice.label)
        self.output_box.blockSignals(False)
        self._show_status(outputs.message or "")
        self._sync_playing()

    @Slot()
    def toggle_play(self) -> None:
        """Space: pause where it is, or go on from there."""
        self.pause() if self.is_playing else self.play()

    @Slot()
    def pause(self) -> None:
        beats = self.transport.pause()
        if beats is not None:
            self.playhead_moved.emit(beats)
        self._sync_playing()

    @Slot()
    def play(self) -> None:
        self.ensure_outputs()
        if self.transport.play(self.output_box.currentText()):
            self._timer.start()
        self._sync_playing()

    @Slot()
    def stop(self) -> None:
        beats = self.transport.stop()
        if beats is not None:
            self.playhead_moved.emit(beats)
        self._sync_playing()

    @Slot(float)
    def seek(self, beats: float) -> None:
        """Move the playhead; before an output is open, the next Play starts there."""
        self.playhead_moved.emit(self.transport.seek(beats))

    @Slot()
    def song_changed(self) -> None:
        """The sketch changed (edited, regenerated, grown by Jam): play on with it."""
        self.transport.song_changed()

    @Slot()
    def mutes_changed(self) -> None:
        self.transport.mutes_changed()

    def set_loop_region(self, start: float | None, end: float | None) -> None:
        """The region Loop repeats, in beats; None, None loops the whole sketch."""
        self.transport.set_loop(region=None if start is None or end is None else (start, end))

    def add_controls(self, widget: QWidget) -> None:
        """Put another control group (the window's feel row) on the transport row, before the message."""
        self.row.insertSpacing(self.row.indexOf(self.status), 10)
        self.row.insertWidget(self.row.indexOf(self.status), widget)

    def use_output(self, port, label: str) -> None:
        """Play to an already open mido output port (a DAW bridge, a test's in-memory port)."""
        self.transport.use_output(port, label)
        self._sync_playing()

    @Slot()
    def shutdown(self) -> None:
        """Stop and close the output; call from the window's closeEvent."""
        self._timer.stop()
        self.sync_controls.shutdown()
        self._close_port()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self.shutdown()
        super().closeEvent(event)

    def set_soundfont(self, path: str) -> None:
        """Play the built-in synth (and render audio) with this .sf2/.sf3; SynthUnavailable names a bad file."""
        self._settings.setValue(SOUNDFONT_KEY, self.transport.set_soundfont(path))
        self._sync_playing()  # the next Play opens the synth with the new soundfont

    # --- internals -------------------------------------------------------------------------------
    def _loop_setting(self) -> bool | tuple[float, float] | None:
        return self.transport.loop_setting()

    def _close_port(self) -> None:
        self.transport.close()
        self._sync_playing()

    @Slot(int)
    def _output_picked(self, _index: int) -> None:
        label = self.output_box.currentText()
        if label == self.transport.port_label:
            return
        was_playing = self.is_playing
        self._close_port()
        self._settings.setValue(SETTINGS_KEY, label)
        self.output_changed.emit(label)
        if was_playing:
            self.play()

    @Slot(bool)
    def _play_clicked(self, checked: bool) -> None:
        self.play() if checked else self.pause()

    @Slot()
    def _apply_loop(self) -> None:
        self.transport.set_loop(self.loop_box.isChecked())

    @Slot(bool)
    def _apply_jam(self, on: bool) -> None:
        self.transport.jam = bool(on)

    def _show_status(self, text: str) -> None:
        """One short line under the transport (the details, such as backend errors, in its tooltip)."""
        self.status.set_message(re.sub(r" \([^)]*\)", "", text), text)

    def _fail(self, message: str) -> None:
        self._show_status(message)
        self.error_raised.emit(message)
        self._sync_playing()

    def _sync_playing(self) -> None:
        playing = self.is_playing
        self.play_button.setChecked(playing)
        self.play_button.setText("Pause" if playing else "Play")
        if playing != self._was_playing:
            self._was_playing = playing
            self.playing_changed.emit(playing)
        if not playing:
            self._timer.stop()

    @Slot()
    def _tick(self) -> None:
        if self.transport.player is None:
            self._sync_playing()
            return
        beats, ahead = self.transport.tick()
        self.playhead_moved.emit(beats)
        if ahead is not None:
            self.jam_wanted.emit(ahead)
        self._sync_playing()
