"""Before/after figures for the entry points that newly run the post stage (issue 28 item 3): infill, morph,
set_chord, set_chords on takes of the shipped pack, over several seeds.

"Before" is the same edit of the same take with the take's groove off (what these entry points did before the
stage: no groove; set_chords' chart check ran then too). Per entry point, over the bars it changed: note onsets per
bar of the pitched lanes, and the share of those onsets that are tones of the bar's chord (the take's chart, else
the chord the bar is heard as, theory.chords.recognize).

    .venv/bin/python benchmarks/post_stage_figures.py --seeds 6
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _figures(song, bars: range) -> tuple[int, int, int]:
    """(onsets, chord-tone onsets, bars) of the pitched lanes over `bars`."""
    from musicvae_app.lanes import DRUMS
    from musicvae_app.theory.chords import downbeats, recognize, song_beats

    notes = song.notes()
    spb = song.steps_per_bar
    chart = downbeats(song_beats(song.chords)) if song.chords else None  # each bar's first chord
    heard = recognize(notes, spb)
    onsets = tones = 0
    for bar in bars:
        chord = chart[bar] if chart and bar < len(chart) and chart[bar] is not None else heard[bar]
        lo = bar * spb
        for lane in range(notes.shape[0]):
            if lane == DRUMS:
                continue
            cells = notes[lane, lo : lo + spb]
            before = np.vstack([notes[lane, lo - 1 : lo] if lo else np.zeros((1, 128), bool), cells[:-1]])
            t, p = np.nonzero(cells & ~before)
            onsets += len(p)
            if chord is not None:
                tones += int(np.isin(p % 12, list(chord.tones)).sum())
    return onsets, tones, len(bars)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=6)
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    from musicvae_app.engine import Engine

    engine = Engine.load(device="cpu")
    totals: dict[str, np.ndarray] = {}
    for seed in range(1, args.seeds + 1):
        take = engine.generate(steps=3, seed=100 + seed)
        other = engine.generate(steps=3, seed=200 + seed)
        off = take.copy()
        off.settings = {**take.settings, "groove": False}
        edits = {
            "infill": (lambda s, k=seed: engine.infill(s, 5, 8, lanes=["piano", "strings"], seed=k), range(4, 8)),
            "morph": (lambda s, b=other: engine.morph(s, b, steps=4), range(16)),
            "set_chord": (lambda s: engine.set_chord(s, 2, "Dm"), range(1, 2)),
            "set_chords": (lambda s: engine.set_chords(s, "C G Am F"), range(16)),
        }
        for name, (edit, bars) in edits.items():
            row = np.array(_figures(edit(off), bars) + _figures(edit(take), bars), dtype=float)
            totals[name] = totals.get(name, 0) + row
    print(f"{'entry point':12s} {'notes/bar before':>17s} {'after':>6s} {'chord tones % before':>21s} {'after':>6s}")
    for name, (on0, t0, b0, on1, t1, b1) in totals.items():
        print(
            f"{name:12s} {on0 / b0:17.2f} {on1 / b1:6.2f} {100 * t0 / max(on0, 1):21.1f} {100 * t1 / max(on1, 1):6.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
