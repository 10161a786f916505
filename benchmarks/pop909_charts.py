"""Real songs' own charts asked of the band (benchmarks/real_charts.py --pop909): POP909's chords, checked by
people, at their real beats, with every quality the annotation names. See real_charts.py for the command.

Only what the app had before sub-bar charts is used here (Engine.generate(chords=a chart or a list),
write_midi, read_roll, chords.recognize's pieces), so the same script measures the code before and after.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path

import numpy as np

from musicvae_app.sketch.midi import read_roll, write_midi
from musicvae_app.theory.chords import RECOGNIZED, Chord, bars_chroma, best_chords

BEATS = 4
_NOTES = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
# Harte qualities -> the app's (chords.QUALITIES)
_HARTE = {
    "maj": "",
    "min": "m",
    "7": "7",
    "min7": "m7",
    "maj7": "maj7",
    "sus2": "sus2",
    "sus4": "sus4",
    "sus4(b7)": "7sus4",
    "dim": "dim",
    "dim7": "dim7",
    "hdim7": "m7b5",
    "aug": "aug",
    "maj6": "6",
    "min6": "m6",
    "minmaj7": "mMaj7",
    "9": "9",
    "maj9": "maj9",
    "min9": "m9",
    "add9": "add9",
}
_DEGREES = {"1": 0, "b2": 1, "2": 2, "b3": 3, "3": 4, "4": 5, "b5": 6, "5": 7, "#5": 8, "b6": 8, "6": 9}
_DEGREES.update({"b7": 10, "7": 11, "9": 2})


def _pc(name: str) -> int:
    pc = _NOTES[name[0].upper()]
    for ch in name[1:]:
        pc += 1 if ch == "#" else -1 if ch == "b" else 0
    return pc % 12


def harte_chord(label: str) -> Chord | None:
    """'A:min7', 'G:maj/3', 'F:sus4(b7)', 'N' -> Chord (None for N or a quality the app has no name for)."""
    if label in ("N", "X", ""):
        return None
    root_txt, _, rest = label.partition(":")
    quality_txt, _, bass_txt = (rest or "maj").partition("/")
    quality = _HARTE.get(quality_txt)
    if quality is None:
        return None
    root = _pc(root_txt)
    bass = (root + _DEGREES[bass_txt]) % 12 if bass_txt in _DEGREES else None
    return Chord(root, quality, None if bass == root else bass)


def song_beats(folder: str) -> list[Chord | None]:
    """The song's chord on each beat of its 4/4 grid (beat 0 on a downbeat), from its annotated beats."""
    beats = np.loadtxt(os.path.join(folder, "beat_midi.txt"), ndmin=2)
    times = beats[:, 0]
    down = np.flatnonzero(beats[:, 2] > 0.5)
    i0 = int(down[0]) if len(down) else 0
    origin = i0 - 4 * int(np.ceil(i0 / 4))
    idx = np.arange(len(times), dtype=np.float64)
    n = 4 * int(np.ceil((len(times) - origin) / 4))
    overlap: list[Counter] = [Counter() for _ in range(n)]
    with open(os.path.join(folder, "chord_midi.txt")) as fh:
        for line in fh:
            parts = line.split()
            if len(parts) < 3:
                continue
            s, e = np.interp([float(parts[0]), float(parts[1])], times, idx) - origin
            chord = harte_chord(parts[2])
            for b in range(max(0, int(np.floor(s))), min(n, int(np.ceil(e)))):
                ov = min(e, b + 1) - max(s, b)
                if ov > 0:
                    overlap[b][chord] += ov
    return [c.most_common(1)[0][0] if c else None for c in overlap]


def _bar_token_text(bar: list) -> str:
    """A bar's four beats in the chart syntax: 'C . Am .', 'N.C.' for a beat with no chord."""
    names = ["N.C." if c is None else c.symbol for c in bar]
    return " ".join(n if i == 0 or n != names[i - 1] else "." for i, n in enumerate(names))


def main_chord(bar: list):
    return max(bar, key=lambda c: (bar.count(c), -bar.index(c)))


