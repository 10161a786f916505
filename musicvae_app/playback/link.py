"""Ableton Link (issue 30) through the `aalink` package: join the session on this network, share its tempo,
start and stop with the other peers, and keep bars phase-aligned with them.

`LinkSession` is a Player timebase: `beats()` is the session's beat timeline now and `tempo()` its tempo, so
a Player keeping time by it plays every note at the session's beat, following its tempo as it changes. Play
starts on the session's next bar line that matches the playhead's place in its bar (`next_phase`), so the
sketch's bar 1 falls on the other peers' bar lines. A session alone (no peers) runs on at our tempo.
Start/stop sync: a peer's Play or Stop reaches `on_event("start" | "stop", beat)` from the watcher thread.
"""

from __future__ import annotations

import asyncio
import math
import threading
import warnings
from collections.abc import Callable

from ..limits import MIN_TEMPO, check_float
from .ports import PortError

QUANTUM = 4.0  # beats per bar: the phase the peers agree on
START_MARGIN_BEATS = 0.05  # a start closer than this to the bar line waits for the next one
WATCH_SECONDS = 0.002
LINK_MAX_TEMPO = 999.0  # Link's own range is 20-999 BPM


def _link_tempo(bpm: float) -> float:
    return check_float("Link tempo (BPM)", bpm, MIN_TEMPO, LINK_MAX_TEMPO)


def link_unavailable() -> str | None:
    """Why Link cannot be used here (the package is missing or broken), or None."""
    try:
        import aalink  # noqa: F401
    except Exception as exc:  # an ImportError, or a binary that does not load on this system
        return f"Ableton Link needs the 'aalink' package ({exc}): pip install aalink"
    return None


class LinkSession:
    """One Link peer: enabled while open, start/stop sync on; close() leaves the session."""

    def __init__(
        self, tempo: float = 120.0, quantum: float = QUANTUM, on_event: Callable[[str, float], None] | None = None
    ) -> None:
        reason = link_unavailable()
        if reason is not None:
            raise PortError(reason)
        import aalink

        self.quantum = float(quantum)
        self.on_event = on_event or (lambda kind, beats: None)
        self.error: str | None = None
        with warnings.catch_warnings():  # aalink wants an event loop only for its async sync(); we never await
            warnings.simplefilter("ignore", DeprecationWarning)
            self._link = aalink.Link(_link_tempo(tempo), asyncio.new_event_loop())
        self._link.quantum = self.quantum
        self._link.start_stop_sync_enabled = True
        self._link.enabled = True
        self._playing = bool(self._link.playing)
        self._peers = int(self._link.num_peers)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="musicvae-link", daemon=True)
        self._thread.start()

    # --- the timebase ------------------------------------------------------------------------------
    def beats(self) -> float:
        return float(self._link.beat)

    def tempo(self) -> float:
        return float(self._link.tempo)

    # --- the session -------------------------------------------------------------------------------
    @property
    def peers(self) -> int:
        return int(self._link.num_peers)

    @property
    def playing(self) -> bool:
        return bool(self._link.playing)

    def phase(self) -> float:
        """Where in the bar the session is now, in beats (0 .. quantum)."""
        return float(self._link.phase)

    def set_tempo(self, bpm: float) -> None:
        """Set the session's tempo (every peer follows)."""
        self._link.tempo = _link_tempo(bpm)

    def next_phase(self, position: float) -> float:
        """The session beat, at or after now (plus a margin), that has `position`'s place in the bar."""
        now = self.beats() + START_MARGIN_BEATS
        want = position % self.quantum
        base = math.floor(now / self.quantum) * self.quantum + want
        return base if base >= now else base + self.quantum

    def announce(self, playing: bool) -> None:
        """Tell the peers we started or stopped (their start/stop sync follows)."""
        self._playing = bool(playing)  # our own change is no news to us
        self._link.playing = bool(playing)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2.0)
        self._link.enabled = False

    def _watch(self) -> None:
        while not self._stop.wait(WATCH_SECONDS):
            playing, peers = bool(self._link.playing), int(self._link.num_peers)
            if playing != self._playing:
                self._playing = playing
                self.on_event("start" if playing else "stop", self.beats())
            if peers != self._peers:
                self._peers = peers
                self.on_event("peers", float(peers))
