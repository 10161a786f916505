"""Where the window's engine runs: in the engine process when the launcher started one (engine/remote.py),
else in the window's own process, as before (tests that build a window, $MUSICVAE_ENGINE_PROCESS=0).

The window gets its engine from `load_engine` on its worker thread: the engine process's RemoteEngine once
it is ready, or, when the process is gone or never became ready, the Engine loaded here, with a word in the
status bar (`notice`, called on the worker thread: the window hands it on as a queued signal). The window owns
the process it was handed and closes it (EngineProcess.close) when it closes; the RemoteEngine only calls it.
"""

from __future__ import annotations

from collections.abc import Callable

from ..engine.remote import EngineProcess, EngineProcessLost, RemoteEngine


def load_engine(pack, process: EngineProcess | None, notice: Callable[[str], None]):
    """The engine the window generates with (run on the worker thread): remote when it can be."""
    if process is not None:
        try:
            return RemoteEngine(process, pack, one_song_threads=1, on_notice=notice)
        except EngineProcessLost as exc:
            if process.closed:  # the window is closing: nothing to load
                raise
            notice(f"{str(exc)[0].upper()}{str(exc)[1:]}; loading the model in the window")
    from ..engine import Engine, torch_threads  # torch loads here, on the worker thread, after the window is up

    with torch_threads(1):  # the pack's checks take 0.3 s on one thread, up to 3 s on two beside busy cores
        return Engine.load(pack, one_song_threads=1)  # steady beside a busy DAW (see Engine)
