"""The harmony rows of `musicvae evaluate`: the harmony model on songs with annotated chords, and the band over a
followed part.

Three measurements, each on songs never trained or tuned on:

- **model** (`model_rows`): the harmony model alone (theory/harmony.py) on the POP909 validation songs
  (id % 5 == 0; training/harmony_data.py): per input kind (melody alone, piano comp alone, the piano's
  lowest line as a bass line), the share of half bars whose root and major/minor family agree with the
  annotated chord (half bars annotated N left out).
- **melody followed** (`melody_follow`): each POP909 validation song's melody alone, on its annotated beat grid,
  written as a .mid (program 0, as POP909's own files have it, so the app reads it as the piano lane) and given
  to `Engine.generate(follow=...)`; the take is written with the app's MIDI export and read back at 16ths. Per
  bar with an annotated chord on beat 1: the bass's lowest note on beat 1 against that chord's root (bars where
  the bass plays), and the chord the band plays around the melody (every pitched lane but the melody's,
  chords.recognize) against the bar's annotated chord (the chord of most of its beats), root + family; the same
  per half bar (band_halves, chart_halves: each half bar's chord against its annotated one), since a one-chord
  reading of a bar whose chart changes mid-bar hears a blend of both chords.
- **comp followed** (`comp_follow`): mid-song windows of the pack's validation songs (band-midi); the real
  piano part (else the guitar) alone is followed. The reference is the chord the real song plays above its
  bass (every pitched lane but the bass, with the part: playing_metrics.upper_chords). The band's chords
  (every pitched lane but the part's, ours and the real song's) are compared with it, root + family, and the
  bass on beat 1 with its root, ours beside the real bass's. The issue's goals: agreement within 0.10 of the
  real song's own, bass root within 0.05.

A family is major (a major third, or no third: sus, 5) or minor (a minor third, no major one).
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np

from ..sketch.song import LANES
from ..theory.chords import Chord, recognize, third_of
from . import playing_metrics as pm
from .windows import BAR_STEPS, SCORE_CHUNK, SCORE_STEPS_PER_BEAT, export_back, roll_to_midi, windows

PIANO, GUITAR = LANES.index("piano"), LANES.index("guitar")
HARMONY_KINDS = ("melody", "piano", "bass")
KIND_LABELS = {"melody": "melody alone", "piano": "piano comp alone", "bass": "a bass line"}


def family_of(chord: Chord | None) -> tuple[int, int] | None:
    """(root, 0 major / 1 minor) of a chord, None for no chord."""
    if chord is None:
        return None
    return chord.root, int(third_of(chord) == 3)


def chord_of_class(k: int) -> Chord | None:
    """The harmony model's class index (quality * 12 + root; 84 = N) as a Chord."""
    from ..theory.chords import parse_chord
    from ..theory.harmony import N_CHORDS, symbol_of_index

    return None if k >= N_CHORDS else parse_chord(symbol_of_index(k))


def _pct(hits: int, total: int) -> float:
    return 100.0 * hits / total if total else math.nan


def pop909_validation(data: str | Path, limit: int = 0) -> list:
    """The POP909 validation songs (id % 5 == 0) under data, the first `limit` of them when limit > 0."""
    from ..training import harmony_data as hd

    folders = [f for f in hd.song_folders(str(data)) if hd.split_of(int(Path(f).name)) == "val"]
    folders = folders[:limit] if limit else folders
    return [hd.load_song(f) for f in folders]


