"""Train the fine melody net (theory/harmony_fine.py) with an auxiliary target: what the band sounds under the tune.

    python -m musicvae_app.training.train_harmony_fine_aux --data /work/shared/data/pop909 --aux 0.5 --run-name fineX1

The same net, crops, targets and dev measurement as train_harmony_fine (its --distill / --distill-soft too), and a
second head used in training only: per half bar, the accompaniment's pitch-class profile (POP909's PIANO track,
each pitch class weighted by how long it sounds in the half bar, normalised to sum 1; half bars where the piano is
silent are left out). It is a dense, self-supervised signal that says which notes sound under the melody, beside
the 84 chord labels. The head is transposition-equivariant as the chord outputs are: in transposition r it reads
one number, the score of pitch class r, from the last hidden layer; the 12 scores are a softmax over the pitch
classes, and the loss is its cross-entropy with the profile, times --aux. The head is not exported: the written
checkpoints are the fine net's 9 outputs only, so the app's loader (harmony_fine.fine_outputs) reads them as any
other fine*.npz. The validation songs (id % 5 == 0) are never read here (train_harmony_fine.build leaves them out).
"""

from __future__ import annotations

import argparse
import os
import pickle
import time

import numpy as np

from ..theory.harmony import NO_CHORD, HarmonyModel
from . import harmony_common as hc
from . import harmony_data as hd
from . import train_harmony_fine as tf
from .harmony_common import shipped_logs
from .train_harmony import CACHE


def chroma(notes: np.ndarray, n_halves: int, beats_per_half: float = 2.0) -> np.ndarray:
    """(n_halves, 12) float32: per half bar, each pitch class's sounding time (beats) in it, normalised to sum 1
    (a row of zeros where nothing sounds). notes: (N, >= 3) pitch, start, end in beats, bar 1 at beat 0."""
    out = np.zeros((n_halves, 12), dtype=np.float64)
    notes = np.asarray(notes, dtype=np.float64)
    for pitch, start, end in notes[:, :3] if len(notes) else ():
        first = max(int(np.floor(start / beats_per_half)), 0)
        last = min(int(np.ceil(end / beats_per_half)), n_halves)
        for h in range(first, last):
            overlap = min(end, (h + 1) * beats_per_half) - max(start, h * beats_per_half)
            if overlap > 0:
                out[h, int(pitch) % 12] += overlap
    total = out.sum(axis=1, keepdims=True)
    return (out / np.where(total > 0, total, 1.0)).astype(np.float32)


def pianos(root: str) -> dict[int, np.ndarray]:
    """Per POP909 song id (train and dev only), its PIANO track's notes on the song's beat grid."""
    out = {}
    for song in hd.load_all(root, os.path.join(CACHE, "songs.pkl")):
        if hd.split_of(song.song_id) != "val":
            out[song.song_id] = song.tracks.get("PIANO", np.zeros((0, 4)))
    return out


def build_chroma(root: str, songs: list[dict]) -> dict[int, np.ndarray]:
    """Per song id of `songs`, the accompaniment's profile per half bar (chroma), cached beside the fine cache."""
    path = os.path.join(tf.FINE_CACHE, "chroma_aux.pkl")
    if os.path.exists(path):
        with open(path, "rb") as fh:
            cached = pickle.load(fh)
        if all(s["id"] in cached for s in songs):
            return cached
    notes = pianos(root)
    out = {s["id"]: chroma(notes[s["id"]], len(s["halves"])) for s in songs if s["id"] in notes}
    os.makedirs(tf.FINE_CACHE, exist_ok=True)
    with open(path, "wb") as fh:
        pickle.dump(out, fh)
    return out


def attach_aux(net, hidden: int):
    """Give the fine net (train_harmony_fine.make_net) its auxiliary head: a layer from the last hidden state (the
    input of its output layer, caught by a hook) to one number per transposition. Returns the net."""
    from torch import nn

    net.add_module("aux", nn.Linear(hidden, 1))
    net.out.register_forward_hook(lambda module, inputs, output: setattr(net, "last_hidden", inputs[0]))
    return net


def aux_logits(net):
    """(B, T, 12) pitch-class scores of the net's last forward (index = pitch class: transposition r's number)."""
    return net.aux(net.last_hidden).squeeze(-1).transpose(1, 2)


