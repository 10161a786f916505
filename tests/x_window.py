"""The real window in its own process, on whatever QT_QPA_PLATFORM says (xcb on Xvfb, or offscreen).

    python tests/x_window.py census --pack DIR --out DIR   screenshot + the named widgets that are visible
    python tests/x_window.py story  --pack DIR --out DIR   the README's "First sketch in 30 seconds", step by step

Prints one JSON line (prefixed "RESULT ") that tests/test_real_x.py checks. Keys and shortcuts go through
QTest to the active window, as a user's would; nothing calls the window's methods where a key exists.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import Qt, QTimer  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QMessageBox, QSlider, QWidget  # noqa: E402

from musicvae_app.ui.app import make_app  # noqa: E402


def wait_until(app, condition, timeout: float = 120.0) -> bool:
    """Process the app's events until condition() holds (False after `timeout` s), then let it settle ~0.1 s.
    Also tests/x_fit.py's."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        app.processEvents()
        time.sleep(0.01)
    for _ in range(10):
        app.processEvents()
        time.sleep(0.01)
    return True


def visible_widgets(window) -> dict[str, list[int]]:
    """objectName -> [x, y, w, h] in window coordinates, for every named, visible widget."""
    out = {}
    for w in window.findChildren(QWidget):
        name = w.objectName()
        if name and not name.startswith("qt_") and w.isVisible():
            top_left = w.mapTo(window, w.rect().topLeft())
            out[name] = [top_left.x(), top_left.y(), w.width(), w.height()]
    return out


def census(app, window, out: Path) -> dict:
    from musicvae_app.model.pack import load_pack  # noqa: F401  (torch, once the window is up)

    assert wait_until(app, lambda: window.engine is not None), "the pack did not load"
    window.bar.steps.set_value(3)
    window.bar.seed.setText("11")
    window.bar.seed_lock.setChecked(True)
    window.session.set_seed(11)  # typed text alone is not taken until Enter: the same take on both platforms
    window.generate()
    assert wait_until(app, lambda: window.song is not None and not window.worker.busy)
    window.resize(1280, 800)
    wait_until(app, lambda: True)
    png = out / f"window-{app.platformName()}.png"
    window.grab().save(str(png))
    drums = window.lanes.lanes[-1]
    return {
        "platform": app.platformName(),
        "png": str(png),
        "widgets": visible_widgets(window),
        "drum_rows": [int(p) for p in drums.rows],
        "label_px": drums.row_axis.label_height,
    }


def key(app, window, k, mods=Qt.KeyboardModifier.NoModifier) -> None:
    target = QApplication.focusWidget() or window
    QTest.keyClick(target, k, mods)
    app.processEvents()


