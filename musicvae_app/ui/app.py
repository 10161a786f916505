"""Start the sketchpad: QApplication, a dark theme, the window. `musicvae-app` and `python -m musicvae_app`."""

from __future__ import annotations

import gc
import os
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer
from PySide6.QtGui import QColor, QIcon, QPalette
from PySide6.QtWidgets import QApplication

from ..resources import icons_dir
from .options import parser, start_engine_process
from .worker import slot

SELF_TEST_TIMEOUT_MS = 600_000  # a self-test that hangs (a failed generation shows a dialog) fails instead

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
    # An unticked box must show on the dark theme: its square is lighter than the window, with a light rim.
    boxes = QPalette(p)
    boxes.setColor(QPalette.ColorRole.Base, QColor("#4a505d"))
    boxes.setColor(QPalette.ColorRole.Window, QColor("#8a909c"))  # Fusion draws the rim from it
    boxes.setColor(QPalette.ColorRole.WindowText, QColor("#e4e6eb"))
    app.setPalette(boxes, "QCheckBox")
    app.setStyleSheet(STYLE)


def make_app(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName("musicvae-app")
    app.setOrganizationName("musicvae-app")
    app.setDesktopFileName("musicvae-app")  # Wayland compositors match the window to musicvae-app.desktop
    app.setWindowIcon(app_icon())
    apply_style(app)
    return app


def app_icon() -> QIcon:
    """The icon from resources/icons in every shipped size; Qt picks the closest for each use."""
    icon = QIcon()
    for png in sorted(icons_dir().glob("musicvae-app-*.png")):
        icon.addFile(str(png))
    return icon


_START_HERE = object()


def main(argv: list[str] | None = None, engine_process=_START_HERE, start: float | None = None) -> int:
    """The window. `engine_process`: the engine process already started (ui/launch.py starts it before Qt
    loads), None for none (the window loads the engine itself); left out, it is started here."""
    start = time.perf_counter() if start is None else start
    args = parser().parse_args(argv)
    if engine_process is _START_HERE:
        engine_process = start_engine_process(args.pack)
    try:
        return _run(args, engine_process, start)
    finally:
        if engine_process is not None:
            engine_process.close()  # never left behind, however the window ended (its owner closed it already)


def _run(args, engine_process, start: float) -> int:
    app = make_app()
    from .main_window import MainWindow

    restore = "no" if args.self_test else None
    # The self-test keeps its settings and autosave in a scratch folder: the user's last sketch stays as it was.
    scratch = tempfile.TemporaryDirectory(prefix="musicvae-self-test-") if args.self_test else None
    window = start_window(
        MainWindow,
        pack=args.pack,
        restore=restore,
        data_dir=scratch.name if scratch else None,
        engine_process=engine_process,
    )
    window.show()
    QTimer.singleShot(0, gc.enable)  # ui/launch.py turned the collector off while the window was built
    ready = os.environ.get("MUSICVAE_EXIT_WHEN_READY")  # startup benchmark: 'window' or 'engine'
    if ready == "window":
        QTimer.singleShot(0, slot(lambda: (print(f"ready {time.perf_counter() - start:.3f}", flush=True), app.quit())))
    elif ready == "engine" or args.self_test:
        _exit_when_engine_ready(app, window, start, generate=args.self_test)
    code = app.exec()
    window.close()  # however the loop ended, close cleanly: settings saved, autosave kept as the last sketch
    if scratch:
        scratch.cleanup()
    return code


def start_window(
    window_class, pack=None, restore: str | None = None, data_dir: str | Path | None = None, engine_process=None
):
    """The main window, whatever the data folder holds.

    The window itself sets damaged sketches aside and runs without autosave on a folder it cannot
    write. Should opening the last or a crashed sketch still fail in a way nobody foresaw, every
    sketch in the data folder is moved to recovered/ and the window starts clean, saying so.
    """
    from .. import userdata

    folder = Path(data_dir) if data_dir is not None else userdata.data_dir()
    repair_settings(folder)
    more = {"engine_process": engine_process} if engine_process is not None else {}
    try:
        return window_class(pack=pack, restore=restore, data_dir=data_dir, **more)
    except Exception as exc:  # a start that fails must never lock the user out: start again, clean
        moved = set_aside_all(folder)
        print(f"musicvae-app: start-up failed ({type(exc).__name__}: {exc}); starting clean", file=sys.stderr)
        window = window_class(pack=pack, restore="no", data_dir=data_dir, **more)
        where = f"; {moved} file(s) were moved to {folder / 'recovered'}" if moved else ""
        window.statusBar().showMessage(f"Started clean after an error ({type(exc).__name__}){where}", 30000)
        return window


def _settings_checks() -> dict:
    """A check for each key of the window's settings: the generation settings through the spec's own validation."""
    from .. import limits
    from .prefs import GENERATION_KEYS, check_setting

    checks = {key: (lambda v, key=key: check_setting(key, v)) for key in GENERATION_KEYS}
    return {
        **checks,
        "seed": lambda v: v if v == "" else limits.check_seed(v),
        "seed_lock": lambda v: v if isinstance(v, (str, bool)) else limits.check_int("seed_lock", v, 0, 1),
        "geometry": lambda v: v if isinstance(v, QByteArray) else limits.check_int("geometry", None, 0, 0),
    }


def repair_settings(folder: Path) -> list[str]:
    """Drop the window settings in folder/settings.ini that the window could not use (hand-edited or damaged).

    The window then starts with its defaults for those; returns the keys dropped.
    """
    from ..errors import MusicVAEError

    path = folder / "settings.ini"
    if not path.is_file():
        return []
    settings = QSettings(str(path), QSettings.Format.IniFormat)
    dropped = []
    for key, check in _settings_checks().items():
        if not settings.contains(key):
            continue
        try:
            check(settings.value(key))
        except (MusicVAEError, TypeError, ValueError):
            settings.remove(key)
            dropped.append(key)
    settings.sync()
    return dropped


def set_aside_all(folder: Path) -> int:
    """Move last.mvsketch, every session autosave and settings.ini in `folder` to recovered/; returns how many moved."""
    from ..sketch import sketchfile

    moved = 0
    sessions = sorted((folder / "sessions").glob("*" + sketchfile.SUFFIX)) if (folder / "sessions").is_dir() else []
    paths = [folder / ("last" + sketchfile.SUFFIX), *sessions, folder / "settings.ini"]
    for path in paths:
        try:
            if path.exists():
                (folder / "recovered").mkdir(exist_ok=True)
                os.replace(path, folder / "recovered" / f"{path.stem}-{int(time.time() * 1000)}{path.suffix}")
                moved += 1
        except OSError:
            continue
    return moved


def _exit_when_engine_ready(app, window, start: float, generate: bool) -> None:
    def ready():
        print(f"engine {time.perf_counter() - start:.3f} {window.engine.device_name}", flush=True)
        if generate:
            window.songChanged.connect(slot(lambda song: app.exit(_check_export(window, song)), 1))
            window.generate()
        else:
            app.quit()

    if window.engine is not None:
        QTimer.singleShot(0, ready)
    else:
        window.engineReady.connect(ready)
    # Queued: the worker drops `busy` before it runs the job's callback, which is what sets the error.
    window.worker.busyChanged.connect(slot(lambda: _exit_on_error(app, window)), Qt.ConnectionType.QueuedConnection)
    if generate:
        QTimer.singleShot(
            SELF_TEST_TIMEOUT_MS, slot(lambda: (print(f"self-test timed out: {window.last_error}"), app.exit(1)))
        )


def _exit_on_error(app, window) -> None:
    """A pack that does not load, or a generation that fails, ends the run with its message and exit code 1."""
    error = window.engine_error or window.last_error
    if error and not window.worker.busy:
        print(f"error: {error}", file=sys.stderr, flush=True)
        app.exit(1)


def memory_line(engine) -> str:
    """Peak resident memory of the window's process and, when the engine runs in its own, of that one."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    process = getattr(engine, "process", None) if getattr(engine, "remote", False) else None
    other = process.peak_rss_mb() if process is not None else None
    where = f"engine process {other:.0f} MB" if other is not None else "engine in the window"
    return f"memory: window {own:.0f} MB, {where}"


def _check_export(window, song) -> int:
    """Export the sketch to a temp folder and read it back with mido: 0 when it is a type-1 file with every note."""
    import mido

    from ..sketch.midi import lane_notes
    from ..sketch.song import LANES

    print(f"song {song.note_counts()}", flush=True)
    expected = [len(lane_notes(song, lane)) for lane in range(len(LANES))]
    with tempfile.TemporaryDirectory(prefix="musicvae-self-test-") as tmp:
        path = window.export_midi(Path(tmp) / "self-test.mid")
        if path is None:
            print(f"self-test export failed: {window.last_error}", flush=True)
            return 1
        mid = mido.MidiFile(str(path))
        notes = sum(msg.type == "note_on" and msg.velocity > 0 for track in mid.tracks for msg in track)
    tracks = 1 + len(song.lineup)  # the conductor, then one per lane of the band in lane order (empty ones too)
    ok = mid.type == 1 and len(mid.tracks) == tracks and notes == sum(expected) > 0
    verdict = "ok" if ok else "FAILED"
    print(
        f"midi type {mid.type} tracks {len(mid.tracks)}/{tracks} notes {notes}/{sum(expected)}: {verdict}", flush=True
    )
    print(memory_line(window.engine), flush=True)
    return 0 if ok else 1
