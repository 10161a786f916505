"""The Standard MIDI File parser: bytes to packed note and marker events in bounded memory, no message objects.

A reader costs what its result costs: the file is parsed once (packed arrays), with caps on size, events,
variable-length numbers and markers; meta events that break mido are stripped for the files mido must open.
"""

from __future__ import annotations

from array import array

from ...errors import InvalidValue
from .format import lane_of_program

MAX_MIDI_BYTES = 16 * 1024 * 1024  # ~2 million notes; real band files are well under 1 MB
MAX_MIDI_EVENTS = 4_000_000
MAX_VLQ_BYTES = 4  # the standard's longest variable-length number (0x0FFFFFFF)
MAX_MARKERS = 100_000  # markers kept per file (a chord a beat for 60 minutes at 400 BPM is 24,000)
MAX_MARKER_BYTES = 64  # a marker's text is kept up to this; longer ones are not chord symbols
_SYSTEM_DATA_BYTES = {0xF1: 1, 0xF2: 2, 0xF3: 1, 0xF6: 0, 0xF8: 0, 0xFA: 0, 0xFB: 0, 0xFC: 0, 0xFE: 0}
LANE_OF_PROGRAM = [-1 if lane_of_program(p) is None else lane_of_program(p) for p in range(128)]


def _vlq(data: bytes, pos: int, end: int) -> tuple[int, int]:
    """(value, next position) of a variable-length number; ValueError when overlong or cut off."""
    value = 0
    for i in range(MAX_VLQ_BYTES):
        if pos + i >= end:
            raise InvalidValue("a track ends inside a number")
        byte = data[pos + i]
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, pos + i + 1
    raise InvalidValue(f"a variable-length number is longer than {MAX_VLQ_BYTES} bytes")


def parse_smf(data: bytes, markers: list | None = None) -> tuple[int, array, array, int]:
    """(ticks per beat, ticks, codes, last tick) of every note, program and tempo event, in track order.

    code = kind << 40 | channel << 16 | data1 << 8 | data2, kind 0 note-off, 1 note-on, 2 program change,
    3 tempo (microseconds per beat in the low 24 bits). Marker events are appended to `markers` as
    (tick, text bytes) when it is given. ValueError for damaged bytes.
    """
    if data[:4] != b"MThd" or len(data) < 14:
        raise InvalidValue("no MThd header")
    hlen = int.from_bytes(data[4:8], "big")
    if hlen < 6 or 8 + hlen > len(data):
        raise InvalidValue("damaged header")
    ntracks = int.from_bytes(data[10:12], "big")
    division = int.from_bytes(data[12:14], "big")
    if division & 0x8000:
        raise Smpte()
    ticks, codes = array("q"), array("q")
    pos, found, last = 8 + hlen, 0, 0
    while pos + 8 <= len(data) and found < ntracks:
        kind, size = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "big")
        pos += 8
        if pos + size > len(data):
            raise InvalidValue(f"track {found + 1} is cut short ({size} bytes declared, {len(data) - pos} there)")
        if kind == b"MTrk":
            last = max(last, _parse_track(data, pos, pos + size, ticks, codes, markers))
            found += 1
        pos += size
    if found < min(ntracks, 1):
        raise InvalidValue("no tracks")
    return division, ticks, codes, last


class Smpte(Exception):
    pass


