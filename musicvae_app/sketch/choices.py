"""Chord alternatives for the musician's part (issue 33): the harmony model's readings of it, offered on the chord lane.

When the band follows a part (or "Harmonize my part" is asked for), the harmony model (Engine.harmonize, best
first) gives a few charts for the part on screen; the chord lane offers them. `use_alternative(i)` flips the whole
chart to reading i, `pick_chord(bar, i)` takes one bar's chords from reading i (a mixed chart). Either re-voices the
take from its own latents (Engine.set_chords: no new sample; the musician's part is never touched) as one undo step.

Where the choice lives: on the take. A take whose chords are the best reading keeps `chords = "part"` (the part's
chords rule, as after a Generate); another reading or a mix is the musician's chosen chart over their part
(`chords = "asked"`, and CHOSEN_KEY: "2", "3", "mixed"), so Undo and Redo bring it back with the take, the sketch
file keeps it, Regenerate / infill / Jam play the take's chords, and the next Generate that follows the same part
plays it over the part (generate(chords=..., chords_over_part=True)). A chart typed with "Play my chart over my
part" on still wins (the musician's latest explicit choice is the typed chart); picking a reading turns that
choice off and says so (the typed chart waits, kept).

The readings are a pure function of the part's notes, so they are kept by the part's fingerprint (never saved:
"Harmonize my part" brings them back for a reopened sketch). Qt-free; the Session forwards the public methods.
"""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np

from ..errors import InvalidValue
from ..limits import check_int
from ..theory.chords import ChordError, bar_text, bars_text, fit_chart, parse_bar, parse_bars
from .jobs import message
from .song import DRUMS, LANES, Song
from .take_edits import lanes_as_part

CHOSEN_KEY = "chords_chosen"  # a take's settings: its chords were chosen among its part's readings ("2", "mixed")
MIXED = "mixed"
READINGS = 3  # the alternatives asked of the harmony model
MAX_PARTS = 16  # parts whose readings are kept
NO_CHORD = "N.C."


def bar_texts(song: Song) -> list[str]:
    """Each bar's chords as the chart writes them ('C Am', N.C. for none), over the take's bars."""
    out = []
    for i in range(song.n_bars):
        text = song.chords[i] if i < len(song.chords) else None
        try:
            out.append(NO_CHORD if text is None else bar_text(parse_bar(text, i + 1)))
        except ChordError:
            out.append(str(text))
    return out


def reading_bars(chart: str, n_bars: int) -> list[str]:
    """A reading's chart as each bar's text, fitted to n_bars (a bar with no chord: N.C.)."""
    return [bar_text(b) for b in fit_chart(parse_bars(chart), n_bars)]


