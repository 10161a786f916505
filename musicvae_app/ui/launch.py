"""`musicvae-app` and `python -m musicvae_app`: the engine process first, then the window (issue 31, item 5).

The engine process (engine/remote.py) is started before Qt is imported, so torch and the pack load on the
second core while this process builds the window: Generate is usable when both are done, not one after the
other. This module imports no Qt and no torch before that.
"""

from __future__ import annotations

import gc
import time


def main(argv: list[str] | None = None) -> int:
    start = time.perf_counter()
    gc.disable()  # while the window is built (the window turns it back on once shown): 10-15 % less start-up work
    from .options import parser, start_engine_process

    args = parser().parse_args(argv)
    process = start_engine_process(args.pack)
    from .app import main as window

    return window(argv, engine_process=process, start=start)
