"""Following a part in the real window (offscreen): the menu item, Shift+drop, the lane header and the label."""

from __future__ import annotations

from jack_fixture import jack_server  # noqa: F401
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from band_files import write_notes
from musicvae_app.sketch.song import LANES

BASS = LANES.index("bass")
TIMEOUT = 60000


def test_shift_drop_follows_a_part_and_the_header_says_it_is_yours(qtbot, window, tmp_path):
    notes = [(2, 33, 36 + bar % 3, 4 * bar + b, 4 * bar + b + 0.5) for bar in range(4) for b in range(4)]
    path = write_notes(tmp_path / "my-bass.mid", notes, tempo=90)
    assert window.findChild(type(window.menuBar().actions()[0]), "followAction") is not None
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    drop = QDropEvent(
        QPointF(200, 200),
        Qt.DropAction.CopyAction | Qt.DropAction.MoveAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.ShiftModifier,
    )
    window.dropEvent(drop)
    assert drop.dropAction() == Qt.DropAction.CopyAction  # never a move of the user's file
    qtbot.waitUntil(lambda: window.session.part == path, timeout=TIMEOUT)
    assert window.primer is None  # followed, not a primer
    assert window.bar.primer.text().startswith("Part: my-bass.mid") and window.bar.tempo.value() == 90
    with qtbot.waitSignal(window.songChanged, timeout=TIMEOUT):
        window.generate()
    assert window.headers[BASS].count.text() == "your part" and "notes" in window.headers[BASS].count.toolTip()
    assert all(h.count.text().endswith(" notes") for i, h in enumerate(window.headers) if i != BASS)
    window.session.stop_following()
    assert window.bar.primer.text() == "Primer: none"


def test_record_a_part_from_a_jack_keyboard_and_the_band_follows(qtbot, window, jack_server):  # noqa: F811
    import time

    import mido
    import rtmidi

    from musicvae_app.playback.ports import RecordingPort

    keys = rtmidi.MidiOut(rtapi=rtmidi.API_UNIX_JACK, name="test-keys")
    keys.open_virtual_port("keys")
    try:
        window.playback.use_output(RecordingPort("clicks"), "clicks")  # the metronome's clicks land here
        window.set_tempo(200)
        dialog = window.record_dialog()
        dialog.refresh()
        assert dialog.input_box.findText("test-keys:keys (JACK)") >= 0
        dialog.input_box.setCurrentText("test-keys:keys (JACK)")
        dialog.lane_box.setCurrentIndex(BASS)
        dialog.record_button.click()
        rec = dialog.recorder
        qtbot.waitUntil(lambda: rec.position_beats >= 0, timeout=10000)
        for beat in range(4):  # quarter notes on the downbeats, an 8th long
            due = rec.downbeat + beat * rec.beat_seconds
            while time.perf_counter() < due:
                qtbot.wait(1)
            keys.send_message(mido.Message("note_on", note=40 + beat, velocity=100).bytes())
            while time.perf_counter() < due + rec.beat_seconds / 2:
                qtbot.wait(1)
            keys.send_message(mido.Message("note_off", note=40 + beat).bytes())
        qtbot.wait(200)
        with qtbot.waitSignal(window.songChanged, timeout=TIMEOUT):
            dialog.record_button.click()
        clicks = [m for m in window.playback.transport.port.messages() if m.channel == 9 and m.type == "note_on"]
        assert len(clicks) >= 4
        song = window.song
        spb = song.steps_per_beat
        got = sorted((p, int(s)) for s, p in zip(*song.notes()[BASS].nonzero()) if s % spb == 0)
        assert got == [(40 + b, b * spb) for b in range(4)]
        assert window.headers[BASS].count.text() == "your part"
        assert window.session.history.undo_text == "Record bass"
    finally:
        keys.close_port()
        keys.delete()


def test_your_part_is_drawn_as_played_and_quantized_from_its_header(qtbot, window, tmp_path):
    from musicvae_app.ui.lanes_view import PLAYED_TICKS

    # a bass line off the grid: 8ths pushed 20 ticks late, with accents
    notes = [(2, 33, 36 + b % 5, b / 2 + 20 / 480, b / 2 + 0.4) for b in range(32)]
    path = write_notes(tmp_path / "late-bass.mid", notes, tempo=100)
    assert window.session.follow_part(path)
    qtbot.waitUntil(lambda: window.session.part == path, timeout=TIMEOUT)
    with qtbot.waitSignal(window.songChanged, timeout=TIMEOUT):
        window.generate()
    header, view = window.headers[BASS], window.lanes.lanes[BASS]
    assert header.quantize.isVisibleTo(header) and not header.density.isVisibleTo(header)
    assert not window.headers[0].quantize.isVisibleTo(window.headers[0])
    song = window.session.song
    cols = song.n_steps * 480 // song.steps_per_beat // PLAYED_TICKS
    assert view.image.image.shape[0] == cols  # drawn on the played notes' own time grid
    starts = sorted({int(c) for c in view._onsets.nonzero()[0]})
    assert starts[:2] == [20 // PLAYED_TICKS, (240 + 20) // PLAYED_TICKS]  # late, as played
    header.quantize.setCurrentIndex(header.quantize.findData("8th"))
    assert window.session.song.performance.quantize == "8th"
    assert window.session.history.undo_text == "Quantize 8th"
    starts = sorted({int(c) for c in window.lanes.lanes[BASS]._onsets.nonzero()[0]})
    assert starts[:2] == [0, 240 // PLAYED_TICKS]  # on the grid now
    window.session.undo()
    assert window.headers[BASS].quantize.currentData() == "off"


def test_the_chord_lane_says_whose_chords_rule_marks_clashes_and_the_key_is_the_part_s(qtbot, window, tmp_path):
    triads = {"G": (55, 59, 62), "D": (50, 54, 57), "Em": (52, 55, 59), "C": (48, 52, 55)}
    notes = [
        (0, 0, p, 4 * bar + beat, 4 * bar + beat + 2)
        for bar, chord in enumerate(["G", "D", "Em", "C"])
        for beat in (0, 2)
        for p in triads[chord]
    ]
    path = write_notes(tmp_path / "comp.mid", notes, tempo=100)
    s = window.session
    s.set_chords("G D Am C")  # typed first: bar 3 (Am) clashes with the part's Em
    assert s.follow_part(path)
    qtbot.waitUntil(lambda: s.part == path, timeout=TIMEOUT)
    assert window.bar.key.currentText().startswith("From your part") and not window.bar.key.isEnabled()
    with qtbot.waitSignal(window.songChanged, timeout=TIMEOUT):
        window.generate()
    source = window.chord_source
    assert source.isVisibleTo(window) and "from your part" in source.label.text()
    assert source.clashes == [3] and "clashes with your part in bars 3" in source.label.text()
    assert list(source.marks.opts["x0"]) == [8]  # bar 3 marked on the chord lane
    assert source.over.isVisibleTo(window) and not source.over.isChecked()
    source.over.setChecked(True)
    assert s.chords_over_part is True
    with qtbot.waitSignal(window.songChanged, timeout=TIMEOUT):
        window.generate()
    assert "your chart, played over your part" in source.label.text()
    s.stop_following()
    assert window.bar.key.isEnabled() and not window.bar.key.currentText().startswith("From your part")
