"""Issue 29 item 3, sections with energy: a chorus against its verse, lane by lane, beside real songs' fuller
against lighter 8-bar blocks (evaluation/energy_rows.py), as exported and read back with mido.

    PYTHONPATH=. .venv/bin/python -m benchmarks.bench_energy --data ../shared/data/band-midi --songs 48 --takes 8

Real: the first `--songs` validation songs by file hash (never fitted on), their whole files; 8-bar blocks ranked
by the band's notes (full half against light half), and 4-bar blocks ranked into fifths (energy 1-5) as
training/energy.py learns them from the training songs: their level 4 over level 3 is a chorus over a verse.
Ours: `--takes` random-start takes of 40 bars with the form intro 4, verse 8, chorus 8, verse 8, chorus 8,
outro 4 (default energies 2, 3, 4, 3, 4, 2), with `--chords` a chart too, chorus against verse; also how many
choruses open with a crash on their first beat, and how many takes end on one hit.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from musicvae_app.engine import Engine
from musicvae_app.evaluation import dynamics_rows as dr
from musicvae_app.evaluation import energy_rows as er
from musicvae_app.lanes import DRUMS
from musicvae_app.sketch.midi import write_midi
from musicvae_app.training.dynamics import split_paths

FORM6 = [("intro", 1, 4), ("verse", 5, 8), ("chorus", 13, 8), ("verse", 21, 8), ("chorus", 29, 8), ("outro", 37, 4)]


def takes(engine, count: int, seed: int, folder: Path, style=None, chords=None) -> list[dict]:
    out = []
    for k in range(count):
        take = engine.generate(steps=9, seed=seed + k, sections=FORM6, style=style, chords=chords)
        song = dr.read(write_midi(take, folder / f"energy{k}.mid"))
        if song is not None:
            out.append(song)
    return out


def form_checks(songs: list[dict]) -> dict:
    """Choruses opening with a crash on beat 1; takes whose last bar holds its notes from beat 1 (no later start)."""
    crash = ends = 0
    for song in songs:
        n = song["notes"]
        for _, start, _ in [s for s in FORM6 if s[0] == "chorus"]:
            beat = (start - 1) * 4
            crash += bool(((n[:, 0] == DRUMS) & np.isin(n[:, 1], er.CRASHES) & (np.abs(n[:, 2] - beat) < 1e-3)).any())
        last = n[n[:, 2] >= 39 * 4]
        ends += bool(len(last)) and bool((last[:, 2] < 39 * 4 + 0.25).all())
    return {"choruses_with_crash": crash, "choruses": 2 * len(songs), "final_hits": ends, "takes": len(songs)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pack", default="resources/models/default")
    parser.add_argument("--data", required=True)
    parser.add_argument("--songs", type=int, default=48)
    parser.add_argument("--takes", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--style", default=None)
    parser.add_argument("--chords", default=None, help="a chart the takes play (the chart path), e.g. 'C G Am F'")
    args = parser.parse_args(argv)
    _, valid = split_paths(args.pack, args.data)
    real = [s for s in (dr.read(p) for p in valid[: args.songs]) if s is not None]
    engine = Engine.load(args.pack)
    with tempfile.TemporaryDirectory() as tmp:
        ours = takes(engine, args.takes, args.seed, Path(tmp), args.style, args.chords)
    real_c = er.real_contrast(real)
    levels = er.level_table(real)
    print("real validation songs, notes a bar by energy level (fifths of 4-bar blocks) over level 3:")
    for lane, row in levels["notes"].items():
        print(f"  {lane:<8} {row}  level 4/3 x{row[3] / row[2]:.3f}  level 2/3 x{row[1] / row[2]:.3f}")
    print("  loud cymbals", levels["loud_cymbals"], "crash bars", levels["crash_bars"])
    intro = er.labelled_contrast(ours, FORM6, high="intro", low="verse")
    print("ours intro/verse notes:", {lane: row.get("notes_x") for lane, row in intro.items()})
    print(er.format_contrast(real_c, er.labelled_contrast(ours, FORM6), "chorus / verse (ours, labelled)"))
    print(er.format_contrast(real_c, er.real_contrast(ours), "full / light blocks (ours ranked as real songs)"))
    print("whole band: real full/light", dr.block_contrast(real), "ours", dr.block_contrast(ours))
    labelled = [s for s in FORM6 if s[0] in ("verse", "chorus")]
    print("ours chorus/verse (all lanes):", dr.section_contrast(ours, labelled))
    print("form:", form_checks(ours))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
