"""POP909 for the harmony model: beat-grid note events and per-beat chord labels, and the split.

Each song folder `NNN/` of POP909 (Wang et al., ISMIR 2020, MIT licence) holds `NNN.mid` (tracks MELODY,
BRIDGE, PIANO), `chord_midi.txt`, `beat_midi.txt` and `key_audio.txt`. Notes and chords are put on the
song's own beat grid (seconds -> beats by interpolating the annotated beat times), with beat 0 on a 4/4
downbeat, so bar b spans beats [4b, 4b + 4).

Split (deterministic, by song id): validation = id % 5 == 0 (never used for training or tuning);
dev = id % 10 == 1 (held out of training, used to choose settings); train = the rest.

The data files are read where they lie; nothing of them is written into the project.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import numpy as np

from ..theory.harmony import QUALITY_NAMES, chord_index
from ..userfiles import read_user_file

MAX_SONG_BYTES = 16 << 20  # a POP909 song's .mid (read_notes' cap)
MAX_LABEL_BYTES = 1 << 20  # its chord and key label files (a few KB)

NOTE_NAMES = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}

# Harte quality (before any /bass) -> our quality (index into QUALITY_NAMES: "", m, 7, m7, maj7, dim, sus4).
_HARTE = {
    "maj": "",
    "maj6": "",
    "aug": "",
    "sus2": "",
    "9": "7",
    "maj9": "maj7",
    "add9": "",
    "min": "m",
    "min6": "m",
    "minmaj7": "m",
    "min9": "m7",
    "7": "7",
    "min7": "m7",
    "maj7": "maj7",
    "dim": "dim",
    "dim7": "dim",
    "hdim7": "dim",
    "sus4": "sus4",
    "sus4(b7)": "sus4",
}
_DEGREES = {
    "1": 0,
    "b2": 1,
    "2": 2,
    "b3": 3,
    "3": 4,
    "4": 5,
    "b5": 6,
    "5": 7,
    "#5": 8,
    "b6": 8,
    "6": 9,
    "b7": 10,
    "7": 11,
    "9": 2,
}


def split_of(song_id: int) -> str:
    """'val' (id % 5 == 0), 'dev' (id % 10 == 1) or 'train'."""
    if song_id % 5 == 0:
        return "val"
    if song_id % 10 == 1:
        return "dev"
    return "train"


def pitch_class(name: str) -> int:
    pc = NOTE_NAMES[name[0].upper()]
    for ch in name[1:]:
        pc += 1 if ch == "#" else -1 if ch == "b" else 0
    return pc % 12


def parse_label(label: str) -> tuple[int, int | None]:
    """Harte label -> (class index 0..84 of the model's vocabulary, bass pitch class or None); N -> (84, None)."""
    label = label.strip()
    if label in ("N", "X", ""):
        return chord_index(None), None
    root_txt, _, rest = label.partition(":")
    root = pitch_class(root_txt)
    quality_txt, _, bass_txt = (rest or "maj").partition("/")
    q = _HARTE.get(quality_txt)
    if q is None:
        q = "m" if quality_txt.startswith("min") else ""
    bass = None
    if bass_txt and bass_txt in _DEGREES:
        bass = (root + _DEGREES[bass_txt]) % 12
    return chord_index((root, QUALITY_NAMES.index(q))), bass


def _read_midi(path: str) -> dict[str, np.ndarray]:
    """Track name -> (N, 4) float array of notes (pitch, start s, end s, velocity), with the tempo map."""
    import io

    import mido

    mid = mido.MidiFile(file=io.BytesIO(read_user_file(path, MAX_SONG_BYTES, "POP909 song")))
    tpb = mid.ticks_per_beat
    tempo_ticks, tempos = [0], [500000]
    for track in mid.tracks:
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type == "set_tempo":
                tempo_ticks.append(tick)
                tempos.append(msg.tempo)
    order = np.argsort(tempo_ticks, kind="stable")
    tt = np.array(tempo_ticks, dtype=np.float64)[order]
    tp = np.array(tempos, dtype=np.float64)[order]
    seg_sec = np.concatenate([[0.0], np.cumsum(np.diff(tt) * tp[:-1] / 1e6 / tpb)])

    def sec(ticks: np.ndarray) -> np.ndarray:
        i = np.searchsorted(tt, ticks, side="right") - 1
        return seg_sec[i] + (ticks - tt[i]) * tp[i] / 1e6 / tpb

    out: dict[str, np.ndarray] = {}
    for track in mid.tracks:
        tick, open_notes, notes = 0, {}, []
        for msg in track:
            tick += msg.time
            if msg.type == "note_on" and msg.velocity > 0:
                open_notes.setdefault(msg.note, []).append((tick, msg.velocity))
            elif msg.type in ("note_off", "note_on"):
                if open_notes.get(msg.note):
                    start, vel = open_notes[msg.note].pop(0)
                    if tick > start:
                        notes.append((msg.note, start, tick, vel))
        if notes:
            arr = np.array(notes, dtype=np.float64)
            arr[:, 1] = sec(arr[:, 1])
            arr[:, 2] = sec(arr[:, 2])
            out[track.name.strip().upper()] = arr[np.argsort(arr[:, 1], kind="stable")]
    return out


@dataclass
class Song:
    """One song on its beat grid: tracks of (N, 4) notes (pitch, start beat, end beat, velocity), labels."""

    song_id: int
    tracks: dict[str, np.ndarray]
    beat_labels: np.ndarray  # (n_beats,) class index per beat (84 = N)
    beat_bass: np.ndarray  # (n_beats,) slash bass pitch class per beat, -1 for root position
    key: tuple[int, str]  # (tonic, 'major'|'minor') of the longest annotated key

    @property
    def n_beats(self) -> int:
        return len(self.beat_labels)


def load_song(folder: str) -> Song:
    song_id = int(os.path.basename(folder.rstrip("/")))
    name = os.path.basename(folder.rstrip("/"))
    beats = np.loadtxt(os.path.join(folder, "beat_midi.txt"), ndmin=2)
    times = beats[:, 0]
    down = np.flatnonzero(beats[:, 2] > 0.5)
    i0 = int(down[0]) if len(down) else 0
    origin = i0 - 4 * int(np.ceil(i0 / 4))  # beat index that becomes beat 0 (pickup beats land in bar 0)
    idx = np.arange(len(times), dtype=np.float64)
    step = np.median(np.diff(times)) if len(times) > 1 else 0.5

    def to_beats(t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=np.float64)
        b = np.interp(t, times, idx)
        b = np.where(t < times[0], (t - times[0]) / step, b)
        b = np.where(t > times[-1], idx[-1] + (t - times[-1]) / step, b)
        return b - origin

    tracks = {}
    for tname, arr in _read_midi(os.path.join(folder, f"{name}.mid")).items():
        a = arr.copy()
        a[:, 1] = to_beats(arr[:, 1])
        a[:, 2] = to_beats(arr[:, 2])
        a = a[a[:, 1] >= 0]
        tracks[tname] = a
    n_beats = int(np.ceil(len(times) - origin))
    n_beats = 4 * int(np.ceil(n_beats / 4))
    overlap = np.zeros((n_beats, 86))  # 85 classes; bass handled per beat by the best overlap
    bass_of = np.full(n_beats, -1)
    best_ov = np.zeros(n_beats)
    chord_text = read_user_file(os.path.join(folder, "chord_midi.txt"), MAX_LABEL_BYTES, "POP909 chord labels")
    for line in chord_text.decode("utf-8", "replace").splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        s, e = to_beats(np.array([float(parts[0]), float(parts[1])]))
        k, bass = parse_label(parts[2])
        for b in range(max(0, int(np.floor(s))), min(n_beats, int(np.ceil(e)))):
            ov = min(e, b + 1) - max(s, b)
            if ov > 0:
                overlap[b, k] += ov
                if ov > best_ov[b]:
                    best_ov[b] = ov
                    bass_of[b] = -1 if bass is None else bass
    labels = np.where(overlap.sum(axis=1) > 0, overlap[:, :85].argmax(axis=1), 84)
    key = (0, "major")
    best = -1.0
    key_text = read_user_file(os.path.join(folder, "key_audio.txt"), MAX_LABEL_BYTES, "POP909 key labels")
    for line in key_text.decode("utf-8", "replace").splitlines():
        parts = line.split()
        if len(parts) >= 3 and ":" in parts[2]:
            dur = float(parts[1]) - float(parts[0])
            if dur > best:
                root, _, mode = parts[2].partition(":")
                key = (pitch_class(root), "minor" if mode.startswith("min") else "major")
                best = dur
    return Song(song_id, tracks, labels.astype(np.int64), bass_of.astype(np.int64), key)


def song_folders(root: str) -> list[str]:
    return sorted(
        os.path.join(root, d)
        for d in os.listdir(root)
        if re.fullmatch(r"\d+", d) and os.path.isdir(os.path.join(root, d))
    )


def load_all(root: str, cache: str | None = None) -> list[Song]:
    """Every song of `root`, cached as a pickle at `cache` (outside the project) when given."""
    import pickle

    if cache and os.path.exists(cache):
        with open(cache, "rb") as fh:
            return pickle.load(fh)
    songs = [load_song(f) for f in song_folders(root)]
    if cache:
        os.makedirs(os.path.dirname(cache), exist_ok=True)
        with open(cache, "wb") as fh:
            pickle.dump(songs, fh)
    return songs


# --- the input kinds ----------------------------------------------------------------------------
KINDS = ("melody", "piano", "melody+piano", "bass")


def lowest_line(notes: np.ndarray, grid: float = 0.25) -> np.ndarray:
    """The lowest note of each onset group (onsets within `grid` beats), cut where the next group starts."""
    if len(notes) == 0:
        return notes
    order = np.lexsort((notes[:, 0], notes[:, 1]))
    n = notes[order]
    out = []
    i = 0
    while i < len(n):
        j = i
        while j + 1 < len(n) and n[j + 1, 1] - n[i, 1] < grid:
            j += 1
        group = n[i : j + 1]
        out.append(group[np.argmin(group[:, 0])].copy())
        i = j + 1
    line = np.array(out)
    for k in range(len(line) - 1):
        line[k, 2] = min(line[k, 2], line[k + 1, 1])
    return line


def part_of(song: Song, kind: str) -> np.ndarray:
    """The (N, 4) note events of one input kind of a song."""
    mel = song.tracks.get("MELODY", np.zeros((0, 4)))
    piano = song.tracks.get("PIANO", np.zeros((0, 4)))
    if kind == "melody":
        return mel
    if kind == "piano":
        return piano
    if kind == "melody+piano":
        both = np.concatenate([mel, piano])
        return both[np.argsort(both[:, 1], kind="stable")]
    if kind == "bass":
        return lowest_line(piano)
    raise ValueError(f"unknown kind {kind!r}: one of {KINDS}")


def half_labels(beat_labels: np.ndarray, beats_per_half: int = 2) -> np.ndarray:
    """Per half bar: the label of most of its beats (ties -> the earlier)."""
    return group_labels(beat_labels, beats_per_half)


def group_labels(beat_labels: np.ndarray, size: int) -> np.ndarray:
    n = len(beat_labels) // size
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        seg = beat_labels[i * size : (i + 1) * size]
        vals, first = np.unique(seg, return_index=True)
        counts = np.array([(seg == v).sum() for v in vals])
        top = counts.max()
        out[i] = seg[min(first[counts == top])]
    return out
