"""Keys: estimate a sketch's key from its notes, name keys, and transpose rolls. numpy only.

The estimate is Krumhansl-Schmuckler: the pitched lanes' duration-weighted pitch-class histogram
correlated with the Krumhansl-Kessler major and minor profiles in all twelve rotations.

Key-normalised packs are trained with every song moved to the white-key scale (C major or A minor,
the smallest shift either way), so `normalising_shift` gives the semitones that take a key there and
generation shifts back by its negative.
"""

from __future__ import annotations

import operator
import re

import numpy as np

from ..errors import InvalidValue
from ..lanes import DRUMS

NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_FLATS = {"Db": 1, "Eb": 3, "Gb": 6, "Ab": 8, "Bb": 10, "Cb": 11, "Fb": 4, "E#": 5, "B#": 0}
MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10)  # natural minor


def pitch_class_histogram(roll: np.ndarray) -> np.ndarray:
    """Active cells per pitch class over the pitched lanes of a (5, steps, 128) roll."""
    pitched = np.delete(np.asarray(roll), DRUMS, axis=0) if roll.shape[0] > DRUMS else roll
    per_pitch = pitched.reshape(-1, pitched.shape[-1]).sum(axis=0, dtype=np.float64)
    hist = np.zeros(12)
    np.add.at(hist, np.arange(per_pitch.shape[0]) % 12, per_pitch)
    return hist


def estimate_key(roll: np.ndarray) -> tuple[int, str] | None:
    """(tonic 0-11, 'major' | 'minor') of a five-lane roll; None when it has no pitched notes."""
    return key_of_histogram(pitch_class_histogram(roll))


def key_of_histogram(hist: np.ndarray) -> tuple[int, str] | None:
    """(tonic, mode) whose Krumhansl-Kessler profile best matches a 12-bin pitch-class histogram; None if empty."""
    hist = np.asarray(hist, dtype=np.float64)
    if hist.sum() <= 0:
        return None
    best, best_r = None, -np.inf
    for mode, profile in (("major", MAJOR_PROFILE), ("minor", MINOR_PROFILE)):
        for tonic in range(12):
            r = np.corrcoef(hist, np.roll(profile, tonic))[0, 1]
            if np.isfinite(r) and r > best_r:
                best, best_r = (tonic, mode), r
    return best


# How musicians spell each tonic: flats for the flat keys (Bb major, not A# major).
MAJOR_NAMES = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
MINOR_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B")


def key_name(key: tuple[int, str] | None) -> str:
    if key is None:
        return "unknown"
    names = MAJOR_NAMES if key[1] == "major" else MINOR_NAMES
    return f"{names[key[0] % 12]} {key[1]}"


def parse_key(text: str) -> tuple[int, str]:
    """'E minor', 'Bb major', 'f#m', 'C' -> (tonic, mode); raises ValueError naming the text."""
    m = re.fullmatch(r"\s*([A-Ga-g])([#b]?)\s*(major|minor|maj|min|m)?\s*", str(text), flags=re.IGNORECASE)
    if not m:
        raise InvalidValue(f"key {text!r} is not a key: write a tonic and a mode, e.g. 'E minor' or 'Bb major'")
    name = m.group(1).upper() + m.group(2)
    tonic = _FLATS.get(name, NOTE_NAMES.index(name[0]) + (1 if name.endswith("#") else 0)) % 12
    mode_text = (m.group(3) or "major").lower()
    mode = "minor" if mode_text in ("minor", "min", "m") else "major"
    return tonic, mode


def relative_major(key: tuple[int, str]) -> int:
    tonic, mode = key
    return tonic if mode == "major" else (tonic + 3) % 12


def normalising_shift(key: tuple[int, str] | None) -> int:
    """Semitones (-5..6) that move `key` onto the white-key scale (C major / A minor); 0 for None."""
    if key is None:
        return 0
    shift = -relative_major(key) % 12
    return shift - 12 if shift > 6 else shift


def transpose_roll(roll: np.ndarray, semitones: int, lanes=None) -> np.ndarray:
    """Shift the pitched lanes (or `lanes`) of a (5, steps, 128) array; notes pushed off the ends fold by octaves.

    Returns a new array; the other lanes are copied as they are. The work never grows with the shift: a shift
    past the whole keyboard folds every note, and where it lands depends only on the shift's pitch class.
    """
    roll = np.asarray(roll)
    semitones = operator.index(semitones)  # a whole number (TypeError for 1.5 or "up")
    if not semitones:
        return roll.copy()
    lanes = [i for i in range(roll.shape[0]) if i != DRUMS] if lanes is None else lanes
    pitches = roll.shape[-1]
    if semitones > pitches:  # every note folds down into the top octave: only the pitch class matters
        semitones = pitches + (semitones - pitches) % 12
    elif semitones < -pitches:  # every note folds up into the bottom octave
        semitones = -pitches - (-pitches - semitones) % 12
    target = np.arange(pitches) + semitones
    target = np.where(target < 0, target % 12, target)  # up by whole octaves into 0..11
    target = np.where(target >= pitches, target - 12 * ((target - pitches) // 12 + 1), target)  # down into range
    inside = np.flatnonzero(target == np.arange(pitches) + semitones)  # pitches that move without folding
    lo, hi = (int(inside[0]), int(inside[-1]) + 1) if inside.size else (0, 0)  # a contiguous run: one slice copy
    edges = [p for p in range(pitches) if not lo <= p < hi]  # the pitches that fold by octaves
    out = np.empty_like(roll)
    for lane in range(roll.shape[0]):
        src, dst = roll[lane], out[lane]
        if lane not in lanes:
            dst[...] = src
            continue
        if hi > lo:
            dst[..., : lo + semitones] = 0
            dst[..., hi + semitones :] = 0
            dst[..., lo + semitones : hi + semitones] = src[..., lo:hi]
        else:
            dst[...] = 0
        for p in edges:  # OR for bool rolls, max for probabilities
            np.maximum(dst[..., target[p]], src[..., p], out=dst[..., target[p]])
    return out


def scale_pitch_classes(key: tuple[int, str]) -> tuple[int, ...]:
    tonic, mode = key
    steps = MAJOR_SCALE if mode == "major" else MINOR_SCALE
    return tuple(sorted((tonic + s) % 12 for s in steps))
