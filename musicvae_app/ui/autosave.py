"""Never lose a sketch: debounced atomic autosaves per running window, and crash detection at start.

Each window holds a QLockFile beside its autosave (sessions/<id>.lock + <id>.mvsketch). A clean
close turns its autosave into last.mvsketch. An autosave whose lock nobody holds any more belongs
to a window that crashed or was killed: the next start offers to restore it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject, QThreadPool, QTimer

from .. import sketchfile
from ..sketchfile import Sketch
from .worker import _Job, _Signals

DEBOUNCE_MS = 800
LAST = "last" + sketchfile.SUFFIX


class Autosave(QObject):
    def __init__(self, folder: Path, snapshot: Callable[[], Sketch | None], parent: QObject | None = None):
        super().__init__(parent)
        self.folder = folder
        self.sessions = folder / "sessions"
        self.sessions.mkdir(parents=True, exist_ok=True)
        self.snapshot = snapshot
        stem = f"{os.getpid()}-{int(time.time() * 1000)}"
        self.path = self.sessions / (stem + sketchfile.SUFFIX)
        self.lock = QLockFile(str(self.sessions / f"{stem}.lock"))
        self.lock.setStaleLockTime(0)  # only a dead owner makes a lock stale, never its age
        self.lock.tryLock(0)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)  # saves run one after another, in order
        self.timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self.timer.timeout.connect(self.save_now)
        self.saves = 0
        self.last_error: Exception | None = None
        self._signals: list[_Signals] = []

    @property
    def last_path(self) -> Path:
        return self.folder / LAST

    def schedule(self) -> None:
        """Save a moment after the last change (debounced)."""
        self.timer.start()

    def save_now(self) -> None:
        """Save the current sketch on the save thread."""
        self.timer.stop()
        sketch = self.snapshot()
        if sketch is None:
            return
        signals = _Signals()
        signals.done.connect(lambda *_: self._saved(signals, None))
        signals.failed.connect(lambda exc: self._saved(signals, exc))
        self._signals.append(signals)
        self.pool.start(_Job(lambda: sketchfile.save(sketch, self.path), signals))

    def _saved(self, signals: _Signals, error: Exception | None) -> None:
        self._signals.remove(signals)
        self.saves += error is None
        self.last_error = error

    def flush(self) -> None:
        """Write anything pending now and wait for it."""
        if self.timer.isActive():
            self.save_now()
        self.pool.waitForDone()

    def close_clean(self) -> None:
        """On a normal close: the autosave becomes last.mvsketch and the lock goes."""
        self.flush()
        if self.path.exists():
            os.replace(self.path, self.last_path)
        self.lock.unlock()

    def crashed(self) -> list[Path]:
        """Autosaves of windows that died without closing, newest first."""
        found = []
        for path in self.sessions.glob("*" + sketchfile.SUFFIX):
            if path == self.path:
                continue
            lock = QLockFile(str(path.with_suffix(".lock")))
            lock.setStaleLockTime(0)
            if lock.tryLock(0):  # nobody holds it: its window is gone (a stale lock is taken over)
                lock.unlock()
                found.append(path)
        return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)

    def set_aside(self, paths: list[Path]) -> Path:
        """Move crash autosaves the user did not restore to recovered/, kept rather than deleted."""
        folder = self.folder / "recovered"
        folder.mkdir(exist_ok=True)
        for path in paths:
            os.replace(path, folder / path.name)
        return folder
