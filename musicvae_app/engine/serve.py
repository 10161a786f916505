"""The engine process's side (see remote.py): load the pack, say "ready", answer calls until told to quit.

`python -m musicvae_app.engine.serve --fd N [--pack DIR] [--threads T]`, started by EngineProcess.start with
the socket's end on fd N. It exits when asked ("quit") and when the socket closes (the window is gone).
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import sys
from dataclasses import fields
from multiprocessing.connection import Connection

from .remote import CALLS, describe_error


def config_values(cfg) -> dict:
    """A PackConfig's fields and properties as plain values (remote.ConfigView)."""
    values = {f.name: getattr(cfg, f.name) for f in fields(cfg)}
    for name in dir(type(cfg)):
        if not name.startswith("_") and isinstance(getattr(type(cfg), name), property):
            values[name] = getattr(cfg, name)
    return values


def ready_info(engine) -> dict:
    """What the window reads of the engine (RemoteEngine's attributes)."""
    pack = engine.pack
    return {
        "config": config_values(pack.config),
        "card": pack.card,
        "path": pack.path,
        "generation": engine.card,
        "name": pack.name,
        "styles": engine.style_set,
        "device": engine.device,
        "device_name": engine.device_name,
    }


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def answer(engine, conn: Connection, name: str, args: tuple, kwargs: dict) -> None:
    try:
        if name == "__peak_rss_mb__":
            result = peak_rss_mb()
        elif name in CALLS:
            result = getattr(engine, name)(*args, **kwargs)
        else:
            raise AttributeError(f"the engine process does not run {name!r}")
        data = ("ok", result)
        conn.send(data)
    except Exception as exc:  # the caller gets the error as raised here, the process goes on
        conn.send(("error", describe_error(exc)))


def serve(conn: Connection, pack: str | None, threads: int | None) -> int:
    try:
        from .core import Engine  # torch loads here
        from .runtime import torch_threads

        with torch_threads(1):  # the pack's checks on one thread: the window is built on the other core
            engine = Engine.load(pack, one_song_threads=threads)
        info = ready_info(engine)
    except Exception as exc:  # a pack that does not load: said to the window, which says it to the user
        conn.send(("failed", describe_error(exc)))
        return 1
    conn.send(("ready", info))
    gc.freeze()  # what the load made stays: the collector never walks torch's objects again
    gc.enable()
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):  # the window is gone
            return 0
        if message[0] == "quit":
            return 0
        if message[0] == "call":
            answer(engine, conn, *message[1:])


def main(argv: list[str] | None = None):
    gc.disable()  # until the engine is ready: the collector's passes over torch's import cost 0.1-0.2 s of 1.3
    parser = argparse.ArgumentParser(prog="musicvae_app.engine.serve", description=__doc__.splitlines()[0])
    parser.add_argument("--fd", type=int, required=True, help="the socket's file descriptor")
    parser.add_argument("--pack")
    parser.add_argument("--threads", type=int, default=1, help="torch threads for one song (0: torch's default)")
    args = parser.parse_args(argv)
    conn = Connection(args.fd)
    try:
        code = serve(conn, args.pack, args.threads or None)
    except (BrokenPipeError, ConnectionResetError):  # the window left while an answer was on its way
        code = 0
    conn.close()
    sys.stderr.flush()
    os._exit(code)  # at once: nothing to save, and tearing torch down takes seconds on a busy machine


if __name__ == "__main__":
    sys.exit(main())
