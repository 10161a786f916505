"""Live band, arranger style (issue 30): play chords (or a tune) on a MIDI keyboard, the band follows.

How it keeps up: the engine makes the band's music for a chord ahead of time, never in the moment. At start
it generates a phrase (two chunks) for each chord quality on C, as an arranger keyboard's styles are
recorded; a background thread then keeps generating fresh phrases for the exact chords being played
(new seeds, so a chord that comes back is not the same bars again). At each beat (or bar) line, a moment
before it, the conductor decides: it reads the chord the keyboard holds (or, following a tune, the chord
the harmony model gave the last bar), takes that chord's phrase (the fresh one if ready, else the quality's
C phrase moved to the chord's root; drums never move) at the same place in the phrase, and writes it into
the band's sketch from the line on. The Player plays on without a gap: only the future changed.

What was played is kept exactly as it arrived (times in beats of the band's clock), and `export(path)`
writes the take: the band's five lanes and a track of the keyboard, read back by any MIDI reader.
A flooding input is cut to MAX_EVENTS_PER_POLL a poll (said once); an input that disappears is said and
the band plays on with the last chord; stop() silences everything (all notes off).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import mido
import numpy as np

from ..atomic import atomic_write
from ..errors import InvalidValue
from ..sketch.midi import TICKS_PER_BEAT, song_to_midifile
from ..sketch.song import DRUMS, LANES, Song
from ..theory.chords import Chord, bar_chroma, best_chord, parse_chord
from .clock import RtInput
from .transport import Transport

QUALITIES = ("", "m", "7", "m7", "maj7")  # the phrases made at start, on C
LEAD_SECONDS = 0.04  # the decision is made this long before the line, so the Player has it in time
GRACE_BEATS = 0.25  # a chord up to a sixteenth after the line still plays from the next step
AHEAD_BARS = 2  # the band's sketch always reaches this far past the playhead
BEATS_PER_BAR = 4
MAX_EVENTS_PER_POLL = 256
MAX_TAKE_EVENTS = 200_000
POLL_SECONDS = 0.001
FOLLOW_MODES = ("chords", "melody")
CHANGE_AT = ("beat", "bar")


@dataclass
class Decision:
    """One line's decision, for measuring: when, which chord, how long it took."""

    beat: float  # the line (beats from the start) the chord plays from
    chord: str | None
    seconds: float  # reading the keyboard + choosing + writing the sketch (not the Player's scheduling)
    played_at: float | None  # perf_counter of the keyboard note that made this change, if one did


class Phrases:
    """The band's phrases by chord: made by the engine, ahead of time, in a background thread."""

    def __init__(self, engine, tempo: float, seed: int = 0):
        self.engine, self.tempo, self.seed = engine, tempo, seed
        self.by_quality: dict[str, Song] = {}
        self.fresh: dict[str, Song] = {}
        self._wanted: deque[str] = deque(maxlen=8)
        self._lock = threading.Condition()
        self._stop = False
        for quality in QUALITIES:
            self.by_quality[quality] = self._make("C" + quality)
        # every root of every quality moved once now, so a decision only looks one up
        self._moved = {
            (q, root): transpose(song.probs, (root + 6) % 12 - 6)
            for q, song in self.by_quality.items()
            for root in range(12)
        }
        self._thread = threading.Thread(target=self._run, name="musicvae-live-engine", daemon=True)
        self._thread.start()

    def _make(self, symbol: str) -> Song:
        self.seed += 1
        return self.engine.generate(steps=1, chords=symbol, seed=self.seed, tempo=self.tempo)

    def want(self, symbol: str) -> None:
        with self._lock:
            if symbol not in self._wanted:
                self._wanted.append(symbol)
                self._lock.notify()

    def get(self, chord: Chord) -> np.ndarray:
        """(5, steps, 128) probs of a phrase playing `chord`: a fresh one made for it, else its quality's, moved."""
        with self._lock:
            song = self.fresh.get(chord.symbol)
        if song is not None:
            return song.probs
        quality = chord.quality if chord.quality in self.by_quality else ("m" if "m" in chord.quality else "")
        return self._moved[(quality, chord.root)]

    def close(self) -> None:
        with self._lock:
            self._stop = True
            self._lock.notify()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._wanted and not self._stop:
                    self._lock.wait()
                if self._stop:
                    return
                symbol = self._wanted.popleft()
            song = self._make(symbol)  # the slow part, outside the lock
            with self._lock:
                self.fresh[symbol] = song


