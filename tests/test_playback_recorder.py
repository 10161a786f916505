"""Recording a part: count-in and metronome clicks, notes time-stamped and quantized to 16ths, the take's .mid.

The real-port tests play a "keyboard" (a virtual JACK output of this test) into the app's input through a
JACK dummy server; the others feed an in-memory input. The clicks land in an in-memory output that keeps
each message's arrival time.
"""

from __future__ import annotations

import threading
import time

import mido
import numpy as np
import pytest
from jack_fixture import jack_server  # noqa: F401

from musicvae_app.playback.ports import PortError, RecordingPort
from musicvae_app.playback.recorder import (
    CLICK_ACCENT,
    CLICK_BEAT,
    CLICK_CHANNEL,
    NO_INPUTS,
    Input,
    InputList,
    MessageInput,
    PlayedNote,
    Recorder,
    Recording,
    list_inputs,
    open_input,
    quantize,
    write_recording,
)
from musicvae_app.sketch.midi import read_notes, read_roll
from musicvae_app.sketch.song import LANES

PIANO, BASS = LANES.index("piano"), LANES.index("bass")


def play_into(send, recorder: Recorder, events) -> threading.Thread:
    """Send (beats from the first downbeat, message) at their clock times, from another thread."""

    def run():
        for beats, msg in events:
            due = recorder.downbeat + beats * recorder.beat_seconds
            while time.perf_counter() < due:
                time.sleep(0.0005)
            send(msg)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def phrase(jitter: float):
    """A two-bar phrase, each note off the 16th grid by up to `jitter` beats; (events, expected quantized notes)."""
    played = [  # (pitch, start beat, end beat, velocity), as a musician plays them: early, late, on time
        (60, 0.0 + jitter, 0.9, 100),
        (64, 1.0 - jitter, 1.5 + jitter, 90),
        (67, 1.75 + jitter, 2.5, 80),
        (72, 3.5 - jitter, 4.0 - jitter, 70),
        (48, 4.0, 7.25 + jitter, 110),
    ]
    events = []
    for pitch, start, end, velocity in played:
        events.append((start, mido.Message("note_on", note=pitch, velocity=velocity)))
        events.append((end, mido.Message("note_off", note=pitch, velocity=0)))
    expected = sorted(
        ((p, round(s * 4), max(round(e * 4), round(s * 4) + 1), v) for p, s, e, v in played), key=lambda n: (n[1], n[0])
    )
    return sorted(events, key=lambda e: e[0]), expected


# --- quantizing and the take's file (no ports) -------------------------------------------------------------
def test_notes_snap_to_the_nearest_16th_and_count_in_notes_are_dropped():
    step = 60 / 120 / 4  # a 16th at 120 BPM: 125 ms
    played = [
        PlayedNote(60, 100, 0.04, 0.30),  # 40 ms late: step 0, ends at step 2
        PlayedNote(62, 90, 2 * step - 0.05, 3 * step + 0.01),  # early: step 2 to 3
        PlayedNote(64, 80, -0.05, 0.01),  # 50 ms before the downbeat: still the first 16th, one step long
        PlayedNote(65, 80, -0.3, -0.1),  # in the count-in: not the take's
        PlayedNote(67, 70, 8 * step, 8 * step + 0.01),  # a short blip is one 16th
        PlayedNote(67, 70, 9 * step, 12 * step),  # struck again right after: both onsets stay
    ]
    notes, dropped = quantize(played, 120)
    assert dropped == 1
    assert notes == [(60, 0, 2, 100), (64, 0, 1, 80), (62, 2, 3, 90), (67, 8, 9, 70), (67, 9, 12, 70)]


def test_a_take_is_written_as_a_mid_on_its_lane_at_its_tempo(tmp_path):
    take = Recording(BASS, 96.0, [PlayedNote(36, 100, 0.0, 0.3), PlayedNote(43, 90, 1.5, 1.8)])
    path = write_recording(take, tmp_path, program=33)
    assert path.parent == tmp_path and path.name.startswith("recorded-bass-") and path.suffix == ".mid"
    mid = mido.MidiFile(path)
    msgs = [m for m in mid.tracks[0] if not m.is_meta]
    assert msgs[0].type == "program_change" and msgs[0].program == 33 and msgs[0].channel == 2
    assert mido.tempo2bpm(next(m.tempo for m in mid.tracks[0] if m.type == "set_tempo")) == pytest.approx(96)
    notes = read_notes(path)  # the app's own reader puts it back on the bass lane, on the same 16ths
    assert set(notes.lane.tolist()) == {BASS} and notes.tempo == pytest.approx(96)
    roll, _ = read_roll(path, 4)
    assert np.array_equal(roll[BASS][: take.roll().shape[0]], take.roll()[: roll.shape[1]])
    assert take.bars == 1 and mid.length == pytest.approx(4 * 60 / 96, abs=0.01)  # the file is whole bars
    second = write_recording(take, tmp_path)
    assert second != path  # a new name each time: no take overwrites another


