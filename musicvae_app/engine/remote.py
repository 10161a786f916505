"""RemoteEngine: the window's Engine in a second process, so the window draws while torch loads (issue 31, item 5).

On the developers' 2-core machine `import torch` alone takes longer than building the whole window, and in one
interpreter the two only take turns (the GIL). So the window's launcher (musicvae_app/launch.py) starts
`python -m musicvae_app.engine.serve` before it imports Qt: that process imports torch, loads the pack with the
same `Engine.load(pack, one_song_threads=...)` the window used, says "ready" with what the window reads of the
engine (the pack's config, card, name and styles, the device), then answers calls over a socket pair (pickle:
a Song is numpy arrays and dataclasses, torch-free). `RemoteEngine` stands where the window's Engine stood: the
same methods, arguments and results, so the same seed and settings make the same take, byte for byte.
This module imports no torch (nor does anything it unpickles); the CLI and the Python API keep the Engine.

Failure is said, never a hang: a server that exits, cannot be started or is not ready within READY_TIMEOUT_S
raises EngineProcessLost (the window then loads the Engine itself); a RemoteEngine whose server dies mid-session
loads the Engine in its own process, runs the call there and tells `on_notice`. An error the Engine raised
(a bad setting, a pack that does not load) comes back as the same exception, or, where its class would have to
be imported, as EngineCallFailed with the same message. The server never outlives the window: it exits when
asked (`EngineProcess.close`), and when its socket closes (the window quit, crashed or was killed). The process
has one owner, the window it is handed (MainWindow.closeEvent closes it; ui/app.main too, however the window
ended); a RemoteEngine only calls it, and closes it only when it is found dead and the Engine runs here.
"""

from __future__ import annotations

import os
import pickle
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

from ..errors import MusicVAEError

PROCESS_ENV = "MUSICVAE_ENGINE_PROCESS"  # "0": the window runs the engine in its own process, as before
SERVE_ENV = "MUSICVAE_ENGINE_SERVE"  # set for a frozen bundle's executable: run the server, not the window
SAME_SESSION_ENV = "MUSICVAE_ENGINE_SAME_SESSION"  # "1": the server stays in the window's session (benchmarks)
READY_TIMEOUT_S = 120.0  # a machine loaded 10-15 deep took 13.5 s to load the pack; past this the window loads it
CLOSE_WAIT_S = 2.0  # how long a ready server has to leave after "quit" before it is terminated
# The Engine's methods a RemoteEngine forwards: each takes and returns picklable, torch-free values.
CALLS = frozenset(
    (
        "generate",
        "generate_takes",
        "regenerate_lane",
        "continue_song",
        "infill",
        "morph",
        "set_chords",
        "set_chord",
        "song_from_midi",
        "read_part",
        "harmonize",
        "reconstruct",
    )
)


class EngineProcessLost(MusicVAEError):
    """The engine process is gone (it exited, was killed, or never became ready): the window runs the engine."""


class EngineCallFailed(MusicVAEError):
    """An error the engine process raised whose class the window does not have loaded: its message, as said."""


def enabled() -> bool:
    """Whether the window should start the engine process ($MUSICVAE_ENGINE_PROCESS=0 turns it off)."""
    return os.environ.get(PROCESS_ENV, "1").strip().lower() not in ("0", "no", "off", "false")


def describe_error(exc: BaseException) -> tuple:
    """An exception as the server sends it: (module, pickled or None, the text a message() of it would be)."""
    text = str(exc) or type(exc).__name__
    ours = isinstance(exc, (MusicVAEError, ValueError)) and not isinstance(exc, OSError)
    said = text if ours else f"{type(exc).__name__}: {text}"
    try:
        blob = pickle.dumps(exc)
    except Exception:  # an exception that does not pickle: its words
        blob = None
    return type(exc).__module__, blob, said


