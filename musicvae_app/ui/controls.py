"""The window's controls: the generation bar, the lane headers, the take strip and the drag handle."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QMimeData, QPoint, Qt, Signal
from PySide6.QtGui import QColor, QDrag, QIcon, QIntValidator, QPainter, QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..limits import MAX_TEMPO, MIN_TEMPO
from ..sketch.song import BEATS_PER_BAR, DENSITY_RANGE, DRUMS, LANES
from ..sketch.spec import DEFAULT_STEPS  # noqa: F401 (the bar's default; importable from here as before)
from ..theory.feel import HUMANIZE_MS_RANGE, HUMANIZE_VELOCITY_RANGE, SWING_GRIDS, SWING_RANGE
from ..theory.keys import MAJOR_NAMES, MINOR_NAMES
from ..theory.performance import QUANTIZE_GRIDS
from . import gm
from .lanes_view import LANE_COLOURS
from .worker import slot

MAX_SEED = 2**31 - 1
MAX_BARS = 64  # the README's promise: four to sixty-four bars per Generate
PRIMER_NAME_PX = 130  # a long primer file name is elided to this, never widening the window


KEYS = tuple(
    f"{names[t]} {mode}" for t in range(12) for names, mode in ((MAJOR_NAMES, "major"), (MINOR_NAMES, "minor"))
)


def die_icon(size: int = 16) -> QIcon:
    """A die's five, drawn: the Dice button stays narrow (every digit of the seed fits at 1024 px)."""
    pixmap = QPixmap(size * 2, size * 2)
    pixmap.setDevicePixelRatio(2.0)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QColor("#c8ccd4"))
    painter.setBrush(QColor("#e4e6eb"))
    painter.drawRoundedRect(1, 1, size - 2, size - 2, 3, 3)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor("#23262d"))
    dot = size / 8
    for fx, fy in ((0.28, 0.28), (0.72, 0.28), (0.5, 0.5), (0.28, 0.72), (0.72, 0.72)):
        painter.drawEllipse(QPoint(int(fx * size), int(fy * size)), int(dot), int(dot))
    painter.end()
    return QIcon(pixmap)


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
        self.slider.setMinimumWidth(44)  # the window fits 1024 px wide
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


