"""Record a part from a MIDI input: the input picker, a count-in bar with a metronome, notes time-stamped as
they arrive, written as played to a .mid that the session follows (the band is generated around it); the
16th-note grid copy (`Recording.notes`) is what the dialog shows and the model sees.

No Qt: ui/record_panel.py is a view of a Recorder; tests drive it with a real JACK port or an in-memory input.
Inputs are read with python-rtmidi directly and polled (no callback): closing an rtmidi JACK input whose
Python callback waits for the GIL can deadlock, and mido's rtmidi input always installs one.
"""

from __future__ import annotations

import collections
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import mido
import numpy as np

from ..atomic import atomic_write
from ..lanes import DRUMS
from ..limits import check_tempo
from ..sketch.song import LANES
from .ports import API_LABELS, VIRTUAL_NAME, PortError, _first_line, midi_apis

INPUT_CLIENT = f"{VIRTUAL_NAME}-in"  # our input's JACK / ALSA client name
NO_INPUTS = "No MIDI input ports"
BEATS_PER_BAR = 4
STEPS_PER_BEAT = 4  # 16ths
COUNT_IN_BARS = 1
MAX_RECORD_BARS = 256  # a take stops by itself here (a sketch holds more, but nobody plays 8 minutes at once)
POLL_SECONDS = 0.001
# Messages an input holds between two polls. rtmidi's default (1024) overflowed under a flood (5,000 notes sent
# as fast as a JACK client can: "MidiInJack: message queue limit reached", ~18 % of the notes lost, more on a
# busy machine where the polling thread waits for the GIL). 65,536 hold 32,768 notes, seconds of the densest
# playing: about 2 MB of ring (32 bytes an entry) while an input is open, each message's bytes as it arrives.
INPUT_QUEUE = 1 << 16
LEAD_SECONDS = 0.02  # the first click sounds this long after Record (within 50 ms of the click: the output is
# opened when the Record dialog is shown, the thread starts at once)
CLICK_CHANNEL = 9  # GM drums
CLICK_ACCENT, CLICK_BEAT = 76, 77  # Hi / Low Wood Block: the bar's one and the other beats
CLICK_VELOCITY = (110, 80)
CLICK_SECONDS = 0.05
LANE_CHANNELS = (0, 1, 2, 3, 9)  # as exports write them (midi.LANE_CHANNELS)


# --- inputs ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Input:
    """One entry of the input picker."""

    label: str  # what the picker shows, unique in a list
    api: str  # rtmidi's API name ("UNIX_JACK")
    port: str  # the port's name within its API


@dataclass
class InputList:
    inputs: list[Input] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # one line per MIDI system that did not answer

    @property
    def message(self) -> str | None:
        """A plain line for the window when there is no input to record from, else None."""
        if self.inputs:
            return None
        detail = "; ".join(self.problems)
        what = f"{NO_INPUTS} on this system" if self.problems else f"{NO_INPUTS}: connect a keyboard and press Refresh"
        return f"{what} ({detail})" if detail else what

    def find(self, label: str | None) -> Input | None:
        return next((i for i in self.inputs if i.label == label), None)


def _rtmidi_in(api: str, queue: int | None = None):
    import rtmidi

    size = INPUT_QUEUE if queue is None else queue
    return rtmidi.MidiIn(rtapi=getattr(rtmidi, f"API_{api}"), name=INPUT_CLIENT, queue_size_limit=size)


def list_inputs() -> InputList:
    """Every MIDI input the system offers now (our own ports left out: recording our playback would loop)."""
    os.environ.setdefault("JACK_NO_START_SERVER", "1")  # listing must not launch a JACK server
    result = InputList()
    apis = midi_apis()
    if not apis:
        result.problems.append("python-rtmidi is not installed")
    for api in apis:
        label = API_LABELS[api]
        try:
            probe = _rtmidi_in(api, queue=16)  # a probe lists ports and reads nothing
            try:
                names = probe.get_ports()
            finally:
                probe.delete()
        except Exception as exc:  # rtmidi raises SystemError where ALSA's sequencer or a JACK server is absent
            result.problems.append(f"{label}: {_first_line(exc)}")
            continue
        for name in names:
            if name.split(":")[0].startswith(VIRTUAL_NAME):
                continue
            result.inputs.append(Input(f"{name} ({label})", api, name))
    return result


