"""A second Ableton Link peer in its own process (another app in the session), through aalink.

    python tests/link_peer.py TEMPO

Prints "ready" once enabled, then obeys one command a line on stdin, printing "done" after each:
  tempo BPM | play | stop | peers (prints "peers N") | playing ("playing True")
  | sample N (N lines "perf_counter beat phase tempo", 1 ms apart) | quit
"""

from __future__ import annotations

import asyncio
import sys
import time
import warnings

import aalink

if __name__ == "__main__":
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        link = aalink.Link(float(sys.argv[1]), asyncio.new_event_loop())
    link.quantum = 4
    link.start_stop_sync_enabled = True
    link.enabled = True
    print("ready", flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        cmd = words[0]
        if cmd == "quit":
            break
        if cmd == "tempo":
            link.tempo = float(words[1])
        elif cmd in ("play", "stop"):
            link.playing = cmd == "play"
        elif cmd == "peers":
            print(f"peers {link.num_peers}", flush=True)
        elif cmd == "playing":
            print(f"playing {link.playing}", flush=True)
        elif cmd == "sample":
            rows = []
            for _ in range(int(words[1])):
                rows.append(f"{time.perf_counter():.6f} {link.beat:.6f} {link.phase:.6f} {link.tempo:.4f}")
                time.sleep(0.001)
            print("\n".join(rows), flush=True)
        print("done", flush=True)
    link.enabled = False
