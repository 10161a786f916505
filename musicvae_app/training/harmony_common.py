"""Pieces shared by the melody-net trainers of the harmony model (train_harmony_fine, train_harmony_fine_teacher,
harmony_teacher_train, train_harmony_attn): soft targets, the soft-target training step, the learning-rate
schedule, the argument lists, and the dev bench that scores a candidate net alone and in the shipped ensemble.

Dev figures are half bars of the dev songs (POP909 id % 10 == 1) with the right root + major/minor family, the
melody alone, decoded as the app decodes (HarmonyModel.decode); the validation songs are never read here.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from ..theory.harmony import N_CHORDS, NO_CHORD, HarmonyModel, _check, features, read_outputs, rotated_inputs
from ..theory.harmony import _log_softmax as log_softmax  # the app's own: a dev figure decodes as it does
from ..theory.harmony_fine import fine_outputs
from ..theory.harmony_net import net_outputs
from .train_harmony import family


# --- targets --------------------------------------------------------------------------------------
def soft_target(gold: np.ndarray, teacher: np.ndarray | None, mix: float) -> tuple[np.ndarray, np.ndarray]:
    """(targets (T, 84), mask (T,)) of a POP909 crop: the people's label, mixed with the teacher's marginals
    (weight `mix`) where given; half bars labelled N are left out."""
    mask = gold != NO_CHORD
    target = np.zeros((len(gold), N_CHORDS), dtype=np.float32)
    target[np.flatnonzero(mask), gold[mask]] = 1.0
    if teacher is not None and mix > 0:
        t = teacher.astype(np.float32)
        t /= np.maximum(t.sum(axis=1, keepdims=True), 1e-9)
        target = (1.0 - mix) * target + mix * t
    return target, mask


def band_target(item: dict) -> tuple[np.ndarray, np.ndarray]:
    """(targets, mask) of a teacher-labelled melody: the teacher's marginals where it was confident."""
    t = item["soft"].astype(np.float32)
    return t / np.maximum(t.sum(axis=1, keepdims=True), 1e-9), item["mask"].copy()


def pop_target(gold: np.ndarray, smoothing: float) -> tuple[np.ndarray, np.ndarray]:
    """(targets (T, 84), mask) of a POP909 crop: the people's label, smoothed as CrossEntropyLoss does."""
    mask = gold != NO_CHORD
    target = np.full((len(gold), N_CHORDS), smoothing / N_CHORDS, dtype=np.float32)
    target[np.flatnonzero(mask), gold[mask]] += 1.0 - smoothing
    return target, mask


# --- the training step ------------------------------------------------------------------------------
def soft_step(net, opt, chord, key, targets, masks, keys, key_weight: float = 0.2, key_smoothing: float = 0.0) -> float:
    """One optimiser step on the soft-target loss: the cross-entropy of the chord logits (B, T, 84) with the
    targets (B, T, 84) over the masked half bars, plus key_weight x the key's (logits (B, 24), keys: index,
    NO_CHORD for none; label smoothing key_smoothing); gradients clipped at norm 1. Returns the loss."""
    import torch

    tgt = torch.from_numpy(np.stack(targets))
    msk = torch.from_numpy(np.stack(masks)).float()
    nll = -(tgt * torch.log_softmax(chord, dim=-1)).sum(-1)
    key_ce = torch.nn.functional.cross_entropy(
        key, torch.tensor(keys), ignore_index=NO_CHORD, label_smoothing=key_smoothing
    )
    loss = (nll * msk).sum() / msk.sum().clamp(min=1.0) + key_weight * key_ce
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
    opt.step()
    return loss.item()


def set_lr(opt, lr: float, step: int, frac: float, cosine: bool, warmup: int = 200) -> None:
    """Linear warm-up over `warmup` steps, then (cosine) decay to 0 over the run's share `frac` of its time."""
    for group in opt.param_groups:
        group["lr"] = lr * min(1.0, step / warmup) * (0.5 * (1.0 + np.cos(np.pi * frac)) if cosine else 1)


def band_share(args, frac: float) -> float:
    """The share of melody crops taken from the teacher-labelled band-midi leads at the run's share `frac`."""
    return args.band_share + (args.band_share_end - args.band_share) * frac


def ensemble_figure(figures: dict[str, float]) -> float:
    """The best of DevBench.figures' ensemble figures: the candidate added to the shipped nets or in one's place."""
    return max(v for k, v in figures.items() if k.startswith(("shipped+", "it for")))


def keep_checkpoints(run: str, name: str, params: dict, figures: dict, ens: float, best: dict, history: list, args):
    """After a dev evaluation: the net saved as run_<name>.npz, and as run_best_alone.npz / run_best_ens.npz where
    its figure alone (figures["alone"]) / in the ensemble (`ens`) beats `best` (updated in place); the run's
    arguments and history written to run_history.json."""
    np.savez(f"{run}_{name}.npz", **params)
    if figures["alone"] > best["alone"]:
        best["alone"] = figures["alone"]
        np.savez(run + "_best_alone.npz", **params)
    if ens > best["ens"]:
        best["ens"] = ens
        np.savez(run + "_best_ens.npz", **params)
    with open(run + "_history.json", "w") as fh:
        json.dump({"args": vars(args), "argv": sys.argv[1:], "history": history}, fh, indent=1)