def rebuild_error(payload: tuple) -> BaseException:
    """The server's exception (describe_error), as the same class when this process has its module loaded
    already (so nothing is imported: no torch), else EngineCallFailed with the same message."""
    module, blob, said = payload
    if blob is not None and (module == "builtins" or module in sys.modules):
        try:
            exc = pickle.loads(blob)
            if isinstance(exc, BaseException):
                return exc
        except Exception:
            pass
    return EngineCallFailed(said)


class ConfigView:
    """A pack's PackConfig as plain values (its fields and properties): the window reads it without torch."""

    def __init__(self, values: dict):
        self.__dict__.update(values)

    def __repr__(self) -> str:
        return f"ConfigView({self.__dict__!r})"


@dataclass(frozen=True)
class PackView:
    """What the window reads of a loaded Pack: its config, card, folder, typed generation defaults and name."""

    config: ConfigView
    card: dict
    path: Path | None
    generation: object
    name: str


def serve_command() -> list[str]:
    """The command that runs the server: this Python with -m, or a frozen bundle's own executable."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-m", "musicvae_app.engine.serve"]


class EngineProcess:
    """The engine's process and the socket to it. `start()` returns at once; `wait_ready` waits for the pack."""

    def __init__(self, proc: subprocess.Popen, conn: Connection, started: float):
        self.proc, self.conn, self.started = proc, conn, started
        self.info: dict | None = None  # what the server said at ready
        self.closed = False
        self._lock = threading.Lock()  # one call at a time on the socket

    @classmethod
    def start(cls, pack=None, one_song_threads: int | None = 1) -> EngineProcess:
        """Launch the server (raises OSError if the executable cannot be started)."""
        mine, theirs = socket.socketpair()
        root = str(Path(__file__).resolve().parents[2])  # the folder that holds musicvae_app
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)}
        if getattr(sys, "frozen", False):
            env[SERVE_ENV] = "1"
        args = ["--fd", str(theirs.fileno()), "--threads", str(one_song_threads or 0)]
        if pack is not None:
            args += ["--pack", str(pack)]
        started = time.monotonic()
        try:
            proc = subprocess.Popen(
                serve_command() + args,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,  # the window's stdout stays the window's (the benchmark reads it)
                pass_fds=(theirs.fileno(),),
                env=env,
                # its own session: Linux's autogroup scheduler then shares the CPU between the window's group
                # and this one, so on a busy machine the engine loading does not slow the window down
                start_new_session=os.environ.get(SAME_SESSION_ENV) != "1",
            )
        except BaseException:
            mine.close()
            raise
        finally:
            theirs.close()  # the server's end lives in the server only: its exit reads here as the end of the socket
        return cls(proc, Connection(mine.detach()), started)

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def _lost(self, why: str) -> EngineProcessLost:
        code = self.proc.poll()
        if code is None:
            try:
                code = self.proc.wait(0.5)
            except subprocess.TimeoutExpired:
                pass
        status = "" if code is None else f" (exit status {code})"
        return EngineProcessLost(f"the engine process {why}{status}")

    def wait_ready(self, timeout: float | None = None) -> dict:
        """What the server says once the pack is loaded. EngineProcessLost if it exits or is not ready in
        `timeout` seconds (then it is stopped); the Engine's own error if the pack does not load."""
        if self.info is not None:
            return self.info
        timeout = READY_TIMEOUT_S if timeout is None else timeout
        deadline = time.monotonic() + timeout
        with self._lock:
            try:
                while not self.conn.poll(0.05):
                    if self.closed:
                        raise EngineProcessLost("the engine process was closed before it was ready")
                    if not self.alive:
                        raise self._lost("exited before it was ready")
                    if time.monotonic() > deadline:
                        self._stop(0)
                        raise EngineProcessLost(f"the engine process was not ready after {timeout:g} s")
                kind, payload = self.conn.recv()
            except (EOFError, OSError, ValueError) as exc:  # ValueError, OSError: the socket was closed here
                raise self._lost(f"exited before it was ready ({type(exc).__name__})") from exc
        if kind == "failed":  # it leaves by itself
            self._stop(0)
            raise rebuild_error(payload)
        self.info = payload
        return payload

    def call(self, name: str, args: tuple = (), kwargs: dict | None = None):
        """The engine's method `name` run in the server: its result, or the exception it raised."""
        with self._lock:
            if self.closed:
                raise EngineProcessLost("the engine process is closed")
            try:
                self.conn.send(("call", name, tuple(args), dict(kwargs or {})))
                kind, payload = self.conn.recv()
            except (EOFError, OSError) as exc:  # a pickling error (a bug) is raised as it is
                raise self._lost(f"stopped during {name} ({type(exc).__name__})") from exc
        if kind == "ok":
            return payload
        raise rebuild_error(payload)

    def peak_rss_mb(self) -> float | None:
        """The server's peak resident memory in MB (None when it cannot answer)."""
        try:
            return float(self.call("__peak_rss_mb__"))
        except MusicVAEError:
            return None

    def close(self, wait: float = CLOSE_WAIT_S) -> int | None:
        """Ask the server to leave (a ready one finishes its call first), then terminate it if it stays;
        returns its exit status. The owner is done with it (`closed`): a load waiting for it ends without
        falling back. Safe to call twice, and from any thread."""
        self.closed = True
        return self._stop(wait)

    def _stop(self, wait: float) -> int | None:
        if self.alive and self.info is not None and wait > 0:
            try:
                self.conn.send(("quit",))
                self.proc.wait(wait)
            except (OSError, ValueError, subprocess.TimeoutExpired):
                pass
        if self.alive:
            self.proc.terminate()
            try:
                self.proc.wait(2.0)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        code = self.proc.wait()
        try:
            self.conn.close()
        except OSError:
            pass
        return code


