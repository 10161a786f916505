"""`musicvae play SKETCH.mid --port NAME`: the window's transport without the window (issue 30).

The sketch is read onto the band's grid (sixteenths, like the window opening a .mid) and played by the
same Transport and Player the window uses, with the same sync: internal, MIDI clock in, Ableton Link;
clock out on request. It runs until the sketch ends (or, looping or following a clock, until Ctrl+C or
SIGTERM), then stops cleanly: Stop to a following DAW, every note released, All Notes Off.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..errors import InvalidValue, MusicVAEError
from ..sketch.midi import read_roll
from ..sketch.song import LANES, Song
from .clock import bar_beat
from .ports import PortError
from .transport import SYNC_MODES, Transport

STEPS_PER_BEAT = 4
BAR_STEPS = 16
TICK_SECONDS = 0.02


def song_from_file(path: str | Path) -> Song:
    """A .mid as a Song on the band's grid (each note a certain cell), with the file's tempo."""
    roll, tempo = read_roll(path, STEPS_PER_BEAT)
    if not roll.any():
        raise InvalidValue(f"'{Path(path).name}' has no notes the band can play: choose another sketch")
    steps = -(-roll.shape[1] // BAR_STEPS) * BAR_STEPS
    probs = np.zeros((len(LANES), steps, 128), np.float32)
    probs[:, : roll.shape[1]] = roll
    return Song(probs=probs, steps_per_beat=STEPS_PER_BEAT, chunk_steps=BAR_STEPS, tempo=float(tempo))


def find_output(transport: Transport, name: str) -> str:
    """The label of the output named `name`: a label or port name, exactly, else the only one containing it."""
    transport.refresh()
    usable = [o for o in transport.outputs.outputs if o.available and o.kind != "synth"]
    for o in usable:
        if name in (o.label, o.port):
            return o.label
    close = [o for o in usable if name.lower() in o.label.lower()]
    if len(close) == 1:
        return close[0].label
    offered = ", ".join(f"'{o.port}'" for o in usable) or transport.outputs.message or "none"
    what = "matches several outputs" if close else "is not offered"
    raise PortError(f"MIDI output '{name}' {what} (outputs now: {offered}): name one of these")


def play(
    path: str | Path,
    port: str,
    clock_out: bool = False,
    sync: str = "internal",
    clock_in: str | None = None,
    loop: bool = False,
    say: Callable[[str], None] = print,
    until: Callable[[], bool] | None = None,
) -> int:
    """Play `path` to output `port`; 0 when it ended, MusicVAEError (naming the port) when something failed.

    `until()` (tests, the benchmark) ends it early when it returns True."""
    if sync not in SYNC_MODES:
        raise InvalidValue(f"--sync '{sync}' is not one of {', '.join(SYNC_MODES)}")
    if clock_in is not None and sync != "midi-clock":
        raise InvalidValue("--clock-in is for --sync midi-clock: add it, or leave --clock-in out")
    if sync == "midi-clock" and not clock_in:
        raise InvalidValue("--sync midi-clock needs the input the clock arrives on: add --clock-in PORT")
    song = song_from_file(path)
    errors: list[str] = []
    transport = Transport(get_song=lambda: song, on_error=errors.append)
    try:
        label = find_output(transport, port)
        transport.set_clock_out(clock_out)
        transport.set_sync(sync, clock_in)
        transport.set_loop(on=loop)
        if not transport.play(label):
            raise MusicVAEError(errors[-1] if errors else f"could not play to '{port}'")
        say(_banner(path, label, song, transport))
        last = ""
        while True:
            beats, _ = transport.tick()
            if errors:
                raise MusicVAEError(errors[-1])
            if transport.is_playing:
                counter = bar_beat(beats)
                if counter != last and counter.endswith(".1"):
                    say(f"bar {counter.split('.')[0]}")
                last = counter
            elif sync != "midi-clock" and not loop:  # the end (or, with Link, a peer's Stop)
                return 0
            if until is not None and until():
                return 0
            if transport.notice:
                say(transport.notice)
                transport.notice = None
            time.sleep(TICK_SECONDS)
    finally:
        transport.shutdown()


def _banner(path, label: str, song: Song, transport: Transport) -> str:
    beats = song.n_steps / song.steps_per_beat
    how = {
        "internal": f"at {song.tempo:g} BPM",
        "midi-clock": f"following the MIDI clock on '{getattr(transport.source, 'port', '?')}' (waiting for its Start)",
        "link": f"with Ableton Link ({transport.source.peers if transport.source else 0} other peers)",
    }[transport.sync]
    out = " with MIDI clock out" if transport.clock_out else ""
    return f"playing '{Path(path).name}' ({beats / 4:g} bars) to '{label}' {how}{out}; Ctrl+C stops"