class WholeLabel(QLabel):
    """A one-line label drawn whole or not at all: on a narrow window "sketch in G major" never shows as "sketch"
    (what it says is in the status bar and the Key box's tooltip too)."""

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        if self.fontMetrics().horizontalAdvance(self.text()) <= self.contentsRect().width():
            super().paintEvent(event)


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
        self.length.ensurePolished()  # the app's style sheet sets the font: measure with it
        self.length.setMinimumWidth(self.length.fontMetrics().horizontalAdvance("next: 64 bars · 2:08") + 4)
        self.tempo = QSpinBox()
        self.tempo.setObjectName("tempoSpin")
        self.tempo.setRange(int(MIN_TEMPO), int(MAX_TEMPO))  # what a primer or a sketch may hold (limits)
        self.tempo.setSuffix(" BPM")
        self.tempo.setValue(120)
        self.seed = QLineEdit()
        self.seed.setObjectName("seedEdit")
        self.seed.setValidator(QIntValidator(0, MAX_SEED))
        self.seed.setPlaceholderText("random")
        self.seed.ensurePolished()  # every digit of the largest seed shows, at any window size
        self.seed.setMinimumWidth(self.seed.fontMetrics().horizontalAdvance("8" * len(str(MAX_SEED))) + 8)
        self.seed.setMaximumWidth(max(110, self.seed.minimumWidth()))
        self.seed.setToolTip("The seed of the last Generate; lock it to get the same sketch from the same settings")
        self.dice = QToolButton()
        self.dice.setObjectName("diceButton")
        self.dice.setText("Dice")  # read by screen readers; the icon shows
        self.dice.setIcon(die_icon())
        self.dice.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
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
        self.primer.setFixedWidth(PRIMER_NAME_PX + 60)  # no wider: the window fits 1024 pixels
        self.key = QComboBox()
        self.key.setObjectName("keyCombo")
        self.key.addItem("Auto", None)  # renamed "From primer: E minor" while a primer is loaded
        for name in KEYS:
            self.key.addItem(name, name)
        self.key.setMaxVisibleItems(25)
        self.key.setMinimumContentsLength(len("From primer: E minor"))
        self.key.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.style = QComboBox()
        self.style.setObjectName("styleCombo")
        self.style.addItem("Auto", None)
        self.style.setToolTip("The style of the next Generate, learnt from the training songs (Auto: none)")
        self.scale_lock = QCheckBox("Scale lock")
        self.scale_lock.setObjectName("scaleLock")
        self.scale_lock.setToolTip("Keep every pitched note of the next Generate in the key's scale (drums untouched)")
        self.key_info = WholeLabel()  # the estimated keys: of the take on screen and of the primer
        self.key_info.setObjectName("keyInfo")
        self.key_info.setProperty("role", "dim")
        self.key_info.setMinimumWidth(40)
        self.set_key_info(None, None)

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
        self.tempo.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)  # "300 BPM" whole at 1024 px
        self.tempo.ensurePolished()
        self.tempo.setMinimumWidth(self.tempo.fontMetrics().horizontalAdvance(f"{int(MAX_TEMPO)} BPM") + 36)
        tempo_row.addWidget(self.tempo)
        tempo_row.addSpacing(4)
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
        key_label = label("Key")
        key_label.setFixedWidth(key_label.fontMetrics().horizontalAdvance("Threshold"))  # the combo lines up
        key_row = QHBoxLayout()  # where the next Generate's key comes from: a key, or the primer's
        key_row.setSpacing(6)
        key_row.addWidget(key_label)
        key_row.addWidget(self.key)
        key_row.addWidget(self.scale_lock)
        key_row.addSpacing(12)
        key_row.addWidget(self._label("Style"))
        key_row.addWidget(self.style)
        key_row.addSpacing(12)
        key_row.addWidget(self.key_info, 1)
        settings = QVBoxLayout()
        settings.setSpacing(4)
        settings.addLayout(grid)
        settings.addLayout(key_row)

        out = QVBoxLayout()
        out.setSpacing(4)
        out.addWidget(self.export)
        out.addWidget(self.drag)

        row = QHBoxLayout(self)
        row.setContentsMargins(8, 5, 8, 5)
        row.setSpacing(8)
        row.addWidget(self.generate)
        row.addLayout(settings, 1)
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

    def set_next_length(self, bars: float | None, why: str = "") -> None:
        """The next Generate's length when something other than Steps sets it (a followed part, a song form
        longer than Steps): `why` says what; None goes back to Steps."""
        self.next_bars, self.next_why = bars, why
        self.update_length()

    def update_length(self) -> None:
        fixed = getattr(self, "next_bars", None)
        bars = fixed if fixed is not None else self.bars_of(int(self.steps.value()))
        why = getattr(self, "next_why", "") if fixed is not None else ""
        self.length.setToolTip(
            f"Length of the next Generate, set by {why}"
            if why
            else "Length of the next Generate (the sketch on screen: its length in the status bar)"
        )
        self.length.setText(f"next: {bars:.0f} bars · {minutes(bars * BEATS_PER_BAR * 60 / self.tempo.value())}")

    def set_primer(self, name: str | None, bpm: float | None = None, what: str = "Primer") -> None:
        """Show the primer's (or, `what` "Part", the followed part's) name, elided to fit, and its tempo."""
        tip = (
            "The next Generate starts from this MIDI file: File › Open primer, or drop a .mid\n"
            "Shift+drop a .mid (or File › Follow a part) to keep it whole as your part, the band around it"
        )
        if not name:
            self.primer.setText("Primer: none")
            self.primer.setToolTip(tip)
            return
        metrics = self.primer.fontMetrics()
        # The tempo is never cut: the name is elided to the room it leaves. A name that would fit whole
        # without the word BPM drops the word instead (the Tempo box beside it says BPM).
        forms = [f" · {bpm:.0f} BPM", f" · {bpm:.0f}"] if bpm else [""]
        room = {t: self.primer.width() - metrics.horizontalAdvance(f"{what}: {t}") - 8 for t in forms}
        tempo = next((t for t in forms if metrics.horizontalAdvance(name) <= room[t]), forms[0])
        short = metrics.elidedText(name, Qt.TextElideMode.ElideMiddle, min(room[tempo], PRIMER_NAME_PX))
        self.primer.setText(f"{what}: {short}{tempo}")
        self.primer.setToolTip(f"{name}{forms[0]}\n{tip}")

    def set_key_info(self, primer_key: str | None, take_key: str | None, part_key: str | None = None) -> None:
        """The first entry names the primer's estimated key ("From primer: E minor"), else "Auto"; the tooltip
        also says the key of the take on screen. While a part is followed (`part_key`: its key, or "" when
        not known yet) the box shows "From your part: E minor" and waits: the part sets the key."""
        following = part_key is not None
        self.key.setEnabled(not following)
        if following:
            self.key.blockSignals(True)
            self.key.setCurrentIndex(0)
            self.key.blockSignals(False)
            self.key.setItemText(0, f"From your part: {part_key}" if part_key else "From your part")
            self.key.setToolTip("The part you follow sets the key; stop following it to choose another")
            self.key_info.setText(f"your part in {part_key}" if part_key else "")
            return
        self.key.setItemText(0, f"From primer: {primer_key}" if primer_key else "Auto")
        info = [f"sketch in {take_key}"] if take_key else []
        info += [f"primer in {primer_key}"] if primer_key else []
        self.key_info.setText(" · ".join(info))
        auto = (
            f"the primer's key ({primer_key})" if primer_key else "the primer's key, or C major / A minor without one"
        )
        take = f"\nThe take on screen is in {take_key}." if take_key else ""
        self.key.setToolTip(f"The key of the next Generate; the first entry uses {auto}.{take}")

    def key_value(self) -> str | None:
        return self.key.currentData()

    def show_key(self, key: str | None, scale_lock: bool) -> None:
        """Show the session's key and scale lock without sending them back."""
        self.key.blockSignals(True)
        index = self.key.findData(key) if key else 0
        self.key.setCurrentIndex(max(index, 0))
        self.key.blockSignals(False)
        self.scale_lock.blockSignals(True)
        self.scale_lock.setChecked(bool(scale_lock))
        self.scale_lock.blockSignals(False)

    def show_style(self, name: str | None) -> None:
        """Show the session's style (None: Auto) without sending it back."""
        self.style.blockSignals(True)
        self.style.setCurrentIndex(max(self.style.findData(name) if name else 0, 0))
        self.style.blockSignals(False)

    def set_styles(self, styles: list[tuple[str, str]]) -> None:
        """The pack's styles (name, one line; "Auto" first) as the Style box's entries, each line its tooltip."""
        self.style.blockSignals(True)
        self.style.clear()
        for name, text in styles:
            self.style.addItem(name, None if name == "Auto" else name)
            self.style.setItemData(self.style.count() - 1, text, Qt.ItemDataRole.ToolTipRole)
        self.style.blockSignals(False)

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
        self.keep = QPushButton("Keep")
        self.keep.setObjectName("keepTake")
        self.keep.setToolTip("Keep this take and drop the others (Ctrl+K)")
        self.morph = QToolButton()
        self.morph.setText("Morph…")
        self.morph.setObjectName("morphTake")
        self.morph.setToolTip("Morph to take…: a new take that moves from this take to another one (Ctrl+M)")
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setVerticalSpacing(4)
        grid.setHorizontalSpacing(2)
        grid.addWidget(self.prev, 0, 0)
        grid.addWidget(self.label, 0, 1)
        grid.addWidget(self.next, 0, 2)
        bottom = QHBoxLayout()
        bottom.setSpacing(2)
        self.keep.setMinimumWidth(self.keep.fontMetrics().horizontalAdvance("Keep") + 24)  # not the style's 80 px
        bottom.addWidget(self.keep, 1)
        bottom.addWidget(self.morph)
        grid.addLayout(bottom, 1, 0, 1, 3)
        self.show_takes(0, 0)

    def show_takes(self, index: int, count: int) -> None:
        self.label.setText(f"Take {index + 1} / {count}" if count else "No takes")
        self.prev.setEnabled(index > 0)
        self.next.setEnabled(index < count - 1)
        self.keep.setEnabled(count > 1)
        self.morph.setEnabled(count > 1)


