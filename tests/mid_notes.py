"""A .mid's notes read back with mido alone (shared by the chart tests): no code of the app's on the way."""

from __future__ import annotations

import mido

DRUMS = 4  # the drums' lane (musicvae_app.lanes), on MIDI channel 9


def notes_16ths(path) -> list[tuple[int, int, int, int]]:
    """(lane, pitch, start 16th, end 16th) of every note in a .mid, read with mido alone (drums on channel 9)."""
    mid = mido.MidiFile(path)
    out, open_at = [], {}
    for track in mid.tracks:
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type not in ("note_on", "note_off"):
                continue
            step = round(tick * 4 / mid.ticks_per_beat)
            lane = DRUMS if msg.channel == 9 else msg.channel
            if msg.type == "note_on" and msg.velocity > 0:
                open_at[(lane, msg.note)] = step
            elif (lane, msg.note) in open_at:
                start = open_at.pop((lane, msg.note))
                out.append((lane, msg.note, start, max(step, start + 1)))
    return out
