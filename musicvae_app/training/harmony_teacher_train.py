"""Train a melody net for the harmony model on teacher labels (training/harmony_teacher) and POP909's own.

    python -m musicvae_app.training.harmony_teacher_train --data /work/shared/data/pop909 \
        --band /tmp/teacher/band.pkl --pop909-soft /tmp/teacher/pop909_soft.pkl --out /tmp/teacher --name melody3.npz

The net has the shape of the shipped melody nets (train_harmony.make_net: input layer, one bidirectional GRU
layer, feature version 2), so theory/harmony_net.py runs it beside them. Each step draws crops:
- a share `melody_share` of them are melodies alone; of those, a share of band-midi lead lines (their targets:
  the teacher's marginals on their band, confident half bars only), falling linearly from `band_share` to
  `band_share_end` over the run (learn from the many teacher-labelled melodies first, end on POP909's own), and
  POP909 training melodies (targets: the people's label mixed with the teacher's marginals on the song's piano,
  weight `teacher_mix`);
- the rest are POP909's other input kinds (piano, melody + piano, the piano's lowest line) with the same targets.
The loss is the cross-entropy with those soft targets, plus 0.2 x the key's (POP909's annotated key; the teacher's
key for a band-midi song when it is sure). Checkpoints are chosen on the dev songs (id % 10 == 1) by the net's own
melody-alone figure and by the ensemble with the shipped nets (dev_figures); the validation songs are not read.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import time

import numpy as np

from ..theory.harmony import (
    DEFAULT_WEIGHTS,
    MELODY_FILE,
    HarmonyModel,
    read_outputs,
    rotated_inputs,
)
from ..theory.harmony_fine import FINE_FILE, fine_outputs, step_features
from ..theory.harmony_net import net_outputs
from . import harmony_data as hd
from .harmony_common import band_target, ensemble_figure, family_hits, log_softmax, set_lr, soft_step, soft_target
from .train_harmony import CACHE, NET_KEYS, build, export, make_net


# --- dev figures ------------------------------------------------------------------------------------
def shipped_nets(folder: str) -> tuple[HarmonyModel, dict[str, dict]]:
    """The shipped first net (its decoding is used) and the shipped melody nets by file name."""
    first = HarmonyModel.load(os.path.join(folder, "harmony.npz"))
    names = sorted(f for f in os.listdir(folder) if MELODY_FILE.fullmatch(f) or FINE_FILE.fullmatch(f))
    nets = {}
    for name in names:
        with np.load(os.path.join(folder, name)) as data:
            nets[name] = {k: data[k] for k in data.files}
    return first, nets


def net_posts(params: dict, songs_by_version: dict[int, list[dict]]) -> list[np.ndarray]:
    """One net's log chord posteriors per dev song's melody (the songs' order)."""
    if "step_w" in params:  # a fine net (theory/harmony_fine)
        return [
            read_outputs(fine_outputs(params, step_features(s["melody"], len(s["halves"]), 4)))[0]
            for s in songs_by_version[2]
        ]
    version = int(params.get("features", np.array(1)))
    out = []
    for s in songs_by_version[version]:
        prof, scal = s["feats"]["melody"]
        out.append(read_outputs(net_outputs([params], [rotated_inputs(prof, scal)])[0])[0])
    return out


def score(first: HarmonyModel, posts: list[list[np.ndarray]], songs: list[dict]) -> float:
    """Melody alone, half bars, root + family, of the nets' averaged posteriors decoded as the app decodes."""
    hit = total = 0
    for i, s in enumerate(songs):
        prof, _ = s["feats"]["melody"]
        if not prof.sum() > 0:
            continue
        h, t = family_hits(first, log_softmax(sum(p[i] for p in posts) / len(posts)), s["halves"])
        hit, total = hit + h, total + t
    return hit / max(total, 1)


def dev_figures(candidate: dict, first: HarmonyModel, shipped: dict[str, list[np.ndarray]], songs: dict) -> dict:
    """The candidate alone, the shipped ensemble, the shipped + it, and it in place of each shipped melody net.

    shipped: the shipped melody nets' posteriors by file name, and the first net's under 'harmony.npz'."""
    dev = songs[2]
    shipped = dict(shipped)
    first_posts = shipped.pop("harmony.npz")
    cand = net_posts(candidate, songs)
    out = {"alone": score(first, [cand], dev), "shipped": score(first, [first_posts, *shipped.values()], dev)}
    out["shipped+it"] = score(first, [first_posts, *shipped.values(), cand], dev)
    for name in shipped:
        rest = [p for n, p in shipped.items() if n != name]
        out[f"it for {name}"] = score(first, [first_posts, *rest, cand], dev)
    return out


def train(args) -> None:
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    songs = build(args.data, 2)
    v1 = {s["id"]: s for s in build(args.data, 1)}
    tr = [s for s in songs if s["split"] == "train" and len(s["halves"]) >= args.crop]
    dev = [s for s in songs if s["split"] == "dev"]
    dev_v1 = [v1[s["id"]] for s in dev]
    del v1
    with open(args.pop909_soft, "rb") as fh:
        pop_soft = pickle.load(fh)
    band = []
    if args.band:
        with open(args.band, "rb") as fh:
            band = [b for b in pickle.load(fh) if len(b["halves"]) >= args.crop]
    print(f"POP909 train {len(tr)}, dev {len(dev)}; teacher-labelled band-midi melodies {len(band)}", flush=True)
    first, shipped_params = shipped_nets(args.shipped)
    by_version = {1: dev_v1, 2: dev}
    shipped = {name: net_posts(p, by_version) for name, p in shipped_params.items()}
    shipped["harmony.npz"] = net_posts(first.p, by_version)
    net = make_net(args.hidden, 1, 2)
    if args.init:
        from .train_harmony import import_npz

        import_npz(net, args.init, 1)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    rest = (1.0 - args.melody_share) / 0.6
    kinds_p = np.array([args.melody_share, 0.2 * rest, 0.15 * rest, 0.25 * rest])
    run = os.path.join(args.checkpoints, args.run_name)
    os.makedirs(args.checkpoints, exist_ok=True)
    best_alone, best_ens, t0, step, log = -1.0, -1.0, time.time(), 0, []
    while time.time() - t0 < args.minutes * 60 and (not args.max_steps or step < args.max_steps):
        frac = min(1.0, (time.time() - t0) / (args.minutes * 60))
        band_share = args.band_share + (args.band_share_end - args.band_share) * frac
        if args.cosine:  # warm-up over 200 steps, then cosine decay over the run's wall time
            set_lr(opt, args.lr, step + 1, frac, True)
        net.train()
        profs, scals, targets, masks, keys = [], [], [], [], []
        for _ in range(args.batch):
            kind = hd.KINDS[rng.choice(4, p=kinds_p)]
            if kind == "melody" and band and rng.random() < band_share:
                b = band[rng.integers(len(band))]
                start = 2 * rng.integers(0, (len(b["halves"]) - args.crop) // 2 + 1)
                target, mask = band_target(b)
                prof, scal = b["feats"]["melody"]
                key = b["key"]
            else:
                s = tr[rng.integers(len(tr))]
                start = 2 * rng.integers(0, (len(s["halves"]) - args.crop) // 2 + 1)
                target, mask = soft_target(s["halves"], pop_soft.get(s["id"]), args.teacher_mix)
                prof, scal = s["feats"][kind]
                key = s["key"]
            sl = slice(start, start + args.crop)
            profs.append(prof[sl])
            scals.append(scal[sl])
            targets.append(target[sl])
            masks.append(mask[sl])
            keys.append(key)
        chord, key = net(torch.from_numpy(np.stack(profs)), torch.from_numpy(np.stack(scals)))
        loss = soft_step(net, opt, chord, key, targets, masks, keys)
        step += 1
        if step % args.eval_every == 0:
            params = export(net, 1, 2)
            alone = score(first, [net_posts(params, by_version)], dev)
            line = {"step": step, "s": round(time.time() - t0), "loss": round(loss, 3), "alone": alone}
            np.savez(run + "_last.npz", **params)
            if args.keep_all:
                np.savez(run + f"_step{step}.npz", **params)
            if alone > best_alone - 0.004:  # near the best alone: also measure the ensembles
                line.update(dev_figures(params, first, shipped, by_version))
                ens = ensemble_figure(line)
                if ens > best_ens:
                    best_ens = ens
                    np.savez(run + "_best_ens.npz", **params)
            if alone > best_alone:
                best_alone = alone
                np.savez(run + "_best_alone.npz", **params)
            log.append(line)
            print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in line.items()}), flush=True)
    with open(run + "_log.json", "w") as fh:
        json.dump({"args": vars(args), "steps": step, "log": log}, fh, indent=1)
    ens = args.select == "ensemble" and os.path.exists(run + "_best_ens.npz")
    pick = run + ("_best_ens.npz" if ens else "_best_alone.npz")
    with np.load(pick) as data:
        net_only = {k: np.asarray(data[k]) for k in data.files if k.startswith(("in_", "out_", "g")) or k in NET_KEYS}
    os.makedirs(args.out, exist_ok=True)
    np.savez_compressed(os.path.join(args.out, args.name), **net_only)
    print(f"wrote {os.path.join(args.out, args.name)} from {pick} after {step} steps", flush=True)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="/work/shared/data/pop909")
    ap.add_argument("--band", default="/tmp/teacher/band.pkl", help="harmony_teacher's band-midi items ('' none)")
    ap.add_argument("--pop909-soft", default="/tmp/teacher/pop909_soft.pkl", help="harmony_teacher's POP909 marginals")
    ap.add_argument("--shipped", default=os.path.dirname(DEFAULT_WEIGHTS), help="the shipped nets (dev ensembles)")
    ap.add_argument("--out", default="/tmp/teacher")
    ap.add_argument("--name", default="melody3.npz")
    ap.add_argument("--checkpoints", default=os.path.join(CACHE, "teacher"))
    ap.add_argument("--run-name", default="T1")
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--crop", type=int, default=64)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--minutes", type=float, default=25.0)
    ap.add_argument("--max-steps", type=int, default=0)
    ap.add_argument("--keep-all", action="store_true", help="keep every evaluated checkpoint (RUN_stepN.npz)")
    ap.add_argument("--cosine", action="store_true", help="warm-up, then cosine lr decay over --minutes")
    ap.add_argument("--eval-every", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--init", default=None, help="start from a melody net of the same shape (.npz)")
    ap.add_argument("--melody-share", type=float, default=0.8)
    ap.add_argument("--band-share", type=float, default=0.5, help="share of melody crops from band-midi at the start")
    ap.add_argument("--band-share-end", type=float, default=0.1, help="... and at the end (linear)")
    ap.add_argument("--teacher-mix", type=float, default=0.3, help="weight of the teacher's marginals on POP909")
    ap.add_argument("--select", choices=("alone", "ensemble"), default="ensemble")
    train(ap.parse_args(argv))


if __name__ == "__main__":
    main()
