"""Never lose a sketch: atomic autosaves per running window with a maximum wait, and crash detection at start.

Each window holds a QLockFile beside its autosave (sessions/<id>.lock + <id>.mvsketch). A clean
close turns its autosave into last.mvsketch. With several windows on one data folder, a close that
finds a last.mvsketch another window wrote since this one started first moves that one to
recovered/closed-<time>.mvsketch (under last.lock, so two closes at once cannot cross): every closed
window's sketch is kept. When recovered/ cannot take that file (read-only, the disk full, a file in its
place), nothing is replaced: the close is refused once with a message (`blocked`) saying what to do, and
a second close leaves this window's sketch in sessions/, offered back at the next start. An autosave whose
lock nobody holds any more belongs to a window that crashed or was killed: the next start offers to restore it.
Sketches that arrive in recovered/ are told about once, at the next start (`recovered_news`, recovered.told).

A change is on disk within MAX_WAIT_MS however busy the user is (the quiet-time delay restarts on
every change, but never past the maximum). A failed save (a full or read-only disk) is reported
through `problem` and retried with a growing delay; writes are atomic, so the last good file is
never replaced by a broken one. A damaged autosave or last sketch is moved to recovered/ at start,
with a notice, so it can never lock the user out. A data folder we cannot write turns autosave off,
said in `notice`, and the window still runs.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject, QThreadPool, QTimer, Signal

from ..atomic import atomic_write, clean_stale_temps, pid_alive
from ..sketch import sketchfile
from ..sketch.sketchfile import Sketch, SketchError
from .worker import Job, JobSignals

DEBOUNCE_MS = 800
MAX_WAIT_MS = 3000  # a change waits at most this long for the user to pause
RETRY_MS = (2000, 5000, 15000, 30000)  # after a failed save: 2 s, 5 s, 15 s, then every 30 s
CHECK_AT_START = 16  # crash autosaves opened at start to check them, newest first
LAST = "last" + sketchfile.SUFFIX
RECOVERED = "recovered"
TOLD = "recovered.told"  # beside recovered/: the names of the sketches in it a window has told about


def rescue_dir() -> Path:
    """Where a sketch goes when the data folder cannot take it at close: the system's temp folder."""
    return Path(tempfile.gettempdir()) / "musicvae-app-rescue"


def writable_folder(folder: Path) -> OSError | None:
    """None when `folder` exists (created if missing) and takes a small file; else the error that says why not.

    The test file is this call's own (pid and a random part in its name): two windows starting at once on one
    folder once shared `.write-test`, and the one whose unlink came second read the other's removal as an
    unwritable folder, turned autosave off and closed without the folder lock, replacing the other's sketch."""
    probe = folder / f".write-test-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write(probe, b"ok")
        probe.unlink(missing_ok=True)
    except OSError as exc:
        return exc
    return None


