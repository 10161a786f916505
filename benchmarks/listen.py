"""Listen and look: render sketches to WAV and draw their first bars as a piano roll, pack against pack.

    .venv/bin/python benchmarks/listen.py --out /tmp/listen [--pack DIR] [--baseline DIR] [--primer FILE.mid]

For each pack: one random-start sketch and (with --primer) one continuation, written as .mid and
.wav (FluidSynth, the system GM soundfont) and drawn as a five-lane piano roll of bars 1-4 and of
bars 9-12 at 16ths, read back from the exported .mid (what a DAW gets). Look at the PNGs and listen
to the WAVs before calling a pack better.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from musicvae_app.engine import Engine  # noqa: E402
from musicvae_app.sketch.midi import read_roll, write_midi  # noqa: E402
from musicvae_app.sketch.song import LANES  # noqa: E402

COLOURS = ("#4f8fdc", "#e0a33a", "#5bb56a", "#c76bd1", "#d65a5a")


def draw(mid: Path, png: Path, first_bar: int, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    roll, _ = read_roll(mid, 4)
    lo, hi = (first_bar - 1) * 16, (first_bar + 3) * 16
    fig, axes = plt.subplots(len(LANES), 1, figsize=(12, 10), sharex=True)
    axes[-1].set_xlim(0, hi - lo)
    for i, (ax, lane) in enumerate(zip(axes, LANES)):
        part = roll[i, lo:hi]
        used = np.flatnonzero(part.any(axis=0))
        ax.set_ylabel(lane)
        if len(used):
            rows = part[:, used[0] : used[-1] + 1].T
            ax.imshow(
                rows,
                aspect="auto",
                origin="lower",
                cmap=matplotlib.colors.ListedColormap(["white", COLOURS[i]]),
                extent=(0, len(part), used[0] - 0.5, used[-1] + 0.5),  # a roll that ends early is not stretched
                interpolation="nearest",
            )
        for x in range(0, hi - lo + 1, 4):
            ax.axvline(x, color="#ccc" if x % 16 else "#555", lw=0.5 if x % 16 else 1.0)
    axes[-1].set_xlabel(f"16th steps, bars {first_bar}-{first_bar + 3}")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(png, dpi=80)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", required=True)
    parser.add_argument("--pack", default=None)
    parser.add_argument("--baseline", default=None)
    parser.add_argument("--primer", default=None)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--chords", default=None, help="also a sketch on this chart, e.g. 'Am F C G'")
    parser.add_argument("--follow", default=None, help="also a sketch around this part (.mid)")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from musicvae_app.playback.synth import render_midi_file

    for tag, pack in (("new", args.pack), ("baseline", args.baseline)):
        if tag == "baseline" and not pack:
            continue
        engine = Engine.load(pack, "cpu")
        runs = [("random", {})] + ([("primer", {"primer": args.primer})] if args.primer else [])
        runs += [("chords", {"chords": args.chords})] if args.chords else []
        runs += [("follow", {"follow": args.follow})] if args.follow else []
        for kind, given in runs:
            song = engine.generate(**({"steps": 8} if kind != "follow" else {}), seed=args.seed, **given)
            mid = write_midi(song, out / f"{tag}-{kind}.mid")
            render_midi_file(mid, out / f"{tag}-{kind}.wav")
            for bar in (1, 9):
                draw(mid, out / f"{tag}-{kind}-bars{bar}.png", bar, f"{engine.pack.name}: {kind}, seed {args.seed}")
            print(f"{tag} {kind}: {song.note_counts()} -> {mid}")


if __name__ == "__main__":
    main()
