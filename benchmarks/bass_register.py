"""Where the bass sits: real bass parts against the engine's, pitch percentiles and the share of notes under E1.

    python -m benchmarks.bass_register --data ../shared/data/band-midi [--files 200] [--takes 8]

Real: every note of the bass-program tracks (GM 33-40) of the pack's validation files (harmony_band.split_files),
read with mido. Ours: the shipped pack's takes (steps 5, seeds 0..takes-1), free, under the chart `C G Am F`, under
that chart with a song form, and in E major and D minor, exported and read back. engine/bass_range.py reads its
bounds from the real figures (E1 = 28: a four-string bass's open E; 99th percentile for the top).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import mido
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from mid_notes import notes_16ths  # noqa: E402

from musicvae_app.engine import Engine  # noqa: E402
from musicvae_app.lanes import LANES  # noqa: E402
from musicvae_app.sketch.midi import write_midi  # noqa: E402
from musicvae_app.training.harmony_band import split_files  # noqa: E402

BASS = LANES.index("bass")
CASES = {
    "free": {},
    "chart C G Am F": {"chords": "C G Am F"},
    "chart + form": {
        "chords": "C G Am F",
        "sections": [("intro", 1, 2), ("verse", 3, 8), ("chorus", 11, 8, 5), ("outro", 19, 4)],
    },
    "E major": {"key": "E major"},
    "D minor chart": {"key": "D minor", "chords": "Dm Bb F C"},
}


def real_bass(files: list[str]) -> np.ndarray:
    pitches = []
    for f in files:
        try:
            mid = mido.MidiFile(f)
        except Exception:  # a file mido refuses: the pack's reader skips it too
            continue
        program = {}
        for track in mid.tracks:
            for msg in track:
                if msg.type == "program_change":
                    program[msg.channel] = msg.program
                elif (
                    msg.type == "note_on"
                    and msg.velocity
                    and msg.channel != 9
                    and 32 <= program.get(msg.channel, -1) <= 39
                ):
                    pitches.append(msg.note)
    return np.array(pitches)


def row(name: str, p: np.ndarray) -> str:
    q = np.percentile(p, [1, 5, 50, 95, 99])
    return (
        f"| {name:<16} | {len(p):>7} | " + " | ".join(f"{v:4.0f}" for v in q) + f" | {100 * (p < 28).mean():5.1f} % |"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="/work/shared/data/band-midi")
    ap.add_argument("--files", type=int, default=200)
    ap.add_argument("--takes", type=int, default=8)
    args = ap.parse_args()
    print("| bass | notes | p1 | p5 | p50 | p95 | p99 | under E1 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    print(row("real (validation)", real_bass(split_files(args.data, validation=True)[: args.files])))
    engine = Engine.load(device="cpu")
    with tempfile.TemporaryDirectory() as tmp:
        for name, kw in CASES.items():
            got = []
            for seed in range(args.takes):
                song = engine.generate(steps=5, seed=seed, **kw)
                got += [n[1] for n in notes_16ths(write_midi(song, Path(tmp) / "t.mid")) if n[0] == BASS]
            print(row(name, np.array(got)))


if __name__ == "__main__":
    main()
