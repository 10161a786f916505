"""The outputs a user can pick: MIDI ports (mido + python-rtmidi), our own virtual port, the built-in synth.

Listing never fails: where no MIDI system answers (no ALSA sequencer, no JACK server) the list
says so plainly. Opening returns an open mido output port, or raises PortError naming the output.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field

import mido
from mido.ports import BaseOutput

from ..errors import MusicVAEError

VIRTUAL_NAME = "musicvae-app"
BUILT_IN = "Built-in synth"
NO_MIDI = "no MIDI system available"
SYNTH_ONLY = "Built-in synth only: no MIDI ports on this system"  # said instead where the synth works
# rtmidi's APIs, in the order we offer them, with the words a user knows them by.
API_LABELS = {"LINUX_ALSA": "ALSA", "UNIX_JACK": "JACK", "MACOSX_CORE": "CoreMIDI", "WINDOWS_MM": "Windows MIDI"}
VIRTUAL_APIS = ("LINUX_ALSA", "UNIX_JACK", "MACOSX_CORE")  # Windows MM has no virtual ports


class PortError(MusicVAEError):
    """An output that cannot be opened; the message names it and says what to do."""


class RecordingPort(BaseOutput):
    """An in-memory output that keeps each message with its arrival time (like mido's MessageBuffer, for output).

    For tests and for checking what a Player sends without any MIDI system: `received` holds
    (time.perf_counter() at arrival, message); `messages()` the messages alone. `fail_after` makes the
    port fail (OSError, like an unplugged device) once it holds that many messages.
    """

    def __init__(self, name: str = "recorder", fail_after: int | None = None):
        self.received: list[tuple[float, mido.Message]] = []
        self.fail_after = fail_after
        self._guard = threading.Lock()
        super().__init__(name)

    def _send(self, msg: mido.Message) -> None:
        with self._guard:
            if self.fail_after is not None and len(self.received) >= self.fail_after:
                raise OSError("device unplugged")
            self.received.append((time.perf_counter(), msg))

    def messages(self, since: int = 0) -> list[mido.Message]:
        with self._guard:
            return [m for _, m in self.received[since:]]

    def clear(self) -> None:
        with self._guard:
            self.received.clear()


@dataclass(frozen=True)
class Output:
    """One entry of the output picker."""

    label: str  # what the picker shows, unique in a list
    kind: str  # "port", "virtual" or "synth"
    api: str | None = None  # mido's rtmidi API name for ports
    port: str | None = None  # the port's name within its API
    reason: str | None = None  # why it cannot be used; None when usable

    @property
    def available(self) -> bool:
        return self.reason is None


@dataclass
class OutputList:
    outputs: list[Output] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # one line per MIDI system that did not answer

    @property
    def message(self) -> str | None:
        """A plain line for the window when no MIDI system answered, else None."""
        if any(o.kind in ("port", "virtual") for o in self.outputs):
            return None
        detail = "; ".join(self.problems)
        synth = any(o.kind == "synth" and o.available for o in self.outputs)
        what = SYNTH_ONLY if synth else NO_MIDI  # a working synth is what plays: say that, not "no MIDI"
        return f"{what} ({detail})" if detail else what

    def find(self, label: str | None) -> Output | None:
        """The entry with this label (e.g. the user's last choice), if it is still offered."""
        return next((o for o in self.outputs if o.label == label), None)


def _backend(api: str) -> mido.Backend:
    return mido.Backend(f"mido.backends.rtmidi/{api}", load=True)


def midi_apis() -> list[str]:
    """rtmidi's compiled-in APIs we know, in our order (empty without python-rtmidi)."""
    try:
        compiled = mido.Backend("mido.backends.rtmidi", load=True).module.get_api_names()
    except Exception:  # python-rtmidi missing or broken: no MIDI ports, the synth may still work
        return []
    return [api for api in API_LABELS if api in compiled]


def output_names(api: str) -> list[str]:
    """The port names one MIDI API offers now (raises where that MIDI system does not answer)."""
    return _backend(api).get_output_names()


def list_outputs(include_synth: bool = True) -> OutputList:
    """Every output the system offers now; call again to refresh."""
    os.environ.setdefault("JACK_NO_START_SERVER", "1")  # listing must not launch a JACK server
    result = OutputList()
    virtual_done = False
    apis = midi_apis()
    if not apis:
        result.problems.append("python-rtmidi is not installed")
    for api in apis:
        label = API_LABELS[api]
        try:
            names = _backend(api).get_output_names()
        except Exception as exc:  # rtmidi raises SystemError when ALSA's /dev/snd/seq or a JACK server is absent
            result.problems.append(f"{label}: {_first_line(exc)}")
            continue
        if api in VIRTUAL_APIS and not virtual_done:
            result.outputs.append(Output(f"{VIRTUAL_NAME} (virtual {label} port)", "virtual", api, VIRTUAL_NAME))
            virtual_done = True
        for name in names:
            if name.split(":")[0] == VIRTUAL_NAME:
                continue  # our own client: sending to ourselves would loop
            result.outputs.append(Output(f"{name} ({label})", "port", api, name))
    if include_synth:
        from .synth import unavailable_reason

        result.outputs.append(Output(BUILT_IN, "synth", reason=unavailable_reason()))
    return result


def open_output(output: Output, soundfont: str | None = None):
    """Open the chosen output as a mido output port; the caller closes it (after stopping its Player)."""
    if not output.available:
        raise PortError(f"'{output.label}' is not available: {output.reason}")
    try:
        if output.kind == "synth":
            from .synth import LiveSynth

            return LiveSynth(soundfont)
        backend = _backend(output.api)
        if output.kind == "virtual":
            return backend.open_output(VIRTUAL_NAME, client_name=VIRTUAL_NAME)
        return backend.open_output(output.port)
    except PortError:
        raise
    except Exception as exc:
        raise PortError(
            f"could not open '{output.label}' ({_first_line(exc)}): press Refresh and choose another output"
        ) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
