"""The chord lane and the sections strip in the real window (offscreen, tiny pack), driven by Qt mouse and key
events: a clicked bar typed and re-voiced, a typed chart, sections marked by a drag, saved, reopened, exported."""

from __future__ import annotations

import mido
import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QAction, QMouseEvent
from PySide6.QtWidgets import QApplication, QDialog, QMenu

from musicvae_app.lanes import BEATS_PER_BAR
from musicvae_app.sketch.midi import read_chords
from musicvae_app.ui.main_window import MainWindow

TIMEOUT = 60000


def generate(qtbot, w: MainWindow):
    with qtbot.waitSignal(w.songChanged, timeout=TIMEOUT):
        w.generate()
    return w.song


def mouse(strip, beats_from: float, beats_to: float | None = None, button=Qt.MouseButton.LeftButton) -> None:
    """A real click (or left-drag) on a strip at beats (view coordinates), through the viewport's Qt events."""
    vb = strip.vb
    to = beats_from if beats_to is None else beats_to
    points = [strip.mapFromScene(vb.mapViewToScene(QPointF(b, 0.5))) for b in np.linspace(beats_from, to, 6)]
    viewport = strip.viewport()
    none = Qt.MouseButton.NoButton

    def send(kind, pos, pressed, buttons):
        p = QPointF(pos)
        QApplication.sendEvent(
            viewport, QMouseEvent(kind, p, viewport.mapToGlobal(p), pressed, buttons, Qt.KeyboardModifier(0))
        )

    send(QMouseEvent.Type.MouseButtonPress, points[0], button, button)
    if beats_to is not None:
        for pos in points[1:]:
            send(QMouseEvent.Type.MouseMove, pos, none, button)
    send(QMouseEvent.Type.MouseButtonRelease, points[-1], button, none)
    QApplication.processEvents()


def bar_probs(song, bar: int) -> bytes:
    spb = song.steps_per_bar
    return song.probs[:, (bar - 1) * spb : bar * spb].tobytes()


def labels(view) -> list[str]:
    return [item.textItem.toPlainText() for item in view.arrangement.chord_lane.labels]


def test_the_strips_line_up_with_the_roll_and_the_window_fits_1024x600(qtbot, window):
    song = generate(qtbot, window)
    chords = window.arrangement.chord_lane
    assert len(chords.labels) == song.n_bars and chords.n_bars == song.n_bars
    lane = window.lanes.lanes[0]
    for beats in (0.0, 4.0 * 7, song.n_steps / song.steps_per_beat):  # the same beat is the same x on screen
        a = chords.mapTo(window, chords.mapFromScene(chords.vb.mapViewToScene(QPointF(beats, 0.5))))
        b = lane.mapTo(window, lane.mapFromScene(lane.vb.mapViewToScene(QPointF(beats, 0.5))))
        assert abs(a.x() - b.x()) <= 1, (beats, a, b)
    window.lanes.zoom(0.5)  # zooming the roll zooms the strips with it
    QApplication.processEvents()
    assert np.allclose(chords.vb.viewRange()[0], lane.vb.viewRange()[0])
    assert np.allclose(window.arrangement.sections.vb.viewRange()[0], lane.vb.viewRange()[0])
    assert window.minimumSizeHint().height() <= 600 and window.minimumSizeHint().width() <= 1024
    window.resize(1024, 600)
    QApplication.processEvents()
    assert (window.width(), window.height()) == (1024, 600)


