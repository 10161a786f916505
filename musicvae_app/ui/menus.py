"""The window's menus and shortcuts."""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence

from ..sketch import undo as history
from ..sketch.song import LANES
from .audition import choose_soundfont_dialog, export_audio_dialog
from .context import Menus
from .record_panel import record_dialog
from .worker import slot


def _action(window, menu, text: str, fn, shortcut=None, name: str | None = None) -> QAction:
    action = QAction(text, window)
    if shortcut is not None:
        keys = shortcut if isinstance(shortcut, list) else [shortcut]
        action.setShortcuts([QKeySequence(k) for k in keys])
    action.triggered.connect(slot(fn))
    if name:
        action.setObjectName(name)
    menu.addAction(action)
    return action


def _history_note(window) -> QAction:
    """A greyed-out line under Undo/Redo: how much history is kept, and when the oldest steps were dropped."""
    note = QAction(window)
    note.setObjectName("undoHistoryNote")
    note.setEnabled(False)
    limit = f"Undo keeps the last {history.HISTORY_STEPS} steps, up to {history.HISTORY_BYTES >> 20} MB"
    steps = window.session.history

    def update(*_) -> None:
        try:
            note.setText(f"{limit}: {steps.dropped} older steps dropped" if steps.dropped else limit)
        except RuntimeError:  # the window is being destroyed: its menu has gone
            pass

    update()
    steps.listeners.append(update)
    return note


def _undo_actions(window) -> tuple[QAction, QAction]:
    """Edit > Undo / Redo over the session's history, named after the step they undo or redo."""
    session = window.session
    undo = QAction("Undo", window)
    undo.setShortcut(QKeySequence("Ctrl+Z"))
    undo.triggered.connect(slot(session.undo))
    redo = QAction("Redo", window)
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


def build_menus(window) -> Menus:
    """The window's menu bar; the menus come back by reference (a view adds its actions to them)."""
    session = window.session
    bar = window.menuBar()
    file = bar.addMenu("&File")
    _action(window, file, "Open primer MIDI…", window.primer_dialog, "Ctrl+P")
    _action(window, file, "Clear primer", window.clear_primer)
    _action(window, file, "Stop reading primer", window.cancel_primer, "Esc")
    _action(window, file, "Follow a part…", window.file_dialogs.follow_dialog, "Ctrl+Shift+F", "followAction")
    _action(window, file, "Stop following the part", session.stop_following, None, "stopFollowingAction")
    _action(window, file, "Record a part…", lambda: record_dialog(window), "Ctrl+Alt+R", "recordAction")
    file.addSeparator()
    _action(window, file, "Open sketch…", window.open_sketch_dialog, QKeySequence.StandardKey.Open)
    window.recovered_action = _action(
        window, file, "Open recovered sketch…", window.file_dialogs.open_recovered_dialog, None, "openRecoveredAction"
    )
    _action(window, file, "Save sketch", window.save_sketch_dialog, QKeySequence.StandardKey.Save)
    _action(window, file, "Save sketch as…", lambda: window.save_sketch_dialog(True), "Ctrl+Shift+S")
    file.addSeparator()
    _action(window, file, "Export MIDI…", window.export_dialog, "Ctrl+E", "exportAction")
    _action(window, file, "Export stems…", window.stems_dialog, "Ctrl+Shift+E")
    _action(window, file, "Export audio (WAV)…", lambda: export_audio_dialog(window), "Ctrl+Alt+E", "exportAudioAction")
    _action(window, file, "Choose soundfont…", lambda: choose_soundfont_dialog(window), None, "soundfontAction")
    file.addSeparator()
    _action(window, file, "Quit", window.close, QKeySequence.StandardKey.Quit)

    edit = bar.addMenu("&Edit")
    undo, redo = _undo_actions(window)
    edit.addAction(undo)
    edit.addAction(redo)
    edit.addSeparator()
    edit.addAction(_history_note(window))

    sketch = bar.addMenu("&Sketch")
    _action(window, sketch, "Generate", window.generate, "Ctrl+G", "generateAction")
    for i, lane in enumerate(LANES):
        _action(window, sketch, f"Regenerate {lane}", lambda i=i: window.regenerate_lane(i), f"Ctrl+{i + 1}")
    sketch.addSeparator()
    _action(window, sketch, "Regenerate selected bars", window.regenerate_bars, "Ctrl+R", "regenerateBarsMenu")
    _action(
        window,
        sketch,
        "Regenerate selected bars on all lanes",
        lambda: window.regenerate_bars(True),
        "Ctrl+Shift+R",
        "regenerateBarsAllMenu",
    )
    _action(window, sketch, "Morph to take…", window.morph_dialog, "Ctrl+M", "morphAction")
    sketch.addSeparator()
    _action(window, sketch, "Transpose up a semitone", lambda: session.transpose(1), "Ctrl+Shift+Up")
    _action(window, sketch, "Transpose down a semitone", lambda: session.transpose(-1), "Ctrl+Shift+Down")
    sketch.addSeparator()
    _action(window, sketch, "Previous take", lambda: window.pick_take(window.state.index - 1), "Alt+Left")
    _action(window, sketch, "Next take", lambda: window.pick_take(window.state.index + 1), "Alt+Right")
    _action(window, sketch, "Keep this take", window.keep_take, "Ctrl+K")

    view = bar.addMenu("&View")
    _action(window, view, "Zoom in", lambda: window.lanes.zoom(0.5), ["Ctrl+=", "Ctrl++"])
    _action(window, view, "Zoom out", lambda: window.lanes.zoom(2.0), "Ctrl+-")
    _action(window, view, "Whole song", window.lanes.fit, "Ctrl+0")
    return Menus(file=file, edit=edit, sketch=sketch, view=view)
