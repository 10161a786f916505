"""A musician's part from a MIDI file: the whole file as a Song on the pack's grid, and a part to follow."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import InvalidValue
from ..sketch.song import LANES, ChunkInfo, Song, TakeRecord
from ..theory.keys import estimate_key, key_name, normalising_shift
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
        else:
            notes = self.notes_of(follow)
            name = notes.name or "the part"
            part = self.song_from_midi(notes, check_length=True)
        if not part.notes().any():
            raise InvalidValue(f"'{name}' has no notes to follow: give a MIDI file with a part in it")
        part.chunks = [[ChunkInfo("part", None, None, self.pack_name)] * len(LANES) for _ in range(part.n_chunks)]
        return part

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
