"""`musicvae play` (issue 30): the real command in its own process, sending to a DAW's input on JACK (a second
client with a port of its own), with MIDI clock out; a bad port name; a kill mid-loop stops cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from jack_fixture import jack_server  # noqa: F401

from musicvae_app.cli import main
from musicvae_app.playback.clock import PPQ
from musicvae_app.playback.headless import song_from_file
from musicvae_app.sketch.midi import write_midi
from musicvae_app.sketch.song import Song

ROOT = Path(__file__).resolve().parents[1]
DAW = "daw-in"


def sketch_file(folder: Path, tempo: float = 240.0, bars: int = 2) -> Path:
    steps = bars * 16
    probs = np.zeros((5, steps, 128), np.float32)
    probs[0, 0:8, 60] = 1.0
    probs[2, ::4, 36] = 1.0
    probs[4, ::2, 42] = 1.0
    song = Song(probs=probs, steps_per_beat=4, chunk_steps=16, tempo=tempo)
    return write_midi(song, folder / "sketch.mid")


class Daw:
    """A second JACK client with an input port of its own (tests/jack_receiver.py --virtual)."""

    def __init__(self):
        script = Path(__file__).with_name("jack_receiver.py")
        self.proc = subprocess.Popen([sys.executable, str(script), "--virtual", DAW], stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "ready"
        os.set_blocking(self.proc.stdout.fileno(), False)
        self.lines: list[str] = []

    def messages(self):
        import mido

        while True:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.lines.append(line.strip())
        return [mido.Message.from_hex(x) for x in self.lines]

    def close(self):
        self.proc.kill()
        self.proc.wait(timeout=10)


@pytest.fixture
def daw(jack_server):  # noqa: F811
    d = Daw()
    yield d
    d.close()


def play_command(*args) -> list[str]:
    return [sys.executable, "-c", "import sys; from musicvae_app.cli import main; sys.exit(main())", "play", *args]


def env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def test_the_file_is_read_on_the_bands_grid_with_its_tempo(tmp_path):
    path = sketch_file(tmp_path, tempo=97.0)
    song = song_from_file(path)
    assert song.tempo == pytest.approx(97.0, abs=0.01) and song.n_steps == 32
    assert song.notes()[0, 0:8, 60].all() and song.notes()[2, ::4, 36].all()


def test_play_sends_the_sketch_with_its_clock_to_the_daw(daw, tmp_path):
    path = sketch_file(tmp_path)
    done = subprocess.run(
        play_command(str(path), "--port", DAW, "--clock-out"), env=env(), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "sketch.mid" in done.stdout and "MIDI clock out" in done.stdout and "bar 2" in done.stdout
    time.sleep(0.3)
    msgs = daw.messages()
    kinds = [m.type for m in msgs if m.type not in ("program_change", "control_change")]
    assert kinds[:2] == ["songpos", "start"] and kinds[-1] == "stop"
    assert kinds.count("clock") == 8 * PPQ  # two bars of 4 beats
    assert kinds.count("note_on") == kinds.count("note_off") > 0
    assert {(m.channel, m.control) for m in msgs[-32:]} == {(ch, cc) for ch in range(16) for cc in (123, 121)}


def test_a_kill_mid_loop_stops_the_daw_and_every_note(daw, tmp_path):
    path = sketch_file(tmp_path)
    proc = subprocess.Popen(
        play_command(str(path), "--port", DAW, "--clock-out", "--loop"), env=env(), stdout=subprocess.PIPE, text=True
    )
    try:
        assert "playing" in proc.stdout.readline()
        time.sleep(2.5)  # over a pass (2 s at 240 BPM)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
    time.sleep(0.3)
    msgs = daw.messages()
    positions = [m.pos for m in msgs if m.type == "songpos"]
    assert positions[0] == 0 and 0 in positions[1:]  # the loop's wrap told the DAW where it was
    tail = [m.type for m in msgs if m.type not in ("clock",)][-33:]
    assert tail[0] in ("stop", "note_off") and "stop" in [m.type for m in msgs]
    held: set = set()
    for m in msgs:
        if m.type == "note_on" and m.velocity:
            held.add((m.channel, m.note))
        elif m.type == "note_off":
            held.discard((m.channel, m.note))
    assert held == set()


def test_a_port_that_is_not_there_is_one_line_naming_it(jack_server, tmp_path, capsys):  # noqa: F811
    path = sketch_file(tmp_path)
    assert main(["play", str(path), "--port", "no-such-daw"]) == 2
    err = capsys.readouterr().err
    assert "no-such-daw" in err and "is not offered" in err and "Traceback" not in err
    assert main(["play", str(path), "--port", "x", "--clock-in", "y"]) == 2
    assert "--clock-in is for --sync midi-clock" in capsys.readouterr().err
    assert main(["play", str(path), "--port", "x", "--sync", "midi-clock"]) == 2
    assert "needs the input" in capsys.readouterr().err


def test_a_daw_that_quits_mid_play_stops_the_band_naming_its_port(daw, tmp_path):
    path = sketch_file(tmp_path)
    proc = subprocess.Popen(
        play_command(str(path), "--port", DAW, "--loop"),
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert "playing" in proc.stdout.readline()
        daw.close()  # the DAW quits: its port leaves the JACK graph
        assert proc.wait(timeout=15) == 2
        err = proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert f"'{DAW}" in err and "disappeared" in err and "Traceback" not in err
