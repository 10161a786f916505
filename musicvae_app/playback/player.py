"""A sequencer clock: a thread that sends a Song's scheduled messages to a mido output port in time.

The thread sleeps until shortly before each event, then spins on `time.perf_counter` so messages
leave within a fraction of a millisecond of their time. All sends happen under one lock, so a stop
from the UI thread can never race a note-on into a port after its panic: no stuck notes, ever.
Any open mido output works: an rtmidi port, our virtual port, the built-in synth, an in-memory port.

Two things make it a band that plays with others (issue 30): `clock_out` sends MIDI clock (24 per quarter
note), Start / Stop / Continue and Song Position Pointer among the notes, from the same thread, so a DAW
set to external sync follows it; and a `timebase` (clock.ClockIn, link.LinkSession) makes the player
keep time by someone else's beat instead of the wall: its clock then reads the timebase's beats (scaled
to the song's seconds), so every note is due at a beat of the external clock, at whatever tempo it runs.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Callable

import mido
import numpy as np

from ..errors import InvalidValue
from ..sketch.song import Song
from .clock import CLOCK_EVENT_ORDER, ask_realtime, clock_ticks, position_message, snap_to_sixteenth
from .schedule import Lanes, audible_lanes, loop_steps, schedule, seconds_per_beat

SPIN_SECONDS = 0.002  # wake this early, then spin: OS sleeps overshoot by ~0.1-1 ms under load
EPSILON = 1e-6
SYNC_NAP_SECONDS = 0.0002  # following an external beat, the wait before a due message naps this long at a time


def panic_messages() -> list[mido.Message]:
    """All Notes Off (CC123) and Reset All Controllers (CC121) on every channel."""
    return [mido.Message("control_change", channel=ch, control=cc, value=0) for ch in range(16) for cc in (123, 121)]


class Player:
    """Plays a Song to `output`; play / pause / stop / seek / loop, with mutes and song changes on the fly.

    `loop`: None plays once and stops at the end; True loops the whole sketch; (start, end) loops
    that region, in beats. `on_error(message)` is called from the clock thread when the port fails.
    """

    def __init__(
        self,
        output,
        on_error: Callable[[str], None] | None = None,
        spin_seconds: float = SPIN_SECONDS,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.output = output
        self.on_error = on_error
        self.error: str | None = None
        self.clock = clock
        self.timebase = None  # an external beat (clock.ClockIn, link.LinkSession): set_timebase()
        self.clock_out = False  # send MIDI clock, Start/Stop/Continue and Song Position: set_clock_out()
        self._clock_running = False  # a Start/Continue was sent and no Stop since
        self._resume_beats = 0.0  # where the last start/seek began (the Song Position a Continue names)
        self._first_pass = False  # no loop wrap since then
        self._spin = spin_seconds
        self._cond = threading.Condition()  # guards all state below and every send to the port
        self._song: Song | None = None
        self._mutes: Lanes = None
        self._solos: Lanes = None
        self._loop: bool | tuple[float, float] | None = None
        self._programs: list[mido.Message] = []
        self._events: list[tuple[float, mido.Message]] = []
        self._times: list[float] = []
        self._start_beat = 0.0  # the region: where region time 0 falls, and one pass's length
        self._period = 0.0
        self._beat_seconds = 0.5
        self._playing = False
        self._pos_beats = 0.0  # the playhead while not playing
        self._origin = 0.0  # clock time of region time 0 of the current pass
        self._cursor = 0
        self._last_sent: float | None = None  # region time of the last batch sent in this pass
        self._need_programs = False
        self._sounding: set[tuple[int, int]] = set()
        self._generation = 0  # bumped by every jump, so a spinning thread drops a stale batch
        self._thread: threading.Thread | None = None
        self._closed = False
        self._cache = _ScheduleCache()

    # --- what the window reads ---------------------------------------------------------------
    @property
    def is_playing(self) -> bool:
        return self._playing

    @property
    def song(self) -> Song | None:
        return self._song

    @property
    def loop(self) -> bool | tuple[float, float] | None:
        return self._loop

    @property
    def pass_origin(self) -> float:
        """Clock time at which the current pass's first event is due (for timing measurements)."""
        return self._origin

    @property
    def position_beats(self) -> float:
        """The playhead, in beats from the start of the sketch."""
        with self._cond:
            return self._now_beats()

    # --- sync ----------------------------------------------------------------------------------
    def set_timebase(self, timebase) -> None:
        """Keep time by `timebase.beats()` (an external beat; None: the wall). Stops first: the playhead stays."""
        with self._cond:
            if self._playing:
                self._halt(self._now_beats())
            self.timebase = timebase
            self._cond.notify_all()

    def set_clock_out(self, on: bool) -> None:
        """Send MIDI clock and Start/Stop/Continue/Song Position from the next Play or seek on; turned off
        mid-play, the ticks end at once with a Stop (the notes play on)."""
        with self._cond:
            on = bool(on)
            if on == self.clock_out:
                return
            if not on and self._clock_running:
                self._clock_running = False
                self._send(mido.Message("stop"))
            self.clock_out = on
            if self._playing and not on:
                self._swap(keep=True)

    def nudge(self) -> None:
        """The timebase moved (a clock tick arrived): wake the clock thread to look at it now."""
        with self._cond:
            self._cond.notify_all()

    def _now(self) -> float:
        """The clock the schedule runs by: the wall, or the timebase's beats in this song's seconds."""
        timebase = self.timebase
        if timebase is None:
            return self.clock()
        return timebase.beats() * self._beat_seconds

    def _rate(self) -> float:
        """How many of the schedule's seconds pass in one second of the wall (1 without a timebase)."""
        timebase = self.timebase
        if timebase is None:
            return 1.0
        return max(timebase.tempo() / 60.0 * self._beat_seconds, 1e-3)

    # --- transport -----------------------------------------------------------------------------
    def play(
        self, song: Song | None = None, loop: bool | tuple[float, float] | None = None, at: float | None = None
    ) -> None:
        """Start (or restart) from the playhead; with no song, the last one given.

        `at`: when the playhead's beat is to sound, on the player's clock: a perf_counter time (later than now: the
        band comes in on a recording's first downbeat), or with a timebase, its beat (a Link bar line, the tick
        after a MIDI Start); None: now."""
        self._warm(song or self._song, self._mutes, self._solos, loop)
        with self._cond:
            if song is None and self._song is None:
                raise InvalidValue("nothing to play: generate or open a sketch first")
            if isinstance(loop, tuple):
                loop_steps(song or self._song, loop)  # a bad region raises before anything changes
            if self._playing:
                self._silence()
            here = self._now_beats()
            self.error = None
            self._song = song if song is not None else self._song
            self._loop = loop
            self._reschedule()
            self._start_at(self._clamp(here), at)
            self._playing = True
            self._ensure_thread()
            self._cond.notify_all()

    def stop(self) -> None:
        """Stop, silence everything and return the playhead to the start (of the loop region)."""
        with self._cond:
            self._halt(self._start_beat)

    def pause(self) -> None:
        """Stop and silence, keeping the playhead where it is."""
        with self._cond:
            self._halt(self._now_beats())

    def seek(self, beats: float, at: float | None = None) -> None:
        """Move the playhead (outside the region: to its start); while playing, silence and go on from there
        (at the timebase's beat `at` where given, else now)."""
        with self._cond:
            beats = self._clamp(float(beats))
            if self._playing:
                self._silence()
                self._start_at(beats, at)
                self._cond.notify_all()
            else:
                self._pos_beats = beats

    def set_loop(self, loop: bool | tuple[float, float] | None) -> None:
        """Change looping on the fly; a playhead outside the new region jumps to its start."""
        self._warm(self._song, self._mutes, self._solos, loop)
        with self._cond:
            if isinstance(loop, tuple) and self._song is not None:
                loop_steps(self._song, loop)  # a bad region raises before anything changes
            self._loop = loop
            self._swap(keep=True)

    def set_mutes(self, mutes: Lanes = None, solos: Lanes = None) -> None:
        """Mute/solo lanes on the fly (five booleans or lane names); newly silent lanes release their notes."""
        self._warm(self._song, mutes, solos, self._loop)
        with self._cond:
            self._mutes, self._solos = mutes, solos
            self._swap(keep=True)

    def set_song(self, song: Song) -> None:
        """Swap the sketch on the fly. A song that only grew (Jam) plays on seamlessly; any other change
        silences everything and goes on from the same beat."""
        self._warm(song, self._mutes, self._solos, self._loop)
        with self._cond:
            old, here = self._song, self._now_beats()
            self._song = song
            if isinstance(self._loop, tuple):
                try:
                    loop_steps(song, self._loop)
                except ValueError:  # the region no longer fits the sketch: loop all of it
                    self._loop = True
            self._swap(keep=self._playing and old is not None and _extends(old, song, here))

    def prepare(self, song: Song | None = None) -> None:
        """Schedule `song` (default: the current one) now, so the next Play of it starts at once."""
        self._warm(song or self._song, self._mutes, self._solos, self._loop)

    def _warm(self, song: Song | None, mutes: Lanes, solos: Lanes, loop) -> None:
        """Schedule outside the clock's lock, so a long sketch's scheduling never delays a due message."""
        if song is not None:
            try:
                self._cache.get(song, mutes, solos, _region_of(loop), self.clock_out)
            except ValueError:
                pass  # a region that does not fit: the locked call that follows raises it

    def close(self) -> None:
        """Stop and end the clock thread; the port stays open (its owner closes it)."""
        with self._cond:
            self._halt(self._start_beat)
            self._closed = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=1.0)

    # --- internals (called with the lock held) ------------------------------------------------
    def _region(self) -> tuple[float, float] | None:
        return _region_of(self._loop)

    def _set_region(self) -> None:
        """Where region time 0 falls and how long a pass is: cheap, no scheduling."""
        song = self._song
        if song is None:
            return
        first, last = loop_steps(song, self._region())
        self._beat_seconds = seconds_per_beat(song)
        self._start_beat = first / song.steps_per_beat
        self._period = (last - first) / song.steps_per_beat * self._beat_seconds

    def _reschedule(self) -> None:
        if self._song is None:
            return
        self._set_region()
        events = self._cache.get(self._song, self._mutes, self._solos, self._region(), self.clock_out)
        setup = [_is_setup(t, m) for t, m in events]  # programs and the mixer's volume and pan: sent at every start
        self._programs = [m for (t, m), first in zip(events, setup) if first]
        self._events = [(t, m) for (t, m), first in zip(events, setup) if not first]
        self._times = [t for t, _ in self._events]

    def _region_end(self) -> float:
        return self._start_beat + self._period / self._beat_seconds

    def _clamp(self, beats: float) -> float:
        if not self._start_beat <= beats < self._region_end():
            return self._start_beat
        return beats

    def _now_beats(self) -> float:
        if not self._playing:
            return self._pos_beats
        elapsed = min(max(self._now() - self._origin, 0.0), self._period)
        here = self._start_beat + elapsed / self._beat_seconds
        # waiting for the beat it starts on (`at`: a Link bar line, a clock's first tick), it is where it starts
        return max(here, self._resume_beats) if self._first_pass else here

    def _start_at(self, beats: float, at: float | None = None) -> None:
        if self.clock_out:  # Song Position counts sixteenths: start on one, so the DAW's grid is ours
            beats = max(snap_to_sixteenth(beats), self._start_beat)
        self._resume_beats = beats
        self._first_pass = True
        offset = (beats - self._start_beat) * self._beat_seconds
        if at is None:
            self._origin = self._now() - offset
        elif self.timebase is not None:  # a beat of the external clock
            self._origin = at * self._beat_seconds - offset
        else:  # a time on the wall, not before now
            self._origin = max(float(at), self.clock()) - offset
        self._cursor = bisect.bisect_left(self._times, offset - EPSILON)
        self._last_sent = None
        self._need_programs = True
        self._generation += 1

    def _swap(self, keep: bool) -> None:
        """Reschedule after a change; keep=True goes on without a gap where the playhead allows it."""
        here = self._now_beats()
        last_beat = None if self._last_sent is None else self._start_beat + self._last_sent / self._beat_seconds
        if not self._playing:  # play() schedules; until then only the region matters
            self._set_region()
            self._pos_beats = self._clamp(here)
            return
        self._reschedule()
        inside = self._start_beat <= here < self._region_end()
        if not (keep and inside):
            self._silence()
            self._start_at(self._clamp(here))
        else:
            self._origin = self._now() - (here - self._start_beat) * self._beat_seconds
            if last_beat is None or last_beat < self._start_beat:
                self._cursor = bisect.bisect_left(self._times, (here - self._start_beat) * self._beat_seconds - EPSILON)
            else:
                self._last_sent = (last_beat - self._start_beat) * self._beat_seconds
                self._cursor = bisect.bisect_right(self._times, self._last_sent + EPSILON)
            if not self._release_orphans():
                return
            self._generation += 1
        self._cond.notify_all()

    def _release_orphans(self) -> bool:
        """Release sounding notes whose next event in the new schedule is not their note-off (muted, cut)."""
        pending = set(self._sounding)
        orphans = []
        for _, msg in self._events[self._cursor :]:
            if not pending:
                break
            if msg.type not in ("note_on", "note_off"):
                continue
            key = (msg.channel, msg.note)
            if key in pending:
                pending.discard(key)
                if msg.type != "note_off":
                    orphans.append(key)
        for ch, note in sorted(orphans + list(pending)):
            if not self._send(mido.Message("note_off", channel=ch, note=note, velocity=0)):
                return False
        return True

    def _halt(self, beats: float) -> None:
        self._playing = False
        self._pos_beats = beats
        self._generation += 1
        self._cond.notify_all()
        self._silence()

    def _silence(self) -> None:
        """Stop a following DAW, release every sounding note, then All Notes Off and Reset All Controllers."""
        if self._clock_running:
            self._clock_running = False
            if not self._send(mido.Message("stop")):
                return
        for ch, note in sorted(self._sounding):
            if not self._send(mido.Message("note_off", channel=ch, note=note, velocity=0)):
                return
        for msg in panic_messages():
            if not self._send(msg):
                return

    def _send(self, msg: mido.Message) -> bool:
        """Send one message; on a failing port, stop and record why. False once the port has failed."""
        try:
            if getattr(self.output, "closed", False):  # rtmidi ports crash, not raise, when sent to after close
                raise OSError("the port was closed")
            self.output.send(msg)
        except Exception as exc:  # rtmidi, JACK and closed ports raise many kinds; all mean the same here
            self._sounding.clear()
            if self.error is None:
                name = getattr(self.output, "name", None) or type(self.output).__name__
                self.error = (
                    f"MIDI output '{name}' stopped working ({type(exc).__name__}: {exc}); "
                    "playback stopped: press Refresh and choose an output"
                )
            self._playing = False
            self._generation += 1
            return False
        if msg.type == "note_on":
            self._sounding.add((msg.channel, msg.note))
        elif msg.type == "note_off":
            self._sounding.discard((msg.channel, msg.note))
        return True

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._closed = False
            self._thread = threading.Thread(target=self._run, name="musicvae-player", daemon=True)
            self._thread.start()

    # --- the clock thread ----------------------------------------------------------------------
    def _run(self) -> None:
        ask_realtime()
        while not self._closed:
            if not self._tick() and self.on_error is not None:
                self.on_error(self.error or "the MIDI output failed")

    def _tick(self) -> bool:
        """Wait for the next due batch and send it; False when the port failed (the lock is released)."""
        with self._cond:
            while not self._playing and not self._closed:
                self._cond.wait()
            if self._closed:
                return True
            if self._need_programs:
                self._need_programs = False
                return self._send_batch(self._programs + self._transport_messages())
            generation = self._generation
            offset = self._times[self._cursor] if self._cursor < len(self._times) else self._period
            due = self._origin + offset
            rest = due - self._now() - self._spin
            if rest > 0:
                self._cond.wait(rest / self._rate())
                return True
        synced = self.timebase is not None
        give_up = time.perf_counter() + 4 * self._spin
        while self._now() < due:  # spin without the lock: stop() can still get in
            if synced:  # never spin on an external beat: its reader thread must run to move it
                if time.perf_counter() > give_up:  # a clock that stalls: go round and wait for it
                    return True
                time.sleep(SYNC_NAP_SECONDS)
        with self._cond:
            if generation != self._generation or not self._playing:
                return True
            if self._cursor >= len(self._times):
                self._end_of_pass()
                return True
            now = self._now() - self._origin + EPSILON
            end = bisect.bisect_right(self._times, max(now, offset + EPSILON), lo=self._cursor)
            batch = [m for _, m in self._events[self._cursor : end]]
            self._cursor = end
            self._last_sent = self._times[end - 1]
            return self._send_batch(batch)

    def _transport_messages(self) -> list[mido.Message]:
        """What a following DAW needs before the first tick of a start: Start at the top, else Song Position +
        Continue; at a loop's wrap, only the new Song Position (the ticks run on)."""
        if not self.clock_out:
            return []
        if self._clock_running:
            return [position_message(self._start_beat)]
        self._clock_running = True
        here = self._resume_beats
        if here < EPSILON:
            return [position_message(0.0), mido.Message("start")]
        return [position_message(here), mido.Message("continue")]

    def _send_batch(self, batch: list[mido.Message]) -> bool:
        """Send a batch (lock held); a note-off whose note never sounded (after a jump) is dropped."""
        for msg in batch:
            if msg.type == "note_off" and (msg.channel, msg.note) not in self._sounding:
                continue
            if not self._send(msg):
                return False
        return True

    def _end_of_pass(self) -> None:
        if self._loop is None or self._loop is False:
            self._halt(self._start_beat)
            return
        self._origin += self._period
        self._first_pass = False
        self._cursor = 0
        self._last_sent = None
        self._need_programs = True


