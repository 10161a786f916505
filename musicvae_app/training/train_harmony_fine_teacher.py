"""Train the fine melody net (theory/harmony_fine.py) on POP909's sung melodies and teacher-labelled band-midi leads.

    python -m musicvae_app.training.train_harmony_fine_teacher --data /work/shared/data/pop909 \
        --band /tmp/teacher/band.pkl --band-data /work/shared/data/band-midi --minutes 40 --cosine --run-name FT1

Two ideas of issue 33 together: the fine net (train_harmony_fine: the melody on a 16th grid, dilated layers and
attention over the song's half bars) and the teacher's labels (harmony_teacher: the shipped first net's chord
marginals on a band-midi song's band, confident half bars only, as soft targets for its lead line alone).

harmony_teacher keeps half-bar features of each lead, not its notes; the fine net reads notes, so each kept lead is
found again in its file (the same lead order as harmony_teacher.band_items, the one whose half-bar features are the
stored ones) and read on the fine grid (`build_band`, cached outside the project). Each training crop is a band-midi
lead with probability falling linearly from --band-share to --band-share-end over the run (learn from the many
teacher-labelled melodies first, end on POP909's own), else a POP909 training melody with its people's labels
(label smoothing as train_harmony_fine). The loss is the cross-entropy with those (soft) targets over the kept half
bars, plus 0.2 x the key's (POP909's annotated key; the teacher's key of a band song when it was sure).

Every --eval-every steps the net is measured on the dev songs (id % 10 == 1) alone and with the shipped melody
ensemble (the first net, melody*.npz, fine*.npz beside --shipped): the shipped ensemble plus it, and it in place of
each shipped net; every such checkpoint is kept (run_<step>.npz) and the best by the ensembles' best dev figure.
The validation songs (id % 5 == 0) are never read.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import time

import numpy as np

from ..theory.harmony import DEFAULT_WEIGHTS, features
from ..theory.harmony_fine import STEPS
from ..theory.harmony_fine import step_features as fine_steps
from . import harmony_band as hb
from . import harmony_common as hc
from .harmony_common import DevBench, band_target, pop_target
from .train_harmony_fine import build, export, make_net, numpy_logs

CACHE = os.path.join(os.environ.get("TMPDIR", "/tmp"), "fineteach")


def find_lead(tracks: list[dict], item: dict) -> np.ndarray | None:
    """The notes of the lead line of `tracks` whose half-bar melody features are the item's (None if none is)."""
    n_halves = len(item["halves"])
    prof, scal = item["feats"]["melody"]
    leads = [i for i, t in enumerate(tracks) if hb.is_lead(t, n_halves // 2)]
    leads.sort(key=lambda i: (not hb.LEAD_NAMES.search(tracks[i]["name"]), -len(tracks[i]["notes"]), i))
    for i in leads:
        p, s = features(tracks[i]["notes"], n_halves, 4, 2)
        if p.shape == prof.shape and np.allclose(p, prof, atol=1e-5) and np.allclose(s, scal, atol=1e-5):
            return tracks[i]["notes"]
    return None


def band_fine_item(item: dict, notes: np.ndarray) -> dict:
    """A teacher-labelled lead for the fine net: its step features, the teacher's soft targets, mask and key."""
    n_halves = len(item["halves"])
    return {
        "id": item["id"],
        "soft": item["soft"],
        "mask": item["mask"],
        "halves": item["halves"],
        "key": item["key"],
        "steps": fine_steps(notes, n_halves, 4),
    }


def build_band(band_pkl: str, data: str, out: str) -> list[dict]:
    """The teacher-labelled band-midi leads of `band_pkl` read again from `data` on the fine grid (cached at out)."""
    if os.path.exists(out):
        with open(out, "rb") as fh:
            return pickle.load(fh)
    with open(band_pkl, "rb") as fh:
        items = pickle.load(fh)
    paths = {os.path.basename(p): p for p in hb.training_files(data)}
    kept, missed, t0 = [], 0, time.time()
    for n, item in enumerate(items):
        notes = None
        if item["id"] in paths:
            tracks, _ = hb.read_tracks(paths[item["id"]])
            notes = find_lead(tracks, item)
        if notes is None:
            missed += 1
        else:
            kept.append(band_fine_item(item, notes))
        if n % 200 == 0:
            print(f"band leads {n}/{len(items)}: {len(kept)} found, {missed} not, {time.time() - t0:.0f}s", flush=True)
    print(f"band leads: {len(kept)} of {len(items)} found again", flush=True)
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    with open(out, "wb") as fh:
        pickle.dump(kept, fh)
    return kept


def train(args) -> None:
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    songs = build(args.data)
    tr = [s for s in songs if s["split"] == "train" and len(s["halves"]) >= args.crop]
    band = [b for b in build_band(args.band, args.band_data, args.band_cache) if len(b["halves"]) >= args.crop]
    bench = DevBench(args.shipped, songs)
    print(f"POP909 train {len(tr)}, dev {len(bench.dev)}; band-midi leads {len(band)} (>= {args.crop} half bars)")
    print(f"shipped ensemble ({', '.join(bench.logs)}) on dev: {bench.shipped_figure():.4f}", flush=True)
    net = make_net(args.channels, args.hidden, args.att, args.dropout)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    os.makedirs(args.checkpoints, exist_ok=True)
    run = os.path.join(args.checkpoints, args.run_name)
    best = {"alone": -1.0, "ens": -1.0}
    history = []
    t0, step = time.time(), 0
    while time.time() - t0 < args.minutes * 60 and (not args.max_steps or step < args.max_steps):
        net.train()
        frac = min(1.0, (time.time() - t0) / (args.minutes * 60))
        band_share = hc.band_share(args, frac)
        hc.set_lr(opt, args.lr, step, frac, args.cosine)
        xs, targets, masks, keys = [], [], [], []
        for _ in range(args.batch):
            if band and rng.random() < band_share:
                s = band[rng.integers(len(band))]
                target, mask = band_target(s)
            else:
                s = tr[rng.integers(len(tr))]
                target, mask = pop_target(s["halves"], args.label_smoothing)
            start = 2 * rng.integers(0, (len(s["halves"]) - args.crop) // 2 + 1)
            x = s["steps"][start * STEPS : (start + args.crop) * STEPS].astype(np.float32)
            if rng.random() < args.octave_p:  # the same line an octave up or down: register is not harmony
                x[:, 26] = np.where(x[:, 24] == 0, x[:, 26] + rng.choice((-0.5, 0.5)), 0.0)
            xs.append(x)
            targets.append(target[start : start + args.crop])
            masks.append(mask[start : start + args.crop])
            keys.append(s["key"])
        chord, key = net(torch.from_numpy(np.stack(xs)))
        loss = hc.soft_step(net, opt, chord, key, targets, masks, keys)
        step += 1
        if step % args.eval_every == 0:
            params = export(net)
            r = bench.figures([c for c, _ in numpy_logs(params, bench.dev)])
            history.append({"step": step, "seconds": round(time.time() - t0), "loss": round(loss, 3), **r})
            print(
                json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in history[-1].items()}), flush=True
            )
            hc.keep_checkpoints(run, str(step), params, r, hc.ensemble_figure(r), best, history, args)
    print(f"done: {step} steps, best dev {best}", flush=True)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    hc.add_run_args(ap, run_name="FT")
    hc.add_band_args(ap)
    ap.add_argument("--band-data", default="/work/shared/data/band-midi")
    ap.add_argument("--band-cache", default=os.path.join(CACHE, "band_fine.pkl"))
    ap.add_argument("--shipped", default=DEFAULT_WEIGHTS, help="the shipped harmony.npz (melody/fine nets beside it)")
    ap.add_argument("--checkpoints", default=CACHE)
    ap.add_argument("--channels", type=int, default=32)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--att", type=int, default=32)
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--weight-decay", type=float, default=1e-4)
    ap.add_argument("--label-smoothing", type=float, default=0.1)
    ap.add_argument("--octave-p", type=float, default=0.3)
    ap.add_argument("--cosine", action="store_true")
    train(ap.parse_args(argv))


if __name__ == "__main__":
    main()
