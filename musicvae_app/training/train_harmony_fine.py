"""Train the fine melody net (musicvae_app.theory.harmony_fine) on POP909's sung melodies.

    python -m musicvae_app.training.train_harmony_fine --data /work/shared/data/pop909 --out resources/models/harmony

The melody of every song is read on a grid of 8 steps a half bar (harmony_fine.step_features) and cached under
/tmp/fine/; the net learns the half-bar chords (84 classes, N left out) and the key from random crops of the
training songs' melodies. Every --eval-every steps it is measured on the dev songs (id % 10 == 1) alone and in
the shipped melody ensemble (its log probabilities averaged with the three half-bar nets', then the shipped
minimum-Bayes-risk decode), half bars scored by root + major/minor family; the checkpoints with the best dev
figures are kept. The validation songs (id % 5 == 0) are never read here. torch is needed here only.
"""

from __future__ import annotations

import argparse
import os
import pickle
import time

import numpy as np

from ..theory.harmony import N_Q, NO_CHORD, HarmonyModel, _check, read_outputs
from ..theory.harmony_fine import N_STEP, STEPS
from ..theory.harmony_fine import step_features as fine_steps
from . import harmony_common as hc
from . import harmony_data as hd
from .harmony_common import shipped_logs
from .train_harmony import CACHE, family, split_outputs

FINE_CACHE = os.path.join(os.environ.get("TMPDIR", "/tmp"), "fine")
DILATIONS = (1, 2, 4, 8)


def build(root: str) -> list[dict]:
    """Per song (train and dev only): id, split, key, half-bar labels, melody notes, step features."""
    path = os.path.join(FINE_CACHE, "songs_fine.pkl")
    if os.path.exists(path):
        with open(path, "rb") as fh:
            return pickle.load(fh)
    out = []
    for song in hd.load_all(root, os.path.join(CACHE, "songs.pkl")):
        split = hd.split_of(song.song_id)
        if split == "val":
            continue
        halves = hd.half_labels(song.beat_labels)
        mel = song.tracks.get("MELODY", np.zeros((0, 4)))
        out.append(
            {
                "id": song.song_id,
                "split": split,
                "key": song.key[0] + (12 if song.key[1] == "minor" else 0),
                "halves": halves,
                "melody": mel,
                "steps": fine_steps(mel, len(halves), 4),
            }
        )
    os.makedirs(FINE_CACHE, exist_ok=True)
    with open(path, "wb") as fh:
        pickle.dump(out, fh)
    return out


