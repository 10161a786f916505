"""Start the sketchpad: QApplication, a dark theme, the window. `musicvae-app` and `python -m musicvae_app`."""

from __future__ import annotations

import argparse
import os
import sys
import time

from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from .worker import slot

STYLE = """
QWidget { font-size: 10pt; }
QLabel[role="field"] { color: #aab0bc; }
QLabel[role="dim"] { color: #8a909c; font-size: 9pt; }
#generateBar { background: #252830; border-bottom: 1px solid #111; }
#generateButton { font-size: 13pt; font-weight: bold; background: #3d7be0; color: white; border-radius: 6px; }
#generateButton:hover { background: #4c8bf0; }
#generateButton:pressed { background: #2f67c4; }
#dragHandle { background: #30343d; border: 1px dashed #7a8190; border-radius: 4px; padding: 2px 8px; }
QFrame[objectName^="header_"] { background: #23262d; }
QToolButton:checked { background: #3d7be0; color: white; }
QToolButton[objectName^="mute_"]:checked { background: #c0392b; }
QToolButton[objectName^="solo_"]:checked { background: #d4a017; color: black; }
QStatusBar QLabel { color: #aab0bc; }
"""


def apply_style(app: QApplication) -> None:
    """Fusion with a dark palette: notes stand out on a dark roll, and every platform looks the same."""
    app.setStyle("Fusion")
    p = QPalette()
    for role, colour in (
        (QPalette.ColorRole.Window, "#2b2e36"),
        (QPalette.ColorRole.WindowText, "#e4e6eb"),
        (QPalette.ColorRole.Base, "#1f2228"),
        (QPalette.ColorRole.AlternateBase, "#2b2e36"),
        (QPalette.ColorRole.Text, "#e4e6eb"),
        (QPalette.ColorRole.Button, "#353943"),
        (QPalette.ColorRole.ButtonText, "#e4e6eb"),
        (QPalette.ColorRole.Highlight, "#3d7be0"),
        (QPalette.ColorRole.HighlightedText, "#ffffff"),
        (QPalette.ColorRole.ToolTipBase, "#353943"),
        (QPalette.ColorRole.ToolTipText, "#e4e6eb"),
        (QPalette.ColorRole.PlaceholderText, "#7d8390"),
    ):
        p.setColor(role, QColor(colour))
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor("#6c717c"))
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor("#6c717c"))
    app.setPalette(p)
    app.setStyleSheet(STYLE)


def make_app(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName("musicvae-app")
    app.setOrganizationName("musicvae-app")
    apply_style(app)
    return app


def main(argv: list[str] | None = None) -> int:
    start = time.perf_counter()
    parser = argparse.ArgumentParser(prog="musicvae-app", description="The musicvae band sketchpad window")
    parser.add_argument("--pack", help="model pack folder (default: the bundled default pack or $MUSICVAE_PACK)")
    parser.add_argument("--self-test", action="store_true", help="open, load the pack, generate once, exit")
    args = parser.parse_args(argv)
    app = make_app()
    from .main_window import MainWindow

    restore = "no" if args.self_test else None
    window = MainWindow(pack=args.pack, restore=restore)
    window.show()
    ready = os.environ.get("MUSICVAE_EXIT_WHEN_READY")  # startup benchmark: 'window' or 'engine'
    if ready == "window":
        QTimer.singleShot(0, slot(lambda: (print(f"ready {time.perf_counter() - start:.3f}", flush=True), app.quit())))
    elif ready == "engine" or args.self_test:
        _exit_when_engine_ready(app, window, start, generate=args.self_test)
    code = app.exec()
    window.close()  # however the loop ended, close cleanly: settings saved, autosave kept as the last sketch
    return code


def _exit_when_engine_ready(app, window, start: float, generate: bool) -> None:
    def ready():
        print(f"engine {time.perf_counter() - start:.3f} {window.engine.device_name}", flush=True)
        if generate:
            window.songChanged.connect(
                slot(lambda song: (print(f"song {song.note_counts()}", flush=True), app.quit()), 1)
            )
            window.generate()
        else:
            app.quit()

    if window.engine is not None:
        QTimer.singleShot(0, ready)
    else:
        window.engineReady.connect(ready)
    window.worker.busyChanged.connect(slot(lambda: window.engine_error and app.exit(1)))