# --- arguments --------------------------------------------------------------------------------------
def add_run_args(ap: argparse.ArgumentParser, **defaults) -> None:
    """The arguments every trainer has; `defaults` overrides their defaults (by dest name)."""
    d = {
        "data": "/work/shared/data/pop909",
        "crop": 128,
        "batch": 8,
        "lr": 2e-3,
        "minutes": 40.0,
        "eval_every": 250,
        "seed": 0,
        "run_name": "run",
        **defaults,
    }
    ap.add_argument("--data", default=d["data"])
    ap.add_argument("--crop", type=int, default=d["crop"], help="half bars a training crop")
    ap.add_argument("--batch", type=int, default=d["batch"])
    ap.add_argument("--lr", type=float, default=d["lr"])
    ap.add_argument("--minutes", type=float, default=d["minutes"])
    ap.add_argument("--max-steps", type=int, default=0)
    ap.add_argument("--eval-every", type=int, default=d["eval_every"])
    ap.add_argument("--seed", type=int, default=d["seed"])
    ap.add_argument("--run-name", default=d["run_name"])


def add_band_args(ap: argparse.ArgumentParser, what: str = "crops") -> None:
    """The teacher-labelled band-midi leads (training/harmony_teacher) and their share falling over the run."""
    ap.add_argument("--band", default="/tmp/teacher/band.pkl", help="harmony_teacher's labelled band-midi leads")
    ap.add_argument("--band-share", type=float, default=0.5, help=f"share of {what} from band-midi at the start")
    ap.add_argument("--band-share-end", type=float, default=0.1, help="... and at the end (linear)")


# --- dev figures --------------------------------------------------------------------------------------
def family_hits(model: HarmonyModel, log_post: np.ndarray, ref: np.ndarray) -> tuple[int, int]:
    """(half bars with the right root + major/minor family, half bars labelled) of log chord probabilities (n, 84)
    decoded as the app decodes (model.decode), against the labels `ref` (n,) (NO_CHORD: left out)."""
    path = np.array(model.decode(log_post, 1)[0][1])
    m = ref != NO_CHORD
    return int((family(path)[m] == family(ref)[m]).sum()), int(m.sum())


def shipped_logs(model: HarmonyModel, songs: list[dict]) -> list[list[tuple[np.ndarray, np.ndarray]]]:
    """Per dev song, each shipped melody-ensemble net's (log p(chord), log p(key)) on the melody alone."""
    nets = [model, *model.melody_nets]
    out = []
    for s in songs:
        arr = _check(s["melody"])
        n = len(s["halves"])
        feats = {v: rotated_inputs(*features(arr, n, 4, v)) for v in {m.version for m in nets}}
        outs = net_outputs([m.p for m in nets], [feats[m.version] for m in nets])
        out.append([read_outputs(o) for o in outs])
    return out


class DevBench:
    """Dev figures (half-bar root + family, melody alone, the app's decode) of a candidate net's log chord
    probabilities, alone and with the shipped melody ensemble's nets (the first, melody*.npz, fine*.npz)."""

    def __init__(self, shipped: str, songs: list[dict]) -> None:
        self.model = HarmonyModel.load(shipped)
        self.dev = [s for s in songs if s["split"] == "dev" and len(s["melody"])]
        names = ["harmony", *[f"melody{i + 1}" for i in range(len(self.model.melody_nets))]]
        self.logs: dict[str, list[np.ndarray]] = {n: [] for n in names}
        for per_song in shipped_logs(self.model, self.dev):
            for name, (c, _) in zip(names, per_song):
                self.logs[name].append(c)
        for i, p in enumerate(self.model.fine_nets):
            self.logs[f"fine{i + 1}"] = [read_outputs(fine_outputs(p, s["steps"]))[0] for s in self.dev]

    def score(self, logs: list[list[np.ndarray]]) -> float:
        hit = total = 0
        for i, s in enumerate(self.dev):
            h, t = family_hits(self.model, log_softmax(sum(x[i] for x in logs) / len(logs)), s["halves"])
            hit, total = hit + h, total + t
        return hit / max(total, 1)

    def figures(self, mine: list[np.ndarray]) -> dict[str, float]:
        """mine: the candidate's log chord probabilities per dev song (self.dev's order)."""
        out = {"alone": self.score([mine]), "shipped": self.shipped_figure()}
        out["shipped+it"] = self.score([*self.logs.values(), mine])
        for name in self.logs:
            if name != "harmony":
                out[f"it for {name}"] = self.score([v for n, v in self.logs.items() if n != name] + [mine])
        return out

    def shipped_figure(self) -> float:
        if not hasattr(self, "_shipped"):
            self._shipped = self.score(list(self.logs.values()))
        return self._shipped
