"""The sketch being worked on, in plain Python: what the window shows and every action a user can take on it.

A Session is built from small parts, each a field with its own interface:
- `events` (jobs.Events): the listeners and what the session says to them;
- `jobs` (jobs.Jobs): the engine and the executor its long work runs through;
- `reel` (takes.Takes): the takes, the current take and the undo history (merge keys join a slider drag
  into one step);
- `mix` (lanes.LaneMix): the lock, mute, solo and lineup of each lane;
- `inputs` (inputs.Inputs): the primer and the part followed, read in the background;
- `arrangement` (arrangement.Arrangement): the chord chart, each bar's chord and the sections;
and keeps itself the settings of the next Generate (a GenerationSettings), the seed and its lock, the
density and feel of the takes, the sketch's file (session_files.py reads and writes it). It imports neither
Qt nor torch: the window reads it and forwards user actions to it, and tests drive it directly. The parts'
attributes and methods the window and scripts use are also reachable on the Session (session.primer is
session.inputs.primer, session.set_chord is session.arrangement.set_chord).

Long work (the engine) runs through the executor it is handed: anything with
`submit(fn, on_done(result, seconds), on_error(exc)) -> bool` and a `busy` attribute. The window passes
its worker thread; `SyncExecutor` (the default) runs the job at once, so `session.generate()` returns with
the new take in place.

Listeners are plain callables `listener(event, *args)`; events:
- "song": the current take or the takes changed (undo, redo, generate, open...)
- "lanes": a lane's lock, mute, solo or lineup changed
- "history": the undo history or the modified state changed
- "settings": the next Generate's settings or the seed changed
- "primer": the primer (or its tempo) changed
- "part": the part followed (File > Follow a part, a recorded part) changed
- "timing", seconds: a generation finished in this long
- "status", text, ms: a short message for the status bar
- "error", title, text: something the user must read; the sketch is untouched
"""

from __future__ import annotations

import dataclasses
import secrets
from pathlib import Path

from ..errors import InvalidValue
from ..limits import MAX_STEPS, check_int, check_program, check_tempo, check_threshold
from ..theory.chords import chart_cut
from ..theory.feel import FEEL_KEYS, check_feel
from ..theory.keys import estimate_key, key_name
from ..theory.performance import Performance, check_quantize
from . import sketchfile
from .arrangement import Arrangement
from .choices import ChordChoices
from .editing import NoteEditing
from .inputs import Inputs
from .jobs import Events, Jobs, Listener, SyncExecutor, message
from .lanes import LaneMix
from .pins import carried_pins, unpinned
from .session_files import OPEN_TEXT, SketchFiles
from .song import DEFAULT_PROGRAMS, LANES, Song, format_density, lane_index, parse_density
from .spec import DEFAULT_TEMPO, GenerationSettings
from .take_edits import (
    infill_plan,
    lane_names,
    lanes_as_part,
    merged_parts,
    transpose_refusal,
    transposed,
    with_played_part,
)
from .takes import Takes
from .undo import State

__all__ = ["Session", "SyncExecutor", "message", "Listener", "OPEN_TEXT"]

MERGE_THRESHOLD, MERGE_TEMPO, MERGE_PROGRAM = 1, 2, 3
MERGE_DENSITY = 20  # + lane: a drag of one lane's density is one step
MERGE_FEEL = 30  # + the feel value's index in FEEL_KEYS: a drag of one feel control is one step
NO_MERGE = -1
JAM_MERGE = 7  # a Jam session's continuations undo as one step
JAM_CHUNKS = 1  # chunks added each time Jam runs low
MAX_MORPH_STEPS = 64  # chunks in a morph
SEED_RANGE = 2**31 - 1  # seeds the window rolls and types (the engine takes up to 2**32 - 1)


class _Part:
    """An attribute (or method) of one of the Session's parts, reachable on the Session under the same name."""

    def __init__(self, part: str) -> None:
        self.part = part

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, session, owner=None):
        return self if session is None else getattr(getattr(session, self.part), self.name)

    def __set__(self, session, value) -> None:
        setattr(getattr(session, self.part), self.name, value)


def _parts(part: str, n: int) -> tuple[_Part, ...]:
    return tuple(_Part(part) for _ in range(n))


