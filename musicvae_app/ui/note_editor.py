"""Editing notes in the roll, as a DAW's piano roll does (Edit > Edit notes, N): every change is one Session call
(Session.add_note, move_notes, resize_note, delete_notes, set_velocity), so one undo step, saved, exported and
played like any other.

While editing, on a lane:
- a click on an empty cell adds a note there (on the grid, in the lane's instrument; the length of the last note
  drawn, a beat at first; a hit on drums) and selects it; a click on a note selects it (Shift: adds or removes);
- a drag on a note moves it, with the other selected notes, in time (by steps) and pitch (by rows);
- a drag on a note's right end resizes it;
- Alt+drag on a note changes the velocity of it and the other selected notes (up: louder);
- a drag on an empty place selects the notes in the rectangle (Shift: adds to the selection; over no note, it
  clears the selection);
- Delete (or Backspace) deletes the selected notes.
Bars holding edited notes are marked by a bar along the top of their lane; Regenerate asks before replacing them.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMessageBox

from ..errors import InvalidValue
from ..sketch.song import DRUMS, LANES
from .context import Menus, ViewContext, toggle_action
from .lanes_view import SELECTION_COLOUR, LaneView
from .worker import slot

EDGE_PX = 6  # how near a note's right end a press resizes it
VELOCITY_PX = 2.0  # pixels of an Alt+drag per velocity step
EDITED_COLOUR = "#e8b44a"
GHOST_COLOUR = "#ffffff"
KIT = np.array([36, 37, 38, 39, 42, 44, 45, 46, 48, 49, 50, 51])  # kick, stick, snare, clap, hats, toms, cymbals
ROOM = 5  # rows added above and below a pitched lane's notes while editing


def _rect_segments(rects) -> tuple[np.ndarray, np.ndarray]:
    """Outlines of (x0, y0, x1, y1) rectangles as pairs of points for a connect='pairs' curve."""
    xs, ys = [], []
    for x0, y0, x1, y1 in rects:
        for a, b in (((x0, y0), (x1, y0)), ((x1, y0), (x1, y1)), ((x1, y1), (x0, y1)), ((x0, y1), (x0, y0))):
            xs += [a[0], b[0]]
            ys += [a[1], b[1]]
    return np.array(xs, dtype=float), np.array(ys, dtype=float)


class NoteEditor(QObject):
    """The note editing of the window's lanes (on while `editing`); draws selection, drags and edited bars."""

    selectionChanged = Signal()  # the selected notes (lane, selected) changed: the velocity strip follows

    def __init__(self, views: ViewContext):
        super().__init__(views.parent)
        self.views = views
        self.session = views.session
        self.lanes = views.lanes
        self.editing = False
        self.lane: int | None = None  # the lane the selection is in
        self.selected: set[tuple[int, int]] = set()  # (pitch, start step) of the selected notes
        self.length: int | None = None  # steps of the last note drawn or resized (None: a beat)
        self._drag: dict | None = None
        self.overlays = []
        for view in self.lanes.lanes:
            plot = view.getPlotItem()
            sel = pg.PlotCurveItem(pen=pg.mkPen(SELECTION_COLOUR, width=2), connect="pairs")
            ghost = pg.PlotCurveItem(pen=pg.mkPen(GHOST_COLOUR, width=1, style=Qt.PenStyle.DashLine), connect="pairs")
            edited = pg.PlotCurveItem(pen=pg.mkPen(EDITED_COLOUR, width=4), connect="pairs")
            for item, z in ((sel, 20), (ghost, 21), (edited, 19)):
                item.setZValue(z)
                plot.addItem(item)
            self.overlays.append((sel, ghost, edited))
            view.vb.on_edit = lambda ev, view=view: self._dragged(view, ev)
            view.scene().sigMouseMoved.connect(lambda pos, view=view: self._hover(view, pos))
        self.lanes.on_edit_click = self._clicked
        self.session.listen(self._session_event)
        self.session.editing.ask = self._ask

    # --- the mode ---------------------------------------------------------------------------------------
    def set_editing(self, on: bool) -> None:
        self.editing = bool(on)
        self.lanes.keep_rows = self.editing
        if on:
            self._open_rows()
        else:
            for view in self.lanes.lanes:
                view.unsetCursor()
        if not on:
            self._drag = None
            self.clear_selection()
        self.views.status(
            "Editing notes: click adds, drag moves or resizes"
            if on
            else "Note editing off: a click moves the playhead",
            6000 if on else 3000,
        )
        self.redraw()

    def _open_rows(self) -> None:
        """Room to draw new notes: the drum lane shows the common kit, pitched lanes a few rows more each way."""
        song = self.session.song
        if song is None:
            return
        for view in self.lanes.lanes:
            if view.lane == DRUMS:
                view.rows = np.union1d(view.rows, KIT)
            elif len(view.rows):
                lo, hi = int(view.rows[0]) - ROOM, int(view.rows[-1]) + ROOM
                view.rows = np.arange(max(lo, 0), min(hi, 127) + 1)
            view.row_axis.rows = view.rows
            view.show_song(song, self.lanes.threshold, new_rows=False)  # drawn on these rows (they only grow now)
            view.vb.setLimits(yMin=0, yMax=len(view.rows))
            view.vb.setYRange(0, len(view.rows), padding=0)
            view.row_axis.picture = None
            view.row_axis.update()
        self.lanes.fit_drum_rows(stretch=3)  # room for the kit's rows, each named, as for a big kit

    def _hover(self, view: LaneView, scene_pos) -> None:
        """The cursor says what a press does: resize at a note's end, move on a note, draw elsewhere."""
        if not self.editing or self.session.song is None or self._drag is not None:
            return
        step, pitch, _ = self._cell(view, scene_pos)
        note = self._note_at(view, step, pitch)
        if note is None:
            view.setCursor(Qt.CursorShape.CrossCursor)
        elif self._near_end(view, note, step):
            view.setCursor(Qt.CursorShape.SizeHorCursor)
        else:
            view.setCursor(Qt.CursorShape.SizeAllCursor)

    def _ask(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(
            self.views.parent,
            title,
            text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Yes

    def _session_event(self, event: str, *args) -> None:
        if event == "song":
            song = self.session.song
            if song is not None and self.lane is not None and self.selected:
                now = {n[:2] for n in self.session.lane_notes(self.lane)}
                self.selected &= now
            self.redraw()

    # --- reading the roll ---------------------------------------------------------------------------------
    def _spb(self) -> int:
        return self.session.song.steps_per_beat

    def _cell(self, view: LaneView, scene_pos) -> tuple[float, int | None, float]:
        """(step as a float, pitch or None off the rows, row as a float) under a scene position."""
        p = view.vb.mapSceneToView(scene_pos)
        row = math.floor(p.y())
        pitch = int(view.rows[row]) if 0 <= row < len(view.rows) else None
        return p.x() * self._spb(), pitch, p.y()

    def _note_at(self, view: LaneView, step: float, pitch: int | None):
        if pitch is None:
            return None
        for n in self.session.lane_notes(view.lane):
            if n[0] == pitch and n[1] <= step < n[2] + (0.5 if view.lane != DRUMS else 0):
                return n
        return None

    def _px_per_step(self, view: LaneView) -> float:
        lo, hi = view.vb.viewRange()[0]
        return view.vb.width() / max((hi - lo) * self._spb(), 1e-9)

    def _near_end(self, view: LaneView, note, step: float) -> bool:
        return view.lane != DRUMS and abs(step - note[2]) * self._px_per_step(view) <= EDGE_PX

    def _row_of(self, view: LaneView, pitch: int) -> int | None:
        hit = np.flatnonzero(view.rows == pitch)
        return int(hit[0]) if len(hit) else None

    # --- clicks -----------------------------------------------------------------------------------------
    def _clicked(self, view: LaneView, event) -> bool:
        if not self.editing or event.button() != Qt.MouseButton.LeftButton or self.session.song is None:
            return False
        step, pitch, _ = self._cell(view, event.scenePos())
        shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        note = self._note_at(view, step, pitch)
        if note is not None:
            self._select(view.lane, [note[:2]], add=shift, toggle=shift)
            return True
        if pitch is None or not 0 <= step < self.session.song.n_steps:
            return True
        if shift:
            return True  # Shift+click on nothing keeps the selection
        start = int(math.floor(step))
        length = self.length if self.length is not None else self._spb()
        length = max(1, min(length, self.session.song.n_steps - start))
        added = self._call(self.session.add_note, view.lane, pitch, start, length)
        if added is not None:
            self._select(view.lane, [added[:2]])
        return True

    # --- drags --------------------------------------------------------------------------------------------
    def _dragged(self, view: LaneView, ev) -> bool:
        if not self.editing or self.session.song is None or ev.button() != Qt.MouseButton.LeftButton:
            return False
        if ev.isStart() or self._drag is None:
            self._drag = self._start_drag(view, ev)
        drag = self._drag
        if drag["lane"] != view.lane:
            return True
        step, pitch, row = self._cell(view, ev.scenePos())
        drag["update"](view, ev, step, row)
        if ev.isFinish():
            self._drag = None
            self.overlays[view.lane][1].setData([], [])
            drag["finish"](view, drag)
            self.redraw()
        return True

    def _start_drag(self, view: LaneView, ev) -> dict:
        step, pitch, row = self._cell(view, ev.buttonDownScenePos())
        note = self._note_at(view, step, pitch)
        mods = ev.modifiers()
        lane = view.lane
        drag: dict = dict(lane=lane, step0=step, row0=row, y0=ev.buttonDownScenePos().y())
        if note is None:
            add = bool(mods & Qt.KeyboardModifier.ShiftModifier)
            drag.update(update=self._band_update, finish=self._band_finish, add=add)
            return drag
        if self.lane != lane or note[:2] not in self.selected:
            self._select(lane, [note[:2]])
        chosen = [n for n in self.session.lane_notes(lane) if n[:2] in self.selected]
        drag.update(note=note, chosen=chosen)
        if mods & Qt.KeyboardModifier.AltModifier:
            drag.update(update=self._velocity_update, finish=self._velocity_finish, change=0)
        elif self._near_end(view, note, step):
            drag.update(update=self._resize_update, finish=self._resize_finish, end=note[2])
        else:
            drag.update(update=self._move_update, finish=self._move_finish, steps=0, rows=0)
        return drag

    def _ghost(self, view: LaneView, rects) -> None:
        self.overlays[view.lane][1].setData(*_rect_segments(rects))

    def _note_rect(self, view: LaneView, pitch: int, start: int, end: int, row_shift: int = 0):
        row = self._row_of(view, pitch)
        if row is None:
            return None
        spb = self._spb()
        return (start / spb, row + row_shift + 0.05, end / spb, row + row_shift + 0.95)

    # moving
    def _move_update(self, view, ev, step, row) -> None:
        d = self._drag
        d["steps"] = int(round(step - d["step0"]))
        d["rows"] = int(math.floor(row) - math.floor(d["row0"]))
        rects = [self._note_rect(view, n[0], n[1] + d["steps"], n[2] + d["steps"], d["rows"]) for n in d["chosen"]]
        self._ghost(view, [r for r in rects if r is not None])

    def _move_finish(self, view, d: dict) -> None:
        steps, rows = d["steps"], d["rows"]
        if not steps and not rows:
            return
        semitones = self._semitones(view, d["note"][0], rows)
        moved = self._call(self.session.move_notes, view.lane, [n[:2] for n in d["chosen"]], steps, semitones)
        if moved is not None:
            self._select(view.lane, [n[:2] for n in moved])

    def _semitones(self, view: LaneView, pitch: int, rows: int) -> int:
        """Rows dragged -> semitones: on drums, to the drum `rows` rows away; else one row is a semitone."""
        row = self._row_of(view, pitch)
        if row is None or view.lane != DRUMS:
            return rows
        target = min(max(row + rows, 0), len(view.rows) - 1)
        return int(view.rows[target]) - pitch

    # resizing
    def _resize_update(self, view, ev, step, row) -> None:
        d = self._drag
        note = d["note"]
        d["end"] = max(note[1] + 1, min(int(round(step)), self.session.song.n_steps))
        rect = self._note_rect(view, note[0], note[1], d["end"])
        self._ghost(view, [rect] if rect else [])

    def _resize_finish(self, view, d: dict) -> None:
        note = d["note"]
        if d["end"] != note[2]:
            if self._call(self.session.resize_note, view.lane, note[:2], d["end"]) is not None:
                self.length = d["end"] - note[1]

    # velocity
    def _velocity_update(self, view, ev, step, row) -> None:
        d = self._drag
        d["change"] = int(round((d["y0"] - ev.scenePos().y()) / VELOCITY_PX))
        vel = min(max(d["note"][3] + d["change"], 1), 127)
        self.views.status(f"Velocity {vel} ({d['change']:+d})", 2000)

    def _velocity_finish(self, view, d: dict) -> None:
        if d["change"]:
            values = [min(max(n[3] + d["change"], 1), 127) for n in d["chosen"]]
            self._call(self.session.set_velocity, view.lane, [n[:2] for n in d["chosen"]], values)

    # rubber band
    def _band_update(self, view, ev, step, row) -> None:
        d = self._drag
        spb = self._spb()
        d["box"] = (min(d["step0"], step), min(d["row0"], row), max(d["step0"], step), max(d["row0"], row))
        x0, y0, x1, y1 = d["box"]
        self._ghost(view, [(x0 / spb, y0, x1 / spb, y1)])

    def _band_finish(self, view, d: dict) -> None:
        x0, y0, x1, y1 = d.get("box", (0, 0, 0, 0))
        inside = []
        for n in self.session.lane_notes(view.lane):
            row = self._row_of(view, n[0])
            if row is not None and n[1] < x1 and n[2] > x0 and row + 1 > y0 and row < y1:
                inside.append(n[:2])
        self._select(view.lane, inside, add=d["add"])

    # --- selection and edits ------------------------------------------------------------------------------
    def _select(self, lane: int, keys, add: bool = False, toggle: bool = False) -> None:
        keys = {tuple(k) for k in keys}
        if lane != self.lane or not add:
            self.lane, self.selected = lane, set()
        if toggle:
            self.selected ^= keys
        else:
            self.selected |= keys
        self.redraw()
        self.selectionChanged.emit()

    def clear_selection(self) -> None:
        self.lane, self.selected = None, set()
        self.redraw()
        self.selectionChanged.emit()

    def delete_selected(self) -> int:
        if not self.editing or self.lane is None or not self.selected:
            return 0
        gone = self._call(self.session.delete_notes, self.lane, sorted(self.selected))
        self.clear_selection()
        return gone or 0

    def _call(self, fn, *args):
        """A session edit; a refusal (a note off the sketch, a drum resized) is said in the status bar."""
        try:
            return fn(*args)
        except InvalidValue as exc:
            self.views.status(str(exc)[:1].upper() + str(exc)[1:], 6000)
            return None

    # --- drawing ------------------------------------------------------------------------------------------
    def redraw(self) -> None:
        song = self.session.song
        for view, (sel, ghost, edited) in zip(self.lanes.lanes, self.overlays):
            if song is None:
                for item in (sel, ghost, edited):
                    item.setData([], [])
                continue
            rects = []
            if view.lane == self.lane and self.selected:
                for n in self.session.lane_notes(view.lane):
                    if n[:2] in self.selected:
                        rect = self._note_rect(view, *n[:3])
                        if rect:
                            rects.append(rect)
            sel.setData(*_rect_segments(rects))
            bars = self.session.edited_bars(view.lane)
            top = len(view.rows) - 0.08
            beats = song.steps_per_bar / song.steps_per_beat
            xs = np.array([[(b - 1) * beats + 0.05, b * beats - 0.05] for b in bars], dtype=float).reshape(-1)
            edited.setData(xs, np.full(len(xs), top))
            edited.setToolTip("Bars you edited: Regenerate asks before replacing them" if bars else "")


def attach_note_editor(views: ViewContext, menus: Menus) -> NoteEditor:
    """The note editor over the window's lanes, with Edit > Edit notes (N) and Edit > Delete selected notes."""
    editor = NoteEditor(views)
    menus.edit.addSeparator()
    toggle = toggle_action(
        views.parent,
        menus.edit,
        "Edit notes",
        "editNotesAction",
        "N",
        "Click to add notes, drag to move or resize them, Alt+drag for velocity",
        slot(editor.set_editing, 1),
    )
    delete = QAction("Delete selected notes", views.parent)
    delete.setObjectName("deleteNotesAction")
    delete.setShortcuts([QKeySequence(QKeySequence.StandardKey.Delete), QKeySequence("Backspace")])
    delete.triggered.connect(slot(editor.delete_selected))
    menus.edit.addAction(delete)
    editor.toggle_action, editor.delete_action = toggle, delete
    return editor


__all__ = ["NoteEditor", "attach_note_editor", "LANES"]
