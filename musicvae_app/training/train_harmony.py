"""Train the harmony model (musicvae_app.theory.harmony) on POP909.

    python -m musicvae_app.training.train_harmony --data /work/shared/data/pop909 --out resources/models/harmony

Steps: read every song onto its beat grid (harmony_data), make the features of four input kinds per song
(melody alone, piano alone, melody + piano, the piano's lowest line as a bass line), train the
transposition-equivariant bidirectional GRU on random 32-bar crops of the training songs with a kind drawn
at random per crop, count transposition-invariant chord transitions on the training songs, choose the
decoding weights on the dev songs, measure the validation songs, and write `harmony.npz` + `card.json`.
torch is needed here only; the shipped model runs in numpy.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

from ..theory.harmony import FEATURE_SHAPES, MELODY_WEIGHTS, N_CHORDS, N_Q, NO_CHORD, HarmonyModel, features
from . import harmony_data as hd

CACHE = os.path.join(os.environ.get("TMPDIR", "/tmp"), "harmony_cache")
NET_KEYS = ("layers", "features")


def build(root: str, version: int = 1) -> list[dict]:
    """Per song: id, split, key index, half-bar labels, bar labels, features of each input kind."""
    import pickle

    path = os.path.join(CACHE, "features.pkl" if version == 1 else f"features_v{version}.pkl")
    if os.path.exists(path):
        with open(path, "rb") as fh:
            return pickle.load(fh)
    out = []
    for song in hd.load_all(root, os.path.join(CACHE, "songs.pkl")):
        halves = hd.half_labels(song.beat_labels)
        item = {
            "id": song.song_id,
            "split": hd.split_of(song.song_id),
            "key": song.key[0] + (12 if song.key[1] == "minor" else 0),
            "halves": halves,
            "bars": hd.group_labels(song.beat_labels, 4),
            "feats": {},
        }
        for kind in hd.KINDS:
            notes = hd.part_of(song, kind)
            item["feats"][kind] = features(notes, len(halves), 4, version)
        item["melody"] = song.tracks.get("MELODY", np.zeros((0, 4)))
        out.append(item)
    os.makedirs(CACHE, exist_ok=True)
    with open(path, "wb") as fh:
        pickle.dump(out, fh)
    return out


def make_net(hidden: int, layers: int, version: int = 1):
    import torch
    from torch import nn

    n_prof, n_scal = FEATURE_SHAPES[version]

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inp = nn.Linear(n_prof * 12 + n_scal, hidden)
            self.gru = nn.GRU(hidden, hidden, num_layers=layers, batch_first=True, bidirectional=True)
            self.out = nn.Linear(2 * hidden, N_Q + 2)

        def forward(self, prof, scal):
            b, t = prof.shape[:2]
            rots = torch.stack([torch.roll(prof, -r, dims=3) for r in range(12)], dim=1)  # (B, 12, T, P, 12)
            x = torch.cat([rots.reshape(b, 12, t, -1), scal[:, None].expand(b, 12, t, scal.shape[-1])], dim=3)
            h = torch.relu(self.inp(x.reshape(b * 12, t, -1)))
            h, _ = self.gru(h)
            return split_outputs(self.out(h).reshape(b, 12, t, N_Q + 2))

    return Net()


def split_outputs(o):
    """A melody net's output tensor (B, 12 transpositions, n, Q + 2) -> (chord logits (B, n, 84) with index
    q*12 + root, key logits (B, 24) with index mode*12 + tonic): theory/harmony.read_outputs' order, in torch."""
    b, _, n = o.shape[:3]
    chord = o[..., :N_Q].permute(0, 2, 3, 1).reshape(b, n, N_CHORDS)
    key = o[..., N_Q:].mean(dim=2).permute(0, 2, 1).reshape(b, 24)
    return chord, key


def export(net, layers: int, version: int = 1) -> dict[str, np.ndarray]:
    sd = {k: v.detach().cpu().numpy().astype(np.float32) for k, v in net.state_dict().items()}
    p = {"in_w": sd["inp.weight"], "in_b": sd["inp.bias"], "out_w": sd["out.weight"], "out_b": sd["out.bias"]}
    for layer in range(layers):
        for suffix, mine in (("", ""), ("_reverse", "_r")):
            p[f"g{layer}_wih{mine}"] = sd[f"gru.weight_ih_l{layer}{suffix}"]
            p[f"g{layer}_whh{mine}"] = sd[f"gru.weight_hh_l{layer}{suffix}"]
            p[f"g{layer}_bih{mine}"] = sd[f"gru.bias_ih_l{layer}{suffix}"]
            p[f"g{layer}_bhh{mine}"] = sd[f"gru.bias_hh_l{layer}{suffix}"]
    p["layers"] = np.array(layers)
    p["features"] = np.array(version)
    return p