def transpose(probs: np.ndarray, semitones: int) -> np.ndarray:
    """The pitched lanes moved by `semitones` (notes pushed off the keyboard are dropped); drums stay."""
    out = np.zeros_like(probs)
    out[DRUMS] = probs[DRUMS]
    pitched = [i for i in range(len(LANES)) if i != DRUMS]
    if semitones >= 0:
        out[pitched, :, semitones:] = probs[pitched, :, : probs.shape[2] - semitones]
    else:
        out[pitched, :, :semitones] = probs[pitched, :, -semitones:]
    return out


def chord_of(pitches: list[int]) -> Chord | None:
    """The chord a hand of keys makes (the lowest key is its bass), None for fewer than two notes."""
    if len(set(p % 12 for p in pitches)) < 2:
        return None
    roll = np.zeros((1, 128), bool)
    roll[0, pitches] = True
    chroma, lowest = bar_chroma(roll, drums=None)
    return best_chord(chroma * 4, lowest, min_weight=1.0)


class LiveBand:
    """The band following a keyboard on input `in_port`, playing to the Transport's output.

    engine: an Engine (a chord pack plays the chords); follow: "chords" (the held keys) or "melody" (the
    harmony model's chord for the last bar of the tune); change_at: "beat" or "bar".
    """

    def __init__(
        self,
        engine,
        transport: Transport,
        in_port: str,
        follow: str = "chords",
        change_at: str = "bar",
        tempo: float = 120.0,
        start_chord: str = "C",
        say: Callable[[str], None] = lambda text: None,
        api: str = "UNIX_JACK",
    ) -> None:
        if follow not in FOLLOW_MODES:
            raise InvalidValue(f"--follow '{follow}' is not one of {', '.join(FOLLOW_MODES)}")
        if change_at not in CHANGE_AT:
            raise InvalidValue(f"the band changes at a 'beat' or a 'bar', not '{change_at}'")
        self.engine, self.transport, self.follow, self.change_at = engine, transport, follow, change_at
        self.say = say
        self.input = RtInput(in_port, api, client="musicvae-live-in", keep_clock=False)
        self.in_port = self.input.name
        self.phrases = Phrases(engine, tempo)
        first = self.phrases.by_quality[""]
        self.chord: Chord = parse_chord(start_chord)
        self.song = Song(
            probs=np.zeros((len(LANES), first.chunk_steps, 128), np.float32),
            steps_per_beat=first.steps_per_beat,
            chunk_steps=first.chunk_steps,
            threshold=first.threshold,
            tempo=tempo,
            programs=list(first.programs),
        )
        self.bar_steps = first.steps_per_beat * BEATS_PER_BAR
        self.written = 0  # steps of the sketch decided so far
        self.decisions: list[Decision] = []
        self.played: list[tuple[float, mido.Message]] = []  # (beats on the band's clock, message), as it came
        self.played_times: list[float] = []  # perf_counter of each, for measuring
        self.chords: list[tuple[float, str | None]] = []  # (beat, chord) the band changed to
        self.error: str | None = None
        self._held: dict[int, float] = {}
        self._recent: deque[tuple[float, int]] = deque(maxlen=64)
        self._last_change: float | None = None
        self._flooded = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._write(0, AHEAD_BARS * self.bar_steps, self.chord)
        self._sketch = transport.get_song  # the window's sketch comes back when Live stops
        self.transport.get_song = lambda: self.song
        self._thread: threading.Thread | None = None

    # --- running ----------------------------------------------------------------------------------
    def start(self, label: str | None = None) -> bool:
        """Start the band (opening output `label` where none is open); False when the output failed (said)."""
        if not self.transport.play(label):
            return False
        self._thread = threading.Thread(target=self._run, name="musicvae-live", daemon=True)
        self._thread.start()
        return True

    def stop(self) -> None:
        """Stop the band: every note released, All Notes Off; the take stays for export(). Once is enough."""
        if self._stop.is_set():
            return
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.transport.stop()
        self.transport.get_song = self._sketch
        self.transport.song_changed()
        self.phrases.close()
        self.input.close()

    @property
    def beat_seconds(self) -> float:
        return 60.0 / self.song.tempo

    # --- the take ---------------------------------------------------------------------------------
    def export(self, path: str | Path) -> Path:
        """The take as a .mid: the band's lanes up to the last bar played, and the keyboard as it was played."""
        with self._lock:
            here = self.transport.position_beats if self.transport.is_playing else self._last_beat()
            bars = max(1, int(np.ceil(here / BEATS_PER_BAR)))
            steps = -(-bars * self.bar_steps // self.song.chunk_steps) * self.song.chunk_steps
            band = Song(
                probs=self.song.probs[:, :steps].copy(),
                steps_per_beat=self.song.steps_per_beat,
                chunk_steps=self.song.chunk_steps,
                threshold=self.song.threshold,
                tempo=self.song.tempo,
                programs=list(self.song.programs),
            )
            played = list(self.played)
        mid = song_to_midifile(band)
        track = mido.MidiTrack([mido.MetaMessage("track_name", name="Keyboard (you)", time=0)])
        last = 0
        for beats, msg in played:
            tick = max(int(round(beats * TICKS_PER_BEAT)), last)
            track.append(msg.copy(time=tick - last, channel=15))
            last = tick
        mid.tracks.append(track)
        return atomic_write(path, lambda f: mid.save(file=f))

    def _last_beat(self) -> float:
        return max([b for b, _ in self.played] + [c for c, _ in self.chords] + [0.0])

    # --- the conductor ----------------------------------------------------------------------------
    def _run(self) -> None:
        checked = time.perf_counter()
        while not self._stop.is_set():
            self._read()
            player = self.transport.player
            if player is None or not player.is_playing:
                if self.transport.player is not None and self.transport.player.error:
                    self.error = self.transport.player.error
                    return
                self._stop.wait(POLL_SECONDS)
                continue
            here = player.position_beats
            step = 1.0 if self.change_at == "beat" else float(BEATS_PER_BAR)
            line = (np.floor(here / step + 1e-9) + 1) * step
            wait = (line - here) * self.beat_seconds - LEAD_SECONDS
            if wait > 0:
                self._stop.wait(min(wait, POLL_SECONDS))
                if time.perf_counter() - checked > 1.0:
                    checked = time.perf_counter()
                    if not self.input.still_there() and self.error is None:
                        self.error = f"MIDI input '{self.in_port}' disappeared: connect it again (the band plays on)"
                        self.say(self.error)
                continue
            self.decide(line)
            while not self._stop.is_set() and player.is_playing and player.position_beats < line:
                self._read()
                self._stop.wait(POLL_SECONDS)
            self._grace(player, line)

    def _grace(self, player, line: float) -> None:
        """Just after a line, a chord that came a moment too late for it (played on the beat, as people do,
        or in the last LEAD_SECONDS) still plays from the next step, not a whole beat or bar later."""
        spb = self.song.steps_per_beat
        while not self._stop.is_set() and player.is_playing:
            here = player.position_beats
            if here >= line + GRACE_BEATS:
                return
            self._read()
            heard = self._heard()
            if heard is not None and heard != self.chord:
                self.decide((np.floor(here * spb) + 1) / spb)
                return
            self._stop.wait(POLL_SECONDS)

    def _read(self) -> None:
        try:
            got = self.input.read()
        except Exception as exc:  # the input failed under us: say so, play on
            if self.error is None:
                self.error = f"MIDI input '{self.in_port}' stopped working ({exc}): the band plays on"
                self.say(self.error)
            return
        if len(got) > MAX_EVENTS_PER_POLL:
            if not self._flooded:
                self._flooded = True
                self.say(
                    f"MIDI input '{self.in_port}' is flooding ({len(got)} messages at once): the extra are ignored"
                )
            got = got[:MAX_EVENTS_PER_POLL]
        player = self.transport.player
        for t, data in got:
            try:
                msg = mido.Message.from_bytes(data)
            except ValueError:
                continue
            if msg.type not in ("note_on", "note_off"):
                continue
            # where the band was when the key went down (the stamp), not when this poll read it
            late = (time.perf_counter() - t) / self.beat_seconds
            beats = 0.0 if player is None else max(player.position_beats - late, 0.0)
            with self._lock:
                if len(self.played) < MAX_TAKE_EVENTS:
                    self.played.append((beats, msg))
                    self.played_times.append(t)
            if msg.type == "note_on" and msg.velocity > 0:
                self._held[msg.note] = t
                self._recent.append((t, msg.note))
                self._last_change = t
            else:
                self._held.pop(msg.note, None)

    def _heard(self) -> Chord | None:
        """What the keyboard says now: the held keys' chord (or, lifted just before the line, the last beat's)."""
        if self.follow == "melody":
            return self._tune_chord()
        keys = list(self._held)
        if len(keys) < 2:
            since = time.perf_counter() - self.beat_seconds
            keys = [n for t, n in self._recent if t >= since]
        return chord_of(keys)

    def _tune_chord(self) -> Chord | None:
        """The harmony model's chord for the tune of the last bar (None: nothing played)."""
        with self._lock:
            here = self.played[-1][0] if self.played else 0.0
            notes = [(b, m) for b, m in self.played if b >= here - BEATS_PER_BAR and m.type == "note_on" and m.velocity]
        if not notes:
            return None
        spb = self.song.steps_per_beat
        probs = np.zeros((len(LANES), self.song.chunk_steps, 128), np.float32)
        first = notes[0][0]
        for b, m in notes:
            s = min(int((b - first) * spb), self.song.chunk_steps - 1)
            probs[0, s : s + spb, m.note] = 1.0
        part = Song(probs=probs, steps_per_beat=spb, chunk_steps=self.song.chunk_steps, tempo=self.song.tempo)
        try:
            harmony = self.engine.harmony(part, alternatives=1)
        except (InvalidValue, ValueError):
            return None
        bar = min(int((notes[-1][0] - first) / BEATS_PER_BAR), len(harmony.chords) - 1)
        named = [c for c in (harmony.chords[bar] if bar >= 0 else []) if c]
        return parse_chord(named[-1]) if named else None

    def decide(self, line: float) -> Decision:
        """The band's music from `line` (beats) on: the chord heard now, written a moment before the line."""
        started = time.perf_counter()
        heard = self._heard()
        changed = heard is not None and heard != self.chord
        if changed:
            self.chord = heard
            self.phrases.want(heard.symbol)
        first = int(round(line * self.song.steps_per_beat))
        ahead = first + AHEAD_BARS * self.bar_steps
        if changed:  # from the line on, the new chord's phrase
            self._write(first, ahead, self.chord)
        elif self.written < ahead:  # the same chord on: only what is not written yet
            self._write(max(first, self.written), ahead, self.chord)
        seconds = time.perf_counter() - started
        decision = Decision(line, self.chord.symbol, seconds, self._last_change if changed else None)
        self.decisions.append(decision)
        if changed:
            self.chords.append((line, self.chord.symbol))
        self.transport.song_changed()
        return decision

    def _write(self, first: int, last: int, chord: Chord) -> None:
        """Write `chord`'s phrase over steps first..last, each step from the phrase's own place."""
        n = -(-last // self.song.chunk_steps) * self.song.chunk_steps
        probs = self.song.probs
        if n > probs.shape[1]:
            grown = np.zeros((len(LANES), n, 128), np.float32)
            grown[:, : probs.shape[1]] = probs
            probs = grown
        else:
            probs = probs.copy()
        phrase = self.phrases.get(chord)
        length = phrase.shape[1]
        idx = np.arange(first, last) % length
        probs[:, first:last] = phrase[:, idx]
        with self._lock:
            self.song = Song(
                probs=probs,
                steps_per_beat=self.song.steps_per_beat,
                chunk_steps=self.song.chunk_steps,
                threshold=self.song.threshold,
                tempo=self.song.tempo,
                programs=list(self.song.programs),
            )
            self.written = last


def run(
    in_port: str,
    out_port: str,
    follow: str = "chords",
    style: str | None = None,
    change_at: str = "bar",
    tempo: float = 120.0,
    take: str | Path | None = None,
    pack: str | Path | None = None,
    say: Callable[[str], None] = print,
    until: Callable[[], bool] | None = None,
) -> int:
    """`musicvae live`: the band follows the keyboard on `in_port`, plays to `out_port`, until Ctrl+C (or
    `until()`); then stops cleanly and, with `take`, writes the take."""
    from ..engine import Engine
    from ..limits import check_tempo
    from ..resources import resources_dir
    from .headless import find_output

    tempo = check_tempo(tempo)
    if take is not None and not Path(take).parent.is_dir():
        raise InvalidValue(f"folder '{Path(take).parent}' does not exist: create it or choose another --take")
    if pack is None:
        chords = resources_dir() / "models" / "chords"
        pack = chords if chords.is_dir() else None
    engine = Engine.load(pack)
    if style is not None:
        engine = _styled(engine, style)
    errors: list[str] = []
    transport = Transport(get_song=lambda: None, on_error=errors.append)
    band = None
    try:
        label = find_output(transport, out_port)
        band = LiveBand(engine, transport, in_port, follow, change_at, tempo, say=say)
        if not band.start(label):
            raise InvalidValue(errors[-1] if errors else f"could not play to '{out_port}'")
        say(
            f"the band plays to '{label}' at {tempo:g} BPM, following the {follow} on '{band.in_port}' "
            f"from the next {change_at}; Ctrl+C stops"
        )
        shown = 0
        while until is None or not until():
            transport.tick()
            if errors:
                raise InvalidValue(errors[-1])
            for beat, chord in band.chords[shown:]:
                say(f"bar {int(beat // BEATS_PER_BAR) + 1}: {chord}")
            shown = len(band.chords)
            time.sleep(0.02)
        return 0
    finally:
        if band is not None:
            band.stop()
            if take is not None:
                say(f"take written to {band.export(take)}")
        transport.shutdown()


def _styled(engine, style: str):
    """The engine generating in `style` (issue 29's styles), or InvalidValue naming what there is."""
    import inspect

    if "style" not in inspect.signature(engine.generate).parameters:
        raise InvalidValue("--style needs the band's styles (issue 29), which this build does not have: leave it out")
    names = [s[0] if isinstance(s, tuple) else getattr(s, "name", str(s)) for s in engine.styles()]
    if style not in names:
        raise InvalidValue(f"style '{style}' is not one of {', '.join(names)}")
    generate = engine.generate

    class Styled:
        def __getattr__(self, name):
            return getattr(engine, name)

        def generate(self, **kwargs):
            return generate(style=style, **kwargs)

    return Styled()
