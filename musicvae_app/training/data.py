"""MIDI folders / LPD-5 .npz -> cached five-lane rolls -> chunk datasets for the three training stages."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..atomic import atomic_write
from ..errors import InvalidValue
from ..sketch.midi import MidiImportError, Notes, notes_from_bytes, notes_to_roll
from ..sketch.midi.smf import MAX_MIDI_BYTES
from ..sketch.song import LANES, PITCHES, note_runs
from ..userfiles import read_user_file

MIDI_SUFFIXES = (".mid", ".midi")
MAX_NPZ_BYTES = 256 << 20  # a pypianoroll song (LPD's are well under 1 MB)
LPD_TRACKS = {"drums": 4, "piano": 0, "guitar": 1, "bass": 2, "strings": 3}  # LPD-5 track names -> lane


@dataclass
class SongRolls:
    """One song's five lanes on the pack's grid, with where it came from."""

    key: str  # sha1 of the file's bytes
    path: str
    roll: np.ndarray  # bool (5, steps, 128)
    chords: np.ndarray | None = None  # (bars, 24) chord features per bar (chords.chord_features), chord packs only


@dataclass
class Corpus:
    songs: list[SongRolls]
    skipped: dict[str, str] = field(default_factory=dict)  # path -> reason

    def split(self, validation_percent: int = 10) -> tuple[list[SongRolls], list[SongRolls]]:
        """Deterministic train / validation split by file hash."""
        val = [s for s in self.songs if int(s.key[:8], 16) % 100 < validation_percent]
        train = [s for s in self.songs if int(s.key[:8], 16) % 100 >= validation_percent]
        return train, val


def split_files(files: Iterable[str | Path], percent: int) -> tuple[list[str], list[str]]:
    """(training, validation) paths of `files`, `percent` % held out as Corpus.split puts them (by the SHA-1 of
    each file's bytes, as a pack was trained), each ordered by that hash; only bytes are read, no song parsed."""
    keyed = [SongRolls(hashlib.sha1(Path(f).read_bytes()).hexdigest(), str(f), np.zeros(0)) for f in files]
    train, held_out = Corpus(keyed).split(percent)
    return tuple([s.path for s in sorted(part, key=lambda s: s.key)] for part in (train, held_out))


def validation_percent(card: dict) -> int:
    """The share of songs (%) a pack's training held out, from its card (10 when it does not say)."""
    return int(card.get("training", {}).get("config", {}).get("validation_percent", 10))


def find_files(root: str | Path, genres: Iterable[str] | None = None, ids: Iterable[str] | None = None) -> list[Path]:
    """MIDI and .npz files under root; genres filter by first sub-folder, ids by file stem."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"data folder '{root}' does not exist")
    genres = {g.lower() for g in genres} if genres else None
    ids = set(ids) if ids else None
    found = []
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() not in MIDI_SUFFIXES + (".npz",) or not path.is_file():
            continue
        rel = path.relative_to(root).parts
        if genres is not None and (len(rel) < 2 or rel[0].lower() not in genres):
            continue
        if ids is not None and path.stem not in ids:
            continue
        found.append(path)
    return found


def _npz_notes(path: Path) -> Notes:
    """Notes of an LPD-5 .npz (pypianoroll), lanes by track name."""
    import pypianoroll

    try:
        multitrack = pypianoroll.load(path)
    except Exception as exc:
        raise MidiImportError(f"'{path.name}' is not a readable pypianoroll .npz ({exc})") from None
    res = float(multitrack.resolution)
    lanes, pitches, starts, ends = [], [], [], []
    for track in multitrack.tracks:
        lane = LPD_TRACKS.get(track.name.lower())
        if lane is None:
            lane = 4 if track.is_drum else None
        if lane is None:
            continue
        pitch, start, end = note_runs(np.asarray(track.pianoroll) > 0)
        lanes.append(np.full(len(pitch), lane))
        pitches.append(pitch)
        starts.append(start / res)
        ends.append(end / res)
    if not lanes:
        return Notes(np.zeros(0, int), np.zeros(0, int), np.zeros(0), np.zeros(0), 120.0)
    tempo = float(np.asarray(multitrack.tempo)[0]) if multitrack.tempo is not None else 120.0
    return Notes(np.concatenate(lanes), np.concatenate(pitches), np.concatenate(starts), np.concatenate(ends), tempo)


def load_song(path: str | Path, steps_per_beat: int, cache_dir: str | Path | None = None) -> SongRolls:
    """Read one file into five lanes, through the cache keyed by the file's hash and the grid."""
    path = Path(path)
    npz = path.suffix.lower() == ".npz"
    limit = MAX_NPZ_BYTES if npz else MAX_MIDI_BYTES  # a regular file, its size checked before reading; read once
    data = read_user_file(path, limit, "training file", MidiImportError, "leave it out of the data folder")
    key = hashlib.sha1(data).hexdigest()
    cached = Path(cache_dir) / f"{key}-{steps_per_beat}.npz" if cache_dir else None
    if cached is not None and cached.exists():
        with np.load(cached) as z:
            steps = int(z["steps"])
            roll = np.unpackbits(z["bits"], count=len(LANES) * steps * PITCHES).astype(bool)
        return SongRolls(key, str(path), roll.reshape(len(LANES), steps, PITCHES))
    notes = _npz_notes(path) if npz else notes_from_bytes(data, path.name)
    roll = notes_to_roll(notes, steps_per_beat)
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        bits = np.packbits(roll.ravel())
        atomic_write(cached, lambda f: np.savez_compressed(f, bits=bits, steps=roll.shape[1]))
    return SongRolls(key, str(path), roll)


def _load_or_reason(args) -> SongRolls | str:
    path, spb, cache_dir, min_steps = args
    try:
        song = load_song(path, spb, cache_dir)
    except (MidiImportError, OSError, ValueError) as exc:
        return str(exc)
    if song.roll.shape[1] < min_steps or not song.roll.any():
        return "too short or no usable notes"
    return song


def load_corpus(
    files: list[Path],
    steps_per_beat: int,
    cache_dir: str | Path | None,
    min_steps: int = 0,
    workers: int | None = None,
    progress: bool = False,
) -> Corpus:
    """Read many files in parallel; unreadable or unusable files are skipped and counted, never fatal."""
    workers = workers or min(4, os.cpu_count() or 1)
    jobs = [(p, steps_per_beat, cache_dir, min_steps) for p in files]
    songs, skipped = [], {}
    if workers > 1 and len(files) > 8:
        with ProcessPoolExecutor(workers) as pool:
            results = pool.map(_load_or_reason, jobs, chunksize=8)
            results = _progress(results, len(jobs), progress)
            pairs = list(zip(files, results))
    else:
        pairs = [(p, _load_or_reason(j)) for p, j in zip(files, _progress(jobs, len(jobs), progress))]
    for path, result in pairs:
        if isinstance(result, str):
            skipped[str(path)] = result
        else:
            songs.append(result)
    return Corpus(songs, skipped)


def _progress(iterable, total: int, enabled: bool):
    if not enabled:
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc="reading MIDI", unit="song")


