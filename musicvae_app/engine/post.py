"""The post-processing stage: what every entry point of the engine runs on what its loop (or decode) made.

Three steps, in this order, each only where the take may change (`free`: bars x lanes; a primer's, a followed
part's, locked lanes' and every untouched bar's notes stay as they are):

1. groove (groove.py: fills, a bass that keeps playing, voices, restrikes on the beat, full chords, colour,
   passing notes, the bass's approach), on the probabilities in the song's key, when the take asks for it
   (`groove`: the call's setting, or the take's own for an edit);
1b. ghost notes (ghosts.py): the snare cells the model half-hears between the backbeats, at the pack's measured
   floor (`ghost`, from its dynamics.json; none without one), with the groove (part of the rule layer: off with
   it), last on the probabilities (in generate, after a form's energy, the returns and the roles);
2. the chart check (chording.fit_to_chart): every bar (or half bar, or beat, as finely as the chart changes) of a
   take held to chords (asked, a followed part's or the bank's) is heard as its chord, on the finished take;
   under a followed part (the chords the harmony model heard in it) the bass also plays each chord's bass note
   where it starts (`bass_on_beat_one`); in a chart the musician wrote, N.C. beats rest the pitched lanes
   (`chording.rest_no_chord`).

What each entry point hands the stage:
- generate (and sections, follow): the whole take; every lane not given (primer, part, locked) is free.
- regenerate_lane: the new lane, all bars (its primer chunk stays).
- continue_song: the new chunks (the chunk they follow is context only).
- infill: the new bars of the chosen lanes (the chunks around them are context only).
- morph: the whole passage, with take A's groove setting; it has no chords, so no chart check.
- set_chord / set_chords: the re-voiced bars of the lanes re-decoded there (never the drums, the musician's
  parts or lanes silent in that chunk).
Every take the stage sees records what ran (`settings["post"]`: the steps, in order; [] when none applied).
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from ..lanes import BEATS_PER_BAR, LANES
from ..sketch.song import Song
from . import ghosts
from .chording import chord_map, fit_to_chart, rest_no_chord
from .groove import Groove

BASS = LANES.index("bass")


def bass_on_beat_one(song: Song, chords, free: np.ndarray) -> bool:
    """In place on song.probs: on every bar's first beat and every beat where the chord changes (chords: a chord a
    beat, chording.read_chords), where the chord is known, the bass is free and plays in that beat, the bass's
    notes of that beat move to the chord's bass note (root or slash bass, nearest octave), as a bassist lands on
    the root of each chord of a chart (`| C Am |`: beats 1 and 3). Returns whether a note moved."""
    beat = song.steps_per_beat
    on = song.notes()[BASS]
    moved = False
    chords = list(chords)[: min(song.n_bars, free.shape[0]) * BEATS_PER_BAR]
    for i, chord in enumerate(chords):
        if chord is None or (i % BEATS_PER_BAR and chord == chords[i - 1]) or not free[i // BEATS_PER_BAR, BASS]:
            continue
        lo = i * beat
        first = on[lo : lo + beat]
        if not first.any():
            continue
        step = int(np.flatnonzero(first.any(axis=1))[0])
        if int(np.flatnonzero(first[step])[0]) % 12 == chord.lowest:
            continue
        cells = song.probs[BASS, lo : lo + beat]
        out = np.zeros_like(cells)
        np.maximum.at(out.T, chord_map(chord, root=True), cells.T)
        cells[:] = out
        moved = True
    return moved


class Post:
    """The stage: `groove` on the loop's probabilities, `chart` on the finished take, `stamp` on each take."""

    def __init__(
        self,
        cfg,
        groove: Groove,
        ghost: tuple[float, float] | None = None,
        energy: dict | None = None,
        ghost_primer: tuple[float, float] | None = None,
    ):
        self.cfg = cfg
        self.groove = groove
        self.ghost = ghost  # ghosts.floor(...) of the pack (None: no ghost notes)
        self.ghost_primer = ghost_primer  # ghosts.floor(..., primed=True): continuations of a primer (None: ghost)
        self.energy = energy  # energy.table(...) of the pack (None: the default pack's)

    def run_groove(
        self,
        probs: np.ndarray,
        on: bool,
        threshold: float,
        lineup,
        seed: int,
        protect=None,
        chords=None,
        first_bar: int = 0,
        fill_bars=(),
        scale=None,
        free=None,
        style=None,
    ) -> tuple[str, ...]:
        """Groove.apply in place on probs (5, B, steps, 128) in the song's key when `on`; what ran.
        protect: (chunks, 5) bool, chunks the stage leaves as they are; or free: (bars, 5), what it may change."""
        if not on or (free is not None and not np.asarray(free).any()):
            return ()
        self.groove.apply(
            probs,
            threshold,
            lineup,
            seed,
            protect,
            chords,
            first_bar=first_bar,
            fill_bars=fill_bars,
            scale=scale,
            free=free,
            style=style,
        )
        return ("groove",)

    def run_ghosts(
        self, probs: np.ndarray, on: bool, free: np.ndarray, threshold: float, primed: bool = False
    ) -> tuple[str, ...]:
        """Ghost notes (ghosts.lift) in place on probs (5, B, steps, 128) in the free drum bars (free: bars x 5)
        when the groove is `on` (primed: a continuation of a primer, at its own floor); what ran (nothing where no
        note was lifted)."""
        if not on:
            return ()
        bar = self.cfg.chunk_steps // self.cfg.bars
        ghost = self.ghost_primer if primed and self.ghost_primer is not None else self.ghost
        return ("ghosts",) if ghosts.lift(probs, free, threshold, bar, ghost) else ()

    @contextmanager
    def no_ghosts(self):
        """No ghost notes (neither floor) inside the block, as the floors are measured; the floors back after."""
        was = self.ghost, self.ghost_primer
        self.ghost = self.ghost_primer = None
        try:
            yield
        finally:
            self.ghost, self.ghost_primer = was

    def free_bars(self, protect: np.ndarray) -> np.ndarray:
        """(bars, 5) the bars a stage may change, from (chunks, 5) `protect` (chunks kept as they are)."""
        return np.repeat(~np.asarray(protect, dtype=bool), self.cfg.bars, axis=0)

    @staticmethod
    def run_chart(
        song: Song, chords, free: np.ndarray, rest: bool = False, bass_roots: bool = False
    ) -> tuple[str, ...]:
        """The chart check in place on a finished take: chords a chord a beat; free (bars, 5), the bars and lanes
        it may change; rest: a chart the musician wrote, whose N.C. beats the pitched lanes rest (the drums play
        on); bass_roots: the bass also lands on each chord's bass note where the chord starts (a followed part's
        chords); what ran."""
        if chords is None or not free.any():
            return ()
        fit_to_chart(song, chords, free)
        if bass_roots:
            bass_on_beat_one(song, chords, free)
        if rest and rest_no_chord(song, chords, free):
            return ("chart", "rest")
        return ("chart",)

    @staticmethod
    def stamp(song: Song, ran) -> None:
        """Record on the take what the stage ran (settings["post"])."""
        song.settings = song.settings.replace(post=list(ran))
