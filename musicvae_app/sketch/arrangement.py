"""The sketch's arrangement: its chord chart, the chord of each bar, and its sections (no Qt, no torch).

The Session holds one `Arrangement` (session.arrangement) and forwards its public methods to it.

- The chord lane shows each bar's chord of the current take: the chords the take was made with, or, for
  a take without any, the chords recognized in its notes (chords.recognize), so it always shows
  something. Each bar is marked typed or recognized; a bar holds its chart text ("C Am": two halves).
- `set_chord(bar, "Dm7")` (or a bar's chords, "Dm7 G7") re-voices that bar at once from the take's own latents
  (Engine.set_chord: no new sample, every other bar bit-identical); `set_chords("| C Am | F G |")` re-voices
  every bar whose chords changed and is also the chart of the next Generate. Charts read as everywhere else
  (chords.parse_bars: between bar lines the chords share the bar, without bar lines one chord a bar); typed
  before any take, it is what the first Generate plays. Each is one undo step; a bad symbol raises ChordError
  naming the symbol and its bar, and the sketch stays as it is.
- `set_sections([...])` marks intro / verse / chorus... on the takes (one undo step; the notes stay) and the
  next Generate plays them: a section whose name came before returns as its first time's music with a
  variation, and the drums fill into every section (engine/sections.py). A form longer than the take on
  screen (or typed before any take) is kept for the next Generate, which grows to hold it.
"""

from __future__ import annotations

import dataclasses

from ..limits import check_int
from ..theory.chords import ChordError, bar_text, chart_cut, parse_bar, parse_bars, recognize
from ..theory.clash import bar_clashes, clash_bars
from ..theory.sections import (
    MAX_BARS_TEXT,
    MAX_SECTION_BARS,
    Section,
    SectionError,
    check_sections,
    form_text,
    parse_form,
    section_of,
    song_end,
)
from .choices import CHOSEN_KEY
from .jobs import Events, Jobs
from .song import LANES, Song
from .takes import Takes

TYPED_KEY = "chords_typed"  # a take's settings: the bars (1-based ranges, "1-4,9") whose chords were typed


def bars_text(bars) -> str:
    """{1, 2, 3, 4, 9} -> "1-4,9"."""
    out, run = [], []
    for bar in sorted(bars):
        if run and bar == run[-1] + 1:
            run.append(bar)
            continue
        if run:
            out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
        run = [bar]
    if run:
        out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
    return ",".join(out)


