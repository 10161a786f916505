"""The harmony model at the engine: a part's key and chord charts (Engine.harmonize), and a followed part's chords.

The model itself (theory/harmony.py, weights in resources/models/harmony) reads note events in beats; here a
part (a MIDI file or a Song) becomes those events, drums left out, and the model's charts come back in the one
chart syntax (`| C Am | F | G |`: two symbols in a bar are its two halves). The model is loaded on first use.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np

from ..errors import InvalidValue
from ..sketch.midi import lane_notes
from ..sketch.song import BEATS_PER_BAR, DRUMS, LANES, Song
from ..theory.chords import Chord, flat_beats, parse_bars

ALTERNATIVES = 3  # charts a harmonize gives unless asked otherwise; as many as the chord lane offers (choices.READINGS)


class Harmonizer:
    """Key and chords of a part, from the learned harmony model (one per engine, loaded when first asked).

    A harmony is a pure function of the part's notes, so the last few are kept: a followed Generate reads the part
    once for the band's chords and again for the chord lane's readings (sketch/choices.py), one run of the nets."""

    KEPT = 8  # harmonies kept (the last asked kept longest)

    def __init__(self, parts):
        self.parts = parts
        self._model = None
        self._kept: dict[tuple, object] = {}  # (the part's note events, bars, alternatives) -> its Harmony

    @property
    def model(self):
        if self._model is None:
            from ..theory.harmony import HarmonyModel

            self._model = HarmonyModel.load()
        return self._model

    def part_song(self, part: str | Path | Song) -> Song:
        """The part as a Song on the pack's grid (a MIDI file is read and checked as a part to follow)."""
        return part if isinstance(part, Song) else self.parts.read_part(part)

    @staticmethod
    def note_events(song: Song) -> np.ndarray:
        """The part's pitched notes as (pitch, start beat, end beat, velocity) rows; InvalidValue for drums only."""
        rows = []
        for lane in range(len(LANES)):
            if lane == DRUMS:
                continue
            rows += [(p, s, e, v) for p, s, e, v in lane_notes(song, lane)]
        if not rows:
            what = "only drums" if lane_notes(song, DRUMS) else "no notes"
            raise InvalidValue(
                f"the part has {what}: there is no harmony to hear; give a melody, a riff, a bass line or a comp part"
            )
        events = np.asarray(rows, dtype=np.float64)
        events[:, 1:3] /= song.steps_per_beat
        return events

    def harmonize(self, part: str | Path | Song, alternatives: int = ALTERNATIVES):
        """The model's Harmony of the part: key, charts best first, the best chart's chords per bar."""
        song = self.part_song(part)
        events = self.note_events(song)
        key = (events.tobytes(), events.shape, song.n_bars, alternatives)
        found = self._kept.pop(key, None)
        if found is None:
            found = self.model.harmonize(
                events, beats_per_bar=BEATS_PER_BAR, alternatives=alternatives, bars=song.n_bars
            )
        self._kept[key] = found  # the last asked last out
        while len(self._kept) > self.KEPT:
            self._kept.pop(next(iter(self._kept)))
        return copy.deepcopy(found)

    def follow_chords(self, part: Song, n_bars: int) -> list[Chord | None]:
        """A followed part's chords for the engine, a chord a beat over n_bars bars: the best chart at its full
        resolution (up to two chords a bar, as the model hears them); bars past the chart have no chord."""
        try:  # as many as the chord lane asks for (its readings come after a Generate, answered from what is kept);
            # the best chart is the same however many are asked (harmony.decode: the MBR path, first on every tie)
            chart = self.harmonize(part).charts[0]
        except InvalidValue:
            return [None] * (n_bars * BEATS_PER_BAR)
        bars = parse_bars(chart)
        return flat_beats([bars[i] if i < len(bars) else (None,) * BEATS_PER_BAR for i in range(n_bars)])
