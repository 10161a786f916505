"""Key- and metre-aware priors in the harmony decoder, tried on the POP909 dev melodies (id % 10 == 1).

    python benchmarks/dev_decode_priors.py [--data /work/shared/data/pop909] [--limit N] [--time]

The shipped decoder (theory/harmony_decode.py) runs forward-backward over the 84 chords with the nets' averaged log
posteriors as emissions and 0.25 x learned transposition-invariant transitions, and takes per half bar the root +
family with the highest marginal (MBR). Nothing in it knows the key or how long a chord has lasted. This script fits,
on the POP909 training songs' annotated chords and keys only (never a validation song, id % 5 == 0):

- P(chord relative to the tonic | mode) (2 x 84, add-0.5), and P(degree | quality, mode) (the same over P(quality));
- the chord-change hazard by how many half bars the chord has been held (1..D) and whether the step crosses a bar
  line;

and decodes every dev melody (ensemble posteriors + repeat ties, exactly as HarmonyModel.harmonize) with:

- key-fixed: emissions + w x log P(chord | key), the key being the nets' own key (argmax of their key posterior),
  or the annotated key ("oracle", for scale: the best a key prior could do);
- joint: a key x chord HMM decoded at once (24 keys x 84 chords; the key a hidden state that may change at a bar
  line with probability eps; each key's chords weighted by P(chord | key)^w; the nets' key posterior as the start
  distribution), whose marginals over keys feed the same MBR;
- duration: an explicit-duration HMM (chord x half bars held, up to D): a hold or change is weighted by
  (hazard(d, bar line) / mean hazard)^beta, so beta = 0 is the shipped decoder exactly.

For each it prints the half bars right (root + major/minor family, reference not N), the songs better / worse than
the shipped decoder, and a bootstrap 95 % interval (songs resampled, 2000 times) of the gain; with --time, the ms of
each decoder on the 3-minute made-up melody's posteriors and harmonize()'s own ms.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.dev_harmony import dev_songs  # noqa: E402
from benchmarks.eval_harmony import three_minute_melody  # noqa: E402
from benchmarks.song_bootstrap import gain_interval, resamples  # noqa: E402
from musicvae_app.theory.harmony import NO_CHORD, HarmonyModel  # noqa: E402
from musicvae_app.theory.harmony_decode import forward_backward, mbr_path, repeat_ties, tie_repeats  # noqa: E402
from musicvae_app.training import harmony_data as hd  # noqa: E402
from musicvae_app.training.train_harmony import CACHE, family  # noqa: E402

CHORDS = np.arange(84)


def key_index(key: tuple[int, str]) -> int:
    return key[0] % 12 + (12 if key[1] == "minor" else 0)


def relative(chord: np.ndarray, tonic: int) -> np.ndarray:
    """Chord class -> the same quality with its root relative to the tonic."""
    return (chord // 12) * 12 + (chord % 12 - tonic) % 12


def per_key(table: np.ndarray) -> np.ndarray:
    """(2, 84) log table over tonic-relative chords -> (24, 84) over absolute chords, key index mode * 12 + tonic."""
    return np.stack([table[k // 12, relative(CHORDS, k % 12)] for k in range(24)])


def fit_tables(train: list, max_held: int) -> dict[str, np.ndarray]:
    """Log P(chord | key) tables and the change hazard from the training songs' annotated half bars."""
    uni = np.full((2, 84), 0.5)
    changes, steps = np.zeros((max_held, 2)), np.zeros((max_held, 2))
    for song in train:
        ref = hd.half_labels(song.beat_labels)
        tonic, mode = song.key
        ok = ref < NO_CHORD
        np.add.at(uni[int(mode == "minor")], relative(ref[ok], tonic), 1.0)
        held = 1
        for t in range(1, len(ref)):
            if not (ok[t] and ok[t - 1]):
                held = 1
                continue
            changed = ref[t] != ref[t - 1]
            changes[min(held, max_held) - 1, t % 2] += changed
            steps[min(held, max_held) - 1, t % 2] += 1
            held = 1 if changed else held + 1
    uni /= uni.sum(axis=1, keepdims=True)
    quality = np.repeat(uni.reshape(2, 7, 12).sum(axis=2), 12, axis=1)
    return {
        "chord": per_key(np.log(uni)),
        "degree": per_key(np.log(uni / quality)),
        "hazard": (changes + 1) / (steps + 2),
        "mean_hazard": changes.sum(axis=0) / steps.sum(axis=0),
    }