def aux_step(net, opt, chord, key, batch: dict, aux_weight: float, key_smoothing: float) -> tuple[float, float]:
    """One optimiser step: harmony_common.soft_step's loss (chords' soft cross-entropy over the labelled half bars
    + 0.2 x the key's) + aux_weight x the accompaniment profile's cross-entropy over the half bars where it sounds.
    Returns (the whole loss, the auxiliary term)."""
    import torch

    tgt = torch.from_numpy(np.stack(batch["targets"]))
    msk = torch.from_numpy(np.stack(batch["masks"])).float()
    nll = -(tgt * torch.log_softmax(chord, dim=-1)).sum(-1)
    key_ce = torch.nn.functional.cross_entropy(
        key, torch.tensor(batch["keys"]), ignore_index=NO_CHORD, label_smoothing=key_smoothing
    )
    prof = torch.from_numpy(np.stack(batch["chroma"]))
    sounding = (prof.sum(-1) > 0).float()
    aux_nll = -(prof * torch.log_softmax(aux_logits(net), dim=-1)).sum(-1)
    aux = (aux_nll * sounding).sum() / sounding.sum().clamp(min=1.0)
    loss = (nll * msk).sum() / msk.sum().clamp(min=1.0) + 0.2 * key_ce + aux_weight * aux
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
    opt.step()
    return loss.item(), aux.item()


def train(args) -> None:
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    songs = tf.build(args.data)
    tr = [s for s in songs if s["split"] == "train" and len(s["halves"]) >= args.crop]
    dev = [s for s in songs if s["split"] == "dev" and len(s["melody"])]
    prof = build_chroma(args.data, tr)
    teach = {}
    if args.distill > 0 and args.distill_soft:
        with open(args.distill_soft, "rb") as fh:
            soft = pickle.load(fh)
        teach = {s["id"]: tf.normalised(soft[s["id"]]) for s in tr if s["id"] in soft}
    elif args.distill > 0:
        teach = tf.distill_targets(args.distill_from or args.shipped, tr)
    print(f"songs: train {len(tr)} ({len(prof)} with a piano profile), dev {len(dev)}", flush=True)
    model = HarmonyModel.load(args.shipped)
    shipped = shipped_logs(model, dev)
    net = attach_aux(tf.make_net(args.channels, args.hidden, args.att, args.dropout), args.hidden)
    print(f"parameters: {sum(p.numel() for p in net.parameters())}", flush=True)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    os.makedirs(tf.FINE_CACHE, exist_ok=True)
    run = os.path.join(tf.FINE_CACHE, args.run_name)
    best = {"alone": -1.0, "ens": -1.0}
    history = []
    aux_sum = aux_n = 0.0
    t0, step = time.time(), 0
    while time.time() - t0 < args.minutes * 60 and (not args.max_steps or step < args.max_steps):
        net.train()
        frac = min(1.0, (time.time() - t0) / (args.minutes * 60))
        hc.set_lr(opt, args.lr, step, frac, args.cosine)
        batch = {"targets": [], "masks": [], "keys": [], "chroma": []}
        xs = []
        for _ in range(args.batch):
            s, start, x, target, mask = tf.draw_crop(tr, args, rng, teach)
            xs.append(x)
            batch["targets"].append(target)
            batch["masks"].append(mask)
            batch["keys"].append(s["key"])
            p = prof.get(s["id"], np.zeros((len(s["halves"]), 12), np.float32))[start : start + args.crop]
            batch["chroma"].append(p)
        chord, key = net(torch.from_numpy(np.stack(xs)))
        loss, aux = aux_step(net, opt, chord, key, batch, args.aux, args.label_smoothing)
        aux_sum, aux_n = aux_sum + aux, aux_n + 1
        step += 1
        if step % args.eval_every == 0:
            params = tf.export(net)
            r = tf.dev_scores(model, dev, shipped, tf.numpy_logs(params, dev), (1.0, 2.0))
            r["aux_loss"] = aux_sum / max(aux_n, 1)
            aux_sum = aux_n = 0.0
            history.append({"step": step, "seconds": round(time.time() - t0), **r})
            print(
                f"step {step} {time.time() - t0:.0f}s loss {loss:.3f} dev "
                + " ".join(f"{k} {v:.4f}" for k, v in r.items()),
                flush=True,
            )
            hc.keep_checkpoints(run, "last", params, r, r["ens+1"], best, history, args)
            if args.keep_all:
                np.savez(f"{run}_step{step}.npz", **params)
    print(f"done: {step} steps, best dev {best}", flush=True)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    hc.add_run_args(ap, run_name="fineX")
    tf.add_fine_args(ap)
    ap.add_argument("--aux", type=float, default=0.5, help="weight of the accompaniment profile's loss")
    train(ap.parse_args(argv))


if __name__ == "__main__":
    main()
