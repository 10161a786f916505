"""Issue 29, dynamics from the music: velocity by beat position, snare ghost notes, a chorus against its verse,
real validation songs beside ours, as exported and read back with mido.

    PYTHONPATH=. .venv/bin/python -m benchmarks.bench_dynamics --data ../shared/data/band-midi [--songs 48 --takes 8]
    PYTHONPATH=. .venv/bin/python -m benchmarks.bench_dynamics --look /tmp/look   # a .mid, .wav and velocity roll

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


def look(engine, out: Path, seed: int) -> None:
    """One take with the form: .mid, .wav (musicvae render) and bars 7-10 (verse into chorus) drawn per lane, each
    note a bar from its start to its end at its pitch, its shade and the stem below it its velocity."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from musicvae_app.cli import main as render
    from musicvae_app.sketch.midi import write_midi

    out.mkdir(parents=True, exist_ok=True)
    mid = write_midi(engine.generate(steps=7, seed=seed, sections=dr.FORM), out / f"form{seed}.mid")
    render(["render", str(mid), "--out", str(out / f"form{seed}.wav")])  # `musicvae render`
    notes = dr.read(mid)["notes"]
    lo, hi = 6 * 4, 10 * 4  # beats of bars 7-10
    fig, axes = plt.subplots(len(LANES), 2, figsize=(14, 12), sharex=True, gridspec_kw={"width_ratios": [3, 1]})
    for i, lane in enumerate(LANES):
        n = notes[(notes[:, 0] == i) & (notes[:, 2] >= lo) & (notes[:, 2] < hi)]
        ax, vel = axes[i]
        ax.scatter(n[:, 2], n[:, 1], c=n[:, 3], cmap="viridis", vmin=20, vmax=127, s=18, marker="s")
        ax.set_ylabel(lane)
        vel.remove()
        ax2 = ax.inset_axes([1.02, 0.0, 0.3, 1.0])
        ax2.vlines(n[:, 2], 0, n[:, 3], colors="k", linewidth=0.6)
        ax2.set_ylim(0, 127)
        for bar in range(lo, hi + 1, 4):
            ax.axvline(bar, color="grey", linewidth=0.5)
    axes[0][0].set_title(f"seed {seed}: bars 7-10 (verse 7-8, chorus 9-10); shade and stems: velocity")
    fig.savefig(out / f"form{seed}.png", dpi=80)
    print(f"wrote {mid}, {out / f'form{seed}.wav'}, {out / f'form{seed}.png'}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pack", default="resources/models/default")
    parser.add_argument("--data", default=None, help="band-midi (required unless --look)")
    parser.add_argument("--songs", type=int, default=48)
    parser.add_argument("--takes", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--look", default=None, help="write one take's .mid, .wav and a velocity roll here, and stop")
    args = parser.parse_args(argv)
    engine = Engine.load(args.pack)
    if args.look:
        look(engine, Path(args.look), args.seed)
        return 0
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
    print(
        f"full/light 8-bar blocks: notes x{fr['notes_ratio']:.3f} / x{fo['notes_ratio']:.3f}, "
        f"velocity {fr['velocity_diff']:+.2f} / {fo['velocity_diff']:+.2f}"
    )
    print(f"chorus/verse (ours, labelled): notes x{lab['notes_ratio']:.3f}, velocity {lab['velocity_diff']:+.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
