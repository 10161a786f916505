"""The mixer (View > Mixer, Ctrl+Alt+M): a strip per lane with volume and pan (MIDI CC7 and CC10, 0-127) beside
mute and solo. Volume and pan are the session's (Session.set_volume / set_pan): saved with the sketch, exported
at the start of each track, played by the built-in synth and rendered into the WAV and the audio stems. A fader
drag is one undo step; a double-click puts a fader back (volume 100, pan centre)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QGridLayout, QHBoxLayout, QLabel, QSlider, QToolButton, QWidget

from ..errors import InvalidValue
from ..sketch.song import CENTRE_PAN, DEFAULT_VOLUME, LANES
from .context import Menus, ViewContext
from .lanes_view import LANE_COLOURS
from .worker import slot


def pan_text(value: int) -> str:
    """CC10 as a musician reads it: C in the middle, L64 hard left, R63 hard right."""
    value = int(value)
    if value == CENTRE_PAN:
        return "C"
    return f"L{CENTRE_PAN - value}" if value < CENTRE_PAN else f"R{value - CENTRE_PAN}"


class Fader(QSlider):
    """A horizontal 0-127 slider that a double-click puts back to its default."""

    def __init__(self, default: int, name: str, tip: str):
        super().__init__(Qt.Orientation.Horizontal)
        self.default = default
        self.setObjectName(name)
        self.setRange(0, 127)
        self.setValue(default)
        self.setToolTip(tip)
        self.setMinimumWidth(60)

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802
        self.setValue(self.default)
        event.accept()


class MixerStrip(QWidget):
    """One lane: its name, volume and pan faders with their values, Mute and Solo."""

    def __init__(self, lane: int):
        super().__init__()
        self.lane = lane
        name = LANES[lane]
        self.setObjectName(f"mixer_{name}")
        title = QLabel(name.capitalize())
        title.setStyleSheet(f"color: {LANE_COLOURS[lane]}; font-weight: bold;")
        self.volume = Fader(DEFAULT_VOLUME, f"volume_{name}", f"Volume of the {name} (MIDI CC7; double-click: 100)")
        self.pan = Fader(CENTRE_PAN, f"pan_{name}", f"Pan of the {name} (MIDI CC10; double-click: centre)")
        self.volume_value = QLabel(str(DEFAULT_VOLUME))
        self.pan_value = QLabel("C")
        for label in (self.volume_value, self.pan_value):
            label.setMinimumWidth(label.fontMetrics().horizontalAdvance("L64") + 4)
            label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.mute = self._toggle("M", f"mixer_mute_{name}", "Mute this lane")
        self.solo = self._toggle("S", f"mixer_solo_{name}", "Solo: play only soloed lanes")
        grid = QGridLayout(self)
        grid.setContentsMargins(8, 2, 8, 2)
        grid.setHorizontalSpacing(4)
        grid.setVerticalSpacing(1)
        top = QHBoxLayout()
        top.addWidget(title)
        top.addStretch(1)
        top.addWidget(self.mute)
        top.addWidget(self.solo)
        grid.addLayout(top, 0, 0, 1, 3)
        grid.addWidget(QLabel("Vol"), 1, 0)
        grid.addWidget(self.volume, 1, 1)
        grid.addWidget(self.volume_value, 1, 2)
        grid.addWidget(QLabel("Pan"), 2, 0)
        grid.addWidget(self.pan, 2, 1)
        grid.addWidget(self.pan_value, 2, 2)
        grid.setColumnStretch(1, 1)

    @staticmethod
    def _toggle(text: str, name: str, tip: str) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setObjectName(name)
        button.setCheckable(True)
        button.setToolTip(tip)
        return button

    def show_values(self, volume: int, pan: int) -> None:
        for fader, value in ((self.volume, volume), (self.pan, pan)):
            fader.blockSignals(True)
            fader.setValue(int(value))
            fader.blockSignals(False)
        self.volume_value.setText(str(int(volume)))
        self.pan_value.setText(pan_text(pan))


class Mixer(QDockWidget):
    """The mixer dock: five strips side by side, drawing the session's volumes, pans, mutes and solos."""

    def __init__(self, views: ViewContext):
        super().__init__("Mixer", views.parent)
        self.setObjectName("mixerDock")
        self.views = views
        self.session = views.session
        body = QWidget()
        row = QHBoxLayout(body)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        self.strips = [MixerStrip(i) for i in range(len(LANES))]
        for strip in self.strips:
            row.addWidget(strip, 1)
            strip.volume.valueChanged.connect(slot(lambda v, lane=strip.lane: self._set("volume", lane, v), 1))
            strip.pan.valueChanged.connect(slot(lambda v, lane=strip.lane: self._set("pan", lane, v), 1))
            strip.mute.toggled.connect(slot(lambda on, lane=strip.lane: self.session.set_lane(lane, mute=on), 1))
            strip.solo.toggled.connect(slot(lambda on, lane=strip.lane: self.session.set_lane(lane, solo=on), 1))
        self.setWidget(body)
        features = QDockWidget.DockWidgetFeature
        self.setFeatures(features.DockWidgetClosable | features.DockWidgetMovable)
        self.session.listen(self._session_event)
        self.show_session()

    def _set(self, what: str, lane: int, value: int) -> None:
        strip = self.strips[lane]
        (strip.volume_value if what == "volume" else strip.pan_value).setText(
            str(value) if what == "volume" else pan_text(value)
        )
        if self.session.song is None:
            return
        try:
            (self.session.set_volume if what == "volume" else self.session.set_pan)(lane, value)
        except InvalidValue as exc:  # never from a slider, but a message rather than a crash
            self.views.status(str(exc), 5000)

    def _session_event(self, event: str, *args) -> None:
        if event in ("song", "lanes"):
            self.show_session()

    def show_session(self) -> None:
        song = self.session.song
        for strip in self.strips:
            i = strip.lane
            if song is not None:
                strip.show_values(song.volumes[i], song.pans[i])
            for button, on in ((strip.mute, self.session.mutes[i]), (strip.solo, self.session.solos[i])):
                button.blockSignals(True)
                button.setChecked(bool(on))
                button.blockSignals(False)


def attach_mixer(views: ViewContext, menus: Menus) -> Mixer:
    """The mixer docked under the lanes (hidden at first) and View > Mixer (Ctrl+Alt+M) to show or hide it."""
    mixer = Mixer(views)
    views.parent.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, mixer)
    mixer.hide()
    toggle: QAction = mixer.toggleViewAction()
    toggle.setText("Mixer")
    toggle.setObjectName("mixerAction")
    toggle.setShortcut(QKeySequence("Ctrl+Alt+M"))
    menus.view.addSeparator()
    menus.view.addAction(toggle)
    return mixer
