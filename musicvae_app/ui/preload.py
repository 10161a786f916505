"""What the first Generate needs, loaded first: torch, the engine and the pack, on their own thread.

`start(pack)` is called first thing at launch (ui/app.py's main), before Qt and the window are built, so
the slow part of start-up (importing torch, reading the weights) runs while the window is put together.
The window then `take`s the load instead of starting its own; the built-in synth and the MIDI outputs
are listed only after it (see MainWindow._engine_loaded). Nothing here imports Qt.
"""

from __future__ import annotations

import threading
import time


class EngineLoad:
    """Engine.load(pack) on a thread of its own, started at once; `result()` waits for it."""

    def __init__(self, pack):
        self.pack = pack
        self.started = time.perf_counter()
        self.seconds = 0.0
        self._engine = None
        self._error: Exception | None = None
        # Not a daemon: a window closed while torch is still importing waits for it, rather than the
        # interpreter tearing down under a half-done import.
        self._thread = threading.Thread(target=self._run, name="engine-preload")
        self._thread.start()

    def _run(self) -> None:
        try:
            from ..engine import Engine

            self._engine = Engine.load(self.pack, one_song_threads=1)  # steady beside a busy DAW (see Engine)
        except Exception as exc:  # the window says it (MainWindow._engine_failed)
            self._error = exc
        self.seconds = time.perf_counter() - self.started

    def result(self):
        """The engine, once loaded (waits); the load's exception, raised again, when it failed."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._engine


_loads: list[EngineLoad] = []


def start(pack=None) -> EngineLoad:
    """Begin loading the engine for `pack` (None: the default pack) now."""
    load = EngineLoad(pack)
    _loads.append(load)
    return load


def take(pack=None) -> EngineLoad | None:
    """The load started for `pack`, handed over once (None when none was started for it)."""
    for load in _loads:
        if load.pack == pack:
            _loads.remove(load)
            return load
    return None
