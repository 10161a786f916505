"""Groove: what a band does that a 4-bar lane VAE does not learn, played on top of the decoded take.

- Fills: at the end of a phrase (every 4th bar) the drums may play one of the pack's real fills
  (training/fills.py) in the bar's last two beats, at the rate real drummers do at 8-bar and 4-bar phrase
  ends, and the next bar opens with a crash (a crash also comes without a fill, at the real rate); a bar
  inside a phrase may end in a fill too (card `fill_other`), with no crash after it.
- A bass that keeps playing: a bar in which the band plays but the bass rests takes the bass's own
  nearest bar (moved to the bar's chord when the take has chords), so the bass does not drop out.
- Voices: a lane plays at most VOICES notes at once (the bass one).
- Full chords, passing notes, a bass approach (card `voicing`, `passing`, `passing_leaps`, `approach`,
  `approach_eighths`): a doubled note moves to the chord's missing tone, the top voice walks a leap through
  the scale tone between (a wider leap: it steps into the far note), the bass steps into the next bar's note
  on the bar's last 16th or 8th.
- Thin bars (card `voicing_add`): a bar of one or two pitch classes gets the chord's missing tones as voices.
- Colour (card `suspend`, `boogie`, `color`): a guitar's third is a suspended fourth for the bar's first half
  and resolves on beat 3; a power chord's fifth steps to the sixth on beats 2 and 4; a doubled note goes to
  the chord's seventh or ninth in the key (measured, and off in the shipped card: it cost two tonal-distance
  goals for +0.2 pitch classes a bar).
- Locked to the drums: a bass note or a piano chord held over a kick is struck again on it; a guitar
  chord held over a kick or a snare is struck again there; and nothing pitched is held over a bar line
  unbroken. The VAEs' blur holds notes for bars where real players restrike (bar-long notes were a
  third of ours against a twentieth of real songs').

Only generated chunks change: a primer's, a followed part's and locked lanes' notes stay as they are.
"""

from __future__ import annotations

import numpy as np

from ..lanes import DRUMS, LANES
from ..sketch.spec import GrooveSettings
from ..theory.chords import downbeats, recognize, resolution, slot_chords
from . import cells as bar_cells
from . import ties
from .styles import play_kit

KICKS = (35, 36)
SNARES = (38, 40)
CRASH = 49
BASS, PIANO, GUITAR = LANES.index("bass"), LANES.index("piano"), LANES.index("guitar")
STRINGS = LANES.index("strings")
PHRASE = 4  # bars; phrase ends are the last bar of every chunk of a 4-bar pack
VOICES = {PIANO: 4, GUITAR: 4, BASS: 1, STRINGS: 4}  # at most this many notes at once
# a held note is struck again only after it has sounded this many steps (so no 16th is left before the gap)
MIN_HELD = 3
BAND_PLAYS = 2  # other lanes sounding in a bar for a resting bass to come in
APPROACH_STEPS = 1  # the bass's approach note: the bar's last 16th
TACET_BARS = 2  # a bass rest this long or shorter is a dropout to fill; a longer one is the bass laying out


