"""Playback timing: how late each message leaves the player, and how fast Play makes the first sound.

    .venv/bin/python benchmarks/bench_playback.py            # 3-minute sketch at 120 BPM, both ports
    .venv/bin/python benchmarks/bench_playback.py --seconds 30 --no-jack

Lateness = send time - scheduled time, over every message of the sketch, on an in-memory port and
on our virtual JACK port (a `jackd -d dummy` is started if none runs); for JACK also the delivery
to a second client. Goals (issue 5): p99 lateness <= 2 ms; Play -> first note <= 20 ms. Also Record -> the
count-in's first click (the recorder's polling thread, in-memory ports; 20 ms by design, within 50 ms asked):
the window's test checks only that the count-in is scheduled from the press, its send time depends on load.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

import mido
import numpy as np
from mido.ports import BaseOutput

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from jack_fixture import JACK_API, JackUnavailable, running_jackd  # noqa: E402

from musicvae_app.playback.player import Player  # noqa: E402
from musicvae_app.playback.ports import VIRTUAL_NAME  # noqa: E402
from musicvae_app.playback.recorder import MessageInput, Recorder  # noqa: E402
from musicvae_app.playback.schedule import schedule  # noqa: E402
from musicvae_app.sketch.song import Song  # noqa: E402


class TimedPort(BaseOutput):
    """Stamps every message with perf_counter as it leaves the player, then passes it on (if anywhere)."""

    def __init__(self, target=None):
        self.target, self.sent = target, []
        super().__init__("timed")

    def _send(self, msg):
        self.sent.append((time.perf_counter(), msg))
        if self.target is not None:
            self.target.send(msg)


def band_sketch(seconds: float, tempo: float = 120.0, seed: int = 0) -> Song:
    """A busy band at 16th-note steps: piano chords, a moving bass, held strings, hats/kick/snare."""
    spb, chunk = 4, 32
    steps = int(round(seconds * tempo / 60 * spb / chunk)) * chunk
    rng = np.random.default_rng(seed)
    probs = np.zeros((5, steps, 128), np.float32)
    for bar in range(0, steps, 16):
        root = 48 + int(rng.integers(0, 12))
        for p in (root, root + 4, root + 7):
            probs[0, bar : bar + 7, p + 12] = probs[0, bar + 8 : bar + 15, p + 12] = 0.9
        probs[1, bar + 2 : bar + 16 : 4, root + 7] = 0.7
        probs[2, bar : bar + 16 : 4, root - 12] = 1.0
        probs[3, bar : bar + 15, root + 16] = 0.6
    probs[4, ::2, 42] = 0.9
    probs[4, ::8, 36] = probs[4, 4::8, 38] = 1.0
    return Song(probs=probs, steps_per_beat=spb, chunk_steps=chunk, tempo=tempo)


def lateness_ms(port: TimedPort, player: Player, song: Song) -> list[float]:
    expected = schedule(song)  # the mixer's program, volume and pan messages too; after them the player's resets
    sent = port.sent[: len(expected)]
    assert [m for _, m in sent] == [m for _, m in expected], "messages lost or out of order"
    return [1000 * (t - player.pass_origin - due) for (t, _), (due, _) in zip(sent, expected)]


def play_through(port: TimedPort, song: Song) -> list[float]:
    player = Player(port)
    player.play(song)
    while player.is_playing:
        time.sleep(0.05)
    player.close()
    return lateness_ms(port, player, song)


def first_note_ms(port: TimedPort, song: Song, repeats: int, prepared: bool) -> list[float]:
    """Play pressed -> first note_on leaving the port, from a stopped player.

    prepared=False: a fresh Player each time, so Play schedules the whole sketch first (cold).
    prepared=True: the window's song_changed() already called prepare(), so Play only starts the clock.
    """
    player = Player(port)
    out = []
    for _ in range(repeats):
        if not prepared:
            player.close()
            player = Player(port)
        else:
            player.prepare(song)
        port.sent.clear()
        start = time.perf_counter()
        player.play(song)
        while not any(m.type == "note_on" for _, m in port.sent):
            time.sleep(0.0001)
        out.append(1000 * (next(t for t, m in port.sent if m.type == "note_on") - start))
        player.stop()
        time.sleep(0.02)
    player.close()
    return out


def first_click_ms(repeats: int) -> list[float]:
    """Record -> the count-in's first click sent, ms: a Recorder on in-memory ports, `repeats` takes."""
    out = []
    for _ in range(repeats):
        port = TimedPort()
        rec = Recorder(MessageInput(), 0, 120.0, port)
        pressed = time.perf_counter()
        rec.start()
        while not rec.clicks and time.perf_counter() - pressed < 2.0:
            time.sleep(0.001)
        rec.stop()
        if rec.clicks:
            out.append(1000 * (rec.clicks[0][0] - pressed))
    return out


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def row(name: str, values: list[float]) -> str:
    return (
        f"| {name:<44} | {len(values):>6} | {pct(values, 50):>7.3f} | {pct(values, 99):>7.3f} | {max(values):>8.3f} |"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=180.0, help="sketch length (default: 3 minutes)")
    ap.add_argument("--repeats", type=int, default=50, help="Play presses for the first-message latency")
    ap.add_argument("--no-jack", action="store_true", help="skip the JACK port")
    args = ap.parse_args()

    song = band_sketch(args.seconds)
    n = len(schedule(song))
    print(f"sketch: {song.seconds:.0f} s at {song.tempo:g} BPM, {song.n_steps} steps, {n} messages")
    rows = [
        row("in-memory port: send - scheduled (ms)", play_through(TimedPort(), song)),
        row("in-memory: Play -> first note, cold (ms)", first_note_ms(TimedPort(), song, args.repeats, False)),
        row("in-memory: Play -> first note, prepared (ms)", first_note_ms(TimedPort(), song, args.repeats, True)),
        row("in-memory: Record -> first click (ms)", first_click_ms(args.repeats)),
    ]
    if not args.no_jack:
        try:
            with running_jackd():
                backend = mido.Backend(JACK_API, load=True)
                out = backend.open_output(VIRTUAL_NAME, client_name=VIRTUAL_NAME)
                received, lock = [], threading.Lock()

                def got(msg):
                    with lock:
                        received.append((time.perf_counter(), msg))

                inp = backend.open_input(f"{VIRTUAL_NAME}:{VIRTUAL_NAME}", callback=got)
                port = TimedPort(out)
                player = Player(port)
                player.play(song)
                while player.is_playing:
                    time.sleep(0.05)
                time.sleep(0.5)
                rows.append(row("JACK port: send - scheduled (ms)", lateness_ms(port, player, song)))
                expected = schedule(song)  # with the mixer's messages; the player's resets come after
                notes = received[: len(expected)]
                lost = len(expected) - len(notes)
                if lost == 0 and [m for _, m in notes] == [m for _, m in expected]:
                    delivery = [1000 * (t - player.pass_origin - d) for (t, _), (d, _) in zip(notes, expected)]
                    rows.append(row("JACK 2nd client: arrival - scheduled (ms)", delivery))
                else:
                    print(f"JACK 2nd client: {lost} of {len(expected)} messages missing or out of order")
                player.close()
                for prepared, kind in ((False, "cold"), (True, "prepared")):
                    latency = first_note_ms(port, song, args.repeats, prepared)
                    rows.append(row(f"JACK: Play -> first note, {kind} (ms)", latency))
                inp.close()
                out.close()
        except JackUnavailable as exc:
            print(f"JACK skipped: {exc}")
    print()
    print(f"| {'measure':<44} | {'n':>6} | {'p50':>7} | {'p99':>7} | {'max':>8} |")
    print(f"|{'-' * 46}|{'-' * 8}|{'-' * 9}|{'-' * 9}|{'-' * 10}|")
    print("\n".join(rows))
    print(f"\nload average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
