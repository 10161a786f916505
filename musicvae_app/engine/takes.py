"""Takes as the engine makes and reads them: a new Song on the pack's grid, the checks on a song an edit goes on
from, and its latents in this pack's space."""

from __future__ import annotations

import numpy as np

from ..errors import InvalidValue
from ..limits import check_transpose
from ..sketch.song import DEFAULT_PROGRAMS, LANES, ChunkInfo, Song
from ..theory.keys import transpose_roll


class Takes:
    """Songs on the pack's grid (cfg) made by pack `pack_name`; latents encoded with the engine's Decoder."""

    def __init__(self, cfg, pack_name: str, decoder):
        self.cfg = cfg
        self.pack_name = pack_name
        self.decoder = decoder

    def check(self, song: Song) -> None:
        """InvalidValue when the song is on another grid than the pack's, or its transpose is out of range."""
        if (song.steps_per_beat, song.chunk_steps) != (self.cfg.steps_per_beat, self.cfg.chunk_steps):
            raise InvalidValue(
                f"this song is on a {song.steps_per_beat}-steps-per-beat, {song.chunk_steps}-step grid but pack "
                f"'{self.pack_name}' works on {self.cfg.steps_per_beat} / {self.cfg.chunk_steps}: "
                "load the pack that made it"
            )
        check_transpose(song.settings.get("transpose", 0))  # every edit moves the notes by it

    def fits_latents(self, song: Song) -> bool:
        """True when the take carries one latent per chunk and lane of this pack's size."""
        return song.latents is not None and song.latents.shape == (song.n_chunks, len(LANES), self.cfg.latent)

    def latents_problem(self, song: Song) -> str:
        """Why the take's latents are not this pack's (for a message): none kept, or another pack's size."""
        if song.latents is None:
            return "this take keeps no latents (it was saved without them)"
        made = song.settings.get("pack") or next((c.pack for row in song.chunks for c in row if c.pack), None)
        by = f"model pack '{made}'" if made and made != self.pack_name else "another model pack"
        return (
            f"this take was made with {by}: its latents hold {song.latents.shape[-1]} numbers a lane, "
            f"pack '{self.pack_name}' uses {self.cfg.latent}"
        )

    def encode_notes(self, song: Song) -> np.ndarray:
        """The take's notes encoded by this pack, chunk by chunk in the pack's key space: (chunks, 5, K)."""
        shift_out = int(song.settings.get("transpose", 0))
        notes = transpose_roll(song.notes(), -shift_out)
        rolls = notes.reshape(len(LANES), song.n_chunks, self.cfg.chunk_steps, 128).astype(np.float32)
        return self.decoder.encode(rolls).permute(1, 0, 2).cpu().numpy()

    def editable(self, song: Song) -> Song:
        """The take an edit goes on from: as it is when it records every chunk and carries this pack's latents.

        A take that records no chunks gets rows of 'unknown' provenance (as the sketch reader gives one);
        one whose latents are missing or another pack's gets its notes encoded by this pack (each chunk in
        the pack's key space), as a locked lane's are: the notes are what an edit goes on from, and the
        latents kept beside them must be this pack's. A chunk record per chunk that does not add up is
        InvalidValue."""
        if song.chunks and (len(song.chunks) != song.n_chunks or any(len(row) != len(LANES) for row in song.chunks)):
            raise InvalidValue(
                f"this take records how {len(song.chunks)} chunks were made but holds {song.n_chunks} "
                f"(each of {len(LANES)} lanes): the take is damaged and cannot be edited"
            )
        if song.chunks and self.fits_latents(song):
            return song
        out = song.copy()
        if not song.chunks:
            out.chunks = [[ChunkInfo("unknown")] * len(LANES) for _ in range(song.n_chunks)]
        if not self.fits_latents(song):
            out.latents = self.encode_notes(song)
        return out

    def need_latents(self, song: Song, what: str) -> None:
        """InvalidValue, saying what the user can do, when `what` must decode the take's own latents and they
        are missing or another pack's."""
        if not self.fits_latents(song):
            raise InvalidValue(
                f"{self.latents_problem(song)}, so {what} cannot decode them. Load the pack that made the "
                "sketch to do this, or Regenerate a lane (or bars) first: this pack then reads the notes and "
                "keeps its own latents."
            )

    def song(self, probs, latents, threshold, tempo, chunks, settings, keep) -> Song:
        """A new take on the pack's grid; the programs are `keep`'s when given."""
        return Song(
            probs=probs,
            steps_per_beat=self.cfg.steps_per_beat,
            chunk_steps=self.cfg.chunk_steps,
            threshold=threshold,
            tempo=float(tempo),
            programs=list(keep.programs if keep is not None else DEFAULT_PROGRAMS),
            latents=latents,
            chunks=chunks,
            settings=settings,
        )
