"""The window's controls: the generation bar, the lane headers, the take strip and the drag handle."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QMimeData, QPoint, Qt, Signal
from PySide6.QtGui import QDrag, QIntValidator
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..settings import DEFAULT_STEPS  # noqa: F401 (the bar's default; importable from here as before)
from ..song import BEATS_PER_BAR, DRUMS, LANES
from . import gm
from .lanes_view import LANE_COLOURS
from .worker import slot

MAX_SEED = 2**31 - 1
MAX_BARS = 64  # the README's promise: four to sixty-four bars per Generate
PRIMER_NAME_PX = 130  # a long primer file name is elided to this, never widening the window


def minutes(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 60}:{s % 60:02d}"


class ValueSlider(QWidget):
    """A horizontal slider over integers shown through `scale`, with its value printed beside it."""

    valueChanged = Signal(float)

    def __init__(self, name: str, low: int, high: int, scale: float, fmt: str, value_width: int = 32):
        super().__init__()
        self.scale, self.fmt = scale, fmt
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName(name)
        self.slider.setRange(low, high)
        self.slider.setMinimumWidth(56)  # the window fits 1024 px wide
        self.setMaximumWidth(360)
        self.label = QLabel()
        self.label.setMinimumWidth(value_width)
        self.label.setObjectName(f"{name}Value")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.slider, 1)
        row.addWidget(self.label)
        self.slider.valueChanged.connect(self._changed)
        self._changed(self.slider.value())

    def value(self) -> float:
        return self.slider.value() * self.scale

    def set_value(self, value: float, quiet: bool = False) -> None:
        """Move the slider; quiet moves it without emitting valueChanged (for undo/restore)."""
        self.slider.blockSignals(quiet)
        self.slider.setValue(int(round(value / self.scale)))
        self.slider.blockSignals(False)
        self.label.setText(self.fmt.format(self.value()))

    def _changed(self, _raw: int) -> None:
        self.label.setText(self.fmt.format(self.value()))
        self.valueChanged.emit(self.value())


class DragHandle(QLabel):
    """Press and drag out of the window: starts a QDrag carrying whatever `make_mime` returns."""

    def __init__(self, make_mime: Callable[[], QMimeData | None]):
        super().__init__("⇱ Drag MIDI")
        self.setObjectName("dragHandle")
        self.make_mime = make_mime
        self.setToolTip("Drag the sketch as a .mid file into a DAW, BandLab or a file manager")
        self.setCursor(Qt.CursorShape.OpenHandCursor)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumHeight(30)
        self._press: QPoint | None = None

    def mousePressEvent(self, event) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton:
            self._press = event.position().toPoint()

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if self._press is None:
            return
        if (event.position().toPoint() - self._press).manhattanLength() >= QApplication.startDragDistance():
            self._press = None
            self.start_drag()

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        self._press = None

    def start_drag(self) -> Qt.DropAction | None:
        mime = self.make_mime()
        if mime is None:
            return None
        drag = QDrag(self)
        drag.setMimeData(mime)
        return drag.exec(Qt.DropAction.CopyAction)


class GenerateBar(QWidget):
    """Generate, the three sliders, tempo, seed, variations, takes and the way out."""

    def __init__(self, make_mime: Callable[[], QMimeData | None]):
        super().__init__()
        self.setObjectName("generateBar")
        self.chunk_steps, self.steps_per_beat = 64, 4
        self.generate = QPushButton("Generate")
        self.generate.setObjectName("generateButton")
        self.generate.setToolTip("Make a new sketch with these settings (Ctrl+G)")
        self.generate.setMinimumSize(100, 58)
        self.generate.setDefault(True)
        self.noise = ValueSlider("noiseSlider", 0, 300, 0.01, "{:.2f}")
        self.noise.setToolTip("How far each chunk may wander from what the model expects (0 = its best guess)")
        self.threshold = ValueSlider("thresholdSlider", 5, 95, 0.01, "{:.2f}")
        self.threshold.setToolTip("Notes below this probability are hidden: lower for busier parts (no new sketch)")
        self.steps = ValueSlider("stepsSlider", 0, 15, 1, "{:.0f}", value_width=24)
        self.steps.setToolTip("How many chunks follow the first one (the next Generate makes 4 to 64 bars)")
        self.length = QLabel()
        self.length.setObjectName("lengthLabel")
        self.length.setToolTip("Length of the next Generate (the sketch on screen: its length in the status bar)")
        self.length.setMinimumWidth(self.length.fontMetrics().horizontalAdvance("next: 64 bars · 2:08") + 4)
        self.tempo = QSpinBox()
        self.tempo.setObjectName("tempoSpin")
        self.tempo.setRange(40, 240)
        self.tempo.setSuffix(" BPM")
        self.tempo.setValue(120)
        self.seed = QLineEdit()
        self.seed.setObjectName("seedEdit")
        self.seed.setValidator(QIntValidator(0, MAX_SEED))
        self.seed.setPlaceholderText("random")
        self.seed.setMaximumWidth(110)
        self.seed.setToolTip("The seed of the last Generate; lock it to get the same sketch from the same settings")
        self.dice = QToolButton()
        self.dice.setObjectName("diceButton")
        self.dice.setText("Dice")
        self.dice.setToolTip("Roll a new random seed")
        self.seed_lock = QCheckBox("Lock")
        self.seed_lock.setObjectName("seedLock")
        self.seed_lock.setToolTip("Keep this seed: the same settings then give the same sketch")
        self.variations = QSpinBox()
        self.variations.setObjectName("variationsSpin")
        self.variations.setRange(1, 16)
        self.variations.setToolTip("How many takes one Generate makes; flip through them on the right")
        self.export = QPushButton("Export MIDI…")
        self.export.setObjectName("exportButton")
        self.export.setToolTip("Write the sketch as a DAW-ready .mid (Ctrl+E)")
        self.drag = DragHandle(make_mime)
        self.takes = TakeStrip()
        self.primer = QLabel()
        self.primer.setObjectName("primerLabel")
        self.primer.setFixedWidth(PRIMER_NAME_PX + 60)

        grid = QGridLayout()
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(4)
        label = self._label
        grid.addWidget(label("Noise"), 0, 0)
        grid.addWidget(self.noise, 0, 1)
        grid.addWidget(label("Threshold"), 1, 0)
        grid.addWidget(self.threshold, 1, 1)
        grid.addWidget(label("Steps"), 0, 2)
        steps_row = QHBoxLayout()
        steps_row.addWidget(self.steps, 1)
        steps_row.addWidget(self.length)
        steps_row.addStretch(0)
        grid.addLayout(steps_row, 0, 3)
        grid.addWidget(label("Tempo"), 1, 2)
        tempo_row = QHBoxLayout()
        tempo_row.addWidget(self.tempo)
        tempo_row.addSpacing(12)
        tempo_row.addWidget(label("Variations"))
        tempo_row.addWidget(self.variations)
        tempo_row.addStretch(1)
        grid.addLayout(tempo_row, 1, 3)
        grid.addWidget(label("Seed"), 0, 4)
        seed_row = QHBoxLayout()
        for w in (self.seed, self.dice, self.seed_lock):
            seed_row.addWidget(w)
        grid.addLayout(seed_row, 0, 5)
        grid.addWidget(self.primer, 1, 4, 1, 2)
        grid.setColumnStretch(1, 2)
        grid.setColumnStretch(3, 3)
        grid.setColumnStretch(6, 2)  # spare width on a big screen goes here, not into gaps between controls

        out = QVBoxLayout()
        out.setSpacing(4)
        out.addWidget(self.export)
        out.addWidget(self.drag)

        row = QHBoxLayout(self)
        row.setContentsMargins(8, 8, 8, 8)
        row.setSpacing(8)
        row.addWidget(self.generate)
        row.addLayout(grid, 1)
        row.addWidget(self.takes)
        row.addLayout(out)

        self.steps.valueChanged.connect(lambda _: self.update_length())
        self.tempo.valueChanged.connect(lambda _: self.update_length())
        self.set_primer(None)

    @staticmethod
    def _label(text: str) -> QLabel:
        label = QLabel(text)
        label.setProperty("role", "field")
        return label

    def set_grid(self, chunk_steps: int, steps_per_beat: int) -> None:
        """The pack's grid: the steps slider then spans one chunk to MAX_BARS, and its label says bars and minutes."""
        self.chunk_steps, self.steps_per_beat = chunk_steps, steps_per_beat
        chunk_bars = max(chunk_steps / steps_per_beat / BEATS_PER_BAR, 1e-9)
        top = max(int(MAX_BARS // chunk_bars) - 1, 0)
        value = min(int(self.steps.value()), top)
        self.steps.slider.setMaximum(top)
        self.steps.set_value(value, quiet=True)
        self.update_length()

    def bars_of(self, steps: int) -> float:
        """Bars a Generate with `steps` makes: the first chunk (primer or random) comes before the steps."""
        return (int(steps) + 1) * self.chunk_steps / self.steps_per_beat / BEATS_PER_BAR

    def update_length(self) -> None:
        bars = self.bars_of(int(self.steps.value()))
        self.length.setText(f"next: {bars:.0f} bars · {minutes(bars * BEATS_PER_BAR * 60 / self.tempo.value())}")

    def set_primer(self, name: str | None, bpm: float | None = None) -> None:
        """Show the primer's name (elided to fit; the whole name in the tooltip) and its tempo."""
        tip = "The next Generate starts from this MIDI file: File › Open primer, or drop a .mid"
        if not name:
            self.primer.setText("Primer: none")
            self.primer.setToolTip(tip)
            return
        tempo = f" · {bpm:.0f} BPM" if bpm else ""
        short = self.primer.fontMetrics().elidedText(name, Qt.TextElideMode.ElideMiddle, PRIMER_NAME_PX)
        self.primer.setText(f"Primer: {short}{tempo}")
        self.primer.setToolTip(f"{name}{tempo}\n{tip}")

    def seed_value(self) -> int | None:
        text = self.seed.text().strip()
        return int(text) if text else None


class TakeStrip(QWidget):
    """Take n of N with arrows, and Keep to drop the other takes."""

    def __init__(self):
        super().__init__()
        self.setObjectName("takeStrip")
        self.prev = QToolButton()
        self.prev.setText("◀")
        self.prev.setObjectName("prevTake")
        self.prev.setToolTip("Previous take (Alt+Left)")
        self.next = QToolButton()
        self.next.setText("▶")
        self.next.setObjectName("nextTake")
        self.next.setToolTip("Next take (Alt+Right)")
        self.label = QLabel()
        self.label.setObjectName("takeLabel")
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setMinimumWidth(60)
        self.keep = QPushButton("Keep take")
        self.keep.setObjectName("keepTake")
        self.keep.setToolTip("Keep this take and drop the others")
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setVerticalSpacing(4)
        grid.addWidget(self.prev, 0, 0)
        grid.addWidget(self.label, 0, 1)
        grid.addWidget(self.next, 0, 2)
        grid.addWidget(self.keep, 1, 0, 1, 3)
        self.show_takes(0, 0)

    def show_takes(self, index: int, count: int) -> None:
        self.label.setText(f"Take {index + 1} / {count}" if count else "No takes")
        self.prev.setEnabled(index > 0)
        self.next.setEnabled(index < count - 1)
        self.keep.setEnabled(count > 1)


class LaneHeader(QFrame):
    """A lane's name, GM instrument, Mute / Solo / Lock and Regenerate."""

    programChanged = Signal(int, int)  # lane, program
    regenerateRequested = Signal(int)
    stateChanged = Signal()  # in-the-band, mute, solo or lock toggled

    def __init__(self, lane: int):
        super().__init__()
        self.lane = lane
        name = LANES[lane]
        self.setObjectName(f"header_{name}")
        self.setStyleSheet(f"#header_{name} {{ border-left: 5px solid {LANE_COLOURS[lane]}; }}")
        title = QLabel(name.capitalize())
        title.setProperty("role", "lane")
        title.setStyleSheet(f"color: {LANE_COLOURS[lane]}; font-weight: bold; font-size: 11pt;")
        self.count = QLabel()
        self.count.setObjectName(f"count_{name}")
        self.count.setProperty("role", "dim")
        self.program = QComboBox()
        self.program.setObjectName(f"program_{name}")
        if lane == DRUMS:
            self.program.addItem("GM drum kit (channel 10)")
            self.program.setEnabled(False)
        else:
            self.program.addItems([f"{i + 1} {n}" for i, n in enumerate(gm.PROGRAMS)])
            self.program.currentIndexChanged.connect(slot(lambda p: self.programChanged.emit(self.lane, p), 1))
        self.program.setToolTip("General MIDI instrument for this lane's track")
        self.mute = self._toggle("M", f"mute_{name}", "Mute this lane in playback")
        self.solo = self._toggle("S", f"solo_{name}", "Solo: play only soloed lanes")
        self.lock = self._toggle("Lock", f"lock_{name}", "Keep this lane when Generate runs; the rest follows it")
        self.play = self._toggle("In", f"lineup_{name}", "In the band: Generate gives this lane a part (off: silent)")
        self.play.setChecked(True)
        self.regenerate = QToolButton()
        self.regenerate.setText("Regenerate")
        self.regenerate.setObjectName(f"regenerate_{name}")
        self.regenerate.setToolTip(f"A new {name} part; the other lanes stay as they are")
        self.regenerate.clicked.connect(slot(lambda: self.regenerateRequested.emit(self.lane)))

        top = QHBoxLayout()
        top.addWidget(title)
        top.addStretch(1)
        top.addWidget(self.count)
        buttons = QHBoxLayout()
        buttons.setSpacing(3)
        for w in (self.play, self.mute, self.solo, self.lock):
            buttons.addWidget(w)
        buttons.addStretch(1)
        buttons.addWidget(self.regenerate)
        box = QVBoxLayout(self)
        box.setContentsMargins(10, 4, 6, 4)
        box.setSpacing(3)
        box.addLayout(top)
        box.addWidget(self.program)
        box.addLayout(buttons)
        box.addStretch(1)
        for button in (self.play, self.mute, self.solo, self.lock, self.regenerate):
            button.setMinimumWidth(button.sizeHint().width())  # whole words, never "Re…te"
        self.setFixedWidth(max(210, box.minimumSize().width()))

    def _toggle(self, text: str, name: str, tip: str) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setObjectName(name)
        button.setCheckable(True)
        button.setToolTip(tip)
        button.toggled.connect(slot(self.stateChanged.emit))
        return button

    def set_program(self, program: int) -> None:
        if self.lane != DRUMS:
            self.program.blockSignals(True)
            self.program.setCurrentIndex(int(program))
            self.program.blockSignals(False)
