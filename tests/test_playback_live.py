"""The live band (issue 30): a keyboard in its own process plays chords on a JACK port; the band (the shipped
chord pack) follows from the next bar or beat; the take exports; a flood and a vanished keyboard do no harm."""

from __future__ import annotations

import os
import time

import mido
import pytest
from jack_fixture import jack_server  # noqa: F401
from midi_streams import sounding
from test_playback_clock import Sender

from musicvae_app.engine import Engine
from musicvae_app.playback.live import LiveBand, chord_of, transpose
from musicvae_app.playback.ports import RecordingPort
from musicvae_app.playback.transport import Transport
from musicvae_app.resources import resources_dir
from musicvae_app.sketch.song import DRUMS
from musicvae_app.theory.chords import parse_chord

KEYS = f"keys{os.getpid()}"  # unique: another test run on the same JACK server has its own "keys"
F_MAJOR = [53, 57, 60]
G7 = [55, 59, 62, 65]


@pytest.fixture(scope="module")
def engine():
    return Engine.load(resources_dir() / "models" / "chords")


@pytest.fixture
def keyboard(jack_server):  # noqa: F811
    k = Sender(KEYS)
    yield k
    k.kill()


def band_on(engine, change_at="bar"):
    port = RecordingPort()
    transport = Transport(get_song=lambda: None)
    transport.use_output(port, "recorder")
    band = LiveBand(engine, transport, KEYS, change_at=change_at, tempo=160.0)
    return port, transport, band


def test_a_hand_of_keys_is_its_chord():
    assert chord_of(F_MAJOR).symbol == "F" and chord_of(G7).symbol == "G7"
    assert chord_of([57, 60, 64]).symbol == "Am" and chord_of([60]) is None


def test_moving_a_phrase_leaves_the_drums(engine):
    song = engine.generate(steps=1, chords="C", seed=1, tempo=120)
    moved = transpose(song.probs, 5)
    assert (moved[DRUMS] == song.probs[DRUMS]).all()
    assert (moved[2, :, 5:] == song.probs[2, :, :-5]).all()


def test_the_band_changes_at_the_next_bar_and_the_take_keeps_both(engine, keyboard, tmp_path):
    port, transport, band = band_on(engine)
    try:
        assert band.start()
        time.sleep(0.4)
        keyboard("hold " + " ".join(map(str, F_MAJOR)))
        played = transport.position_beats
        time.sleep(2.2)  # 160 BPM: a bar is 1.5 s
        keyboard("release")
        path = band.export(tmp_path / "take.mid")
    finally:
        band.stop()
    line, chord = band.chords[0]
    assert chord == "F"
    assert line % 4 == 0 and 0 < line - played <= 4.0 + 0.2  # the next bar line after the keys went down
    assert sounding(port.messages()) == set()
    mid = mido.MidiFile(path)
    names = [t.name for t in mid.tracks]
    assert names[-1] == "Keyboard (you)"
    keys = [m.note for m in mid.tracks[-1] if m.type == "note_on" and m.velocity]
    assert keys == F_MAJOR  # what was played, as played
    # the band's take: from the line on, its pitched notes are mostly F's tones (F A C)
    struck = []
    for track in mid.tracks[1:5]:
        tick = 0
        for m in track:
            tick += m.time
            if m.type == "note_on" and m.velocity and line <= tick / mid.ticks_per_beat < line + 4:
                struck.append(m.note % 12)
    assert struck and sum(pc in (5, 9, 0) for pc in struck) / len(struck) >= 0.6


def test_the_band_plays_the_chord_in_the_bar_after_the_change(engine, keyboard):
    port, transport, band = band_on(engine, change_at="beat")
    stamped: list[tuple[float, mido.Message]] = []
    original = port._send

    def stamp(msg):
        stamped.append((transport.position_beats, msg))
        original(msg)

    port._send = stamp
    try:
        assert band.start()
        time.sleep(0.3)
        keyboard("hold " + " ".join(map(str, G7)))
        time.sleep(2.0)
    finally:
        band.stop()
    line, chord = band.chords[0]
    assert chord == "G7" and line == int(line)  # a beat line
    after = [m for b, m in stamped if line - 0.01 <= b < line + 4 and m.type == "note_on" and m.channel != 9]
    tones = {7, 11, 2, 5}
    assert after and sum(m.note % 12 in tones for m in after) / len(after) >= 0.6
    decision = next(d for d in band.decisions if d.chord == "G7")
    assert decision.played_at is not None and decision.seconds < 1.0  # measured properly in bench_sync