def song_chunks(roll: np.ndarray, chunk_steps: int, hop: int | None = None) -> np.ndarray:
    """Chunks (N, 5, chunk_steps, 128) of a song, every `hop` steps (default: back to back)."""
    hop = hop or chunk_steps
    n = (roll.shape[1] - chunk_steps) // hop + 1
    if n <= 0:
        return np.zeros((0, len(LANES), chunk_steps, roll.shape[2]), dtype=bool)
    return np.stack([roll[:, i * hop : i * hop + chunk_steps] for i in range(n)])


def sample_chunks(songs: list[SongRolls], chunk_steps: int, n_songs: int, rng: np.random.Generator) -> np.ndarray:
    """The thesis's per-epoch sampling: n_songs random songs, all their chunks (N, 5, cs, 128)."""
    return sample_chunks_chords(songs, chunk_steps, n_songs, rng)[0]


def sample_chunks_chords(
    songs: list[SongRolls], chunk_steps: int, n_songs: int, rng: np.random.Generator, bars: int = 0
) -> tuple[np.ndarray, np.ndarray | None]:
    """sample_chunks, and with bars > 0 the chunks' chord features (N, bars * 24) beside them."""
    pick = rng.choice(len(songs), size=min(n_songs, len(songs)), replace=False)
    parts = [song_chunks(songs[i].roll, chunk_steps) for i in pick]
    chords = [song_chunk_chords(songs[i], chunk_steps, bars) for i in pick] if bars else None
    keep = [i for i, p in enumerate(parts) if len(p)]
    if not keep:
        empty = np.zeros((0, len(LANES), chunk_steps, PITCHES), dtype=bool)
        return empty, (np.zeros((0, bars * 24), np.float32) if bars else None)
    out = np.concatenate([parts[i] for i in keep])
    return out, (np.concatenate([chords[i] for i in keep]) if bars else None)


