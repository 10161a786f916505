"""Issue 29, dynamics from the music: velocity by beat position, snare ghost notes, a chorus against its verse,
real validation songs beside ours, as exported and read back with mido.

    PYTHONPATH=. .venv/bin/python -m benchmarks.bench_dynamics --data ../shared/data/band-midi [--songs 48 --takes 8]

Real: the first `--songs` validation songs by file hash (never fitted on), their whole files. Ours: `--takes`
random-start takes of 32 bars with the form verse 8, chorus 8, verse 8, chorus 8 (evaluation/dynamics_rows.py).
Per group, mean velocity over the song's median for the group on the beat / off-beat 8th / other 16ths; the
snare's ghost-note share; mean velocity per lane; full against light 8-bar blocks (and chorus against verse).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from musicvae_app.engine import Engine
from musicvae_app.evaluation import dynamics_rows as dr
from musicvae_app.lanes import LANES
from musicvae_app.training.dynamics import split_paths


def lane_means(songs) -> list[float]:
    n = np.concatenate([s["notes"] for s in songs])
    return [round(float(n[n[:, 0] == i, 3].mean()), 1) if (n[:, 0] == i).any() else float("nan") for i in range(5)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pack", default="resources/models/default")
    parser.add_argument("--data", required=True)
    parser.add_argument("--songs", type=int, default=48)
    parser.add_argument("--takes", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    engine = Engine.load(args.pack)
    _, held_out = split_paths(args.pack, args.data)
    real = [s for s in (dr.read(p) for p in held_out[: args.songs]) if s is not None]
    with tempfile.TemporaryDirectory() as tmp:
        ours = dr.form_takes(engine, args.takes, args.seed, Path(tmp))
    r, o = dr.position_figures(real), dr.position_figures(ours)
    print(f"{len(real)} validation songs beside {len(ours)} takes with verse/chorus/verse/chorus")
    print(f"{'group':12s} " + " ".join(f"{p:>15s}" for p in dr.PLACES) + "   (velocity / song median, real / ours)")
    for g, rows in r["by_place"].items():
        print(f"{g:12s} " + " ".join(f"{rows[p]:7.3f}/{o['by_place'][g][p]:7.3f}" for p in dr.PLACES))
    print(f"snare ghost notes % {r['snare_ghost_share']:.2f} / {o['snare_ghost_share']:.2f}")
    for lane, a, b in zip(LANES, lane_means(real), lane_means(ours)):
        print(f"  {lane:8s} mean velocity {a:6.1f} / {b:6.1f}")
    fr, fo, lab = dr.block_contrast(real), dr.block_contrast(ours), dr.section_contrast(ours, dr.FORM)
    print(f"full/light 8-bar blocks: notes x{fr['notes_ratio']:.3f} / x{fo['notes_ratio']:.3f}, "
          f"velocity {fr['velocity_diff']:+.2f} / {fo['velocity_diff']:+.2f}")
    print(f"chorus/verse (ours, labelled): notes x{lab['notes_ratio']:.3f}, velocity {lab['velocity_diff']:+.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
