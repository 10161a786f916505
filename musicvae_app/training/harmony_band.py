"""More melodies for the harmony model: the lead lines of band-midi songs, labelled with the chords their band plays.

A band-midi file (../shared/data/band-midi, see its README) often has a sung or played melody on its own
track: a monophonic upper line on a voice, lead, brass, reed or pipe program, or a track named Melody, Vocal,
Lead. That line is the input; the labels are the chords the rest of the band (every other pitched track) plays,
one per half bar (theory.chords.recognize), mapped to the harmony model's vocabulary. The file's own beat
(ticks / ticks per beat, 4/4 from tick 0) is the grid. Only the pack's *training* songs are read (the file's
SHA-1, as training.data splits them: int(sha1[:8], 16) % 100 >= 10), so the songs `musicvae evaluate`
measures stay unseen; nothing is written into the project.

    python -m musicvae_app.training.harmony_band --data /work/shared/data/band-midi --out /tmp/band_melodies.pkl
"""

from __future__ import annotations

import argparse
import csv
import os
import pickle
import re

import numpy as np

from ..theory.chords import recognize
from ..theory.harmony import NO_CHORD, QUALITY_NAMES, chord_index, features

# Programs of a lead line: choir/voice 52-54, brass 56-63, reed 64-71, pipe 72-79, synth lead 80-87.
LEAD_PROGRAMS = set(range(52, 55)) | set(range(56, 88))
LEAD_NAMES = re.compile(r"melod|vocal|voice|vox|lead|sing|lyric|tune|theme", re.IGNORECASE)
# chords.QUALITIES -> the harmony model's quality
TO_MODEL = {
    "": "",
    "aug": "",
    "sus2": "",
    "6": "",
    "add9": "",
    "5": "",
    "m": "m",
    "mMaj7": "m",
    "m6": "m",
    "7": "7",
    "9": "7",
    "m7": "m7",
    "m9": "m7",
    "maj7": "maj7",
    "maj9": "maj7",
    "dim": "dim",
    "dim7": "dim",
    "m7b5": "dim",
    "sus4": "sus4",
    "7sus4": "sus4",
}
STEPS_PER_BEAT = 4


def read_tracks(path: str) -> tuple[list[dict], int]:
    """Every track's pitched notes as {'name', 'program', 'notes' (N, 4) pitch, start, end beats, velocity}."""
    import mido

    mid = mido.MidiFile(path)
    tpb = mid.ticks_per_beat
    out = []
    for track in mid.tracks:
        tick, programs, open_notes, notes = 0, {}, {}, {}
        for msg in track:
            tick += msg.time
            if msg.type == "program_change":
                programs[msg.channel] = msg.program
            elif msg.type == "note_on" and msg.velocity > 0 and msg.channel != 9:
                open_notes.setdefault((msg.channel, msg.note), []).append((tick, msg.velocity))
            elif msg.type in ("note_off", "note_on") and msg.channel != 9:
                if open_notes.get((msg.channel, msg.note)):
                    start, vel = open_notes[(msg.channel, msg.note)].pop(0)
                    if tick > start:
                        notes.setdefault(msg.channel, []).append((msg.note, start / tpb, tick / tpb, vel))
        for channel, rows in notes.items():
            arr = np.array(rows, dtype=np.float64)
            arr = arr[np.argsort(arr[:, 1], kind="stable")]
            out.append({"name": track.name or "", "program": programs.get(channel, 0), "notes": arr})
    return out, tpb


