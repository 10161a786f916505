"""Run slow calls (Engine, sketch saves) on a thread pool and hand results back on the UI thread."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


def slot(fn: Callable, nargs: int = 0) -> Callable:
    """A slot that calls fn with the first `nargs` signal arguments and returns None (slots have no result)."""

    def call(*args) -> None:
        fn(*args[:nargs])

    return call


class JobSignals(QObject):
    """What a Job reports, delivered on the thread the signals object lives on (the UI thread)."""

    done = Signal(object, float)  # result, seconds
    failed = Signal(object)  # the exception


class Job(QRunnable):
    """fn() on a pool thread; its result (and seconds) or its exception through `signals`."""

    def __init__(self, fn: Callable[[], object], signals: JobSignals):
        super().__init__()
        self.fn, self.signals = fn, signals

    def run(self) -> None:
        start = time.perf_counter()
        try:
            result = self.fn()
        except Exception as exc:  # any failure goes to the window as a message, never a crash
            self.signals.failed.emit(exc)
            return
        self.signals.done.emit(result, time.perf_counter() - start)


class Worker(QObject):
    """One job at a time: `submit` returns False (and changes nothing) while a job is running."""

    busyChanged = Signal(bool)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self._busy = False
        self._signals: JobSignals | None = None

    @property
    def busy(self) -> bool:
        return self._busy

    def submit(
        self,
        fn: Callable[[], object],
        on_done: Callable[[object, float], None],
        on_error: Callable[[Exception], None],
    ) -> bool:
        if self._busy:
            return False
        signals = JobSignals()  # lives on the UI thread, so its slots run there
        signals.done.connect(lambda result, secs: self._finish(on_done, result, secs))
        signals.failed.connect(lambda exc: self._finish(on_error, exc))
        self._signals = signals
        self._set_busy(True)
        self.pool.start(Job(fn, signals))
        return True

    def _finish(self, callback, *args) -> None:
        self._signals = None
        self._set_busy(False)
        callback(*args)

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.busyChanged.emit(busy)

    def wait(self, msecs: int = -1) -> bool:
        return self.pool.waitForDone(msecs)