class FeelControls(QWidget):
    """Swing (50-75 %, on 8ths or 16ths) and humanize (timing spread in ms, velocity spread): the take's feel."""

    feelChanged = Signal(dict)  # the one value changed: {"swing": 60} ...

    def __init__(self):
        super().__init__()
        self.setObjectName("feelControls")
        self.swing = QSlider(Qt.Orientation.Horizontal)
        self.swing.setObjectName("swingSlider")
        self.swing.setRange(int(SWING_RANGE[0]), int(SWING_RANGE[1]))
        self.swing.setMinimumWidth(60)
        self.swing.setMaximumWidth(110)
        self.swing.setToolTip("Swing: the off-beat 8ths (or 16ths) move to this share of the beat; 50 % is straight")
        self.swing_label = QLabel()
        self.swing_label.setObjectName("swingValue")
        self.swing_label.setMinimumWidth(self.swing_label.fontMetrics().horizontalAdvance("75 %") + 2)
        self.grid = QComboBox()
        self.grid.setObjectName("swingGrid")
        self.grid.addItems(list(SWING_GRIDS))
        self.grid.setToolTip("Swing the 8ths or the 16ths")
        self.humanize_ms = QSpinBox()
        self.humanize_ms.setObjectName("humanizeMs")
        self.humanize_ms.setRange(int(HUMANIZE_MS_RANGE[0]), int(HUMANIZE_MS_RANGE[1]))
        self.humanize_ms.setSuffix(" ms")
        self.humanize_ms.setToolTip("Humanize: each note moves up to this many milliseconds (the same every time)")
        self.humanize_velocity = QSpinBox()
        self.humanize_velocity.setObjectName("humanizeVelocity")
        self.humanize_velocity.setRange(int(HUMANIZE_VELOCITY_RANGE[0]), int(HUMANIZE_VELOCITY_RANGE[1]))
        self.humanize_velocity.setPrefix("vel ±")
        self.humanize_velocity.setToolTip("Humanize: each note's velocity moves up to this much")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(4)
        row.addWidget(GenerateBar._label("Swing"))
        for w in (self.swing, self.swing_label, self.grid):
            row.addWidget(w)
        row.addSpacing(6)
        row.addWidget(GenerateBar._label("Humanize"))
        row.addWidget(self.humanize_ms)
        row.addWidget(self.humanize_velocity)
        self.swing.valueChanged.connect(slot(lambda v: self._send(swing=int(v)), 1))
        self.grid.currentTextChanged.connect(slot(lambda text: self._send(swing_grid=text), 1))
        self.humanize_ms.valueChanged.connect(slot(lambda v: self._send(humanize_ms=int(v)), 1))
        self.humanize_velocity.valueChanged.connect(slot(lambda v: self._send(humanize_velocity=int(v)), 1))
        self.show_feel(50, "8th", 0, 0)

    def _send(self, **value) -> None:
        self.swing_label.setText(f"{self.swing.value()} %")
        self.feelChanged.emit(value)

    def show_feel(self, swing: float, grid: str, humanize_ms: float, humanize_velocity: float) -> None:
        """Show a take's feel without sending it back."""
        for w, value in (
            (self.swing, int(round(swing))),
            (self.humanize_ms, int(round(humanize_ms))),
            (self.humanize_velocity, int(round(humanize_velocity))),
        ):
            w.blockSignals(True)
            w.setValue(value)
            w.blockSignals(False)
        self.grid.blockSignals(True)
        self.grid.setCurrentText(grid)
        self.grid.blockSignals(False)
        self.swing_label.setText(f"{self.swing.value()} %")