def test_click_a_bar_type_a_chord_and_enter_revoices_that_bar_only(qtbot, window):
    before = generate(qtbot, window)
    steps, shown = window.undo_stack.count(), labels(window)
    lane = window.arrangement.chord_lane
    mouse(lane, 4 * 5 + 1.5)  # inside bar 6
    editor = lane.editor
    assert editor.isVisible() and editor.bar == 6
    editor.selectAll()
    qtbot.keyClicks(editor, "Dm7")
    with qtbot.waitSignal(window.songChanged, timeout=TIMEOUT):
        qtbot.keyClick(editor, Qt.Key.Key_Return)
    after = window.song
    assert not editor.isVisible()
    assert window.undo_stack.count() == steps + 1
    for bar in range(1, before.n_bars + 1):
        assert (bar_probs(before, bar) == bar_probs(after, bar)) == (bar != 6), f"bar {bar}"
    assert labels(window)[5] == "Dm7" and lane.chords[5] == ("Dm7", True)
    assert not lane.chords[4][1]  # the other bars stay recognized
    undo = next(a for a in window.findChildren(QAction) if a.text().startswith("Undo"))
    assert undo.text() == "Undo Chord Dm7 in bar 6" and undo.isEnabled()
    undo.trigger()  # Edit > Undo
    assert window.song is before and labels(window) == shown  # one step restores the take and its lane
    assert window.undo_stack.count() == steps + 1 and window.undo_stack.index() == steps


def test_esc_cancels_and_a_bad_chord_says_which_bar_and_changes_nothing(qtbot, window):
    before = generate(qtbot, window)
    lane = window.arrangement.chord_lane
    mouse(lane, 4 * 2 + 0.5)  # bar 3
    qtbot.keyClicks(lane.editor, "F")
    qtbot.keyClick(lane.editor, Qt.Key.Key_Escape)
    assert not lane.editor.isVisible() and window.song is before
    mouse(lane, 4 * 2 + 0.5)
    lane.editor.selectAll()
    qtbot.keyClicks(lane.editor, "Hx7")
    qtbot.keyClick(lane.editor, Qt.Key.Key_Return)
    assert "'Hx7' in bar 3" in (window.last_error or "")
    assert window.song is before and window.isVisible()
    box = window.findChild(QDialog)
    if box is not None:
        box.close()


def test_a_typed_chart_revoices_the_take_and_the_next_generate_plays_it(qtbot, window):
    generate(qtbot, window)
    qtbot.mouseClick(window.arrangement.chart_button, Qt.MouseButton.LeftButton)
    dialog = window.arrangement.dialog
    assert dialog.isVisible() and dialog.objectName() == "chartDialog"
    dialog.field.setText("| C Am | F G |")  # issue 33: two chords a bar, as everywhere else
    with qtbot.waitSignal(window.songChanged, timeout=TIMEOUT):
        dialog.accept()
    chart = ["C Am", "F G"]
    lane = window.arrangement.chord_lane
    assert window.song.chords == chart * 8 and lane.chords == [(text, True) for text in chart * 8]
    assert [(beat, name) for beat, name, *_ in lane.events[:4]] == [(0, "C"), (2, "Am"), (4, "F"), (6, "G")]
    assert labels(window)[:4] == ["C", "Am", "F", "G"]  # each name at its beat
    new = generate(qtbot, window)
    assert new.chords == chart * 8 and new.settings["chords"] == "asked"


def test_the_chord_lane_never_runs_names_together_at_whole_song_zoom(qtbot, window):
    generate(qtbot, window)
    window.session.set_chords("| Cmaj7 Am7 Dm7 G7sus4 | F#m7b5 B7 Em7 A7 |")
    qtbot.waitUntil(lambda: window.song.chords[:1] == ["Cmaj7 Am7 Dm7 G7sus4"], timeout=TIMEOUT)
    window.arrangement.refresh()
    lane = window.arrangement.chord_lane
    window.lanes.fit()  # the whole song on screen
    QApplication.processEvents()

    def drawn():
        return [(item, text) for item, text in zip(lane.labels, lane.label_texts()) if text is not None]

    shown = drawn()
    assert shown, "no chord name at all"
    rects = [item.sceneBoundingRect() for item, _ in shown]
    for a, b in zip(rects, rects[1:]):
        assert a.right() <= b.left() + 0.5, "two chord names run together"
    assert len(shown) < len(lane.labels) or any(text.endswith("…") for _, text in shown)  # some left out or cut
    window.lanes.zoom(0.05)  # zoomed far in: every name of the bars on screen is whole
    QApplication.processEvents()
    assert [name for _, name, *_ in lane.events] == lane.label_texts()