def joint_marginals(emit: np.ndarray, trans: list[np.ndarray], log_prior: np.ndarray, log_key: np.ndarray, eps: float):
    """(T, 84) chord marginals of a key x chord HMM: per key k the chain of the shipped decoder with each chord's
    score times exp(log_prior[k, c]); the key stays, or at a bar line (t even) moves to any key with prob. eps."""
    n = len(emit)
    e = np.exp(emit - emit.max(axis=1, keepdims=True))
    steps = [np.exp(tr - tr.max()) for tr in trans]
    weight = np.exp(log_prior - log_prior.max())
    alpha, scale = np.empty((n, 24, 84)), np.empty(n)
    a = np.exp(log_key - log_key.max())[:, None] * weight * e[0]
    for t in range(n):
        if t:
            prev = alpha[t - 1]
            if t % 2 == 0:
                prev = (1 - eps) * prev + eps * prev.mean(axis=0, keepdims=True)
            a = (prev @ steps[t % 2]) * weight * e[t]
        scale[t] = a.sum()
        alpha[t] = a / scale[t]
    beta = np.empty_like(alpha)
    beta[-1] = 1.0
    for t in range(n - 2, -1, -1):
        h = (weight * e[t + 1] * beta[t + 1]) @ steps[(t + 1) % 2].T
        if (t + 1) % 2 == 0:
            h = (1 - eps) * h + eps * h.mean(axis=0, keepdims=True)
        beta[t] = h / scale[t + 1]
    post = (alpha * beta).sum(axis=1)
    return post / post.sum(axis=1, keepdims=True)


def duration_marginals(emit: np.ndarray, trans: list[np.ndarray], hold: np.ndarray, change: np.ndarray):
    """(T, 84) chord marginals of an explicit-duration chain: state (half bars held d = 1..D, chord); into step t a
    hold has the shipped self-transition times hold[d, t % 2], a change the shipped transition times change[d, t % 2].
    hold = change = 1 is the shipped decoder."""
    n, held = len(emit), hold.shape[0]
    e = np.exp(emit - emit.max(axis=1, keepdims=True))
    steps = [np.exp(tr - tr.max()) for tr in trans]
    diag = [np.diag(s).copy() for s in steps]
    off = [s - np.diag(d) for s, d in zip(steps, diag)]
    nxt = np.minimum(np.arange(held) + 1, held - 1)
    alpha, scale = np.zeros((n, held, 84)), np.empty(n)
    a = np.zeros((held, 84))
    a[0] = e[0]
    for t in range(n):
        if t:
            p, prev = t % 2, alpha[t - 1]
            a = np.zeros((held, 84))
            a[0] = (change[:, p, None] * prev).sum(axis=0) @ off[p]
            np.add.at(a, nxt, hold[:, p, None] * prev * diag[p])
            a *= e[t]
        scale[t] = a.sum()
        alpha[t] = a / scale[t]
    beta = np.empty_like(alpha)
    beta[-1] = 1.0
    for t in range(n - 2, -1, -1):
        p = (t + 1) % 2
        g = e[t + 1] * beta[t + 1]
        beta[t] = (hold[:, p, None] * diag[p] * g[nxt] + change[:, p, None] * (off[p] @ g[0])) / scale[t + 1]
    post = (alpha * beta).sum(axis=1)
    return post / post.sum(axis=1, keepdims=True)


def song_inputs(model: HarmonyModel, songs: list) -> list[dict]:
    """Per dev song with a melody: the decoder's emissions as harmonize() makes them, the nets' key, the labels."""
    out = []
    for song in songs:
        notes = hd.part_of(song, "melody")
        if len(notes) == 0:
            continue
        ref = hd.half_labels(song.beat_labels)
        log_post, log_key = model.ensemble_posteriors(notes, len(ref), 4)
        log_post = tie_repeats(log_post, repeat_ties(notes, len(ref), 4), model.repeat_weight)
        out.append({"emit": log_post, "log_key": log_key, "key": key_index(song.key), "ref": ref})
    return out


def right(paths: list[list[int]], inputs: list[dict]) -> np.ndarray:
    """(songs, 2): half bars right (root + family), half bars with a reference chord."""
    rows = []
    for path, d in zip(paths, inputs):
        m = d["ref"] != NO_CHORD
        rows.append(((family(np.array(path))[m] == family(d["ref"])[m]).sum(), m.sum()))
    return np.array(rows, dtype=np.float64)


