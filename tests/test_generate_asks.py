"""Issue 31: Generate asks before it replaces bars the musician edited, as Regenerate does (a DAW asks before a
command throws away hand edits); a locked lane or the musician's part keeps its edits and asks nothing. The
Session with a real engine on the tiny pack, and the real window (the question a real QMessageBox)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QPushButton

from musicvae_app.sketch.session import Session

TIMEOUT = 60000


@pytest.fixture
def session(engine):
    s = Session(engine)
    s.set_seed(7)
    s.update_settings(steps=1)
    s.generate()
    return s


def test_generate_asks_before_replacing_edited_bars_and_cancel_keeps_them(session):
    session.add_note("guitar", 64, 0, length=2, velocity=77)
    asked = []
    session.editing.ask = lambda title, text: asked.append((title, text)) or False
    count, song = session.history.count(), session.song
    assert not session.generate()
    assert len(asked) == 1 and "guitar bars 1" in asked[0][1] and "Generate replaces them" in asked[0][1]
    assert "Lock" in asked[0][1]  # it says how to keep them
    assert session.song is song and session.history.count() == count  # nothing changed
    assert (64, 0, 2, 77) in session.lane_notes("guitar")
    session.editing.ask = lambda title, text: asked.append((title, text)) or True
    assert session.generate()
    assert session.history.count() == count + 1 and session.edited_bars("guitar") == []
    session.undo()  # Undo brings the edits back
    assert (64, 0, 2, 77) in session.lane_notes("guitar")


def test_generate_asks_nothing_when_the_edits_are_in_a_locked_lane(session):
    session.add_note("bass", 40, 0, length=2, velocity=33)
    asked = []
    session.editing.ask = lambda title, text: asked.append(text) or False
    session.set_lane("bass", lock=True)
    assert session.generate()
    assert asked == [] and (40, 0, 2, 33) in session.lane_notes("bass")


def test_generate_without_edits_asks_nothing(session):
    asked = []
    session.editing.ask = lambda title, text: asked.append(text) or False
    assert session.generate() and asked == []


def test_the_window_asks_on_generate_and_cancel_keeps_the_edit(qtbot, window, monkeypatch):
    with qtbot.waitSignal(window.songChanged, timeout=TIMEOUT):
        window.generate()
    window.worker.wait()
    window.session.add_note("piano", 60, 0, length=2, velocity=90)
    asked = []
    monkeypatch.setattr(
        QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.Cancel
    )
    count, song = window.undo_stack.count(), window.song
    qtbot.mouseClick(window.findChild(QPushButton, "generateButton"), Qt.MouseButton.LeftButton)
    qtbot.wait(50)
    window.worker.wait()
    assert len(asked) == 1 and "piano bars 1" in asked[0]
    assert window.song is song and window.undo_stack.count() == count
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(window.songChanged, timeout=TIMEOUT):
        qtbot.mouseClick(window.findChild(QPushButton, "generateButton"), Qt.MouseButton.LeftButton)
    window.worker.wait()
    assert window.undo_stack.count() == count + 1 and window.session.edited_bars("piano") == []