class MidiInput:
    """An open rtmidi input, polled: `poll()` returns the messages that arrived since the last call."""

    def __init__(self, entry: Input):
        self.name = entry.label
        self._rt = _rtmidi_in(entry.api)
        try:
            ports = self._rt.get_ports()
            if entry.port not in ports:
                raise PortError(f"the MIDI input '{entry.label}' is no longer there: press Refresh and pick another")
            self._rt.open_port(ports.index(entry.port), "in")
            self._rt.ignore_types(sysex=True, timing=True, active_sense=True)
        except Exception:
            self._rt.delete()
            raise

    def poll(self) -> list[mido.Message]:
        out = []
        while True:
            got = self._rt.get_message()
            if got is None:
                return out
            try:
                out.append(mido.Message.from_bytes(got[0]))
            except (ValueError, TypeError):  # a message mido does not know: not a note, so not ours
                continue

    def close(self) -> None:
        if self._rt is not None:
            self._rt.close_port()
            self._rt.delete()
            self._rt = None


class MessageInput:
    """An in-memory input (for tests and for notes that arrive other than through a port): send(), then poll()."""

    def __init__(self, name: str = "in-memory input"):
        self.name = name
        self._queue: collections.deque[mido.Message] = collections.deque()

    def send(self, msg: mido.Message) -> None:
        self._queue.append(msg)

    def poll(self) -> list[mido.Message]:
        out = []
        while self._queue:
            out.append(self._queue.popleft())
        return out

    def close(self) -> None:
        self._queue.clear()


def open_input(entry: Input) -> MidiInput:
    """Open the chosen input; PortError names it and says what to do."""
    try:
        return MidiInput(entry)
    except PortError:
        raise
    except Exception as exc:
        raise PortError(
            f"could not open the MIDI input '{entry.label}' ({_first_line(exc)}): press Refresh and pick another"
        ) from None


# --- a take ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PlayedNote:
    """A note as it arrived: seconds from the first downbeat after the count-in (negative: in the count-in)."""

    pitch: int
    velocity: int
    start: float
    end: float


