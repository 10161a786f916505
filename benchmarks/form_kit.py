"""Kit bars inside a song form (issue 29): per style, the share of bars whose exported drums play a kick and a
backbeat (snare, clap or side stick), read back with mido, with the form intro 4, verse 8, chorus 8 @5, outro 4.

    python -m benchmarks.form_kit [--styles half-time rock] [--seeds 1 2 3] [--plain]

Each take is `generate(steps=5, seed=S, style=NAME, sections=FORM)` (24 bars; its last bar is the outro's final hit,
a crash and a kick, so 23 of 24 is the most a take can reach); --plain leaves the form out. A line per take shows
its bars (K: kit)."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import mido
import numpy as np

from musicvae_app.engine import Engine, torch_threads
from musicvae_app.sketch.midi import write_midi
from musicvae_app.theory.dynamics import BACKBEAT, KICKS

FORM = [("intro", 1, 4), ("verse", 5, 8), ("chorus", 13, 8, 5), ("outro", 21, 4)]


def kit_bars(path: Path, n_bars: int) -> np.ndarray:
    mid = mido.MidiFile(path)
    kick, back = np.zeros(n_bars, dtype=bool), np.zeros(n_bars, dtype=bool)
    for track in mid.tracks:
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type == "note_on" and msg.velocity and msg.channel == 9:
                bar = int(tick // (4 * mid.ticks_per_beat))
                if bar < n_bars:
                    kick[bar] |= msg.note in KICKS
                    back[bar] |= msg.note in BACKBEAT
    return kick & back


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pack", default="resources/models/default")
    ap.add_argument("--styles", nargs="*", default=None, help="style names (default: every style of the pack)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--plain", action="store_true", help="no form")
    args = ap.parse_args(argv)
    engine = Engine.load(args.pack)
    styles = args.styles or [name for name, _ in engine.styles()[1:]]
    with tempfile.TemporaryDirectory() as tmp, torch_threads(1):
        for name in styles:
            shares = []
            for seed in args.seeds:
                song = engine.generate(steps=5, seed=seed, style=name, sections=None if args.plain else FORM)
                bars = kit_bars(write_midi(song, Path(tmp) / "take.mid"), song.n_bars)
                shares.append(bars.mean())
                print(f"  {name} seed {seed}: {''.join('K' if k else '.' for k in bars)}")
            print(f"{name}: kit bars {np.mean(shares):.3f}", flush=True)


if __name__ == "__main__":
    main()
