"""Note-level helpers of the groove rules: a bar's cells and onsets, chord tones in voicing order, the take's
scale and steps through it, thickening a thin bar. Pure numpy on (steps, 128) cells; no state."""

from __future__ import annotations

import numpy as np

from ..lanes import DRUMS, LANES
from ..theory.chords import third_of


def play_fill(take: np.ndarray, fill, lo: int, window: int) -> None:
    """In place: the drums' steps lo to lo + window become the fill's [step, pitch] hits."""
    take[DRUMS, lo : lo + window] = 0.0
    for step, pitch in fill:
        if 0 <= step < window and 0 <= pitch < 128:
            take[DRUMS, lo + step, pitch] = 1.0


def doubled_cells(sounding: np.ndarray) -> np.ndarray:
    """The octave doublings of (steps, 128) bool `sounding` as flat positions: every sounding cell whose pitch
    class already sounds an octave or more lower at its step. Sparse: only the sounding cells are read."""
    cell = np.flatnonzero(sounding)  # by step, then pitch
    key = (cell // sounding.shape[1]) * 12 + cell % sounding.shape[1] % 12
    lowest = np.zeros(len(cell), dtype=bool)
    lowest[np.unique(key, return_index=True)[1]] = True  # the first, lowest, of each step's pitch class
    return cell[~lowest]


def tone_order(chord) -> list[int]:
    """A chord's pitch classes in the order a voicing needs them: third, seventh (or sixth), fifth, the rest."""
    tones = list(chord.tones)
    root = chord.root
    rank = {3: 0, 4: 0, 10: 1, 11: 1, 9: 1, 7: 2}
    return sorted(tones, key=lambda t: rank.get((t - root) % 12, 3))


def lane_rates(value) -> np.ndarray | None:
    """A card's per-lane share (one number or five) as five floats; None where it is missing or all zero."""
    if value is None:
        return None
    rates = np.broadcast_to(np.asarray(value, dtype=np.float64), (len(LANES),))
    return rates if rates.any() else None


def colors(chord, scale: np.ndarray) -> list[int]:
    """A triad's colour tones in the key: its seventh (major or minor, whichever the scale has) and its ninth."""
    root = chord.root
    out = [(root + i) % 12 for i in (10, 11) if scale[(root + i) % 12]][:1]
    if scale[(root + 2) % 12]:
        out.append((root + 2) % 12)
    return out


def boogie(cells: np.ndarray, on: np.ndarray, chord, scale: np.ndarray, beat: int) -> bool:
    """In place on one lane's bar that plays a power chord (the chord's root and fifth, nothing else): the fifth
    steps up to the sixth in the key on beats 2 and 4 and back, as rock guitar plays it (A5, A6, A5, A6).
    False where the bar is no power chord or the key has no sixth above the root."""
    root, fifth = chord.root, (chord.root + 7) % 12
    sounding = [int(p) for p in np.flatnonzero(on.any(axis=0))]
    if {p % 12 for p in sounding} != {root, fifth}:
        return False
    major, minor = (root + 9) % 12, (root + 8) % 12
    sixth = major if scale[major] else minor if scale[minor] else None
    if sixth is None:
        return False
    moved = False
    for p in (q for q in sounding if q % 12 == fifth):
        target = p + (sixth - fifth) % 12
        if target >= 128 or target in sounding:
            continue
        for lo in (beat, 3 * beat):
            cells[lo : lo + beat, target] = cells[lo : lo + beat, p]
            cells[lo : lo + beat, p] = 0.0
        moved = True
    return moved


def suspend(cells: np.ndarray, on: np.ndarray, chord, scale: np.ndarray, half: int) -> bool:
    """In place on one lane's bar: the chord's third, where it sounds in both halves of the bar, is a fourth (or
    a second) in the first half, and the third again after it. False where the bar has no such third."""
    if not third_of(chord):
        return False
    third = (chord.root + third_of(chord)) % 12
    fourth = (chord.root + 5) % 12
    second = (chord.root + 2) % 12
    sus = fourth if scale[fourth] else second if scale[second] else None
    if sus is None:
        return False
    pitches = [int(p) for p in np.flatnonzero(on[:half].any(axis=0) & on[half:].any(axis=0)) if p % 12 == third]
    sounding = set(np.flatnonzero(on.any(axis=0)).tolist())
    moved = False
    for p in pitches:
        shift = (sus - third) % 12
        target = p + (shift if shift <= 6 else shift - 12)
        if not 0 <= target < 128 or target in sounding:
            continue
        cells[:half, target] = cells[:half, p]
        cells[:half, p] = 0.0
        moved = True
    return moved


def complete(cells: np.ndarray, on: np.ndarray, wanted: list[int]) -> bool:
    """In place on one lane's bar (steps, 128): doubled pitch classes above the lowest note move to the missing
    chord tones (nearest pitch, at most 4 semitones away, onto a pitch the bar does not sound). True where a
    note moved."""
    pitches = np.flatnonzero(on.any(axis=0)).tolist()
    if len(pitches) < 2:
        return False
    lowest = pitches[0]
    present = set(pitches)
    count = [0] * 12
    for p in pitches:
        count[p % 12] += 1
    moved = False
    for tone in wanted:
        if count[tone]:
            continue
        best, nearest = None, 5
        for q in sorted(present):
            if q == lowest or count[q % 12] < 2:
                continue
            shift = (tone - q) % 12  # the one shift within 4 semitones that lands on the tone, if any
            shift = shift - 12 if shift > 6 else shift
            target = q + shift
            if 0 < abs(shift) < nearest and 0 <= target < 128 and target not in present:
                best, nearest = (q, target), abs(shift)
        if best is None:
            continue
        q, target = best
        cells[:, target] = cells[:, q]
        cells[:, q] = 0.0
        present.discard(q)
        present.add(target)
        count[q % 12] -= 1
        count[tone] += 1
        moved = True
    return moved


def class_counts(on: np.ndarray, n_bars: int) -> np.ndarray:
    """(n_bars, 12): how many pitches of each pitch class a lane's (steps, 128) bool roll sounds in each bar."""
    used = on[: on.shape[0] // n_bars * n_bars].reshape(n_bars, -1, on.shape[1]).any(axis=1)  # (bars, 128)
    padded = np.zeros((n_bars, 132), dtype=np.int64)
    padded[:, : used.shape[1]] = used
    return padded.reshape(n_bars, 11, 12).sum(axis=1)


def key_third(chord, scale: np.ndarray) -> int | None:
    """The third above a chord's root that the key has (major or minor), None where it has both or neither."""
    major, minor = (chord.root + 4) % 12, (chord.root + 3) % 12
    if scale[major] != scale[minor]:
        return major if scale[major] else minor
    return None


def thicken(cells: np.ndarray, on: np.ndarray, wanted: list[int], most: int) -> None:
    """In place on one lane's bar of one or two pitch classes: each missing chord tone (wanted, in order) is a
    new voice at the nearest pitch above the bar's lowest note, in the rhythm of the note nearest it, while
    the lane stays within `most` notes at once."""
    pitches = np.flatnonzero(on.any(axis=0)).tolist()
    classes = {p % 12 for p in pitches}
    if not pitches or len(classes) > 2:
        return
    lowest = pitches[0]
    voices = None
    for tone in wanted:
        if tone in classes:
            continue
        target = lowest + (tone - lowest) % 12
        if target >= 128:
            continue
        source = min(pitches, key=lambda p: (abs(p - target), p))
        rhythm = on[:, source]
        if voices is None:
            voices = on.sum(axis=1)
        if int((voices + rhythm).max()) > most:
            continue
        rhythm = rhythm.copy()
        cells[rhythm, target] = cells[rhythm, source]
        on[:, target] |= rhythm
        voices += rhythm
        pitches = sorted(pitches + [target])
        classes.add(tone)


def add_tone(cells: np.ndarray, on: np.ndarray, tone: int, most: int) -> bool:
    """In place on one lane's bar: where no note is doubled and the lane plays fewer than `most` notes at once,
    the colour tone is a new top voice, the nearest above the chord's top note, in that note's rhythm (C E G
    and D: an add9; and B: a major seventh). True where a voice came in."""
    pitches = [int(p) for p in np.flatnonzero(on.any(axis=0))]
    if len(pitches) < 3 or int(on.sum(axis=1).max()) >= most:
        return False
    top = pitches[-1]
    target = top + (tone - top) % 12
    if target >= 128 or target == top:
        return False
    cells[:, target] = cells[:, top]
    return True


def scale_of(take: np.ndarray, floor: np.ndarray, lock, own) -> np.ndarray:
    """The scale the groove's added notes keep to: the scale lock's, else the take's (own, when the caller has
    it already, else read from the take)."""
    if lock is not None:
        return lock
    return own if own is not None else take_scale(take, floor)


def take_scale(take: np.ndarray, floor: np.ndarray) -> np.ndarray:
    """The take's own scale: the seven pitch classes its pitched lanes sound longest (bool, 12)."""
    weight = np.zeros(12)
    for lane in range(take.shape[0]):
        if lane == DRUMS:
            continue
        per_pitch = (take[lane] >= floor[lane]).sum(axis=0)
        weight += np.bincount(np.arange(128) % 12, weights=per_pitch, minlength=12)
    scale = np.zeros(12, dtype=bool)
    scale[np.argsort(-weight, kind="stable")[:7]] = True
    return scale & (weight > 0)


def runs(top: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each run of one value in top starts, and its value."""
    starts = np.flatnonzero(np.concatenate([[True], top[1:] != top[:-1]]))
    return starts, top[starts]


def scale_step(pitch: int, direction: int, scale: np.ndarray) -> int:
    """The nearest scale tone above (direction 1) or below (-1) pitch; a half step where none is in 3."""
    for k in range(1, 3):
        if scale[(pitch + direction * k) % 12]:
            return pitch + direction * k
    return pitch + direction


def between(a: int, b: int, scale: np.ndarray, leaps: bool = False) -> int | None:
    """The scale tone between a and b that lie a third or a fourth apart (the middle one of two), or the
    upper neighbour of a repeated a; with leaps, for a leap wider than a fourth, the scale tone next to b on
    a's side; None for other intervals or where no scale tone lies between."""
    if a == b:
        up = scale_step(a, 1, scale)
        return up if up <= 127 and scale[up % 12] else None
    if abs(b - a) > 5 and leaps:  # a wide leap: the scale tone next to b, on a's side (an approach)
        tone = scale_step(b, 1 if a > b else -1, scale)
        return tone if 0 <= tone <= 127 and scale[tone % 12] and tone != a else None
    if not 3 <= abs(b - a) <= 5:
        return None
    lo, hi = sorted((a, b))
    inside = [p for p in range(lo + 1, hi) if scale[p % 12]]
    return inside[len(inside) // 2] if inside else None


def onsets(hit: np.ndarray) -> np.ndarray:
    """Steps where a hit starts (it did not sound the step before): hit (steps,) or (steps, pitches, ...)."""
    return hit & ~np.concatenate([np.zeros_like(hit[:1]), hit[:-1]])