class ChordChoices:
    """The readings of the part on screen and the musician's choice among them (session.choices)."""

    def __init__(self, session) -> None:
        self.session = session
        self._readings: dict[bytes, tuple[str, ...]] = {}  # part fingerprint -> charts, best first
        self._keys: tuple[Song | None, bytes | None] = (None, None)  # the last take fingerprinted
        self.steered: str | None = None  # the choice the last generation_args passed on ("2", "mixed")
        self._parsed: tuple = (None, (), [], [])  # (take, its charts, their bars, the take's bars)
        self.note: str | None = None  # why the last Generate brought no readings (said after it)

    # --- the part on screen -----------------------------------------------------------------------------
    def part_of(self, song: Song | None = None) -> Song | None:
        """The musician's own parts on a take (followed or recorded, kept as played) as one part; None: none."""
        song = self.session.song if song is None else song
        lanes = self.session.part_lanes(song) if song is not None else []
        if not lanes:
            return None
        part = lanes_as_part(song, lanes)
        part.chords = []
        return part

    def _key(self, song: Song | None) -> bytes | None:
        """The fingerprint of a take's part: its lanes, their notes and the notes as played."""
        if song is None:
            return None
        if self._keys[0] is song:
            return self._keys[1]
        lanes = self.session.part_lanes(song)
        key = None
        if lanes:  # the notes as played where the take keeps them (a quantize grid or a density changes no key)
            digest = hashlib.sha1(repr((lanes, song.n_bars, song.steps_per_beat)).encode())
            if song.performance is not None:
                digest.update(np.ascontiguousarray(song.performance.only(lanes).notes).tobytes())
            else:
                digest.update(np.packbits(song.notes()[lanes]).tobytes())
            key = digest.digest()
        self._keys = (song, key)
        return key

    def _keep(self, song: Song, charts) -> tuple[str, ...]:
        key = self._key(song)
        charts = tuple(str(c) for c in charts)
        if key is not None and charts:
            self._readings.pop(key, None)
            self._readings[key] = charts
            while len(self._readings) > MAX_PARTS:
                self._readings.pop(next(iter(self._readings)))
        return charts

    # --- reading --------------------------------------------------------------------------------------
    def chord_alternatives(self) -> list[str]:
        """The charts offered for the part on screen, best first ([]: none yet; "Harmonize my part" asks)."""
        return list(self._readings.get(self._key(self.session.song), ()))

    def _bars(self) -> list[list[str]]:
        """Each reading as each bar's text, over the take on screen's bars (kept while the take stays)."""
        song = self.session.song
        if song is None:
            return []
        charts = tuple(self.chord_alternatives())
        if self._parsed[0] is not song or self._parsed[1] != charts:
            self._parsed = (song, charts, [reading_bars(c, song.n_bars) for c in charts], bar_texts(song))
        return self._parsed[2]

    def _mine(self, song: Song) -> list[str]:
        """bar_texts of a take, kept for the take on screen."""
        return list(self._parsed[3]) if self._parsed[0] is song else bar_texts(song)

    def chosen_alternative(self) -> int | None:
        """Which reading the take on screen plays: its 0-based index when every bar is that reading's, -1 when its
        bars mix readings, None when its chords are none of them (a typed chart) or there are no readings."""
        song, readings = self.session.song, self._bars()
        if song is None or not readings:
            return None
        mine = self._mine(song)
        for i, bars in enumerate(readings):
            if bars == mine:
                return i
        mixed = all(any(bars[b] == text for bars in readings) for b, text in enumerate(mine))
        return -1 if mixed else None

    def bar_alternatives(self, bar: int) -> list[str]:
        """Bar `bar` (1-based) in each reading, best first ([] without readings)."""
        readings = self._bars()
        if not readings:
            return []
        bar = check_int("bar", bar, 1, len(readings[0]))
        return [bars[bar - 1] for bars in readings]

    # --- actions --------------------------------------------------------------------------------------
    def _refusal(self, what: str) -> str | None:
        """Why `what` cannot be done on the take on screen (no take, no part of the musician's, drums only)."""
        song = self.session.song
        if song is None:
            return f"{what}: there is no sketch yet. Follow a part (File › Follow a part…) or record one, then Generate"
        lanes = self.session.part_lanes(song)
        if not lanes:
            return (
                f"{what}: this take has no part of yours to harmonize. Follow a part (File › Follow a part…) or "
                "record one; the band's chords are set with Chart… or by clicking a bar"
            )
        if all(lane == DRUMS for lane in lanes):
            return (
                f"{what}: your part plays only drums, so there is no harmony to hear. Give a melody, a riff, a bass "
                "line or a comp part; the chords stay as they are"
            )
        return None

    def harmonize_part(self) -> bool:
        """Ask the harmony model for READINGS charts of the musician's part on the take on screen, best first, and
        offer them on the chord lane. Where the take plays none of them, it is re-voiced to the best (one undo
        step, "Harmonize my part"). No part, a drums-only part or a model that fails: a message; nothing changes.
        False when it could not start now."""
        refusal = self._refusal("Harmonize my part")
        if refusal:
            self.session.events.status(refusal, 10000)
            return False
        jobs, song = self.session.jobs, self.session.song
        if not jobs.usable("Harmonize my part"):
            return False
        engine, part = jobs.engine, self.part_of(song)

        def work():
            charts = tuple(engine.harmonize(part, alternatives=READINGS))
            if not charts:
                raise InvalidValue("the harmony model gave no chart for your part; the chords stay as they are")
            plays = bar_texts(song) in [reading_bars(c, song.n_bars) for c in charts]
            return charts, (None if plays else engine.set_chords(song, charts[0]))

        def done(result, _secs: float) -> None:
            charts, new = result
            self._keep(song, charts)
            n = len(charts)
            if new is not None:
                new.settings = new.settings.replace(chords="part").without(CHOSEN_KEY, "chords_typed")
                if not self.session.reel.replace(song, new, "Harmonize my part"):
                    self.session.events.status("The take changed meanwhile; Harmonize my part again", 8000)
                    return
            self.session.events.emit("settings")
            played = "the band now plays the best one (Ctrl+Z undoes it)" if new is not None else "the band plays one"
            self.session.events.status(
                f"Harmonize my part: {n} reading{'s' if n > 1 else ''} of your part; {played}. Flip with ◀ ▶ by the "
                "chord lane, or right-click a bar to pick its chord from each",
                10000,
            )

        return jobs.submit("Harmonize my part", work, done)

    def use_alternative(self, index: int) -> bool:
        """Play reading `index` (0-based, best first) for the whole take: re-voiced from its own latents, one undo
        step; the next Generate following the same part plays it. False when nothing was started."""
        charts = self.chord_alternatives()
        if not charts:
            return self._no_readings()
        index = check_int("reading", index, 0, len(charts) - 1)
        song = self.session.song
        return self._play(
            song, reading_bars(charts[index], song.n_bars), f"Chords: reading {index + 1} of {len(charts)}"
        )

    def pick_chord(self, bar: int, index: int) -> bool:
        """Bar `bar` (1-based) plays its chords in reading `index` (0-based); the other bars stay (a mixed chart).
        One undo step; False when nothing was started."""
        charts = self.chord_alternatives()
        if not charts:
            return self._no_readings()
        song = self.session.song
        bar = check_int("bar", bar, 1, song.n_bars)
        index = check_int("reading", index, 0, len(charts) - 1)
        bars = bar_texts(song)
        bars[bar - 1] = reading_bars(charts[index], song.n_bars)[bar - 1]
        return self._play(song, bars, f"Bar {bar}: {bars[bar - 1]} (reading {index + 1})")

    def _no_readings(self) -> bool:
        refusal = self._refusal("Chord alternatives")
        self.session.events.status(
            refusal or "No readings of your part yet: right-click the chord lane, Harmonize my part", 8000
        )
        return False

    def _play(self, song: Song, bars: list[str], label: str) -> bool:
        """The take re-voiced to `bars` (each bar's text) as one undo step named `label`, marked as chosen."""
        readings = self._bars()
        if bars == bar_texts(song):
            self.session.events.status(f"{label}: the band already plays it", 5000)
            return True
        jobs = self.session.jobs
        if not jobs.usable(label):
            return False
        engine, chart = jobs.engine, "| " + " | ".join(bars) + " |"
        same = [i for i, r in enumerate(readings) if r == bars]
        choice = same[0] if same else -1

        def done(new: Song, _secs: float) -> None:
            if choice == 0:  # the best reading: the part's own chords rule again, as after a Generate
                settings = new.settings.replace(chords="part").without(CHOSEN_KEY, "chords_typed")
            else:
                settings = new.settings.replace(**{CHOSEN_KEY: MIXED if choice < 0 else str(choice + 1)})
                settings = settings.without("chords_typed")
            new.settings = settings
            if not self.session.reel.replace(song, new, label):
                self.session.events.status("The take changed meanwhile; pick the chords again", 5000)
                return
            arrangement, aside = self.session.arrangement, ""
            if arrangement.chart and arrangement.chords_over_part:
                arrangement.set_chords_over_part(False)  # the latest choice wins; the typed chart waits, kept
                aside = "; your typed chart waits (Play my chart over my part brings it back)"
            self.session.events.status(f"{label}: re-voiced, your part untouched (Ctrl+Z undoes it){aside}", 8000)

        return jobs.submit(label, lambda: engine.set_chords(song, chart), done)

    # --- hooks for Generate ---------------------------------------------------------------------------------
    def steer(self, args: dict) -> None:
        """Generate's args: a take whose chords the musician chose among the readings of the part that Generate
        follows again plays them over it (unless a typed chart is asked over the part)."""
        self.steered = None
        song = self.session.song
        mark = song.settings.get(CHOSEN_KEY) if song is not None else None
        follow = args.get("follow")
        if not mark or not isinstance(follow, Song) or args.get("chords_over_part"):
            return
        if not self.same_part(song, follow):
            return
        args["chords"] = bars_text([parse_bar(t, i + 1) for i, t in enumerate(bar_texts(song))])
        args["chords_over_part"] = True
        self.steered = str(mark)

    def same_part(self, song: Song, part: Song) -> bool:
        """Whether the take's own parts are `part` (the same lanes, the same notes over the part's length)."""
        lanes = self.session.part_lanes(song)
        roll = part.notes()
        given = [i for i in range(len(LANES)) if roll[i].any()]
        if not lanes or given != lanes or part.steps_per_beat != song.steps_per_beat:
            return False
        n = min(roll.shape[1], song.n_steps)
        return roll.shape[1] <= song.n_steps and bool(np.array_equal(roll[lanes, :n], song.notes()[lanes, :n]))

    def job(self, engine, args: dict):
        """Generate's work: the takes, and when they follow a part, its readings (a failure there loses no take)."""
        follows, mark = args.get("follow") is not None, self.steered

        def work():
            songs = engine.generate_takes(**args)
            if not follows or not songs:
                return songs, None, mark
            part, lanes = self.part_of(songs[0]), self.session.part_lanes(songs[0])
            readings = None  # a part of drums only: no harmony to offer
            if part is not None and any(lane != DRUMS for lane in lanes):
                try:
                    readings = tuple(engine.harmonize(part, alternatives=READINGS))
                except Exception as exc:  # the band is made; only the readings are missing, and that is said
                    readings = message(exc)
            return songs, readings, mark

        return work

    def took(self, result) -> list[Song]:
        """Generate's result: its readings kept, the choice it played marked on the takes; the takes."""
        songs, readings, mark = result
        self.note = f"No chord alternatives for your part ({readings})" if isinstance(readings, str) else None
        if readings and songs and not self.note:
            self._keep(songs[0], readings)
        if mark and songs:
            songs = [dataclasses.replace(s, settings=s.settings.replace(**{CHOSEN_KEY: mark})) for s in songs]
        return songs

    def say(self) -> None:
        """After Generate's own words (its timing clears the status line): why no readings came, if none did."""
        if self.note:
            self.session.events.status(self.note, 10000)
            self.note = None
