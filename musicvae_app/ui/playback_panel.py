"""The transport: output picker with Refresh, Play/Stop (Space), Loop and Jam; a thin Qt face on Player.

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
    toggle_play(), play(), stop(), refresh_outputs(), song_changed(), mutes_changed(),
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
from ..playback.ports import Output, OutputList, PortError, list_outputs, open_output
from ..playback.synth import find_soundfont
from ..song import Song

PLAYHEAD_MS = 33
JAM_AHEAD_BEATS = 8.0
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
    ) -> None:
        super().__init__(parent)
        self._get_song, self._get_mutes, self._get_solos = get_song, get_mutes, get_solos
        self._outputs = OutputList()
        self._port = None
        self._port_label: str | None = None
        self._player: Player | None = None
        self._was_playing = False
        self._jam_asked = False
        self._loop_region: tuple[float, float] | None = None
        self._start_beats = 0.0  # where Play starts before an output is open
        self._settings = settings if settings is not None else QSettings("musicvae-app", "musicvae-app")
        self.soundfont: str | None = self._settings.value(SOUNDFONT_KEY, "", str) or None

        self.output_box = QComboBox()
        self.output_box.setMinimumContentsLength(12)
        self.output_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.output_box.setToolTip("Where the sketch plays: a MIDI port, our virtual port, or the built-in synth")
        self.refresh_button = QToolButton()
        self.refresh_button.setText("Refresh")
        self.refresh_button.setToolTip("List the MIDI outputs again")
        self.play_button = QPushButton("Play")
        self.play_button.setCheckable(True)
        self.play_button.setToolTip("Play / Stop (Space)")
        self.loop_box = QCheckBox("Loop")
        self.jam_box = QCheckBox("Jam")
        self.jam_box.setToolTip("Keep generating ahead of the playhead while it plays")
        self.status = MessageLabel()
        self.status.setObjectName("playbackStatus")

        row = QHBoxLayout()
        row.addWidget(self.output_box)
        row.addWidget(self.refresh_button)
        row.addWidget(self.play_button)
        row.addWidget(self.loop_box)
        row.addWidget(self.jam_box)
        row.addWidget(self.status, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 3, 8, 3)
        layout.addLayout(row)

        self.play_shortcut = QShortcut(QKeySequence(Qt.Key.Key_Space), self)
        self.play_shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        self.play_shortcut.activated.connect(self.toggle_play)
        self.refresh_button.clicked.connect(self.refresh_outputs)
        self.play_button.clicked.connect(self._play_clicked)
        self.loop_box.toggled.connect(self._apply_loop)
        self.output_box.currentIndexChanged.connect(self._output_picked)
        self._timer = QTimer(self)
        self._timer.setInterval(PLAYHEAD_MS)
        self._timer.timeout.connect(self._tick)
        self.refresh_outputs()

    # --- state the window may read ---------------------------------------------------------------
    @property
    def player(self) -> Player | None:
        return self._player

    @property
    def is_playing(self) -> bool:
        return self._player is not None and self._player.is_playing

    # --- slots -------------------------------------------------------------------------------------
    @Slot()
    def refresh_outputs(self) -> None:
        """List the outputs again, keeping the current (or remembered) choice where it is still offered."""
        wanted = self.output_box.currentText() or self._settings.value(SETTINGS_KEY, "", str)
        self._outputs = list_outputs()
        self.output_box.blockSignals(True)
        self.output_box.clear()
        model = self.output_box.model()
        for i, out in enumerate(self._outputs.outputs):
            self.output_box.addItem(out.label)
            if not out.available:
                model.item(i).setEnabled(False)
                self.output_box.setItemData(i, out.reason, Qt.ItemDataRole.ToolTipRole)
        usable = [o for o in self._outputs.outputs if o.available]
        # Unless the user chose otherwise, the built-in synth: it sounds at once, where our virtual port
        # (listed first when JACK runs) is silent until something is connected to it.
        synth = next((o for o in usable if o.kind == "synth"), None)
        choice = self._outputs.find(wanted) if self._outputs.find(wanted) in usable else synth or (usable or [None])[0]
        if choice is not None:
            self.output_box.setCurrentText(choice.label)
        self.output_box.blockSignals(False)
        self._show_status(self._outputs.message or "")
        if choice is None or choice.label != self._port_label:
            self._close_port()

    @Slot()
    def toggle_play(self) -> None:
        self.stop() if self.is_playing else self.play()

    @Slot()
    def play(self) -> None:
        song = self._get_song()
        if song is None:
            self._fail("Nothing to play yet: generate a sketch first")
            return
        if self._player is None:
            if not self._open_chosen():
                return
            self._player.set_song(song)  # the song first: a seek is clamped to the song's length
            self._player.seek(self._start_beats)
        self._player.set_mutes(self._lanes(self._get_mutes), self._lanes(self._get_solos))
        try:
            self._player.play(song, loop=self._loop_setting())
        except ValueError as exc:
            self._fail(str(exc))
            return
        self._jam_asked = False
        self._timer.start()
        self._sync_playing()

    @Slot()
    def stop(self) -> None:
        if self._player is not None:
            self._player.stop()
            self.playhead_moved.emit(self._player.position_beats)
        self._sync_playing()

    @Slot(float)
    def seek(self, beats: float) -> None:
        """Move the playhead; before an output is open, the next Play starts there."""
        if self._player is not None:
            self._player.seek(beats)
            self.playhead_moved.emit(self._player.position_beats)
        else:
            self._start_beats = float(beats)
            self.playhead_moved.emit(self._start_beats)

    @Slot()
    def song_changed(self) -> None:
        """The sketch changed (edited, regenerated, grown by Jam): play on with it."""
        self._jam_asked = False
        song = self._get_song()
        if self._player is None or song is None:
            return
        if self._player.is_playing:
            self._player.set_song(song)
        else:
            self._player.prepare(song)  # schedule now, so pressing Play sounds at once

    @Slot()
    def mutes_changed(self) -> None:
        if self._player is not None:
            self._player.set_mutes(self._lanes(self._get_mutes), self._lanes(self._get_solos))

    def set_loop_region(self, start: float | None, end: float | None) -> None:
        """The region Loop repeats, in beats; None, None loops the whole sketch."""
        self._loop_region = None if start is None or end is None else (float(start), float(end))
        self._apply_loop()

    def use_output(self, port, label: str) -> None:
        """Play to an already open mido output port (a DAW bridge, a test's in-memory port)."""
        self._close_port()
        self._port, self._port_label = port, label
        self._player = Player(port)

    @Slot()
    def shutdown(self) -> None:
        """Stop and close the output; call from the window's closeEvent."""
        self._timer.stop()
        self._close_port()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self.shutdown()
        super().closeEvent(event)

    # --- internals -------------------------------------------------------------------------------
    def _chosen(self) -> Output | None:
        return self._outputs.find(self.output_box.currentText())

    def _open_chosen(self) -> bool:
        chosen = self._chosen()
        if chosen is None:
            self._fail(self._outputs.message or "No output: press Refresh and choose one")
            return False
        try:
            port = open_output(chosen, self.soundfont)
        except PortError as exc:
            self._fail(str(exc))
            return False
        self.use_output(port, chosen.label)
        return True

    def set_soundfont(self, path: str) -> None:
        """Play the built-in synth (and render audio) with this .sf2/.sf3; SynthUnavailable names a bad file."""
        self.soundfont = str(find_soundfont(path))
        self._settings.setValue(SOUNDFONT_KEY, self.soundfont)
        self._close_port()  # the next Play opens the synth with the new soundfont

    def _close_port(self) -> None:
        if self._player is not None:
            self._player.close()
        if self._port is not None:
            self._port.close()
        self._player = self._port = self._port_label = None
        self._sync_playing()

    @Slot(int)
    def _output_picked(self, _index: int) -> None:
        label = self.output_box.currentText()
        if label == self._port_label:
            return
        was_playing = self.is_playing
        self._close_port()
        self._settings.setValue(SETTINGS_KEY, label)
        self.output_changed.emit(label)
        if was_playing:
            self.play()

    @Slot(bool)
    def _play_clicked(self, checked: bool) -> None:
        self.play() if checked else self.stop()

    def _loop_setting(self) -> bool | tuple[float, float] | None:
        if not self.loop_box.isChecked():
            return None
        return self._loop_region if self._loop_region is not None else True

    @Slot()
    def _apply_loop(self) -> None:
        if self._player is not None and self._player.song is not None:
            try:
                self._player.set_loop(self._loop_setting())
            except ValueError as exc:
                self._fail(str(exc))

    @staticmethod
    def _lanes(source: Callable[[], Sequence] | None):
        return None if source is None else source()

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
        self.play_button.setText("Stop" if playing else "Play")
        if playing != self._was_playing:
            self._was_playing = playing
            self.playing_changed.emit(playing)
        if not playing:
            self._timer.stop()

    @Slot()
    def _tick(self) -> None:
        player = self._player
        if player is None:
            self._sync_playing()
            return
        beats = player.position_beats
        self.playhead_moved.emit(beats)
        if player.error and not player.is_playing:
            message = player.error
            player.error = None
            self._close_port()
            self._fail(message)
            return
        song = player.song
        if self.jam_box.isChecked() and player.is_playing and song is not None and not self._jam_asked:
            ahead = song.n_steps / song.steps_per_beat - beats
            if ahead < JAM_AHEAD_BEATS:
                self._jam_asked = True
                self.jam_wanted.emit(ahead)
        self._sync_playing()
