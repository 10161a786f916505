"""The window's menus and shortcuts.

`build_menus` is given the window's ViewContext (the session, the actions' parent, the lanes), the menu bar
to fill and a `MenuActions`: the window's handlers the menus call, each one named; never the window itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenuBar, QWidget

from ..sketch import undo as history
from ..sketch.session import Session
from ..sketch.song import LANES
from .context import Menus, ViewContext
from .worker import slot


@dataclass(frozen=True)
class MenuActions:
    """What the window does for each menu entry that is not simply a call on the session or the lanes."""

    # File
    new_sketch: Callable[[], object]
    primer_dialog: Callable[[], object]
    clear_primer: Callable[[], object]
    cancel_primer: Callable[[], object]
    follow_dialog: Callable[[], object]
    record_dialog: Callable[[], object]
    open_sketch_dialog: Callable[[], object]
    open_recovered_dialog: Callable[[], object]
    save_sketch_dialog: Callable[[], object]
    save_sketch_as_dialog: Callable[[], object]
    export_dialog: Callable[[], object]
    stems_dialog: Callable[[], object]
    export_audio_dialog: Callable[[], object]
    choose_soundfont_dialog: Callable[[], object]
    quit: Callable[[], object]
    # Sketch
    generate: Callable[[], object]
    regenerate_lane: Callable[[int], object]
    regenerate_bars: Callable[[bool], object]  # all lanes?
    morph_dialog: Callable[[], object]
    pick_take: Callable[[int], object]
    keep_take: Callable[[], object]
    # Help
    shortcuts_dialog: Callable[[], object]
    guide_dialog: Callable[[], object]


def _action(parent: QWidget, menu, text: str, fn, shortcut=None, name: str | None = None) -> QAction:
    action = QAction(text, parent)
    if shortcut is not None:
        keys = shortcut if isinstance(shortcut, list) else [shortcut]
        action.setShortcuts([QKeySequence(k) for k in keys])
    action.triggered.connect(slot(fn))
    if name:
        action.setObjectName(name)
    menu.addAction(action)
    return action


def _history_note(parent: QWidget, session: Session) -> QAction:
    """A greyed-out line under Undo/Redo: how much history is kept, and when the oldest steps were dropped."""
    note = QAction(parent)
    note.setObjectName("undoHistoryNote")
    note.setEnabled(False)
    limit = f"Undo keeps the last {history.HISTORY_STEPS} steps, up to {history.HISTORY_BYTES >> 20} MB"
    steps = session.history

    def update(*_) -> None:
        try:
            note.setText(f"{limit}: {steps.dropped} older steps dropped" if steps.dropped else limit)
        except RuntimeError:  # the window is being destroyed: its menu has gone
            pass

    update()
    steps.listeners.append(update)
    return note


def _undo_actions(parent: QWidget, session: Session) -> tuple[QAction, QAction]:
    """Edit > Undo / Redo over the session's history, named after the step they undo or redo."""
    undo = QAction("Undo", parent)
    undo.setShortcut(QKeySequence("Ctrl+Z"))
    undo.triggered.connect(slot(session.undo))
    redo = QAction("Redo", parent)
    redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
    redo.triggered.connect(slot(session.redo))

    def update() -> None:
        try:
            steps = session.history
            undo.setEnabled(steps.can_undo)
            undo.setText(f"Undo {steps.undo_text}".strip())
            redo.setEnabled(steps.can_redo)
            redo.setText(f"Redo {steps.redo_text}".strip())
        except RuntimeError:  # the window is being destroyed
            pass

    update()
    session.history.listeners.append(update)
    return undo, redo


