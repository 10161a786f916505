"""What a Session says and the long work it runs: its listeners, and the engine jobs through an executor.

`Events` holds the listeners (plain callables `listener(event, *args)`) and the last error said.
`Jobs` runs engine work through the executor it is handed: anything with
`submit(fn, on_done(result, seconds), on_error(exc)) -> bool` and a `busy` attribute. The window passes its
worker thread; `SyncExecutor` runs the job at once (tests, scripts, the command line). A job asked for
while the executor is busy is queued (one deep) and `run_pending` starts it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ..errors import MusicVAEError, disk_words

Listener = Callable[..., None]


class SyncExecutor:
    """Runs each job at once on the calling thread: for tests, scripts and the command line."""

    busy = False

    def submit(self, fn: Callable[[], object], on_done, on_error) -> bool:
        start = time.perf_counter()
        self.busy = True
        try:
            result = fn()
        except Exception as exc:  # reported like the window's worker does: a message, never a crash
            self.busy = False
            on_error(exc)
            return True
        self.busy = False
        on_done(result, time.perf_counter() - start)
        return True


def message(exc: BaseException) -> str:
    """Our own errors already speak to the user; anything else says what kind of failure it was."""
    if isinstance(exc, OSError) and not isinstance(exc, MusicVAEError):
        where = f"'{exc.filename}': " if exc.filename else ""
        return f"{where}{disk_words(exc)}"  # in words, never a raw "[Errno 30] …"
    text = str(exc) or type(exc).__name__
    ours = isinstance(exc, (MusicVAEError, ValueError))
    return text if ours else f"{type(exc).__name__}: {text}"


class Events:
    """The session's listeners and what it says to them ("song", "status", "error"...: see session.py)."""

    def __init__(self) -> None:
        self.listeners: list[Listener] = []
        self.last_error: str | None = None

    def listen(self, listener: Listener) -> Listener:
        self.listeners.append(listener)
        return listener

    def emit(self, event: str, *args) -> None:
        for listener in list(self.listeners):
            listener(event, *args)

    def status(self, text: str, ms: int = 0) -> None:
        """A short message for the status bar."""
        self.emit("status", text, ms)

    def error(self, title: str, text: str) -> None:
        """Something the user must read; the sketch is untouched."""
        self.last_error = text
        self.emit("error", title, text)


class Jobs:
    """The engine (None until it has loaded) and the executor that runs its long work."""

    def __init__(self, engine, executor, events: Events) -> None:
        self.engine = engine
        self.engine_error: str | None = None  # why no engine could be loaded, said when Generate is asked for
        self.executor = executor if executor is not None else SyncExecutor()
        self.events = events
        self.generate_when_ready = False  # Generate was asked for while the engine loaded
        self.pending: tuple | None = None  # a job asked for while the executor was busy

    @property
    def busy(self) -> bool:
        return bool(getattr(self.executor, "busy", False))

    def usable(self, what: str) -> bool:
        """True when the engine is there; else says why `what` cannot run (a Generate waits for the load)."""
        if self.engine is not None:
            return True
        if self.engine_error:
            self.events.error("No model pack", self.engine_error)
        elif what == "Generate":
            self.generate_when_ready = True
            self.events.status("The model is still loading; Generate runs as soon as it is ready", 5000)
        else:
            self.events.status(f"The model is still loading; {what} again in a moment", 5000)
        return False

    def submit(self, what: str, fn, on_done) -> bool:
        """Run `fn` through the executor (queued when it is busy); a failure is said as "`what` failed"."""
        if self.busy:
            self.pending = (what, fn, on_done)
            self.events.status(f"Busy: {what} is queued and runs when the current job finishes", 5000)
            return False
        self.events.status(f"{what}…")
        return self.executor.submit(fn, on_done, lambda exc: self.events.error(f"{what} failed", message(exc)))

    def run_pending(self) -> bool:
        """Start the job queued while the executor was busy."""
        if self.pending is None or self.busy:
            return False
        what, fn, on_done = self.pending
        self.pending = None
        return self.submit(what, fn, on_done)