def test_a_flooding_keyboard_is_cut_and_said_and_the_band_plays_on(engine, keyboard):
    said: list[str] = []
    port, transport, band = band_on(engine)
    band.say = said.append
    try:
        assert band.start()
        keyboard("notes 5000")
        time.sleep(0.5)
        assert transport.is_playing
    finally:
        started = time.monotonic()
        band.stop()
        assert time.monotonic() - started < 6.0
    assert any("flooding" in s and KEYS in s for s in said)
    assert sounding(port.messages()) == set()


def test_a_keyboard_that_disappears_is_said_and_the_band_plays_on(engine, keyboard):
    said: list[str] = []
    port, transport, band = band_on(engine)
    band.say = said.append
    try:
        assert band.start()
        keyboard.kill()
        deadline = time.monotonic() + 6
        while not said and time.monotonic() < deadline:
            time.sleep(0.05)
        assert transport.is_playing
    finally:
        band.stop()
    assert said and KEYS in said[0] and "disappeared" in said[0]
    assert sounding(port.messages()) == set()


def test_the_live_command_plays_to_a_daw_and_writes_the_take(keyboard, tmp_path):
    from test_playback_headless import DAW, Daw

    from musicvae_app.playback.live import run

    daw = Daw()
    said: list[str] = []
    started = time.monotonic()

    held: list[bool] = []

    def until() -> bool:
        if not held and len(said) == 1 and time.monotonic() - started > 0.5:
            held.append(True)
            keyboard("hold 50 53 57")  # D minor
        return any(s.endswith(": Dm") for s in said) or time.monotonic() - started > 30

    try:
        assert run(KEYS, DAW, tempo=150.0, take=tmp_path / "take.mid", say=said.append, until=until) == 0
        time.sleep(0.3)
        got = daw.messages()
    finally:
        daw.close()
    assert said[0].startswith("the band plays to") and KEYS in said[0]
    assert any(s.endswith(": Dm") for s in said) and said[-1].startswith("take written to")
    assert any(m.type == "note_on" for m in got) and sounding(got) == set()
    assert [m.note for m in mido.MidiFile(tmp_path / "take.mid").tracks[-1] if m.type == "note_on"] == [50, 53, 57]


def test_the_live_command_refuses_what_it_cannot_use(jack_server, tmp_path, capsys):  # noqa: F811
    from musicvae_app.cli import main

    assert main(["live", "--in", "x", "--out", "no-such-synth"]) == 2
    err = capsys.readouterr().err
    assert "no-such-synth" in err and "Traceback" not in err
    assert main(["live", "--in", "x", "--out", "y", "--take", str(tmp_path / "nope" / "t.mid")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["live", "--in", "x", "--out", "y", "--tempo", "1000"]) == 2
    assert "tempo" in capsys.readouterr().err
    assert main(["live", "--in", "x", "--out", "y", "--style", "polka-x"]) == 2
    assert "style 'polka-x' is not one of Auto" in capsys.readouterr().err


def test_following_a_tune_the_harmony_model_names_the_chord(engine, keyboard):
    port = RecordingPort()
    transport = Transport(get_song=lambda: None)
    transport.use_output(port, "recorder")
    band = LiveBand(engine, transport, KEYS, follow="melody", change_at="beat", tempo=160.0)
    try:
        assert band.start()
        for note in (65, 69, 72, 69, 65, 72, 77, 72):  # F A C: a tune on an F chord
            keyboard(f"hold {note}")
            time.sleep(0.18)
            keyboard("release")
        deadline = time.monotonic() + 6
        while not band.chords and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        band.stop()
    assert band.chords, "the harmony model named no chord for the tune"
    named = parse_chord(band.chords[-1][1])
    assert {5, 9, 0} & set(named.tones) and named.symbol != "C"
    assert sounding(port.messages()) == set()
