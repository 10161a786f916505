"""Beside the transport (issue 30): the bar.beat counter, whose beat the band keeps (Sync: Internal / MIDI
clock in / Link), the input a clock or a keyboard comes in on, Clock out, and Live (the band follows the
chords played on that input; Save take writes what you and the band played).

The transport row has no room to spare at 1024 pixels, so the row holds only the counter, a button: click it
for the rest, in one strip under it. While Live is on or a clock or Link keeps the beat, the counter says so.

A view of playback.transport.Transport's sync settings and of a playback.live.LiveBand; it keeps the
panel's playhead timer running while a clock or Link may start the band from outside.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QSize, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QMenu,
    QPushButton,
    QToolButton,
    QWidget,
    QWidgetAction,
)

from ..playback.clock import bar_beat, input_names
from ..playback.transport import SYNC_MODES

SYNC_LABELS = {"internal": "Internal", "midi-clock": "MIDI clock in", "link": "Link"}
POLL_MS = 50


class CounterButton(QToolButton):
    """The bar.beat counter; a click opens the sync strip. It may shrink to a short count on a narrow row."""

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        hint = super().minimumSizeHint()
        hint.setWidth(min(hint.width(), self.fontMetrics().horizontalAdvance("00.0") + 8))
        return hint


class SyncControls(QWidget):
    """Counter, Sync, Input, Clock out, Live and Save take, for a PlaybackPanel (`panel`)."""

    live_changed = Signal(bool)

    def __init__(self, panel) -> None:
        super().__init__(panel)
        self.panel = panel
        self.transport = panel.transport
        self.band = None  # the LiveBand while Live is on (and its take after)
        self._starting: threading.Thread | None = None
        self._started: object = None  # what the loading thread made: a LiveBand, or the message of its failure

        self.counter = CounterButton()
        self.counter.setText(bar_beat(0))
        self.counter.setObjectName("barBeat")
        self.counter.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.counter.setStyleSheet("QToolButton::menu-indicator { image: none; width: 0px; }")
        self.counter.setToolTip("Bar.beat of the playhead: click for Sync (MIDI clock, Link), Clock out and Live")
        self.sync_box = QComboBox()
        for mode in SYNC_MODES:
            self.sync_box.addItem(SYNC_LABELS[mode], mode)
        self.sync_box.setToolTip(
            "Whose beat the band keeps: its own tempo, the MIDI clock from the Input (your DAW set to send "
            "clock), or an Ableton Link session on this network"
        )
        self.input_box = QComboBox()
        self.input_box.setMinimumContentsLength(10)
        self.input_box.setToolTip("The MIDI input a clock (MIDI clock in) or your keyboard (Live) comes in on")
        self.clock_out_box = QCheckBox("Clock out")
        self.clock_out_box.setToolTip("Send MIDI clock, Start/Stop/Continue and Song Position to the output")
        self.live_button = QPushButton("Live")
        self.live_button.setCheckable(True)
        self.live_button.setToolTip("The band follows the chords you play on the Input, from the next bar")
        self.save_button = QPushButton("Save take")
        self.save_button.setEnabled(False)
        self.save_button.setToolTip("Write what you and the band played live to a .mid")

        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.counter)
        self.strip = QWidget()
        self.strip.setObjectName("syncStrip")
        strip = QHBoxLayout(self.strip)
        strip.setContentsMargins(6, 4, 6, 4)
        for w in (self.sync_box, self.input_box, self.clock_out_box, self.live_button, self.save_button):
            strip.addWidget(w)
        self.menu = QMenu(self.counter)
        holder = QWidgetAction(self.menu)
        holder.setDefaultWidget(self.strip)
        self.menu.addAction(holder)
        self.menu.aboutToShow.connect(self.refresh_inputs)
        self.counter.setMenu(self.menu)

        self.sync_box.currentIndexChanged.connect(self._sync_picked)
        self.clock_out_box.toggled.connect(self.transport.set_clock_out)
        self.live_button.clicked.connect(self._live_clicked)
        self.save_button.clicked.connect(self._save_clicked)
        panel.playhead_moved.connect(self._show_position)
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)
        self.refresh_inputs()

    # --- slots -------------------------------------------------------------------------------------
    @Slot()
    def refresh_inputs(self) -> None:
        current = self.input_box.currentText()
        self.input_box.clear()
        self.input_box.addItems(input_names())
        if current:
            self.input_box.setCurrentText(current)

    def input_box_items(self) -> list[str]:
        return [self.input_box.itemText(i) for i in range(self.input_box.count())]

    def set_sync(self, mode: str) -> None:
        self.sync_box.setCurrentIndex(SYNC_MODES.index(mode))

    def start_live(self, wait: bool = False) -> None:
        """Live on: load the band (engine and phrases, a few seconds) off the window's thread, then play."""
        self.live_button.setChecked(True)
        name = self.input_box.currentText()
        if not name:
            self._say("Live needs a MIDI input: connect your keyboard, then choose it beside Sync")
            self.live_button.setChecked(False)
            return
        self.panel.stop()
        self._started = None
        self._starting = threading.Thread(target=self._load_band, args=(name,), daemon=True)
        self._starting.start()
        self._say(f"Live: getting the band ready to follow '{name}'...")
        self._timer.start()
        if wait:
            self._starting.join()
            self._poll()

    def stop_live(self) -> None:
        if self.band is not None:
            self.band.stop()
            self.save_button.setEnabled(True)
            self._say("Live stopped: Save take writes what you and the band played")
        self.live_button.setChecked(False)
        if self.transport.sync == "internal":
            self._timer.stop()
        self.panel._sync_playing()
        self.live_changed.emit(False)

    def shutdown(self) -> None:
        """Live off, and out of the clock or Link session (the window is closing)."""
        self._timer.stop()
        if self.band is not None:
            self.band.stop()
        self.transport.shutdown()

    def save_take(self, path: str) -> str:
        return str(self.band.export(path))

    # --- internals ---------------------------------------------------------------------------------
    def _load_band(self, name: str) -> None:
        try:
            from ..engine import Engine
            from ..playback.live import LiveBand
            from ..resources import resources_dir

            pack = resources_dir() / "models" / "chords"
            engine = Engine.load(pack if pack.is_dir() else None)
            song = self.transport.get_song()
            tempo = song.tempo if song is not None else 120.0
            self._started = LiveBand(engine, self.transport, name, tempo=tempo, say=self._say_later)
        except Exception as exc:  # a missing pack, an input that went away: said, Live off
            self._started = f"Live could not start: {exc}"

    def _say_later(self, text: str) -> None:
        self._pending_say = text

    def _say(self, text: str) -> None:
        self.panel._show_status(text)

    @Slot(int)
    def _sync_picked(self, index: int) -> None:
        mode = SYNC_MODES[index]
        try:
            self.transport.set_sync(mode, self.input_box.currentText() or None)
        except ValueError as exc:  # InvalidValue, PortError: the message names the input and what to do
            self._say(str(exc))
            self.sync_box.blockSignals(True)
            self.sync_box.setCurrentIndex(SYNC_MODES.index(self.transport.sync))
            self.sync_box.blockSignals(False)
            return
        except Exception as exc:  # Link or the input would not open
            self._say(str(exc))
            return
        said = {"internal": "", "midi-clock": "Play arms the band: it starts with your DAW", "link": "Link on"}
        self._say(said[mode])
        self.panel._sync_playing()
        if mode == "internal":
            self._timer.stop()
        else:
            self._timer.start()

    @Slot(bool)
    def _live_clicked(self, on: bool) -> None:
        self.start_live() if on else self.stop_live()

    @Slot()
    def _save_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the live take", "live-take.mid", "MIDI files (*.mid)")
        if path:
            self._say(f"take written to {self.save_take(path)}")

    @Slot(float)
    def _show_position(self, beats: float) -> None:
        """Bar.beat; following a clock or Link, the tempo it runs at beside it."""
        source = self.transport.source
        self.counter.setText(bar_beat(beats))
        if source is not None:
            self.counter.setToolTip(f"Bar.beat; {SYNC_LABELS[self.transport.sync]} at {source.tempo():.1f} BPM")

    @Slot()
    def _poll(self) -> None:
        """While a clock or Link may start the band, or Live is getting ready: what the panel's timer does."""
        started, self._started = self._started, None
        if isinstance(started, str):
            self._say(started)
            self.live_button.setChecked(False)
            self._starting = None
        elif started is not None:
            self.band, self._starting = started, None
            if self.band.start(self.panel.output_box.currentText()):
                self._say(f"Live: play chords on '{self.band.in_port}'; the band follows from the next bar")
                self.live_changed.emit(True)
            else:
                self.live_button.setChecked(False)
        said = getattr(self, "_pending_say", None)
        if said:
            self._pending_say = None
            self._say(said)
        if self.transport.player is not None:
            self.panel._tick()
        if self.transport.notice:
            self._say(self.transport.notice)
            self.transport.notice = None
