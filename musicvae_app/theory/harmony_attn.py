"""A melody net of a third kind for the harmony model's ensemble: a small transformer encoder over the half bars.

numpy only (no torch at inference); trained by musicvae_app.training.train_harmony_attn, weights
`resources/models/harmony/attn*.npz` (optional). The half-bar nets (theory/harmony.py) step a GRU through the part,
the fine net (theory/harmony_fine.py) reads 16ths through fixed-distance layers and one attention layer; this one
lets every half bar read every other through several attention layers whose weights depend on how far apart
they are:

1. each half bar is one token: its half-bar features (feature version 2 of theory/harmony.py: pitch-class
   profiles and context) beside its 8 grid steps of the fine net's melody features (each step through a small
   layer of its own), per transposition r (pitch classes moved so that r is C, as the other nets do: exactly
   transposition-equivariant), through one layer, plus a learned vector for its place in a four-bar phrase
   (which of 8 half bars);
2. `layers` pre-norm transformer layers (multi-head self-attention over all half bars of the part, each head
   with a learned bias per distance between the two half bars, clipped at `REL_CLIP` either side; then a
   two-layer feed-forward block), each added to its input;
3. an output layer gives, per transposition and half bar, the numbers of the 7 chord qualities on root r and of
   the keys major / minor on tonic r (the layout of the other nets, read by harmony.read_outputs).
"""

from __future__ import annotations

import re

import numpy as np

from .harmony_fine import rotated_steps
from .harmony_net import mm, softmax

ATTN_FILE = re.compile(r"attn\d*\.npz")  # attn.npz, attn2.npz, ... beside harmony.npz
PHRASE = 8  # half bars of a four-bar phrase: each place its own learned vector
REL_CLIP = 16  # attention biases per distance up to this many half bars either side; farther shares the last


def rel_index(n: int, clip: int = REL_CLIP) -> np.ndarray:
    """(n, n) index into a head's distance biases: clip(j - i, -clip, clip) + clip for query i, key j."""
    d = np.arange(n)[None, :] - np.arange(n)[:, None]
    return np.clip(d, -clip, clip) + clip


def layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def attn_outputs(p: dict[str, np.ndarray], rot_halves: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """The net's output numbers (12, n, Q + 2) from harmony.rotated_inputs(...) of feature version 2 (12, n, I)
    and harmony_fine.step_features(...) (n * STEPS, N_STEP) (weights as written by
    training.train_harmony_attn.export)."""
    n = rot_halves.shape[1]
    heads = int(p["heads"])
    layers = int(p["layers"])
    s = np.maximum(mm(rotated_steps(steps), p["step_w"].T) + p["step_b"], 0.0)  # each 16th step, a few numbers
    x = np.concatenate([rot_halves, s.reshape(12, n, -1)], axis=-1)  # a token per half bar and transposition
    h = np.maximum(mm(x, p["in_w"].T) + p["in_b"], 0.0) + p["pos"][np.arange(n) % PHRASE]
    d = h.shape[-1]
    dh = d // heads
    rel = rel_index(n, (p["rel"].shape[-1] - 1) // 2)
    scale = np.float32(1.0 / np.sqrt(dh))
    for i in range(layers):
        a = layer_norm(h, p[f"l{i}_ln1_w"], p[f"l{i}_ln1_b"])
        qkv = mm(a, p[f"l{i}_qkv_w"].T) + p[f"l{i}_qkv_b"]  # (12, n, 3d)
        reads = np.empty_like(a)
        for j in range(heads):
            bias = p["rel"][i, j][rel]  # (n, n): the same in every transposition
            q = qkv[..., j * dh : (j + 1) * dh] * scale
            # per transposition through mm (one thread; see harmony_net.mm), the softmax over all 12 at once
            w = softmax(np.stack([mm(q[r], qkv[r, :, d + j * dh : d + (j + 1) * dh].T) for r in range(12)]) + bias)
            for r in range(12):
                reads[r, :, j * dh : (j + 1) * dh] = mm(w[r], qkv[r, :, 2 * d + j * dh : 2 * d + (j + 1) * dh])
        h = h + mm(reads, p[f"l{i}_o_w"].T) + p[f"l{i}_o_b"]
        a = layer_norm(h, p[f"l{i}_ln2_w"], p[f"l{i}_ln2_b"])
        f = np.maximum(mm(a, p[f"l{i}_f1_w"].T) + p[f"l{i}_f1_b"], 0.0)
        h = h + mm(f, p[f"l{i}_f2_w"].T) + p[f"l{i}_f2_b"]
    h = layer_norm(h, p["lnf_w"], p["lnf_b"])
    return mm(h, p["out_w"].T) + p["out_b"]
