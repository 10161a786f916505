"""Groove: what a band does that a 4-bar lane VAE does not learn, played on top of the decoded take.

- Fills: at the end of a phrase (every 4th bar) the drums may play one of the pack's real fills
  (training/fills.py) in the bar's last two beats, at the rate real drummers do at 8-bar and 4-bar phrase
  ends, and the next bar opens with a crash (a crash also comes without a fill, at the real rate).
- A bass that keeps playing: a bar in which the band plays but the bass rests takes the bass's own
  nearest bar (moved to the bar's chord when the take has chords), so the bass does not drop out.
- Voices: a lane plays at most VOICES notes at once (the bass one).
- Locked to the drums: a bass note held over a kick is struck again on it; a piano or guitar chord
  held over a kick or a snare is struck again there; and nothing pitched is held over a bar line
  unbroken. The VAEs' blur holds notes for bars where real players restrike (bar-long notes were a
  third of ours against a twentieth of real songs').

Only generated chunks change: a primer's, a followed part's and locked lanes' notes stay as they are.
"""

from __future__ import annotations

import numpy as np

from ..lanes import DRUMS, LANES

KICKS = (35, 36)
SNARES = (38, 40)
CRASH = 49
BASS, PIANO, GUITAR = LANES.index("bass"), LANES.index("piano"), LANES.index("guitar")
PHRASE = 4  # bars; phrase ends are the last bar of every chunk of a 4-bar pack
VOICES = {PIANO: 4, GUITAR: 4, BASS: 1, LANES.index("strings"): 4}  # at most this many notes at once
MIN_HELD = 2  # a held note is struck again only after it has sounded this many steps
BAND_PLAYS = 2  # other lanes sounding in a bar for a resting bass to come in