class _ScheduleCache:
    """The last schedule made, reused while the song's notes and the settings are the same.

    A three-minute sketch takes ~15 ms to schedule; comparing against a copy of its probabilities ~1 ms.
    Callers warm it outside the Player's lock, so the locked call inside finds the work done.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple | None = None
        self._probs = None
        self._events: list[tuple[float, mido.Message]] = []

    def get(
        self, song: Song, mutes: Lanes, solos: Lanes, region, clock_out: bool = False
    ) -> list[tuple[float, mido.Message]]:
        key = (
            clock_out,
            song.tempo,
            song.steps_per_beat,
            song.threshold,
            tuple(song.programs),
            tuple(audible_lanes(mutes, solos)),
            region,
            song.feel,  # swing and humanize change the times, not the notes
            song.settings.get("density"),  # per-lane density changes the notes, not the probabilities
            song.settings.get("lineup"),
            song.performance,  # the musician's notes as played (a new quantize changes their times)
        )
        with self._lock:
            if key != self._key or self._probs is None or not np.array_equal(self._probs, song.probs):
                events = schedule(song, mutes, solos, region)
                if clock_out:  # ticks first at an instant: the DAW's beat arrives before the band's notes
                    ticks = clock_ticks(song, region)
                    keyed = [(t, CLOCK_EVENT_ORDER, i, m) for i, (t, m) in enumerate(ticks)]
                    keyed += [(t, 1, i, m) for i, (t, m) in enumerate(events)]
                    keyed.sort(key=lambda k: k[:3])
                    events = [(k[0], k[3]) for k in keyed]
                self._events = events
                self._key, self._probs = key, song.probs.copy()
            return self._events


def _region_of(loop) -> tuple[float, float] | None:
    """The loop region in beats, None when the whole sketch is the region."""
    return (float(loop[0]), float(loop[1])) if isinstance(loop, tuple) else None


def _extends(old: Song, new: Song, beats: float) -> bool:
    """Whether `new` keeps everything of `old` up to and including the step at `beats` (a Jam extension)."""
    if (old.tempo, old.steps_per_beat, list(old.programs)) != (new.tempo, new.steps_per_beat, list(new.programs)):
        return False
    if old.performance != new.performance:
        return False
    step = int(beats * old.steps_per_beat) + 1
    if step > new.n_steps or step > old.n_steps:
        return False
    return bool((old.notes()[:, :step] == new.notes()[:, :step]).all())


def _is_setup(seconds: float, msg: mido.Message) -> bool:
    """A lane's program change, or its volume or pan at the start: what every (re)start sends first."""
    return msg.type == "program_change" or (msg.type == "control_change" and seconds == 0.0)