def import_npz(net, path: str, layers: int) -> None:
    """Load weights written by export() (a harmony.npz) into a torch net of the same shape."""
    import torch

    with np.load(path) as p:
        sd = {"inp.weight": p["in_w"], "inp.bias": p["in_b"], "out.weight": p["out_w"], "out.bias": p["out_b"]}
        for layer in range(layers):
            for suffix, mine in (("", ""), ("_reverse", "_r")):
                sd[f"gru.weight_ih_l{layer}{suffix}"] = p[f"g{layer}_wih{mine}"]
                sd[f"gru.weight_hh_l{layer}{suffix}"] = p[f"g{layer}_whh{mine}"]
                sd[f"gru.bias_ih_l{layer}{suffix}"] = p[f"g{layer}_bih{mine}"]
                sd[f"gru.bias_hh_l{layer}{suffix}"] = p[f"g{layer}_bhh{mine}"]
    net.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in sd.items()})


def transitions(songs: list[dict]) -> dict[str, np.ndarray]:
    """Transposition-invariant log P(quality, root interval | previous quality), at bar lines and mid-bar."""
    counts = {"trans_bar": np.full((N_Q, N_Q, 12), 0.5), "trans_mid": np.full((N_Q, N_Q, 12), 0.5)}
    prior = np.full(N_Q, 1.0)
    for s in songs:
        h = s["halves"]
        for t in range(len(h)):
            if h[t] != NO_CHORD:
                prior[h[t] // 12] += 1
            if t and h[t] != NO_CHORD and h[t - 1] != NO_CHORD:
                name = "trans_bar" if t % 2 == 0 else "trans_mid"
                counts[name][h[t - 1] // 12, h[t] // 12, (h[t] - h[t - 1]) % 12] += 1
    out = {}
    for name, c in counts.items():
        out[name] = np.log(c / c.sum(axis=(1, 2), keepdims=True)).astype(np.float32)
    out["prior"] = np.repeat(prior / prior.sum() / 12, 12).astype(np.float32)  # index q*12 + root
    return out


def family(labels: np.ndarray) -> np.ndarray:
    from ..theory.harmony import QUALITY_FAMILY

    labels = np.asarray(labels)
    fam = np.array(QUALITY_FAMILY)[np.minimum(labels // 12, N_Q - 1)]
    return np.where(labels >= N_CHORDS, 24, (labels % 12) * 2 + fam)


def evaluate(model: HarmonyModel, songs: list[dict], kinds=hd.KINDS) -> dict[str, dict[str, float]]:
    """Per kind: half-bar and bar agreement (root + maj/min family; exact class) with the reference, key accuracy."""
    res = {}
    for kind in kinds:
        hits = {"half_family": [0, 0], "half_exact": [0, 0], "bar_family": [0, 0], "key": [0, 0]}
        for s in songs:
            prof, scal = s["feats"][kind]
            if not (prof.sum() > 0):
                continue
            log_post, log_key = model.posteriors(prof, scal)
            path = np.array(model.decode(log_post, 1)[0][1])
            ref = s["halves"]
            m = ref != NO_CHORD
            hits["half_family"][0] += int((family(path)[m] == family(ref)[m]).sum())
            hits["half_family"][1] += int(m.sum())
            hits["half_exact"][0] += int((path[m] == ref[m]).sum())
            hits["half_exact"][1] += int(m.sum())
            bars = s["bars"][: len(path) // 2]
            mb = bars != NO_CHORD
            hits["bar_family"][0] += int((family(path[0::2][: len(bars)])[mb] == family(bars)[mb]).sum())
            hits["bar_family"][1] += int(mb.sum())
            hits["key"][0] += int(np.argmax(log_key) == s["key"])
            hits["key"][1] += 1
        res[kind] = {k: v[0] / max(v[1], 1) for k, v in hits.items()}
    return res


def train(args) -> None:
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    songs = build(args.data, args.features)
    tr = [s for s in songs if s["split"] == "train"]
    dev = [s for s in songs if s["split"] == "dev"]
    val = [s for s in songs if s["split"] == "val"]
    print(f"songs: train {len(tr)}, dev {len(dev)}, val {len(val)}", flush=True)
    tr = [s for s in tr if len(s["halves"]) >= args.crop]
    extra = []
    if args.extra:
        import pickle

        with open(args.extra, "rb") as fh:
            extra = [s for s in pickle.load(fh) if len(s["halves"]) >= args.crop]
        print(f"extra melodies (band-midi training songs): {len(extra)}", flush=True)
    net = make_net(args.hidden, args.layers, args.features)
    if args.init:
        import_npz(net, args.init, args.layers)
        print(f"started from {args.init}", flush=True)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    rest = (1.0 - args.melody_share) / 0.6
    kinds_p = np.array([args.melody_share, 0.2 * rest, 0.15 * rest, 0.25 * rest])  # melody, piano, both, bass line
    trans = transitions([s for s in songs if s["split"] == "train"])
    best, best_params, best_melody, t0, step = -1.0, None, -1.0, time.time(), 0
    ce = torch.nn.CrossEntropyLoss(ignore_index=NO_CHORD, label_smoothing=args.label_smoothing)
    run = os.path.join(CACHE, args.run_name)
    while time.time() - t0 < args.minutes * 60 and (not args.max_steps or step < args.max_steps):
        net.train()
        if args.cosine:
            frac = min(1.0, (time.time() - t0) / (args.minutes * 60))
            for group in opt.param_groups:
                group["lr"] = args.lr * 0.5 * (1.0 + np.cos(np.pi * frac))
        profs, scals, ys, keys = [], [], [], []
        for _ in range(args.batch):
            s = tr[rng.integers(len(tr))]
            kind = hd.KINDS[rng.choice(4, p=kinds_p)]
            if kind == "melody" and extra and rng.random() < args.extra_share:
                s = extra[rng.integers(len(extra))]
            prof, scal = s["feats"][kind]
            start = 2 * rng.integers(0, (len(s["halves"]) - args.crop) // 2 + 1)
            profs.append(prof[start : start + args.crop])
            scals.append(scal[start : start + args.crop])
            ys.append(s["halves"][start : start + args.crop])
            keys.append(s["key"])
        prof = torch.from_numpy(np.stack(profs))
        scal = torch.from_numpy(np.stack(scals))
        y = torch.from_numpy(np.stack(ys))
        k = torch.tensor(keys)
        chord, key = net(prof, scal)
        loss = ce(chord.reshape(-1, N_CHORDS), y.reshape(-1).clamp(max=NO_CHORD)) + 0.2 * ce(key, k)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        step += 1
        if step % args.eval_every == 0:
            params = {
                **export(net, args.layers, args.features),
                **trans,
                "trans_weight": np.array(0.5),
                "prior_weight": np.array(0.0),
            }
            r = evaluate(HarmonyModel(params), dev, kinds=("melody", "piano", "bass"))
            score = float(np.mean([v["half_family"] for v in r.values()]))
            print(
                f"step {step} {time.time() - t0:.0f}s loss {loss.item():.3f} dev half-family "
                + " ".join(f"{k} {v['half_family']:.3f}" for k, v in r.items())
                + f" key(mel) {r['melody']['key']:.2f}",
                flush=True,
            )
            if score > best:
                best, best_params = score, params
                np.savez(run + "_best.npz", **params)
            if r["melody"]["half_family"] > best_melody:
                best_melody = r["melody"]["half_family"]
                np.savez(run + "_best_melody.npz", **params)
            np.savez(run + "_last.npz", **params)
    if args.select == "melody":
        with np.load(run + "_best_melody.npz") as data:
            best_params = {k: data[k] for k in data.files}
    params = best_params or {**export(net, args.layers, args.features), **trans}
    os.makedirs(args.out, exist_ok=True)
    if args.melody_net:  # a net for a melody alone: its weights only (the first net's decoding is used)
        net_only = {k: np.asarray(v) for k, v in params.items() if k.startswith(("in_", "out_", "g")) or k in NET_KEYS}
        name = args.melody_name or MELODY_WEIGHTS
        np.savez_compressed(os.path.join(args.out, name), **net_only)
        print(f"wrote {args.out}/{name}", flush=True)
        return
    # choose decoding weights on dev
    grid = []
    for tw in (0.0, 0.25, 0.5, 1.0, 1.5):
        for pw in (0.0, 0.3):
            p = {**params, "trans_weight": np.array(tw), "prior_weight": np.array(pw)}
            r = evaluate(HarmonyModel(p), dev, kinds=("melody", "piano", "bass"))
            score = float(np.mean([v["half_family"] for v in r.values()]))
            if args.select == "melody":
                score = r["melody"]["half_family"]
            grid.append((score, tw, pw))
            print(f"dev decode trans_weight {tw} prior_weight {pw}: {score:.4f}", flush=True)
    score, tw, pw = max(grid)
    params = {**params, "trans_weight": np.array(tw), "prior_weight": np.array(pw)}
    np.savez_compressed(os.path.join(args.out, "harmony.npz"), **{k: np.asarray(v) for k, v in params.items()})
    r_val = {} if args.skip_validation else evaluate(HarmonyModel(params), val)
    print("validation:", json.dumps(r_val, indent=1), flush=True)
    card = {
        "model": "harmony: transposition-equivariant bidirectional GRU over half-bar pitch-class profiles, "
        "k-best Viterbi with learned chord transitions",
        "data": "POP909 (Wang, Chen, Jiang, Zhang, Xu, Dai, Bin, Xia, 'POP909: A Pop-song Dataset for Music "
        "Arrangement Generation', ISMIR 2020), MIT licence, copyright 2020 Music X Lab; the 600-song part in "
        "/work/shared/data/pop909. No data is shipped, only these weights and the figures below.",
        "split": "by song id: validation id % 5 == 0 (never trained or tuned on); dev id % 10 == 1 (held out of "
        "training; chose the checkpoint and the decoding weights); train: the rest",
        "songs": {"train": len([s for s in songs if s["split"] == "train"]), "dev": len(dev), "val": len(val)},
        "vocabulary": "12 roots x {maj, m, 7, m7, maj7, dim, sus4}; references mapped: maj6/aug/sus2/add9 -> maj, "
        "min6/minmaj7 -> m, 9 -> 7, min9 -> m7, maj9 -> maj7, dim7/hdim7 -> dim, sus4(b7) -> sus4; family "
        "for scoring: maj/7/maj7/sus4 major, m/m7/dim minor",
        "inputs": "share of crops: melody alone {:.0%}, piano alone {:.0%}, melody+piano {:.0%}, the piano's lowest "
        "line {:.0%}".format(*kinds_p),
        "settings": {
            "hidden": args.hidden,
            "layers": args.layers,
            "crop_half_bars": args.crop,
            "batch": args.batch,
            "lr": args.lr,
            "minutes": args.minutes,
            "steps": step,
            "seed": args.seed,
            "init": args.init,
            "cosine": args.cosine,
            "features": args.features,
            "label_smoothing": args.label_smoothing,
            "melody_share": args.melody_share,
            "select": args.select,
            "extra": os.path.basename(args.extra) if args.extra else None,
            "extra_share": args.extra_share if args.extra else 0.0,
            "trans_weight": tw,
            "prior_weight": pw,
        },
        "dev_half_family_mean": score,
        "validation": r_val,
        "validation_note": "half_family: share of half bars (reference not N) whose root and maj/min family "
        "agree; half_exact: same vocabulary class; bar_family: per bar (reference = chord of most of the bar, "
        "ours = the first half's chord); key: longest annotated key, tonic and mode",
        "training_command": "python -m musicvae_app.training.train_harmony --data /work/shared/data/pop909 "
        "--out resources/models/harmony " + " ".join(sys.argv[1:]),
        "benchmark_command": "python benchmarks/eval_harmony.py --data /work/shared/data/pop909",
    }
    with open(os.path.join(args.out, "card.json"), "w") as fh:
        json.dump(card, fh, indent=1)
    print(f"wrote {args.out}/harmony.npz and card.json", flush=True)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="/work/shared/data/pop909")
    ap.add_argument("--out", default="resources/models/harmony")
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--layers", type=int, default=1)
    ap.add_argument("--crop", type=int, default=64)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--eval-every", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (0: only --minutes)")
    ap.add_argument("--init", default=None, help="start from these weights (a harmony.npz of the same shape)")
    ap.add_argument("--cosine", action="store_true", help="cosine learning-rate decay to 0 over --minutes")
    ap.add_argument("--melody-share", type=float, default=0.4, help="share of crops that are the melody alone")
    ap.add_argument("--features", type=int, default=1, choices=sorted(FEATURE_SHAPES), help="feature version")
    ap.add_argument("--label-smoothing", type=float, default=0.0)
    ap.add_argument("--select", choices=("mean", "melody"), default="mean", help="checkpoint chosen on dev by")
    ap.add_argument("--extra", default=None, help="a pickle of more melodies (training.harmony_band)")
    ap.add_argument("--extra-share", type=float, default=0.3, help="share of melody crops drawn from --extra")
    ap.add_argument(
        "--melody-net", action="store_true", help=f"write the second net for a melody alone ({MELODY_WEIGHTS})"
    )
    ap.add_argument(
        "--melody-name", default=None, help=f"file name of that net (default {MELODY_WEIGHTS}; melody2.npz, ...)"
    )
    ap.add_argument("--skip-validation", action="store_true", help="trial runs: leave the validation songs alone")
    ap.add_argument("--run-name", default="run", help="checkpoint file names in the cache folder")
    train(ap.parse_args(argv))


if __name__ == "__main__":
    main()