def song_chunk_chords(song: SongRolls, chunk_steps: int, bars: int) -> np.ndarray:
    """Chord features (N, bars * 24) of the song's back-to-back chunks, aligned with song_chunks."""
    n = max(song.roll.shape[1] // chunk_steps, 0)
    if song.chords is None:
        raise InvalidValue(f"song '{song.path}' has no chords: call recognize_chords first")
    rows = song.chords[: n * bars]
    if len(rows) < n * bars:
        rows = np.concatenate([rows, np.zeros((n * bars - len(rows), rows.shape[1]), np.float32)])
    return rows.reshape(n, -1)


def recognize_chords(songs: list[SongRolls], steps_per_bar: int) -> None:
    """Every song's chord per bar (chords.recognize on its pitched lanes), as model features, in place."""
    from ..theory.chords import chord_features, recognize

    for song in songs:
        song.chords = chord_features(recognize(song.roll, steps_per_bar))


def chunk_pairs(songs: list[SongRolls], chunk_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Consecutive chunks (t, t+1) of every song: two arrays (N, 5, cs, 128)."""
    firsts, seconds = [], []
    for song in songs:
        chunks = song_chunks(song.roll, chunk_steps)
        if len(chunks) >= 2:
            firsts.append(chunks[:-1])
            seconds.append(chunks[1:])
    if not firsts:
        empty = np.zeros((0, len(LANES), chunk_steps, PITCHES), dtype=bool)
        return empty, empty
    return np.concatenate(firsts), np.concatenate(seconds)


# --- key normalisation and pitch windows ----------------------------------------------------------
def normalise_keys(songs: list[SongRolls]) -> dict[str, int]:
    """Move every song's pitched lanes to C major / A minor (in place); returns the shift used per song."""
    from ..theory.keys import estimate_key, normalising_shift, transpose_roll

    shifts = {}
    for song in songs:
        shift = normalising_shift(estimate_key(song.roll))
        if shift:
            song.roll = transpose_roll(song.roll, shift)
        shifts[song.key] = shift
    return shifts


def _onset_histogram(songs: list[SongRolls]) -> np.ndarray:
    """Note onsets per lane and MIDI pitch, (5, 128)."""
    hist = np.zeros((len(LANES), PITCHES))
    for song in songs:
        roll = song.roll
        onsets = roll & ~np.concatenate([np.zeros_like(roll[:, :1]), roll[:, :-1]], axis=1)
        hist += onsets.sum(axis=1)
    return hist


def choose_windows(songs: list[SongRolls], width: int) -> tuple[int, ...]:
    """Per lane, the lowest pitch of the `width`-pitch window that holds the most note onsets."""
    hist = _onset_histogram(songs)
    sums = np.stack([np.convolve(h, np.ones(width), mode="valid") for h in hist])  # (5, 129 - width)
    return tuple(int(np.argmax(s)) for s in sums)


def window_coverage(songs: list[SongRolls], lows, width: int) -> dict[str, float]:
    """Share of note onsets inside each lane's window (the rest fold in by octaves)."""
    hist = _onset_histogram(songs)
    total = np.maximum(hist.sum(axis=1), 1)
    return {
        lane: round(float(hist[i, lo : lo + width].sum() / total[i]), 4)
        for i, (lane, lo) in enumerate(zip(LANES, lows))
    }


def fold_roll(roll: np.ndarray, lows, width: int) -> np.ndarray:
    """(5, steps, 128) -> (5, steps, width): each lane's window, notes outside folded in by octaves.

    The same pitch mapping the engine uses (model.fast._fold_index), so training sees what generation encodes.
    """
    if width == PITCHES:
        return roll
    from ..model.fast import _fold_index

    out = np.zeros((roll.shape[0], roll.shape[1], width), dtype=roll.dtype)
    for lane, lo in enumerate(lows):
        target = _fold_index(lo, width).numpy()
        for p in np.flatnonzero(roll[lane].any(axis=0)):
            out[lane, :, target[p]] |= roll[lane, :, p]
    return out


def fold_songs(songs: list[SongRolls], lows, width: int) -> None:
    """Replace every song's roll by its windowed roll (in place)."""
    for song in songs:
        song.roll = fold_roll(song.roll, lows, width)
