"""A real MIDI port: the player sends to our virtual JACK output, a second JACK client receives it all."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import mido
import numpy as np
import pytest
from jack_fixture import JACK_API, jack_server  # noqa: F401

from musicvae_app.playback.player import Player
from musicvae_app.playback.ports import VIRTUAL_NAME, list_outputs, open_output
from musicvae_app.playback.schedule import schedule
from musicvae_app.sketch.song import Song

pytestmark = pytest.mark.usefixtures("jack_server")


def sketch(tempo: float = 480.0) -> Song:
    probs = np.zeros((5, 32, 128), np.float32)
    probs[0, 0:8, 60] = 1.0
    probs[1, 4:12, 64] = 0.7
    probs[2, ::4, 36] = 1.0
    probs[3, 0:32, 67] = 0.5
    probs[4, ::2, 42] = 1.0
    return Song(probs=probs, steps_per_beat=2, chunk_steps=32, tempo=tempo)


class Receiver:
    """A second JACK client, in its own process, connected to our virtual output, collecting what arrives."""

    def __init__(self, source: str):
        self.messages: list[mido.Message] = []
        script = Path(__file__).with_name("jack_receiver.py")
        self.proc = subprocess.Popen([sys.executable, str(script), source], stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "ready"
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.messages.append(mido.Message.from_hex(line.strip()))

    def wait_quiet(self, quiet: float = 0.3, timeout: float = 10.0) -> None:
        """Until nothing has arrived for `quiet` seconds (JACK delivers once a period)."""
        deadline = time.monotonic() + timeout
        count = -1
        while count != len(self.messages) and time.monotonic() < deadline:
            count = len(self.messages)
            time.sleep(quiet)

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)


@pytest.fixture
def virtual_output():
    entry = next(o for o in list_outputs(include_synth=False).outputs if o.kind == "virtual" and o.api == "UNIX_JACK")
    port = open_output(entry)
    yield port
    port.close()


def test_the_virtual_jack_port_is_offered():
    labels = [o.label for o in list_outputs(include_synth=False).outputs]
    assert f"{VIRTUAL_NAME} (virtual JACK port)" in labels


def test_a_second_client_receives_every_message_in_order(virtual_output):
    receiver = Receiver(f"{VIRTUAL_NAME}:{VIRTUAL_NAME}")
    player = Player(virtual_output)
    song = sketch()
    try:
        player.play(song)
        deadline = time.monotonic() + 20
        while player.is_playing and time.monotonic() < deadline:
            time.sleep(0.02)
        receiver.wait_quiet()
    finally:
        player.close()
        receiver.close()
    expected = [m for _, m in schedule(song)]
    got = [m for m in receiver.messages if not (m.type == "control_change" and m.control in (121, 123))]  # no panic
    assert got == expected
    assert player.error is None


def test_stop_mid_note_reaches_the_other_client_as_silence(virtual_output):
    receiver = Receiver(f"{VIRTUAL_NAME}:{VIRTUAL_NAME}")
    player = Player(virtual_output)
    try:
        player.play(sketch(tempo=120.0))
        time.sleep(0.5)
        player.stop()
        receiver.wait_quiet()
    finally:
        player.close()
        receiver.close()
    held: set = set()
    for m in receiver.messages:
        if m.type == "note_on":
            held.add((m.channel, m.note))
        elif m.type == "note_off":
            held.discard((m.channel, m.note))
    assert held == set()
    assert {(m.channel, m.control) for m in receiver.messages[-32:]} == {
        (ch, cc) for ch in range(16) for cc in (123, 121)
    }


def test_closing_the_port_mid_play_stops_with_a_message(virtual_output):
    player = Player(virtual_output)
    player.play(sketch(tempo=120.0))
    time.sleep(0.3)
    virtual_output.close()
    deadline = time.monotonic() + 10
    while player.is_playing and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not player.is_playing
    assert VIRTUAL_NAME in player.error and "closed" in player.error
    player.close()