def model_rows(songs: list, model=None) -> dict[str, float]:
    """Half-bar root + family agreement (%) of the harmony model per input kind, over the songs' chorded half bars."""
    from ..theory.harmony import NO_CHORD, HarmonyModel, family_index
    from ..training import harmony_data as hd

    model = model or HarmonyModel.load()
    out = {}
    for kind in HARMONY_KINDS:
        hits = total = 0
        for song in songs:
            notes = hd.part_of(song, kind)
            if len(notes) == 0:
                continue
            ref = hd.half_labels(song.beat_labels)
            ours = model.harmonize(notes, bars=len(ref) // 2, alternatives=1).half_bars
            mask = ref != NO_CHORD
            fam = np.array([family_index(int(k)) for k in ours])
            ref_fam = np.array([family_index(int(k)) for k in ref])
            hits += int((fam[mask] == ref_fam[mask]).sum())
            total += int(mask.sum())
        out[kind] = _pct(hits, total)
    return out


def melody_roll(notes: np.ndarray, n_bars: int, lane: int = PIANO) -> np.ndarray:
    """Note events in beats -> a bool (5, n_bars * 16, 128) roll at 16ths with the notes on `lane`."""
    roll = np.zeros((len(LANES), n_bars * BAR_STEPS, 128), dtype=bool)
    for pitch, start, end, *_ in notes:
        s = int(round(start * SCORE_STEPS_PER_BEAT))
        e = max(s + 1, int(round(end * SCORE_STEPS_PER_BEAT)))
        if 0 <= s < roll.shape[1] and 0 <= pitch < 128:
            roll[lane, s : min(e, roll.shape[1]), int(pitch)] = True
    return roll


def bass_root_hits(bass: np.ndarray, roots: list[int | None]) -> tuple[int, int]:
    """(bars whose beat-1 bass note is the root, bars with a root where the bass plays) of a (steps, 128) lane."""
    hits = counted = 0
    for b, root in enumerate(roots):
        bar = bass[b * BAR_STEPS : (b + 1) * BAR_STEPS]
        if root is None or not bar.any():
            continue
        counted += 1
        pitch = pm.beat_one_pitch(bar, SCORE_STEPS_PER_BEAT)
        hits += pitch is not None and pitch % 12 == root
    return hits, counted


def family_hits(ours: list, ref: list) -> tuple[int, int]:
    """(bars whose chord has the reference's root and family, bars with a reference chord); silence is a miss."""
    pairs = [(family_of(o), family_of(r)) for o, r in zip(ours, ref)]
    return sum(o == r for o, r in pairs if r is not None), sum(r is not None for _, r in pairs)


def melody_follow(engine, songs: list, seed: int = 0, max_bars: int = 64, lane: int = PIANO) -> dict:
    """The band over each song's melody alone (its first `max_bars` bars): bass root on beat 1, band and chart chords.

    Returns percentages: bass_root (bass plays the annotated root on beat 1), band_chords (the chord the band
    plays around the melody, root + family, per bar), chart_chords (the chords the take was held to: the
    harmony model's reading of the melody), bass_silent (bars with a chord where the bass does not play),
    bass_chart (the bass on beat 1 plays the bass note of the chart's chord: the engine's side alone).
    """
    from ..engine import torch_threads
    from ..training import harmony_data as hd

    names = ("bass_root", "band_chords", "chart_chords", "bass_silent", "bass_chart", "band_halves", "chart_halves")
    counts = {name: [0, 0] for name in names}
    others = [i for i in pm.PITCHED if i != lane]
    with tempfile.TemporaryDirectory() as tmp, torch_threads(1 if engine.device == "cpu" else None):
        folder = Path(tmp)
        for i, song in enumerate(songs):
            melody = song.tracks.get("MELODY", np.zeros((0, 4)))
            n_bars = min(max_bars, len(song.beat_labels) // 4)
            n_bars -= n_bars % 4  # whole 4-bar chunks
            if len(melody) == 0 or n_bars < 4:
                continue
            roll = melody_roll(melody, n_bars, lane)
            if not roll.any():
                continue
            take = engine.generate(follow=roll_to_midi(roll, folder / "melody.mid"), seed=seed + i)
            heard = export_back(take, folder / "take.mid", n_bars * BAR_STEPS)
            beat_one = [chord_of_class(int(k)) for k in song.beat_labels[0 : 4 * n_bars : 4]]
            bars_ref = [chord_of_class(int(k)) for k in hd.group_labels(song.beat_labels, 4)[:n_bars]]
            roots = [None if c is None else c.root for c in beat_one]
            h, c = bass_root_hits(heard[pm.BASS], roots)
            counts["bass_root"][0] += h
            counts["bass_root"][1] += c
            counts["bass_silent"][0] += sum(r is not None for r in roots) - c
            counts["bass_silent"][1] += sum(r is not None for r in roots)
            band, chart = recognize(heard[others], BAR_STEPS, drums=None), _chart(take, n_bars)
            h, c = bass_root_hits(heard[pm.BASS], [None if x is None else x.lowest for x in chart])
            counts["bass_chart"][0] += h
            counts["bass_chart"][1] += c
            halves_ref = [chord_of_class(int(k)) for k in hd.half_labels(song.beat_labels)[: 2 * n_bars]]
            band_halves = recognize(heard[others], BAR_STEPS, per_bar=2, drums=None)
            for name, ours, ref in (
                ("band_chords", band, bars_ref),
                ("chart_chords", chart, bars_ref),
                ("band_halves", band_halves, halves_ref),
                ("chart_halves", _chart(take, n_bars, halves=True), halves_ref),
            ):
                h, c = family_hits(ours, ref)
                counts[name][0] += h
                counts[name][1] += c
    out = {name: _pct(*pair) for name, pair in counts.items()}
    out["bars"] = counts["band_chords"][1]
    out["songs"] = len(songs)
    return out


def _chart(take, n_bars: int, halves: bool = False) -> list:
    """Each bar's first chord of a take's chords (Song.chords: each bar's chart text, "C Am"), n_bars long;
    halves: the chord on each half bar's first beat (beats 1 and 3), 2 * n_bars long."""
    from ..theory.chords import downbeats, song_beats

    chords = list(getattr(take, "chords", None) or [])
    if all(c is None or isinstance(c, str) for c in chords):
        beats = song_beats(chords)
        chords = beats[::2] if halves else downbeats(beats)
    elif halves:  # a chord a bar
        chords = [c for c in chords for _ in (0, 1)]
    n = 2 * n_bars if halves else n_bars
    return (list(chords) + [None] * n)[:n]


def comp_lane(roll: np.ndarray) -> int | None:
    """The comp to follow in a real window: the piano when it plays in half the bars, else the guitar, else None."""
    for lane in (PIANO, GUITAR):
        per_bar = roll[lane].reshape(-1, BAR_STEPS, 128).any(axis=(1, 2))
        if per_bar.mean() >= 0.5:
            return lane
    return None


def comp_follow(engine, songs: list, count: int, steps: int = 7, seed: int = 0) -> dict:
    """The band over a real comp part: chord agreement and bass root on beat 1, ours beside the real song's."""
    from ..engine import torch_threads

    counts = {name: [0, 0] for name in ("chords_ours", "chords_real", "bass_ours", "bass_real")}
    used = 0
    with tempfile.TemporaryDirectory() as tmp, torch_threads(1 if engine.device == "cpu" else None):
        folder = Path(tmp)
        for i, window in enumerate(windows(songs, SCORE_CHUNK, steps)):
            if used >= count:
                break
            real = window.roll
            lane = comp_lane(real)
            if lane is None:
                continue
            used += 1
            part = np.zeros_like(real)
            part[lane] = real[lane]
            take = engine.generate(follow=roll_to_midi(part, folder / "comp.mid"), seed=seed + i)
            ours = export_back(take, folder / "take.mid", real.shape[1])
            ref = pm.upper_chords(real, SCORE_STEPS_PER_BEAT)
            roots = [None if c is None else c.root for c in ref]
            others = [j for j in pm.PITCHED if j != lane]
            for name, roll in (("ours", ours), ("real", real)):
                h, c = family_hits(recognize(roll[others], BAR_STEPS, drums=None), ref)
                counts[f"chords_{name}"][0] += h
                counts[f"chords_{name}"][1] += c
                h, c = bass_root_hits(roll[pm.BASS], roots)
                counts[f"bass_{name}"][0] += h
                counts[f"bass_{name}"][1] += c
    out = {name: _pct(*pair) for name, pair in counts.items()}
    out["windows"] = used
    return out


def harmony_section(engine, harmony_data: str | Path | None, band_songs: list, songs: int, seed: int) -> dict:
    """All harmony rows for `musicvae evaluate --harmony-data DIR` (POP909): the model rows on every validation
    song, the followed melody on the first `songs` of them and the followed comp on `songs` windows of
    band_songs (the pack's validation songs). No folder, or one without POP909 songs, gives {'skipped': why}."""
    if harmony_data is None:
        return {"skipped": "no --harmony-data DIR given (the POP909 folder: songs with annotated chords)"}
    if not Path(harmony_data).is_dir():
        return {"skipped": f"--harmony-data {str(harmony_data)!r} is not a folder: give the POP909 folder"}
    val = pop909_validation(harmony_data)
    if not val:
        return {"skipped": f"no POP909 song folders (NNN/ with NNN.mid and chord_midi.txt) in {str(harmony_data)!r}"}
    return {
        "songs": len(val),
        "model": model_rows(val),
        "melody_follow": melody_follow(engine, val[:songs], seed),
        "comp_follow": comp_follow(engine, band_songs, songs, seed=seed) if band_songs else None,
    }


def format_harmony(section: dict) -> str:
    """The harmony rows as evaluate prints them."""
    if "skipped" in section:
        return f"harmony: skipped ({section['skipped']})"

    def f(v: float) -> str:
        return "   -  " if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:5.1f}%"

    lines = [f"harmony model on {section['songs']} POP909 validation songs (half bars, root + major/minor):"]
    for kind, value in section["model"].items():
        lines.append(f"  {KIND_LABELS[kind]:<22}{f(value)}")
    m = section["melody_follow"]
    lines.append(f"band over a followed melody ({m['bars']} bars, {m['songs']} songs; goal: bass root beat 1 >= 45 %):")
    lines.append(
        f"  bass root on beat 1   {f(m['bass_root'])}  (bars with no bass: {f(m['bass_silent'])}; "
        f"bass on the chart's root: {f(m['bass_chart'])})"
    )
    lines.append(f"  band's chords         {f(m['band_chords'])}  (the chart it was held to: {f(m['chart_chords'])})")
    lines.append(
        f"  ... per half bar      {f(m['band_halves'])}  (the chart: {f(m['chart_halves'])}; a one-chord-a-bar "
        "reading hears a blend where the chart changes mid-bar)"
    )
    c = section.get("comp_follow")
    if c:
        lines.append(f"band over a followed real comp ({c['windows']} windows; goals: within 0.10 and 0.05 of real):")
        lines.append(f"  band's chords         {f(c['chords_ours'])}  (real band {f(c['chords_real'])})")
        lines.append(f"  bass root on beat 1   {f(c['bass_ours'])}  (real bass {f(c['bass_real'])})")
    return "\n".join(lines)