def make_net(channels: int, hidden: int, att: int, dropout: float):
    import torch
    from torch import nn

    def neighbours(h, d):
        pad = torch.zeros_like(h[..., :1, :]).expand(*h.shape[:-2], d, h.shape[-1])
        padded = torch.cat([pad, h, pad], dim=-2)
        t = h.shape[-2]
        return torch.cat([padded[..., :t, :], h, padded[..., 2 * d :, :]], dim=-1)

    class FineNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.step = nn.Linear(3 * N_STEP, channels)
            self.hb = nn.Linear(STEPS * channels, hidden)
            self.convs = nn.ModuleList([nn.Linear(3 * hidden, hidden) for _ in DILATIONS])
            self.q, self.k = nn.Linear(hidden, att), nn.Linear(hidden, att)
            self.v, self.o = nn.Linear(hidden, hidden), nn.Linear(hidden, hidden)
            self.f = nn.Linear(hidden, hidden)
            self.out = nn.Linear(hidden, N_Q + 2)
            self.drop = nn.Dropout(dropout)

        def outputs(self, x):
            """x (B, T, N_STEP) -> output numbers (B, 12, n, Q + 2) (the numpy forward's layout per song)."""
            b, t = x.shape[:2]
            rots = []
            for r in range(12):
                rots.append(
                    torch.cat([torch.roll(x[..., :12], -r, -1), torch.roll(x[..., 12:24], -r, -1), x[..., 24:]], -1)
                )
            x = torch.stack(rots, 1)  # (B, 12, T, F)
            h = torch.relu(self.step(neighbours(x, 1)))
            h = h.reshape(b, 12, t // STEPS, -1)
            h = self.drop(torch.relu(self.hb(h)))
            for d, conv in zip(DILATIONS, self.convs):
                h = h + self.drop(torch.relu(conv(neighbours(h, d))))
            q, k, v = self.q(h), self.k(h), self.v(h)
            a = torch.softmax(q @ k.transpose(-1, -2) / float(np.sqrt(q.shape[-1])), dim=-1)
            h = h + self.drop(self.o(a @ v))
            h = h + self.drop(torch.relu(self.f(h)))
            return self.out(h)

        def forward(self, x):
            return split_outputs(self.outputs(x))

    return FineNet()


def export(net) -> dict[str, np.ndarray]:
    sd = {k: v.detach().cpu().numpy().astype(np.float32) for k, v in net.state_dict().items()}
    p = {"dilations": np.array(DILATIONS)}
    for mine, theirs in (("step", "step"), ("half", "hb"), ("q", "q"), ("k", "k"), ("v", "v"), ("o", "o")):
        p[f"{mine}_w"], p[f"{mine}_b"] = sd[f"{theirs}.weight"], sd[f"{theirs}.bias"]
    for mine in ("f", "out"):
        p[f"{mine}_w"], p[f"{mine}_b"] = sd[f"{mine}.weight"], sd[f"{mine}.bias"]
    for i in range(len(DILATIONS)):
        p[f"c{i}_w"], p[f"c{i}_b"] = sd[f"convs.{i}.weight"], sd[f"convs.{i}.bias"]
    return p


def dev_scores(model: HarmonyModel, songs, shipped, mine, weights=(1.0,)) -> dict[str, float]:
    """Half-bar root + family agreement on dev: 'alone' (this net, shipped decode), 'ens' (three shipped nets),
    'ens+w' (the three and this net at weight w, log domain), and their half-bar counts of hits."""
    hits = {"alone": 0, "ens": 0, **{f"ens+{w:g}": 0 for w in weights}}
    total = 0
    for s, logs, (c_mine, _) in zip(songs, shipped, mine):
        total += int((s["halves"] != NO_CHORD).sum())
        base = sum(c for c, _ in logs)
        cands = {"alone": c_mine, "ens": hc.log_softmax(base / len(logs))}
        for w in weights:
            cands[f"ens+{w:g}"] = hc.log_softmax((base + w * c_mine) / (len(logs) + w))
        for name, lp in cands.items():
            hits[name] += hc.family_hits(model, lp, s["halves"])[0]
    return {k: v / max(total, 1) for k, v in hits.items()}


def numpy_logs(params: dict[str, np.ndarray], songs: list[dict]) -> list[tuple[np.ndarray, np.ndarray]]:
    from ..theory.harmony_fine import fine_outputs

    return [read_outputs(fine_outputs(params, s["steps"])) for s in songs]


def normalised(p: np.ndarray) -> np.ndarray:
    p = p.astype(np.float32)
    return p / np.maximum(p.sum(axis=1, keepdims=True), 1e-9)


def distill_targets(shipped: str | None, songs: list[dict]) -> dict[int, np.ndarray]:
    """Per song id, a melody ensemble's chord probabilities (n, 84) on the song's melody alone: every net of the
    folder of `shipped` (HarmonyModel.load: the first, melody*.npz, fine*.npz), averaged as the app averages them
    (before its repeat ties and decoding). A student learns them beside the people's labels (--distill)."""
    model = HarmonyModel.load(shipped)
    out = {}
    for s in filter(lambda s: len(s["melody"]), songs):
        log_post, _ = model.ensemble_posteriors(_check(s["melody"]), len(s["halves"]), 4)
        out[s["id"]] = np.exp(log_post).astype(np.float32)
    return out


def draw_crop(tr: list, args, rng: np.random.Generator, teach: dict):
    """One training crop: (song, its first half bar, the 16th-step inputs, targets, mask). A random song and an
    even start; the line an octave up or down at `octave_p`; the people's labels, smoothed, mixed with `teach`'s
    soft chords (distillation) where the song has them."""
    s = tr[rng.integers(len(tr))]
    start = 2 * rng.integers(0, (len(s["halves"]) - args.crop) // 2 + 1)
    x = s["steps"][start * STEPS : (start + args.crop) * STEPS].copy()
    if rng.random() < args.octave_p:  # the same line an octave up or down: register is not harmony
        x[:, 26] = np.where(x[:, 24] == 0, x[:, 26] + rng.choice((-0.5, 0.5)), 0.0)
    target, mask = hc.pop_target(s["halves"][start : start + args.crop], args.label_smoothing)
    if s["id"] in teach:  # distillation: the ensemble's soft chords beside the people's label
        target = (1.0 - args.distill) * target + args.distill * teach[s["id"]][start : start + args.crop]
    return s, start, x, target, mask


def train(args) -> None:
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    songs = build(args.data)
    tr = [s for s in songs if s["split"] == "train" and len(s["halves"]) >= args.crop]
    dev = [s for s in songs if s["split"] == "dev" and len(s["melody"])]
    teach = {}
    if args.distill > 0 and args.distill_soft:  # harmony_teacher's marginals (the first net on the piano)
        with open(args.distill_soft, "rb") as fh:
            soft = pickle.load(fh)
        teach = {s["id"]: normalised(soft[s["id"]]) for s in tr if s["id"] in soft}
    elif args.distill > 0:
        teach = distill_targets(args.distill_from or args.shipped, tr)
    print(f"songs: train {len(tr)} (of at least {args.crop} half bars), dev {len(dev)}", flush=True)
    model = HarmonyModel.load(args.shipped)
    shipped = shipped_logs(model, dev)
    print(f"shipped ensemble of {1 + len(model.melody_nets)} nets on dev: ", end="", flush=True)
    print(dev_scores(model, dev, shipped, [(c[0][0], None) for c in shipped], ())["ens"], flush=True)
    net = make_net(args.channels, args.hidden, args.att, args.dropout)
    print(f"parameters: {sum(p.numel() for p in net.parameters())}", flush=True)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    os.makedirs(FINE_CACHE, exist_ok=True)
    run = os.path.join(FINE_CACHE, args.run_name)
    best = {"alone": -1.0, "ens": -1.0}
    history = []
    t0, step = time.time(), 0
    while time.time() - t0 < args.minutes * 60 and (not args.max_steps or step < args.max_steps):
        net.train()
        frac = min(1.0, (time.time() - t0) / (args.minutes * 60))
        hc.set_lr(opt, args.lr, step, frac, args.cosine)
        xs, targets, masks, keys = [], [], [], []
        for _ in range(args.batch):
            s, start, x, target, mask = draw_crop(tr, args, rng, teach)
            xs.append(x)
            targets.append(target)
            masks.append(mask)
            keys.append(s["key"])
        chord, key = net(torch.from_numpy(np.stack(xs)))
        loss = hc.soft_step(net, opt, chord, key, targets, masks, keys, key_smoothing=args.label_smoothing)
        step += 1
        if step % args.eval_every == 0:
            params = export(net)
            r = dev_scores(model, dev, shipped, numpy_logs(params, dev), (1.0, 2.0))
            history.append({"step": step, "seconds": round(time.time() - t0), **r})
            print(
                f"step {step} {time.time() - t0:.0f}s loss {loss:.3f} dev "
                + " ".join(f"{k} {v:.4f}" for k, v in r.items()),
                flush=True,
            )
            hc.keep_checkpoints(run, "last", params, r, r["ens+1"], best, history, args)
            if args.keep_all:  # every evaluated checkpoint, to choose among later (e.g. in a wider ensemble)
                np.savez(f"{run}_step{step}.npz", **params)
    print(f"done: {step} steps, best dev {best}", flush=True)


def compare(args) -> None:
    """Dev figures of melody ensembles: the shipped nets (harmony, melody, melody2, ...) and the fine
    checkpoints given, each subset that keeps the first net; half-bar root + family, and the chart's root on
    each bar's first beat against the annotated one over the first 64 bars (the bass plays the chart's root
    there: eval_band_follow's figure, without the band)."""
    import itertools

    songs = build(args.data)
    dev = [s for s in songs if s["split"] == "dev" and len(s["melody"])]
    beat_labels = {
        s.song_id: s.beat_labels
        for s in hd.load_all(args.data, os.path.join(CACHE, "songs.pkl"))
        if hd.split_of(s.song_id) == "dev"
    }
    model = HarmonyModel.load(args.shipped)
    names = ["harmony", *[f"melody{i + 1}" for i in range(len(model.melody_nets))]]
    logs = {name: [] for name in names}
    for per_song in shipped_logs(model, dev):
        for name, (c, _) in zip(names, per_song):
            logs[name].append(c)
    for path in args.compare:
        with np.load(path) as data:
            params = {k: data[k] for k in data.files}
        name = os.path.basename(path).removesuffix(".npz")
        logs[name] = [c for c, _ in numpy_logs(params, dev)]
        names.append(name)
    refs = []
    for s in dev:
        n_bars = min(64, len(s["halves"]) // 2)
        n_bars -= n_bars % 4
        refs.append(beat_labels[s["id"]][0 : 4 * n_bars : 4])
    for size in range(1, len(names) + 1):
        for combo in itertools.combinations(names, size):
            if size > 1 and combo[0] != "harmony":
                continue
            hits = total = b_hits = b_total = 0
            for i, s in enumerate(dev):
                lp = hc.log_softmax(sum(logs[n][i] for n in combo) / len(combo))
                path = np.array(model.decode(lp, 1)[0][1])
                ref = s["halves"]
                m = ref != NO_CHORD
                hits += int((family(path)[m] == family(ref)[m]).sum())
                total += int(m.sum())
                beat1 = refs[i]
                mb = beat1 != NO_CHORD
                b_hits += int((path[0::2][: len(beat1)][mb] % 12 == beat1[mb] % 12).sum())
                b_total += int(mb.sum())
            print(
                f"{' + '.join(combo):60s} half family {hits / total:.4f}  beat-1 root {b_hits / b_total:.4f}",
                flush=True,
            )


def add_fine_args(ap: argparse.ArgumentParser) -> None:
    """The fine net's shape and training settings (shared with train_harmony_fine_aux)."""
    ap.add_argument("--shipped", default=None, help="the shipped harmony.npz (its melody nets are found beside it)")
    ap.add_argument("--channels", type=int, default=32)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--att", type=int, default=32)
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--weight-decay", type=float, default=1e-4)
    ap.add_argument("--label-smoothing", type=float, default=0.1)
    ap.add_argument("--octave-p", type=float, default=0.3)
    ap.add_argument("--cosine", action="store_true")
    ap.add_argument("--distill", type=float, default=0.0, help="weight of the ensemble's soft chords in the targets")
    ap.add_argument("--distill-from", default=None, help="the ensemble's harmony.npz (default: --shipped)")
    ap.add_argument(
        "--distill-soft",
        default=None,
        help="instead: a pickle {song id: (n, 84) marginals}, e.g. "
        "harmony_teacher's pop909_soft.pkl (the first net on the song's piano)",
    )
    ap.add_argument("--keep-all", action="store_true", help="also keep every evaluated checkpoint (run_stepN.npz)")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    hc.add_run_args(ap, run_name="fine")
    add_fine_args(ap)
    ap.add_argument("--compare", nargs="*", default=None, help="fine checkpoints: print dev figures of ensembles")
    args = ap.parse_args(argv)
    compare(args) if args.compare is not None else train(args)


if __name__ == "__main__":
    main()
