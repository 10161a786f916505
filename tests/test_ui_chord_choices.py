"""The readings of your part at the chord lane in the real window (offscreen, tiny pack, the shipped harmony model),
driven by clicks on the real controls: ◀ ▶ flip the whole chart, a right-click on a bar picks its chord from each
reading, Sketch › Harmonize my part; each one undo step, your part untouched; bad cases said in the status bar."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QDialog, QTableWidget
from test_chord_choices import TUNE
from test_ui_chords import TIMEOUT, generate, labels, mouse

from band_files import write_notes
from musicvae_app.sketch.choices import bar_texts, reading_bars
from musicvae_app.ui.help_dialogs import shortcut_rows

PIANO = 0


def follow_tune(qtbot, window, tmp_path):
    notes = [
        (0, 0, p, 4 * bar + beat, 4 * bar + beat + 0.9) for bar, ps in enumerate(TUNE) for beat, p in enumerate(ps)
    ]
    path = write_notes(tmp_path / "tune.mid", notes, tempo=96)
    s = window.session
    assert s.follow_part(path)
    qtbot.waitUntil(lambda: s.part == path, timeout=TIMEOUT)
    generate(qtbot, window)
    qtbot.waitUntil(lambda: window.readings.isVisible(), timeout=TIMEOUT)
    return s


def click(qtbot, window, button) -> None:
    steps = window.session.history.count()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.session.history.count() == steps + 1, timeout=TIMEOUT)


def test_the_arrows_by_the_chord_lane_flip_the_whole_chart_one_undo_step_each(qtbot, window, tmp_path):
    s = follow_tune(qtbot, window, tmp_path)
    readings, song = window.readings, s.song
    charts = s.chord_alternatives()
    bars = [reading_bars(c, song.n_bars) for c in charts]
    part = song.notes()[PIANO].copy()
    assert readings.label.text() == "1/3" and "Reading 1 of 3" in readings.label.toolTip()
    click(qtbot, window, readings.next)
    assert readings.label.text() == "2/3" and bar_texts(s.song) == bars[1]
    assert window.session.history.undo_text == "Chords: reading 2 of 3"
    assert "your pick" in window.chord_source.label.text()
    lane_names = [name for _, name, *_ in window.arrangement.chord_lane.events]
    assert lane_names == [name for _, name, *_ in _events(bars[1])]  # the chord lane draws the new chart
    click(qtbot, window, readings.next)
    assert readings.label.text() == "3/3" and bar_texts(s.song) == bars[2]
    click(qtbot, window, readings.next)  # round again to the best
    assert readings.label.text() == "1/3" and bar_texts(s.song) == bars[0]
    assert "from your part" in window.chord_source.label.text()
    click(qtbot, window, readings.previous)
    assert readings.label.text() == "3/3"
    assert np.array_equal(s.song.notes()[PIANO], part)  # the musician's part, never touched
    s.undo()
    assert readings.label.text() == "1/3"
    # the keys of Sketch › Next reading
    window.findChild(QAction, "nextReadingAction").trigger()
    qtbot.waitUntil(lambda: readings.label.text() == "2/3", timeout=TIMEOUT)
    assert bar_texts(s.song) == bars[1] and s.history.undo_text == "Chords: reading 2 of 3"


def _events(bars):
    from musicvae_app.ui.chord_lane import chord_events

    return chord_events([(b, True) for b in bars])


def test_a_right_click_on_a_bar_picks_its_chord_from_each_reading(qtbot, window, tmp_path):
    s = follow_tune(qtbot, window, tmp_path)
    song = s.song
    bars = [reading_bars(c, song.n_bars) for c in s.chord_alternatives()]
    bar, index = next((b + 1, i) for b in range(song.n_bars) for i in (1, 2) if bars[i][b] != bars[0][b])
    lane = window.arrangement.chord_lane
    mouse(lane, 4 * (bar - 1) + 1.5, button=Qt.MouseButton.RightButton)
    menu = window.readings.menu
    assert menu is not None and menu.isVisible() and not lane.editor.isVisible()
    texts = [a.text() for a in menu.actions() if a.objectName().startswith("reading_")]
    assert texts == [f"{i + 1}.  {bars[i][bar - 1]}" for i in range(3)]
    checked = [a.objectName() for a in menu.actions() if a.isChecked()]
    assert "reading_1" in checked and f"reading_{index + 1}" not in checked
    steps = s.history.count()
    menu.findChild(QAction, f"reading_{index + 1}").trigger()
    menu.close()
    qtbot.waitUntil(lambda: s.history.count() == steps + 1, timeout=TIMEOUT)
    want = list(bars[0])
    want[bar - 1] = bars[index][bar - 1]
    assert bar_texts(s.song) == want
    assert window.readings.label.text() == ("mix" if want not in bars else f"{bars.index(want) + 1}/3")
    assert np.array_equal(s.song.notes()[PIANO], song.notes()[PIANO])
    # the same menu types the bar's chord in place
    mouse(lane, 4 * (bar - 1) + 1.5, button=Qt.MouseButton.RightButton)
    window.readings.menu.findChild(QAction, "typeChordAction").trigger()
    window.readings.menu.close()
    assert lane.editor.isVisible() and lane.editor.bar == bar and lane.editor.text() == want[bar - 1]
    lane.editor.hide()


def test_harmonize_my_part_and_the_bad_cases_in_the_window(qtbot, window, tmp_path):
    action = window.findChild(QAction, "harmonizeAction")
    assert action.shortcut().toString() == "Ctrl+Shift+H"
    rows = shortcut_rows(window.menuBar())
    assert ("Sketch", "Harmonize my part", "Ctrl+Shift+H") in rows
    assert ("Sketch", "Next reading of my part's chords", "Alt+Shift+Right") in rows
    window.findChild(QAction, "shortcutsAction").trigger()  # Help › Keyboard shortcuts lists them
    table = window.findChild(QDialog, "shortcutsDialog").findChild(QTableWidget, "shortcutsTable")
    listed = {(table.item(r, 1).text(), table.item(r, 2).text()) for r in range(table.rowCount())}
    assert ("Harmonize my part", "Ctrl+Shift+H") in listed
    assert ("Previous reading of my part's chords", "Alt+Shift+Left") in listed
    action.trigger()  # no sketch yet
    assert "no sketch yet" in window.statusBar().currentMessage()
    song = generate(qtbot, window)  # a band with no part of the musician's
    shown = labels(window)
    assert not window.readings.isVisible()
    steps = window.session.history.count()
    action.trigger()
    assert "no part of yours" in window.statusBar().currentMessage()
    window.readings.next.click()  # hidden, but a flip asked for some other way says the same
    assert window.session.song is song and window.session.history.count() == steps and labels(window) == shown
    # a followed part: then the right-click menu offers Harmonize my part and the readings
    s = follow_tune(qtbot, window, tmp_path)
    s.set_chords("| D | D | D | D | D | D | D | D |")  # the musician's own chart, played over the part
    qtbot.waitUntil(lambda: window.readings.label.text() == "–/3", timeout=TIMEOUT)
    mouse(window.arrangement.chord_lane, 2.0, button=Qt.MouseButton.RightButton)
    menu = window.readings.menu
    assert not [a for a in menu.actions() if a.isChecked()]  # the bar plays none of the readings
    steps = s.history.count()
    menu.findChild(QAction, "harmonizeMenuAction").trigger()
    menu.close()
    qtbot.waitUntil(lambda: s.history.count() == steps + 1, timeout=TIMEOUT)
    assert window.readings.label.text() == "1/3" and window.session.history.undo_text == "Harmonize my part"
    assert "3 readings of your part" in window.statusBar().currentMessage()


def test_the_control_fits_beside_the_chart_button_at_1024x600(qtbot, window, tmp_path):
    follow_tune(qtbot, window, tmp_path)
    for size in ((1280, 800), (1024, 600)):
        window.resize(*size)
        QApplication.processEvents()
        readings, chart = window.readings, window.arrangement.chart_button
        left = readings.mapTo(window, QPoint(0, 0))
        right = readings.mapTo(window, QPoint(readings.width(), readings.height()))
        assert readings.isVisible() and right.x() <= chart.mapTo(window, QPoint(0, 0)).x()
        assert right.y() <= window.arrangement.chord_lane.mapTo(window, QPoint(0, 22)).y() + 1 and left.x() > 0
        label = readings.label
        assert label.fontMetrics().horizontalAdvance("mix") <= label.width()
