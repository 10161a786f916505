"""Objective band metrics on binary rolls, written here (pypianoroll 1.0.4's versions return wrong values).

The MuseGAN (AAAI 2018) set, measured per lane over 4/4 bars of a given grid, plus two metrics for
continuations (lane dropout, primer similarity). numpy only.

A *note* is a run of consecutive on-cells at one pitch: the rolls keep a one-step gap before a
re-strike of the same pitch, so two struck notes stay two runs. Per-lane functions take a lane roll
(steps, 128) or a stack of them (..., steps, 128); stacked pieces are pooled, never joined in time,
so bars, notes and onsets never run from one piece into the next. Each returns NaN where the value is
undefined (no bars, no notes, no onsets), so callers can tell "0" from "nothing to measure".
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import InvalidValue
from ..sketch.song import BEATS_PER_BAR, DRUMS, LANES, PITCHES

PITCHED = tuple(i for i in range(len(LANES)) if i != DRUMS)
QUALIFIED_STEPS = 2  # a qualified note lasts at least this many steps
SILENT_CHUNKS = 2  # a lane has dropped out once it is silent for more than this many chunks in a row

# Harte, Sandler & Gasser (2006): chroma -> 6-D tonal centroid on the circles of fifths, minor thirds and
# major thirds, with radii 1, 1 and 0.5.
_ANGLES = np.arange(12)
TONNETZ = np.stack(
    [
        np.sin(_ANGLES * 7 * np.pi / 6),
        np.cos(_ANGLES * 7 * np.pi / 6),
        np.sin(_ANGLES * 3 * np.pi / 2),
        np.cos(_ANGLES * 3 * np.pi / 2),
        0.5 * np.sin(_ANGLES * 2 * np.pi / 3),
        0.5 * np.cos(_ANGLES * 2 * np.pi / 3),
    ]
)  # (6, 12)


def _pct(part: float, whole: float) -> float:
    return 100.0 * part / whole if whole else math.nan


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if values.size else math.nan


def _lane(roll: np.ndarray) -> np.ndarray:
    roll = np.asarray(roll, dtype=bool)
    if roll.ndim < 2 or roll.shape[-1] != PITCHES:
        raise InvalidValue(f"a lane roll must be (..., steps, {PITCHES}), got {roll.shape}")
    return roll


def bars(roll: np.ndarray, steps_per_beat: int) -> np.ndarray:
    """(..., steps, 128) -> (..., n_bars, bar_steps, 128) of whole 4/4 bars; a trailing partial bar is dropped."""
    roll = _lane(roll)
    bar_steps = steps_per_beat * BEATS_PER_BAR
    n = roll.shape[-2] // bar_steps
    return roll[..., : n * bar_steps, :].reshape(*roll.shape[:-2], n, bar_steps, PITCHES)


def onsets(roll: np.ndarray) -> np.ndarray:
    """Cells where a note starts: on, and off one step before (or the piece's first step)."""
    roll = _lane(roll)
    before = np.zeros_like(roll)
    before[..., 1:, :] = roll[..., :-1, :]
    return roll & ~before


def note_lengths(roll: np.ndarray) -> np.ndarray:
    """Length in steps of every note (run of on-cells at one pitch) of every piece, as one flat array."""
    roll = _lane(roll)
    by_pitch = np.swapaxes(roll, -1, -2).reshape(-1, roll.shape[-2])  # (pieces * 128, steps)
    padded = np.zeros((by_pitch.shape[0], by_pitch.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = by_pitch
    edges = np.diff(padded, axis=1)
    starts = np.nonzero(edges == 1)  # row-major: runs of one row in time order, so starts and ends pair up
    ends = np.nonzero(edges == -1)
    return ends[1] - starts[1]


def empty_bars(roll: np.ndarray, steps_per_beat: int) -> float:
    """EB: % of bars with no note sounding."""
    sounding = bars(roll, steps_per_beat).any(axis=(-2, -1))
    return _pct(int((~sounding).sum()), sounding.size)


def pitch_classes_per_bar(roll: np.ndarray, steps_per_beat: int) -> float:
    """UPC: mean number of distinct pitch classes used in a non-empty bar."""
    used = bars(roll, steps_per_beat).any(axis=-2)  # (..., n_bars, 128)
    classes = np.zeros((*used.shape[:-1], 132), dtype=bool)
    classes[..., :PITCHES] = used
    count = classes.reshape(*used.shape[:-1], 11, 12).any(axis=-2).sum(axis=-1)
    return _mean(count[used.any(axis=-1)])


def qualified_notes(roll: np.ndarray, min_steps: int = QUALIFIED_STEPS) -> float:
    """QN: % of notes lasting at least `min_steps` steps."""
    lengths = note_lengths(roll)
    return _pct(int((lengths >= min_steps).sum()), lengths.size)


def drum_pattern(roll: np.ndarray, steps_per_beat: int) -> float:
    """DP: % of drum notes that start on the 8th-note grid (steps at whole multiples of half a beat).

    On a 2-steps-per-beat grid every step is an 8th note, so DP is 100 by construction there.
    """
    on = onsets(roll)
    on_grid = (2 * np.arange(on.shape[-2])) % steps_per_beat == 0
    return _pct(int(on[..., on_grid, :].sum()), int(on.sum()))


def polyphony(roll: np.ndarray) -> float:
    """Mean number of pitches sounding per step that has any note."""
    count = _lane(roll).sum(axis=-1)
    return _mean(count[count > 0])


def tonal_centroids(roll: np.ndarray, steps_per_beat: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-bar 6-D tonal centroids (..., n_bars, 6) of the duration-weighted chroma, and which bars sound."""
    weight = bars(roll, steps_per_beat).sum(axis=-2, dtype=np.float64)  # (..., n_bars, 128)
    chroma = np.zeros((*weight.shape[:-1], 132))
    chroma[..., :PITCHES] = weight
    chroma = chroma.reshape(*weight.shape[:-1], 11, 12).sum(axis=-2)
    total = chroma.sum(axis=-1, keepdims=True)
    sounding = total[..., 0] > 0
    centroid = (chroma / np.where(total > 0, total, 1.0)) @ TONNETZ.T
    return centroid, sounding


def tonal_distance(a: np.ndarray, b: np.ndarray, steps_per_beat: int) -> float:
    """TD: mean Euclidean distance between two lanes' tonal centroids over the bars where both sound."""
    ca, sa = tonal_centroids(a, steps_per_beat)
    cb, sb = tonal_centroids(b, steps_per_beat)
    if ca.shape != cb.shape:
        raise InvalidValue(f"lanes to compare must have the same shape, got {np.shape(a)} and {np.shape(b)}")
    both = sa & sb
    return _mean(np.linalg.norm(ca - cb, axis=-1)[both])


def _band(rolls: np.ndarray) -> np.ndarray:
    rolls = np.asarray(rolls, dtype=bool)
    if rolls.ndim < 3 or rolls.shape[-3] != len(LANES) or rolls.shape[-1] != PITCHES:
        raise InvalidValue(f"band rolls must be (..., {len(LANES)}, steps, {PITCHES}), got {rolls.shape}")
    return rolls


def _chunks(rolls: np.ndarray, chunk_steps: int) -> np.ndarray:
    """(..., 5, steps, 128) -> (..., 5, n_chunks, chunk_steps, 128); chunk 0 is the primer."""
    rolls = _band(rolls)
    n = rolls.shape[-2] // chunk_steps
    if n < 2:
        raise InvalidValue(
            f"need a primer chunk and at least one more ({2 * chunk_steps} steps), got {rolls.shape[-2]}"
        )
    return rolls[..., : n * chunk_steps, :].reshape(*rolls.shape[:-2], n, chunk_steps, PITCHES)


def lane_dropouts(rolls: np.ndarray, chunk_steps: int, silent_chunks: int = SILENT_CHUNKS) -> tuple[np.ndarray, ...]:
    """Per lane: (dropped, sounding) counts over the pieces (..., 5, steps, 128), chunk 0 the primer.

    A lane *sounds* when the primer chunk has a note in it; it has *dropped out* when, after the primer,
    it is silent for more than `silent_chunks` chunks in a row.
    """
    sounds = _chunks(rolls, chunk_steps).any(axis=(-2, -1))  # (..., 5, n_chunks)
    sounds = sounds.reshape(-1, len(LANES), sounds.shape[-1])
    run = np.zeros(sounds.shape[:2], dtype=int)
    longest = np.zeros_like(run)
    for c in range(1, sounds.shape[-1]):
        run = np.where(sounds[..., c], 0, run + 1)
        longest = np.maximum(longest, run)
    in_primer = sounds[..., 0]
    dropped = in_primer & (longest > silent_chunks)
    return dropped.sum(axis=0), in_primer.sum(axis=0)


def lane_dropout(rolls: np.ndarray, chunk_steps: int, silent_chunks: int = SILENT_CHUNKS) -> dict[str, float]:
    """Lane survival: % of lanes sounding in the primer that fall silent for > `silent_chunks` chunks running.

    Per lane name and for "all" lanes together; NaN where no primer has that lane.
    """
    dropped, sounding = lane_dropouts(rolls, chunk_steps, silent_chunks)
    out = {lane: _pct(int(dropped[i]), int(sounding[i])) for i, lane in enumerate(LANES)}
    out["all"] = _pct(int(dropped.sum()), int(sounding.sum()))
    return out


def primer_similarity(rolls: np.ndarray, chunk_steps: int) -> dict[str, float]:
    """Mean Jaccard similarity of each continuation chunk's notes to the primer chunk's.

    A note is (pitch, onset step within its chunk); the rolls are (..., 5, steps, 128), chunk 0 the primer.
    Per lane the mean runs over the chunks where the primer or the chunk has a note of that lane; "all"
    takes each chunk's notes of all five lanes as one set.
    """
    notes = onsets(_chunks(rolls, chunk_steps))  # onsets within each chunk: (..., 5, n, cs, 128)
    notes = notes.reshape(-1, len(LANES), *notes.shape[-3:])
    primer, rest = notes[:, :, :1], notes[:, :, 1:]
    inter = (primer & rest).sum(axis=(-2, -1))  # (pieces, 5, n-1)
    union = (primer | rest).sum(axis=(-2, -1))
    out = {}
    for i, lane in enumerate(LANES):
        seen = union[:, i] > 0
        out[lane] = _mean(inter[:, i][seen] / union[:, i][seen])
    inter_all, union_all = inter.sum(axis=1), union.sum(axis=1)
    seen = union_all > 0
    out["all"] = _mean(inter_all[seen] / union_all[seen])
    return out


def notes_per_bar(roll: np.ndarray, steps_per_beat: int) -> float:
    """Mean note onsets per non-empty bar: what tells a part from note soup (or from a lone note)."""
    per_bar = onsets(bars(roll, steps_per_beat)).sum(axis=(-2, -1))
    return _mean(per_bar[per_bar > 0].astype(float))


def lane_metrics(roll: np.ndarray, lane: int, steps_per_beat: int) -> dict[str, float]:
    """The MuseGAN metrics that apply to a lane (EB, UPC, QN; for drums EB, DP), notes per bar and polyphony.

    QN counts notes lasting at least an 8th note, whatever the grid.
    """
    out = {"EB": empty_bars(roll, steps_per_beat)}
    if lane == DRUMS:
        out["DP"] = drum_pattern(roll, steps_per_beat)
    else:
        out["UPC"] = pitch_classes_per_bar(roll, steps_per_beat)
        out["QN"] = qualified_notes(roll, max(1, steps_per_beat // 2))
    out["notes_per_bar"] = notes_per_bar(roll, steps_per_beat)
    out["polyphony"] = polyphony(roll)
    return out


def band_metrics(rolls: np.ndarray, steps_per_beat: int) -> dict:
    """Every lane's metrics and TD for every pair of pitched lanes, of (..., 5, steps, 128) rolls."""
    rolls = _band(rolls)
    lanes = {lane: lane_metrics(rolls[..., i, :, :], i, steps_per_beat) for i, lane in enumerate(LANES)}
    td = {}
    for n, a in enumerate(PITCHED):
        for b in PITCHED[n + 1 :]:
            td[f"{LANES[a]}-{LANES[b]}"] = tonal_distance(rolls[..., a, :, :], rolls[..., b, :, :], steps_per_beat)
    return {"lanes": lanes, "TD": td}