class RemoteEngine:
    """The Engine's face over an EngineProcess: its methods (CALLS), pack, cfg, card, style_set, device.

    `on_notice(text)` hears when the process died and the engine now runs here (called on the calling thread).
    """

    def __init__(
        self,
        process: EngineProcess,
        pack=None,
        one_song_threads: int | None = 1,
        on_notice: Callable[[str], None] | None = None,
    ):
        info = process.wait_ready() if process.info is None else process.info
        self.process = process
        self._pack_arg, self._threads = pack, one_song_threads
        self.on_notice = on_notice
        self.pack = PackView(ConfigView(info["config"]), info["card"], info["path"], info["generation"], info["name"])
        self.cfg = self.pack.config
        self.card = info["generation"]  # the typed CardDefaults, as Engine.card
        self.style_set = info["styles"]
        self.device, self.device_name = info["device"], info["device_name"]
        self.local = None  # the Engine loaded here once the process is gone
        self._switch = threading.Lock()

    @property
    def remote(self) -> bool:
        """True while the calls run in the engine process."""
        return self.local is None

    def styles(self) -> list[tuple[str, str]]:
        """(name, one line) of every style, "Auto" first (as Engine.styles)."""
        return self.style_set.describe()

    def __getattr__(self, name: str):
        if name in CALLS:
            return lambda *args, **kwargs: self._call(name, args, kwargs)
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def _call(self, name: str, args: tuple, kwargs: dict):
        if self.local is None:
            try:
                return self.process.call(name, args, kwargs)
            except EngineProcessLost as exc:
                if self.process.closed:  # the window is closing: nothing to fall back to
                    raise
                self._run_here(str(exc))
        return getattr(self.local, name)(*args, **kwargs)

    def _run_here(self, why: str) -> None:
        with self._switch:
            if self.local is not None:
                return
            if self.on_notice is not None:
                self.on_notice(f"{why[0].upper()}{why[1:]}; loading the model in the window")
            from .core import Engine  # torch loads here, in this process, only now
            from .runtime import torch_threads

            with torch_threads(1):  # as the engine process loads it (serve.py)
                self.local = Engine.load(self._pack_arg, one_song_threads=self._threads)
            self.process.close(0)
        if self.on_notice is not None:
            self.on_notice("The model runs in the window now (the engine process stopped)")
