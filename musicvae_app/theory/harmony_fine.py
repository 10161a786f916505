"""A melody net of another kind for the harmony model's ensemble: it reads the melody at 16ths and the song's form.

numpy only (no torch at inference); trained by musicvae_app.training.train_harmony_fine, weights
`resources/models/harmony/fine*.npz` (optional). The half-bar nets (theory/harmony.py) see each half bar as
pitch-class profiles; this one sees the notes themselves, in order, and how alike the half bars of the song are:

1. the part is read on a grid of 8 steps a half bar (16ths in 4/4), keeping its top line: per step the pitch
   class that sounds and the one struck there (one-hot), and `N_SCALARS` numbers (rest, onset, register, the
   interval from the previous note and to the next, the note's length, which half of the bar);
2. per transposition r (pitch classes moved so that r is C, as the half-bar nets do, so one set of weights
   serves every key), a layer over each step and its neighbours, then one over each half bar's 8 steps (so the
   weights know the metric place of every note), then residual dilated layers over nearby half bars (1, 2, 4, 8
   away);
3. one attention layer over all half bars of the part: a half bar whose melody is like another's (a repeated
   line) reads that one's state, so repeats lean to the same chords;
4. an output layer gives, per transposition and half bar, the numbers of the 7 chord qualities on root r and of
   the keys major / minor on tonic r (the layout of the half-bar nets, read by harmony.read_outputs).
"""

from __future__ import annotations

import re

import numpy as np

from .harmony_net import mm, softmax

STEPS = 8  # grid steps a half bar
N_SCALARS = 8
N_STEP = 24 + N_SCALARS  # per step: sounding pitch class, struck pitch class, scalars
FINE_FILE = re.compile(r"fine\d*\.npz")  # fine.npz, fine2.npz, ... beside harmony.npz


def step_features(notes: np.ndarray, n_halves: int, beats_per_bar: float = 4) -> np.ndarray:
    """(n_halves * STEPS, N_STEP) float32 features of an (N, 4) notes array (pitch, start, end in beats)."""
    total = n_halves * STEPS
    out = np.zeros((total, N_STEP), dtype=np.float32)
    out[:, 24 + 7] = (np.arange(total) // STEPS) % 2
    if total == 0:
        return out
    step = beats_per_bar / (2 * STEPS)  # beats a step
    notes = np.asarray(notes, dtype=np.float64)
    if len(notes):
        s = np.clip(np.round(notes[:, 1] / step).astype(np.int64), 0, total)
        e = np.clip(np.round(notes[:, 2] / step).astype(np.int64), 0, total)
        e = np.maximum(e, np.minimum(s + 1, total))
        keep = (s < total) & (notes[:, 2] > 0)  # a note that ends before bar 1 is not heard
        pitch, s, e = notes[keep, 0].astype(np.int64), s[keep], e[keep]
    else:
        pitch = s = e = np.zeros(0, dtype=np.int64)
    if len(pitch) == 0:
        out[:, 24] = 1.0
        return out
    # the top line: per onset step the highest note struck there; it sounds until its end or the next onset
    order = np.lexsort((-pitch, s))
    pitch, s, e = pitch[order], s[order], e[order]
    first = np.concatenate([[True], s[1:] != s[:-1]])
    pitch, s, e = pitch[first], s[first], e[first]
    e = np.minimum(e, np.concatenate([s[1:], [total]]))
    lengths = e - s
    steps = np.repeat(s, lengths) + (np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths))
    note_of = np.full(total, -1)
    note_of[steps] = np.repeat(np.arange(len(pitch)), lengths)
    on = note_of >= 0
    cur = note_of[on]
    out[np.flatnonzero(on), pitch[cur] % 12] = 1.0
    out[s, 12 + pitch % 12] = 1.0
    prev_iv = np.concatenate([[0], np.diff(pitch)])
    next_iv = np.concatenate([np.diff(pitch), [0]])
    out[:, 24] = ~on
    out[s, 25] = 1.0
    out[on, 26] = (pitch[cur] - 60) / 24
    out[on, 27] = np.clip(prev_iv[cur], -12, 12) / 12
    out[on, 28] = np.clip(next_iv[cur], -12, 12) / 12
    out[on, 29] = np.log1p(lengths[cur] / STEPS)
    out[on, 30] = (np.arange(total)[on] - s[cur]) / STEPS  # steps since the note began, in half bars
    return out


def rotated_steps(x: np.ndarray) -> np.ndarray:
    """(12, T, N_STEP): the step features with each root r moved to C (pitch class p -> p - r)."""
    out = np.empty((12, *x.shape), dtype=np.float32)
    for r in range(12):
        out[r, :, :12] = np.roll(x[:, :12], -r, axis=1)
        out[r, :, 12:24] = np.roll(x[:, 12:24], -r, axis=1)
        out[r, :, 24:] = x[:, 24:]
    return out


def _neighbour_layer(h: np.ndarray, w: np.ndarray, b: np.ndarray, d: int) -> np.ndarray:
    """relu(W [h[t - d], h[t], h[t + d]] + b) (zeros past the ends) of h (..., T, C) with w (out, 3C), as torch
    does it on the concatenation; here as one product with the three blocks side by side, then shifted sums."""
    c = h.shape[-1]
    o = w.shape[0]
    y = mm(h, np.concatenate([w[:, :c], w[:, c : 2 * c], w[:, 2 * c :]], axis=0).T)  # (..., T, 3 * out)
    out = y[..., o : 2 * o] + b
    out[..., d:, :] += y[..., :-d, :o]
    out[..., :-d, :] += y[..., d:, 2 * o :]
    return np.maximum(out, 0.0, out=out)


def fine_outputs(p: dict[str, np.ndarray], steps: np.ndarray) -> np.ndarray:
    """The net's output numbers (12, n, Q + 2) from step features (n * STEPS, N_STEP) (weights as written by
    training.train_harmony_fine.export)."""
    n = steps.shape[0] // STEPS
    h = _neighbour_layer(rotated_steps(steps), p["step_w"], p["step_b"], 1)  # (12, T, C)
    h = h.reshape(12, n, -1)
    h = np.maximum(mm(h, p["half_w"].T) + p["half_b"], 0.0)  # (12, n, H)
    for i, d in enumerate(int(v) for v in p["dilations"]):
        h = h + _neighbour_layer(h, p[f"c{i}_w"], p[f"c{i}_b"], d)
    q = mm(h, p["q_w"].T) + p["q_b"]
    k = mm(h, p["k_w"].T) + p["k_b"]
    v = mm(h, p["v_w"].T) + p["v_b"]
    scale = np.float32(1.0 / np.sqrt(q.shape[-1]))
    # per transposition, through mm (a batched np.matmul would let OpenBLAS spread over the cores and spin)
    read = np.stack([mm(softmax(mm(q[r], k[r].T) * scale), v[r]) for r in range(12)])
    h = h + mm(read, p["o_w"].T) + p["o_b"]
    h = h + np.maximum(mm(h, p["f_w"].T) + p["f_b"], 0.0)
    return mm(h, p["out_w"].T) + p["out_b"]