class LaneHeader(QFrame):
    """A lane's name, GM instrument, Mute / Solo / Lock and Regenerate."""

    programChanged = Signal(int, int)  # lane, program
    densityChanged = Signal(int, float)  # lane, density
    quantizeChanged = Signal(str)  # the grid the musician's own parts are heard on ("off": as played)
    regenerateRequested = Signal(int)
    stateChanged = Signal()  # in-the-band, mute, solo or lock toggled

    def __init__(self, lane: int):
        super().__init__()
        self.lane = lane
        name = LANES[lane]
        self.setObjectName(f"header_{name}")
        self.setStyleSheet(f"#header_{name} {{ border-left: 5px solid {LANE_COLOURS[lane]}; }}")
        self.title = title = QLabel(name.capitalize())
        title.setObjectName(f"title_{name}")
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
        self.density = QDoubleSpinBox()
        self.density.setObjectName(f"density_{name}")
        self.density.setRange(*DENSITY_RANGE)
        self.density.setSingleStep(0.1)
        self.density.setDecimals(2)
        self.density.setPrefix("×")
        self.density.setValue(1.0)
        self.density.setKeyboardTracking(False)
        self.density.setToolTip(
            f"Density of the {name}: above 1 busier, below 1 sparser ({DENSITY_RANGE[0]:g}-{DENSITY_RANGE[1]:g}); "
            "like Threshold, no new part is made"
        )
        self.density.valueChanged.connect(slot(lambda v: self.densityChanged.emit(self.lane, float(v)), 1))
        self.quantize = QComboBox()  # shown in place of the density on a lane the musician played
        self.quantize.setObjectName(f"quantize_{name}")
        for grid in QUANTIZE_GRIDS:
            self.quantize.addItem("as played" if grid == "off" else f"Q {grid}", grid)
        self.quantize.setToolTip(
            "Quantize your part: as played (every note where and how hard you played it), or each note's start "
            "moved to the nearest 16th, 8th or 8th triplet, its length and velocity kept. Undo takes it back; "
            "your notes as played are always kept"
        )
        self.quantize.setVisible(False)
        self.quantize.currentIndexChanged.connect(
            slot(lambda i: self.quantizeChanged.emit(str(self.quantize.itemData(i))), 1)
        )
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
        top.addWidget(self.density)
        top.addWidget(self.quantize)
        buttons = QHBoxLayout()
        buttons.setSpacing(3)
        for w in (self.play, self.mute, self.solo, self.lock):
            buttons.addWidget(w)
        buttons.addStretch(1)
        buttons.addWidget(self.regenerate)
        box = QVBoxLayout(self)
        box.setContentsMargins(10, 1, 6, 1)  # tight: the whole window fits a 1024x600 screen with the scroll bar
        box.setSpacing(1)
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

    def set_part(self, mine: bool, played: bool = False, quantize: str = "off") -> None:
        """The lane is the user's own part (followed or recorded): said in its title; kept as played. `played`:
        its notes are kept as played (events), so its header offers quantize (shown as `quantize`) in place of
        the density."""
        self.is_part = bool(mine)
        self.quantize.setVisible(played)
        self.density.setVisible(not played)
        self.quantize.blockSignals(True)
        self.quantize.setCurrentIndex(max(self.quantize.findData(quantize), 0))
        self.quantize.blockSignals(False)
        tip = "Your part: kept as you played it; the band follows it" if mine else ""
        self.title.setToolTip(tip)
        self.count.setToolTip(tip)

    def set_density(self, value: float) -> None:
        self.density.blockSignals(True)
        self.density.setValue(float(value))
        self.density.blockSignals(False)

    def set_program(self, program: int) -> None:
        if self.lane != DRUMS:
            self.program.blockSignals(True)
            self.program.setCurrentIndex(int(program))
            self.program.blockSignals(False)
