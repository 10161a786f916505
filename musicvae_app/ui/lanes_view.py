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
from PySide6.QtGui import QColor, QCursor, QFont
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QScrollArea, QScrollBar, QVBoxLayout, QWidget

from ..limits import TICKS_PER_BEAT
from ..sketch.midi import GM_DRUM_RANGE, lane_ticks
from ..sketch.song import BEATS_PER_BAR, DRUMS, LANES, Song
from .lane_axes import AXIS_WIDTH, BarAxis, RowAxis
from .lane_images import MIN_MELODIC_ROWS, PLAYED_TICKS, lane_image, lane_rows, played_image  # noqa: F401

LANE_COLOURS = ("#5b9cf6", "#f2a243", "#4cc47f", "#b57be6", "#ef5f67")
BACKGROUND = "#1c1e24"
SELECTION_COLOUR = "#78c8ff"
AXIS_HEIGHT = 28
MIN_PX_PER_STEP_FOR_ONSETS = 3.0
MIN_LANE_HEIGHT = 70
LANE_RIGHT_MARGIN = 6  # the slim up-and-down scroll bar sits here when the lanes are taller than the window
DRUM_ROWS_PER_STRETCH = 5  # the drum lane gets a bigger share of the height for each 5 drums it plays
SCROLL_UNITS = 100  # scroll bar steps per beat

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
        plot.layout.setContentsMargins(0, 0, LANE_RIGHT_MARGIN, 0)
        font = QFont()
        font.setPointSizeF(8.5)
        self.row_axis.setWidth(AXIS_WIDTH)
        self.row_axis.set_font(font)
        bottom = plot.getAxis("bottom")
        self.bar_axis_height = AXIS_HEIGHT if show_bars else 0
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
        self.take = pg.BarGraphItem(x0=[], x1=[], y0=[], y1=[], brush=pg.mkBrush("#ffffff"), pen=pg.mkPen(None))
        self.take.setZValue(5)  # the notes being recorded, drawn as they are played
        self.extra_pitches = np.zeros(0, dtype=np.int64)  # pitches a recording adds to the rows
        for item in (self.empty, self.loop, self.pick, self.take):
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
        if len(self.extra_pitches):  # a take being recorded: its pitches get rows too
            rows = np.union1d(rows, self.extra_pitches)
            if self.lane != DRUMS:
                rows = np.arange(rows[0], rows[-1] + 1)
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
        if self.lane == DRUMS:  # notes per drum: the busiest are the ones named when not all fit
            self.row_axis.hits = onset.sum(axis=0)
            self.row_axis.picture = None
            self.row_axis.update()
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

    def show_take(self, notes: list[tuple[int, float, float]], song: Song | None, threshold: float) -> None:
        """Draw the notes being recorded ((pitch, start beats, end beats)) over the lane; rows grow for them."""
        pitches = np.unique(np.array([p for p, _, _ in notes], dtype=np.int64))
        if len(np.setdiff1d(pitches, self.rows)):
            self.extra_pitches = np.union1d(self.extra_pitches, pitches)
            if song is not None:
                self.show_song(song, threshold, new_rows=False)
            else:  # nothing generated yet: the rows are the take's own
                lo, hi = int(self.extra_pitches[0]), int(self.extra_pitches[-1])
                rows = self.extra_pitches if self.lane == DRUMS else np.arange(max(lo - 1, 0), min(hi + 1, 127) + 1)
                self.rows = self.row_axis.rows = rows
                self.vb.setLimits(yMin=0, yMax=len(rows))
                self.vb.setYRange(0, len(rows), padding=0)
                self.row_axis.picture = None
                self.row_axis.update()
        if song is None and notes:  # the time axis grows with the take
            end = max(b for _, _, b in notes)
            self.vb.setLimits(xMin=0, xMax=max(end + BEATS_PER_BAR, 4 * BEATS_PER_BAR))
        if not notes:
            self.take.setOpts(x0=[], x1=[], y0=[], y1=[])
            return
        rows = np.searchsorted(self.rows, [p for p, _, _ in notes]).astype(float)
        self.take.setOpts(
            x0=np.array([a for _, a, _ in notes]),
            x1=np.array([max(b, a + 0.05) for _, a, b in notes]),
            y0=rows + 0.1,
            y1=rows + 0.9,
        )

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
        # The lanes scroll up and down when they need more height than the window has (a big drum kit on a
        # small screen: every drum row keeps a readable name), as a DAW's tracks do; time scrolls below.
        self.body = QWidget()
        self.body.setObjectName("lanesBody")
        self.grid = grid = QGridLayout(self.body)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(0)
        grid.setVerticalSpacing(2)
        for i, (header, lane) in enumerate(zip(headers, self.lanes)):
            grid.addWidget(header, i, 0)
            grid.addWidget(lane, i, 1)
            grid.setRowStretch(i, 1)
            if i:
                lane.setXLink(self.lanes[0])
        grid.setColumnStretch(1, 1)
        self.area = QScrollArea(self)
        self.area.setObjectName("lanesArea")
        self.area.setWidget(self.body)
        self.area.setWidgetResizable(True)
        self.area.setFrameShape(QFrame.Shape.NoFrame)
        self.area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.area.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # Up and down: a slim bar over the lanes' right margin, so the roll keeps the chord lane's width and
        # the beats stay under each other; the wheel over the lane headers scrolls too.
        self.vscroll = QScrollBar(Qt.Orientation.Vertical, self)
        self.vscroll.setObjectName("lanesVScrollBar")
        self.vscroll.setStyleSheet(
            f"QScrollBar:vertical {{ background: transparent; width: {LANE_RIGHT_MARGIN}px; margin: 0; }}"
            "QScrollBar::handle:vertical { background: #7d8494; border-radius: 3px; min-height: 24px; }"
            "QScrollBar::add-line, QScrollBar::sub-line { height: 0; }"
            "QScrollBar::add-page, QScrollBar::sub-page { background: transparent; }"
        )
        inner = self.area.verticalScrollBar()
        inner.rangeChanged.connect(self._vrange)
        inner.valueChanged.connect(self.vscroll.setValue)
        self.vscroll.valueChanged.connect(inner.setValue)
        self.vscroll.setVisible(False)
        self.area.setStyleSheet("QScrollArea, QWidget#lanesBody { background: transparent; }")
        self.area.viewport().setAutoFillBackground(False)
        self.scroll = QScrollBar(Qt.Orientation.Horizontal, self)  # where the view is in the song; drag to move
        self.scroll.setObjectName("rollScrollBar")
        self.scroll.setRange(0, 0)
        under = QHBoxLayout()
        under.setContentsMargins(0, 0, 0, 0)
        under.addSpacing(headers[0].minimumWidth())
        under.addWidget(self.scroll, 1)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(self.area, 1)
        outer.addLayout(under)
        self.outer = outer
        self.lanes[0].vb.sigXRangeChanged.connect(lambda *_: self._sync_scroll())
        self.scroll.valueChanged.connect(self._scrolled)
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
            header = self.grid.itemAtPosition(0, 0).widget().width()
            area_w, area_h = self.width() - header, self.height()
            self.hint.move(header + (area_w - self.hint.width()) // 2, (area_h - self.hint.height()) // 2)
            self.hint.raise_()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._place_hint()
        self._place_vscroll()

    def _vrange(self, lo: int, hi: int) -> None:
        """The lanes need more height than there is (or no longer do): the slim bar shows (or goes)."""
        inner = self.area.verticalScrollBar()
        self.vscroll.setRange(lo, hi)
        self.vscroll.setPageStep(inner.pageStep())
        self.vscroll.setSingleStep(inner.singleStep())
        self.vscroll.setVisible(hi > lo)
        self._place_vscroll()

    def _place_vscroll(self) -> None:
        area = self.area.geometry()
        self.vscroll.setGeometry(area.right() - LANE_RIGHT_MARGIN + 1, area.top(), LANE_RIGHT_MARGIN, area.height())
        self.vscroll.raise_()

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
            self._sync_scroll()
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
        self.fit_drum_rows()
        if not same_shape:
            for lane in self.lanes:
                lane.show_grid(song)
            self.lanes[0].setXRange(0, song.n_steps / song.steps_per_beat, padding=0)
        self._sync_scroll()

    def add_strip(self, header: QWidget, plot: QWidget) -> None:
        """A strip under the lanes (the velocity strip): its header under theirs, its plot the roll's width; it
        stays on screen when the lanes scroll up and down."""
        row = QHBoxLayout()
        row.setContentsMargins(0, 2, 0, 0)
        row.setSpacing(0)
        header.setFixedWidth(self.grid.itemAtPosition(0, 0).widget().minimumWidth())
        row.addWidget(header)
        row.addWidget(plot, 1)
        self.outer.insertLayout(self.outer.indexOf(self.area) + 1, row)

    def fit_drum_rows(self, stretch: int | None = None) -> None:
        """The drum lane grows with the drums it plays: each row at least a name high, so every drum that plays
        is named (the lanes scroll up and down when the window is too short for them all); `stretch`, its
        share of spare height (default: one per DRUM_ROWS_PER_STRETCH drums, 1 to 3)."""
        view = self.lanes[DRUMS]
        rows = len(view.rows)
        need = rows * view.row_axis.label_height + view.bar_axis_height
        view.setMinimumHeight(max(MIN_LANE_HEIGHT, need + 2))
        if stretch is None:
            stretch = int(min(max(np.ceil(rows / DRUM_ROWS_PER_STRETCH), 1), 3))
        self.grid.setRowStretch(DRUMS, stretch)

    def show_recording(self, lane: int, notes: list[tuple[int, float, float]] | None) -> None:
        """Draw a take being recorded on `lane` as it is played ((pitch, start beats, end beats)); None clears."""
        view = self.lanes[lane]
        if notes is None:
            view.take.setOpts(x0=[], x1=[], y0=[], y1=[])
            if len(view.extra_pitches):
                view.extra_pitches = np.zeros(0, dtype=np.int64)
                if self.song is not None:
                    view.show_song(self.song, self.threshold, new_rows=True)
        else:
            view.show_take(notes, self.song, self.threshold)
        if lane == DRUMS:  # a drum played that the kit had no row for gets a named row too
            self.fit_drum_rows()

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

    def total_beats(self) -> float:
        return self.song.n_steps / self.song.steps_per_beat if self.song is not None else 0.0

    def view_range(self) -> tuple[float, float]:
        """The beats on screen (from, to)."""
        lo, hi = self.lanes[0].vb.viewRange()[0]
        return float(lo), float(hi)

    def _sync_scroll(self) -> None:
        total = self.total_beats()
        lo, hi = self.view_range()
        span = min(hi - lo, total)
        self.scroll.blockSignals(True)
        self.scroll.setRange(0, max(int(round((total - span) * SCROLL_UNITS)), 0))
        self.scroll.setPageStep(max(int(round(span * SCROLL_UNITS)), 1))
        self.scroll.setSingleStep(BEATS_PER_BAR * SCROLL_UNITS)
        self.scroll.setValue(int(round(max(lo, 0.0) * SCROLL_UNITS)))
        self.scroll.blockSignals(False)

    def _scrolled(self, value: int) -> None:
        lo, hi = self.view_range()
        start = value / SCROLL_UNITS
        self.lanes[0].setXRange(start, start + (hi - lo), padding=0)

    def mouse_beats(self) -> float | None:
        """The beat under the mouse when it is over a lane's roll, else None."""
        for lane in self.lanes:
            pos = lane.mapFromGlobal(QCursor.pos())
            if lane.isVisible() and lane.rect().contains(pos):
                scene = lane.mapToScene(pos)
                if lane.vb.sceneBoundingRect().contains(scene):
                    return float(lane.vb.mapSceneToView(scene).x())
        return None

    def zoom_anchor(self) -> float | None:
        """What Zoom in/out keeps in place: the beat under the mouse, else the playhead, else None (the middle)."""
        mouse = self.mouse_beats()
        if mouse is not None:
            return mouse
        head = self.lanes[0].playhead
        return float(head.value()) if head.isVisible() else None

    def zoom(self, factor: float, around: float | None = None) -> None:
        """Scale the visible time span by factor (<1 zooms in) about `around` (beats; default zoom_anchor()):
        that beat stays where it is on screen (one off screen comes to the middle)."""
        lo, hi = self.view_range()
        around = self.zoom_anchor() if around is None else around
        total = self.total_beats() or hi
        span = min(max((hi - lo) * factor, float(BEATS_PER_BAR)), max(total, float(BEATS_PER_BAR)))
        if around is None:
            around = (lo + hi) / 2
        where = (around - lo) / max(hi - lo, 1e-9) if lo <= around <= hi else 0.5
        start = min(max(around - where * span, 0.0), max(total - span, 0.0))
        self.lanes[0].setXRange(start, start + span, padding=0)

    def scroll_to_start(self) -> None:
        """Home: the start of the song on screen, at the same zoom."""
        lo, hi = self.view_range()
        self.lanes[0].setXRange(0.0, hi - lo, padding=0)

    def fit(self) -> None:
        if self.song is not None:
            self.lanes[0].setXRange(0, self.song.n_steps / self.song.steps_per_beat, padding=0)