def runs(beats: list) -> list[tuple[int, int, Chord]]:
    """(first beat, end beat, chord) of each chord as asked: a run of one chord, cut at bar lines."""
    out = []
    for i, chord in enumerate(beats):
        if chord is None:
            continue
        if out and out[-1][2] == chord and out[-1][1] == i and i % BEATS:
            out[-1] = (out[-1][0], i + 1, chord)
        else:
            out.append((i, i + 1, chord))
    return out


def heard_as(asked: Chord, heard: Chord | None, chroma: np.ndarray) -> bool:
    """Same root and tones as recognized; for a quality the recognizer has no name for (7sus4, dim7, mMaj7, 9ths),
    the recognized root and every tone of the chord at least 7 % of the piece's weight (the recognizer's line)."""
    if heard is not None and heard.root == asked.root and set(heard.tones) == set(asked.tones):
        return True
    if asked.quality in RECOGNIZED or heard is None or heard.root != asked.root:
        return False
    share = chroma / max(float(chroma.sum()), 1.0)
    return bool(np.all(share[list(asked.tones)] >= 0.07))


def run(engine, args) -> int:
    root = Path(args.pop909)
    ids = sorted(int(d) for d in os.listdir(root) if d.isdigit())
    ids = [i for i in ids if (i % 5 == 0) == (args.split == "val")]
    if args.limit:
        ids = ids[: args.limit]
    bars, first_bar = args.bars, 8
    chunk_bars = engine.cfg.bars
    steps = -(-bars // chunk_bars) - 1
    spb = engine.cfg.steps_per_beat
    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / "pop909_charts"
    tmp.mkdir(parents=True, exist_ok=True)
    total = Counter()
    hits = Counter()
    bass_hits = bass_n = songs = changes = 0
    seconds = 0.0
    for song_id in ids:
        beats = song_beats(str(root / f"{song_id:03d}"))
        window = beats[first_bar * BEATS : (first_bar + bars) * BEATS]
        if len(window) < bars * BEATS or sum(c is None for c in window) > len(window) // 4:
            continue
        per_bar = [window[i : i + BEATS] for i in range(0, len(window), BEATS)]
        if args.per_bar:
            chords = [main_chord(b) for b in per_bar]
        else:
            chords = "| " + " | ".join(_bar_token_text(b) for b in per_bar) + " |"
        t0 = time.perf_counter()
        song = engine.generate(chords=chords, steps=steps, seed=args.seed + song_id)
        seconds += time.perf_counter() - t0
        path = write_midi(song, tmp / f"{song_id}.mid")
        roll, _ = read_roll(path, spb)
        songs += 1
        changes += sum(len({*b}) for b in per_bar)
        asked = runs(window)
        for lo, hi, chord in asked:
            piece = roll[:, lo * spb : hi * spb]
            chroma, lowest = bars_chroma(piece, piece.shape[1], drums=4)
            heard = best_chords(chroma, lowest)[0]
            name = chord.quality + ("/" if chord.bass is not None else "")
            total[name] += 1
            hits[name] += heard_as(chord, heard, chroma[0])
            bass = np.flatnonzero(roll[2, lo * spb])
            bass_n += 1
            bass_hits += bool(len(bass)) and int(bass.min()) % 12 == chord.lowest
    recognizable = [q for q in total if q.rstrip("/") in RECOGNIZED]
    n_rec, h_rec = sum(total[q] for q in recognizable), sum(hits[q] for q in recognizable)
    n_all, h_all = sum(total.values()), sum(hits.values())
    mode = "each bar's main chord only" if args.per_bar else "every chord at its beat"
    print(
        f"pack {engine.pack.name}: {songs} POP909 {args.split} songs, bars {first_bar + 1}-{first_bar + bars}, "
        f"{mode}; {changes / max(songs * bars, 1):.2f} chords a bar; seed {args.seed}+id; takes in {seconds:.1f} s"
    )
    print(f"chords heard as asked (qualities the recognizer names) {100 * h_rec / max(n_rec, 1):6.1f} %  of {n_rec}")
    print(
        f"chords heard as asked (all; unnamed qualities: root + every tone) {100 * h_all / max(n_all, 1):6.1f} %  "
        f"of {n_all}"
    )
    print(f"bass on the chord's bass note where it starts          {100 * bass_hits / max(bass_n, 1):6.1f} %")
    for name, n in total.most_common():
        print(f"  {name or 'maj':<8} {n:5d} chords  {100 * hits[name] / n:6.1f} %")
    return 0
