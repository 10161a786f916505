"""The lanes of a sketch as the musician set them: locked, muted, soloed, in or out of the band."""

from __future__ import annotations

from .song import LANES, lane_index

KEYS = ("locks", "mutes", "solos", "lineup")  # as a sketch file's settings name them


class LaneMix:
    """Per lane: lock (Generate keeps it), mute, solo, and lineup ("In": Generate gives the lane a part).

    The lists are kept (never replaced), so a view may hold them."""

    def __init__(self) -> None:
        self.locks = [False] * len(LANES)
        self.mutes = [False] * len(LANES)
        self.solos = [False] * len(LANES)
        self.lineup = [True] * len(LANES)

    def set(self, lane: int | str, *, lock=None, mute=None, solo=None, lineup=None) -> bool:
        """Change the flags given (None: unchanged); True when any changed."""
        i = lane_index(lane)
        changed = False
        for values, on in ((self.locks, lock), (self.mutes, mute), (self.solos, solo), (self.lineup, lineup)):
            if on is not None and values[i] != bool(on):
                values[i] = bool(on)
                changed = True
        return changed

    def silent(self) -> list[bool]:
        """Per lane: True when playback should leave it silent (muted, or another lane is soloed)."""
        return [m or (any(self.solos) and not s) for m, s in zip(self.mutes, self.solos)]

    def audible(self) -> list[int] | None:
        """The lanes playback and export keep (None: all of them)."""
        silent = self.silent()
        return None if not any(silent) else [i for i, m in enumerate(silent) if not m]

    def locked(self) -> list[str]:
        return [LANES[i] for i, on in enumerate(self.locks) if on]

    def band(self) -> list[str]:
        """The lanes in the lineup."""
        return [LANES[i] for i, on in enumerate(self.lineup) if on]

    def to_settings(self) -> dict:
        return {key: list(getattr(self, key)) for key in KEYS}

    def restore(self, settings: dict) -> None:
        """The flags back from a sketch file's settings (missing ones stay)."""
        for key in KEYS:
            values = getattr(self, key)
            for i, on in enumerate((settings.get(key) or [])[: len(LANES)]):
                values[i] = bool(on)
