"""The five-lane piano roll: one pyqtgraph plot per lane, sharing a time axis in beats labelled in bars.

Each lane draws all its notes as one ImageItem, one pixel per (step, pitch) cell, coloured through a
per-lane lookup table whose shade follows the note's probability. Two batched line items keep notes
apart: background-coloured lines between pitch rows, and short strokes before each note start
(shown only when zoomed in far enough to have room for them). A three-minute song redraws in a few ms.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from ..limits import TICKS_PER_BEAT
from ..sketch.midi import GM_DRUM_RANGE, lane_ticks
from ..sketch.song import BEATS_PER_BAR, DRUMS, LANES, Song
from . import gm

LANE_COLOURS = ("#5b9cf6", "#f2a243", "#4cc47f", "#b57be6", "#ef5f67")
BACKGROUND = "#1c1e24"
SELECTION_COLOUR = "#78c8ff"
AXIS_WIDTH = 92
AXIS_HEIGHT = 28
MIN_PX_PER_STEP_FOR_ONSETS = 3.0
MIN_MELODIC_ROWS = 13
MIN_LANE_HEIGHT = 70
DRUM_ROWS_PER_STRETCH = 5  # the drum lane gets a bigger share of the height for each 5 drums it plays

pg.setConfigOptions(antialias=False, imageAxisOrder="col-major", background=BACKGROUND, foreground="#c8ccd4")


def lane_lut(colour: str) -> np.ndarray:
    """256 RGBA entries: 0 is empty, 1..255 go from a dim to a bright shade of the lane colour."""
    base = np.array(QColor(colour).getRgb()[:3], dtype=np.float32)
    dim = base * 0.38 + np.array(QColor(BACKGROUND).getRgb()[:3], dtype=np.float32) * 0.62
    bright = base + (255 - base) * 0.35
    t = np.linspace(0.0, 1.0, 255, dtype=np.float32)[:, None]
    shades = np.where(t < 0.6, dim + (base - dim) * (t / 0.6), base + (bright - base) * ((t - 0.6) / 0.4))
    lut = np.zeros((256, 4), dtype=np.uint8)
    lut[1:, :3] = np.clip(shades, 0, 255).astype(np.uint8)
    lut[1:, 3] = 255
    return lut


def lane_rows(probs: np.ndarray, threshold: float, drums: bool) -> np.ndarray:
    """The pitches a lane shows, bottom to top: the range it uses (melodic) or the drums it hits."""
    used = np.flatnonzero((probs >= threshold).any(axis=0))
    if drums:  # the GM kit only, as the export plays it
        used = used[(used >= GM_DRUM_RANGE[0]) & (used <= GM_DRUM_RANGE[1])]
        return used if len(used) else np.array([36, 38, 42], dtype=np.int64)
    if not len(used):
        return np.arange(48, 48 + MIN_MELODIC_ROWS)
    lo, hi = int(used[0]) - 1, int(used[-1]) + 1
    if hi - lo + 1 < MIN_MELODIC_ROWS:
        lo = max(0, (lo + hi) // 2 - MIN_MELODIC_ROWS // 2)
        hi = lo + MIN_MELODIC_ROWS - 1
    return np.arange(max(lo, 0), min(hi, 127) + 1)


def lane_image(
    probs: np.ndarray, rows: np.ndarray, threshold: float, notes: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """LUT indices (steps, len(rows)) uint8 for one lane's (steps, 128) probabilities, and the note starts.

    notes: the lane's note cells as the song decodes them (density, sustain); default probs >= threshold.
    """
    sub = probs[:, rows]
    on = sub >= threshold if notes is None else notes[:, rows]
    shade = np.clip((sub - threshold) * (254.0 / max(1.0 - threshold, 1e-6)), 0, 254).astype(np.uint8) + 1
    onset = on.copy()
    onset[1:] &= ~on[:-1]
    return np.where(on, shade, np.uint8(0)), onset


PLAYED_TICKS = 30  # a lane the musician played is drawn on a 1/16-beat grid (30 of the export's 480 ticks a beat)


def played_image(notes, rows: np.ndarray, n_ticks: int) -> tuple[np.ndarray, np.ndarray]:
    """LUT indices (columns, len(rows)) and note starts of notes as played ((pitch, start tick, end tick,
    velocity), midi.lane_ticks), a column every PLAYED_TICKS: off-grid times, lengths and re-strikes as played,
    the shade following the velocity."""
    cols = max(-(-n_ticks // PLAYED_TICKS), 1)
    image = np.zeros((cols, len(rows)), dtype=np.uint8)
    onset = np.zeros((cols, len(rows)), dtype=bool)
    row_of = {int(p): i for i, p in enumerate(rows)}
    for pitch, start, end, velocity in notes:
        r = row_of.get(int(pitch))
        if r is None or start >= n_ticks:
            continue
        a = start // PLAYED_TICKS
        b = min(max(-(-end // PLAYED_TICKS), a + 1), cols)
        shade = np.uint8(40 + round(velocity * 215 / 127))
        image[a:b, r] = np.maximum(image[a:b, r], shade)
        onset[a, r] = True
    return image, onset


class BarAxis(pg.AxisItem):
    """Beats on the axis, bar numbers (1-based) on the labels, spaced to stay readable."""

    def tickValues(self, minVal, maxVal, size):  # noqa: N802 (pyqtgraph's name)
        span = max(maxVal - minVal, 1e-6)
        px_per_bar = size / span * BEATS_PER_BAR
        every = next((b for b in (1, 2, 4, 8, 16, 32, 64) if b * px_per_bar >= 36), 128)
        step = every * BEATS_PER_BAR
        first = np.ceil(max(minVal, 0) / step) * step
        major = list(np.arange(first, maxVal + 1e-9, step))
        return [(step, major)]

    def tickStrings(self, values, scale, spacing):  # noqa: N802
        return [str(int(round(v / BEATS_PER_BAR)) + 1) for v in values]


class RowAxis(pg.AxisItem):
    """Pitch names at the Cs (melodic lanes) or every drum's GM name (drum lane)."""

    def __init__(self, drums: bool):
        super().__init__("left")
        self.drums = drums
        self.rows = np.arange(0)
        self.label_height = 12  # set from the tick font (set_font)

    def set_font(self, font: QFont) -> None:
        self.setStyle(tickFont=font, tickLength=-4, tickTextOffset=6)
        self.label_height = QFontMetrics(font).height()

    def tickValues(self, minVal, maxVal, size):  # noqa: N802
        """Labels at row centres, only where the whole label fits inside the lane (none is cut).

        Drums: every row in use when rows are at least a label high (the lane's stretch grows with its
        drums); the bottom and top labels are nudged inward so they are not cut at the lane's edge.
        """
        n = len(self.rows)
        px = size / max(maxVal - minVal, 1e-6)
        edge = (self.label_height / 2 + 1) / px  # the room, in rows, a label needs from an edge

        def inside(y: float) -> bool:
            return minVal + edge - 1e-9 <= y <= maxVal - edge + 1e-9

        if self.drums:
            every = 1 if px >= self.label_height - 1 else int(np.ceil(self.label_height / max(px, 1e-6)))
            ys = [i + 0.5 for i in range(0, n, every)]
            if every == 1 and edge < 1:
                ys = [min(max(y, minVal + edge), maxVal - edge) for y in ys]
            return [(1, [y for y in ys if inside(y)])]
        octaves = max(1, int(np.ceil((self.label_height + 1) / max(12 * px, 1e-6))))  # Cs apart enough to read
        cs = [(i, p) for i, p in enumerate(self.rows) if p % 12 == 0 and (p // 12) % octaves == 0]
        return [(12, [i + 0.5 for i, _ in cs if inside(i + 0.5)])]

    def tickStrings(self, values, scale, spacing):  # noqa: N802
        out = []
        for v in values:
            i = int(v)
            if not 0 <= i < len(self.rows):
                out.append("")
            else:
                out.append(gm.drum_name(int(self.rows[i])) if self.drums else gm.note_name(int(self.rows[i])))
        return out


class LoopViewBox(pg.ViewBox):
    """A Shift+left-drag selects bars to regenerate (reported to `on_select`; with Ctrl too, the lane is added
    to the selection); otherwise, while Loop is on, a left-drag draws the loop region (reported to `on_drag`)
    instead of scrolling. A double-click clears both."""

    def __init__(self):
        super().__init__()
        self.on_drag = None  # (start beats, end beats, finished) -> bool: True when the drag drew a region
        self.on_select = None  # (start beats, end beats, finished, add) -> bool: True when it selected bars
        self.on_edit = None  # (drag event) -> bool: True when the note editor (ui/note_editor.py) took the drag

    def mouseDragEvent(self, ev, axis=None):  # noqa: N802 (pyqtgraph's name)
        if self.on_edit is not None and axis is None and self.on_edit(ev):
            ev.accept()
            return
        if ev.button() == Qt.MouseButton.LeftButton and axis is None:
            start = self.mapSceneToView(ev.buttonDownScenePos()).x()
            end = self.mapSceneToView(ev.scenePos()).x()
            mods = ev.modifiers()
            if self.on_select is not None and mods & Qt.KeyboardModifier.ShiftModifier:
                if self.on_select(start, end, ev.isFinish(), bool(mods & Qt.KeyboardModifier.ControlModifier)):
                    ev.accept()
                    return
            if self.on_drag is not None and self.on_drag(start, end, ev.isFinish()):
                ev.accept()
                return
        super().mouseDragEvent(ev, axis)

    def mouseDoubleClickEvent(self, ev):  # noqa: N802
        cleared = self.on_select is not None and self.on_select(None, None, True, False)
        if self.on_drag is not None and self.on_drag(None, None, True) or cleared:
            ev.accept()
            return
        super().mouseDoubleClickEvent(ev)


class LaneView(pg.PlotWidget):
    """One lane's roll; objectName lane_<name>."""

    def __init__(self, lane: int, show_bars: bool, parent: QWidget | None = None):
        self.lane = lane
        self.row_axis = RowAxis(drums=lane == DRUMS)
        super().__init__(parent, viewBox=LoopViewBox(), axisItems={"left": self.row_axis, "bottom": BarAxis("bottom")})
        self.setObjectName(f"lane_{LANES[lane]}")
        plot = self.getPlotItem()
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setMouseEnabled(x=True, y=False)
        plot.layout.setContentsMargins(0, 0, 6, 0)
        font = QFont()
        font.setPointSizeF(8.5)
        self.row_axis.setWidth(AXIS_WIDTH)
        self.row_axis.set_font(font)
        bottom = plot.getAxis("bottom")
        if show_bars:
            bottom.setHeight(AXIS_HEIGHT)
            bottom.setStyle(tickFont=font)
            bottom.enableAutoSIPrefix(False)  # an empty lane would otherwise say "bar (x0.001)"
            bottom.setLabel("bar")
        else:
            plot.hideAxis("bottom")
        self.vb = plot.getViewBox()
        self.vb.setDefaultPadding(0)
        self.vb.setBackgroundColor(QColor(BACKGROUND).lighter(118))
        self.bars = pg.PlotCurveItem(pen=pg.mkPen("#3a3e48", width=1), connect="pairs")
        self.chunks = pg.PlotCurveItem(pen=pg.mkPen("#7d8494", width=1), connect="pairs")  # solid: dashes paint slowly
        self.image = pg.ImageItem(axisOrder="col-major")
        self.image.setLookupTable(lane_lut(LANE_COLOURS[lane]))
        self.image.setLevels([0, 255])
        gap = pg.mkPen(QColor(BACKGROUND).lighter(118), width=1)
        self.row_gaps = pg.PlotCurveItem(pen=gap, connect="pairs")
        self.onset_gaps = pg.PlotCurveItem(pen=gap, connect="pairs")
        self.playhead = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#ffd84a", width=2))
        self.playhead.setVisible(False)
        self.empty = pg.TextItem("no notes at this threshold", color="#6c717c", anchor=(0.5, 0.5))
        self.empty.setVisible(False)
        self.loop = pg.LinearRegionItem(values=(0, BEATS_PER_BAR), brush=pg.mkBrush(255, 216, 74, 40))
        self.loop.setZValue(-5)
        self.loop.setVisible(False)
        pick_pen = pg.mkPen(SELECTION_COLOUR, width=2)
        self.pick = pg.LinearRegionItem(  # bars selected to regenerate (Shift+drag)
            values=(0, BEATS_PER_BAR), movable=False, brush=pg.mkBrush(120, 200, 255, 45), pen=pick_pen
        )
        self.pick.setZValue(-4)
        self.pick.setVisible(False)
        for item in (self.image, self.row_gaps, self.onset_gaps, self.bars, self.chunks, self.playhead):
            plot.addItem(item)
        for item in (self.empty, self.loop, self.pick):
            plot.addItem(item)
        self.vb.sigXRangeChanged.connect(self._level_of_detail)
        self.rows = np.arange(0)
        self.steps_per_beat = 4
        self._onset_beats = 0.25
        self._onsets = np.zeros((0, 0), dtype=bool)
        self._onsets_drawn = True
        self.setMinimumHeight(MIN_LANE_HEIGHT)

    def show_song(self, song: Song, threshold: float, new_rows: bool) -> None:
        """Draw the lane; new_rows picks the pitch range afresh (else it only grows)."""
        probs = song.probs[self.lane]
        notes = song.notes(threshold)[self.lane]  # what plays and exports: density and sustain included
        rows = lane_rows(notes.astype(np.float32), 0.5, self.lane == DRUMS)
        if not new_rows and len(self.rows):  # a threshold move: keep the rows, grow them only for new notes
            used = np.flatnonzero(notes.any(axis=0))
            used = used[np.isin(used, rows)]
            if self.lane == DRUMS:
                rows = np.union1d(self.rows, used)
            else:
                lo, hi = min([self.rows[0], *used[:1]]), max([self.rows[-1], *used[-1:]])
                rows = np.arange(lo, hi + 1)
        rows_changed = not np.array_equal(rows, self.rows)
        self.rows = rows
        self.row_axis.rows = rows
        self.steps_per_beat = song.steps_per_beat
        beats = song.n_steps / song.steps_per_beat
        self._onset_beats = 1.0 / song.steps_per_beat  # beats between the columns of the onsets
        if self.lane in song.played_lanes():  # the musician's notes as played, not the model's grid
            per_beat = TICKS_PER_BEAT // PLAYED_TICKS
            image, onset = played_image(lane_ticks(song, self.lane), rows, int(round(beats * TICKS_PER_BEAT)))
            self._onset_beats = 1.0 / per_beat
        else:
            image, onset = lane_image(probs, rows, threshold, notes)
        self.image.setImage(image, autoLevels=False)
        self.image.setRect(0, 0, beats, len(rows))
        self.empty.setVisible(not onset.any())
        self.empty.setText(silent_text(probs, threshold, self.lane == DRUMS))
        self.empty.setPos(beats / 2, len(rows) / 2)
        self._onsets = onset  # turned into strokes only when zoomed in enough to show them
        self._onsets_drawn = False
        self._level_of_detail()
        n = len(rows)
        if n > 1:
            self.row_gaps.setData(np.tile([0.0, beats], n - 1), np.repeat(np.arange(1.0, n), 2))
        if new_rows or rows_changed:
            self.vb.setLimits(xMin=0, xMax=beats, minXRange=BEATS_PER_BAR, yMin=0, yMax=len(rows))
            self.vb.setYRange(0, len(rows), padding=0)
            self.row_axis.picture = None
            self.row_axis.update()

    def _level_of_detail(self, *_) -> None:
        lo, hi = self.vb.viewRange()[0]
        px_per_step = self.vb.width() / max((hi - lo) * self.steps_per_beat, 1e-6)
        show = px_per_step >= MIN_PX_PER_STEP_FOR_ONSETS
        if show and not self._onsets_drawn:
            step, row = np.nonzero(self._onsets)
            x = np.repeat(step * self._onset_beats, 2)
            y = np.empty(len(x))
            y[0::2], y[1::2] = row, row + 1
            self.onset_gaps.setData(x, y)
            self._onsets_drawn = True
        self.onset_gaps.setVisible(show)

    def show_grid(self, song: Song) -> None:
        """Bar lines (faint) and chunk boundaries (dashed) for this song's length."""
        beats = song.n_steps / song.steps_per_beat
        top = 10_000.0
        bar_x = np.arange(0, beats + 1e-9, BEATS_PER_BAR, dtype=np.float64)
        chunk_beats = song.chunk_steps / song.steps_per_beat
        chunk_x = np.arange(chunk_beats, beats - 1e-9, chunk_beats, dtype=np.float64)
        for item, xs in ((self.bars, bar_x), (self.chunks, chunk_x)):
            item.setData(np.repeat(xs, 2), np.tile([-1.0, top], len(xs)))


LOWEST_THRESHOLD = 0.05  # the Threshold slider's lowest setting


def silent_text(probs: np.ndarray, threshold: float, drums: bool) -> str:
    """What is true of a lane without notes: hidden by the threshold, or given nothing by the model."""
    lane = probs[:, GM_DRUM_RANGE[0] : GM_DRUM_RANGE[1] + 1] if drums else probs
    best = float(lane.max()) if lane.size else 0.0
    if best >= LOWEST_THRESHOLD:
        reveal = max(np.floor(best * 100) / 100, LOWEST_THRESHOLD)
        return f"no notes at threshold {threshold:.2f}: lower it to {reveal:.2f} to see some"
    return "silent: the model gave this lane no notes (Regenerate it for a new part)"


HINT = "Press Generate (Ctrl+G) for a band sketch"


class LanesView(QWidget):
    """Five LaneViews stacked with their headers; x linked; a playhead across all of them.

    A click on a lane asks to move the playhead there (seekRequested, in beats, on a beat); the loop
    region, shown on the bar lane while Loop is on, reports its bar-snapped span (loopChanged, beats).
    """

    seekRequested = Signal(float)
    loopChanged = Signal(object, object)  # bar-snapped (start, end) in beats, or (None, None): the whole sketch
    selectionChanged = Signal(object)  # (first bar, last bar, [lanes]) selected to regenerate, or None
    contextRequested = Signal(int, float, object)  # right-click: lane, beats, global position (QPoint)

    def __init__(self, headers: list[QWidget], parent: QWidget | None = None):
        super().__init__(parent)
        self.lanes = [LaneView(i, show_bars=i == len(LANES) - 1) for i in range(len(LANES))]
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(0)
        grid.setVerticalSpacing(3)
        for i, (header, lane) in enumerate(zip(headers, self.lanes)):
            grid.addWidget(header, i, 0)
            grid.addWidget(lane, i, 1)
            grid.setRowStretch(i, 1)
            if i:
                lane.setXLink(self.lanes[0])
        grid.setColumnStretch(1, 1)
        self.song: Song | None = None
        self.threshold = 0.3
        self.looping = False
        self.loop_region: tuple[float, float] | None = None  # None: Loop repeats the whole sketch
        self.selection: tuple[float, float] | None = None  # chunk-snapped beats selected to regenerate
        self.selected_lanes: set[int] = set()
        self.on_edit_click = None  # (lane, click event) -> bool: True when the note editor took the click
        self.keep_rows = False  # while notes are edited: an edit only adds rows, never moves them
        for lane in self.lanes:
            lane.vb.on_select = lambda a, b, done, add, lane=lane.lane: self._drag_select(lane, a, b, done, add)
            lane.loop.sigRegionChangeFinished.connect(lambda item, lane=lane: self._edge_moved(lane))
            lane.scene().sigMouseClicked.connect(lambda event, lane=lane: self._clicked(lane, event))
        self.hint = QLabel(HINT, self)  # over the empty lanes until the first sketch
        self.hint.setObjectName("generateHint")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.hint.setStyleSheet("color: #c8ccd4; font-size: 14pt; background: rgba(28, 30, 36, 200); padding: 10px;")
        self._place_hint()

    def _place_hint(self) -> None:
        self.hint.setVisible(self.song is None)
        if self.song is None:
            self.hint.adjustSize()
            header = self.layout().itemAtPosition(0, 0).widget().width()
            area_w, area_h = self.width() - header, self.height()
            self.hint.move(header + (area_w - self.hint.width()) // 2, (area_h - self.hint.height()) // 2)
            self.hint.raise_()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._place_hint()

    def show_loop(self, on: bool) -> None:
        """Loop is on (a drag on any lane then draws the region; a double-click clears it) or off."""
        self.looping = on
        for lane in self.lanes:
            lane.vb.on_drag = self._drag_loop if on else None
        self._show_region()
        if on:
            self.loopChanged.emit(*(self.loop_region or (None, None)))

    def loop_beats(self) -> tuple[float, float] | None:
        return self.loop_region

    def _snap(self, start: float, end: float) -> tuple[float, float]:
        bar = float(BEATS_PER_BAR)
        start, end = sorted((start, end))
        start, end = np.floor(start / bar) * bar, np.ceil(end / bar) * bar
        if self.song is not None:
            total = self.song.n_steps / self.song.steps_per_beat
            start, end = min(max(start, 0.0), total - bar), min(max(end, 0.0), total)
        return float(start), float(max(end, start + bar))

    def _drag_loop(self, start: float | None, end: float | None, finished: bool) -> bool:
        """A drag on a lane while Loop is on: the bar-snapped region it covers; None, None clears it."""
        if self.song is None:
            return False
        self.loop_region = None if start is None else self._snap(start, end)
        self._show_region()
        if finished:
            self.loopChanged.emit(*(self.loop_region or (None, None)))
        return True

    def _edge_moved(self, lane: LaneView) -> None:
        if not self.looping or self.loop_region is None:
            return
        bar = float(BEATS_PER_BAR)
        region = self._snap(*(round(v / bar) * bar for v in lane.loop.getRegion()))  # an edge: the nearest bar
        if region != self.loop_region:
            self.loop_region = region
            self._show_region()
            self.loopChanged.emit(*region)

    def _show_region(self) -> None:
        for lane in self.lanes:
            lane.loop.blockSignals(True)
            if self.loop_region is not None:
                lane.loop.setRegion(self.loop_region)
            lane.loop.setVisible(self.looping and self.loop_region is not None)
            lane.loop.blockSignals(False)

    # --- bars selected to regenerate (Shift+drag; Ctrl+Shift+drag adds a lane) -------------------------
    def _chunk_beats(self) -> float:
        song = self.song
        return song.chunk_steps / song.steps_per_beat if song is not None else float(BEATS_PER_BAR)

    def _snap_chunks(self, start: float, end: float) -> tuple[float, float]:
        unit = self._chunk_beats()
        start, end = sorted((start, end))
        start, end = np.floor(start / unit + 1e-9) * unit, np.ceil(end / unit - 1e-9) * unit
        if self.song is not None:
            total = self.song.n_steps / self.song.steps_per_beat
            start, end = min(max(start, 0.0), total - unit), min(max(end, 0.0), total)
        return float(start), float(max(end, start + unit))

    def _drag_select(self, lane: int, start: float | None, end: float | None, finished: bool, add: bool) -> bool:
        if self.song is None:
            return False
        if start is None:  # a double-click
            if self.selection is None:
                return False
            self.clear_selection()
            return True
        self.selection = self._snap_chunks(start, end)
        self.selected_lanes = (self.selected_lanes | {lane}) if add else {lane}
        self._show_selection()
        if finished:
            self.selectionChanged.emit(self.selected_bars())
        return True

    def select_bars(self, first_bar: int, last_bar: int, lanes=None) -> None:
        """Select bars first_bar..last_bar (1-based, snapped out to chunks) of `lanes` (indices; None: all)."""
        bar = float(BEATS_PER_BAR)
        self.selection = self._snap_chunks((first_bar - 1) * bar, last_bar * bar)
        self.selected_lanes = set(range(len(LANES))) if lanes is None else {int(i) for i in lanes}
        self._show_selection()
        self.selectionChanged.emit(self.selected_bars())

    def clear_selection(self) -> None:
        self.selection, self.selected_lanes = None, set()
        self._show_selection()
        self.selectionChanged.emit(None)

    def selected_bars(self) -> tuple[int, int, list[int]] | None:
        """(first bar, last bar, lanes) selected to regenerate, bars 1-based and inclusive; None when none."""
        if self.selection is None or not self.selected_lanes:
            return None
        start, end = self.selection
        return int(round(start / BEATS_PER_BAR)) + 1, int(round(end / BEATS_PER_BAR)), sorted(self.selected_lanes)

    def _show_selection(self) -> None:
        for lane in self.lanes:
            on = self.selection is not None and lane.lane in self.selected_lanes
            if on:
                lane.pick.setRegion(self.selection)
            lane.pick.setVisible(on)

    def _clicked(self, lane: LaneView, event) -> None:
        if self.on_edit_click is not None and self.song is not None and self.on_edit_click(lane, event):
            event.accept()
            return
        if event.button() == Qt.MouseButton.RightButton and self.song is not None:
            beats = lane.vb.mapSceneToView(event.scenePos()).x()
            self.contextRequested.emit(lane.lane, float(beats), event.screenPos().toPoint())
            event.accept()
            return
        if event.button() != Qt.MouseButton.LeftButton or self.song is None:
            return
        beats = lane.vb.mapSceneToView(event.scenePos()).x()
        total = self.song.n_steps / self.song.steps_per_beat
        self.seekRequested.emit(float(min(max(round(beats), 0), total)))

    def set_song(self, song: Song | None, threshold: float | None = None) -> None:
        """Show a song (None clears); a different length or a new song re-fits the view."""
        old = self.song
        self.song = song
        self._place_hint()
        if song is None:
            for lane in self.lanes:
                lane.image.clear()
            return
        if self.loop_region is not None:  # a shorter sketch: the region stays inside it
            total = song.n_steps / song.steps_per_beat
            if self.loop_region[0] >= total:
                self.loop_region = None
            else:
                self.loop_region = (self.loop_region[0], min(self.loop_region[1], total))
            self._show_region()
        if self.selection is not None:  # a shorter sketch: the selection stays inside it, or goes
            total = song.n_steps / song.steps_per_beat
            if self.selection[0] >= total:
                self.clear_selection()
            else:
                self.selection = (self.selection[0], min(self.selection[1], total))
                self._show_selection()
        self.threshold = song.threshold if threshold is None else threshold
        same_shape = old is not None and old.probs.shape == song.probs.shape
        same_probs = same_shape and (old.probs is song.probs or np.array_equal(old.probs, song.probs))
        for lane in self.lanes:
            lane.show_song(song, self.threshold, new_rows=not same_probs and not (self.keep_rows and same_shape))
        # The drum lane grows with the drums it plays, so each gets its own label (melodic lanes label Cs).
        drum_rows = len(self.lanes[DRUMS].rows)
        self.layout().setRowStretch(DRUMS, int(min(max(np.ceil(drum_rows / DRUM_ROWS_PER_STRETCH), 1), 3)))
        if not same_shape:
            for lane in self.lanes:
                lane.show_grid(song)
            self.lanes[0].setXRange(0, song.n_steps / song.steps_per_beat, padding=0)

    def set_playhead(self, beats: float | None) -> None:
        """Move the playhead to `beats` from the song start; None hides it."""
        for lane in self.lanes:
            lane.playhead.setVisible(beats is not None)
            if beats is not None:
                lane.playhead.setPos(float(beats))

    def set_dimmed(self, dimmed: list[bool]) -> None:
        """Fade the notes of lanes that playback leaves silent (muted, or not soloed)."""
        for lane, dim in zip(self.lanes, dimmed):
            lane.image.setOpacity(0.3 if dim else 1.0)

    def zoom(self, factor: float) -> None:
        """Scale the visible time span by factor (<1 zooms in) about its centre."""
        lo, hi = self.lanes[0].vb.viewRange()[0]
        centre, half = (lo + hi) / 2, (hi - lo) / 2 * factor
        self.lanes[0].setXRange(centre - half, centre + half, padding=0)

    def fit(self) -> None:
        if self.song is not None:
            self.lanes[0].setXRange(0, self.song.n_steps / self.song.steps_per_beat, padding=0)
