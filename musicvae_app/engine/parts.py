"""A musician's part from a MIDI file: the whole file as a Song on the pack's grid, and a part to follow."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import InvalidValue
from ..limits import MAX_SONG_MINUTES, TICKS_PER_BEAT
from ..sketch.song import LANES, ChunkInfo, Song, TakeRecord
from ..theory.keys import estimate_key, key_name, normalising_shift
from ..theory.performance import Performance
from .runtime import MAX_STEPS

if TYPE_CHECKING:
    from ..sketch.midi import Notes


class Parts:
    """Reading parts on the pack's grid (cfg), checked and made into takes with the engine's Takes."""

    def __init__(self, cfg, pack_name: str, key_normalised: bool, takes):
        self.cfg = cfg
        self.pack_name = pack_name
        self.key_normalised = key_normalised
        self.takes = takes

    def follow_part(self, follow: str | Path | Song | Notes) -> Song:
        """The part to follow as a Song on the pack's grid, its chunks marked as the musician's ("part").

        `follow`: a MIDI file (read once), its Notes already read (sketch.midi.read_notes: the CLI and the session
        read a file once and pass it on), or a Song. InvalidValue for a part with no notes or longer than a
        sketch may be; a bad file is a MidiImportError.
        """
        if isinstance(follow, Song):
            self.takes.check(follow)
            part, name = follow.copy(), str(follow.settings.get("source") or "the part")
            part.probs = follow.notes().astype(np.float32)
            part.threshold = 0.5
            lanes = [i for i in range(len(LANES)) if part.probs[i].any()]
            if follow.performance is not None:  # lanes played as events keep them; the others are grid notes
                part.performance = follow.performance.only(lanes)
        else:
            notes = self.notes_of(follow)
            name = notes.name or "the part"
            if notes.cut:  # never follow a part cut short
                raise InvalidValue(
                    f"'{name}' is longer than {MAX_SONG_MINUTES:g} minutes, more than a sketch may hold: cut it in "
                    "your DAW and follow a part of it"
                )
            part = self.song_from_midi(notes, check_length=True)
            lanes = [i for i in range(len(LANES)) if part.probs[i].any()]
            # the notes as played (off the grid, velocities, re-struck notes) for the export, playback, the window
            part.performance = performance_of(notes, lanes, part.n_steps * (TICKS_PER_BEAT // part.steps_per_beat))
        if not part.notes().any():
            raise InvalidValue(f"'{name}' has no notes to follow: give a MIDI file with a part in it")
        part.chunks = [[ChunkInfo("part", None, None, self.pack_name)] * len(LANES) for _ in range(part.n_chunks)]
        return part

    def through_form(self, part: Song, bars: int) -> Song:
        """The part repeated whole (as a Band-in-a-Box melody goes round each chorus) until it lasts `bars`
        bars, the last time cut there: its own length (to the bar after its last note) is one time round. The
        sketch is whole chunks long; the notes as played repeat with the roll. A part as long already is as it is.
        """
        bar = self.cfg.steps_per_beat * 4
        sounding = np.flatnonzero(part.probs.any(axis=(0, 2)))
        own = max(-(-(int(sounding[-1]) + 1) // bar), 1) if len(sounding) else part.n_bars
        if bars <= part.n_bars:
            return part
        cs = self.cfg.chunk_steps
        steps = -(-bars * bar // cs) * cs
        if steps // cs > MAX_STEPS + 1:
            raise InvalidValue(
                f"the form is {bars} bars, more than the {(MAX_STEPS + 1) * cs // bar} bars a sketch may hold"
            )
        period = own * bar
        reps = -(-bars * bar // period)
        probs = np.tile(part.probs[:, :period], (1, reps, 1))[:, : bars * bar]
        out = part.copy()
        out.probs = np.zeros((len(LANES), steps, 128), dtype=np.float32)
        out.probs[:, : probs.shape[1]] = probs
        out.latents = np.zeros((steps // cs, len(LANES), self.cfg.latent), np.float32)
        out.chunks = [list(part.chunks[0]) for _ in range(steps // cs)]
        out.settings = part.settings.replace(steps=steps // cs - 1)
        ticks = TICKS_PER_BEAT // self.cfg.steps_per_beat
        if part.performance is not None:
            out.performance = part.performance.repeated(period * ticks, bars * bar * ticks)
        return out

    @staticmethod
    def notes_of(source: str | Path | Notes) -> Notes:
        """A file's notes: read once from a path, or the Notes already read."""
        from ..sketch.midi import Notes, read_notes

        return source if isinstance(source, Notes) else read_notes(source)

    def song_from_midi(self, source: str | Path | Notes, check_length: bool = False) -> Song:
        """A whole MIDI file (a path, or its Notes already read) as a Song on the pack's grid (notes as certain
        cells), with its key and tempo. Longer than a sketch may be: cut there, or with `check_length` refused
        (InvalidValue naming the file, its length and the longest)."""
        from ..sketch.midi import notes_to_roll

        notes = self.notes_of(source)
        roll = notes_to_roll(notes, self.cfg.steps_per_beat)
        cs = self.cfg.chunk_steps
        most = (MAX_STEPS + 1) * cs
        if check_length and roll.shape[1] > most:
            bar_steps = 4 * self.cfg.steps_per_beat
            raise InvalidValue(
                f"'{notes.name}' is {roll.shape[1] // bar_steps} bars long, more than the {most // bar_steps} bars "
                "a sketch may hold: cut it in your DAW and follow a part of it"
            )
        n = max(1, min(-(-roll.shape[1] // cs), MAX_STEPS + 1))
        probs = np.zeros((len(LANES), n * cs, 128), dtype=np.float32)
        probs[:, : min(roll.shape[1], n * cs)] = roll[:, : n * cs]
        key = estimate_key(roll)
        del roll
        shift = -normalising_shift(key) if self.key_normalised else 0
        lineup = [LANES[i] for i in range(len(LANES)) if probs[i].any()] or list(LANES)
        settings = TakeRecord(
            pack=self.pack_name,
            source=notes.name,
            key=key_name(key) if key else "",
            transpose=shift,
            lineup=",".join(lineup),
            threshold=0.5,
            steps=n - 1,
        )
        chunks = [[ChunkInfo("primer", None, None, self.pack_name)] * len(LANES) for _ in range(n)]
        return self.takes.song(
            probs,
            np.zeros((n, len(LANES), self.cfg.latent), np.float32),
            0.5,
            float(notes.tempo),
            chunks,
            settings,
            None,
        )

    def read_part(self, path: str | Path | Notes) -> Song:
        """A part to follow from a .mid (or its Notes), checked (InvalidValue: no notes, too long) as
        generate(follow=) checks it."""
        return self.follow_part(path)


def performance_of(notes, lanes: list[int], length: int | None = None) -> Performance | None:
    """The notes of a file (midi.Notes) on `lanes` as played: ticks at 480 a beat, velocities; None when none."""
    keep = np.isin(notes.lane, lanes)
    if not keep.any():
        return None
    out = Performance.from_beats(
        notes.lane[keep], notes.pitch[keep], notes.start[keep], notes.end[keep], notes.velocity[keep]
    )
    return out if length is None else out.cut(length)