class Groove:
    """Fills, a bass that plays and restrikes on the beat, full chords, passing notes: the rules, each a method
    with the card's parameters (`generation` block, typed: GrooveSettings, sketch/spec.py) read from `settings`.
    The post stage (post.py) runs `apply`."""

    def __init__(self, cfg, settings: GrooveSettings, fill, sustain, restrike=None):
        """settings: the card's groove parameters; fill, sustain, restrike: the take's per-lane decoding
        (Song.notes; restrike None: off)."""
        self.cfg = cfg
        self.settings = settings
        self.fill = fill
        self.sustain = sustain
        self.restrike_depth = restrike

    def apply(
        self,
        probs,
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
    ):
        """In place on probs (5, B, steps, 128) in the song's key.

        protect: (chunks, 5) bool, chunks not to touch (a primer's, a part's, locked lanes'); chords: the
        take's chords, a chord a beat (Chord or None, in the song's key), or None: full chords are voiced per
        piece of a bar as finely as the chart changes (a bar, a half bar, a beat), a resting bass's bar moves to
        the bar's first chord; first_bar: the bar probs starts at
        in the song (phrases count from the song's bar 1); fill_bars: bars of probs that always fill (the bar
        before a new section); scale: under scale lock, the key's scale (bool, 12, the song's pitches): the
        notes the groove adds (a chord's missing tone, passing notes, the bass's approach) stay in it; free:
        (bars, 5) bool, the bars and lanes it may change, in place of protect (an edit of some bars); style: the
        take's Style (engine/styles.py) or None: its drums play a kit, its own fills at its own rates.
        """
        spb = 4 * self.cfg.steps_per_beat
        cs = self.cfg.chunk_steps
        lanes, batch, steps = probs.shape[:3]
        n_bars = steps // spb
        given, free = free, np.ones((n_bars, lanes), dtype=bool)
        if given is not None:
            free = np.asarray(given, dtype=bool)[:n_bars]
        elif protect is not None:
            free = np.repeat(protect, cs // spb, axis=0)[:n_bars] == 0
        rng = np.random.default_rng([int(seed), 20])  # the drums' fills: the same whatever the pitched lanes do
        notes = np.random.default_rng([int(seed), 21])  # passing notes and the bass's approach
        colors = np.random.default_rng([int(seed), 22])  # sevenths, ninths and suspensions
        strikes = np.random.default_rng([int(seed), 23])  # which drum hits a held note is struck again on
        held = np.random.default_rng([int(seed), 24])  # which gaps in a held note stay (ties.py)
        floor = self.sounding_floor(threshold)
        per, pieces, per_bar = 1, None, None
        if chords is not None:  # a chord a beat -> each bar's first chord, and the chords of each piece of a bar
            per = resolution(chords)
            pieces, per_bar = slot_chords(chords, per), downbeats(chords)
        for b in range(batch):
            take = probs[:, b]
            if DRUMS in lineup:
                if style is not None:
                    play_kit(take, style, free, threshold, spb)
                self.fills(take, free, rng, first_bar, spb, set(fill_bars), style)
            if BASS in lineup:
                self.keep_bass(take, free, threshold, per_bar, spb)
            # the learned share where chords steer the band; without chords every hit, as the calibration chose
            rates = (self.beat_rates(), self.bar_rates()) if chords is not None else (None, None)
            if chords is not None and self.settings.held_restrike is not None:  # pads held as real ones (ties.py)
                inner = np.broadcast_to(np.asarray(self.settings.held_restrike, float), (len(LANES),))
                ties.tie(take, free, threshold, spb, lineup, self.decodings(), inner, rates[1], held)
            self.restrike(take, free, floor, spb, lineup, *rates, strikes)
            self.voices(take, free, floor, spb, doublings_first=chords is not None)
            heard = pieces
            if heard is None and self.hears_chords():  # the chord each bar is heard as, once for both rules
                heard = recognize(take[:, : n_bars * spb] >= floor[:, None, None], spb)
            own = bar_cells.scale_of(take[:, : n_bars * spb], floor, scale, None)  # once a take
            self.voicing(take, np.repeat(free, per, axis=0), floor, spb // per, lineup, heard, scale, colors, own)
            if chords is None:  # asked chords are played as asked: no sus4 or colour tone over them
                self.color(take, free, floor, spb, lineup, heard, scale, colors, own)
            self.passing(take, free, floor, threshold, notes, spb, lineup, scale, own)
            if BASS in lineup:
                self.approach(take, free, floor, threshold, notes, spb, scale, own)

    def hears_chords(self) -> bool:
        """Whether a card key asks for the chord each bar is heard as (voicing, colour, suspensions, sixths)."""
        g = self.settings
        colours = (bar_cells.lane_rates(rates) is not None for rates in (g.color, g.suspend, g.boogie))
        return bool(g.voicing) or any(colours)

    def sounding_floor(self, threshold: float) -> np.ndarray:
        """Per lane, the lowest probability the take's decoding lets sound: threshold x the lower of the
        lane's fill and sustain (Song.notes)."""
        per_lane = [np.broadcast_to(np.asarray(v, dtype=np.float64), (len(LANES),)) for v in (self.fill, self.sustain)]
        return threshold * np.minimum(*per_lane)

    def fills(self, take, free, rng, first_bar: int, spb: int, always=frozenset(), style=None) -> None:
        g = self.settings
        fills, rate, crash_rate = g.fills, g.fill_rate, g.crash_rate
        if style is not None and style.fills:  # the style's own fills, at its drummers' rates
            fills, rate, crash_rate = style.fills, style.fill_rate, style.crash_rate
        other = g.fill_other  # the share of bars inside a phrase that end in a (short) fill
        if not fills or not rate:
            return
        window = 2 * self.cfg.steps_per_beat
        n_bars = free.shape[0]
        for bar in range(n_bars - 1):
            song_bar = first_bar + bar
            if not free[bar, DRUMS]:
                continue
            if song_bar % PHRASE != PHRASE - 1 and bar not in always:
                if other and rng.random() < other:  # a drummer's fill inside the phrase: no crash after it
                    fill = fills[int(rng.integers(len(fills)))]
                    bar_cells.play_fill(take, fill, bar * spb + spb - window, window)
                continue
            p = rate[0] if song_bar % (2 * PHRASE) == 2 * PHRASE - 1 else rate[1]
            filled = bar in always or rng.random() < p
            if filled:
                fill = fills[int(rng.integers(len(fills)))]
                bar_cells.play_fill(take, fill, bar * spb + spb - window, window)
            if (filled or rng.random() < crash_rate) and free[bar + 1, DRUMS]:
                down = (bar + 1) * spb
                take[DRUMS, down, CRASH] = 1.0
                if filled:  # a fill lands on a kick with the crash
                    take[DRUMS, down, KICKS[1]] = 1.0

    @staticmethod
    def keep_bass(take, free, threshold: float, chords, spb: int) -> None:
        """Every bar where the band plays and the bass rests takes the bass's nearest sounding bar."""
        bars = take.reshape(take.shape[0], -1, spb, 128)[:, : free.shape[0]]
        sounds = (bars >= threshold).any(axis=(2, 3))  # (lanes, bars)
        bass_bars = np.flatnonzero(sounds[BASS])
        if not len(bass_bars):
            return
        others = sounds[[i for i in range(take.shape[0]) if i != BASS]].sum(axis=0)
        rests = ~sounds[BASS]
        run = np.zeros(len(rests), dtype=int)  # the length of the rest each bar is part of
        starts = np.flatnonzero(np.diff(np.concatenate([[0], rests.astype(int)])) == 1)
        for start in starts:
            end = start + int(np.argmin(rests[start:])) if not rests[start:].all() else len(rests)
            run[start:end] = end - start
        for bar in np.flatnonzero(rests & (run <= TACET_BARS) & (others >= BAND_PLAYS) & free[:, BASS]):
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
    def voices(take, free, floor: np.ndarray, spb: int, doublings_first: bool = False) -> None:
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
                rank.reshape(-1)[bar_cells.doubled_cells(sounding[crowded])] = -1.0
            # a step's `most` best are never doublings (at least 12 cells a step are none), so the kth rank is
            # a probability (>= 0) and every doubling goes
            kth = rank.max(axis=1) if most == 1 else np.partition(rank, -most, axis=1)[:, -most]
            cells[crowded] = rows * (rank >= kth[:, None])

    def beat_rates(self) -> np.ndarray:
        """Per lane, the share of the drum hits a held note is struck again on (card `beat_restrike`; unset: all)."""
        rates = self.settings.beat_restrike
        return np.ones(len(LANES)) if rates is None else np.broadcast_to(np.asarray(rates, float), (len(LANES),))

    def decodings(self) -> list[tuple[float, float, float]]:
        """Each lane's (fill, sustain, restrike depth) as Song.notes decodes the take."""
        values = (self.fill, self.sustain, self.restrike_depth)
        per_lane = [
            np.broadcast_to(np.asarray(off if v is None else v, dtype=np.float64), (len(LANES),))
            for v, off in zip(values, (1.0, 1.0, 0.0))
        ]
        return [tuple(float(v[i]) for v in per_lane) for i in range(len(LANES))]

    def bar_rates(self) -> np.ndarray | None:
        """Per lane, the share of bar lines a held note is struck again on (card `bar_restrike`; unset: None, all)."""
        rates = self.settings.bar_restrike
        return None if rates is None else np.broadcast_to(np.asarray(rates, float), (len(LANES),))

    @staticmethod
    def restrike(take, free, floor: np.ndarray, spb: int, lineup, rates=None, bar_rates=None, rng=None) -> None:
        """A held note struck again on the drums' beat (bass, piano: kicks; guitar: kicks and snares) and at
        every bar line, by a one-step gap before it. A cell counts as sounding from the lane's floor
        (`sounding_floor`). rates: per lane, the share of those drum hits it strikes on, drawn hit by hit (the
        whole chord at once); the card's `beat_restrike`, learned on training songs
        (evaluation/learn_arrangement.py): real pianos strike a note held into a kick again in 18 % of such hits,
        guitars (kick or snare) 36 %, basses 33 %; before it every hit struck (ours 94-99 %: under a chart the
        guitar played 11.1 note starts a bar against 8.6 real). Bar lines always strike. None: every hit, as
        takes without chords keep: their decoding (sustain, restrike) was calibrated with it, and at the learned
        share their notes ran long (100 validation songs: piano QN 67.4 % against 62.0 real, guitar 63.2 against
        54.8, two goals lost that were met). bar_rates: per lane, the share of bar lines struck again, drawn bar by
        bar (card `bar_restrike`, evaluation/learn_density.py: real strings strike a note held across a bar line
        again at 38 % of them, ours under a chart 94 %); None: every bar line."""
        steps = free.shape[0] * spb
        drums = take[DRUMS, :steps] >= floor[DRUMS]
        kick = drums[:, list(KICKS)].any(axis=1)
        snare = drums[:, list(SNARES)].any(axis=1)
        bar_lines = np.zeros(steps, dtype=bool)
        bar_lines[::spb] = True
        on_beat = {BASS: bar_cells.onsets(kick), PIANO: bar_cells.onsets(kick), GUITAR: bar_cells.onsets(kick | snare)}
        for lane in (i for i in range(len(LANES)) if i != DRUMS and i in lineup):
            hits = on_beat.get(lane, np.zeros(steps, dtype=bool))
            if rates is not None and rates[lane] < 1.0:
                draws = (rng or np.random.default_rng(0)).random(steps)
                hits = hits & (draws < rates[lane])
            lines = bar_lines
            if bar_rates is not None and bar_rates[lane] < 1.0:
                lines = bar_lines & ((rng or np.random.default_rng(1)).random(steps) < bar_rates[lane])
            strikes = hits | lines
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

    def voicing(self, take, free, floor: np.ndarray, spb: int, lineup, chords, lock=None, rng=None, own=None) -> None:
        """Full chords: in a bar where piano, guitar or strings double a pitch class (root and fifth in every
        octave: the VAEs' blur) and leave out a tone of the bar's chord (the take's chords, else the chord the
        band's bar is heard as), a doubled note above the lane's lowest moves to the nearest missing tone,
        third first, in its own rhythm (`generation.voicing`: on or off per lane). A thin bar, one or two pitch
        classes (an octave, a lone held note: a fifth of our bars against a twentieth of real parts'), gets the
        chord's missing tones as voices of their own, at the card's rate per lane (`generation.voicing_add`)."""
        g = self.settings
        lanes, thin = g.voicing, bar_cells.lane_rates(g.voicing_add)
        if not lanes:
            return
        n_bars = free.shape[0]
        if chords is None:
            sounding = take[:, : n_bars * spb] >= floor[:, None, None]
            chords = recognize(sounding, spb)
        scale = None
        if thin is not None:
            scale = bar_cells.scale_of(take[:, : n_bars * spb], floor, lock, own)
        played = [i for i in (PIANO, GUITAR, STRINGS) if lanes[i] and i in lineup]
        # each lane's notes per pitch class and bar, at once: most bars need nothing, and are skipped
        sounding = {i: take[i, : n_bars * spb] >= floor[i] for i in played}
        per_class = {i: bar_cells.class_counts(sounding[i], n_bars).tolist() for i in played}
        for bar, chord in enumerate(chords[:n_bars]):
            if chord is None:
                continue
            wanted = [t for t in bar_cells.tone_order(chord) if lock is None or lock[t]]
            third = bar_cells.key_third(chord, scale) if scale is not None and chord.quality == "5" else None
            for lane in played:
                if not free[bar, lane]:
                    continue
                # with voicing_add, keys and strings play a power chord as the key's triad; a guitar keeps it
                tones = [third, *wanted] if third is not None and lane != GUITAR else wanted
                counts = per_class[lane][bar]
                if not any(counts) or all(counts[t] for t in tones):
                    continue  # silent, or every tone there
                cells = take[lane, bar * spb : (bar + 1) * spb]
                on = sounding[lane][bar * spb : (bar + 1) * spb]  # a view: kept up to date below
                if max(counts) >= 2 and bar_cells.complete(cells, on, tones):
                    on[:] = cells >= floor[lane]
                    counts = bar_cells.class_counts(on, 1)[0].tolist()
                if thin is None or sum(c > 0 for c in counts) > 2 or thin[lane] <= 0 or rng is None:
                    continue
                if rng.random() < thin[lane]:
                    bar_cells.thicken(cells, on, tones, VOICES[lane])

    def color(self, take, free, floor: np.ndarray, spb: int, lineup, chords, lock, rng, own=None) -> None:
        """Colour tones, as pop and rock players voice chords: in a bar of piano, guitar or strings, at the card's
        rate per lane (`generation.color`), a doubled note above the lane's lowest moves to the chord's seventh
        or ninth (the one in the key: maj7 on I and IV, 7 on V, m7 on ii, iii and vi; add9 where the 9th is in
        the key) for the whole bar; or (`generation.suspend`) the chord's third is a suspended fourth (or second)
        for the bar's first half and resolves to the third on beat 3; and (`generation.boogie`) a power chord's
        fifth steps to the sixth on beats 2 and 4. The VAEs hold the three tones of the chord through the bar
        where players colour it: real parts use 3.8-4 pitch classes a bar, ours 2.8-3."""
        g = self.settings
        rates, suspend = bar_cells.lane_rates(g.color), bar_cells.lane_rates(g.suspend)
        boogie = bar_cells.lane_rates(g.boogie)
        if rates is None and suspend is None and boogie is None:
            return
        n_bars = free.shape[0]
        scale = bar_cells.scale_of(take[:, : n_bars * spb], floor, lock, own)
        if chords is None:
            chords = recognize(take[:, : n_bars * spb] >= floor[:, None, None], spb)
        half = spb // 2
        beat = self.cfg.steps_per_beat
        for bar, chord in enumerate(chords[:n_bars]):
            if chord is not None and boogie is not None:  # a power chord's fifth steps to the sixth on 2 and 4
                draw = rng.random()
                for lane in (PIANO, GUITAR, STRINGS):
                    if lane in lineup and free[bar, lane] and draw < boogie[lane]:
                        cells = take[lane, bar * spb : (bar + 1) * spb]
                        bar_cells.boogie(cells, cells >= floor[lane], chord, scale, beat)
            if chord is None or len(chord.tones) != 3:
                continue  # sevenths, sixths and suspensions are coloured already
            tones = bar_cells.colors(chord, scale)
            # the band agrees: one colour tone a bar, and one draw for all lanes (a lane colours where the draw is
            # under its rate), so the piano's seventh is the strings' too
            tone = tones[int(rng.integers(len(tones)))] if tones else None
            sus_draw, color_draw = rng.random(), rng.random()
            for lane in (PIANO, GUITAR, STRINGS):
                if lane not in lineup or not free[bar, lane]:
                    continue
                cells = take[lane, bar * spb : (bar + 1) * spb]
                on = cells >= floor[lane]
                if suspend is not None and sus_draw < suspend[lane]:
                    if bar_cells.suspend(cells, on, chord, scale, half):
                        continue
                if tone is not None and rates is not None and color_draw < rates[lane]:
                    if not bar_cells.complete(cells, on, [tone]):
                        bar_cells.add_tone(cells, on, tone, VOICES[lane])

    def passing(
        self, take, free, floor: np.ndarray, threshold: float, rng, spb: int, lineup, lock=None, own=None
    ) -> None:
        """Passing and neighbour notes in the top voice of piano, guitar and strings: where the top line
        leaps a third or a fourth from a note held at least a beat, the held note's last 8th becomes the
        scale tone between (a neighbour note above where it repeats); only on a weak 8th or 16th, at the
        card's rate per lane (`generation.passing`). The VAEs decode chord tones held through the bar, where
        players walk between them: real parts use 3.6-4 pitch classes a bar, ours 2.4-2.6."""
        g = self.settings
        rates, leaps = bar_cells.lane_rates(g.passing), g.passing_leaps
        low_rates = bar_cells.lane_rates(g.passing_low)  # the same in the lowest voice (a pianist's left hand)
        if rates is None:
            return
        steps = free.shape[0] * spb
        beat = self.cfg.steps_per_beat
        eighth = max(1, beat // 2)
        scale = bar_cells.scale_of(take[:, :steps], floor, lock, own)
        for lane in (PIANO, GUITAR, STRINGS):
            if lane not in lineup:
                continue
            on = take[lane, :steps] >= floor[lane]
            lane_free = np.repeat(free[:, lane], spb)
            held = np.concatenate([[0], np.cumsum(~lane_free)])
            sounds = on.any(axis=1)
            top = np.where(sounds, 127 - np.argmax(on[:, ::-1], axis=1), -1)
            lines = [(top, rates[lane], False)]
            if low_rates is not None and low_rates[lane] > 0:
                low = np.where(sounds, np.argmax(on, axis=1), -1)
                lines.append((np.where(low != top, low, -1), low_rates[lane], True))  # under a voice above it
            for line, rate, under in lines:
                if rate > 0:
                    self.walk(take[lane], on, line, held, rng, rate, scale, leaps, beat, eighth, threshold, under)

    @staticmethod
    def walk(cells, on, line, held, rng, rate, scale, leaps, beat: int, eighth: int, threshold: float, under=False):
        """Passing notes in one voice of one lane (line: its pitch a step, -1 where it rests); `passing`.
        under: a voice with others above it, whose passing note must not land on a pitch they sound."""
        steps = len(line)
        starts, pitches = bar_cells.runs(line)
        ends = np.append(starts[1:], steps)
        # the runs that may take one, at once: a note (then a note) held a beat or more, whose last 8th is
        # off the beat and in bars the groove may change
        pos = ends - eighth
        ok = (pitches >= 0) & (np.append(pitches[1:], -1) >= 0) & (ends - starts >= beat) & (pos % beat != 0)
        ok[:-1] &= held[ends[:-1]] == held[np.maximum(pos[:-1], 0)]
        ok[-1] = False
        for i in np.flatnonzero(ok):
            a, b, s, e = int(pitches[i]), int(pitches[i + 1]), int(starts[i]), int(ends[i])
            pos = e - eighth
            step = bar_cells.between(a, b, scale, leaps)
            if step is None or rng.random() >= rate:
                continue
            if e < steps and on[e, step]:  # it would run on into a note of its pitch: no passing note then
                continue
            if under and on[pos:e, step].any():  # another voice plays it there already
                continue
            value = max(0.85 * float(cells[s, a]), threshold + 1e-3)
            cells[pos:e, a] = 0.0
            cells[pos:e, step] = value

    def approach(self, take, free, floor: np.ndarray, threshold: float, rng, spb: int, lock=None, own=None) -> None:
        """The bass walks into the next bar: where it opens on another note, this bar's last 16th becomes the
        scale tone next to it (or the half step below), at the card's rate (`generation.approach`); where it
        opens on the same note, the last 16th is its fifth below, a pickup (`generation.pickup`). Only bars
        the groove may change."""
        g = self.settings
        rate, pickup = g.approach, g.pickup
        eighths = g.approach_eighths  # the share of approach notes an 8th long (else a 16th)
        if not rate and not pickup:
            return
        n_bars = free.shape[0]
        scale = bar_cells.scale_of(take[:, : n_bars * spb], floor, lock, own)
        on = take[BASS, : n_bars * spb] >= floor[BASS]
        for bar in range(n_bars - 1):
            end = (bar + 1) * spb
            if not free[bar, BASS] or not on[end].any() or not on[end - 2].any():
                continue  # (the last step may be the restrike's gap before the bar line)
            target = int(np.flatnonzero(on[end])[-1])
            held = np.flatnonzero(on[end - 2 : end].any(axis=0))
            if len(held) != 1:
                continue
            held = int(held[0])
            if not on[end - 1].any() and held != target:
                continue
            if held == target:  # the same note on: its fifth below leads back into it (a pickup)
                if rng.random() >= pickup:
                    continue
                tone = target - 5 if scale[(target - 5) % 12] else bar_cells.scale_step(target, -1, scale)
            else:
                if rng.random() >= rate:
                    continue
                up = held < target
                chromatic = up and rng.random() < 0.5 and (lock is None or lock[(target - 1) % 12])
                tone = target - 1 if chromatic else bar_cells.scale_step(target, -1 if up else 1, scale)
            if tone < 0:
                continue
            value = max(0.85 * float(take[BASS, end - 2, held]), threshold + 1e-3)  # (a restruck note: its last strike)
            length = APPROACH_STEPS
            if eighths and rng.random() < eighths:
                length = max(APPROACH_STEPS, self.cfg.steps_per_beat // 2)  # an 8th note
            take[BASS, end - length : end, held] = 0.0
            take[BASS, end - length : end, tone] = value