class Session:
    """One sketch and everything done to it. `Session(engine)`; `engine` may be None until it has loaded."""

    listeners, last_error, listen = _parts("events", 3)
    engine, engine_error, executor, pending, generate_when_ready, busy, run_pending = _parts("jobs", 7)
    state, history, song, takes, index = _parts("reel", 5)
    locks, mutes, solos, lineup = _parts("mix", 4)
    primer, primer_bpm, primer_key, primer_reading, tempo_range = _parts("inputs", 5)
    part, part_song, part_bpm, part_reading = _parts("inputs", 4)
    chart, next_sections, recognized_chords, typed_bars, chord_lane = _parts("arrangement", 5)
    set_chord, set_chords, chart_text, sections, set_sections, set_form, mark_section = _parts("arrangement", 7)
    arrangement_args, arrangement_settings, restore_arrangement = _parts("arrangement", 3)
    chords_over_part, set_chords_over_part, chord_source, chart_clashes = _parts("arrangement", 4)
    export_midi, export_stems, snapshot, save, save_sketch, restore, open_sketch = _parts("files", 7)
    add_note, move_notes, resize_note, delete_notes, set_velocity, lane_notes, edited_bars = _parts("editing", 7)
    set_volume, set_pan = _parts("editing", 2)
    chord_alternatives, chosen_alternative, bar_alternatives, harmonize_part = _parts("choices", 4)
    use_alternative, pick_chord = _parts("choices", 2)

    def __init__(self, engine=None, executor=None, settings: GenerationSettings | None = None):
        self.events = Events()
        self.jobs = Jobs(engine, executor, self.events)
        self.reel = Takes(self._took)
        self.reel.history.listeners.append(lambda: self.events.emit("history"))
        self.mix = LaneMix()
        self.inputs = Inputs(self.jobs, self.events)
        self.arrangement = Arrangement(self.reel, self.jobs, self.events)
        self.files = SketchFiles(self)  # the sketch file and the exports
        self.editing = NoteEditing(self.reel, self.events)  # notes edited in the roll, the mixer
        self.choices = ChordChoices(self)  # the harmony model's readings of your part, and your pick among them
        card = engine.pack.card if engine is not None else None
        self.settings = settings if settings is not None else GenerationSettings.from_card(card)
        self.density: dict[str, float] = {}  # per-lane density of the takes and of the next Generate
        self.style: str | None = None  # the next Generate's style (engine/styles.py); None: Auto
        self.feel: dict = {}  # swing / humanize of the takes and of the next Generate (feel.check_feel values)
        self.follow_recorded = True  # the next Generate follows the parts recorded onto the take on screen
        self.quantize = "off"  # the grid the musician's own notes are heard on (performance.QUANTIZE_GRIDS)
        self.seed: int | None = None  # the seed shown: the last one used, or one typed or rolled
        self.seed_locked = False
        self.seed_typed = False  # a seed typed (or rolled) since the last Generate is used even unlocked
        self.path: Path | None = None  # the sketch's file
        self.opened_settings: dict = {}  # the settings of the sketch file opened last
        self.last_seconds: float | None = None

    # --- reading -------------------------------------------------------------------------------
    @property
    def dirty(self) -> bool:
        """Modified since it was opened or saved."""
        return not self.history.is_clean

    def lane_mutes(self) -> list[bool]:
        """Per lane: True when playback should leave it silent (muted, or another lane is soloed)."""
        return self.mix.silent()

    def audible_lanes(self) -> list[int] | None:
        return self.mix.audible()

    def programs(self) -> list[int]:
        return list(self.song.programs) if self.song is not None else list(DEFAULT_PROGRAMS)

    def file_stem(self) -> str:
        if self.path is not None:
            return self.path.stem
        seed = (self.song.settings or {}).get("seed") if self.song is not None else None
        return f"sketch-{seed}" if seed is not None else "sketch"

    def part_lanes(self, song: Song | None = None) -> list[int]:
        """The lanes of a take (default: the current one) that are the user's own part, kept as played."""
        song = self.song if song is None else song
        if song is None:
            return []
        names = [n for n in str(song.settings.get("part_lanes") or "").split(",") if n in LANES]
        return [LANES.index(n) for n in names]

    def take_key(self) -> str | None:
        """The current take's key ("E minor"): as the engine recorded it where it chose one (asked, a primer's,
        a part's, a chart's); a take from a random start ("C major / A minor": the pack's key space, which the
        start need not be in) is named by its own notes. None without a take or a pitched note."""
        if self.song is None:
            return None
        recorded = str(self.song.settings.get("key") or "")
        if recorded and " / " not in recorded:
            return recorded
        heard = estimate_key(self.song.notes())
        return key_name(heard) if heard is not None else None

    def part_key(self) -> str | None:
        """The key of the part the next Generate follows ("E minor": a part followed, else parts recorded onto
        the take); None when none is followed or its key is not known yet."""
        song = self.inputs.part_song if self.inputs.part_song is not None else self.recorded_part()
        return None if song is None else (str(song.settings.get("key") or "").split(" / ")[0] or None)

    def have_song(self, what: str) -> bool:
        """True when there is a take; else says (an "error" event) that there is nothing to `what` yet."""
        if self.song is None:
            self.events.error("Nothing to " + what.split()[0], f"There is no sketch to {what} yet: Generate one first.")
        return self.song is not None

    # --- settings of the next Generate ------------------------------------------------------------
    def update_settings(self, **changes) -> None:
        """Change the next Generate's settings (noise, steps, variations...); the takes stay as they are.

        Checked through limits.py (GenerationSettings.validated): a bad value raises InvalidValue and
        changes nothing."""
        if changes:
            self.settings = self.settings.replace(**changes).validated()
            self.events.emit("settings")

    def set_seed(self, seed: int | None, typed: bool = True) -> None:
        """A seed typed or rolled: the next Generate uses it even when the seed is not locked."""
        self.seed = None if seed is None else int(seed)
        self.seed_typed = typed and self.seed is not None
        self.events.emit("settings")

    def roll_seed(self) -> int:
        self.set_seed(secrets.randbelow(SEED_RANGE))
        return self.seed

    def lock_seed(self, locked: bool) -> None:
        self.seed_locked = bool(locked)
        self.events.emit("settings")

    def set_lane(self, lane: int | str, *, lock=None, mute=None, solo=None, lineup=None) -> None:
        """Lock, mute, solo or take a lane in or out of the band (None: unchanged)."""
        if self.mix.set(lane, lock=lock, mute=mute, solo=solo, lineup=lineup):
            self.events.emit("lanes")

    def generation_args(self) -> dict:
        """What the next Generate passes to the engine (and picks the seed it uses)."""
        s, inputs = self.settings, self.inputs
        use_typed = self.seed_locked or self.seed_typed  # typing a seed means "use this seed"
        seed = self.seed if use_typed else None
        seed = secrets.randbelow(SEED_RANGE) if seed is None else seed
        locked = self.mix.locked()
        keep = self.song if locked and self.song is not None else None
        args = s.engine_args()
        args.update(
            seed=seed,
            primer=str(inputs.primer) if inputs.primer else None,
            tempo=float(inputs.primer_bpm or s.tempo),
            keep=keep,
            keep_lanes=locked if keep is not None else (),
            lineup=self.mix.band() or None,
        )
        recorded = self.recorded_part()
        follow = inputs.part_song if inputs.part_song is not None else inputs.part
        if recorded is not None:  # parts recorded onto the take, with the part followed (the recording wins a lane)
            follow = recorded if follow is None else merged_parts(follow, recorded, self.engine)
        if follow is not None:  # the part is kept whole: it sets the length and the key; no primer, no locks
            args.update(
                follow=follow if isinstance(follow, Song) else str(follow),
                primer=None,
                keep=None,
                keep_lanes=(),
                key=None,
                tempo=float(inputs.part_bpm or s.tempo),
            )
        kept = args["keep"].n_chunks - 1 if args["keep"] is not None else None  # locked lanes' take
        args.update(self.arrangement.arrangement_args(args["steps"], kept))  # the chord chart and the sections
        if self.style is not None:
            args["style"] = self.style
        self.choices.steer(args)  # chords chosen among the part's readings, played over it again
        return args

    # --- long work --------------------------------------------------------------------------------
    def set_engine(self, engine) -> None:
        """The engine has loaded: a Generate asked for meanwhile runs now."""
        self.jobs.engine, self.jobs.engine_error = engine, None
        if self.jobs.generate_when_ready:
            self.jobs.generate_when_ready = False
            self.generate()

    def engine_failed(self, text: str) -> None:
        self.jobs.engine_error = text

    def _timed(self, secs: float) -> None:
        self.last_seconds = secs
        self.events.emit("timing", secs)

    def generate(self, text: str | None = None) -> bool:
        """Generate with the session's settings (locked lanes kept; a followed part kept whole, the band
        around it); False if it could not start now. `text` names the undo step (default "Generate").

        With the default SyncExecutor the new takes are in place when this returns.
        """
        if not self.jobs.usable("Generate"):
            return False
        try:
            self.settings.validated(self.engine.pack.config.chunk_steps)  # steps x variations fit in memory
        except InvalidValue as exc:
            self.events.error("Generate failed", str(exc))
            return False
        args = self.generation_args()
        kept_lanes = {LANES.index(n) for n in args["keep_lanes"]} | set(self.part_lanes())
        if not self.editing.may_replace([i for i in range(len(LANES)) if i not in kept_lanes], verb="Generate"):
            return False  # the musician kept the bars they edited (a locked lane or their part is kept anyway)
        self.seed, self.seed_typed = args["seed"], False
        self.events.emit("settings")
        engine, chart = self.engine, args.get("chords")
        kept = (args["keep"], [LANES.index(n) for n in args["keep_lanes"]]) if args.get("keep") is not None else None
        recorded = self.recorded_part()
        recorded = None if recorded is None else recorded.settings.get("recorded")

        def done(result, secs: float) -> None:  # the takes, and the readings of a followed part (choices.py)
            songs = self.choices.took(result)
            if recorded:
                songs = [dataclasses.replace(s, settings=s.settings.replace(recorded=recorded)) for s in songs]
            self._generated(songs, secs, text, kept, chart)
            self.choices.say()

        return self.jobs.submit("Generate", self.choices.job(engine, args), done)

    def _generated(self, songs: list[Song], secs: float, text: str | None = None, kept=None, chart=None) -> None:
        if kept is not None:  # locked lanes keep the notes the musician edited in them
            songs = [carried_pins(kept[0], s, kept[1]) for s in songs]
        programs = self.programs()
        takes = tuple(self._dressed(dataclasses.replace(s, programs=list(programs))) for s in songs)
        text = text or ("Generate" if len(takes) == 1 else f"Generate {len(takes)} takes")
        self.reel.change(State(takes, 0), text)
        self._timed(secs)
        cut = chart_cut(chart, takes[0].n_bars) if chart is not None and takes else None
        if cut:  # said after the timing, which clears the status line
            self.events.status(cut[0].upper() + cut[1:], 15000)

    def regenerate_lane(self, lane: int | str) -> bool:
        """A new part for one lane of the current take; the other lanes stay."""
        li = lane_index(lane)
        if not self.jobs.usable(f"Regenerate {LANES[li]}"):
            return False
        song = self.song
        if song is None:
            self.events.status("Generate a sketch first, then regenerate its lanes", 5000)
            return False
        if li in self.part_lanes(song):
            self.events.status(f"{LANES[li].capitalize()} is your part: it stays as you played it", 8000)
            return False
        if not self.editing.may_replace([li]):
            return False
        engine, noise = self.engine, self.settings.noise

        def done(new: Song, secs: float) -> None:
            new = unpinned(new, [li])  # the new part replaces the bars the musician edited
            self.replace_take(new, f"Regenerate {LANES[li]}")
            self._timed(secs)

        return self.jobs.submit(f"Regenerate {LANES[li]}", lambda: engine.regenerate_lane(song, li, noise=noise), done)

    def continue_song(self, chunks: int = JAM_CHUNKS, merge: int = JAM_MERGE, text: str = "Jam: continue") -> bool:
        """Jam: continue the current take by `chunks` chunks; False when it cannot start now.

        Consecutive continuations undo as one step; a result that arrives after the user changed the
        sketch is dropped."""
        song, engine = self.song, self.engine
        if song is None or engine is None or self.jobs.busy:
            return False

        def done(longer: Song, secs: float) -> None:
            if self.song is song:  # the user has not changed the sketch meanwhile
                self.replace_take(longer, text, merge=merge)
                self._timed(secs)

        return self.executor.submit(
            lambda: engine.continue_song(song, chunks), done, lambda exc: self.events.error("Jam stopped", str(exc))
        )

    jam = continue_song

    # --- changes (all undoable) -------------------------------------------------------------------
    def _took(self, state: State) -> None:
        song = state.song
        if song is not None:  # the next Generate starts from what is on screen, as the sliders show it
            self.settings = self.settings.replace(threshold=float(song.threshold), tempo=float(song.tempo))
            self.density = song.density
            self.feel = {key: getattr(song.feel, key) for key in FEEL_KEYS}
            if song.performance is not None:
                self.quantize = song.performance.quantize
        self.events.emit("song")

    def _dressed(self, song: Song) -> Song:
        """A new take with the density and feel the controls show (a Generate keeps them, like the threshold)."""
        if self.density:
            song = song.with_density(self.density)
        if self.feel:
            song = song.with_feel(**self.feel)
        return song.with_quantize(self.quantize)

    def replace_take(self, song: Song, text: str, merge: int = -1) -> None:
        """Swap the current take for a changed one (a regenerated lane, a Jam continuation), undoably."""
        self.reel.replace_current(song, text, merge)

    def set_threshold(self, value: float) -> None:
        """Re-threshold every take's stored probabilities: no engine call, no new randomness.

        The next Generate uses it too, and each take's settings record it (an export says the threshold
        its notes were cut at). A value outside (0, 1) raises InvalidValue and changes nothing."""
        value = check_threshold(value)
        if abs(self.settings.threshold - value) > 1e-12:
            self.settings = self.settings.replace(threshold=value)
        if self.song is not None and abs(self.song.threshold - value) > 1e-9:
            self.reel.map(
                f"Threshold {value:.2f}",
                MERGE_THRESHOLD,
                lambda s: dataclasses.replace(s, threshold=value, settings=s.settings.replace(threshold=value)),
            )

    def transpose(self, semitones: int) -> None:
        """Move every take's pitched lanes by `semitones` (-12..12): one action, one undo step; drums stay.

        Each take's key, chords and its transposition from the pack's key space move with it, so a later
        regenerate, Jam or infill continues in the new key."""
        semitones = check_int("semitones", semitones, -12, 12)
        if not semitones or self.song is None:
            return
        refusal = transpose_refusal(self.takes, semitones)  # a sketch file holds each take's shift within limits
        if refusal:
            self.events.error("Cannot transpose", refusal)
            return
        self.reel.map(f"Transpose {semitones:+d}", NO_MERGE, lambda s: transposed(s, semitones))

    def set_key(self, key: str | None, scale_lock: bool | None = None) -> None:
        """The key of the next Generate ("E minor", "Bb major"; None or "": the primer's key, else C major /
        A minor) and whether scale lock keeps its pitched notes in the scale. Saved with the sketch; a bad
        key raises InvalidValue and changes nothing. The takes stay as they are (Transpose moves them)."""
        changes: dict = {"key": key or None}
        if scale_lock is not None:
            changes["scale_lock"] = bool(scale_lock)
        self.update_settings(**changes)

    def set_style(self, name: str | None) -> None:
        """The style of the next Generate (None or "Auto": none); its tempo (the middle of its range) and swing
        become the next Generate's. An unknown style raises InvalidValue naming the styles and changes nothing."""
        engine = self.jobs.engine
        style = engine.style_set.get(name) if engine is not None else None
        if engine is None and name is not None and str(name).strip().lower() != "auto":
            raise InvalidValue("the model pack is still loading: pick the style again in a moment")
        self.style = style.name if style is not None else None
        if style is not None:  # its feel too: the next Generate's takes are dressed in the session's feel
            self.feel = {**self.feel, "swing": style.swing_percent, "swing_grid": "8th"}
            self.update_settings(tempo=float(style.tempo_median))
        else:
            self.events.emit("settings")

    def set_density(self, lane: int | str, value: float) -> None:
        """One lane busier (>1) or sparser (<1), 0.25-4: every take re-cut, no new sample (like the threshold).

        Consecutive changes of one lane's density undo as one step; the next Generate keeps it; a value out
        of range raises InvalidValue and changes nothing."""
        li = lane_index(lane)
        try:
            value = parse_density({LANES[li]: value})[LANES[li]]
        except ValueError as exc:
            raise InvalidValue(str(exc)) from None
        density = {**self.density, LANES[li]: value}
        density = {k: v for k, v in density.items() if v != 1.0}
        if density == self.density and (self.song is None or self.song.density == density):
            return
        self.density = density
        if self.song is not None:
            text = format_density({LANES[li]: value}) or f"{LANES[li]}=1"
            self.reel.map(f"Density {text}", MERGE_DENSITY + li, lambda s: s.with_density(density))

    def set_feel(self, swing=None, swing_grid=None, humanize_ms=None, humanize_velocity=None) -> None:
        """Swing (50-75 %, on "8th" or "16th") and humanize (timing spread in ms, velocity spread), None keeps a
        value: every take's notes move in playback, MIDI/WAV export and drag-out alike; no new sample.

        Consecutive changes of one control undo as one step; the next Generate keeps the feel; a bad value
        raises InvalidValue and changes nothing."""
        values = dict(swing=swing, swing_grid=swing_grid, humanize_ms=humanize_ms, humanize_velocity=humanize_velocity)
        checked = check_feel(**values)
        if not checked:
            return
        feel = {**self.feel, **checked}
        current = None if self.song is None else {key: getattr(self.song.feel, key) for key in FEEL_KEYS}
        if feel == self.feel and (current is None or all(current[k] == v for k, v in feel.items())):
            return
        self.feel = feel
        if self.song is not None:
            first = next(k for k in FEEL_KEYS if k in checked)
            text = "Swing" if first.startswith("swing") else "Humanize"
            self.reel.map(text, MERGE_FEEL + FEEL_KEYS.index(first), lambda s: s.with_feel(**checked))

    def set_quantize(self, grid: str) -> None:
        """Hear the musician's own parts on a grid: "off" (exactly as played), "16th", "8th", "8th triplet".

        The notes as played are always kept, so this is one undo step and can be changed again or turned off;
        every take with a part played in moves (playback, exports, the window), the model's roll does not. The
        next Generate keeps the choice. InvalidValue names a bad grid and changes nothing."""
        grid = check_quantize(grid)
        self.quantize = grid
        takes = self.reel.state.takes if self.song is not None else ()
        if any(t.performance is not None and t.performance.quantize != grid for t in takes):
            self.reel.map("Quantize " + grid, NO_MERGE, lambda s: s.with_quantize(grid))
        self.events.emit("settings")

    def infill(self, start_bar: int, end_bar: int, lanes=None, seed: int | None = None) -> bool:
        """New material for bars start_bar..end_bar (1-based, inclusive; snapped out to whole chunks) of `lanes`
        (None: every lane in the band) of the current take: one undo step. Every note outside the range and of
        the other lanes stays bit-identical. With Variations above 1 the take is replaced by that many
        candidates, side by side in the take strip. False when it could not start now."""
        if not self.jobs.usable("Regenerate bars"):
            return False
        song = self.song
        if song is None:
            self.events.status("Generate a sketch first, then regenerate its bars", 5000)
            return False
        start_bar, end_bar, names, text = infill_plan(
            song, start_bar, end_bar, lanes, self.part_lanes(song), self.lineup
        )
        per_chunk = max(song.chunk_steps // song.steps_per_bar, 1)
        first = (start_bar - 1) // per_chunk * per_chunk  # 0-based: the chunks the engine replaces
        end = min(-(-end_bar // per_chunk) * per_chunk, song.n_bars)
        band = [i for i, on in enumerate(self.lineup) if on]
        replaced = [LANES.index(n) for n in names] if names is not None else band
        if not self.editing.may_replace(replaced, first + 1, end):
            return False
        engine, variations = self.engine, int(self.settings.variations)
        if seed is None and (self.seed_locked or self.seed_typed):
            seed = self.seed

        def done(result, secs: float) -> None:
            new = [unpinned(s, replaced, first, end) for s in (result if isinstance(result, list) else [result])]
            takes = list(self.state.takes)
            i = next((j for j, take in enumerate(takes) if take is song), None)  # where the take is now
            if i is None:  # the take was undone or dropped meanwhile: the result becomes a take of its own
                takes.extend(new)
                i = len(takes) - len(new)
            else:
                takes[i : i + 1] = new
            self.reel.change(State(tuple(takes), i), text)
            self._timed(secs)

        return self.jobs.submit(
            text, lambda: engine.infill(song, start_bar, end_bar, names, seed=seed, variations=variations), done
        )

    def morph_to_take(self, index: int, steps: int = 8) -> bool:
        """A new take whose `steps` chunks move through the VAEs' latent space from the current take's opening
        to take `index`'s (0-based), lane by lane; locked lanes keep the current take's. One undo step; the
        morph becomes the current take. False when it could not start now."""
        if not self.jobs.usable("Morph"):
            return False
        if len(self.state.takes) < 2:
            self.events.status("Morph needs two takes: Generate with Variations above 1", 5000)
            return False
        index = check_int("take", index, 0, len(self.state.takes) - 1)
        steps = check_int("morph steps", steps, 2, MAX_MORPH_STEPS)
        if index == self.state.index:
            raise InvalidValue(f"take {index + 1} is the current take: morph to another one")
        a, b, engine = self.song, self.state.takes[index], self.engine
        keep = [LANES[i] for i, on in enumerate(self.locks) if on]
        text = f"Morph take {self.state.index + 1} to take {index + 1}"

        def done(result: Song, secs: float) -> None:
            n = result.n_bars  # the current take's sections, as far as the morph reaches
            kept = [dataclasses.replace(x, bars=min(x.bars, n - x.start + 1)) for x in a.sections if x.start <= n]
            new = dataclasses.replace(result, programs=list(a.programs), sections=kept)
            takes = self.state.takes + (new,)
            self.reel.change(State(takes, len(takes) - 1), text)
            self._timed(secs)

        return self.jobs.submit(text, lambda: engine.morph(a, b, steps, keep_lanes=keep), done)

    def set_tempo(self, bpm: float) -> None:
        """The tempo of every take (and of the next Generate); a primer's own tempo no longer applies."""
        bpm = check_tempo(bpm)
        self.primer_bpm = self.part_bpm = None  # the user's tempo wins over the primer's (and the part's) from now on
        self.settings = self.settings.replace(tempo=bpm)
        if self.song is not None and abs(self.song.tempo - bpm) > 1e-9:
            self.reel.map(f"Tempo {bpm:.0f}", MERGE_TEMPO, lambda s: dataclasses.replace(s, tempo=bpm))

    def set_program(self, lane: int | str, program: int) -> None:
        li = lane_index(lane)
        programs = self.programs()
        programs[li] = check_program(program)
        self.reel.map(
            f"{LANES[li].capitalize()} instrument",
            MERGE_PROGRAM,
            lambda s: dataclasses.replace(s, programs=list(programs)),
        )

    def pick_take(self, index: int) -> None:
        self.reel.pick(index)

    def keep_take(self) -> None:
        """Keep only the current take."""
        self.reel.keep_current()

    def undo(self) -> bool:
        return self.history.undo()

    def redo(self) -> bool:
        return self.history.redo()

    # --- the primer and the part followed (inputs.py) -----------------------------------------------
    def open_primer(self, path: str | Path) -> bool:
        """Seed the next Generate from a .mid, read off the window's thread; False if it could not start."""
        return self.inputs.open_primer(path, self.settings.tempo)

    def cancel_primer(self) -> bool:
        """Stop waiting for a primer (or a part) being read: its result is dropped and the current one stays."""
        return self.inputs.cancel()

    def clear_primer(self) -> None:
        """No primer for the next Generate. Where the primer's tempo is still in force (not overridden in the
        Tempo box), the tempo the sketch had before it comes back (else the default); takes made at the
        primer's tempo move back with it, as one undo step."""
        applied, before = self.inputs.clear_primer()
        if applied is not None:
            bpm = check_tempo(before if before is not None else DEFAULT_TEMPO)
            self.settings = self.settings.replace(tempo=bpm)
            if self.song is not None and abs(self.song.tempo - applied) < 0.01 and abs(bpm - applied) > 1e-9:
                self.reel.map(f"Tempo {bpm:.0f}", NO_MERGE, lambda s: dataclasses.replace(s, tempo=bpm))
        self.events.emit("primer")

    def follow_part(self, path: str | Path, then_generate: bool = False, text: str | None = None) -> bool:
        """Follow the musician's part in a .mid: every lane it plays is kept whole and the next Generate
        makes the band around it (at its length, key and tempo). `then_generate` runs Generate once it is
        read (the undo step named `text`). False if it could not start (with the SyncExecutor: whether the
        part is followed now); a file we cannot use says why and changes nothing."""
        return self.inputs.follow(path, (lambda: self.generate(text)) if then_generate else None)

    def stop_following(self) -> None:
        """Generate makes a whole band again (around neither a part followed nor parts recorded); the takes
        keep the parts they were made around."""
        self.follow_recorded = False
        self.inputs.stop_following()

    def follow_recording(self, recording, folder: str | Path, text: str | None = None) -> Path | None:
        """A part recorded from a MIDI input (playback.recorder.Recording), written as played to a new .mid in
        `folder` (atomically). With no sketch yet it is followed and the band generated around it; with a take
        on screen it is added to it on its lane, as played (several recorded parts, one lane each, each kept;
        the take keeps its length, or grows to the recording's), and the next Generate follows it with any
        part followed. Either is one undo step named `text` (default "Record <lane>"); Undo removes the
        recording wholly and nothing follows it any more. The file's path, or None (said) when there is
        nothing to keep or it cannot be written; the sketch stays as it is."""
        text = text or f"Record {LANES[recording.lane]}"
        program = self.programs()[recording.lane]
        if self.song is None:
            self.follow_recorded = True
            return self.inputs.follow_recording(recording, folder, program, lambda: self.generate(text))
        path = self.inputs.keep_recording(recording, folder, program)
        if path is None:
            return None
        from ..playback.recorder import played_ticks

        rows = [(recording.lane, p, s, e, v) for p, s, e, v in played_ticks(recording)]
        try:
            most = self.engine.cfg.chunk_steps * (MAX_STEPS + 1) if self.engine is not None else None
            new = with_played_part(self.song, Performance(rows), recording.lane, most)
        except InvalidValue as exc:
            self.events.error("Recording not added", f"{exc}. The recording is kept in '{path}'.")
            return path
        self.follow_recorded = True
        self.reel.replace_current(new, text)
        self.events.emit("part")
        self.events.status(
            f"{text}: added on the {LANES[recording.lane]} lane as you played it (Ctrl+Z removes it); "
            "the next Generate plays a band around your parts",
            8000,
        )
        return path

    def recorded_part(self, song: Song | None = None) -> Song | None:
        """The parts recorded onto a take (default: the current one) as one part to follow: those lanes' notes
        (grid roll and notes as played) and nothing else; None when it has none or they are not followed."""
        song = self.song if song is None else song
        lanes = [LANES.index(n) for n in lane_names(song.settings.get("recorded"))] if song is not None else []
        if not lanes or not self.follow_recorded:
            return None
        part = lanes_as_part(song, lanes)
        part.settings = song.settings.replace(source="your recording", recorded=",".join(LANES[i] for i in lanes))
        return part

    @classmethod
    def open(cls, path: str | Path, engine=None, executor=None) -> Session:
        """A new session holding the sketch file at `path`; raises SketchError when it cannot be opened."""
        session = cls(engine, executor)
        session.restore(sketchfile.load(path), OPEN_TEXT)
        session.path = Path(path)
        session.history.clear()
        return session

    def reopened(self) -> None:
        """A sketch back from the last session: no undo history; modified unless it was saved as it is."""
        self.history.clear()  # a clear history is clean
        if self.path is not None and not self.opened_settings.get("clean", False):
            self.history.reset_clean()
