"""Decoding the harmony model's chord probabilities for the figure people hear: root and major/minor family.

numpy only. `theory.harmony` gives, per half bar, log probabilities of the 84 chords (12 roots x 7 qualities,
index quality * 12 + root) and learned chord-transition log scores. Viterbi finds the single likeliest chord
sequence; but what a listener (and the benchmark) checks is each half bar's root and family, so the chart is
decoded by minimum Bayes risk instead:

1. forward-backward over the whole part with the same emissions and transitions as Viterbi gives each half bar's
   posterior marginal over the chords (the probability that the chord there is c, given the whole part);
2. per half bar, the root + family (24 classes: C, Cm, C#, ...) with the highest marginal (its chords' sum) is
   taken, and within it the likeliest chord: this maximises the expected number of half bars whose root and
   family are right;
3. `expected_agreement(path, families)` scores any chord sequence the same way (the mean, over half bars, of its
   root + family's marginal), so alternatives can be ranked on one scale, the decoded chart first.
"""

from __future__ import annotations

import numpy as np

N_QUALITIES = 7
N_CHORDS = 12 * N_QUALITIES
# maj, m, 7, m7, maj7, dim, sus4 -> 0 major, 1 minor (as theory.harmony.QUALITY_FAMILY)
_FAMILY_OF_QUALITY = np.array((0, 1, 0, 1, 0, 1, 0))
# chord class (quality * 12 + root) -> root * 2 + family
CHORD_FAMILY = (np.arange(N_CHORDS) % 12) * 2 + _FAMILY_OF_QUALITY[np.arange(N_CHORDS) // 12]


def forward_backward(emit: np.ndarray, trans: list[np.ndarray]) -> np.ndarray:
    """Posterior marginals (T, S), rows summing to 1, of a chain with log emissions emit (T, S) and log transition
    scores trans[t % len(trans)] (S, S) for the step into t (the same convention as harmony.kbest_viterbi).

    Scaled in the probability domain: each step is one small matrix-vector product, so a 3-minute part (180 half
    bars, 84 chords) takes a few milliseconds.
    """
    t_len, n_s = emit.shape
    if t_len == 0:
        return np.zeros((0, n_s))
    e = np.exp(emit - emit.max(axis=1, keepdims=True))
    steps = [np.exp(np.asarray(tr, dtype=np.float64) - np.max(tr)) for tr in trans]
    alpha = np.empty((t_len, n_s))
    scale = np.empty(t_len)
    a = e[0]
    for t in range(t_len):
        if t:
            a = (alpha[t - 1] @ steps[t % len(steps)]) * e[t]
        scale[t] = a.sum()
        alpha[t] = a / scale[t]
    beta = np.empty((t_len, n_s))
    beta[-1] = 1.0
    for t in range(t_len - 2, -1, -1):
        beta[t] = (steps[(t + 1) % len(steps)] @ (e[t + 1] * beta[t + 1])) / scale[t + 1]
    post = alpha * beta
    return post / post.sum(axis=1, keepdims=True)


def family_marginals(post: np.ndarray) -> np.ndarray:
    """(T, 84) chord marginals -> (T, 24) marginals of root * 2 + family (0 major, 1 minor)."""
    out = np.zeros((post.shape[0], 24))
    np.add.at(out.T, CHORD_FAMILY, post.T)
    return out


def mbr_path(post: np.ndarray) -> list[int]:
    """Per half bar the chord of the root + family with the highest marginal, the likeliest chord within it.

    Ties go to the lower index (np.argmax), so the result is deterministic."""
    if len(post) == 0:
        return []
    best_family = np.argmax(family_marginals(post), axis=1)
    inside = CHORD_FAMILY[None, :] == best_family[:, None]
    return [int(i) for i in np.argmax(np.where(inside, post, -1.0), axis=1)]


def expected_agreement(path: list[int], families: np.ndarray) -> float:
    """The expected share of half bars whose root and family are right if `path` is played (families: (T, 24))."""
    if len(path) == 0:
        return 0.0
    return float(families[np.arange(len(path)), CHORD_FAMILY[np.asarray(path)]].mean())


# --- repeats share their evidence ---------------------------------------------------------------------------
# Pop songs repeat their melody, and a repeated line nearly always carries the same chords; the nets read each
# half bar with a few bars of context, so two occurrences of one line can get different chords. Before decoding
# a melody alone, each half bar's log posteriors get those of the half bars whose melody is the same or near
# (at the same place in the bar), weighted by how alike they are. Fitted on POP909's training songs (window,
# threshold, weight; benchmarks/RESULTS.md, "Repeats share their chords").
REPEAT_WINDOW = 2  # half bars either side that must also match (a 2.5-bar window in all)
REPEAT_THRESHOLD = 0.7  # the window's mean similarity needed to tie two half bars
REPEAT_WEIGHT = 2.5  # log-posterior weight of each tied half bar (times its similarity)


def top_line_grid(notes: np.ndarray, n_halves: int, beats_per_bar: float) -> tuple[np.ndarray, np.ndarray]:
    """(pitch, onset), each (n_halves, 2 * beats_per_bar): the highest sounding MIDI pitch per 16th (-1: rest)
    and whether a note starts there, of an (N, >=3) notes array in beats (pitch, start, end)."""
    sph = int(round(2 * beats_per_bar))  # 16ths per half bar
    total = n_halves * sph
    pitch_of = np.full(total, -1, dtype=np.int64)
    onset = np.zeros(total, dtype=bool)
    if len(notes) and total:
        p = notes[:, 0].astype(np.int64)
        s = np.round(notes[:, 1] * 4).astype(np.int64)
        e = np.maximum(s + 1, np.round(notes[:, 2] * 4).astype(np.int64))
        keep = (s < total) & (s >= 0)
        p, s, e = p[keep], s[keep], np.minimum(e[keep], total)
        if len(p):
            p0 = int(p.min())
            diff = np.zeros((total + 1, int(p.max()) - p0 + 1), dtype=np.int32)
            np.add.at(diff, (s, p - p0), 1)
            np.add.at(diff, (e, p - p0), -1)
            sounding = np.cumsum(diff[:-1], axis=0) > 0
            top = sounding.shape[1] - 1 - np.argmax(sounding[:, ::-1], axis=1)
            pitch_of = np.where(sounding.any(axis=1), top + p0, -1)
            onset[s] = True
    return pitch_of.reshape(n_halves, sph), onset.reshape(n_halves, sph)


def repeat_ties(
    notes: np.ndarray,
    n_halves: int,
    beats_per_bar: float,
    window: int = REPEAT_WINDOW,
    threshold: float = REPEAT_THRESHOLD,
) -> np.ndarray:
    """(n_halves, n_halves) weights tying half bars whose melody repeats; zero where none does.

    Two half bars are alike by the share of 16ths where they sound the same top-line pitch with the same onset,
    over the 16ths where either sounds (a half bar with under two sounding 16ths is alike to none); a tie needs
    the same half of the bar, some likeness of the two half bars themselves, and a mean likeness of at least
    `threshold` over the `window` half bars either side (the pairs at the same offsets); its weight is that mean.
    """
    pitch, onset = top_line_grid(notes, n_halves, beats_per_bar)
    sounds = pitch >= 0
    code = np.where(sounds, 2 * pitch + onset, -1)  # the same code: the same pitch with the same onset
    n_sounding = sounds.sum(axis=1)
    loud = n_sounding >= 2  # a half bar with under two sounding 16ths is alike to none
    idx = np.arange(n_halves)
    out = np.zeros((n_halves, n_halves))
    for lo in range(0, n_halves, 128):  # rows in blocks (with the window around them): memory stays small
        hi = min(n_halves, lo + 128)
        rows = np.arange(lo - window, hi + window)
        inside = (rows >= 0) & (rows < n_halves)
        r = rows[inside]
        same = ((code[r, None, :] == code[None, :, :]) & sounds[r, None, :]).sum(axis=2)
        union = n_sounding[r, None] + n_sounding[None, :] - sounds[r].astype(np.int32) @ sounds.T
        sim = np.zeros((len(rows), n_halves))
        sim[inside] = np.where(loud[r, None] & loud[None, :], same / np.maximum(union, 1), 0.0)
        mean = np.zeros((hi - lo, n_halves))
        for k in range(-window, window + 1):  # the pairs at the same offsets k: (i + k, j + k)
            c0, c1 = max(0, -k), min(n_halves, n_halves - k)
            mean[:, c0:c1] += sim[window + k : window + k + hi - lo, c0 + k : c1 + k]
        mean /= 2 * window + 1
        own = sim[window : window + hi - lo]
        i = idx[lo:hi, None]
        tie = (mean >= threshold) & (own > 0) & (i % 2 == idx[None, :] % 2) & (i != idx[None, :])
        out[lo:hi] = np.where(tie, mean, 0.0)
    return out


def tie_repeats(log_post: np.ndarray, ties: np.ndarray, weight: float = REPEAT_WEIGHT) -> np.ndarray:
    """Each half bar's log posteriors (T, S) plus `weight` x the tie-weighted sum of its repeats' (ties (T, T))."""
    if weight == 0 or not ties.any():
        return log_post
    return log_post + weight * (ties @ log_post)
