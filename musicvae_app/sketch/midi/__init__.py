"""Song <-> .mid: DAW-ready export (docs/midi-export.md) and import of band MIDI into five lanes.

format.py  the vocabulary both sides share (channels, track names, ticks, markers)
smf.py     the Standard MIDI File parser: bytes to packed events, bounded
read.py    notes, rolls, chords, primers and settings from a file
write.py   a Song as a .mid, one track a lane, stems
"""

from .format import (
    DRUM_CHANNEL,
    GM_DRUM_RANGE,
    LANE_CHANNELS,
    NO_CHORD_MARKER,
    SETTINGS_PREFIX,
    TICKS_PER_BEAT,
    TRACK_NAMES,
    MidiImportError,
    lane_of_program,
)
from .read import (
    Notes,
    chords_from_notes,
    notes_from_bytes,
    notes_to_roll,
    open_midifile,
    primer_from_notes,
    read_chords,
    read_notes,
    read_primer,
    read_roll,
    read_settings,
)
from .write import lane_notes, lane_ticks, section_marker, song_to_midifile, timed_lane_notes, write_midi, write_stems

__all__ = [
    "DRUM_CHANNEL",
    "GM_DRUM_RANGE",
    "LANE_CHANNELS",
    "NO_CHORD_MARKER",
    "SETTINGS_PREFIX",
    "TICKS_PER_BEAT",
    "TRACK_NAMES",
    "MidiImportError",
    "Notes",
    "chords_from_notes",
    "lane_notes",
    "lane_ticks",
    "lane_of_program",
    "notes_from_bytes",
    "notes_to_roll",
    "open_midifile",
    "primer_from_notes",
    "read_chords",
    "read_notes",
    "read_primer",
    "read_roll",
    "read_settings",
    "section_marker",
    "song_to_midifile",
    "timed_lane_notes",
    "write_midi",
    "write_stems",
]
