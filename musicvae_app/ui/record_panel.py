"""File > Record a part…: a small non-modal dialog over playback.recorder (input picker, lane, metronome, Record).

Record counts in one bar of clicks (through the transport's output, the built-in synth by default; opened
when the dialog shows, so the first click sounds within 50 ms of Record), records what the chosen input
plays, as played (quantize is a later choice, in the lane's header), while the band of the take on screen plays
along from the first downbeat (the lane being recorded left out) and the notes are drawn on the lane as they
are played; Stop writes it to recordings/ in the user's data folder and adds it on its lane to the take on
screen, or, with no sketch yet, follows it and generates the band around it (one undo step, "Record <lane>").
"""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QGridLayout,
    QLabel,
    QPushButton,
    QToolButton,
)

from ..playback.ports import PortError
from ..playback.recorder import Recorder, list_inputs, open_input
from ..sketch.song import LANES
from .context import ViewContext
from .playback_panel import PlaybackPanel

INPUT_KEY = "record/input"


class RecordDialog(QDialog):
    def __init__(self, views: ViewContext, playback: PlaybackPanel):
        super().__init__(views.parent)
        self.setObjectName("recordDialog")
        self.setWindowTitle("Record a part")
        self.views = views
        self.playback = playback  # the window's playback panel: its output plays the count-in and metronome
        self.recorder: Recorder | None = None
        self.source = None  # the chosen input, kept open while the dialog is (opening one takes ~50 ms)
        self.source_label: str | None = None
        self.inputs = None
        self.input_box = QComboBox()
        self.input_box.setMinimumContentsLength(18)
        self.refresh_button = QToolButton()
        self.refresh_button.setText("Refresh")
        self.lane_box = QComboBox()
        self.lane_box.addItems([lane.capitalize() for lane in LANES])
        self.metronome = QCheckBox("Metronome while recording")
        self.metronome.setChecked(True)
        self.band = QCheckBox("Band plays along")
        self.band.setObjectName("bandPlaysAlong")
        self.band.setChecked(True)
        self.band.setToolTip("The take on screen plays from the first downbeat, without the lane you record")
        self.record_button = QPushButton("● Record")
        self.record_button.setObjectName("recordButton")
        self.record_button.setCheckable(True)
        self.record_button.setToolTip("One bar of count-in, then play; press again to stop and hear the band follow")
        self.status = QLabel()
        self.status.setObjectName("recordStatus")
        self.status.setWordWrap(True)
        grid = QGridLayout(self)
        grid.addWidget(QLabel("MIDI input"), 0, 0)
        grid.addWidget(self.input_box, 0, 1)
        grid.addWidget(self.refresh_button, 0, 2)
        grid.addWidget(QLabel("Into lane"), 1, 0)
        grid.addWidget(self.lane_box, 1, 1)
        grid.addWidget(self.metronome, 2, 1)
        grid.addWidget(self.band, 3, 1)
        grid.addWidget(self.record_button, 4, 1)
        grid.addWidget(self.status, 5, 0, 1, 3)
        self.refresh_button.clicked.connect(self.refresh)
        self.input_box.currentTextChanged.connect(lambda *_: self.recorder is None and self.warm_input())
        self.record_button.clicked.connect(lambda on: self.record() if on else self.stop())
        self.timer = QTimer(self)
        self.timer.setInterval(50)
        self.timer.timeout.connect(self._tick)
        self.refresh()

    def refresh(self) -> None:
        wanted = self.input_box.currentText() or self.views.settings.value(INPUT_KEY, "", str)
        self.inputs = list_inputs()
        self.input_box.clear()
        self.input_box.addItems([i.label for i in self.inputs.inputs])
        if self.inputs.find(wanted):
            self.input_box.setCurrentText(wanted)
        self.record_button.setEnabled(bool(self.inputs.inputs))
        self.status.setText(self.inputs.message or "Pick your keyboard's input and a lane, then press Record")
        self.status.setToolTip(self.inputs.message or "")

    def warm_input(self) -> str | None:
        """Open the chosen input now (not when Record is pressed); the reason when it cannot be opened."""
        entry = self.inputs.find(self.input_box.currentText()) if self.inputs else None
        if entry is None:
            return self.inputs.message if self.inputs else "No MIDI input: press Refresh"
        if self.source is not None and self.source_label == entry.label:
            return None
        self.close_input()
        try:
            self.source = open_input(entry)
        except PortError as exc:
            return str(exc)
        self.source_label = entry.label
        return None

    def close_input(self) -> None:
        if self.source is not None:
            self.source.close()
        self.source, self.source_label = None, None

    def record(self) -> bool:
        problem = self.warm_input()
        if problem is not None:
            return self._fail(problem)
        self.views.settings.setValue(INPUT_KEY, self.source_label)
        panel = self.playback
        panel.stop()
        transport = panel.transport
        self.warm_output()
        session, lane = self.views.session, self.lane_box.currentIndex()
        self.recorder = Recorder(
            self.source,
            lane,
            session.settings.tempo,
            transport.port,
            metronome=self.metronome.isChecked(),
            program=session.programs()[lane],
        )
        self.recorder.start()
        self._play_along(lane)
        self.record_button.setChecked(True)
        self.record_button.setText("■ Stop")
        self.timer.start()
        return True

    def warm_output(self) -> None:
        """Open the transport's output now (the built-in synth loads its soundfont), not when Record is
        pressed: the count-in then starts at once. A failure is said on the transport row."""
        panel = self.playback
        panel.ensure_outputs()
        if panel.transport.port is None:
            panel.transport.open_output(panel.output_box.currentText())

    def _play_along(self, lane: int) -> None:
        """The take on screen plays from its start on the recording's first downbeat, `lane` silent."""
        song, player = self.views.session.song, self.playback.transport.player
        if not self.band.isChecked() or song is None or player is None:
            return
        mutes = list(self.views.session.lane_mutes())
        mutes[lane] = True
        player.set_song(song)
        player.set_mutes(mutes)
        player.seek(0.0)
        player.play(song, loop=None, at=self.recorder.downbeat)

    def stop(self):
        """End the take; it becomes the part followed and the band is generated around it."""
        self.timer.stop()
        self.record_button.setChecked(False)
        self.record_button.setText("● Record")
        if self.recorder is None:
            return None
        take = self.recorder.stop()
        self.recorder = None
        self.playback.stop()  # the band along: the band is made again around the take
        self.views.lanes.show_recording(take.lane, None)
        dropped = f" ({take.dropped} played in the count-in left out)" if take.dropped else ""
        self.status.setText(f"{len(take.notes)} notes on {LANES[take.lane]}{dropped}, kept as you played them")
        self.views.session.follow_recording(take, self.views.data_dir / "recordings")
        return take

    def _tick(self) -> None:
        rec = self.recorder
        if rec is None:
            return
        if rec.full:
            self.stop()
            return
        beats = rec.position_beats
        self.views.lanes.show_recording(rec.lane, rec.live_notes())  # drawn as they are played
        if beats >= 0:
            self.views.lanes.set_playhead(beats)
        if beats < 0:
            self.status.setText(f"Count-in: {int(-beats) + 1}")
        else:
            self.status.setText(f"Recording · bar {int(beats // 4) + 1} · {rec.note_count} notes")
        if rec.error:
            self.status.setToolTip(rec.error)

    def _fail(self, text: str) -> bool:
        self.record_button.setChecked(False)
        self.status.setText(text)
        self.status.setToolTip(text)
        return False

    def closeEvent(self, event) -> None:  # noqa: N802
        if self.recorder is not None:
            self.stop()
        self.close_input()
        super().closeEvent(event)


def record_dialog(views: ViewContext, playback: PlaybackPanel, dialog: RecordDialog | None = None) -> RecordDialog:
    """Show the (one) Record a part dialog of a window: `dialog`, the one shown before, or a new one over the
    window's ViewContext and its playback panel. The window keeps what comes back for the next time."""
    if dialog is None:
        dialog = RecordDialog(views, playback)
    if dialog.recorder is None:
        dialog.refresh()
        dialog.warm_output()
        dialog.warm_input()
    dialog.show()
    dialog.raise_()
    return dialog
