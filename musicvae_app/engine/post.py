"""The post-processing stage: what every entry point of the engine runs on what its loop (or decode) made.

Two steps, in this order, each only where the take may change (`free`: bars x lanes; a primer's, a followed
part's, locked lanes' and every untouched bar's notes stay as they are):

1. groove (groove.py: fills, a bass that keeps playing, voices, restrikes on the beat, full chords, colour,
   passing notes, the bass's approach), on the probabilities in the song's key, when the take asks for it
   (`groove`: the call's setting, or the take's own for an edit);
2. the chart check (chording.fit_to_chart): every bar of a take held to chords (asked, a followed part's or the
   bank's) is heard as its chord, on the finished take.

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

import numpy as np

from ..sketch.song import Song
from .chording import fit_to_chart, rest_no_chord
from .groove import Groove


class Post:
    """The stage: `groove` on the loop's probabilities, `chart` on the finished take, `stamp` on each take."""

    def __init__(self, cfg, groove: Groove):
        self.cfg = cfg
        self.groove = groove

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
        )
        return ("groove",)

    @staticmethod
    def run_chart(song: Song, chords, free: np.ndarray, rest: bool = False) -> tuple[str, ...]:
        """The chart check in place on a finished take: chords a chord a beat; free (bars, 5), the bars and lanes
        it may change; rest: a chart the musician wrote, whose N.C. beats the pitched lanes rest (the drums play
        on); what ran."""
        if chords is None or not free.any():
            return ()
        fit_to_chart(song, chords, free)
        if rest and rest_no_chord(song, chords, free):
            return ("chart", "rest")
        return ("chart",)

    @staticmethod
    def stamp(song: Song, ran) -> None:
        """Record on the take what the stage ran (settings["post"])."""
        song.settings = song.settings.replace(post=list(ran))
