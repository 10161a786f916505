"""A learned harmony model: the key and the chord progression of a whole part, from its note events.

numpy only (no Qt, no torch at inference). A part is a list of notes (pitch, start beat, end beat,
velocity) in a metre of `beats_per_bar` beats with bar 1 starting at beat 0. The model

1. cuts the part into half bars and measures, for each, six pitch-class profiles (duration; onsets
   weighted by metric position; the lowest sounding note; what sounds at the half bar's start; the last
   notes struck; the lowest pitch) and six plain numbers (which half, silence, polyphony, onsets, register);
2. runs a small bidirectional GRU over the whole part, once for each of the 12 transpositions of the
   profiles, so that the score of a chord on root r is read from the part seen with r as C: the net is
   exactly transposition-equivariant and one set of weights serves every key. It gives each half bar a
   probability for every chord of the vocabulary (12 roots x {maj, m, 7, m7, maj7, dim, sus4}) and the
   part a probability for each of the 24 keys;
3. decodes the whole part jointly with those probabilities and learned, transposition-invariant chord-transition
   scores (separate for a change at the middle of a bar and at a bar line): forward-backward gives each half
   bar's chord marginals and the chart takes the likeliest root + family there (minimum Bayes risk,
   theory/harmony_decode.py); k-best Viterbi paths are the alternatives. A melody alone first shares evidence
   between the half bars whose line repeats (harmony_decode.repeat_ties / tie_repeats);
4. writes one chord per half bar, merged when both halves agree, as a chart `| C Am | F | G |`; a slash
   bass only where the part's lowest line sits on one non-root chord tone for the whole chord.

Weights: `resources/models/harmony/harmony.npz` (trained on POP909 by musicvae_app.training.train_harmony).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

import numpy as np

from ..errors import InvalidValue
from ..resources import resources_dir
from . import keys
from .chords import ROOT_NAMES
from .harmony_attn import ATTN_FILE, attn_outputs
from .harmony_decode import (
    REPEAT_WEIGHT,
    expected_agreement,
    family_marginals,
    forward_backward,
    mbr_path,
    repeat_ties,
    tie_repeats,
)
from .harmony_fine import FINE_FILE, fine_outputs, step_features
from .harmony_net import mm, net_outputs, stacked_gru

QUALITY_NAMES = ("", "m", "7", "m7", "maj7", "dim", "sus4")
QUALITY_TONES = ((0, 4, 7), (0, 3, 7), (0, 4, 7, 10), (0, 3, 7, 10), (0, 4, 7, 11), (0, 3, 6), (0, 5, 7))
# Family for scoring "root + major/minor": maj, 7, maj7, sus4 -> major; m, m7, dim -> minor.
QUALITY_FAMILY = (0, 1, 0, 1, 0, 1, 0)
N_Q = len(QUALITY_NAMES)
N_CHORDS = 12 * N_Q  # chord classes: index = quality * 12 + root
NO_CHORD = N_CHORDS  # the 'N' class of the data (never output)

STEPS_PER_BEAT = 8
N_PROFILES = 6  # per-half-bar profiles of feature version 1
N_SCALARS = 6
# Feature version 2 adds two context profiles (the whole part's pitch classes by duration, and those of the
# CONTEXT half bars either side) and five scalars (place in the part; which bar of four).
CONTEXT = 4
FEATURE_SHAPES = {1: (N_PROFILES, N_SCALARS), 2: (N_PROFILES + 2, N_SCALARS + 5)}
DEFAULT_WEIGHTS = str(resources_dir() / "models" / "harmony" / "harmony.npz")  # a source checkout or the bundle
MELODY_WEIGHTS = "melody.npz"  # beside the weights: a second net that also hears a melody alone (optional)
MELODY_FILE = re.compile(r"melody\d*\.npz")  # melody.npz, melody2.npz, ...: more such nets (optional)
MELODY_LOWEST_MEAN = 57  # a melody: one note at a time, its mean pitch at least A3 (a bass line is lower)


def key_name(index: int) -> str:
    """Key index (mode * 12 + tonic; mode 0 major, 1 minor) -> 'E minor', spelled as keys.key_name spells it."""
    return keys.key_name((index % 12, "minor" if index >= 12 else "major"))


def chord_index(chord: tuple[int, int] | None) -> int:
    """(root, quality index) -> class index; None -> NO_CHORD."""
    if chord is None:
        return NO_CHORD
    root, q = chord
    return q * 12 + root % 12


def chord_of_index(k: int) -> tuple[int, int] | None:
    return None if k >= N_CHORDS else (k % 12, k // 12)


def symbol_of_index(k: int, bass: int | None = None) -> str:
    """Class index -> chord symbol ('Am', 'G7', 'C/E'); 'N.C.' for NO_CHORD."""
    if k >= N_CHORDS:
        return "N.C."
    root, q = k % 12, k // 12
    text = ROOT_NAMES[root] + QUALITY_NAMES[q]
    return text if bass is None or bass == root else f"{text}/{ROOT_NAMES[bass]}"


def tones_of_index(k: int) -> tuple[int, ...]:
    if k >= N_CHORDS:
        return ()
    return tuple((k % 12 + s) % 12 for s in QUALITY_TONES[k // 12])


def family_index(k: int) -> int:
    """Class -> root*2 + family (0 major, 1 minor), or 24 for N: what 'root + maj/min' scoring compares."""
    if k >= N_CHORDS:
        return 24
    return (k % 12) * 2 + QUALITY_FAMILY[k // 12]


@dataclass(frozen=True)
class Note:
    """A note event in beats (bar 1 starts at beat 0)."""

    pitch: int
    start: float
    end: float
    velocity: int = 90


@dataclass
class Harmony:
    """What harmonize() found: the key, charts best first, the best chart's chords per bar, and scores."""

    key: str
    charts: list[str]
    chords: list[list[str]]
    scores: list[float] = field(default_factory=list)  # each chart's expected share of right root+family (best first)
    key_confidence: float = 0.0  # the model's probability for `key`
    half_bars: list[int] = field(default_factory=list)  # class index per half bar of the best chart


