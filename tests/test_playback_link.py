"""Ableton Link (issue 30) against a real second peer: another process in the session (tests/link_peer.py).

Nothing fakes the clock: both peers read Link's own timeline; perf_counter is the same monotonic clock in
both processes, so a beat sampled there can be compared with one sampled here at the same instant.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from musicvae_app.playback.link import LinkSession, link_unavailable
from musicvae_app.playback.ports import RecordingPort
from musicvae_app.playback.transport import Transport
from musicvae_app.sketch.song import Song

pytestmark = pytest.mark.skipif(link_unavailable() is not None, reason=str(link_unavailable()))


def song(tempo: float = 120.0, beats: int = 16) -> Song:
    probs = np.zeros((5, beats * 2, 128), np.float32)
    probs[2, ::2, 36] = 1.0  # a bass note on every beat
    probs[3, :, 67] = 0.6  # held throughout
    return Song(probs=probs, steps_per_beat=2, chunk_steps=beats * 2, tempo=tempo)


def wait_until(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


class Peer:
    def __init__(self, tempo: float):
        script = Path(__file__).with_name("link_peer.py")
        self.proc = subprocess.Popen(
            [sys.executable, str(script), str(tempo)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout.readline().strip() == "ready"

    def __call__(self, command: str) -> list[str]:
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        lines = []
        for line in self.proc.stdout:
            if line.strip() == "done":
                return lines
            lines.append(line.strip())
        return lines

    def samples(self, n: int = 50) -> np.ndarray:
        """(perf_counter, beat, phase, tempo) rows."""
        return np.array([[float(x) for x in row.split()] for row in self(f"sample {n}")])

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)


@pytest.fixture
def peer():
    p = Peer(100.0)
    yield p
    p.close()


def our_beats_at(session: LinkSession, n: int = 50) -> np.ndarray:
    rows = []
    for _ in range(n):
        rows.append((time.perf_counter(), session.beats()))
        time.sleep(0.001)
    return np.array(rows)


def test_joining_shares_one_tempo_follows_its_changes_and_shares_its_bars(peer):
    session = LinkSession(tempo=130.0)
    try:
        wait_until(lambda: session.peers == 1)
        # one session: Link's merge rule picks whose timeline (usually the older peer's, 100)
        wait_until(lambda: abs(session.tempo() - peer.samples(1)[0, 3]) < 1e-3)
        assert min(abs(session.tempo() - 100.0), abs(session.tempo() - 130.0)) < 1e-3
        peer("tempo 140")
        wait_until(lambda: abs(session.tempo() - 140.0) < 1e-3)
        theirs = peer.samples()
        ours = our_beats_at(session)
        session.set_tempo(90.0)  # and we set it for everyone
        wait_until(lambda: abs(peer.samples(1)[0, 3] - 90.0) < 1e-3)
    finally:
        session.close()
    # their beat where we sampled ours (the beat runs linearly between 1 ms samples)
    at_ours = np.interp(ours[:, 0], theirs[:, 0], theirs[:, 1])
    inside = (ours[:, 0] >= theirs[0, 0]) & (ours[:, 0] <= theirs[-1, 0])
    if inside.any():  # the sampling windows overlap when the machine is quick enough
        assert np.abs(((ours[inside, 1] - at_ours[inside]) + 2) % 4 - 2).max() < 0.01
    # and always: the bar phase extrapolated to one instant from each side's samples
    t = ours[-1, 0]
    slope = 140.0 / 60.0
    theirs_at_t = theirs[-1, 1] + (t - theirs[-1, 0]) * slope
    assert abs(((ours[-1, 1] - theirs_at_t) + 2) % 4 - 2) < 0.01


def test_play_starts_on_the_sessions_bar_line_and_tells_the_peer(peer):
    s = song(tempo=100.0)
    port = RecordingPort()
    stamped: list[tuple[float, object]] = []
    transport = Transport(get_song=lambda: s)
    transport.use_output(port, "recorder")
    transport.set_sync("link")
    session = transport.source
    original = port._send

    def stamp(msg):
        stamped.append((session.beats(), msg))
        original(msg)

    port._send = stamp
    try:
        wait_until(lambda: session.peers == 1)
        transport.seek(1.0)  # the sketch's second beat: it must fall on the session's second beat of a bar
        assert transport.play()
        wait_until(lambda: any(m.type == "note_on" for _, m in stamped))
        assert peer("sample 1") and "peers 1" in peer("peers")
        wait_until(lambda: float(peer.samples(1)[0, 1]) > 0 and _peer_playing(peer))
        transport.stop()
    finally:
        transport.shutdown()
    first = next(beat for beat, m in stamped if m.type == "note_on")
    assert abs(((first % 4) - 1.0 + 2) % 4 - 2) < 0.05  # on beat 2 of a session bar (send jitter: < 0.05 beat)
    assert not any(m.type == "note_on" for _, m in stamped[-40:])


def _peer_playing(peer: Peer) -> bool:
    peer.proc.stdin.write("playing\n")
    peer.proc.stdin.flush()
    lines = []
    for line in peer.proc.stdout:
        if line.strip() == "done":
            break
        lines.append(line.strip())
    return "playing True" in lines


def test_a_peers_start_and_stop_start_and_stop_the_band(peer):
    s = song(tempo=100.0)
    port = RecordingPort()
    transport = Transport(get_song=lambda: s)
    transport.use_output(port, "recorder")
    transport.set_sync("link")
    try:
        wait_until(lambda: transport.source.peers == 1)
        peer("play")
        wait_until(lambda: transport.is_playing)
        wait_until(lambda: any(m.type == "note_on" for m in port.messages()))
        peer("stop")
        wait_until(lambda: not transport.is_playing)
    finally:
        transport.shutdown()
    on: set = set()
    for m in port.messages():
        if m.type == "note_on":
            on.add((m.channel, m.note))
        elif m.type == "note_off" or (m.type == "control_change" and m.control == 123):
            on = {k for k in on if not (k[0] == m.channel and (m.type != "note_off" or k[1] == m.note))}
    assert on == set()


def test_alone_in_the_session_the_band_plays_at_its_own_tempo():
    s = song(tempo=133.0, beats=4)
    port = RecordingPort()
    transport = Transport(get_song=lambda: s)
    transport.use_output(port, "recorder")
    transport.set_sync("link")
    try:
        if transport.source.peers:
            pytest.skip("another Link peer is on this network; this test needs a session of one")
        assert transport.play()
        assert abs(transport.source.tempo() - 133.0) < 1e-6
        wait_until(lambda: not transport.is_playing)
    finally:
        transport.shutdown()
    assert sum(m.type == "note_on" for m in port.messages()) == 4 + 1
