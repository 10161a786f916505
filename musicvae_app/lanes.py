"""The band's vocabulary: the five lanes, their default instruments and the grid they sit on.

No imports: every floor may read it (song.py re-exports it; keys.py reads it without Song).
"""

from __future__ import annotations

LANES: tuple[str, ...] = ("piano", "guitar", "bass", "strings", "drums")
DRUMS = LANES.index("drums")
DEFAULT_PROGRAMS: tuple[int, ...] = (0, 24, 32, 48, 0)  # drums: program is ignored, channel 10 plays
PITCHES = 128
BEATS_PER_BAR = 4
