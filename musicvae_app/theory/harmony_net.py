"""Running several of the harmony model's nets at once, in numpy (no torch at inference).

Each net (theory/harmony.py: input layer, one bidirectional GRU layer, output layer; weights as written by
training/train_harmony.export) reads the part in its 12 transpositions. The GRU steps through the part one half
bar at a time, and on a small net the cost of a step is mostly Python and numpy call overhead, not arithmetic.
So the forward and backward directions of every net of the same width are stepped together, as one stacked
matrix product a step (the backward direction reads its inputs reversed in time): an ensemble of nets costs
about what one net did.
"""

from __future__ import annotations

import numpy as np

_MM_BLOCK = 200_000  # multiply-adds per matmul call: small enough that OpenBLAS stays on one thread


def mm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a (..., K) @ b (K, N) in row blocks, each small enough to run on one thread.

    OpenBLAS splits a large product over all cores and spins while it waits for them; on a busy machine
    that made one harmonize() call 20x slower. Small blocks keep it on the calling thread.
    """
    k, n = b.shape
    flat = a.reshape(-1, k)
    out = np.empty((flat.shape[0], n), dtype=np.result_type(a, b))
    rows = max(1, _MM_BLOCK // max(1, k * n))
    for i in range(0, flat.shape[0], rows):
        np.matmul(flat[i : i + rows], b, out=out[i : i + rows])
    return out.reshape(*a.shape[:-1], n)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def softmax(x: np.ndarray) -> np.ndarray:
    """Over the last axis (the attention weights of the fine and the attention melody nets)."""
    x = np.exp(x - x.max(axis=-1, keepdims=True))
    return x / x.sum(axis=-1, keepdims=True)


def stacked_gru(gi: np.ndarray, w_hh_t: np.ndarray, b_hh: np.ndarray) -> np.ndarray:
    """D independent GRUs (torch.nn.GRU gate order r, z, n) stepped together.

    gi: (T, D, B, 3H) input-side gate pre-activations (x @ w_ih.T + b_ih) in the order each GRU reads them;
    w_hh_t: (D, H, 3H) (w_hh transposed); b_hh: (D, 1, 3H). Returns (T, D, B, H), the state after each step.
    """
    t_len, d, b, three_h = gi.shape
    h_size = three_h // 3
    h = np.zeros((d, b, h_size), dtype=gi.dtype)
    out = np.empty((t_len, d, b, h_size), dtype=gi.dtype)
    rows = max(1, _MM_BLOCK // max(1, h_size * three_h))  # rows of one product: keep OpenBLAS on one thread
    for t in range(t_len):
        if b <= rows:
            gh = np.matmul(h, w_hh_t) + b_hh
        else:
            gh = np.concatenate([np.matmul(h[:, i : i + rows], w_hh_t) for i in range(0, b, rows)], axis=1) + b_hh
        g = gi[t]
        rz = sigmoid(g[..., : 2 * h_size] + gh[..., : 2 * h_size])  # the reset and update gates at once
        r, z = rz[..., :h_size], rz[..., h_size:]
        n = np.tanh(g[..., 2 * h_size :] + r * gh[..., 2 * h_size :])
        h = n + z * (h - n)  # (1 - z) * n + z * h
        out[t] = h
    return out


def net_outputs(nets: list[dict[str, np.ndarray]], inputs: list[np.ndarray]) -> list[np.ndarray]:
    """The output layer's numbers (B, T, O) of each one-layer net on its inputs (B, T, I), all nets of one width
    (GRU hidden size) stepped together."""
    hidden = [np.maximum(mm(x, p["in_w"].T) + p["in_b"], 0.0) for p, x in zip(nets, inputs)]
    outs: list[np.ndarray | None] = [None] * len(nets)
    widths = sorted({p["g0_whh"].shape[1] for p in nets})
    for width in widths:
        members = [i for i, p in enumerate(nets) if p["g0_whh"].shape[1] == width]
        gis, w_t, b_hh = [], [], []
        for i in members:
            p, h = nets[i], hidden[i]
            gis.append((mm(h, p["g0_wih"].T) + p["g0_bih"]).transpose(1, 0, 2))  # (T, B, 3H), forward in time
            gis.append((mm(h, p["g0_wih_r"].T) + p["g0_bih_r"]).transpose(1, 0, 2)[::-1])  # backward: reversed
            w_t += [p["g0_whh"].T, p["g0_whh_r"].T]
            b_hh += [p["g0_bhh"][None, :], p["g0_bhh_r"][None, :]]
        states = stacked_gru(np.stack(gis, axis=1), np.stack(w_t), np.stack(b_hh))  # (T, D, B, H)
        for j, i in enumerate(members):
            fwd = states[:, 2 * j].transpose(1, 0, 2)
            bwd = states[::-1, 2 * j + 1].transpose(1, 0, 2)
            outs[i] = mm(np.concatenate([fwd, bwd], axis=2), nets[i]["out_w"].T) + nets[i]["out_b"]
    return outs  # type: ignore[return-value]
