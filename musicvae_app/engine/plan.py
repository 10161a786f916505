"""The plan of a call: each setting of a request checked and resolved against the pack's card defaults.

InvalidValue (a MusicVAEError, also a ValueError) names the setting and what it may be.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InvalidValue
from ..limits import check_float
from ..sketch.song import LANES, Song, lane_index
from ..sketch.spec import CardDefaults
from .runtime import MAX_STEPS, _check_count


class Planner:
    """Resolves a request's lineup, start, revive, pull and primer on the pack's grid (cfg), given the card's
    typed defaults (CardDefaults, sketch/spec.py), whether the pack has a start bank, and the engine's Takes."""

    def __init__(self, cfg, card: CardDefaults, has_bank: bool, takes):
        self.cfg = cfg
        self.card = card
        self.has_bank = has_bank
        self.takes = takes

    def lineup(self, lineup) -> list[int]:
        """Lane indices that play, from names (list or 'piano,bass' text); None: the pack's default."""
        if lineup is None:
            lineup = self.card.lineup
        if isinstance(lineup, str):
            lineup = [part for part in lineup.replace(" ", "").split(",") if part]
        idx = sorted({lane_index(lane) for lane in lineup})
        if not idx:
            raise InvalidValue("the lineup is empty: choose at least one of " + ", ".join(LANES))
        return idx

    def start(self, start) -> str:
        """'bank' or 'prior' (None: the card's); a pack with no bank starts from the prior."""
        start = (self.card.start or "bank") if start is None else start
        if start not in ("bank", "prior"):
            raise InvalidValue(f"start must be 'bank' or 'prior', got {start!r}")
        if start == "bank" and not self.has_bank:
            start = "prior"  # packs from before the bank start as the thesis did
        return start

    def revive(self, revive) -> int:
        """Chunks of silence after which a lane is re-anchored (None: the card's)."""
        if revive is None:
            revive = self.card.revive
        return _check_count("revive", revive, 0, MAX_STEPS)

    def pull(self, pull) -> float:
        """How far each prediction is drawn back toward the first chunk, in [0, 1) (None: the card's)."""
        if pull is None:
            pull = self.card.pull
        try:
            pull = float(pull)
        except (TypeError, ValueError):
            raise InvalidValue(f"pull must be a number at least 0 and below 1, got {pull!r}") from None
        if not 0.0 <= pull < 1.0:
            raise InvalidValue(f"pull must be at least 0 and below 1, got {pull}")
        return pull

    def harmony(self, harmony) -> float:
        """The harmony strength in [0, 8] (None: the card's)."""
        return check_float("harmony", self.card.harmony if harmony is None else harmony, 0.0, 8.0)

    def primer(self, primer) -> tuple[np.ndarray, float | None]:
        """The primer's first chunk (5, chunk_steps, 128) and its tempo (None for a bare roll); a file is read once."""
        if isinstance(primer, Song):
            self.takes.check(primer)
            return primer.notes()[:, : self.cfg.chunk_steps], float(primer.tempo)
        from ..sketch.midi import Notes, primer_from_notes, read_notes

        if isinstance(primer, (str, Path, Notes)):  # a file, read once (or its Notes, read by the caller)
            notes = primer if isinstance(primer, Notes) else read_notes(primer)
            name = notes.name or "the primer"
            roll = primer_from_notes(notes, name, self.cfg.steps_per_beat, self.cfg.chunk_steps)
            return roll, float(notes.tempo) if notes.tempo_given else None
        roll = np.asarray(primer)
        if (
            roll.ndim != 3
            or roll.shape[0] != len(LANES)
            or roll.shape[2] != 128
            or roll.shape[1] < self.cfg.chunk_steps
        ):
            raise InvalidValue(f"a primer must be (5, >= {self.cfg.chunk_steps}, 128), got {roll.shape}")
        return roll[:, : self.cfg.chunk_steps] > 0, None
