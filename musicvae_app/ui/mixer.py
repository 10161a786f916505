"""The mixer (View > Mixer, Ctrl+Alt+M): in each lane header, volume and pan (MIDI CC7 and CC10, 0-127) beside
the lane's Mute and Solo. Volume and pan are the session's (Session.set_volume / set_pan): saved with the
sketch, exported at the start of each track, played by the built-in synth and rendered into the WAV and the
audio stems. A fader drag is one undo step; a double-click puts a fader back (volume 100, pan centre)."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QWidget

from ..errors import InvalidValue
from ..sketch.song import CENTRE_PAN, DEFAULT_VOLUME, LANES
from .context import Menus, ViewContext, toggle_action
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


class MixerRow(QWidget):
    """One lane's volume and pan faders with their values: a row of its lane header, in place of the instrument
    while the mixer shows (Mute and Solo are the header's own buttons, beside them)."""

    def __init__(self, lane: int):
        super().__init__()
        self.lane = lane
        name = LANES[lane]
        self.setObjectName(f"mixer_{name}")
        self.volume = Fader(DEFAULT_VOLUME, f"volume_{name}", f"Volume of the {name} (MIDI CC7; double-click: 100)")
        self.pan = Fader(CENTRE_PAN, f"pan_{name}", f"Pan of the {name} (MIDI CC10; double-click: centre)")
        self.volume_value = QLabel(str(DEFAULT_VOLUME))
        self.pan_value = QLabel("C")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(3)
        for label, fader, value in (("Vol", self.volume, self.volume_value), ("Pan", self.pan, self.pan_value)):
            if label == "Pan":
                row.addSpacing(6)
            value.setMinimumWidth(value.fontMetrics().horizontalAdvance("L64") + 2)
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            fader.setMinimumWidth(36)
            row.addWidget(QLabel(label))
            row.addWidget(fader, 1)
            row.addWidget(value)

    def show_values(self, volume: int, pan: int) -> None:
        for fader, value in ((self.volume, volume), (self.pan, pan)):
            fader.blockSignals(True)
            fader.setValue(int(value))
            fader.blockSignals(False)
        self.volume_value.setText(str(int(volume)))
        self.pan_value.setText(pan_text(pan))


class Mixer(QObject):
    """The mixer: a volume and pan row in each lane header, beside its Mute and Solo, drawing the session's
    volumes and pans. Shown (View > Mixer) it takes the place of the instrument row: no room taken from the
    lanes, so it fits a 1024x600 screen; hidden, the instruments come back."""

    def __init__(self, views: ViewContext, headers: list):
        super().__init__(views.parent)
        self.views = views
        self.session = views.session
        self.headers = headers
        self.strips = [MixerRow(i) for i in range(len(LANES))]
        for header, strip in zip(headers, self.strips):
            box = header.layout()
            box.insertWidget(box.indexOf(header.program) + 1, strip)
            strip.hide()
            strip.mute, strip.solo = header.mute, header.solo  # the lane's own buttons
            strip.volume.valueChanged.connect(slot(lambda v, lane=strip.lane: self._set("volume", lane, v), 1))
            strip.pan.valueChanged.connect(slot(lambda v, lane=strip.lane: self._set("pan", lane, v), 1))
        self.shown = False
        self.session.listen(self._session_event)
        self.show_session()

    def set_shown(self, on: bool) -> None:
        self.shown = bool(on)
        for header, strip in zip(self.headers, self.strips):
            strip.setVisible(self.shown)
            header.program.setVisible(not self.shown)

    def isVisible(self) -> bool:  # noqa: N802 (as a widget would answer)
        return self.shown

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
        if event == "song":
            self.show_session()

    def show_session(self) -> None:
        song = self.session.song
        for strip in self.strips:
            if song is not None:
                strip.show_values(song.volumes[strip.lane], song.pans[strip.lane])
            else:
                strip.show_values(DEFAULT_VOLUME, CENTRE_PAN)


def attach_mixer(views: ViewContext, menus: Menus, headers: list) -> Mixer:
    """The mixer rows in the lane headers (hidden at first) and View > Mixer (Ctrl+Alt+M) to show or hide them."""
    mixer = Mixer(views, headers)
    menus.view.addSeparator()
    mixer.toggle_action = toggle_action(
        views.parent,
        menus.view,
        "Mixer",
        "mixerAction",
        "Ctrl+Alt+M",
        "Volume and pan of each lane, in its header (in place of the instrument)",
        slot(mixer.set_shown, 1),
    )
    return mixer