def _parse_track(data: bytes, pos: int, end: int, ticks: array, codes: array, markers: list | None = None) -> int:
    """Append one track's events; returns the tick where the track ends."""
    tick, running = 0, 0
    while pos < end:
        delta, pos = _vlq(data, pos, end)
        tick += delta
        if pos >= end:
            raise InvalidValue("a track ends inside an event")
        status = data[pos]
        if status & 0x80:
            pos += 1
        elif running:
            status = running
        else:
            raise InvalidValue("a data byte where an event should start")
        if status == 0xFF:  # meta and sysex keep running status, as mido (and real files) do
            if pos >= end:
                raise InvalidValue("a track ends inside an event")
            meta = data[pos]
            length, pos = _vlq(data, pos + 1, end)
            if pos + length > end:
                raise InvalidValue("a meta event runs past the end of its track")
            if meta == 0x51 and length == 3:
                ticks.append(tick)
                codes.append((3 << 40) | int.from_bytes(data[pos : pos + 3], "big"))
            elif meta == 0x06 and markers is not None and len(markers) < MAX_MARKERS:
                markers.append((tick, bytes(data[pos : pos + min(length, MAX_MARKER_BYTES + 1)])))
            pos += length
            if meta == 0x2F:
                return tick
        elif status in (0xF0, 0xF7):
            length, pos = _vlq(data, pos, end)
            if pos + length > end:
                raise InvalidValue("a sysex event runs past the end of its track")
            pos += length
        elif status >= 0xF0:
            width = _SYSTEM_DATA_BYTES.get(status)
            if width is None:
                raise InvalidValue(f"undefined system message 0x{status:02X} inside a track")
            pos += width
        else:
            running = status
            high, channel = status & 0xF0, status & 0x0F
            width = 1 if high in (0xC0, 0xD0) else 2
            if pos + width > end:
                raise InvalidValue("a track ends inside an event")
            a = min(data[pos], 127)  # clip stray high bits, as mido's clip=True does
            b = min(data[pos + 1], 127) if width == 2 else 0
            pos += width
            if high == 0x90 and b > 0:
                ticks.append(tick)
                codes.append((1 << 40) | (channel << 16) | (a << 8) | b)
            elif high == 0x80 or high == 0x90:
                ticks.append(tick)
                codes.append((channel << 16) | (a << 8))
            elif high == 0xC0:
                ticks.append(tick)
                codes.append((2 << 40) | (channel << 16) | (a << 8))
        if len(ticks) > MAX_MIDI_EVENTS:
            raise TooBig(f"more than {MAX_MIDI_EVENTS:,} notes and events")
    return tick


class TooBig(Exception):
    pass


def _meta_mido_reads(meta: int, body: bytes) -> bool:
    from mido.midifiles.meta import build_meta_message

    try:
        build_meta_message(meta, list(body))
    except Exception:  # mido's decoders raise IndexError, KeyError, KeySignatureError... on bad meta bytes
        return False
    return True


def without_bad_meta(data: bytes) -> bytes:
    """The file's bytes with every meta event mido cannot decode left out (its delta goes to the next event).

    Only for files read_notes has vouched for, so the track structure is sound.
    """
    hlen = int.from_bytes(data[4:8], "big")
    out = bytearray(data[: 8 + hlen])
    pos = 8 + hlen
    while pos + 8 <= len(data):
        kind, size = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "big")
        start, end = pos + 8, min(pos + 8 + size, len(data))
        if kind != b"MTrk":
            out += data[pos:end]
            pos = end
            continue
        body, at, carry, running = bytearray(), start, 0, 0
        while at < end:
            delta, at = _vlq(data, at, end)
            event_start, status = at, data[at]
            keep = True
            if status == 0xFF:
                meta = data[at + 1]
                length, at = _vlq(data, at + 2, end)
                keep = _meta_mido_reads(meta, data[at : at + length])
                at += length
            elif status in (0xF0, 0xF7):
                length, at = _vlq(data, at + 1, end)
                at += length
            elif status >= 0xF0:
                at += 1 + _SYSTEM_DATA_BYTES.get(status, 0)
            else:
                if status & 0x80:
                    running, at = status, at + 1
                at += 1 if running & 0xF0 in (0xC0, 0xD0) else 2
            if keep:
                body += _vlq_bytes(carry + delta) + data[event_start:at]
                carry = 0
            else:
                carry += delta
        out += b"MTrk" + len(body).to_bytes(4, "big") + body
        pos = end
    return bytes(out)


def _vlq_bytes(value: int) -> bytes:
    parts = [value & 0x7F]
    value >>= 7
    while value:
        parts.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(parts))
