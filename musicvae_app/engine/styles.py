"""Styles: what a band-in-a-box user picks ("rock", "shuffle", "funk"), measured from the training songs.

A pack may hold `styles.json` beside its card (made by training/styles.py: labelled subsets of the training
songs by their drum pattern, tempo, swing and density). A style is a subset of the start bank (the rows whose
decoded drums play a kit nearest the style's drum template), its own fills and fill rates, its feel (swing)
and tempo range. `generate(style=NAME)` starts from one of its rows, plays its fills, takes its tempo and swing
unless they are given, and keeps the drums on a kit (`kit`): a drum bar with no kick or no backbeat gets them
where the style's template plays them, and hand percussion carrying the beat alone moves to the hi-hat.
"Auto" (or None) is today's behaviour: the whole bank, the card's fills, no kit rule.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InvalidValue
from ..lanes import DRUMS
from ..userfiles import read_user_file

STYLES_FILE = "styles.json"
MAX_STYLES_BYTES = 4 * 1024 * 1024  # the shipped styles.json is 38 KB
AUTO = "auto"
KICK, SNARE, HAT = 36, 38, 42
KICKS = (35, 36)
BACKBEAT = (37, 38, 39, 40)
HATS_RIDES = (42, 44, 46, 51, 53, 59)
HAND = (54, 56, 58, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 73, 74, 75, 76, 77, 78, 79)  # tambourine, bongos...
TEMPLATE_ON = 0.45  # a template's 16th where the style's drummers hit in at least this share of bars


@dataclass(frozen=True)
class Style:
    """One style: its name, a line about it, its tempo range and feel, its bank rows, fills and drum template."""

    name: str
    description: str
    tempo: tuple[float, float]
    tempo_median: float
    swing: float  # where the off-beat 8th falls inside the beat: 0.5 straight, 0.67 a triplet shuffle
    bank_rows: tuple[int, ...]
    fills: tuple
    fill_rate: tuple[float, float]
    crash_rate: float
    template: dict  # part -> 16 hit rates per 16th of a bar (kick, backbeat, hats, ride)
    songs: int = 0

    @property
    def swing_percent(self) -> float:
        """The feel's swing (theory/feel: 50 straight .. 75), 50 for a straight style."""
        return 50.0 if self.swing < 0.55 else float(min(75.0, round(100 * self.swing, 1)))

    def steps(self, part: str, steps_per_bar: int) -> list[int]:
        """The steps of a bar (on the pack's grid) where the template plays `part`; its likeliest one at least."""
        rates = np.asarray(self.template[part], dtype=float)
        on = np.flatnonzero(rates >= TEMPLATE_ON)
        if not len(on):
            on = [int(np.argmax(rates))]
        scale = steps_per_bar / len(rates)
        return sorted({int(round(i * scale)) for i in on})


class Styles:
    """The styles of a pack (its styles.json), by name; none for a pack without one."""

    def __init__(self, styles: dict[str, Style], velocity: dict | None = None):
        self.by_name = styles
        self.velocity = velocity or {}

    @classmethod
    def of_pack(cls, pack) -> Styles:
        folder = getattr(pack, "path", None)
        path = Path(folder) / STYLES_FILE if folder else None
        if path is None or not path.exists():
            return cls({})
        try:  # a regular file of at most MAX_STYLES_BYTES (userfiles: a pipe or /dev/zero is refused at once)
            data = json.loads(read_user_file(path, MAX_STYLES_BYTES, f"the styles of pack '{path.parent.name}'"))
            out = {}
            for name, s in data.get("styles", {}).items():
                out[name] = Style(
                    name=name,
                    description=str(s["description"]),
                    tempo=(float(s["tempo"][0]), float(s["tempo"][1])),
                    tempo_median=float(s["tempo_median"]),
                    swing=float(s["swing"]),
                    bank_rows=tuple(int(r) for r in s["bank_rows"]),
                    fills=tuple(tuple(tuple(h) for h in f) for f in s.get("fills", [])),
                    fill_rate=tuple(float(r) for r in s.get("fill_rate", (0.0, 0.0))),
                    crash_rate=float(s.get("crash_rate", 0.0)),
                    template={k: [float(x) for x in v] for k, v in s["template"].items()},
                    songs=int(s.get("songs", 0)),
                )
        except InvalidValue:
            raise  # userfiles said what the file is and what to do
        except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
            raise InvalidValue(f"the styles of pack '{path.parent.name}' ({path.name}) cannot be read: {exc}") from None
        return cls(out, data.get("velocity"))

    def describe(self) -> list[tuple[str, str]]:
        """(name, one line) of every style, "Auto" first."""
        auto = ("Auto", "a groove drawn from the whole start bank, as the model plays it (no style)")
        return [auto] + [
            (
                s.name,
                f"{s.description}; {s.tempo[0]:.0f}-{s.tempo[1]:.0f} BPM"
                + (f", swing {s.swing_percent:.0f} %" if s.swing_percent > 50 else ""),
            )
            for s in self.by_name.values()
        ]

    def get(self, name) -> Style | None:
        """The style called `name` (any case), None for "Auto" or None; InvalidValue naming the styles there are."""
        if name is None:
            return None
        if not isinstance(name, str) or not name.strip():
            raise InvalidValue(f"style must be a name, got {name!r}: choose one of {self._names()}")
        key = " ".join(name.strip().lower().replace("_", " ").split())
        if key == AUTO:
            return None
        for style in self.by_name.values():
            if style.name.lower() == key or style.name.lower().replace("-", " ") == key.replace("-", " "):
                return style
        raise InvalidValue(f"unknown style {name!r}: choose one of {self._names()}")

    def _names(self) -> str:
        return ", ".join(["Auto"] + list(self.by_name)) if self.by_name else "Auto (this pack has no styles)"


def play_kit(take: np.ndarray, style: Style, free: np.ndarray, threshold: float, spb: int) -> int:
    """In place on one take's probabilities (5, steps, 128): every drum bar that plays (and may change) has a kick
    and a backbeat where the style's template plays them, and hand percussion that carries the beat alone (no
    hats or ride in the bar) moves to the closed hi-hat. Returns how many bars changed."""
    drums = take[DRUMS]
    n_bars = min(free.shape[0], drums.shape[0] // spb)
    kicks, backs = style.steps("kick", spb), style.steps("backbeat", spb)
    value = max(threshold + 1e-3, 0.9)
    changed = 0
    for bar in range(n_bars):
        if not free[bar, DRUMS]:
            continue
        cells = drums[bar * spb : (bar + 1) * spb]
        on = cells >= threshold
        if not on.any():
            continue
        before = on.sum()
        if not on[:, list(KICKS)].any():
            cells[kicks, KICK] = value
        if not on[:, list(BACKBEAT)].any():
            cells[backs, SNARE] = value
        if not on[:, list(HATS_RIDES)].any() and on[:, list(HAND)].sum() >= 4:
            hand = on[:, list(HAND)].any(axis=1)
            cells[hand, HAT] = value
            cells[:, list(HAND)] = np.minimum(cells[:, list(HAND)], threshold * 0.5)
        changed += int((cells >= threshold).sum() != before)
    return changed