def story(app, window, out: Path) -> dict:
    """README, "First sketch in 30 seconds", on this display."""
    import mido

    from musicvae_app.sketch.song import DRUMS, LANES

    steps = {}
    # 1. The window opens; the status bar says when the model pack is loaded.
    window.activateWindow()
    steps["1 window active"] = wait_until(app, lambda: QApplication.activeWindow() is window, 20)
    steps["1 pack loaded"] = wait_until(app, lambda: window.engine is not None) and window.pack_label.text().startswith(
        "Pack: "
    )
    # 2. Press Generate (Ctrl+G). Five lanes fill with 32 bars of band.
    key(app, window, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    wait_until(app, lambda: window.song is not None and not window.worker.busy)
    song = window.song
    steps["2 generated"] = song is not None
    steps["2 bars"] = song.n_bars if song is not None else 0
    steps["2 lanes with notes"] = sum(v > 0 for v in song.note_counts().values()) if song is not None else 0
    # 3. Drag Threshold left: busier parts, no new sketch.
    slider = window.findChild(QSlider, "thresholdSlider")
    before = sum(window.song.note_counts().values())
    slider.setFocus()
    for _ in range(5):
        key(app, window, Qt.Key.Key_Left)
    steps["3 busier"] = sum(window.song.note_counts().values()) > before
    steps["3 same probabilities"] = window.song.probs is song.probs or (window.song.probs == song.probs).all()
    window.lanes.setFocus()
    # 4. Regenerate the guitar (Ctrl+2); Ctrl+Z takes it back.
    g = LANES.index("guitar")
    guitar = window.song.probs[g].copy()
    key(app, window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    wait_until(app, lambda: not window.worker.busy and not (window.song.probs[g] == guitar).all())
    steps["4 guitar changed"] = not (window.song.probs[g] == guitar).all()
    key(app, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    steps["4 undone"] = bool((window.song.probs[g] == guitar).all())
    # 5. Space plays (the built-in synth is the default output); Space again stops.
    panel = window.playback
    steps["5 output"] = panel.output_box.currentText()
    key(app, window, Qt.Key.Key_Space)
    wait_until(app, lambda: panel.is_playing or bool(panel.status.text()), 10)
    steps["5 played or said why"] = panel.is_playing or bool(panel.status.toolTip())
    if panel.is_playing:
        key(app, window, Qt.Key.Key_Space)
    steps["5 stopped"] = not panel.is_playing
    for box in window.findChildren(QMessageBox):  # no audio device here: the user reads why and presses OK
        if box.isVisible():
            steps["5 message"] = box.text()
            QTest.keyClick(box, Qt.Key.Key_Return)
    wait_until(app, lambda: QApplication.activeModalWidget() is None, 10)
    steps["5 window active after message"] = wait_until(app, lambda: QApplication.activeWindow() is window, 10)
    # 6. Drag MIDI out (the file the drag carries), and File > Export MIDI (Ctrl+E) through its dialog.
    mime = window.findChild(QWidget, "dragHandle").make_mime()
    drag_path = Path(mime.urls()[0].toLocalFile())
    before_export = set(Path.home().glob("*.mid"))

    def press_enter_in_dialog():  # the dialog offers ~/<sketch>.mid: the user presses Enter
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(100, press_enter_in_dialog)
            return
        QTest.keyClick(dialog, Qt.Key.Key_Return)

    QTimer.singleShot(200, press_enter_in_dialog)
    key(app, window, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    written = sorted(set(Path.home().glob("*.mid")) - before_export)
    export_path = written[0] if written else out / "not-exported.mid"
    steps["6 exported"] = export_path.exists()
    # After the dialog the window has the keyboard again: Ctrl+G still generates (no window manager here).
    steps["6 window active after dialog"] = wait_until(app, lambda: QApplication.activeWindow() is window, 10)
    shown = window.song
    drum_cells = int((window.lanes.lanes[DRUMS].image.image > 0).sum())  # drum steps drawn on screen
    hits = {}
    for name, path in (("drag", drag_path), ("export", export_path)):
        if path.exists():
            mid = mido.MidiFile(str(path))
            hits[name] = sum(m.type == "note_on" and m.velocity > 0 and m.channel == 9 for t in mid.tracks for m in t)
            names = [next((m.name for m in t if m.type == "track_name"), "") for t in mid.tracks[1:]]
            steps[f"6 {name} tracks"] = names
    key(app, window, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    steps["6 ctrl+g after dialog"] = wait_until(app, lambda: window.song is not shown and not window.worker.busy, 60)
    return {"platform": app.platformName(), "steps": steps, "drum_cells": drum_cells, "drum_hits": hits}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=("census", "story"))
    parser.add_argument("--pack", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    app = make_app()
    from musicvae_app.ui.main_window import MainWindow

    window = MainWindow(pack=args.pack, restore="no", data_dir=out / "data")
    window.show()
    QTest.qWaitForWindowExposed(window, 10000)
    result = census(app, window, out) if args.mode == "census" else story(app, window, out)
    print("RESULT " + json.dumps(result, default=str), flush=True)
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