def _ascii_number(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 9


def bars_of_text(text) -> set[int]:
    """ "1-4,9" -> {1, 2, 3, 4, 9}; anything unreadable reads as no bars."""
    out: set[int] = set()
    text = str(text or "")
    if len(text) > MAX_BARS_TEXT:  # not one bars_text wrote: no bars
        return out
    for part in text.split(","):
        lo, dash, hi = part.strip().partition("-")
        if _ascii_number(lo) and (_ascii_number(hi) if dash else True):
            first = int(lo)
            out.update(range(first, min(int(hi or lo), first + MAX_SECTION_BARS) + 1))
    return out


CHART_SYNTAX = 2  # a sketch file's chart as chords.parse_bars reads it (before: "Am F C G | Dm G C C" = 8 bars)


def chart_of_lines(text: str) -> str:
    """A chart saved before sub-bar charts (sketch files without CHART_SYNTAX), as the app read it then: where
    every group between bar lines held more than one chord, the bar lines only ended lines ("Am F C G | Dm G C
    C": eight bars), now written with a bar line a bar ("| Am | F | C | G | Dm | G | C | C |")."""
    groups = [g.split() for g in text.split("|")]
    groups = [g for g in groups if g]
    if "|" in text and groups and all(len(g) > 1 for g in groups):
        return "| " + " | ".join(token for g in groups for token in g) + " |"
    return text


class Arrangement:
    """The chord lane and the sections of a sketch: over its takes (`Takes`), voiced by the engine through
    `Jobs`, said through `Events`."""

    def __init__(self, takes: Takes, jobs: Jobs, events: Events) -> None:
        self.takes = takes
        self.jobs = jobs
        self.events = events
        self.chart: str | None = None  # the chord chart of the next Generate ("Am F C G"), None: the pack's own
        self.next_sections: tuple[Section, ...] = ()  # sections kept for the next Generate (see sections())
        self.pending_for: Song | None = None  # the take on screen when next_sections were set
        self._recognized: tuple[Song | None, list] = (None, [])  # the last take's recognized chords
        self.chords_over_part = False  # the musician chose to play their chart over a part they follow

    @property
    def song(self) -> Song | None:
        return self.takes.song

    # --- the chord lane ------------------------------------------------------------------------------
    def recognized_chords(self, song: Song | None = None) -> list[str | None]:
        """The chord recognized in each bar of a take's notes (None: too few notes to name one)."""
        song = self.song if song is None else song
        if song is None:
            return []
        if self._recognized[0] is not song:
            found = recognize(song.notes(), song.steps_per_bar)[: song.n_bars]
            self._recognized = (song, [None if c is None else c.symbol for c in found])
        return list(self._recognized[1])

    def typed_bars(self, song: Song | None = None) -> set[int]:
        """Bars (1-based) whose chord the musician typed (or asked for with the chart it was generated with)."""
        song = self.song if song is None else song
        if song is None or not song.chords:
            return set()
        if TYPED_KEY in song.settings:
            return {b for b in bars_of_text(song.settings[TYPED_KEY]) if 1 <= b <= song.n_bars}
        return set(range(1, song.n_bars + 1)) if song.settings.get("chords") == "asked" else set()

    def chord_lane(self) -> list[tuple[str | None, bool]]:
        """Per bar of the current take: (the bar's chords as the chart writes them, 'C Am', or None; typed). A take
        with no chords shows the recognized ones, none typed."""
        song = self.song
        if song is None:
            return []
        if not song.chords:
            return [(symbol, False) for symbol in self.recognized_chords(song)]
        typed = self.typed_bars(song)
        chords = list(song.chords) + [None] * (song.n_bars - len(song.chords))
        return [(symbol, bar + 1 in typed) for bar, symbol in enumerate(chords)]

    def _with_lane_chords(self, song: Song) -> Song:
        """The take with the chords its lane shows: its own, or the recognized ones where it has none (so a
        typed bar re-voices that bar only)."""
        if song.chords:
            return song
        return dataclasses.replace(song, chords=self.recognized_chords(song))

    def _replace_if_current(self, old: Song, new: Song, text: str) -> None:
        if not self.takes.replace(old, new, text):  # the take was undone or dropped while the chord was voiced
            self.events.status("The take changed meanwhile; type the chord again", 5000)

    def set_chord(self, bar: int, symbol: str | None) -> bool:
        """Bar `bar` (1-based) of the current take plays `symbol` ("Dm7"; a bar's chords "Dm7 G7", "C . . G"; "" or
        N.C.: no chord), re-voiced at once from the take's own latents: one undo step, every other bar
        bit-identical. ChordError (an InvalidValue) names a bad symbol and its bar, and nothing changes. False
        when it could not start now."""
        song = self.song
        if song is None:
            self.events.status("Generate a sketch first, or type a whole chart (Chords…) for the next Generate", 5000)
            return False
        bar = check_int("bar", bar, 1, song.n_bars)
        text = " ".join((symbol or "").replace("|", " ").split())
        if bar > 1 and text[:1] in ("%", "."):  # read after the bar before, as in a chart: '%' repeats it, a '.'
            before = self.chord_lane()[bar - 2][0] or "N.C."  # at the start holds its last chord
            beats = parse_bars(f"| {before} | {text} |", first_bar=bar - 1)[1]
        else:
            beats = parse_bar(text or "N.C.", bar)
        chord = bar_text(beats)
        if not self.jobs.usable(f"Chord in bar {bar}"):
            return False
        base, engine = self._with_lane_chords(song), self.jobs.engine
        typed = self.typed_bars(song) | {bar}
        label = f"Chord {chord} in bar {bar}"

        def done(new: Song, _secs: float) -> None:
            new.settings = new.settings.replace(**{TYPED_KEY: bars_text(typed)})
            self._replace_if_current(song, new, label)
            self.events.status(f"{label}: re-voiced from the take's own latents (Ctrl+Z undoes it)", 5000)

        return self.jobs.submit(label, lambda: engine.set_chord(base, bar, chord), done)

    def set_chords(self, chart: str | None) -> bool:
        """A whole chart ("Am F C G": one chord a bar; "| C Am | F G |": two a bar; chords.parse_bars), repeated to
        the take's length: the current take re-voiced in every bar whose chords change (one undo step), and the
        chart of the next Generate.
        Typed before any take, the next Generate plays it. "" or None: the next Generate chooses its own
        chords again (the take stays). ChordError names a bad symbol and its bar; nothing changes."""
        text = " ".join((chart or "").split())
        if not text:
            self.chart = None
            self.events.emit("settings")
            self.events.status("The next Generate chooses its own chords", 5000)
            return True
        song = self.song
        played = text
        parse_bars(played, bars=song.n_bars if song is not None else None)  # ChordError before anything changes
        self.chart = text
        self.events.emit("settings")
        if song is None:
            self.events.status(f"The next Generate plays {text}", 5000)
            return True
        if not self.jobs.usable("Chords"):
            return False
        base, engine = self._with_lane_chords(song), self.jobs.engine
        label = f"Chords {text}" if len(text) <= 40 else f"Chords {text[:39]}…"

        cut = chart_cut(played, song.n_bars)

        def done(new: Song, _secs: float) -> None:
            new.settings = new.settings.without(TYPED_KEY, CHOSEN_KEY)  # every bar typed (none picked)
            self._replace_if_current(song, new, label)
            if cut:
                self.events.status(f"{label}: re-voiced, but {cut}", 15000)
            else:
                self.events.status(f"{label}: bars whose chord changed are re-voiced; the next Generate plays it", 5000)

        return self.jobs.submit(label, lambda: engine.set_chords(base, played), done)

    def set_chords_over_part(self, on: bool) -> None:
        """Whether the next Generate plays the typed chart over a followed part (True) or the part's own
        chords rule (False, the default); the chord lane says which."""
        self.chords_over_part = bool(on)
        self.events.emit("settings")

    def chord_source(self) -> tuple[str, str]:
        """Which chords rule the take on screen, as (kind, words for the chord lane): kind is "part" (the
        chords heard in your part), "picked" (chosen among your part's readings, choices.py), "chart over part",
        "chart", "bank" (the model's start) or "heard" (no chords of its own: recognized in the notes); ("", "")
        without a take."""
        song = self.song
        if song is None:
            return "", ""
        source, mine = song.settings.get("chords"), bool(song.settings.get("part_lanes"))
        if source == "part":
            aside = " (your chart is not played: choose to play it over your part)" if self.chart else ""
            return "part", "Chords: from your part" + aside
        if source == "asked" and mine and song.settings.get(CHOSEN_KEY):  # choices.py
            aside = " (your typed chart waits)" if self.chart else ""
            return "picked", "Chords: your pick among the readings of your part" + aside
        if source == "asked" and mine:
            return "chart over part", "Chords: your chart, played over your part"
        if source == "asked":
            return "chart", "Chords: your chart"
        if source == "bank":
            return "bank", "Chords: the band's own"
        return "heard", "Chords: heard in the notes"

    def chart_clashes(self) -> list[int]:
        """The bars (1-based) of the take on screen where the chart (the next Generate's, else the take's own
        typed one) clashes with your part: most of what your part plays there is outside the chart's chord
        (theory/clash.py). [] without a part or a chart."""
        song = self.song
        names = str(song.settings.get("part_lanes") or "").split(",") if song is not None else []
        lanes = [LANES.index(n) for n in names if n in LANES]
        if song is None or not lanes:
            return []
        try:
            if self.chart:
                bars = parse_bars(self.chart)
            elif song.settings.get("chords") == "asked" and song.chords:
                bars = [(None,) if c is None else parse_bar(c) for c in song.chords]
            else:
                return []
        except ChordError:
            return []
        return clash_bars(bar_clashes(bars, song.notes(), lanes, song.steps_per_beat))

    def chart_text(self) -> str:
        """The chart to offer for editing: the next Generate's, else the current take's lane as a chart."""
        if self.chart:
            return self.chart
        lane = self.chord_lane()
        if not lane:
            return ""
        bars = ["N.C." if symbol is None else symbol for symbol, _ in lane]
        return "| " + " | ".join(bars) + " |"

    # --- sections --------------------------------------------------------------------------------------
    def sections(self) -> list[Section]:
        """The sections on screen and of the next Generate: ones kept for it (a form longer than the take, or
        typed before any take), else the current take's."""
        if self.next_sections and self.pending_for is self.song:
            return list(self.next_sections)
        return list(self.song.sections) if self.song is not None else []

    def set_sections(self, sections) -> None:
        """Mark the sketch's sections: a list of (name, start bar, bars), dicts or Sections; [] clears them.

        Where they fit the takes, every take carries them (one undo step; no note changes) and the next
        Generate plays them; a form longer than the take on screen is kept for the next Generate, which is
        made long enough for it. SectionError (an InvalidValue) names a bad section; nothing changes."""
        checked = check_sections(sections)
        song = self.song
        if song is not None and (not checked or checked[-1].end <= song.n_bars):
            self.next_sections, self.pending_for = (), None
            if checked == list(song.sections):
                self.events.emit("settings")
                return
            text = f"Sections: {form_text(checked)}" if checked else "Clear sections"
            text = text if len(text) <= 48 else text[:47] + "…"
            self.takes.map(text, -1, lambda s: self._sectioned(s, checked))
            self.events.emit("settings")
            return
        self.next_sections, self.pending_for = tuple(checked), song
        self.events.emit("settings")
        if checked:
            bars = checked[-1].end
            self.events.status(f"The next Generate makes at least {bars} bars for these sections", 8000)

    @staticmethod
    def _sectioned(song: Song, sections: list[Section]) -> Song:
        fits = [s for s in sections if s.end <= song.n_bars]  # a shorter take (a morph) keeps the ones it holds
        return dataclasses.replace(song, sections=fits)

    def set_form(self, text: str) -> None:
        """Sections from a typed form, "intro 4 verse 8 chorus 8 verse 8 chorus 8 outro 4", from bar 1."""
        self.set_sections(parse_form(text) if (text or "").strip() else [])

    def mark_section(self, name: str, first_bar: int, last_bar: int, energy: int | None = None) -> None:
        """Mark bars first_bar..last_bar (1-based, inclusive) as section `name` (None or "": unmark them);
        the sections it overlaps are cut back to make room. energy: 1-5 (None: the kind's); a name typed
        "chorus @5" gives it too."""
        if name is not None and not isinstance(name, str):
            raise SectionError(f"a section's name must be text (or None to unmark the bars), got {name!r:.40}")
        if name and "@" in name:
            name, _, level = name.rpartition("@")
            if not (level.strip().isascii() and level.strip().isdigit() and len(level.strip()) <= 3):
                raise SectionError(f"'@{level[:40]}' after the section's name: an energy is a whole number from 1 to 5")
            energy = int(level.strip())
        first, last = sorted(
            (check_int("the first bar", first_bar, 1, 1_000_000), check_int("the last bar", last_bar, 1, 1_000_000))
        )
        kept: list[Section] = []
        for s in self.sections():
            if s.end < first or s.start > last:
                kept.append(s)
                continue
            if s.start < first:
                kept.append(Section(s.name, s.start, first - s.start, s.energy))
            if s.end > last:
                kept.append(Section(s.name, last + 1, s.end - last, s.energy))
        if name and name.strip():
            kept.append(section_of((name.strip(), first, last - first + 1, energy), f"section {name.strip()!r}"))
        self.set_sections(kept)

    # --- hooks for Generate and the sketch file ---------------------------------------------------------
    def arrangement_args(self, steps: int, kept: int | None = None) -> dict:
        """What Generate adds for the chart and the sections (a longer take where the sections need one; as long
        as the form where it ends in an outro, but never shorter than the take whose locked lanes are kept: `kept`,
        its steps, None where no lane is locked: the engine's rule, engine/generate.py)."""
        out: dict = {}
        if self.chart:
            try:
                parse_bars(self.chart)
                out["chords"] = self.chart
                if self.chords_over_part:
                    out["chords_over_part"] = True
            except ChordError as exc:  # never a chart that fails every Generate: it is dropped, and said
                self.chart = None
                self.events.emit("settings")
                self.events.status(f"The chart was dropped ({exc}); this Generate chooses its own chords", 8000)
        sections = self.sections()
        if sections:
            out["sections"] = sections
            per_chunk = self.jobs.engine.cfg.bars if self.jobs.engine is not None else 4
            need, ends = -(-sections[-1].end // per_chunk) - 1, song_end(sections) is not None
            if ends:  # an outro ends the take with the form, but not before the locked lanes' take ends
                need = max(need, -1 if kept is None else kept)
            if need > steps or (ends and need != steps):
                out["steps"] = need
        return out

    def arrangement_settings(self) -> dict:
        """What a sketch file keeps of them beside the takes (the next Generate's chart and kept sections)."""
        out: dict = {}
        if self.chart:
            out["chart"] = self.chart
            out["chart_syntax"] = CHART_SYNTAX
        if self.chords_over_part:
            out["chords_over_part"] = True
        if self.next_sections and self.pending_for is self.song:
            out["sections"] = [s.to_dict() for s in self.next_sections]
        return out

    def restore_arrangement(self, generation: dict) -> list[str]:
        """The chart and kept sections back from a sketch file's settings; returns what could not be used (a
        chart the parser refuses: the session says so)."""
        chart, dropped = generation.get("chart"), []
        try:
            self.chart = " ".join(chart.split()) if isinstance(chart, str) and chart.strip() else None
            if self.chart and generation.get("chart_syntax") != CHART_SYNTAX:  # saved before sub-bar charts
                self.chart = chart_of_lines(self.chart)
            if self.chart:
                parse_bars(self.chart)
        except ChordError as exc:
            self.chart = None
            dropped.append(f"the chord chart ({exc})")
        self.chords_over_part = generation.get("chords_over_part") is True
        try:
            kept = tuple(check_sections(generation.get("sections") or []))
        except SectionError as exc:
            kept = ()
            dropped.append(f"the song form ({exc})")
        self.next_sections, self.pending_for = kept, (self.song if kept else None)
        self.events.emit("settings")
        return dropped