def build_menus(views: ViewContext, bar: QMenuBar, do: MenuActions) -> Menus:
    """The window's menu bar; the menus (and File > Open recovered sketch…) come back by reference."""
    session, lanes, parent = views.session, views.lanes, views.parent
    file = bar.addMenu("&File")
    _action(parent, file, "New sketch", do.new_sketch, QKeySequence.StandardKey.New, "newSketchAction")
    file.addSeparator()
    _action(parent, file, "Open primer MIDI…", do.primer_dialog, "Ctrl+P")
    _action(parent, file, "Clear primer", do.clear_primer)
    _action(parent, file, "Stop reading primer", do.cancel_primer, "Esc")
    _action(parent, file, "Follow a part…", do.follow_dialog, "Ctrl+Shift+F", "followAction")
    _action(parent, file, "Stop following the part", session.stop_following, None, "stopFollowingAction")
    _action(parent, file, "Record a part…", do.record_dialog, "Ctrl+Alt+R", "recordAction")
    file.addSeparator()
    _action(parent, file, "Open sketch…", do.open_sketch_dialog, QKeySequence.StandardKey.Open)
    recovered = _action(parent, file, "Open recovered sketch…", do.open_recovered_dialog, None, "openRecoveredAction")
    _action(parent, file, "Save sketch", do.save_sketch_dialog, QKeySequence.StandardKey.Save)
    _action(parent, file, "Save sketch as…", do.save_sketch_as_dialog, "Ctrl+Shift+S")
    file.addSeparator()
    _action(parent, file, "Export MIDI…", do.export_dialog, "Ctrl+E", "exportAction")
    _action(parent, file, "Export stems…", do.stems_dialog, "Ctrl+Shift+E")
    _action(parent, file, "Export audio (WAV)…", do.export_audio_dialog, "Ctrl+Alt+E", "exportAudioAction")
    _action(parent, file, "Choose soundfont…", do.choose_soundfont_dialog, None, "soundfontAction")
    file.addSeparator()
    _action(parent, file, "Quit", do.quit, QKeySequence.StandardKey.Quit)

    edit = bar.addMenu("&Edit")
    undo, redo = _undo_actions(parent, session)
    edit.addAction(undo)
    edit.addAction(redo)
    edit.addSeparator()
    edit.addAction(_history_note(parent, session))

    sketch = bar.addMenu("&Sketch")
    _action(parent, sketch, "Generate", do.generate, "Ctrl+G", "generateAction")
    for i, lane in enumerate(LANES):
        _action(parent, sketch, f"Regenerate {lane}", lambda i=i: do.regenerate_lane(i), f"Ctrl+{i + 1}")
    sketch.addSeparator()
    _action(
        parent, sketch, "Regenerate selected bars", lambda: do.regenerate_bars(False), "Ctrl+R", "regenerateBarsMenu"
    )
    _action(
        parent,
        sketch,
        "Regenerate selected bars on all lanes",
        lambda: do.regenerate_bars(True),
        "Ctrl+Shift+R",
        "regenerateBarsAllMenu",
    )
    _action(parent, sketch, "Morph to take…", do.morph_dialog, "Ctrl+M", "morphAction")
    sketch.addSeparator()
    _action(parent, sketch, "Transpose up a semitone", lambda: session.transpose(1), "Ctrl+Shift+Up")
    _action(parent, sketch, "Transpose down a semitone", lambda: session.transpose(-1), "Ctrl+Shift+Down")
    sketch.addSeparator()
    _action(parent, sketch, "Previous take", lambda: do.pick_take(session.state.index - 1), "Alt+Left")
    _action(parent, sketch, "Next take", lambda: do.pick_take(session.state.index + 1), "Alt+Right")
    _action(parent, sketch, "Keep this take", do.keep_take, "Ctrl+K")

    view = bar.addMenu("&View")
    _action(parent, view, "Zoom in", lambda: lanes.zoom(0.5), ["Ctrl+=", "Ctrl++"], "zoomInAction")  # at the mouse
    _action(parent, view, "Zoom out", lambda: lanes.zoom(2.0), "Ctrl+-", "zoomOutAction")  # or the playhead
    _action(parent, view, "Whole song", lanes.fit, "Ctrl+0")

    help_menu = bar.addMenu("&Help")
    _action(parent, help_menu, "Keyboard shortcuts", do.shortcuts_dialog, "F1", "shortcutsAction")
    _action(parent, help_menu, "Guide", do.guide_dialog, None, "guideAction")
    return Menus(file=file, edit=edit, sketch=sketch, view=view, recovered=recovered, help=help_menu)