# --- input --------------------------------------------------------------------------------------
def as_array(notes) -> np.ndarray:
    """Notes (Note objects, (pitch, start, end[, velocity]) tuples, or an (N, 3|4) array) -> (N, 4) floats."""
    if isinstance(notes, np.ndarray):
        arr = np.asarray(notes, dtype=np.float64)
        if arr.size == 0:
            return np.zeros((0, 4))
        if arr.ndim != 2 or arr.shape[1] not in (3, 4):
            raise InvalidValue(
                f"notes array has shape {arr.shape}: give an (N, 4) array of pitch, start beat, end beat, velocity"
            )
        if arr.shape[1] == 3:
            arr = np.concatenate([arr, np.full((len(arr), 1), 90.0)], axis=1)
        return arr
    rows = []
    for n in notes:
        if isinstance(n, Note):
            rows.append((n.pitch, n.start, n.end, n.velocity))
        else:
            t = tuple(n)
            if len(t) not in (3, 4):
                raise InvalidValue(f"note {n!r} is not a note: give Note(pitch, start, end, velocity) in beats")
            rows.append(t if len(t) == 4 else (*t, 90))
    return np.array(rows, dtype=np.float64).reshape(-1, 4)


def _check(arr: np.ndarray) -> np.ndarray:
    if len(arr) == 0:
        raise InvalidValue(
            "the part has no notes, so there is nothing to harmonize: give a melody, comp or bass line with notes"
        )
    if not np.all(np.isfinite(arr)):
        raise InvalidValue("a note has a start, end or pitch that is not a number: give finite beats")
    bad = (arr[:, 0] < 0) | (arr[:, 0] > 127)
    if bad.any():
        raise InvalidValue(f"note pitch {arr[bad][0, 0]:g} is outside MIDI 0-127: give MIDI note numbers")
    arr = arr[arr[:, 2] > 0]
    arr = arr.copy()
    arr[:, 1] = np.maximum(arr[:, 1], 0.0)
    arr = arr[arr[:, 2] > arr[:, 1]]
    if len(arr) == 0:
        raise InvalidValue(
            "the part has no notes that sound at or after beat 0 with an end after their start: nothing to harmonize"
        )
    return arr