def test_a_drag_on_the_sections_strip_marks_a_section_saved_reopened_and_exported(qtbot, window, tmp_path):
    song = generate(qtbot, window)
    strip = window.arrangement.sections
    steps = window.undo_stack.count()
    mouse(strip, 4 * 4 + 1.0, 4 * 7 + 2.0)  # a drag from bar 5 to bar 8
    menu = strip.menu
    assert isinstance(menu, QMenu) and menu.isVisible()
    menu.findChild(type(menu.actions()[0]), "section_chorus").trigger()
    menu.close()
    assert [(s.name, s.start, s.bars) for s in window.song.sections] == [("chorus", 5, 4)]
    assert window.undo_stack.count() == steps + 1 and window.song.probs is song.probs
    assert [item.textItem.toPlainText() for item in strip.labels] == ["chorus"]
    mouse(strip, 0.5, 4 * 3 + 3.0)  # bars 1-4
    strip.menu.findChild(type(strip.menu.actions()[0]), "section_verse").trigger()
    strip.menu.close()
    mouse(strip, 4 * 9 + 1.0)  # a click in bar 10: the menu for that bar
    assert strip.menu.isVisible()
    strip.menu.findChild(type(strip.menu.actions()[0]), "section_chorus").trigger()
    strip.menu.close()
    assert [(s.name, s.start, s.bars) for s in window.session.sections()] == [
        ("verse", 1, 4),
        ("chorus", 5, 4),
        ("chorus", 10, 1),
    ]
    # a chord typed too, then save, reopen in a new window, export
    window.session.set_chord(2, "Em")
    qtbot.waitUntil(lambda: window.song.chords[1:2] == ["Em"], timeout=TIMEOUT)
    path = tmp_path / "arranged.mvsketch"
    assert window.save_sketch(path)
    other = MainWindow(window.engine, data_dir=tmp_path / "other", restore="no")
    qtbot.addWidget(other)
    other.show()
    assert other.open_sketch(path)
    assert other.song.chords == window.song.chords and other.song.sections == window.song.sections
    assert labels(other) == labels(window)
    assert [i.textItem.toPlainText() for i in other.arrangement.sections.labels] == ["verse", "chorus", "chorus"]
    out = other.export_midi(tmp_path / "arranged.mid")
    ticks, markers = 0, []
    for msg in mido.merge_tracks(mido.MidiFile(str(out)).tracks):
        ticks += msg.time
        if msg.type == "marker":
            markers.append((ticks // (480 * BEATS_PER_BAR) + 1, msg.text))
    assert (1, "Verse") in markers and (5, "Chorus") in markers and (10, "Chorus") in markers
    assert (2, "Em") in markers
    assert read_chords(out, other.song.steps_per_beat) == other.song.chords


def test_a_form_typed_before_generate_makes_the_take_long_enough(qtbot, window):
    window.arrangement.form_dialog()
    dialog = window.arrangement.dialog
    dialog.field.setText("intro 4, verse 8, chorus 8, verse 8, chorus 8")
    dialog.accept()
    strip = window.arrangement.sections
    assert [i.textItem.toPlainText() for i in strip.labels] == ["intro", "verse", "chorus", "verse", "chorus"]
    song = generate(qtbot, window)
    assert song.n_bars == 36 and song.sections[-1].end == 36
    first, again = bar_probs(song, 13), bar_probs(song, 29)
    assert first != again  # the chorus comes back as a variation, not a copy
    window.arrangement.form_dialog().field.setText("verse eight")
    window.arrangement.dialog.accept()
    assert "has no length" in (window.last_error or "") and window.song is song


def test_every_shortcut_in_the_window_is_its_own(window):
    """Two actions on one key sequence make Qt fire neither ("Ambiguous shortcut"): the chord lane's Form…
    and File › Follow a part… once both sat on Ctrl+Shift+F."""
    seen: dict[str, str] = {}
    for action in window.findChildren(QAction):
        for seq in action.shortcuts():
            key = seq.toString()
            if not key:
                continue
            assert key not in seen, f"{key} is on both {seen[key]!r} and {action.text()!r}"
            seen[key] = action.text()
    assert {"Ctrl+Shift+F", "Ctrl+Alt+F", "Ctrl+Shift+C", "Ctrl+Alt+R"} <= set(seen)
