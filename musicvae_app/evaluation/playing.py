"""The playing side of `musicvae evaluate`: loops, held notes, bass roots, fills, chords and kept parts.

Every figure of `playing_metrics.band_playing` is measured on the pack's continuations and on the real
songs' own continuations (the real side's chords recognized from the real song itself, ours from ours),
side by side like the MuseGAN table. Two figures need the engine to take an instruction:

- chords=: `--chords real` asks for the real continuation's recognized chords, bar by bar, and scores
  chord accuracy, chord tones and bass-on-root of the result against them;
- follow=: `--follow LANE[,LANE]` gives the engine the real song's own part on those lanes, and scores
  how much of it the take keeps unchanged.

Chord accuracy against the real chords is also given for the plain continuations (nothing asked): what
the asked figure should beat.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..errors import InvalidValue
from ..sketch.song import LANES
from . import playing_metrics as pm
from . import report
from .windows import SCORE_CHUNK, SCORE_STEPS_PER_BEAT, export_back, roll_to_midi

LABELS = {
    "repetition": "repeated chunks %",
    "comes_back": "chunk = an earlier %",
    "comes_back_near": "chunk ~ an earlier %",
    "long_notes": "bar-long notes %",
    "onsets_per_bar": "starts per bar",
    "onsets_per_playing_bar": "starts/playing bar",
    "bass_on_root": "bass root beat 1 %",
    "lanes_per_bar": "lanes playing a bar",
    "chord_tones": "chord tones %",
    "fill_4": "fill, 4-bar end %",
    "fill_8": "fill, 8-bar end %",
    "fill_elsewhere": "fill, other bar %",
    "crash_after": "crash after end %",
    "chord_accuracy": "chord accuracy %",
    "asked_chord_accuracy": "asked chords %",
    "asked_chord_tones": "asked chord tones %",
    "asked_bass_on_root": "asked bass root %",
    "kept": "kept part %",
}


def continuation_chords(windows) -> list[list]:
    """Each window's chords, bar by bar over primer and continuation, recognized from the real song."""
    return [pm.band_chords(w.roll, SCORE_STEPS_PER_BEAT) for w in windows]


def _asked_takes(engine, windows, steps: int, seed: int, noise, threshold, per_window) -> np.ndarray:
    """Takes with extra generate arguments per_window(window, folder) -> dict, from each window's primer
    (unless they follow a part, which the engine takes whole), exported and read back at 16ths."""
    import tempfile

    from ..engine import torch_threads

    total = (steps + 1) * SCORE_CHUNK
    out = np.zeros((len(windows), len(LANES), total, 128), dtype=bool)
    with tempfile.TemporaryDirectory() as tmp, torch_threads(1 if engine.device == "cpu" else None):
        folder = Path(tmp)
        for i, window in enumerate(windows):
            extra = per_window(window, folder)
            if "follow" not in extra:  # a followed part is its own start and length
                extra["primer"] = roll_to_midi(window.roll[:, :SCORE_CHUNK], folder / "primer.mid")
            song = engine.generate(steps=steps, noise=noise, threshold=threshold, seed=seed + i, **extra)
            out[i] = export_back(song, folder / "take.mid", total)
    return out


def chord_takes(engine, windows, chords: list[list], steps: int, seed: int, noise=None, threshold=None):
    """Continuations asked to play the given chords (one Chord or None a bar of each window)."""
    by_name = {w.name: c for w, c in zip(windows, chords)}
    return _asked_takes(engine, windows, steps, seed, noise, threshold, lambda w, _: {"chords": by_name[w.name]})


def follow_takes(engine, windows, lanes: list[int], steps: int, seed: int, noise=None, threshold=None):
    """Takes that follow each real song's own part on `lanes` (a .mid of those lanes, primer chunk included)."""

    def follow(window, folder: Path) -> dict:
        part = np.zeros_like(window.roll)
        part[lanes] = window.roll[lanes]
        return {"follow": roll_to_midi(part, folder / "follow.mid")}

    return _asked_takes(engine, windows, steps, seed, noise, threshold, follow)


def _after_primer(chords: list[list]) -> list[list]:
    bars = SCORE_CHUNK // (4 * SCORE_STEPS_PER_BEAT)
    return [c[bars:] for c in chords]


