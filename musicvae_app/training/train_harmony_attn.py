"""Train the transformer melody net (musicvae_app.theory.harmony_attn) on POP909's melodies and teacher-labelled leads.

    python -m musicvae_app.training.train_harmony_attn --data /work/shared/data/pop909 --band /tmp/teacher/band.pkl \
        --band-fine /tmp/fineteach/band_fine.pkl --minutes 45 --cosine --run-name A1

Inputs per half bar: the half-bar features of version 2 (theory/harmony.features) and the fine net's 16th-grid
step features (theory/harmony_fine.step_features). POP909 songs come from train_harmony_fine.build (melody notes
and step features; the version-2 features are computed from the notes here); teacher-labelled band-midi leads from
harmony_teacher's band.pkl (version-2 features, soft targets) joined by file with train_harmony_fine_teacher's
band_fine.pkl (the same leads on the 16th grid). Each crop is a melody alone: a band-midi lead with a share falling
from --band-share to --band-share-end over the run (targets: the teacher's marginals, confident half bars only),
else a POP909 training melody (targets: 0.7 x the people's label + 0.3 x the teacher's marginals on its piano,
harmony_teacher's pop909_soft.pkl, as harmony_teacher_train). Soft-target cross-entropy + 0.2 x the key's
(harmony_common.soft_step). Every --eval-every steps: dev figures alone and with the shipped nets
(harmony_common.DevBench), a checkpoint, and a resumable state (--resume). Validation songs are never read.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import time

import numpy as np

from ..theory.harmony import DEFAULT_WEIGHTS, N_Q, _check, features, read_outputs, rotated_inputs
from ..theory.harmony_attn import PHRASE, REL_CLIP, attn_outputs, rel_index
from ..theory.harmony_fine import N_STEP, STEPS
from . import harmony_common as hc
from .train_harmony import split_outputs

CACHE = os.path.join(os.environ.get("TMPDIR", "/tmp"), "i33third")
N_PROF, N_SCAL = 8, 11  # feature version 2: profiles a half bar, scalars


def make_net(d: int = 64, heads: int = 2, layers: int = 2, ff: int = 128, step: int = 8, dropout: float = 0.1):
    import torch
    from torch import nn

    n_in = N_PROF * 12 + N_SCAL + STEPS * step

    class AttnNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.heads, self.layers = heads, layers
            self.step = nn.Linear(N_STEP, step)
            self.inp = nn.Linear(n_in, d)
            self.pos = nn.Parameter(0.02 * torch.randn(PHRASE, d))
            self.rel = nn.Parameter(torch.zeros(layers, heads, 2 * REL_CLIP + 1))
            self.ln1 = nn.ModuleList([nn.LayerNorm(d) for _ in range(layers)])
            self.qkv = nn.ModuleList([nn.Linear(d, 3 * d) for _ in range(layers)])
            self.o = nn.ModuleList([nn.Linear(d, d) for _ in range(layers)])
            self.ln2 = nn.ModuleList([nn.LayerNorm(d) for _ in range(layers)])
            self.f1 = nn.ModuleList([nn.Linear(d, ff) for _ in range(layers)])
            self.f2 = nn.ModuleList([nn.Linear(ff, d) for _ in range(layers)])
            self.lnf = nn.LayerNorm(d)
            self.out = nn.Linear(d, N_Q + 2)
            self.drop = nn.Dropout(dropout)

        def tokens(self, prof, scal, steps):
            """prof (B, n, 8, 12), scal (B, n, 11), steps (B, n * STEPS, N_STEP) -> tokens (B, 12, n, I), as
            harmony_attn.attn_outputs makes them from harmony.rotated_inputs(prof, scal) and the steps."""
            b, n = prof.shape[:2]
            rots = []
            for r in range(12):
                p = torch.roll(prof, -r, -1).reshape(b, n, -1)
                s = torch.cat([torch.roll(steps[..., :12], -r, -1), torch.roll(steps[..., 12:24], -r, -1)], -1)
                s = torch.relu(self.step(torch.cat([s, steps[..., 24:]], -1))).reshape(b, n, -1)
                rots.append(torch.cat([p, scal, s], -1))
            return torch.stack(rots, 1)

        def outputs(self, x):
            """x (B, 12, n, I) -> output numbers (B, 12, n, Q + 2) (the numpy forward's layout per song)."""
            n = x.shape[-2]
            dh = d // heads
            h = torch.relu(self.inp(x)) + self.pos[torch.arange(n) % PHRASE]
            rel = torch.from_numpy(rel_index(n))
            for i in range(layers):
                a = self.ln1[i](h)
                qkv = self.qkv[i](a).unflatten(-1, (3, heads, dh))  # (B, 12, n, 3, H, dh)
                q, k, v = (qkv[..., j, :, :].transpose(-2, -3) for j in range(3))  # (B, 12, H, n, dh)
                s = q @ k.transpose(-1, -2) / float(np.sqrt(dh)) + self.rel[i][:, rel]
                read = (torch.softmax(s, -1) @ v).transpose(-2, -3).flatten(-2)  # (B, 12, n, d)
                h = h + self.drop(self.o[i](read))
                h = h + self.drop(self.f2[i](torch.relu(self.f1[i](self.ln2[i](h)))))
            return self.out(self.lnf(h))

        def forward(self, prof, scal, steps):
            return split_outputs(self.outputs(self.tokens(prof, scal, steps)))

    return AttnNet()


def export(net) -> dict[str, np.ndarray]:
    sd = {k: v.detach().cpu().numpy().astype(np.float32) for k, v in net.state_dict().items()}
    p = {"heads": np.array(net.heads), "layers": np.array(net.layers), "pos": sd["pos"], "rel": sd["rel"]}
    p["step_w"], p["step_b"] = sd["step.weight"], sd["step.bias"]
    p["in_w"], p["in_b"] = sd["inp.weight"], sd["inp.bias"]
    p["lnf_w"], p["lnf_b"] = sd["lnf.weight"], sd["lnf.bias"]
    p["out_w"], p["out_b"] = sd["out.weight"], sd["out.bias"]
    for i in range(net.layers):
        for name in ("ln1", "qkv", "o", "ln2", "f1", "f2"):
            p[f"l{i}_{name}_w"], p[f"l{i}_{name}_b"] = sd[f"{name}.{i}.weight"], sd[f"{name}.{i}.bias"]
    return p


def numpy_logs(params: dict[str, np.ndarray], songs: list[dict]) -> list[np.ndarray]:
    """The net's log chord probabilities per song (POP909 items with melody notes and step features), computed
    from the notes as the app computes them."""
    out = []
    for s in songs:
        n = len(s["halves"])
        rot = rotated_inputs(*features(_check(s["melody"]), n, 4, 2))
        out.append(read_outputs(attn_outputs(params, rot, s["steps"]))[0])
    return out


def pop_items(songs: list[dict], soft: dict, mix: float) -> list[dict]:
    """POP909 training melodies as training items: version-2 features from the notes, step features, targets."""
    out = []
    for s in songs:
        if not len(s["melody"]):
            continue
        prof, scal = features(_check(s["melody"]), len(s["halves"]), 4, 2)
        target, mask = hc.soft_target(s["halves"], soft.get(s["id"]), mix)
        out.append({"prof": prof, "scal": scal, "steps": s["steps"], "target": target, "mask": mask, "key": s["key"]})
    return out


def band_items(band_pkl: str, band_fine_pkl: str, crop: int) -> list[dict]:
    """The teacher-labelled leads with both kinds of input (joined by file name), at least `crop` half bars."""
    with open(band_fine_pkl, "rb") as fh:
        steps = {b["id"]: b["steps"] for b in pickle.load(fh)}
    with open(band_pkl, "rb") as fh:
        items = pickle.load(fh)
    out = []
    for b in items:
        if b["id"] not in steps or len(b["halves"]) < crop:
            continue
        prof, scal = b["feats"]["melody"]
        target, mask = hc.band_target(b)
        st = steps.pop(b["id"])
        if st.shape[0] != len(b["halves"]) * STEPS:
            continue
        out.append({"prof": prof, "scal": scal, "steps": st, "target": target, "mask": mask, "key": b["key"]})
    return out


def batch(items: list[dict], rng, crop: int):
    """One crop of `crop` half bars (from an even half bar) of each item: tensors prof, scal, steps, and the
    targets, masks, keys lists."""
    import torch

    profs, scals, steps, targets, masks, keys = [], [], [], [], [], []
    for it in items:
        start = 2 * rng.integers(0, (len(it["mask"]) - crop) // 2 + 1)
        sl = slice(start, start + crop)
        profs.append(it["prof"][sl])
        scals.append(it["scal"][sl])
        steps.append(it["steps"][start * STEPS : (start + crop) * STEPS])
        targets.append(it["target"][sl])
        masks.append(it["mask"][sl])
        keys.append(int(it["key"]))
    t = [torch.from_numpy(np.stack(x).astype(np.float32)) for x in (profs, scals, steps)]
    return (*t, targets, masks, keys)


def train(args) -> None:
    import torch

    from .train_harmony_fine import build

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    songs = build(args.data)
    with open(args.pop909_soft, "rb") as fh:
        soft = pickle.load(fh)
    tr = pop_items([s for s in songs if s["split"] == "train" and len(s["halves"]) >= args.crop], soft, args.mix)
    band = band_items(args.band, args.band_fine, args.crop) if args.band else []
    bench = hc.DevBench(args.shipped, songs)
    del songs
    print(f"POP909 train {len(tr)}, dev {len(bench.dev)}; band-midi leads {len(band)} (>= {args.crop} half bars)")
    print(f"shipped ensemble ({', '.join(bench.logs)}) on dev: {bench.shipped_figure():.4f}", flush=True)
    net = make_net(args.d, args.heads, args.layers, args.ff, args.step, args.dropout)
    print(f"parameters: {sum(p.numel() for p in net.parameters())}", flush=True)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    os.makedirs(args.checkpoints, exist_ok=True)
    run = os.path.join(args.checkpoints, args.run_name)
    best, history, step, spent = {"alone": -1.0, "ens": -1.0}, [], 0, 0.0
    if args.resume:
        state = torch.load(args.resume, weights_only=False)
        net.load_state_dict(state["net"])
        opt.load_state_dict(state["opt"])
        best, history, step, spent = state["best"], state["history"], state["step"], state["seconds"]
        rng = np.random.default_rng([args.seed, step])
    t0 = time.time() - spent
    while time.time() - t0 < args.minutes * 60 and (not args.max_steps or step < args.max_steps):
        net.train()
        frac = min(1.0, (time.time() - t0) / (args.minutes * 60))
        hc.set_lr(opt, args.lr, step, frac, args.cosine)
        share = hc.band_share(args, frac)
        picks = [
            band[rng.integers(len(band))] if band and rng.random() < share else tr[rng.integers(len(tr))]
            for _ in range(args.batch)
        ]
        prof, scal, steps, targets, masks, keys = batch(picks, rng, args.crop)
        chord, key = net(prof, scal, steps)
        loss = hc.soft_step(net, opt, chord, key, targets, masks, keys)
        step += 1
        if step % args.eval_every == 0 or (args.max_steps and step == args.max_steps):
            net.eval()
            params = export(net)
            r = bench.figures(numpy_logs(params, bench.dev))
            history.append({"step": step, "seconds": round(time.time() - t0), "loss": round(loss, 3), **r})
            line = {k: round(v, 4) if isinstance(v, float) else v for k, v in history[-1].items()}
            print(json.dumps(line), flush=True)
            hc.keep_checkpoints(run, str(step), params, r, hc.ensemble_figure(r), best, history, args)
            state = {"net": net.state_dict(), "opt": opt.state_dict(), "best": best, "history": history}
            torch.save({**state, "step": step, "seconds": time.time() - t0}, run + "_state.pt")
    print(f"done: {step} steps, best dev {best}", flush=True)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    hc.add_run_args(ap, lr=1e-3, minutes=45.0, run_name="A1")
    hc.add_band_args(ap)
    ap.add_argument("--band-fine", default="/tmp/fineteach/band_fine.pkl", help="the same leads on the 16th grid")
    ap.add_argument("--pop909-soft", default="/tmp/teacher/pop909_soft.pkl", help="harmony_teacher's POP909 marginals")
    ap.add_argument("--mix", type=float, default=0.3, help="weight of the teacher's marginals on POP909 targets")
    ap.add_argument("--shipped", default=DEFAULT_WEIGHTS, help="the shipped harmony.npz (melody/fine nets beside it)")
    ap.add_argument("--checkpoints", default=CACHE)
    ap.add_argument("--d", type=int, default=64)
    ap.add_argument("--heads", type=int, default=2)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--ff", type=int, default=128)
    ap.add_argument("--step", type=int, default=8, help="numbers a 16th step is read into")
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--weight-decay", type=float, default=1e-2)
    ap.add_argument("--cosine", action="store_true")
    ap.add_argument("--resume", default=None, help="a run's _state.pt: go on from it (same arguments)")
    train(ap.parse_args(argv))


if __name__ == "__main__":
    main()
