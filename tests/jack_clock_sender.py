"""A MIDI clock sender in its own process (a DAW set to send clock), on a virtual JACK output.

    python tests/jack_clock_sender.py PORT_NAME

Prints "ready" once its port is up, then obeys one command a line on stdin, printing "done" after each:
  start | stop | continue | spp SIXTEENTHS | ticks N BPM (N clocks at BPM, timed by a spin on perf_counter)
  | notes N (N note-ons, as fast as it can: a flood) | hold P1 P2 ... (note-ons: a chord held; prints
  "t SECONDS" when sent) | release (note-offs for what is held) | quit
For `ticks` it prints the perf_counter time of each clock it sent ("t SECONDS") before "done".
"""

from __future__ import annotations

import sys
import time

import mido

JACK_API = "mido.backends.rtmidi/UNIX_JACK"

if __name__ == "__main__":
    name = sys.argv[1]
    port = mido.Backend(JACK_API, load=True).open_output(name, virtual=True, client_name=name)
    print("ready", flush=True)
    held: list[int] = []
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        cmd = words[0]
        if cmd == "quit":
            break
        if cmd in ("start", "stop", "continue"):
            port.send(mido.Message(cmd))
        elif cmd == "spp":
            port.send(mido.Message("songpos", pos=int(words[1])))
        elif cmd == "ticks":
            n, bpm = int(words[1]), float(words[2])
            step = 60.0 / (24 * bpm)
            t0 = time.perf_counter() + 0.001
            sent = []
            for k in range(n):
                due = t0 + k * step
                while time.perf_counter() < due:
                    pass
                port.send(mido.Message("clock"))
                sent.append(time.perf_counter())
            print("\n".join(f"t {t:.6f}" for t in sent), flush=True)
        elif cmd == "hold":
            held = [int(w) for w in words[1:]]
            for p in held:
                port.send(mido.Message("note_on", note=p, velocity=90))
            print(f"t {time.perf_counter():.6f}", flush=True)
        elif cmd == "release":
            for p in held:
                port.send(mido.Message("note_off", note=p))
            held = []
        elif cmd == "notes":
            for k in range(int(words[1])):
                port.send(mido.Message("note_on", note=48 + k % 24, velocity=100))
                port.send(mido.Message("note_off", note=48 + k % 24))
        print("done", flush=True)
    port.close()
