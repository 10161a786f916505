"""Small helpers the playback tests share: wait for a condition, and what a message stream leaves sounding."""

from __future__ import annotations

import time


def wait_until(condition, timeout: float = 10.0) -> None:
    """Poll `condition` every 5 ms until it holds; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def sounding(messages) -> set:
    """(channel, note) left sounding by a message stream, as a synth would see it (CC123 silences a channel)."""
    on: set = set()
    for m in messages:
        if m.type == "note_on" and m.velocity > 0:
            on.add((m.channel, m.note))
        elif m.type in ("note_off", "note_on"):
            on.discard((m.channel, m.note))
        elif m.type == "control_change" and m.control == 123:
            on = {k for k in on if k[0] != m.channel}
    return on
