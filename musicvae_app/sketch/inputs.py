"""What the musician brings to the next Generate: a primer (.mid the band starts from) and a part to follow
(.mid kept whole, the band made around it). Each is read through the executor, off the window's thread (a
large file takes seconds); `cancel` while it reads drops the result, and a file we cannot use says why and
changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..errors import InvalidValue
from ..limits import MAX_TEMPO, MIN_TEMPO
from .jobs import Events, Jobs, message
from .midi import primer_from_notes, read_notes
from .song import Song


class Inputs:
    """The primer and the followed part of the next Generate, with their tempo (and the primer's key)."""

    def __init__(self, jobs: Jobs, events: Events) -> None:
        self.jobs = jobs
        self.events = events
        self.tempo_range: tuple[float, float] = (MIN_TEMPO, MAX_TEMPO)  # a file's own tempo is clamped to this
        self.primer: Path | None = None
        self.primer_bpm: float | None = None  # the primer's tempo: the next Generate plays at it
        self.primer_key: str | None = None  # the primer's estimated key ("E minor"): "From primer" uses it
        self.primer_reading: Path | None = None  # a primer file being read in the background
        self.tempo_before_primer: float | None = None  # the tempo a primer's own replaced: Clear primer restores it
        self.part: Path | None = None  # the part followed: the next Generate makes a band around it, kept whole
        self.part_song: Song | None = None  # that part on the pack's grid (None when read before the engine loaded)
        self.part_bpm: float | None = None  # the part's tempo: the next Generate plays at it
        self.part_reading: Path | None = None  # a part file being read in the background
        self._primer_job = 0  # bumped by each open / cancel: stale results are dropped
        self._part_job = 0

    def _clamped(self, bpm: float | None) -> float | None:
        return min(max(bpm, self.tempo_range[0]), self.tempo_range[1]) if bpm else None

    def _busy(self, what: str) -> bool:
        if self.jobs.busy:
            self.events.status(f"Busy: {what} again when the current job finishes", 5000)
        return self.jobs.busy

    def open_primer(self, path: str | Path, tempo_now: float) -> bool:
        """Seed the next Generate from a .mid (`tempo_now`: the tempo Clear primer brings back). False if it could
        not start; with an executor that runs at once, whether the primer is in place."""
        path = Path(path)
        self._primer_job += 1
        job = self._primer_job
        engine = self.jobs.engine

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
                self.tempo_before_primer = float(tempo_now)
            self.primer, self.primer_bpm, self.primer_reading = path, self._clamped(bpm), None
            self.events.emit("primer")
            at = f" at {self.primer_bpm:.0f} BPM" if self.primer_bpm else ""
            self.events.status(f"The next Generate starts from {path.name}{at}", 5000)

        def failed(exc) -> None:
            if job != self._primer_job:
                return
            self.primer_reading = None
            self.events.emit("primer")
            self.events.error("Cannot use this primer", message(exc))

        if self._busy("open the primer"):
            return False
        self.primer_reading = path
        self.events.status(f"Reading {path.name}… (Esc cancels)")
        self.jobs.executor.submit(read, done, failed)
        if self.primer_reading is None:  # the executor ran it at once (tests, scripts): say how it went
            return self.primer == path
        return True

    def cancel(self) -> bool:
        """Stop waiting for a primer (or a part) being read: its result is dropped and the current one stays."""
        if self.part_reading is not None:
            self._part_job += 1
            name = self.part_reading.name
            self.part_reading = None
            self.events.emit("part")
            self.events.status(f"Stopped reading {name}; the part followed is unchanged", 5000)
            return True
        if self.primer_reading is None:
            return False
        self._primer_job += 1
        name = self.primer_reading.name
        self.primer_reading = None
        self.events.emit("primer")
        self.events.status(f"Stopped reading {name}; the primer is unchanged", 5000)
        return True

    def clear_primer(self) -> tuple[float | None, float | None]:
        """No primer; returns (the primer's tempo that was in force, the tempo before it) for the Session."""
        applied, before = self.primer_bpm, self.tempo_before_primer
        self.primer = self.primer_bpm = self.primer_key = self.tempo_before_primer = None
        return applied, before

    def follow(self, path: str | Path, then: Callable[[], object] | None = None) -> bool:
        """Follow the musician's part in a .mid; `then()` runs once it is read (the Session's Generate)."""
        path = Path(path)
        self._part_job += 1
        job = self._part_job
        engine = self.jobs.engine

        def read():  # the file is read once: its notes make the part on the pack's grid, its tempo is kept
            notes = read_notes(path)  # a missing, damaged or foreign file: MidiImportError, naming it
            if not len(notes.pitch):
                raise InvalidValue(f"'{path.name}' has no notes to follow: give a MIDI file with a part in it")
            song = engine.read_part(notes) if engine is not None else None  # too long: InvalidValue, naming it
            return song, (round(notes.tempo, 2) if notes.tempo_given else None)

        def done(result, _secs) -> None:
            if job != self._part_job:  # cancelled, or another part asked for since
                return
            self.part_song, bpm = result
            self.part, self.part_reading, self.part_bpm = path, None, self._clamped(bpm)
            self.events.emit("part")
            at = f" at {self.part_bpm:.0f} BPM" if self.part_bpm else ""
            self.events.status(f"Following {path.name}{at}: the next Generate plays a band around it", 8000)
            if then is not None:
                then()

        def failed(exc) -> None:
            if job != self._part_job:
                return
            self.part_reading = None
            self.events.emit("part")
            self.events.error("Cannot follow this part", message(exc))

        if self._busy("follow the part"):
            return False
        self.part_reading = path
        self.events.status(f"Reading {path.name}… (Esc cancels)")
        self.jobs.executor.submit(read, done, failed)
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
        self.events.emit("part")
        self.events.status(f"No longer following {name}: Generate makes a whole band again", 5000)

    def follow_recording(self, recording, folder: str | Path, program: int, then: Callable[[], object]) -> Path | None:
        """A recording (playback.recorder.Recording) written to a .mid in `folder` with `program`, then
        followed (`then()` once it is read); None (said) when there is nothing to keep or no place for it."""
        path = self.keep_recording(recording, folder, program)
        if path is not None:
            self.follow(path, then)
        return path

    def keep_recording(self, recording, folder: str | Path, program: int) -> Path | None:
        """The recording written as played to a new .mid in `folder`; None (said) when there is nothing to keep
        or no place for it."""
        from ..playback.recorder import write_recording

        if not recording.notes:
            self.events.error(
                "Nothing recorded", "No notes arrived from the MIDI input: check the input and record again."
            )
            return None
        try:
            path = write_recording(recording, folder, program=program)
        except OSError as exc:
            self.events.error(
                "Recording not kept", f"Could not write the recording into '{folder}': {exc.strerror or exc}."
            )
            return None
        return path