def playing_table(real: np.ndarray, generated: np.ndarray, chords: list[list] | None = None) -> dict:
    """Playing rows of real and generated windows (songs, 5, steps, 128), chunk 0 the primer (left out).

    chords: the real windows' chords, primer included (continuation_chords), for the chord-accuracy row
    of continuations; None (random starts, which follow no real song) leaves that row out.
    """
    cont_real, cont_gen = real[..., SCORE_CHUNK:, :], generated[..., SCORE_CHUNK:, :]
    p_real = pm.band_playing(cont_real, SCORE_STEPS_PER_BEAT, SCORE_CHUNK)
    p_gen = pm.band_playing(cont_gen, SCORE_STEPS_PER_BEAT, SCORE_CHUNK)
    lanes = {
        lane: {k: report.row(k, v, p_gen["lanes"][lane][k]) for k, v in rows.items()}
        for lane, rows in p_real["lanes"].items()
    }
    band = {k: report.row(k, v, p_gen["band"][k]) for k, v in p_real["band"].items()}
    if chords is not None:
        heard = [pm.band_chords(w, SCORE_STEPS_PER_BEAT) for w in cont_gen]
        band["chord_accuracy"] = report.row("chord_accuracy", math.nan, pm.chord_accuracy(_after_primer(chords), heard))
    return {"lanes": lanes, "band": band, "notes": []}


def add_asked_chords(table: dict, real: np.ndarray, asked_takes: np.ndarray, chords: list[list]) -> None:
    """Rows for takes asked to play the real chords: accuracy, chord tones and bass root against those chords."""
    spb = SCORE_STEPS_PER_BEAT
    asked = _after_primer(chords)
    cont_real, cont_gen = real[..., SCORE_CHUNK:, :], asked_takes[..., SCORE_CHUNK:, :]
    heard = [pm.band_chords(w, spb) for w in cont_gen]
    band = table["band"]
    band["asked_chord_accuracy"] = report.row("chord_accuracy", math.nan, pm.chord_accuracy(asked, heard))
    band["asked_chord_tones"] = report.row(
        "chord_tones", pm.chord_tone_share(cont_real, asked, spb), pm.chord_tone_share(cont_gen, asked, spb)
    )
    band["asked_bass_on_root"] = report.row(
        "bass_on_root",
        pm.bass_on_root(cont_real[:, pm.BASS], asked, spb),
        pm.bass_on_root(cont_gen[:, pm.BASS], asked, spb),
    )


def add_kept(table: dict, real: np.ndarray, followed: np.ndarray, lanes: list[int]) -> None:
    """The kept-part row: % of the real part's note cells (the whole window) that the followed take still has."""
    kept, out = real[:, lanes], followed[:, lanes]
    table["band"]["kept"] = report.row("kept", math.nan, pm.kept_share(kept, out))
    table["band"]["kept"]["lanes"] = [LANES[i] for i in lanes]


def follow_lanes(text: str) -> list[int]:
    """'bass' or 'bass,drums' -> lane indices; ValueError naming the lane and the choices."""
    names = [t.strip().lower() for t in text.split(",") if t.strip()]
    unknown = [n for n in names if n not in LANES]
    if not names or unknown:
        raise InvalidValue(f"--follow {text!r}: name one or more lanes from {', '.join(LANES)} (e.g. bass,drums)")
    return [LANES.index(n) for n in names]


def _rows(table: dict):
    for lane, rows in table["lanes"].items():
        for metric, row in rows.items():
            yield lane, metric, row
    for metric, row in table["band"].items():
        yield "band", metric, row


def format_playing(table: dict, title: str = "how it plays") -> str:
    """The playing rows as the evaluate table prints them: real beside ours, then any notes."""
    head = f"{title:<16}{'metric':<21}{'real':>9}{'generated':>11}{'gap':>9}"
    lines = [head, "-" * len(head)]
    last = None
    for where, metric, row in _rows(table):
        shown = where if where != last else ""
        last = where
        lines.append(
            f"{shown:<16}{LABELS[metric]:<21}{report.fmt(row['real'], 9)}{report.fmt(row['generated'], 11)}"
            f"{report.fmt(row['gap'], 9, sign=True)}"
        )
    lines += [f"note: {note}" for note in table.get("notes", [])]
    return "\n".join(lines)


def playing_section(
    engine, windows, real, generated, steps: int, seed: int, noise, threshold, chords=None, follow=None
) -> dict:
    """The playing table of evaluate: plain continuations, plus asked chords ('real') and a followed part when asked."""
    real_chords = continuation_chords(windows)
    table = playing_table(real, generated, real_chords)
    if chords not in (None, "real"):
        raise InvalidValue(f"--chords {chords!r}: only 'real' (ask for each real continuation's chords) is known")
    if chords:
        asked = chord_takes(engine, windows, real_chords, steps, seed, noise, threshold)
        add_asked_chords(table, real, asked, real_chords)
    if follow:
        lanes = follow_lanes(follow)
        add_kept(table, real, follow_takes(engine, windows, lanes, steps, seed, noise, threshold), lanes)
    return table


def add_playing_options(parser) -> None:
    """`musicvae evaluate`'s --chords and --follow (for cli.py's evaluate parser)."""
    parser.add_argument(
        "--chords", choices=["real"], default=None, help="also ask for each real continuation's chords and score them"
    )
    parser.add_argument("--follow", default=None, help="also follow the real songs' part on these lanes (bass,drums)")
