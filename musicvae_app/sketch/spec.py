"""The generation settings as one typed value: parsed once from the pack card, validated in one place.

Plain Python (no torch, no Qt). `GenerationSettings.from_card(card)` reads a pack card's "generation"
block (missing or malformed values fall back to the defaults below, as the engine does); `validated()`
checks every value through limits.py (raising InvalidValue, a MusicVAEError); `engine_args()` is what
`Engine.generate_takes` takes, and `to_dict()` what goes into exports and sketch files.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .. import limits
from .song import LANES, lane_index

DEFAULT_NOISE = 1.0
DEFAULT_THRESHOLD = 0.3
DEFAULT_STEPS = 7  # 32 bars with the packs' 4-bar chunks: the README's first sketch
DEFAULT_TEMPO = 120.0
DEFAULT_VARIATIONS = 1


@dataclass(frozen=True)
class GenerationSettings:
    """What the next Generate uses. None: the pack's default (the engine reads its card)."""

    noise: float = DEFAULT_NOISE
    threshold: float = DEFAULT_THRESHOLD
    steps: int = DEFAULT_STEPS
    variations: int = DEFAULT_VARIATIONS
    tempo: float = DEFAULT_TEMPO
    revive: int | None = None
    pull: float | None = None
    lineup: tuple[str, ...] | None = None
    key: str | None = None
    start: str | None = None
    scale_lock: bool = False

    @classmethod
    def from_card(cls, card: dict | None) -> GenerationSettings:
        """From a pack card (or its "generation" block): each well-formed value is taken, the rest stay default."""
        card = card if isinstance(card, dict) else {}
        gen = card.get("generation", card) if "generation" in card else card
        gen = gen if isinstance(gen, dict) else {}
        out = cls()
        for name, check in (("noise", limits.check_noise), ("threshold", limits.check_threshold)):
            try:
                out = dataclasses.replace(out, **{name: check(gen[name])})
            except (KeyError, limits.InvalidValue):
                pass
        return out

    def replace(self, **changes) -> GenerationSettings:
        return dataclasses.replace(self, **changes)

    def validated(self, chunk_steps: int | None = None) -> GenerationSettings:
        """This with every value checked and in its canonical type; InvalidValue names the first bad one."""
        steps, variations = self.steps, self.variations
        if chunk_steps is not None:
            steps, variations = limits.check_steps_variations(steps, variations, chunk_steps)
        else:
            steps = limits.check_int("steps", steps, 0, limits.MAX_STEPS)
            variations = limits.check_int("variations", variations, 1, limits.MAX_VARIATIONS)
        lineup = self.lineup
        if lineup is not None:
            names = lineup.replace(" ", "").split(",") if isinstance(lineup, str) else list(lineup)
            try:
                picked = {lane_index(name) for name in names if name != ""}
            except ValueError as exc:
                raise limits.InvalidValue(str(exc)) from None
            if not picked:
                raise limits.InvalidValue("the lineup is empty: choose at least one of " + ", ".join(LANES))
            lineup = tuple(LANES[i] for i in sorted(picked))
        key = self.key
        if key is not None:
            from ..theory.keys import key_name, parse_key

            try:
                key = key_name(parse_key(key)) if str(key).strip() else None
            except ValueError as exc:
                raise limits.InvalidValue(str(exc)) from None
        return dataclasses.replace(
            self,
            key=key,
            noise=limits.check_noise(self.noise),
            threshold=limits.check_threshold(self.threshold),
            steps=steps,
            variations=variations,
            tempo=limits.check_tempo(self.tempo),
            revive=None if self.revive is None else limits.check_int("revive", self.revive, 0, limits.MAX_STEPS),
            pull=None if self.pull is None else limits.check_float("pull", self.pull, 0.0, 1.0, high_open=True),
            lineup=lineup,
            scale_lock=bool(self.scale_lock),
        )

    def engine_args(self) -> dict:
        """Keyword arguments for Engine.generate / generate_takes (seed, primer and locks are the session's)."""
        return dict(
            steps=int(self.steps),
            noise=float(self.noise),
            threshold=float(self.threshold),
            variations=int(self.variations),
            tempo=float(self.tempo),
            revive=self.revive,
            pull=self.pull,
            lineup=list(self.lineup) if self.lineup is not None else None,
            key=self.key,
            start=self.start,
            scale_lock=bool(self.scale_lock),
        )

    def to_dict(self) -> dict:
        """JSON-ready: what a sketch file or an export's settings text records."""
        out = dataclasses.asdict(self)
        out["lineup"] = ",".join(self.lineup) if self.lineup is not None else None
        return out
