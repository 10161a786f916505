"""MIDI clock, both ways (issue 30): the ticks a Player sends, and ClockIn, which follows another's clock.

Out: 24 clocks per quarter note, Start at the top (else Song Position + Continue), Stop on every halt;
the Player merges `clock_ticks` into its schedule, so ticks and notes leave from one thread in order.

In: `ClockIn(port)` polls an input port (python-rtmidi, no Python callback: closing a JACK input that has one
can deadlock) and keeps a *timebase*: `beats()`, the sender's position in beats, counted from its Start or
Song Position and moved by its ticks; `tempo()`, from a least-squares fit of the last two bars of ticks (the
smoothing), restarted when the last eight ticks, on average, leave it (a tempo change is followed within a
beat). Tick times are the MIDI system's own stamps (JACK's clock), so a late poll does not make a tick late.
Between ticks the position moves on at the fitted rate but never past the next tick that has not arrived, so
a clock that stops stops the music within a tick. A Player given it as its timebase schedules every note
against the sender's ticks, not the wall. What happens (start, continue, stop, a jump, a stall, a lost port)
goes to `on_event(kind, beats)` from the reader thread; `error` then says, naming the port, what to do.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections import deque
from collections.abc import Callable

import mido
import numpy as np

from ..limits import MAX_TEMPO, MIN_TEMPO
from ..sketch.song import Song
from .ports import PortError
from .schedule import loop_steps

PPQ = 24  # MIDI clocks per quarter note
SIXTEENTHS_PER_BEAT = 4  # Song Position Pointer counts MIDI beats: sixteenth notes
MAX_SPP = 16383
CLOCK_EVENT_ORDER = 0  # at one instant the tick goes before the notes
FIT_TICKS = 192  # the tempo fit's window: two 4/4 bars of ticks
CHANGE_TICKS = 8  # the last this many ticks off the fit, on average, restart it: the tempo changed
POLL_SECONDS = 0.0005
STALL_SECONDS = 0.3  # no tick for this long (or four ticks' time, if longer) while running: the clock stopped
BEATS_PER_BAR = 4
REALTIME_PRIORITY = 10  # SCHED_RR where the user may (root, an rtprio limit as for audio groups); JACK uses ~70

_TICK = mido.Message("clock")


def ask_realtime() -> None:
    """Round-robin realtime scheduling for the calling thread where allowed, so a busy CPU cannot delay it."""
    try:
        os.sched_setscheduler(0, os.SCHED_RR, os.sched_param(REALTIME_PRIORITY))  # 0: this thread, on Linux
    except (AttributeError, OSError):  # not Linux, or not permitted: plain scheduling still keeps time well
        pass


def snap_to_sixteenth(beats: float) -> float:
    """The sixteenth note at or before `beats` (Song Position has no finer grain)."""
    return math.floor(beats * SIXTEENTHS_PER_BEAT + 1e-6) / SIXTEENTHS_PER_BEAT


def position_message(beats: float) -> mido.Message:
    """Song Position Pointer for a position in beats (sixteenths, clamped to what the message holds)."""
    pos = int(min(max(math.floor(beats * SIXTEENTHS_PER_BEAT + 1e-6), 0), MAX_SPP))
    return mido.Message("songpos", pos=pos)


def clock_ticks(song: Song, region: tuple[float, float] | None) -> list[tuple[float, mido.Message]]:
    """(seconds from the region's start, clock) for every 1/24 beat of the region (the whole song for None)."""
    first_step, last_step = loop_steps(song, region)
    first, last = first_step / song.steps_per_beat, last_step / song.steps_per_beat
    beat_seconds = 60.0 / song.tempo
    k0, k1 = math.ceil(first * PPQ - 1e-6), math.ceil(last * PPQ - 1e-6)
    return [((k / PPQ - first) * beat_seconds, _TICK) for k in range(k0, k1)]


def bar_beat(beats: float, beats_per_bar: int = BEATS_PER_BAR) -> str:
    """The counter a DAW shows: '1.1' at the top, '3.2' on bar 3's second beat (both from 1)."""
    whole = max(int(math.floor(beats + 1e-6)), 0)
    return f"{whole // beats_per_bar + 1}.{whole % beats_per_bar + 1}"


def input_names(api: str = "UNIX_JACK") -> list[str]:
    """The MIDI inputs (sources) the system offers now; [] where no MIDI system answers."""
    try:
        import rtmidi

        probe = rtmidi.MidiIn(rtapi=getattr(rtmidi, f"API_{api}"), name="musicvae-probe")
        try:
            return list(probe.get_ports())
        finally:
            probe.delete()
    except Exception:  # no JACK server, no rtmidi: nothing to follow
        return []


def find_input(name: str, api: str = "UNIX_JACK") -> int:
    """The index of the input named `name` (exactly, else the only one containing it); PortError otherwise."""
    names = input_names(api)
    if name in names:
        return names.index(name)
    close = [i for i, n in enumerate(names) if name.lower() in n.lower()]
    if len(close) == 1:
        return close[0]
    offered = ", ".join(f"'{n}'" for n in names) or "none"
    what = "matches several" if close else "is not offered"
    raise PortError(f"MIDI input '{name}' {what} (inputs now: {offered}): connect it, or name one of these")


class RtInput:
    """One rtmidi input port, polled (no callback), with the time each message was read (perf_counter)."""

    def __init__(self, name: str, api: str = "UNIX_JACK", client: str = "musicvae-in", keep_clock: bool = True):
        import rtmidi

        index = find_input(name, api)
        self.name = input_names(api)[index]
        try:
            self._rt = rtmidi.MidiIn(rtapi=getattr(rtmidi, f"API_{api}"), name=client)
            self._rt.ignore_types(sysex=True, timing=not keep_clock, active_sense=True)
            self._rt.open_port(index, "in")
        except Exception as exc:
            raise PortError(f"could not open MIDI input '{name}' ({exc}): choose another input") from None
        self.api = api
        self._stamp = 0.0  # the sum of the MIDI system's deltas
        self._offset = math.inf  # perf_counter - stamp, the smallest seen

    def read(self) -> list[tuple[float, list[int]]]:
        """Every message waiting now, each with the time it arrived (perf_counter's clock).

        The MIDI system stamps each message (rtmidi's delta since the previous one, from JACK's own clock); the
        stamps are summed and tied to perf_counter by the smallest (read time - stamp) seen, since a message
        is never read before it arrived: so a late poll does not make a message late."""
        out = []
        if self._rt is None:
            raise OSError("the input is closed")
        while True:
            got = self._rt.get_message()
            if not got:
                return out
            now = time.perf_counter()
            self._stamp += got[1]
            self._offset = min(self._offset, now - self._stamp)
            out.append((self._stamp + self._offset, got[0]))

    def still_there(self) -> bool:
        return self.name in input_names(self.api)

    def close(self) -> None:
        """Close once (rtmidi crashes on a second close)."""
        rt, self._rt = self._rt, None
        if rt is not None:
            rt.close_port()
            rt.delete()


class ClockIn:
    """Follows the MIDI clock arriving on input `port` (see the module's docstring); close() when done."""

    def __init__(
        self,
        port: str,
        on_event: Callable[[str, float], None] | None = None,
        on_tick: Callable[[], None] | None = None,
        tempo_hint: float = 120.0,
        api: str = "UNIX_JACK",
    ) -> None:
        self.on_event = on_event or (lambda kind, beats: None)
        self.on_tick = on_tick or (lambda: None)
        self.error: str | None = None
        self.running = False
        self.ticks = 0  # every clock received, for measurements
        self._lock = threading.Lock()
        self._interval = 60.0 / (PPQ * tempo_hint)  # seconds per tick: the fit's slope
        self._fit: deque[tuple[int, float]] = deque(maxlen=FIT_TICKS)
        self._off: deque[float] = deque(maxlen=CHANGE_TICKS)  # the last ticks' misses of the line
        self._recent: deque[float] = deque(maxlen=PPQ + 1)
        self._sigma = 0.0
        self._origin = 0.0  # position (beats) of tick 0 since the last start / jump
        self._k = -1  # ticks since then, -1: waiting for the first
        self._t_last = 0.0
        self._a = 0.0  # the fit's time of tick 0
        self._held = 0.0  # the position while stopped, and where Continue goes on without a Song Position
        self._spp: float | None = None
        self._last_beats = -math.inf
        self._input = RtInput(port, api, client="musicvae-clock-in")
        self.port = self._input.name
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="musicvae-clock-in", daemon=True)
        self._thread.start()

    # --- the timebase ------------------------------------------------------------------------------
    def beats(self) -> float:
        """The sender's position in beats now (never moves back, except at a start or jump)."""
        with self._lock:
            if not self.running or self._k < 0:  # stopped, or waiting for the first tick: just before it
                return self._held - 1.0 / PPQ
            a, b = self._a, self._interval
            frac = min(max((time.perf_counter() - (a + b * self._k)) / b, 0.0), 1.0)
            here = self._origin + (self._k + frac) / PPQ
            self._last_beats = max(self._last_beats, here)
            return self._last_beats

    def tempo(self) -> float:
        """The sender's tempo in BPM, from the fit."""
        with self._lock:
            return 60.0 / (PPQ * self._interval)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2.0)
        self._input.close()

    # --- internals -------------------------------------------------------------------------------
    def _line(self) -> tuple[float, float]:
        """(time of tick 0, seconds per tick) of the fit; with one tick, its time and the last slope."""
        if len(self._fit) < 2:
            k, t = self._fit[-1] if self._fit else (self._k, self._t_last)
            return t - self._interval * k, self._interval
        ks = np.fromiter((k for k, _ in self._fit), float)
        ts = np.fromiter((t for _, t in self._fit), float)
        km, tm = ks.mean(), ts.mean()
        b = float(((ks - km) * (ts - tm)).sum() / ((ks - km) ** 2).sum())
        b = b if b > 0 else self._interval
        return tm - b * km, b

    def _tick(self, t: float) -> str | None:
        self.ticks += 1
        if not self.running:
            self._t_last = t
            return None
        self._k += 1
        if len(self._fit) >= 2 * CHANGE_TICKS:
            a, b = self._line()
            self._off.append(t - (a + b * self._k))
            # the last ticks, on average, off the line by more than its jitter explains, and further off as they
            # go: the tempo changed (an average, as a server that delivers in bursts puts single ticks either side
            # of any line; growing, as ticks held up by a stall come late, then less and less late)
            mean = sum(self._off) / CHANGE_TICKS if len(self._off) == CHANGE_TICKS else 0.0
            growing = abs(self._off[-1]) >= abs(self._off[0]) and self._off[-1] * mean > 0
            if abs(mean) > max(2 * self._sigma, 0.1 * b) and growing:
                keep = list(self._fit)[-(CHANGE_TICKS - 1) :]
                self._fit.clear()
                self._fit.extend(keep)
                self._off.clear()
        self._fit.append((self._k, t))
        self._t_last = t
        a, b = self._line()
        self._a = a
        if len(self._fit) >= 2:
            self._interval = b
            ks = np.fromiter((k for k, _ in self._fit), float)
            ts = np.fromiter((t for _, t in self._fit), float)
            self._sigma = float(np.sqrt(np.mean((ts - (a + b * ks)) ** 2)))
        self._recent.append(t)
        if len(self._recent) == self._recent.maxlen:  # a beat's ticks, raw: a fit restarted by jitter cannot hide it
            bpm = 60.0 / (PPQ * (self._recent[-1] - self._recent[0]) / (len(self._recent) - 1) + 1e-9)
            if not MIN_TEMPO <= bpm <= MAX_TEMPO:
                self._interval = 60.0 / (PPQ * bpm)
                return "tempo"
        return "first" if self._k == 0 else None

    def _restart(self, beats: float) -> None:
        self._origin, self._k = beats, -1
        self._fit.clear()
        self._off.clear()
        self._recent.clear()
        self._last_beats = -math.inf
        self._held = beats

    def _position(self) -> float:
        if self._k < 0:
            return self._held
        return self._origin + self._k / PPQ

    def _handle(self, t: float, data: list[int]) -> tuple[str, float] | None:
        status = data[0]
        if status in (0xFA, 0xFB, 0xF2):
            self._t_last = t  # the stall watch counts from a start too
        if status == 0xF8:
            what = self._tick(t)
            if what == "tempo":
                bpm = 60.0 / (PPQ * self._interval)
                what = f"runs at {bpm:.0f} BPM, outside {MIN_TEMPO:g}-{MAX_TEMPO:g}: slow the sender down"
                return self._fail("tempo", what)
            return None
        if status == 0xFA:  # Start: from the top, at the next tick
            self._restart(0.0)
            self.running, self._spp = True, None
            return "start", 0.0
        if status == 0xFB:  # Continue: from the last Song Position, else from where it stopped
            self._restart(self._held if self._spp is None else self._spp)
            self.running, self._spp = True, None
            return "continue", self._held
        if status == 0xFC:
            if not self.running:
                return None
            self._held = self._position()
            self.running = False
            return "stop", self._held
        if status == 0xF2 and len(data) >= 3:
            beats = ((data[2] << 7) | data[1]) / SIXTEENTHS_PER_BEAT
            if self.running:  # a jump while running (a DAW's loop): from the next tick, there
                self._restart(beats)
                self.running = True
                return "jump", beats
            self._spp = self._held = beats
            return "position", beats
        return None

    def _fail(self, kind: str, what: str) -> tuple[str, float]:
        self._held = self._position()
        self.running = False
        self.error = f"MIDI clock on '{self.port}' {what}; the band stopped (all notes off)"
        return kind, self._held

    def _run(self) -> None:
        ask_realtime()  # the ticks are the band's beat: read them as promptly as the player sends
        while not self._stop.is_set():
            events: list[tuple[str, float]] = []
            ticked = False
            try:
                got = self._input.read()
            except Exception as exc:  # the input failed under us
                got = []
                with self._lock:
                    events.append(self._fail("lost", f"stopped working ({exc}): connect it again, then press Play"))
            now = time.perf_counter()
            with self._lock:
                for t, data in got:
                    ticked |= data[:1] == [0xF8]
                    event = self._handle(t, data)
                    if event is not None:
                        events.append(event)
                if self.running and now - self._t_last > max(STALL_SECONDS, 4 * self._interval):
                    gone = not self._input.still_there()
                    why = "disappeared: connect it again" if gone else "stopped arriving: start the sender again"
                    events.append(self._fail("lost" if gone else "stalled", f"{why}, then press Play"))
            if ticked:
                self.on_tick()
            for kind, beats in events:
                self.on_event(kind, beats)
            self._stop.wait(POLL_SECONDS)
