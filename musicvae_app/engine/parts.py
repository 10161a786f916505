"""A musician's part from a MIDI file: the whole file as a Song on the pack's grid, and a part to follow."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InvalidValue
from ..sketch.song import LANES, ChunkInfo, Song, TakeRecord
from ..theory.keys import estimate_key, key_name, normalising_shift
from .runtime import MAX_STEPS


class Parts:
    """Reading parts on the pack's grid (cfg), checked and made into takes with the engine's Takes."""

    def __init__(self, cfg, pack_name: str, key_normalised: bool, takes):
        self.cfg = cfg
        self.pack_name = pack_name
        self.key_normalised = key_normalised
        self.takes = takes

    def follow_part(self, follow: str | Path | Song) -> Song:
        """The part to follow as a Song on the pack's grid, its chunks marked as the musician's ("part").

        InvalidValue for a part with no notes or longer than a sketch may be; a bad file is a MidiImportError.
        """
        if isinstance(follow, Song):
            self.takes.check(follow)
            part, name = follow.copy(), str(follow.settings.get("source") or "the part")
            part.probs = follow.notes().astype(np.float32)
            part.threshold = 0.5
        else:
            from ..sketch.midi import read_roll

            name = Path(follow).name
            roll, _ = read_roll(follow, self.cfg.steps_per_beat)
            most = (MAX_STEPS + 1) * self.cfg.chunk_steps
            if roll.shape[1] > most:
                bars = most // (4 * self.cfg.steps_per_beat)
                raise InvalidValue(
                    f"'{name}' is {roll.shape[1] // (4 * self.cfg.steps_per_beat)} bars long, more than the "
                    f"{bars} bars a sketch may hold: cut it in your DAW and follow a part of it"
                )
            part = self.song_from_midi(follow)
        if not part.notes().any():
            raise InvalidValue(f"'{name}' has no notes to follow: give a MIDI file with a part in it")
        part.chunks = [[ChunkInfo("part", None, None, self.pack_name)] * len(LANES) for _ in range(part.n_chunks)]
        return part

    def song_from_midi(self, path: str | Path) -> Song:
        """A whole MIDI file as a Song on the pack's grid (notes as certain cells), with its key and tempo."""
        from ..sketch.midi import read_roll

        roll, tempo = read_roll(path, self.cfg.steps_per_beat)
        cs = self.cfg.chunk_steps
        n = max(1, min(-(-roll.shape[1] // cs), MAX_STEPS + 1))
        probs = np.zeros((len(LANES), n * cs, 128), dtype=np.float32)
        probs[:, : min(roll.shape[1], n * cs)] = roll[:, : n * cs]
        key = estimate_key(roll)
        shift = -normalising_shift(key) if self.key_normalised else 0
        lineup = [LANES[i] for i in range(len(LANES)) if roll[i].any()] or list(LANES)
        settings = TakeRecord(
            pack=self.pack_name,
            source=str(Path(path).name),
            key=key_name(key) if key else "",
            transpose=shift,
            lineup=",".join(lineup),
            threshold=0.5,
            steps=n - 1,
        )
        chunks = [[ChunkInfo("primer", None, None, self.pack_name)] * len(LANES) for _ in range(n)]
        return self.takes.song(
            probs, np.zeros((n, len(LANES), self.cfg.latent), np.float32), 0.5, float(tempo), chunks, settings, None
        )

    def read_part(self, path: str | Path) -> Song:
        """A part to follow from a .mid, checked (InvalidValue: no notes, too long) as generate(follow=) checks it."""
        return self.follow_part(path)
