"""The sketch being worked on, in plain Python: what the window shows and every action a user can take on it.

A Session owns the takes and the current take, undo/redo (merge keys join a slider drag into one step),
the lineup/lock/mute/solo of each lane, the primer, the seed and its lock, the settings of the next
Generate (a GenerationSettings), the sketch's file and whether it is modified. It imports neither Qt nor
torch: the window reads it and forwards user actions to it, and tests drive it directly.

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
import time
from collections.abc import Callable
from pathlib import Path

from ..atomic import atomic_write, atomic_write_set
from ..errors import InvalidValue, MusicVAEError
from ..limits import MAX_TEMPO, MAX_TRANSPOSE, MIN_TEMPO, check_int, check_program, check_tempo, check_threshold
from ..theory.feel import FEEL_KEYS, check_feel
from . import sketchfile
from .arrangement import ChordsAndSections
from .midi import lane_notes, primer_from_notes, read_notes, song_to_midifile
from .sketchfile import Sketch, SketchError
from .song import DEFAULT_PROGRAMS, LANES, Song, format_density, lane_index, parse_density
from .spec import DEFAULT_TEMPO, GenerationSettings
from .undo import History, State

MERGE_THRESHOLD, MERGE_TEMPO, MERGE_PROGRAM = 1, 2, 3
MERGE_DENSITY = 20  # + lane: a drag of one lane's density is one step
MERGE_FEEL = 30  # + the feel value's index in FEEL_KEYS: a drag of one feel control is one step
NO_MERGE = -1
JAM_MERGE = 7  # a Jam session's continuations undo as one step
JAM_CHUNKS = 1  # chunks added each time Jam runs low
MAX_MORPH_STEPS = 64  # chunks in a morph
SEED_RANGE = 2**31 - 1  # seeds the window rolls and types (the engine takes up to 2**32 - 1)
OPEN_TEXT = "Open sketch"

Listener = Callable[..., None]


class SyncExecutor:
    """Runs each job at once on the calling thread: for tests, scripts and the command line."""

    busy = False

    def submit(self, fn: Callable[[], object], on_done, on_error) -> bool:
        start = time.perf_counter()
        self.busy = True
        try:
            result = fn()
        except Exception as exc:  # reported like the window's worker does: a message, never a crash
            self.busy = False
            on_error(exc)
            return True
        self.busy = False
        on_done(result, time.perf_counter() - start)
        return True


def message(exc: BaseException) -> str:
    """Our own errors already speak to the user; anything else says what kind of failure it was."""
    text = str(exc) or type(exc).__name__
    ours = isinstance(exc, (MusicVAEError, ValueError, OSError))
    return text if ours else f"{type(exc).__name__}: {text}"


class Session(ChordsAndSections):
    """One sketch and everything done to it. `Session(engine)`; `engine` may be None until it has loaded."""

    tempo_range: tuple[float, float] = (MIN_TEMPO, MAX_TEMPO)  # a primer's tempo is clamped to this

    def __init__(self, engine=None, executor=None, settings: GenerationSettings | None = None):
        self.engine = engine
        self.engine_error: str | None = None  # why no engine could be loaded, said when Generate is asked for
        self.executor = executor if executor is not None else SyncExecutor()
        self.primer_reading: Path | None = None  # a primer file being read in the background
        self._primer_job = 0  # bumped by each open_primer / cancel_primer: stale results are dropped
        card = engine.pack.card if engine is not None else None
        self.settings = settings if settings is not None else GenerationSettings.from_card(card)
        self.state = State()
        self.history = History(self._apply)
        self.history.listeners.append(lambda: self._emit("history"))
        self.locks = [False] * len(LANES)
        self.mutes = [False] * len(LANES)
        self.solos = [False] * len(LANES)
        self.lineup = [True] * len(LANES)  # "In": Generate gives the lane a part
        self.primer: Path | None = None
        self.primer_bpm: float | None = None  # the primer's tempo: the next Generate plays at it
        self.primer_key: str | None = None  # the primer's estimated key ("E minor"): "From primer" uses it
        self._tempo_before_primer: float | None = None  # the tempo a primer's own replaced: Clear primer restores it
        self.part: Path | None = None  # the part followed: the next Generate makes a band around it, kept whole
        self.part_song: Song | None = None  # that part on the pack's grid (None when read before the engine loaded)
        self.part_bpm: float | None = None  # the part's tempo: the next Generate plays at it
        self.part_reading: Path | None = None  # a part file being read in the background
        self._part_job = 0
        self.density: dict[str, float] = {}  # per-lane density of the takes and of the next Generate
        self.feel: dict = {}  # swing / humanize of the takes and of the next Generate (feel.check_feel values)
        self.seed: int | None = None  # the seed shown: the last one used, or one typed or rolled
        self.seed_locked = False
        self.seed_typed = False  # a seed typed (or rolled) since the last Generate is used even unlocked
        self.path: Path | None = None  # the sketch's file
        self.opened_settings: dict = {}  # the settings of the sketch file opened last
        self.last_seconds: float | None = None
        self.last_error: str | None = None
        self.generate_when_ready = False  # Generate was asked for while the engine loaded
        self.pending: tuple | None = None  # a job asked for while the executor was busy
        self.listeners: list[Listener] = []

    # --- listeners -----------------------------------------------------------------------------
    def listen(self, listener: Listener) -> Listener:
        self.listeners.append(listener)
        return listener

    def _emit(self, event: str, *args) -> None:
        for listener in list(self.listeners):
            listener(event, *args)

    def _status(self, text: str, ms: int = 0) -> None:
        self._emit("status", text, ms)

    def _error(self, title: str, text: str) -> None:
        self.last_error = text
        self._emit("error", title, text)

    # --- reading -------------------------------------------------------------------------------
    @property
    def song(self) -> Song | None:
        """The current take."""
        return self.state.song

    @property
    def takes(self) -> tuple[Song, ...]:
        return self.state.takes

    @property
    def index(self) -> int:
        return self.state.index

    @property
    def dirty(self) -> bool:
        """Modified since it was opened or saved."""
        return not self.history.is_clean

    @property
    def busy(self) -> bool:
        return bool(getattr(self.executor, "busy", False))

    def _lane_lists(self) -> tuple[tuple[str, list[bool]], ...]:
        return (("locks", self.locks), ("mutes", self.mutes), ("solos", self.solos), ("lineup", self.lineup))

    def lane_mutes(self) -> list[bool]:
        """Per lane: True when playback should leave it silent (muted, or another lane is soloed)."""
        return [m or (any(self.solos) and not s) for m, s in zip(self.mutes, self.solos)]

    def audible_lanes(self) -> list[int] | None:
        mutes = self.lane_mutes()
        return None if not any(mutes) else [i for i, m in enumerate(mutes) if not m]

    def programs(self) -> list[int]:
        return list(self.song.programs) if self.song is not None else list(DEFAULT_PROGRAMS)

    def file_stem(self) -> str:
        if self.path is not None:
            return self.path.stem
        seed = (self.song.settings or {}).get("seed") if self.song is not None else None
        return f"sketch-{seed}" if seed is not None else "sketch"

    # --- settings of the next Generate ------------------------------------------------------------
    def update_settings(self, **changes) -> None:
        """Change the next Generate's settings (noise, steps, variations...); the takes stay as they are.

        Checked through limits.py (GenerationSettings.validated): a bad value raises InvalidValue and
        changes nothing."""
        if changes:
            self.settings = self.settings.replace(**changes).validated()
            self._emit("settings")

    def set_seed(self, seed: int | None, typed: bool = True) -> None:
        """A seed typed or rolled: the next Generate uses it even when the seed is not locked."""
        self.seed = None if seed is None else int(seed)
        self.seed_typed = typed and self.seed is not None
        self._emit("settings")

    def roll_seed(self) -> int:
        self.set_seed(secrets.randbelow(SEED_RANGE))
        return self.seed

    def lock_seed(self, locked: bool) -> None:
        self.seed_locked = bool(locked)
        self._emit("settings")

    def set_lane(
        self,
        lane: int | str,
        *,
        lock: bool | None = None,
        mute: bool | None = None,
        solo: bool | None = None,
        lineup: bool | None = None,
    ) -> None:
        """Lock, mute, solo or take a lane in or out of the band (None: unchanged)."""
        i = lane_index(lane)
        changed = False
        for values, on in ((self.locks, lock), (self.mutes, mute), (self.solos, solo), (self.lineup, lineup)):
            if on is not None and values[i] != bool(on):
                values[i] = bool(on)
                changed = True
        if changed:
            self._emit("lanes")

    # --- long work --------------------------------------------------------------------------------
    def set_engine(self, engine) -> None:
        """The engine has loaded: a Generate asked for meanwhile runs now."""
        self.engine = engine
        self.engine_error = None
        if self.generate_when_ready:
            self.generate_when_ready = False
            self.generate()

    def engine_failed(self, text: str) -> None:
        self.engine_error = text

    def _engine_usable(self, what: str) -> bool:
        if self.engine is not None:
            return True
        if self.engine_error:
            self._error("No model pack", self.engine_error)
        elif what == "Generate":
            self.generate_when_ready = True
            self._status("The model is still loading; Generate runs as soon as it is ready", 5000)
        else:
            self._status(f"The model is still loading; {what} again in a moment", 5000)
        return False

    def _submit(self, what: str, fn, on_done) -> bool:
        if self.busy:
            self.pending = (what, fn, on_done)
            self._status(f"Busy: {what} is queued and runs when the current job finishes", 5000)
            return False
        self._status(f"{what}…")
        return self.executor.submit(fn, on_done, lambda exc: self._error(f"{what} failed", message(exc)))

    def run_pending(self) -> bool:
        """Start the job queued while the executor was busy (the window calls this when its worker is free)."""
        if self.pending is None or self.busy:
            return False
        what, fn, on_done = self.pending
        self.pending = None
        return self._submit(what, fn, on_done)

    def _timing(self, secs: float) -> None:
        self.last_seconds = secs
        self._emit("timing", secs)

    def generation_args(self) -> dict:
        """What the next Generate passes to the engine (and picks the seed it uses)."""
        s = self.settings
        use_typed = self.seed_locked or self.seed_typed  # typing a seed means "use this seed"
        seed = self.seed if use_typed else None
        seed = secrets.randbelow(SEED_RANGE) if seed is None else seed
        locked = [LANES[i] for i, on in enumerate(self.locks) if on]
        keep = self.song if locked and self.song is not None else None
        args = s.engine_args()
        args.update(
            seed=seed,
            primer=str(self.primer) if self.primer else None,
            tempo=float(self.primer_bpm or s.tempo),
            keep=keep,
            keep_lanes=locked if keep is not None else (),
            lineup=[LANES[i] for i, on in enumerate(self.lineup) if on] or None,
        )
        if self.part is not None:  # the part is kept whole: it sets the length and the key; no primer, no locks
            args.update(
                follow=self.part_song if self.part_song is not None else str(self.part),
                primer=None,
                keep=None,
                keep_lanes=(),
                key=None,
                tempo=float(self.part_bpm or s.tempo),
            )
        args.update(self.arrangement_args(args["steps"]))  # the chord chart and sections (session_chords.py)
        return args

    def part_lanes(self, song: Song | None = None) -> list[int]:
        """The lanes of a take (default: the current one) that are the user's own part, kept as played."""
        song = self.song if song is None else song
        if song is None:
            return []
        names = [n for n in str(song.settings.get("part_lanes") or "").split(",") if n in LANES]
        return [LANES.index(n) for n in names]

    def generate(self, text: str | None = None) -> bool:
        """Generate with the session's settings (locked lanes kept; a followed part kept whole, the band
        around it); False if it could not start now. `text` names the undo step (default "Generate").

        With the default SyncExecutor the new takes are in place when this returns.
        """
        if not self._engine_usable("Generate"):
            return False
        try:
            self.settings.validated(self.engine.pack.config.chunk_steps)  # steps x variations fit in memory
        except InvalidValue as exc:
            self._error("Generate failed", str(exc))
            return False
        args = self.generation_args()
        self.seed, self.seed_typed = args["seed"], False
        self._emit("settings")
        engine = self.engine
        return self._submit(
            "Generate", lambda: engine.generate_takes(**args), lambda songs, secs: self._generated(songs, secs, text)
        )

    def _generated(self, songs: list[Song], secs: float, text: str | None = None) -> None:
        programs = self.programs()
        takes = tuple(self._dressed(dataclasses.replace(s, programs=list(programs))) for s in songs)
        text = text or ("Generate" if len(takes) == 1 else f"Generate {len(takes)} takes")
        self._change(State(takes, 0), text)
        self._timing(secs)

    def regenerate_lane(self, lane: int | str) -> bool:
        """A new part for one lane of the current take; the other lanes stay."""
        li = lane_index(lane)
        if not self._engine_usable(f"Regenerate {LANES[li]}"):
            return False
        song = self.song
        if song is None:
            self._status("Generate a sketch first, then regenerate its lanes", 5000)
            return False
        if li in self.part_lanes(song):
            self._status(f"{LANES[li].capitalize()} is your part: it stays as you played it", 8000)
            return False
        engine, noise = self.engine, self.settings.noise

        def done(new: Song, secs: float) -> None:
            self.replace_take(new, f"Regenerate {LANES[li]}")
            self._timing(secs)

        return self._submit(f"Regenerate {LANES[li]}", lambda: engine.regenerate_lane(song, li, noise=noise), done)

    def continue_song(self, chunks: int = JAM_CHUNKS, merge: int = JAM_MERGE, text: str = "Jam: continue") -> bool:
        """Jam: continue the current take by `chunks` chunks; False when it cannot start now.

        Consecutive continuations undo as one step; a result that arrives after the user changed the
        sketch is dropped."""
        song, engine = self.song, self.engine
        if song is None or engine is None or self.busy:
            return False

        def done(longer: Song, secs: float) -> None:
            if self.song is song:  # the user has not changed the sketch meanwhile
                self.replace_take(longer, text, merge=merge)
                self._timing(secs)

        return self.executor.submit(
            lambda: engine.continue_song(song, chunks), done, lambda exc: self._error("Jam stopped", str(exc))
        )

    jam = continue_song

    # --- changes (all undoable) -------------------------------------------------------------------
    def _change(self, after: State, text: str, merge: int = -1) -> None:
        self.history.push(self.state, after, text, merge)

    def _apply(self, state: State) -> None:
        self.state = state
        song = state.song
        if song is not None:  # the next Generate starts from what is on screen, as the sliders show it
            self.settings = self.settings.replace(threshold=float(song.threshold), tempo=float(song.tempo))
            self.density = song.density
            feel = song.feel
            self.feel = {key: getattr(feel, key) for key in FEEL_KEYS}
        self._emit("song")

    def _dressed(self, song: Song) -> Song:
        """A new take with the density and feel the controls show (a Generate keeps them, like the threshold)."""
        if self.density:
            song = song.with_density(self.density)
        if self.feel:
            song = song.with_feel(**self.feel)
        return song

    def replace_take(self, song: Song, text: str, merge: int = -1) -> None:
        """Swap the current take for a changed one (a regenerated lane, a Jam continuation), undoably."""
        takes = list(self.state.takes)
        takes[self.state.index] = song
        self._change(State(tuple(takes), self.state.index), text, merge)

    def _map_takes(self, text: str, merge: int, change: Callable[[Song], Song]) -> None:
        if self.state.takes:
            takes = tuple(change(s) for s in self.state.takes)
            self._change(State(takes, self.state.index), text, merge)

    def set_threshold(self, value: float) -> None:
        """Re-threshold every take's stored probabilities: no engine call, no new randomness.

        The next Generate uses it too, and each take's settings record it (an export says the threshold
        its notes were cut at). A value outside (0, 1) raises InvalidValue and changes nothing."""
        value = check_threshold(value)
        if abs(self.settings.threshold - value) > 1e-12:
            self.settings = self.settings.replace(threshold=value)
        if self.song is not None and abs(self.song.threshold - value) > 1e-9:
            self._map_takes(
                f"Threshold {value:.2f}",
                MERGE_THRESHOLD,
                lambda s: dataclasses.replace(s, threshold=value, settings={**s.settings, "threshold": value}),
            )

    def transpose(self, semitones: int) -> None:
        """Move every take's pitched lanes by `semitones` (-12..12): one action, one undo step; drums stay.

        Each take's key, chords and its transposition from the pack's key space move with it, so a later
        regenerate, Jam or infill continues in the new key.
        """
        from ..theory.chords import ChordError, parse_chord
        from ..theory.keys import key_name, parse_key, transpose_roll

        semitones = check_int("semitones", semitones, -12, 12)
        if not semitones or self.song is None:
            return
        for n, take in enumerate(self.state.takes):  # a sketch file holds each take's shift within limits
            now = int(take.settings.get("transpose", 0))
            if not -MAX_TRANSPOSE <= now + semitones <= MAX_TRANSPOSE:
                self._error(
                    "Cannot transpose",
                    f"Take {n + 1} is already {now:+d} semitones from its pack's key; {semitones:+d} more would pass "
                    f"{MAX_TRANSPOSE} either way, where no note is left on the keyboard. Transpose the other way.",
                )
                return

        def moved(symbol: str | None) -> str | None:
            try:
                return None if symbol is None else parse_chord(symbol).transposed(semitones).symbol
            except ChordError:
                return symbol  # not a chord this app reads: it stays as the user wrote it

        def move(song: Song) -> Song:
            settings = dict(song.settings)
            settings["transpose"] = int(settings.get("transpose", 0)) + semitones
            try:
                tonic, mode = parse_key(str(settings.get("key") or "").split(" / ")[0])
                settings["key"] = key_name(((tonic + semitones) % 12, mode))
            except ValueError:
                pass
            return dataclasses.replace(
                song,
                probs=transpose_roll(song.probs, semitones),
                settings=settings,
                chords=[moved(c) for c in song.chords],
            )

        self._map_takes(f"Transpose {semitones:+d}", NO_MERGE, move)

    def set_key(self, key: str | None, scale_lock: bool | None = None) -> None:
        """The key of the next Generate ("E minor", "Bb major"; None or "": the primer's key, else C major /
        A minor) and whether scale lock keeps its pitched notes in the scale. Saved with the sketch; a bad
        key raises InvalidValue and changes nothing. The takes stay as they are (Transpose moves them)."""
        changes: dict = {"key": key or None}
        if scale_lock is not None:
            changes["scale_lock"] = bool(scale_lock)
        self.update_settings(**changes)

    def take_key(self) -> str | None:
        """The current take's key as the engine recorded it ("E minor"), or None."""
        if self.song is None:
            return None
        return str(self.song.settings.get("key") or "").split(" / ")[0] or None

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
            self._map_takes(f"Density {text}", MERGE_DENSITY + li, lambda s: s.with_density(density))

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
            self._map_takes(text, MERGE_FEEL + FEEL_KEYS.index(first), lambda s: s.with_feel(**checked))

    def infill(self, start_bar: int, end_bar: int, lanes=None, seed: int | None = None) -> bool:
        """New material for bars start_bar..end_bar (1-based, inclusive; snapped out to whole chunks) of `lanes`
        (None: every lane in the band) of the current take: one undo step. Every note outside the range and of
        the other lanes stays bit-identical. With Variations above 1 the take is replaced by that many
        candidates, side by side in the take strip. False when it could not start now."""
        if not self._engine_usable("Regenerate bars"):
            return False
        song = self.song
        if song is None:
            self._status("Generate a sketch first, then regenerate its bars", 5000)
            return False
        start_bar = check_int("start bar", start_bar, 1, song.n_bars)
        end_bar = check_int("end bar", end_bar, start_bar, song.n_bars)
        names = None if lanes is None else [LANES[i] for i in sorted({lane_index(x) for x in lanes})]
        if names is not None and not names:
            raise InvalidValue("choose at least one lane to regenerate")
        mine = self.part_lanes(song)
        if mine:  # the user's own part stays as played: only the band's lanes get new bars
            band = [LANES[i] for i in range(len(LANES)) if self.lineup[i]] if names is None else names
            names = [n for n in band if LANES.index(n) not in mine]
            if not names:
                raise InvalidValue("those lanes are your part and stay as you played them: pick a band lane")
        per_chunk = max(song.chunk_steps // song.steps_per_bar, 1)
        first, last = (start_bar - 1) // per_chunk * per_chunk + 1, -(-end_bar // per_chunk) * per_chunk
        which = "all lanes" if names is None or len(names) == len(LANES) else ", ".join(names)
        text = f"Regenerate bars {first}-{last} ({which})"
        engine, variations = self.engine, int(self.settings.variations)
        if seed is None and (self.seed_locked or self.seed_typed):
            seed = self.seed

        def done(result, secs: float) -> None:
            new = result if isinstance(result, list) else [result]
            takes = list(self.state.takes)
            i = next((j for j, take in enumerate(takes) if take is song), None)  # where the take is now
            if i is None:  # the take was undone or dropped meanwhile: the result becomes a take of its own
                takes.extend(new)
                i = len(takes) - len(new)
            else:
                takes[i : i + 1] = new
            self._change(State(tuple(takes), i), text)
            self._timing(secs)

        return self._submit(
            text, lambda: engine.infill(song, start_bar, end_bar, names, seed=seed, variations=variations), done
        )

    def morph_to_take(self, index: int, steps: int = 8) -> bool:
        """A new take whose `steps` chunks move through the VAEs' latent space from the current take's opening
        to take `index`'s (0-based), lane by lane; locked lanes keep the current take's. One undo step; the
        morph becomes the current take. False when it could not start now."""
        if not self._engine_usable("Morph"):
            return False
        if len(self.state.takes) < 2:
            self._status("Morph needs two takes: Generate with Variations above 1", 5000)
            return False
        index = check_int("take", index, 0, len(self.state.takes) - 1)
        steps = check_int("morph steps", steps, 2, MAX_MORPH_STEPS)
        if index == self.state.index:
            raise InvalidValue(f"take {index + 1} is the current take: morph to another one")
        a, b, engine = self.song, self.state.takes[index], self.engine
        keep = [LANES[i] for i, on in enumerate(self.locks) if on]
        text = f"Morph take {self.state.index + 1} to take {index + 1}"

        def done(result: Song, secs: float) -> None:
            new = dataclasses.replace(result, programs=list(a.programs))
            takes = self.state.takes + (new,)
            self._change(State(takes, len(takes) - 1), text)
            self._timing(secs)

        return self._submit(text, lambda: engine.morph(a, b, steps, keep_lanes=keep), done)

    def set_tempo(self, bpm: float) -> None:
        """The tempo of every take (and of the next Generate); a primer's own tempo no longer applies."""
        bpm = check_tempo(bpm)
        self.primer_bpm = self.part_bpm = None  # the user's tempo wins over the primer's (and the part's) from now on
        self.settings = self.settings.replace(tempo=bpm)
        if self.song is not None and abs(self.song.tempo - bpm) > 1e-9:
            self._map_takes(f"Tempo {bpm:.0f}", MERGE_TEMPO, lambda s: dataclasses.replace(s, tempo=bpm))

    def set_program(self, lane: int | str, program: int) -> None:
        li = lane_index(lane)
        programs = self.programs()
        programs[li] = check_program(program)
        self._map_takes(
            f"{LANES[li].capitalize()} instrument",
            MERGE_PROGRAM,
            lambda s: dataclasses.replace(s, programs=list(programs)),
        )

    def pick_take(self, index: int) -> None:
        if 0 <= index < len(self.state.takes) and index != self.state.index:
            self._change(State(self.state.takes, index), f"Take {index + 1}")

    def keep_take(self) -> None:
        """Keep only the current take."""
        if len(self.state.takes) > 1:
            self._change(State((self.song,), 0), f"Keep take {self.state.index + 1}")

    def undo(self) -> bool:
        return self.history.undo()

    def redo(self) -> bool:
        return self.history.redo()

    # --- files ------------------------------------------------------------------------------------
    def open_primer(self, path: str | Path) -> bool:
        """Seed the next Generate from a .mid; a file we cannot use says why and changes nothing.

        The file is read through the executor (off the window's thread: a large file takes seconds);
        `cancel_primer()` while it reads drops the result. Returns False if it could not start.
        """
        path = Path(path)
        self._primer_job += 1
        job = self._primer_job
        engine = self.engine

        def read():  # the file is read once: its first chunk is checked (and its key estimated), its tempo kept
            from ..theory.keys import estimate_key, key_name

            notes = read_notes(path)
            key = None
            if engine is not None:
                cfg = engine.pack.config
                chunk = primer_from_notes(notes, path.name, cfg.steps_per_beat, cfg.chunk_steps)
                found = estimate_key(chunk)
                key = key_name(found) if found is not None else None
            return (round(notes.tempo, 2) if notes.tempo_given else None), key

        def done(result, _secs) -> None:
            if job != self._primer_job:  # cancelled, or another primer asked for since
                return
            bpm, self.primer_key = result
            if self.primer is None or self.primer_bpm is None:  # the tempo before any primer set one
                self._tempo_before_primer = float(self.settings.tempo)
            self.primer = path
            self.primer_bpm = min(max(bpm, self.tempo_range[0]), self.tempo_range[1]) if bpm else None
            self.primer_reading = None
            self._emit("primer")
            at = f" at {self.primer_bpm:.0f} BPM" if self.primer_bpm else ""
            self._status(f"The next Generate starts from {path.name}{at}", 5000)

        def failed(exc) -> None:
            if job != self._primer_job:
                return
            self.primer_reading = None
            self._emit("primer")
            self._error("Cannot use this primer", message(exc))

        if self.busy:
            self._status("Busy: open the primer again when the current job finishes", 5000)
            return False
        self.primer_reading = path
        self._status(f"Reading {path.name}… (Esc cancels)")
        self.executor.submit(read, done, failed)
        if self.primer_reading is None:  # the executor ran it at once (tests, scripts): say how it went
            return self.primer == path
        return True

    def cancel_primer(self) -> bool:
        """Stop waiting for a primer (or a part) being read: its result is dropped and the current one stays."""
        if self.part_reading is not None:
            self._part_job += 1
            name = self.part_reading.name
            self.part_reading = None
            self._emit("part")
            self._status(f"Stopped reading {name}; the part followed is unchanged", 5000)
            return True
        if self.primer_reading is None:
            return False
        self._primer_job += 1
        name = self.primer_reading.name
        self.primer_reading = None
        self._emit("primer")
        self._status(f"Stopped reading {name}; the primer is unchanged", 5000)
        return True

    def clear_primer(self) -> None:
        """No primer for the next Generate. Where the primer's tempo is still in force (not overridden in the
        Tempo box), the tempo the sketch had before it comes back (else the default); takes made at the
        primer's tempo move back with it, as one undo step."""
        applied, before = self.primer_bpm, self._tempo_before_primer
        self.primer = self.primer_bpm = self.primer_key = self._tempo_before_primer = None
        if applied is not None:
            bpm = check_tempo(before if before is not None else DEFAULT_TEMPO)
            self.settings = self.settings.replace(tempo=bpm)
            if self.song is not None and abs(self.song.tempo - applied) < 0.01 and abs(bpm - applied) > 1e-9:
                self._map_takes(f"Tempo {bpm:.0f}", NO_MERGE, lambda s: dataclasses.replace(s, tempo=bpm))
        self._emit("primer")

    # --- a part to follow -------------------------------------------------------------------------
    def follow_part(self, path: str | Path, then_generate: bool = False, text: str | None = None) -> bool:
        """Follow the musician's part in a .mid: every lane it plays is kept whole and the next Generate
        makes the band around it (at its length, key and tempo). Read through the executor like a primer;
        a file with no notes, too long or unreadable says why and changes nothing. `then_generate` runs
        Generate once it is read (the undo step named `text`). Returns False if it could not start
        (with the SyncExecutor: whether the part is followed now)."""
        path = Path(path)
        self._part_job += 1
        job = self._part_job
        engine = self.engine

        def read():
            notes = read_notes(path)  # a missing, damaged or foreign file: MidiImportError, naming it
            if not len(notes.pitch):
                raise InvalidValue(f"'{path.name}' has no notes to follow: give a MIDI file with a part in it")
            song = engine.read_part(path) if engine is not None else None  # too long: InvalidValue, naming it
            return song, (round(notes.tempo, 2) if notes.tempo_given else None)

        def done(result, _secs) -> None:
            if job != self._part_job:  # cancelled, or another part asked for since
                return
            self.part_song, bpm = result
            self.part, self.part_reading = path, None
            self.part_bpm = min(max(bpm, self.tempo_range[0]), self.tempo_range[1]) if bpm else None
            self._emit("part")
            at = f" at {self.part_bpm:.0f} BPM" if self.part_bpm else ""
            self._status(f"Following {path.name}{at}: the next Generate plays a band around it", 8000)
            if then_generate:
                self.generate(text)

        def failed(exc) -> None:
            if job != self._part_job:
                return
            self.part_reading = None
            self._emit("part")
            self._error("Cannot follow this part", message(exc))

        if self.busy:
            self._status("Busy: follow the part again when the current job finishes", 5000)
            return False
        self.part_reading = path
        self._status(f"Reading {path.name}… (Esc cancels)")
        self.executor.submit(read, done, failed)
        if self.part_reading is None:  # the executor ran it at once (tests, scripts): say how it went
            return self.part == path
        return True

    def stop_following(self) -> None:
        """Generate makes a whole band again; the takes keep the part they were made around."""
        self._part_job += 1
        if self.part is None and self.part_reading is None:
            return
        name = (self.part or self.part_reading).name
        self.part = self.part_song = self.part_bpm = self.part_reading = None
        self._emit("part")
        self._status(f"No longer following {name}: Generate makes a whole band again", 5000)

    def follow_recording(self, recording, folder: str | Path, text: str | None = None) -> Path | None:
        """A part recorded from a MIDI input (playback.recorder.Recording) is written to a .mid in `folder`
        (atomically), followed, and the band generated around it: one undo step named `text` (default
        "Record <lane>"). The file's path, or None (said) when there is nothing to keep or it cannot be
        written; the sketch stays as it is."""
        from ..playback.recorder import write_recording

        if not recording.notes:
            self._error("Nothing recorded", "No notes arrived from the MIDI input: check the input and record again.")
            return None
        programs = self.programs()
        try:
            path = write_recording(recording, folder, program=programs[recording.lane])
        except OSError as exc:
            self._error("Recording not kept", f"Could not write the recording into '{folder}': {exc.strerror or exc}.")
            return None
        self.follow_part(path, then_generate=True, text=text or f"Record {LANES[recording.lane]}")
        return path

    def have_song(self, what: str) -> bool:
        """True when there is a take; else says (an "error" event) that there is nothing to `what` yet."""
        if self.song is None:
            self._error("Nothing to " + what.split()[0], f"There is no sketch to {what} yet: Generate one first.")
        return self.song is not None

    def export_midi(self, path: str | Path) -> Path | None:
        """The DAW-ready file of the current take (muted lanes left out), written atomically.

        Returns the path, or None (said through an "error" event) when there is no sketch or the place
        cannot be written; the sketch stays as it is."""
        if not self.have_song("export"):
            return None
        song, lanes, path = self.song, self.audible_lanes(), Path(path)
        try:
            out = atomic_write(path, lambda f: song_to_midifile(song, lanes).save(file=f))
        except OSError as exc:
            self._error("Export failed", f"Could not write '{path}': {exc.strerror or exc}. Pick another folder.")
            return None
        self._status(f"Exported {out}", 5000)
        return out

    def export_stems(self, folder: str | Path) -> list[Path]:
        """One .mid per lane with notes (folder/<stem>-piano.mid ...), written as a set: all or none."""
        if not self.have_song("export stems"):
            return []
        song, stem, folder = self.song, self.file_stem(), Path(folder)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            items = [
                (folder / f"{stem}-{LANES[lane]}.mid", lambda f, lane=lane: song_to_midifile(song, [lane]).save(file=f))
                for lane in range(len(LANES))
                if lane_notes(song, lane)
            ]
            paths = atomic_write_set(items)
        except OSError as exc:
            self._error("Export failed", f"Could not write stems to '{folder}': {exc.strerror or exc}.")
            return []
        self._status(f"Wrote {len(paths)} stems to {folder}", 5000)
        return paths

    def snapshot(self) -> Sketch | None:
        """The sketch as a file holds it (None when there are no takes yet)."""
        if not self.state.takes:
            return None
        settings = dict(
            primer=str(self.primer) if self.primer else None,
            follow=str(self.part) if self.part else None,
            locks=list(self.locks),
            lineup=list(self.lineup),
            mutes=list(self.mutes),
            solos=list(self.solos),
            path=str(self.path) if self.path else None,
            clean=self.history.is_clean,
            generation={**self.settings.to_dict(), **self.arrangement_settings()},
        )
        return Sketch(list(self.state.takes), self.state.index, settings)

    def save(self, path: str | Path) -> bool:
        """Save the sketch file (atomically, with the user's file mode); it is then not modified."""
        sketch = self.snapshot()
        if sketch is None:
            return self.have_song("save")
        try:
            self.path = sketchfile.save(sketch, path)
        except OSError as exc:
            self._error("Save failed", f"Could not save '{path}': {exc.strerror or exc}. Pick another folder.")
            return False
        self.history.set_clean()
        return True

    save_sketch = save

    def restore(self, sketch: Sketch, text: str = "Restore sketch") -> None:
        """Put a sketch's takes and lane settings back, as one undoable change."""
        settings = dict(sketch.settings or {})
        for key, values in (
            ("locks", self.locks),
            ("mutes", self.mutes),
            ("solos", self.solos),
            ("lineup", self.lineup),
        ):
            for i, on in enumerate((settings.get(key) or [])[: len(LANES)]):
                values[i] = bool(on)
        self.opened_settings = settings
        generation = settings.get("generation") if isinstance(settings.get("generation"), dict) else {}
        if "key" in generation or "scale_lock" in generation:  # the next Generate's key comes back with the sketch
            try:
                self.set_key(generation.get("key", self.settings.key), generation.get("scale_lock"))
            except InvalidValue:
                pass
        self._emit("lanes")
        self._change(State(tuple(sketch.takes), sketch.current), text)
        self.restore_arrangement(generation)

    def open_sketch(self, path: str | Path, text: str = OPEN_TEXT) -> bool:
        """Open a sketch file as an undoable change; a bad, foreign or newer file says why and changes nothing."""
        try:
            sketch = sketchfile.load(path)
        except SketchError as exc:
            self._error("Cannot open sketch", str(exc))
            return False
        self.restore(sketch, text)
        if text == OPEN_TEXT:  # a file just opened is what is on disk: not modified
            self.path = Path(path)
            self.history.set_clean()
        else:  # the last sketch (or a crashed one) comes back under the file name it had, if any
            saved_as = (sketch.settings or {}).get("path")
            self.path = Path(saved_as) if saved_as else self.path
            self._emit("history")
        return True

    @classmethod
    def open(cls, path: str | Path, engine=None, executor=None) -> Session:
        """A new session holding the sketch file at `path`; raises SketchError when it cannot be opened."""
        session = cls(engine, executor)
        sketch = sketchfile.load(path)
        session.restore(sketch, OPEN_TEXT)
        session.path = Path(path)
        session.history.clear()
        return session

    def reopened(self) -> None:
        """A sketch back from the last session: no undo history; modified unless it was saved as it is."""
        self.history.clear()  # a clear history is clean
        if self.path is not None and not self.opened_settings.get("clean", False):
            self.history.reset_clean()
