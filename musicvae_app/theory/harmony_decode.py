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