# --- features -----------------------------------------------------------------------------------
def _sounding(notes: np.ndarray, total: int) -> tuple[np.ndarray, int, np.ndarray, np.ndarray]:
    """(sounding (total, width) bool over pitches p0.., p0 (a multiple of 12), pitches and onset steps
    of the notes that start before `total`) at 1/8 beat."""
    pitch = notes[:, 0].astype(np.int64)
    s = np.clip(np.round(notes[:, 1] * STEPS_PER_BEAT).astype(np.int64), 0, total)
    e = np.clip(np.round(notes[:, 2] * STEPS_PER_BEAT).astype(np.int64), 0, total)
    e = np.maximum(e, np.minimum(s + 1, total))
    keep = s < total
    pitch, s, e = pitch[keep], s[keep], e[keep]
    if len(pitch) == 0:
        return np.zeros((total, 12), dtype=bool), 0, pitch, s
    p0 = int(pitch.min()) // 12 * 12
    width = int(pitch.max()) - p0 + 1
    diff = np.zeros((total + 1, width), dtype=np.int32)
    np.add.at(diff, (s, pitch - p0), 1)
    np.add.at(diff, (e, pitch - p0), -1)
    return np.cumsum(diff[:-1], axis=0) > 0, p0, pitch, s


def features(
    notes: np.ndarray, n_halves: int, beats_per_bar: float = 4, version: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """(profiles (n_halves, P, 12), scalars (n_halves, S)) float32 of an (N, 4) notes array in beats.

    version 1: P = 6, S = 6 (the half bar alone); version 2: P = 8, S = 11 (with its context)."""
    n_prof, n_scal = FEATURE_SHAPES[version]
    sph = int(round(beats_per_bar * STEPS_PER_BEAT / 2))  # steps per half bar
    total = n_halves * sph
    prof = np.zeros((n_halves, n_prof, 12))
    scal = np.zeros((n_halves, n_scal))
    scal[:, 0] = np.arange(n_halves) % 2
    if version >= 2 and n_halves:
        scal[:, 6] = np.arange(n_halves) / max(1, n_halves - 1)
        scal[np.arange(n_halves), 7 + (np.arange(n_halves) // 2) % 4] = 1.0
    if len(notes) == 0 or n_halves == 0:
        scal[:, 1] = 1.0
        return prof.astype(np.float32), scal.astype(np.float32)
    sounding, p0, pitch, s = _sounding(notes, total)
    width = sounding.shape[1]
    per_half = sounding.reshape(n_halves, sph, width)
    dur = per_half.sum(axis=1).astype(np.float64)  # (n, width) steps sounding per pitch p0 + column
    pcs = np.arange(width) % 12  # p0 is a multiple of 12

    def fold(x: np.ndarray) -> np.ndarray:
        out = np.zeros((x.shape[0], 12))
        for p in range(12):
            out[:, p] = x[:, p::12].sum(axis=1)
        return out

    prof[:, 0] = fold(dur)
    any_sound = sounding.any(axis=1)
    low = np.argmax(sounding, axis=1)
    steps = np.flatnonzero(any_sound)
    np.add.at(prof[:, 2], (steps // sph, pcs[low[steps]]), 1.0)
    half = s // sph
    pos = s % sph
    weight = 1.0 + (pos % STEPS_PER_BEAT == 0) + (pos == 0)
    np.add.at(prof[:, 1], (half, pitch % 12), weight)
    start = per_half[:, 0].astype(np.float64)
    early = pos < 2
    np.add.at(start, (half[early], pitch[early] - p0), 1.0)
    prof[:, 3] = fold(np.minimum(start, 1.0))
    last = np.full(n_halves, -1)
    np.maximum.at(last, half, s)
    latest = s >= last[half] - 1
    np.add.at(prof[:, 4], (half[latest], pitch[latest] % 12), 1.0)
    has = dur.sum(axis=1) > 0
    lowest_pitch = np.argmax(dur > 0, axis=1)
    prof[has, 5, pcs[lowest_pitch[has]]] = 1.0
    lowest_pitch = lowest_pitch + p0
    if version >= 2:
        raw = prof[:, 0].copy()  # beats-weighted pitch classes of each half bar
        prof[:, 6] = raw.sum(axis=0)[None, :]
        padded = np.concatenate([np.zeros((CONTEXT, 12)), raw, np.zeros((CONTEXT, 12))])
        window = np.cumsum(np.concatenate([np.zeros((1, 12)), padded]), axis=0)
        prof[:, 7] = window[2 * CONTEXT + 1 :][:n_halves] - window[:n_halves]
    sums = prof.sum(axis=2, keepdims=True)
    prof = np.where(sums > 0, prof / np.maximum(sums, 1e-9), 0.0)
    weight_total = dur.sum(axis=1)
    onsets = np.bincount(half, minlength=n_halves)
    scal[:, 1] = ~has
    scal[:, 2] = np.log1p(weight_total / sph)
    scal[:, 3] = np.log1p(onsets) / 2
    mean_pitch = (dur @ np.arange(p0, p0 + width)) / np.maximum(weight_total, 1e-9)
    scal[:, 4] = np.where(has, (mean_pitch - 60) / 24, 0.0)
    scal[:, 5] = np.where(has, (lowest_pitch - 48) / 24, 0.0)
    return prof.astype(np.float32), scal.astype(np.float32)


def rotated_inputs(prof: np.ndarray, scal: np.ndarray) -> np.ndarray:
    """(12, n, P*12 + S): the inputs seen with each root r moved to C (profile index p -> p - r)."""
    n, n_prof = prof.shape[:2]
    out = np.empty((12, n, n_prof * 12 + scal.shape[1]), dtype=np.float32)
    for r in range(12):
        out[r, :, : n_prof * 12] = np.roll(prof, -r, axis=2).reshape(n, -1)
        out[r, :, n_prof * 12 :] = scal
    return out


# --- the net in numpy ---------------------------------------------------------------------------
def _gru(
    x: np.ndarray, w_ih: np.ndarray, w_hh: np.ndarray, b_ih: np.ndarray, b_hh: np.ndarray, reverse: bool
) -> np.ndarray:
    """torch.nn.GRU (one direction, batch first) in numpy: x (B, T, I) -> (B, T, H). For nets of several GRU
    layers; one-layer nets run through harmony_net.net_outputs (all nets and directions stepped together)."""
    gi = mm(x, w_ih.T) + b_ih  # (B, T, 3H)
    gi = gi.transpose(1, 0, 2)[::-1] if reverse else gi.transpose(1, 0, 2)
    out = stacked_gru(gi[:, None], w_hh.T[None], b_hh[None, None])[:, 0]  # (T, B, H)
    return (out[::-1] if reverse else out).transpose(1, 0, 2)


def _log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def read_outputs(out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A net's output numbers (12, n, Q + 2), one row per transposition -> (log p(chord) (n, 84) with index
    q*12 + root, log p(key) (24,) with index mode*12 + tonic)."""
    chord_logits = out[:, :, :N_Q].transpose(1, 2, 0).reshape(out.shape[1], N_CHORDS)
    key_logits = out[:, :, N_Q : N_Q + 2].mean(axis=1).T.reshape(-1)  # (2, 12) -> mode*12 + tonic
    return _log_softmax(chord_logits), _log_softmax(key_logits)


# --- decoding -----------------------------------------------------------------------------------
def kbest_viterbi(emit: np.ndarray, trans: list[np.ndarray], k: int, beam: int = 16) -> list[tuple[float, list[int]]]:
    """The k best state paths of emit (T, S) (log scores) with trans[t % len(trans)] (S, S) for the step into t.

    Only the `beam` best-scoring states of each step are considered (a beam over the emissions). Returns
    [(score, path)] best first; ties are broken by state index, so the result is deterministic.
    """
    t_len, n_s = emit.shape
    k = max(1, k)
    m = min(beam, n_s)
    keep = np.sort(np.argsort(-emit, axis=1, kind="stable")[:, :m], axis=1)  # (T, m) state ids
    delta = np.full((m, k), -np.inf)
    delta[:, 0] = emit[0, keep[0]]
    back = np.zeros((t_len, m, k), dtype=np.int64)  # prev position * k + prev rank
    for t in range(1, t_len):
        tr = trans[t % len(trans)][np.ix_(keep[t - 1], keep[t])]
        cand = (delta[:, None, :] + tr[:, :, None]).transpose(1, 0, 2).reshape(m, m * k)
        idx = np.argpartition(-cand, k - 1, axis=1)[:, :k] if m * k > k else np.tile(np.arange(m * k), (m, 1))
        vals = np.take_along_axis(cand, idx, axis=1)
        order = np.lexsort((idx, -vals), axis=1)
        back[t] = np.take_along_axis(idx, order, axis=1)
        delta = np.take_along_axis(vals, order, axis=1) + emit[t, keep[t]][:, None]
    flat = delta.reshape(-1)
    finite = np.flatnonzero(np.isfinite(flat))
    best = finite[np.lexsort((finite, -flat[finite]))][:k]
    out = []
    for f in best:
        pos, rank = int(f // k), int(f % k)
        path = [int(keep[-1, pos])]
        for t in range(t_len - 1, 0, -1):
            b = int(back[t, pos, rank])
            pos, rank = b // k, b % k
            path.append(int(keep[t - 1, pos]))
        out.append((float(flat[f]), path[::-1]))
    return out


def transition_matrix(table: np.ndarray) -> np.ndarray:
    """(Q, Q, 12) transposition-invariant log scores [q_prev, q, interval] -> (84, 84) over class indices."""
    prev = np.arange(N_CHORDS)
    q_prev, r_prev = prev // 12, prev % 12
    q, r = q_prev[None, :], r_prev[None, :]
    return table[q_prev[:, None], q, (r - r_prev[:, None]) % 12]


def melody_like(notes: np.ndarray) -> bool:
    """Whether a part is a melody: one note at a time for at least 90 % of its sounding time (1/8-beat steps),
    with a mean pitch of at least MELODY_LOWEST_MEAN (a bass line, also one note at a time, is lower)."""
    total = int(np.ceil(notes[:, 2].max() * STEPS_PER_BEAT)) if len(notes) else 0
    if total == 0:
        return False
    sounding, _, _, _ = _sounding(notes, total)
    voices = sounding.sum(axis=1)
    playing = voices > 0
    return bool((voices[playing] <= 1).mean() >= 0.9 and notes[:, 0].mean() >= MELODY_LOWEST_MEAN)


class HarmonyModel:
    """The trained harmony model. `HarmonyModel.load()` reads the shipped weights; harmonize() names chords.

    melody: the nets that also hear a melody alone (weights `melody.npz`, `melody2.npz`, ... beside the first;
    one net or a list): when the part is a melody alone (`melody_like`), their chord and key probabilities and
    the first net's are averaged (log domain, renormalised). `melody` is the first of them, `melody_nets` all.
    fine: the weights of nets that read a melody at 16ths (theory/harmony_fine.py; `fine.npz`, ... beside the
    first, optional), averaged in the same way.
    attn: the weights of transformer nets over the half bars (theory/harmony_attn.py; `attn.npz`, ... beside the
    first, optional), averaged in the same way.
    """

    def __init__(
        self,
        params: dict[str, np.ndarray],
        melody: HarmonyModel | list[HarmonyModel] | None = None,
        fine: list[dict[str, np.ndarray]] | None = None,
        attn: list[dict[str, np.ndarray]] | None = None,
    ):
        self.melody_nets = [] if melody is None else [melody] if isinstance(melody, HarmonyModel) else list(melody)
        self.fine_nets = list(fine or [])
        self.attn_nets = list(attn or [])
        self.melody = self.melody_nets[0] if self.melody_nets else None
        self.repeat_weight = REPEAT_WEIGHT  # 0: a melody's repeats decoded apart (as before the fifth session)
        self.p = {k: np.asarray(v) for k, v in params.items()}
        self.layers = int(self.p.get("layers", np.array(1)))
        self.version = int(self.p.get("features", np.array(1)))
        if "trans_bar" not in self.p:  # a melody net: the first one's decoding is used
            return
        self.trans_weight = float(self.p["trans_weight"])
        self.prior_weight = float(self.p.get("prior_weight", np.array(0.0)))
        self.trans = [transition_matrix(self.p["trans_bar"]), transition_matrix(self.p["trans_mid"])]
        self.log_prior = np.log(np.maximum(self.p["prior"], 1e-6))

    @classmethod
    def load(cls, path: str | None = None) -> HarmonyModel:
        path = path or DEFAULT_WEIGHTS
        if not os.path.exists(path):
            raise InvalidValue(
                f"harmony weights {path!r} do not exist: train them with musicvae_app.training.train_harmony"
            )
        with np.load(path) as data:
            params = {k: data[k] for k in data.files}
        folder = os.path.dirname(path) or "."
        melody, fine, attn = [], [], []
        if not MELODY_FILE.fullmatch(os.path.basename(path)):
            for name in sorted(f for f in os.listdir(folder) if MELODY_FILE.fullmatch(f)):  # melody.npz first
                with np.load(os.path.join(folder, name)) as data:
                    melody.append(cls({k: data[k] for k in data.files}))
            for pattern, into in ((FINE_FILE, fine), (ATTN_FILE, attn)):
                for name in sorted(f for f in os.listdir(folder) if pattern.fullmatch(f)):
                    with np.load(os.path.join(folder, name)) as data:
                        into.append({k: data[k] for k in data.files})
        return cls(params, melody, fine, attn)

    # the net
    def outputs(self, x: np.ndarray) -> np.ndarray:
        """The output layer's numbers (12, n, Q + 2) on rotated inputs x (12, n, I) (of several GRU layers)."""
        p = self.p
        h = np.maximum(mm(x, p["in_w"].T) + p["in_b"], 0.0)
        for layer in range(self.layers):
            f = _gru(h, p[f"g{layer}_wih"], p[f"g{layer}_whh"], p[f"g{layer}_bih"], p[f"g{layer}_bhh"], False)
            b = _gru(h, p[f"g{layer}_wih_r"], p[f"g{layer}_whh_r"], p[f"g{layer}_bih_r"], p[f"g{layer}_bhh_r"], True)
            h = np.concatenate([f, b], axis=2)
        return mm(h, p["out_w"].T) + p["out_b"]

    def posteriors(self, prof: np.ndarray, scal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(log p(chord) per half bar (n, 84), log p(key) (24,): index mode*12 + tonic, mode 0 major 1 minor)."""
        x = rotated_inputs(prof, scal)  # (12, n, I)
        out = net_outputs([self.p], [x])[0] if self.layers == 1 else self.outputs(x)
        return read_outputs(out)

    def ensemble_posteriors(
        self, arr: np.ndarray, n_halves: int, beats_per_bar: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """The first net's, every melody net's, every fine net's and every attn net's log probabilities, averaged
        (log domain, renormalised).

        One-layer nets run together (harmony_net.net_outputs), so the ensemble costs about what one net does."""
        nets = [self, *self.melody_nets]
        feats = {v: rotated_inputs(*features(arr, n_halves, beats_per_bar, v)) for v in {n.version for n in nets}}
        one = [n for n in nets if n.layers == 1]
        outs = net_outputs([n.p for n in one], [feats[n.version] for n in one]) if one else []
        outs += [n.outputs(feats[n.version]) for n in nets if n.layers != 1]
        if self.fine_nets or self.attn_nets:
            steps = step_features(arr, n_halves, beats_per_bar)
            outs += [fine_outputs(p, steps) for p in self.fine_nets]
        if self.attn_nets:
            v2 = feats[2] if 2 in feats else rotated_inputs(*features(arr, n_halves, beats_per_bar, 2))
            outs += [attn_outputs(p, v2, steps) for p in self.attn_nets]
        posts = [read_outputs(o) for o in outs]
        log_post = _log_softmax(sum(c for c, _ in posts) / len(posts))
        return log_post, _log_softmax(sum(k for _, k in posts) / len(posts))

    def decode(self, log_post: np.ndarray, k: int) -> list[tuple[float, list[int]]]:
        """The k best chord paths [(score, path)], best first: the minimum-Bayes-risk path for root + family
        (harmony_decode: forward-backward marginals, per half bar the likeliest root + family), then the k-best
        Viterbi paths that differ from it; score = the expected share of half bars whose root and family are
        right (harmony_decode.expected_agreement), so the list is ordered by it."""
        emit = log_post - self.prior_weight * self.log_prior[None, :]
        tw = self.trans_weight
        trans = [tw * self.trans[0], tw * self.trans[1]]
        post = forward_backward(emit, trans)
        families = family_marginals(post)
        best = mbr_path(post)
        paths = [best] + [p for _, p in kbest_viterbi(emit, trans, k + 1) if p != best]
        scored = [(expected_agreement(p, families), p) for p in paths]
        order = sorted(range(len(scored)), key=lambda i: (-scored[i][0], i))  # stable: the decoded path first on ties
        return [scored[i] for i in order[:k]]

    def harmonize(
        self,
        notes,
        beats_per_bar: int = 4,
        alternatives: int = 3,
        bars: int | None = None,
        drums: bool = False,
    ) -> Harmony:
        """Key and chords (one or two a bar) of a whole part; `alternatives` distinct charts, best first.

        notes: Note objects, (pitch, start, end[, velocity]) tuples or an (N, 4) array, in beats, bar 1
        at beat 0. bars: the number of bars to chart (default: up to the last note). drums: True when
        the part is a drum part (then there is no harmony to read, and InvalidValue is raised).
        """
        if drums:
            raise InvalidValue(
                "the part is a drum part, which has no pitches to harmonize: pick a melody, comp or bass part"
            )
        if not (isinstance(beats_per_bar, (int, np.integer)) and 2 <= beats_per_bar <= 12):
            raise InvalidValue(f"beats_per_bar {beats_per_bar!r} is not a whole number from 2 to 12")
        if not (isinstance(alternatives, (int, np.integer)) and 1 <= alternatives <= 20):
            raise InvalidValue(f"alternatives {alternatives!r} is not a whole number from 1 to 20")
        arr = _check(as_array(notes))
        last_bar = int(np.ceil(arr[:, 2].max() / beats_per_bar - 1e-6))
        n_bars = max(1, last_bar) if bars is None else int(bars)
        if n_bars < 1:
            raise InvalidValue(f"bars {bars!r} is less than 1: give the number of bars to chart, or leave it out")
        if (self.melody_nets or self.fine_nets or self.attn_nets) and melody_like(arr):
            log_post, log_key = self.ensemble_posteriors(arr, 2 * n_bars, beats_per_bar)
            if self.repeat_weight:  # a repeated line shares its evidence (harmony_decode.tie_repeats)
                log_post = tie_repeats(log_post, repeat_ties(arr, 2 * n_bars, beats_per_bar), self.repeat_weight)
        else:
            log_post, log_key = self.posteriors(*features(arr, 2 * n_bars, beats_per_bar, self.version))
        paths = self.decode(log_post, alternatives)
        key_i = int(np.argmax(log_key))
        key = key_name(key_i)
        low = lowest_per_step(arr, int(round(n_bars * beats_per_bar * STEPS_PER_BEAT)))
        charts, best_chords = [], []
        for rank, (_, path) in enumerate(paths):
            basses = slash_basses(low, path, beats_per_bar)
            per_bar = chart_bars(path, basses)
            charts.append("| " + " | ".join(" ".join(b) for b in per_bar) + " |")
            if rank == 0:
                best_chords = per_bar
        return Harmony(
            key=key,
            charts=charts,
            chords=best_chords,
            scores=[s for s, _ in paths],
            key_confidence=float(np.exp(log_key[key_i])),
            half_bars=list(paths[0][1]),
        )


def chart_bars(path: list[int], basses: list[int | None]) -> list[list[str]]:
    """Half-bar classes (and slash basses) -> per bar one symbol, or two when the halves differ."""
    out = []
    for b in range(len(path) // 2):
        first = symbol_of_index(path[2 * b], basses[2 * b])
        second = symbol_of_index(path[2 * b + 1], basses[2 * b + 1])
        out.append([first] if first == second else [first, second])
    return out


def lowest_per_step(notes: np.ndarray, total: int) -> np.ndarray:
    """The lowest sounding MIDI pitch at each 1/8-beat step (-1 where nothing sounds), (total,) int."""
    sounding, p0, _, _ = _sounding(notes, total)
    return np.where(sounding.any(axis=1), np.argmax(sounding, axis=1) + p0, -1)


def slash_basses(low: np.ndarray, path: list[int], beats_per_bar: float) -> list[int | None]:
    """Per half bar, a slash bass pitch class where the part clearly asks for one, else None.

    low: lowest_per_step of the part. A chord symbol of the chart (a bar, or a half bar where the bar
    changes chord) gets a slash bass when the part's lowest
    sounding note is below middle C for at least 90 % of the run's sounding time, always (90 %) on the
    same pitch class, and that pitch class is a chord tone other than the root.
    """
    sph = int(round(beats_per_bar * STEPS_PER_BEAT / 2))
    out: list[int | None] = [None] * len(path)
    i = 0
    while i < len(path):
        j = i
        while j + 1 < len(path) and path[j + 1] == path[i] and (j + 1) % 2 == 1:  # within the bar
            j += 1
        seg = low[i * sph : (j + 1) * sph]
        pitches = seg[seg >= 0]
        if len(pitches) >= STEPS_PER_BEAT and (pitches < 60).mean() >= 0.9:
            counts = np.bincount(pitches % 12, minlength=12)
            top = int(np.argmax(counts))
            if counts[top] >= 0.9 * len(pitches) and top in tones_of_index(path[i]) and top != path[i] % 12:
                for t in range(i, j + 1):
                    out[t] = top
        i = j + 1
    return out