class Groove:
    """Fills, a bass that plays and restrikes on the beat; a part of Engine (it reads cfg and defaults)."""

    def _groove(self, probs, threshold: float, lineup, seed: int, protect=None, chords=None, first_bar: int = 0):
        """In place on probs (5, B, steps, 128) in the song's key.

        protect: (chunks, 5) bool, chunks not to touch (a primer's, a part's, locked lanes'); chords: the
        take's chords per bar (Chord or None, in the song's key) or None; first_bar: the bar probs starts at
        in the song (phrases count from the song's bar 1).
        """
        spb = 4 * self.cfg.steps_per_beat
        cs = self.cfg.chunk_steps
        lanes, batch, steps = probs.shape[:3]
        n_bars = steps // spb
        free = np.ones((n_bars, lanes), dtype=bool)
        if protect is not None:
            free = np.repeat(protect, cs // spb, axis=0)[:n_bars] == 0
        rng = np.random.default_rng([int(seed), 20])
        floor = self._sounding_floor(threshold)
        for b in range(batch):
            take = probs[:, b]
            if DRUMS in lineup:
                self._fills(take, free, rng, first_bar, spb)
            if BASS in lineup:
                self._keep_bass(take, free, threshold, chords, spb)
            self._restrike(take, free, floor, spb, lineup)
            self._voices(take, free, floor, spb, doublings_first=chords is not None)

    def _sounding_floor(self, threshold: float) -> np.ndarray:
        """Per lane, the lowest probability the take's decoding lets sound: threshold x the lower of the
        lane's fill and sustain (Song.notes)."""
        g = self.defaults
        per_lane = [
            np.broadcast_to(np.asarray(g[name], dtype=np.float64), (len(LANES),)) for name in ("fill", "sustain")
        ]
        return threshold * np.minimum(*per_lane)

    def _fills(self, take, free, rng, first_bar: int, spb: int) -> None:
        g = self.pack.card.get("generation") or {}
        fills, rate, crash_rate = g.get("fills"), g.get("fill_rate"), g.get("crash_rate", 0.0)
        if not fills or not rate:
            return
        window = 2 * self.cfg.steps_per_beat
        n_bars = free.shape[0]
        for bar in range(n_bars - 1):
            song_bar = first_bar + bar
            if song_bar % PHRASE != PHRASE - 1 or not free[bar, DRUMS]:
                continue
            p = rate[0] if song_bar % (2 * PHRASE) == 2 * PHRASE - 1 else rate[1]
            filled = rng.random() < p
            if filled:
                fill = fills[int(rng.integers(len(fills)))]
                lo = bar * spb + spb - window
                take[DRUMS, lo : lo + window] = 0.0
                for step, pitch in fill:
                    if 0 <= step < window and 0 <= pitch < 128:
                        take[DRUMS, lo + step, pitch] = 1.0
            if (filled or rng.random() < crash_rate) and free[bar + 1, DRUMS]:
                down = (bar + 1) * spb
                take[DRUMS, down, CRASH] = 1.0
                if filled:  # a fill lands on a kick with the crash
                    take[DRUMS, down, KICKS[1]] = 1.0

    @staticmethod
    def _keep_bass(take, free, threshold: float, chords, spb: int) -> None:
        """Every bar where the band plays and the bass rests takes the bass's nearest sounding bar."""
        bars = take.reshape(take.shape[0], -1, spb, 128)[:, : free.shape[0]]
        sounds = (bars >= threshold).any(axis=(2, 3))  # (lanes, bars)
        bass_bars = np.flatnonzero(sounds[BASS])
        if not len(bass_bars):
            return
        others = sounds[[i for i in range(take.shape[0]) if i != BASS]].sum(axis=0)
        for bar in np.flatnonzero(~sounds[BASS] & (others >= BAND_PLAYS) & free[:, BASS]):
            before = bass_bars[bass_bars < bar]
            source = int(before[-1]) if len(before) else int(bass_bars[0])
            pattern = bars[BASS, source]
            shift = 0
            if chords is not None and bar < len(chords) and source < len(chords):
                new, old = chords[bar], chords[source]
                if new is not None and old is not None:
                    shift = (new.lowest - old.lowest + 6) % 12 - 6  # to the nearer octave
            moved = np.zeros_like(pattern)
            if shift >= 0:
                moved[:, shift:] = pattern[:, : 128 - shift]
            else:
                moved[:, :shift] = pattern[:, -shift:]
            bars[BASS, bar] = moved

    @staticmethod
    def _voices(take, free, floor: np.ndarray, spb: int, doublings_first: bool = False) -> None:
        """At most VOICES[lane] notes at once: at each step a lane keeps its likeliest sounding cells (the bass
        one, a keyboard or a guitar four: real parts average three). A chord mapped onto every octave of its
        tones, or a pad the fill setting opens up, was a wall of ten notes. doublings_first (a take held to
        chords): an octave doubling of a pitch class the lane already plays lower goes first, so a chord's
        third and 7th (and a passing note) stay where its root and fifth were doubled. Without chords the
        plain likeliest-first cap stays (doublings first there cost the default pack two music goals on the
        validation songs: strings QN and piano-bass TD)."""
        steps = free.shape[0] * spb
        for lane, most in VOICES.items():
            cells = take[lane, :steps]
            lane_free = np.repeat(free[:, lane], spb)
            sounding = cells >= floor[lane]
            crowded = (sounding.sum(axis=1) > most) & lane_free
            if not crowded.any():
                continue
            rows = cells[crowded]
            rank = rows
            if doublings_first:  # a doubling ranks below every other cell, sounding or not
                rank = rows.copy()
                rank.reshape(-1)[_doubled_cells(sounding[crowded])] = -1.0
            # a step's `most` best are never doublings (at least 12 cells a step are none), so the kth rank is
            # a probability (>= 0) and every doubling goes
            kth = rank.max(axis=1) if most == 1 else np.partition(rank, -most, axis=1)[:, -most]
            cells[crowded] = rows * (rank >= kth[:, None])

    @staticmethod
    def _restrike(take, free, floor: np.ndarray, spb: int, lineup) -> None:
        """A held note struck again on the drums' beat (bass: kicks; piano, guitar: kicks and snares) and at
        every bar line, by a one-step gap before it. A cell counts as sounding from the lane's floor
        (`_sounding_floor`)."""
        steps = free.shape[0] * spb
        drums = take[DRUMS, :steps] >= floor[DRUMS]
        kick = drums[:, list(KICKS)].any(axis=1)
        snare = drums[:, list(SNARES)].any(axis=1)
        bar_lines = np.zeros(steps, dtype=bool)
        bar_lines[::spb] = True
        on_beat = {BASS: _onsets(kick), PIANO: _onsets(kick) | _onsets(snare), GUITAR: _onsets(kick) | _onsets(snare)}
        for lane in (i for i in range(len(LANES)) if i != DRUMS and i in lineup):
            strikes = on_beat.get(lane, np.zeros(steps, dtype=bool)) | bar_lines
            lane_free = np.repeat(free[:, lane], spb)
            on = take[lane, :steps] >= floor[lane]
            held = on.copy()
            for k in range(1, MIN_HELD):  # sounding for at least MIN_HELD steps up to t - 1
                held[k:] &= on[:-k]
                held[:k] = False
            where = np.flatnonzero(strikes[1:] & lane_free[1:] & lane_free[:-1]) + 1  # steps t with a strike
            gaps = take[lane, where - 1]  # the steps before them, all at once (each step is one strike's)
            gaps[held[where - 1] & on[where]] = 0.0
            take[lane, where - 1] = gaps


def _doubled_cells(sounding: np.ndarray) -> np.ndarray:
    """The octave doublings of (steps, 128) bool `sounding` as flat positions: every sounding cell whose pitch
    class already sounds an octave or more lower at its step. Sparse: only the sounding cells are read."""
    cell = np.flatnonzero(sounding)  # by step, then pitch
    key = (cell // sounding.shape[1]) * 12 + cell % sounding.shape[1] % 12
    lowest = np.zeros(len(cell), dtype=bool)
    lowest[np.unique(key, return_index=True)[1]] = True  # the first, lowest, of each step's pitch class
    return cell[~lowest]


def _onsets(hit: np.ndarray) -> np.ndarray:
    """Steps where a hit starts (it did not sound the step before)."""
    return hit & ~np.concatenate([[False], hit[:-1]])