class Autosave(QObject):
    problem = Signal(str)  # a failed save, a retry that worked, a file set aside: for the status bar

    def __init__(self, folder: Path, snapshot: Callable[[], Sketch | None], parent: QObject | None = None):
        super().__init__(parent)
        self.folder = Path(folder)
        self.sessions = self.folder / "sessions"
        self.snapshot = snapshot
        stem = f"{os.getpid()}-{int(time.time() * 1000)}"
        self.path = self.sessions / (stem + sketchfile.SUFFIX)
        self.notices: list[str] = []  # what start-up changed or found, for the window to show
        error = writable_folder(self.sessions)
        full = error is not None and error.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))
        self.enabled = error is None or full  # a full disk may have room again later: keep trying
        if full:
            self.notices.append(f"The disk holding '{self.folder}' is full: autosave will keep trying")
        elif error is not None:
            why = error.strerror or str(error)
            self.notices.append(f"Autosave is off: the data folder '{self.folder}' cannot be written ({why})")
        for place in (self.folder, self.sessions, self.folder / "drag"):  # temps of killed saves and exports
            clean_stale_temps(place)
        self._last_seen = _identity(self.last_path)  # last.mvsketch as this window found it
        self.lock = QLockFile(str(self.sessions / f"{stem}.lock"))
        self.lock.setStaleLockTime(0)  # only a dead owner makes a lock stale, never its age
        if self.enabled:
            self.lock.tryLock(0)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)  # saves run one after another, in order
        self.timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self.timer.timeout.connect(self.save_now)
        self.saves = 0
        self.failures = 0  # consecutive failed saves
        self.last_error: Exception | None = None
        self._pending_since: float | None = None  # monotonic time of the oldest unsaved change
        self.blocked: str | None = None  # why the last close_clean(force=False) changed nothing
        self.closed: tuple[Path | None] | None = None  # (where the sketch went) once a close has gone through
        self._signals: list[JobSignals] = []

    @property
    def last_path(self) -> Path:
        return self.folder / LAST

    @property
    def notice(self) -> str | None:
        """Everything start-up has to say, in one line (None when all is well)."""
        return "; ".join(self.notices) or None

    def schedule(self) -> None:
        """Save a moment after the last change, but never later than MAX_WAIT_MS after the first unsaved one."""
        if not self.enabled:
            return
        now = time.monotonic()
        if self._pending_since is None:
            self._pending_since = now
        if self.failures:
            if not self.timer.isActive():
                self.timer.start(self._retry_ms())
            return
        left = MAX_WAIT_MS - (now - self._pending_since) * 1000
        self.timer.start(int(max(0, min(DEBOUNCE_MS, left))))

    def _retry_ms(self) -> int:
        return RETRY_MS[min(self.failures, len(RETRY_MS)) - 1]

    def save_now(self) -> None:
        """Save the current sketch on the save thread."""
        self.timer.stop()
        self._pending_since = None
        if not self.enabled:
            return
        sketch = self.snapshot()
        if sketch is None:
            return
        signals = JobSignals()
        signals.done.connect(lambda *_: self._saved(signals, None))
        signals.failed.connect(lambda exc: self._saved(signals, exc))
        self._signals.append(signals)
        self.pool.start(Job(lambda: sketchfile.save(sketch, self.path), signals))

    def _saved(self, signals: JobSignals, error: Exception | None) -> None:
        self._signals.remove(signals)
        self.last_error = error
        if error is None:
            self.saves += 1
            if self.failures:
                self.problem.emit("Autosave works again: the sketch is saved")
            self.failures = 0
            return
        self.failures += 1
        why = error.strerror if isinstance(error, OSError) and error.strerror else str(error) or type(error).__name__
        retry = self._retry_ms()
        self.problem.emit(f"Autosave failed ({why}); retrying in {retry // 1000} s. Use File > Save As to keep a copy")
        if self._pending_since is None:
            self._pending_since = time.monotonic()
        self.timer.start(retry)

    def flush(self) -> None:
        """Write anything pending now and wait for it."""
        if self.timer.isActive():
            self.save_now()
        self.pool.waitForDone()

    @property
    def recovered(self) -> Path:
        return self.folder / RECOVERED

    def close_clean(self, force: bool = True) -> Path | None:
        """On a normal close: the sketch becomes last.mvsketch and the lock goes. Returns where it went.

        When the autosave could not be written, the sketch is saved straight to last.mvsketch, and when
        that fails too, to rescue_dir() (said on stderr): a close never drops a sketch the window holds.

        Another window's last.mvsketch is never replaced: when it cannot be moved to recovered/ and
        `force` is False, nothing changes, `blocked` says why and what to do, and None is returned (the
        window stays open). With `force`, this window's sketch stays in sessions/ (the next start offers it).
        """
        if self.closed is not None:  # closed already (a window may get a second close event): done
            return self.closed[0]
        self.flush()
        self.blocked = None
        with _folder_lock(self.folder / "last.lock", self.enabled):
            where = self._close_locked(force)
        if self.blocked is None:
            self.closed = (where,)
        return where

    def _close_locked(self, force: bool) -> Path | None:
        holds = self.path.exists() or self.snapshot() is not None
        kept = self._keep_other_windows_last() if holds else None
        if isinstance(kept, OSError):
            why = kept.strerror or str(kept)
            if not force:
                self.blocked = (
                    f"This window stays open: another window's last sketch could not be moved to "
                    f"'{self.recovered}' ({why}), and closing would replace it. Make '{self.recovered}' writable "
                    f"(or free space on its disk) and close again, or use File > Save sketch as…. Closing again "
                    f"now keeps this window's sketch in '{self.sessions}'; the next start offers it back."
                )
                return None
            where = self._save_somewhere((self.path, rescue_dir() / self._rescue_name()))
            if where is not None:
                print(
                    f"musicvae-app: {self.recovered} could not be written ({why}); {self.last_path} was left as it "
                    f"was and this window's sketch was kept as {where} (the next start offers it back)",
                    file=sys.stderr,
                )
            if self.enabled:
                self.lock.unlock()
            return where
        where = None
        if self.enabled and self.last_error is None and self.path.exists():
            try:
                os.replace(self.path, self.last_path)
                where = self.last_path
            except OSError:
                where = None
        if where is None:
            where = self._save_somewhere((self.last_path, rescue_dir() / self._rescue_name()))
        if self.enabled:
            self.lock.unlock()
        return where

    def _keep_other_windows_last(self) -> Path | OSError | None:
        """A last.mvsketch written by another window since this one started goes to recovered/ first.

        Returns where it went, None when there was nothing to keep, or the error that stopped the move
        (the file is then still last.mvsketch, untouched)."""
        found = _identity(self.last_path)
        if found is None or found == self._last_seen:
            return None
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(found[1] / 1e9))
        folder = self.recovered
        try:
            folder.mkdir(exist_ok=True)
            target = folder / f"closed-{stamp}{sketchfile.SUFFIX}"
            n = 1
            while target.exists():
                n += 1
                target = folder / f"closed-{stamp}-{n}{sketchfile.SUFFIX}"
            os.replace(self.last_path, target)
        except OSError as exc:
            return exc
        print(f"musicvae-app: another window's last sketch was kept as {target}", file=sys.stderr)
        return target

    @staticmethod
    def _rescue_name() -> str:
        return f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}{sketchfile.SUFFIX}"

    def _save_somewhere(self, targets: tuple[Path, ...]) -> Path | None:
        """The window's sketch to the first of `targets` that takes it (the autosave itself when it is good)."""
        if self.path in targets and self.enabled and self.last_error is None and self.path.exists():
            return self.path  # already there, up to date (flushed)
        sketch = self.snapshot()
        if sketch is None:
            return None
        for target in targets:
            try:
                path = sketchfile.save(sketch, target)
            except OSError:
                continue
            if target.parent not in (self.folder, self.sessions):
                print(
                    f"musicvae-app: the data folder could not be written; the sketch was saved to {path}",
                    file=sys.stderr,
                )
            if target != self.path:
                try:
                    self.path.unlink(missing_ok=True)
                except OSError:
                    pass
            return path
        print("musicvae-app: the sketch could not be saved anywhere at close", file=sys.stderr)
        return None

    def crashed(self) -> list[Path]:
        """Autosaves of windows that died without closing, newest first; damaged ones are set aside first."""
        dead = self._dead_sessions()
        moved = self.set_aside_damaged(dead)
        return [p for p in dead if p not in moved]

    def _sessions(self) -> list[Path]:
        try:
            return [p for p in self.sessions.glob("*" + sketchfile.SUFFIX) if p != self.path]
        except OSError:
            return []

    def _dead_sessions(self) -> list[Path]:
        """Session autosaves whose window is gone: its process has ended, or nobody holds its lock."""
        found = []
        for path in self._sessions():
            pid = path.stem.split("-", 1)[0]
            lock_path = path.with_suffix(".lock")
            if pid.isdigit() and not pid_alive(int(pid)):
                try:
                    lock_path.unlink(missing_ok=True)  # its owner is gone: the lock is litter
                except OSError:
                    pass
                found.append(path)
                continue
            lock = QLockFile(str(lock_path))
            lock.setStaleLockTime(0)
            if lock.tryLock(0):  # nobody holds it: its window is gone (a stale lock is taken over)
                lock.unlock()
                found.append(path)
        return sorted(found, key=_mtime, reverse=True)

    def set_aside_damaged(self, dead: list[Path] | None = None) -> list[Path]:
        """Move a damaged last.mvsketch or dead window's autosave to recovered/, with a notice; returns the paths moved.

        Only the newest CHECK_AT_START crash autosaves are opened to check them (a folder of thousands
        would take minutes); the window sets the others aside unopened as unrestored.
        """
        dead = self._dead_sessions() if dead is None else dead
        candidates = ([self.last_path] if self.last_path.exists() else []) + dead[:CHECK_AT_START]
        moved = []
        for path in candidates:
            try:
                sketchfile.load(path)
                continue
            except SketchError as exc:
                why = str(exc)
            folder = self.set_aside([path])
            if path.exists():
                self.notices.append(f"A damaged sketch could not be set aside ({folder} cannot be written): {why}")
                continue
            moved.append(path)
            self.notices.append(f"A damaged sketch was set aside in {folder} and not opened: {why}")
        return moved

    def recovered_news(self) -> list[Path]:
        """Sketches in recovered/ that no window has told about yet (see mark_told), newest first."""
        try:
            told = set((self.folder / TOLD).read_text(encoding="utf-8").splitlines())
        except (OSError, UnicodeError):
            told = set()
        return sorted((p for p in self.recovered_sketches() if p.name not in told), key=_mtime, reverse=True)

    def mark_told(self) -> bool:
        """Remember every sketch now in recovered/ as told about; False when the data folder cannot take the list."""
        names = "".join(p.name + "\n" for p in sorted(self.recovered_sketches()))
        if not names and not (self.folder / TOLD).exists():
            return True
        try:
            atomic_write(self.folder / TOLD, names.encode("utf-8"))
        except OSError:
            return False
        return True

    def recovered_sketches(self) -> list[Path]:
        """The sketch files in recovered/ (none when it is missing or cannot be read)."""
        try:
            return [p for p in self.recovered.glob("*" + sketchfile.SUFFIX) if p.is_file()]
        except OSError:
            return []

    def set_aside(self, paths: list[Path]) -> Path:
        """Move sketches the user did not restore (or that are damaged) to recovered/, kept rather than deleted.

        A file that cannot be moved (recovered/ cannot be made) stays where it is; this never raises.
        """
        folder = self.folder / RECOVERED
        try:
            folder.mkdir(exist_ok=True)
        except OSError:
            return folder
        for path in paths:
            target = folder / path.name
            if target.exists():
                target = folder / f"{path.stem}-{int(time.time() * 1000)}{path.suffix}"
            try:
                os.replace(path, target)
            except OSError:
                continue
        return folder


@contextlib.contextmanager
def _folder_lock(path: Path, wanted: bool = True):
    """One close at a time per data folder: an OS lock on `path` (flock; QLockFile where there is none),
    waited for up to 10 s; a lock that cannot be had (a read-only folder) is gone without."""
    if not wanted:
        yield
        return
    try:
        import fcntl
    except ImportError:
        lock = QLockFile(str(path))
        lock.setStaleLockTime(0)
        locked = lock.tryLock(10000)
        try:
            yield
        finally:
            if locked:
                lock.unlock()
        return
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        yield
        return
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.02)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _identity(path: Path) -> tuple[int, int, int] | None:
    """(inode, mtime in ns, size) of a file, None when there is none: a file replaced since is another."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