def compare(name: str, counts: np.ndarray, base: np.ndarray, rng: np.random.Generator) -> None:
    gain = counts[:, 0] / counts[:, 1] - base[:, 0] / base[:, 1]
    lo, hi = gain_interval(counts[:, 0], counts[:, 1], base[:, 0], base[:, 1], resamples(rng, len(counts)))
    pct = 100 * counts[:, 0].sum() / counts[:, 1].sum()
    print(
        f"{name:34s} half {pct:6.2f}  better {int((gain > 0).sum()):2d} worse {int((gain < 0).sum()):2d}  "
        f"gain 95 % [{lo:+.2f}, {hi:+.2f}]",
        flush=True,
    )


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="/work/shared/data/pop909")
    ap.add_argument("--limit", type=int, default=0, help="only the first N dev songs (0: all 62)")
    ap.add_argument("--held", type=int, default=4, help="duration model: half bars held, counted up to D")
    ap.add_argument("--time", action="store_true", help="also ms of each decoder on the 3-minute melody")
    args = ap.parse_args(argv)
    model = HarmonyModel.load()
    everything = hd.load_all(args.data, os.path.join(CACHE, "songs.pkl"))
    tables = fit_tables([s for s in everything if hd.split_of(s.song_id) == "train"], args.held)
    inputs = song_inputs(model, dev_songs(args.data, args.limit))
    trans = [model.trans_weight * model.trans[0], model.trans_weight * model.trans[1]]
    print(f"dev songs: {len(inputs)}; melody alone, half bars right (root + family), %; gain vs shipped", flush=True)

    def run(marginals) -> np.ndarray:
        return right([mbr_path(marginals(d)) for d in inputs], inputs)

    rng = np.random.default_rng(0)
    base = run(lambda d: forward_backward(d["emit"], trans))
    compare("shipped (MBR, no key)", base, base, rng)
    key_acc = np.mean([int(np.argmax(d["log_key"])) == d["key"] for d in inputs])
    print(f"the nets' key right in {100 * key_acc:.1f} % of the dev songs", flush=True)
    for table in ("chord", "degree"):
        for w in (0.1, 0.25, 0.5, 1.0):
            prior = w * tables[table]
            counts = run(
                lambda d, prior=prior: forward_backward(d["emit"] + prior[int(np.argmax(d["log_key"]))], trans)
            )
            compare(f"key-fixed P({table}|key) w {w}", counts, base, rng)
        for w in (0.25, 0.5):
            prior = w * tables[table]
            counts = run(lambda d, prior=prior: forward_backward(d["emit"] + prior[d["key"]], trans))
            compare(f"ORACLE key P({table}|key) w {w}", counts, base, rng)
        for w, eps in ((0.25, 0.05), (0.5, 0.01), (0.5, 0.1), (1.0, 0.05)):
            prior = w * tables[table]
            counts = run(lambda d, prior=prior, eps=eps: joint_marginals(d["emit"], trans, prior, d["log_key"], eps))
            compare(f"joint key x chord {table} w {w} eps {eps}", counts, base, rng)
    haz, mean = tables["hazard"], tables["mean_hazard"]
    print("change hazard by half bars held (rows 1..D), [into a bar line, into mid-bar]:")
    print(np.round(haz, 3), "mean", np.round(mean, 3))
    for beta in (0.25, 0.5, 1.0):
        hold, change = ((1 - haz) / (1 - mean)) ** beta, (haz / mean) ** beta
        counts = run(lambda d, hold=hold, change=change: duration_marginals(d["emit"], trans, hold, change))
        compare(f"duration D {args.held} beta {beta}", counts, base, rng)
    if args.time:
        notes = three_minute_melody()
        n = 2 * int(np.ceil(notes[:, 2].max() / 4))
        emit, log_key = model.ensemble_posteriors(notes, n, 4)
        hold, change = ((1 - haz) / (1 - mean)) ** 0.5, (haz / mean) ** 0.5
        decoders = {
            "harmonize() (3 alternatives)": lambda: model.harmonize(notes, alternatives=3),
            "shipped forward-backward": lambda: forward_backward(emit, trans),
            "joint key x chord": lambda: joint_marginals(emit, trans, 0.25 * tables["degree"], log_key, 0.05),
            "duration": lambda: duration_marginals(emit, trans, hold, change),
        }
        for name, fn in decoders.items():
            fn()
            cpu = []
            for _ in range(10):
                c0 = time.process_time()
                fn()
                cpu.append(1000 * (time.process_time() - c0))
            print(f"time {name}: CPU median {np.median(cpu):.1f} ms ({n} half bars)", flush=True)


if __name__ == "__main__":
    main()