def test_the_count_in_clicks_a_bar_then_the_metronome_goes_on_and_notes_arrive_in_time():
    source, clicks = MessageInput(), RecordingPort("clicks")
    recorder = Recorder(source, PIANO, tempo=240, click=clicks, program=4)
    recorder.start()
    assert recorder.counting_in
    events, expected = phrase(jitter=0.05)
    play_into(source.send, recorder, events).join(timeout=10)
    time.sleep(0.05)
    take = recorder.stop()
    assert take.notes == expected and take.lane == PIANO and take.bars == 2
    sent = [(t, m) for t, m in clicks.received if m.channel == CLICK_CHANNEL and m.type == "note_on"]
    assert [m.note for _, m in sent[:5]] == [CLICK_ACCENT, CLICK_BEAT, CLICK_BEAT, CLICK_BEAT, CLICK_ACCENT]
    first = recorder.downbeat - 4 * recorder.beat_seconds
    for i, (at, _) in enumerate(sent[:8]):  # every click on its beat, to a few ms
        assert at - (first + i * recorder.beat_seconds) == pytest.approx(0, abs=0.02)
    assert len(sent) >= 4 + 7  # the count-in bar and the metronome through the take
    offs = [m for _, m in clicks.received if m.channel == CLICK_CHANNEL and m.type == "note_off"]
    assert len(offs) == len(sent)  # every click released
    thru = [m for _, m in clicks.received if m.channel == 0]  # the played notes echoed on the piano's channel
    assert thru[0].type == "program_change" and thru[0].program == 4
    assert sorted(m.note for m in thru if m.type == "note_on") == sorted(p for p, *_ in expected)


def test_metronome_off_clicks_the_count_in_only():
    source, clicks = MessageInput(), RecordingPort("clicks")
    recorder = Recorder(source, PIANO, tempo=300, click=clicks, metronome=False, thru=False)
    recorder.start()
    while recorder.position_beats < 4:
        time.sleep(0.01)
    take = recorder.stop()
    assert take.notes == [] and len([m for m in clicks.messages() if m.type == "note_on"]) == 4


def test_a_failing_click_port_stops_the_clicks_and_the_take_goes_on():
    source = MessageInput()
    recorder = Recorder(source, PIANO, tempo=300, click=RecordingPort("dies", fail_after=2))
    recorder.start()
    play_into(source.send, recorder, [(0, mido.Message("note_on", note=60)), (1, mido.Message("note_off", note=60))])
    while recorder.position_beats < 1.5:
        time.sleep(0.01)
    take = recorder.stop()
    assert "metronome's output stopped working" in recorder.error
    assert take.notes == [(60, 0, 4, 64)]


def test_no_input_says_so_plainly():
    assert NO_INPUTS in InputList([], ["JACK: JACK server not running?"]).message
    assert "connect a keyboard and press Refresh" in InputList([], []).message
    assert InputList([Input("keys (JACK)", "UNIX_JACK", "keys")]).message is None
    with pytest.raises(PortError, match="'gone \\(JACK\\)'"):
        open_input(Input("gone (JACK)", "UNIX_JACK", "nobody:gone"))


# --- a real JACK port ---------------------------------------------------------------------------------
@pytest.fixture
def keyboard(jack_server):  # noqa: F811
    """A virtual JACK output standing for a musician's keyboard: what it sends arrives at the app's input."""
    import rtmidi

    out = rtmidi.MidiOut(rtapi=rtmidi.API_UNIX_JACK, name="test-keys")
    out.open_virtual_port("keys")
    yield out
    out.close_port()
    out.delete()


def test_a_part_played_into_a_jack_input_is_recorded_on_the_16ths(keyboard):
    entry = next((i for i in list_inputs().inputs if i.port == "test-keys:keys"), None)
    assert entry is not None and entry.label == "test-keys:keys (JACK)" and entry.api == "UNIX_JACK"
    assert not any(i.port.startswith("musicvae-app") for i in list_inputs().inputs)
    source, clicks = open_input(entry), RecordingPort("clicks")
    try:
        recorder = Recorder(source, PIANO, tempo=90, click=clicks)
        recorder.start()
        events, expected = phrase(jitter=0.02)  # 13 ms off the grid at 90 BPM, besides JACK's period
        play_into(lambda m: keyboard.send_message(m.bytes()), recorder, events).join(timeout=20)
        time.sleep(0.2)
        take = recorder.stop()
    finally:
        source.close()
    assert take.notes == expected
    assert take.roll()[:, 48].sum() == round(7.25 * 4) - 16  # the held bass note: bar 2 beat 1 to 4 beats 1
    sent = {msg.note: beats * recorder.beat_seconds for beats, msg in events if msg.type == "note_on"}
    late = [n.start - sent[n.pitch] for n in take.played]
    assert len(late) == 5 and all(-0.005 < x < 0.07 for x in late)  # stamped as they arrived: within JACK's period


def test_a_flood_of_notes_into_a_jack_input_loses_none(keyboard, capfd):
    """Issue 32: 5,000 notes as fast as a JACK client sends them (10,000 messages in well under a second) once
    overflowed rtmidi's 1,024-message input queue ("message queue limit reached", a fifth to a third lost)."""
    entry = next((i for i in list_inputs().inputs if i.port == "test-keys:keys"), None)
    assert entry is not None
    source = open_input(entry)
    try:
        recorder = Recorder(source, PIANO, tempo=120, metronome=False)
        recorder.start()
        count = 5000
        for i in range(count):
            keyboard.send_message([0x90, 36 + i % 48, 100])
            keyboard.send_message([0x80, 36 + i % 48, 0])
            if i % 100 == 99:  # the sender's own JACK ring (16 KB) must not overflow: 100 notes a millisecond
                time.sleep(0.001)
        deadline = time.monotonic() + 10
        while len(recorder._played) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        take = recorder.stop()
    finally:
        source.close()
    assert len(take.played) == count
    assert "queue limit" not in capfd.readouterr().err