@dataclass
class Recording:
    """A finished take: the notes as played and quantized to the grid (16ths), on one lane."""

    lane: int
    tempo: float
    played: list[PlayedNote]
    steps_per_beat: int = STEPS_PER_BEAT
    notes: list[tuple[int, int, int, int]] = field(default_factory=list)  # (pitch, start step, end step, velocity)
    dropped: int = 0  # notes played too early in the count-in to belong to the first bar

    def __post_init__(self) -> None:
        if not self.notes and self.played:
            self.notes, self.dropped = quantize(self.played, self.tempo, self.steps_per_beat)

    @property
    def bars(self) -> int:
        """Whole bars the take covers (at least one)."""
        end = max((e for _, _, e, _ in self.notes), default=0)
        bar = BEATS_PER_BAR * self.steps_per_beat
        return max(1, -(-end // bar))

    def roll(self) -> np.ndarray:
        """The take as a (steps, 128) grid of cells, bars long."""
        roll = np.zeros((self.bars * BEATS_PER_BAR * self.steps_per_beat, 128), dtype=bool)
        for pitch, start, end, _ in self.notes:
            roll[start : start + 1 if self.lane == DRUMS else end, pitch] = True
        return roll


def quantize(played: list[PlayedNote], tempo: float, steps_per_beat: int = STEPS_PER_BEAT):
    """Notes snapped to the nearest grid step (a 16th at 4 steps a beat), at least a step long.

    A note started more than half a step before the first downbeat belongs to the count-in and is dropped;
    a note struck again before its previous one ended keeps a one-step gap, so both onsets stay (as reading
    a .mid does). Returns ((pitch, start, end, velocity) sorted by start, pitch; how many were dropped).
    """
    step = 60.0 / check_tempo(tempo) / steps_per_beat
    notes, dropped = [], 0
    for n in played:
        start = round(n.start / step)
        if start < 0:
            dropped += 1
            continue
        notes.append([n.pitch, start, max(round(n.end / step), start + 1), n.velocity])
    notes.sort(key=lambda n: (n[0], n[1]))
    for a, b in zip(notes, notes[1:]):
        if a[0] == b[0] and a[2] >= b[1]:
            a[2] = max(b[1] - 1, a[1] + 1)
    notes = [tuple(n) for n in notes]
    return sorted(notes, key=lambda n: (n[1], n[0])), dropped


def played_ticks(recording: Recording, tpb: int = 480) -> list[tuple[int, int, int, int]]:
    """The take's notes as played: (pitch, start tick, end tick, velocity) at `tpb` ticks a beat, off the grid.

    Nothing is moved: a note keeps its time to the tick, its velocity, its length (a tick at least), a re-struck
    pitch stays two notes and chords overlap as held. Notes struck more than half a 16th before the first
    downbeat belong to the count-in and are left out (as `quantize` leaves them out); one struck just before
    the downbeat starts on it.
    """
    ticks_per_second = check_tempo(recording.tempo) / 60.0 * tpb
    early = -0.5 * 60.0 / recording.tempo / recording.steps_per_beat
    out = []
    for n in recording.played:
        if n.start < early:
            continue
        start = max(round(n.start * ticks_per_second), 0)
        out.append((n.pitch, start, max(round(n.end * ticks_per_second), start + 1), n.velocity))
    return sorted(out, key=lambda n: (n[1], n[0]))


def recording_midifile(recording: Recording, program: int = 0) -> mido.MidiFile:
    """The take as a one-track .mid: its tempo, 4/4, the lane's channel and GM program (drums: channel 10).

    The notes are written as played (`played_ticks`), not quantized: quantize is the musician's later choice.
    """
    tpb = 480
    channel = LANE_CHANNELS[recording.lane]
    events = []
    notes = (
        played_ticks(recording, tpb)
        if recording.played
        else [
            (p, s * (tpb // recording.steps_per_beat), e * (tpb // recording.steps_per_beat), v)
            for p, s, e, v in recording.notes
        ]
    )
    for pitch, start, end, velocity in notes:
        events.append((start, 1, mido.Message("note_on", channel=channel, note=pitch, velocity=velocity)))
        events.append((end, 0, mido.Message("note_off", channel=channel, note=pitch, velocity=0)))
    track = mido.MidiTrack(
        [
            mido.MetaMessage("track_name", name=f"{LANES[recording.lane].capitalize()} (recorded)"),
            mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(recording.tempo)),
            mido.MetaMessage("time_signature", numerator=BEATS_PER_BAR, denominator=4),
        ]
    )
    if recording.lane != DRUMS:
        track.append(mido.Message("program_change", channel=channel, program=int(program)))
    last = 0
    for tick, _, msg in sorted(events, key=lambda e: (e[0], e[1])):
        track.append(msg.copy(time=tick - last))
        last = tick
    end = max(recording.bars * BEATS_PER_BAR * tpb, max((e for _, _, e, _ in notes), default=0))
    track.append(mido.MetaMessage("end_of_track", time=max(end - last, 0)))
    mid = mido.MidiFile(type=1, ticks_per_beat=tpb)
    mid.tracks.append(track)
    return mid


def write_recording(recording: Recording, folder: str | Path, program: int = 0) -> Path:
    """Write the take atomically as folder/recorded-<lane>-<date>-<time>.mid (a new name each time); OSError
    when the folder cannot be written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"recorded-{LANES[recording.lane]}-{time.strftime('%Y%m%d-%H%M%S')}"
    path, n = folder / f"{stem}.mid", 1
    while path.exists():
        n += 1
        path = folder / f"{stem}-{n}.mid"
    mid = recording_midifile(recording, program)
    return atomic_write(path, lambda f: mid.save(file=f))


class Recorder:
    """One take from `source` (anything with poll() -> messages) onto `lane` at `tempo`.

    start() begins a count-in of `count_in_bars` bars of clicks on `click` (an open mido output: the chosen
    output or the built-in synth; None: silent), then records every note until stop() (or MAX_RECORD_BARS),
    time-stamped by `clock` as it is polled. `metronome` keeps clicking while recording; `thru` echoes the
    played notes to `click` on the lane's channel with `program`, so a keyboard without sound is heard.
    A failing click port stops the clicks and is said in `error`; the take goes on.
    """

    def __init__(
        self,
        source,
        lane: int,
        tempo: float,
        click=None,
        *,
        metronome: bool = True,
        thru: bool = True,
        program: int | None = None,
        count_in_bars: int = COUNT_IN_BARS,
        steps_per_beat: int = STEPS_PER_BEAT,
        max_bars: int = MAX_RECORD_BARS,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.source, self.lane, self.click = source, int(lane), click
        self.tempo = check_tempo(tempo)
        self.metronome, self.thru, self.program = bool(metronome), bool(thru), program
        self.count_in_beats = int(count_in_bars) * BEATS_PER_BAR
        self.steps_per_beat = int(steps_per_beat)
        self.max_bars = int(max_bars)
        self.clock = clock
        self.beat_seconds = 60.0 / self.tempo
        self.downbeat: float | None = None  # clock time of the first recorded bar's one
        self.error: str | None = None
        self.clicks: list[tuple[float, int]] = []  # (clock time sent, beat index from the count-in's first)
        self._played: list[PlayedNote] = []
        self._open: dict[int, tuple[float, int]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._click_offs: list[tuple[float, int]] = []
        self.full = False  # stopped by itself at max_bars
        self._click_failed = False

    # --- what the window reads -------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def position_beats(self) -> float:
        """Beats from the first recorded downbeat: negative during the count-in."""
        if self.downbeat is None:
            return -float(self.count_in_beats)
        return (self.clock() - self.downbeat) / self.beat_seconds

    @property
    def counting_in(self) -> bool:
        return self.position_beats < 0

    @property
    def note_count(self) -> int:
        with self._lock:
            return sum(1 for n in self._played if n.start >= -self.beat_seconds / self.steps_per_beat / 2)

    def live_notes(self) -> list[tuple[int, float, float]]:
        """(pitch, start beats, end beats) of every note played so far from the first downbeat, the held ones
        up to now: what the window draws while recording."""
        if self.downbeat is None:
            return []
        now = (self.clock() - self.downbeat) / self.beat_seconds
        with self._lock:
            done = [(n.pitch, n.start / self.beat_seconds, n.end / self.beat_seconds) for n in self._played]
            held = [(p, (t - self.downbeat) / self.beat_seconds, now) for p, (t, _) in self._open.items()]
        return [(p, max(a, 0.0), b) for p, a, b in done + held if b > 0]

    # --- transport -------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("a Recorder records one take: make a new one")
        self.source.poll()  # what arrived before Record is not part of the take
        if self.click is not None and self.thru and self.program is not None and self.lane != DRUMS:
            self._send(mido.Message("program_change", channel=LANE_CHANNELS[self.lane], program=int(self.program)))
        self.downbeat = self.clock() + LEAD_SECONDS + self.count_in_beats * self.beat_seconds
        self._thread = threading.Thread(target=self._run, name="musicvae-recorder", daemon=True)
        self._thread.start()

    def stop(self) -> Recording:
        """End the take (notes still held end now) and return it, quantized."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        now = self.clock()
        self._poll(now)
        with self._lock:
            for pitch in list(self._open):
                self._close(pitch, now)
        for _, note in self._click_offs:
            self._send(mido.Message("note_off", channel=CLICK_CHANNEL, note=note, velocity=0))
        self._click_offs.clear()
        return Recording(self.lane, self.tempo, list(self._played), self.steps_per_beat)

    # --- the polling thread ----------------------------------------------------------------------
    def _run(self) -> None:
        first_click = self.downbeat - self.count_in_beats * self.beat_seconds
        beat = 0
        end = self.downbeat + self.max_bars * BEATS_PER_BAR * self.beat_seconds
        while not self._stop.is_set():
            now = self.clock()
            self._poll(now)
            while first_click + beat * self.beat_seconds <= now:
                if beat < self.count_in_beats or self.metronome:
                    accent = beat % BEATS_PER_BAR == 0
                    note = CLICK_ACCENT if accent else CLICK_BEAT
                    if self._send(
                        mido.Message("note_on", channel=CLICK_CHANNEL, note=note, velocity=CLICK_VELOCITY[not accent])
                    ):
                        self.clicks.append((now, beat))
                        self._click_offs.append((now + CLICK_SECONDS, note))
                beat += 1
            while self._click_offs and self._click_offs[0][0] <= now:
                self._send(mido.Message("note_off", channel=CLICK_CHANNEL, note=self._click_offs.pop(0)[1], velocity=0))
            if now >= end:
                self.full = True
                return
            time.sleep(POLL_SECONDS)

    def _poll(self, now: float) -> None:
        try:
            messages = self.source.poll()
        except Exception as exc:  # an unplugged input: the take keeps what it has
            self.error = (
                self.error or f"the MIDI input stopped working ({_first_line(exc)}); the take keeps what it has"
            )
            return
        if not messages:
            return
        with self._lock:
            for msg in messages:
                if msg.type == "note_on" and msg.velocity > 0:
                    if msg.note in self._open:
                        self._close(msg.note, now)
                    self._open[msg.note] = (now, msg.velocity)
                elif msg.type in ("note_off", "note_on"):
                    self._close(msg.note, now)
                else:
                    continue
                if self.thru:
                    self._send(msg.copy(channel=LANE_CHANNELS[self.lane]))

    def _close(self, pitch: int, now: float) -> None:
        held = self._open.pop(pitch, None)
        if held is not None:
            start, velocity = held
            self._played.append(PlayedNote(pitch, velocity, start - self.downbeat, now - self.downbeat))

    def _send(self, msg: mido.Message) -> bool:
        if self.click is None or self._click_failed:
            return False
        try:
            if getattr(self.click, "closed", False):
                raise OSError("the port was closed")
            self.click.send(msg)
        except Exception as exc:  # a lost output: the take goes on without clicks
            self._click_failed = True
            self.error = f"the metronome's output stopped working ({_first_line(exc)}); recording goes on without it"
            return False
        return True