def is_lead(track: dict, n_bars: int) -> bool:
    """A monophonic upper line on a lead program or under a lead name, playing in at least a quarter of the bars."""
    notes = track["notes"]
    if len(notes) < 64 or not (track["program"] in LEAD_PROGRAMS or LEAD_NAMES.search(track["name"])):
        return False
    starts, ends = notes[:, 1], notes[:, 2]
    overlapping = np.mean(starts[1:] < ends[:-1] - 0.125)  # a note starting before the last one ends
    bars_playing = len(np.unique((starts // 4).astype(int)))
    return overlapping < 0.1 and notes[:, 0].mean() >= 55 and bars_playing >= 0.25 * n_bars


def half_bar_labels(others: list[np.ndarray], n_halves: int) -> np.ndarray:
    """The chord class the other tracks play in each half bar (NO_CHORD where they are silent)."""
    roll = np.zeros((n_halves * 2 * STEPS_PER_BEAT, 128), dtype=bool)
    for notes in others:
        for pitch, start, end, _ in notes:
            s = int(round(start * STEPS_PER_BEAT))
            e = max(s + 1, int(round(end * STEPS_PER_BEAT)))
            if s < len(roll):
                roll[s : min(e, len(roll)), int(pitch)] = True
    chords = recognize(roll[None], 4 * STEPS_PER_BEAT, per_bar=2, drums=None)
    labels = np.full(n_halves, NO_CHORD, dtype=np.int64)
    for i, chord in enumerate(chords[:n_halves]):
        if chord is not None:
            labels[i] = chord_index((chord.root, QUALITY_NAMES.index(TO_MODEL.get(chord.quality, ""))))
    return labels


def song_tracks(path: str) -> tuple[list[dict], int] | None:
    """A file's pitched tracks (read_tracks) and its length in 4/4 bars, or None for no tracks or a length
    outside 16-400 bars (too short to learn from, or not a song)."""
    tracks, _ = read_tracks(path)
    if not tracks:
        return None
    n_bars = int(np.ceil(max(t["notes"][:, 2].max() for t in tracks) / 4))
    return None if n_bars < 16 or n_bars > 400 else (tracks, n_bars)


def band_without(tracks: list[dict], i: int) -> list[np.ndarray]:
    """The notes of every track but the i-th: the band a lead line plays over."""
    return [t["notes"] for j, t in enumerate(tracks) if j != i]


def distinct_leads(tracks: list[dict], n_bars: int) -> list[int]:
    """Indices of the lead tracks (is_lead), a line doubled note for note on another track once."""
    out, seen = [], set()
    for i, track in enumerate(tracks):
        key = track["notes"][:, :3].tobytes()
        if is_lead(track, n_bars) and key not in seen:
            seen.add(key)
            out.append(i)
    return out


def song_items(path: str, version: int = 2) -> list[dict]:
    """One training item per lead track of a file: features of the lead alone, half-bar labels from the rest."""
    song = song_tracks(path)
    if song is None:
        return []
    tracks, n_bars = song
    items = []
    for i in distinct_leads(tracks, n_bars):
        halves = half_bar_labels(band_without(tracks, i), 2 * n_bars)
        if (halves != NO_CHORD).mean() < 0.5:
            continue
        items.append(
            {
                "id": os.path.basename(path),
                "split": "train",
                "key": NO_CHORD,  # no annotated key: the key loss leaves these out
                "halves": halves,
                "feats": {"melody": features(tracks[i]["notes"], 2 * n_bars, 4, version)},
            }
        )
    return items


def split_files(data: str, validation: bool = False, validation_percent: int = 10) -> list[str]:
    """The band-midi files of the pack's training split (or, with validation=True, its validation split), by the
    manifest's SHA-1: int(sha1[:8], 16) % 100 < validation_percent is validation."""
    with open(os.path.join(data, "manifest.tsv")) as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return [
        os.path.join(data, r["file"]) for r in rows if (int(r["sha1"][:8], 16) % 100 < validation_percent) == validation
    ]


def training_files(data: str, validation_percent: int = 10) -> list[str]:
    """The band-midi files in the pack's training split (by the manifest's SHA-1)."""
    return split_files(data, False, validation_percent)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="/work/shared/data/band-midi")
    ap.add_argument("--out", required=True, help="a pickle outside the project")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--features", type=int, default=2)
    args = ap.parse_args(argv)
    files = training_files(args.data)
    files = files[: args.limit] if args.limit else files
    items, failed = [], 0
    for n, path in enumerate(files):
        try:
            items += song_items(path, args.features)
        except Exception:  # a file mido cannot read is passed over, counted
            failed += 1
        if n % 200 == 0:
            print(f"{n}/{len(files)} files, {len(items)} melodies, {failed} unreadable", flush=True)
    with open(args.out, "wb") as fh:
        pickle.dump(items, fh)
    print(f"{len(items)} melodies from {len(files)} files ({failed} unreadable) -> {args.out}", flush=True)


if __name__ == "__main__":
    main()
