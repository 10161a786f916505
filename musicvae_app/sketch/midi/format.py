"""The file format's vocabulary shared by the reader and the writer: channels, track names, ticks, markers."""

from __future__ import annotations

from ...errors import MusicVAEError
from ..song import LANES

TICKS_PER_BEAT = 480


LANE_CHANNELS = (0, 1, 2, 3, 9)


DRUM_CHANNEL = 9


GM_DRUM_RANGE = (35, 81)


TRACK_NAMES = tuple(lane.capitalize() for lane in LANES)


SETTINGS_PREFIX = "musicvae-app settings: "


NO_CHORD_MARKER = "N.C."  # the marker where a bar with a chord is followed by one without


class MidiImportError(MusicVAEError):
    """A MIDI file we cannot use; the message says which file and why, in a musician's words."""


def lane_of_program(program: int) -> int | None:
    """LPD-5 family of a GM program (0-127) on a melodic channel; None for dropped programs."""
    if 0 <= program <= 7:
        return 0
    if 24 <= program <= 31:
        return 1
    if 32 <= program <= 39:
        return 2
    if program < 96 or 104 <= program <= 111:
        return 3
    return None


# --- reading ------------------------------------------------------------------------------------
# A reader costs what its result costs: the file is parsed once, in bounded memory (packed arrays, no
# message objects), and a primer rolls out only the bars it returns.
