"""Sections of a sketch: intro, verse, chorus, bridge, outro (or a name of the musician's own) over bars.

Plain Python: no numpy, no torch, no Qt. A Section is a name, the bar it starts on (1-based, as a
musician counts) and its length in bars. `check_sections` is the one place a list of them is checked
(names, bars inside the song, no overlaps, an energy 1-5), `parse_form` reads a typed form ("intro 4 verse 8
chorus 8 @5": '@5' gives the chorus energy 5 of 1-5),
and `repeats` says which earlier section each repeated one comes back from: the first with its name,
where "verse 2" (or "Verse") is the same section as "verse".
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from ..errors import InvalidValue

NAMES = ("intro", "verse", "pre-chorus", "chorus", "bridge", "solo", "break", "outro")
MAX_NAME_CHARS = 24
MAX_SECTIONS = 256
ENERGY_RANGE = (1, 5)
# a section's energy when none is given: a chorus lifts, a verse is lighter, an intro leads in, an outro ends
ENERGY = {"intro": 2, "verse": 3, "pre-chorus": 3, "chorus": 4, "bridge": 3, "solo": 4, "break": 2, "outro": 2}
MAX_SECTION_BARS = 4096  # 1024 chunks of 4 bars: the longest sketch the engine makes
MAX_BARS_TEXT = 8 * MAX_SECTION_BARS  # bars as text ("1-4,9"): every other bar of the longest sketch fits


class SectionError(InvalidValue):
    """A section or a form the app cannot use; the message names it and what to do."""


@dataclass(frozen=True)
class Section:
    """`bars` bars from bar `start` (1-based) named `name` ("chorus", "verse 2", or the musician's own)."""

    name: str
    start: int
    bars: int
    energy: int | None = None  # 1 (lightest) to 5 (fullest); None: its kind's (ENERGY), e.g. a chorus 4

    @property
    def level(self) -> int:
        """The section's energy 1-5: its own, else its kind's (intro 2, verse 3, chorus 4, outro 2, ...)."""
        return self.energy if self.energy is not None else ENERGY.get(self.kind, 3)

    @property
    def end(self) -> int:
        """The last bar (1-based, inclusive)."""
        return self.start + self.bars - 1

    @property
    def kind(self) -> str:
        """The section's name without a trailing number and case: "Chorus 2" -> "chorus" (what repeats)."""
        return re.sub(r"\s*\d+$", "", self.name.strip()).lower() or self.name.strip().lower()

    def to_dict(self) -> dict:
        out = asdict(self)
        if self.energy is None:  # sketch files of before energy read the same
            del out["energy"]
        return out


def _name(value, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SectionError(f"{where} has no name: call it one of {', '.join(NAMES)} or a word of your own")
    name = " ".join(value.split())
    if len(name) > MAX_NAME_CHARS:
        raise SectionError(f"{where}: the name {name[:40]!r} is longer than {MAX_NAME_CHARS} characters; shorten it")
    return name


def _whole(value, what: str, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SectionError(f"{where}: {what} must be a whole number from {low} to {high}, got {value!r}")
    return value


def section_of(item, where: str = "a section", n_bars: int | None = None) -> Section:
    """A Section from a Section, a dict {name, start, bars} or a tuple (name, start, bars); checked."""
    energy = None
    if isinstance(item, Section):
        name, start, bars, energy = item.name, item.start, item.bars, item.energy
    elif isinstance(item, dict):
        name, start, bars, energy = item.get("name"), item.get("start"), item.get("bars"), item.get("energy")
    elif isinstance(item, (tuple, list)) and len(item) in (3, 4):
        name, start, bars = item[:3]
        energy = item[3] if len(item) == 4 else None
    else:
        raise SectionError(
            f"{where} is not a section: give (name, start bar, bars) or (name, start bar, bars, energy 1-5), "
            "e.g. ('chorus', 9, 8, 5)"
        )
    name = _name(name, where)
    where = f"section {name!r}"
    start = _whole(start, "its start bar", where, 1, MAX_SECTION_BARS)
    bars = _whole(bars, "its length in bars", where, 1, MAX_SECTION_BARS - start + 1)
    if n_bars is not None and start + bars - 1 > n_bars:  # a whole section, past the song's end: say both
        span = f"bar {start}" if bars == 1 else f"bars {start}-{start + bars - 1}"
        raise SectionError(
            f"{where} ({span}) goes past the end of the song, which has {n_bars} bar{'s' * (n_bars != 1)}: "
            f"{'shorten it' if start <= n_bars else 'leave it out'} or make the song longer"
        )
    if energy is not None:
        energy = _whole(energy, "its energy", where, *ENERGY_RANGE)
    return Section(name, start, bars, energy)


ENDINGS = ("outro", "ending", "coda")  # a form whose last section is one of these ends the song there


def song_end(sections) -> int | None:
    """The bar (1-based) a song form ends the song on: its last section's last bar when that section is an outro
    (an ending, a coda), else None (the song may go on after the form). `sections`: checked Sections."""
    if not sections:
        return None
    last = max(sections, key=lambda s: s.end)
    return last.end if last.kind in ENDINGS else None


def check_sections(sections, n_bars: int | None = None) -> list[Section]:
    """Sections in bar order, each inside the song's `n_bars` bars (None: the longest sketch), none overlapping.

    Raises SectionError (an InvalidValue) naming the section and what to change.
    """
    if sections is None:
        return []
    if not isinstance(sections, (list, tuple)):
        raise SectionError(f"sections must be a list of (name, start bar, bars); got {type(sections).__name__}")
    if len(sections) > MAX_SECTIONS:
        raise SectionError(f"{len(sections)} sections is more than a sketch holds ({MAX_SECTIONS})")
    out = sorted(
        (section_of(item, f"section {i + 1}", n_bars) for i, item in enumerate(sections)), key=lambda s: s.start
    )
    for before, after in zip(out, out[1:]):
        if after.start <= before.end:
            raise SectionError(
                f"section {after.name!r} starts at bar {after.start}, inside {before.name!r} (bars {before.start}-"
                f"{before.end}): move it to bar {before.end + 1} or shorten {before.name!r}"
            )
    return out


FORM_EXAMPLE = "'intro 4 verse 8 chorus 8 outro 4'"
_MAX_BARS_DIGITS = len(str(MAX_SECTION_BARS)) + 2  # "0004096" still reads; a longer run of digits is no length


def _is_bars(token: str) -> bool:
    """Whether a form's token is a number of bars: decimal digits (ASCII, or another script's, as a phone's
    keyboard may type them: "８" reads as 8). A token of other number characters ("²", "½", "⑧", "8²"),
    which Python's int() cannot read, or too many digits, raises SectionError naming it and the accepted form."""
    if token.isdecimal():
        if len(token) > _MAX_BARS_DIGITS:
            raise SectionError(
                f"{_shown(token)} in the form is more bars than a sketch holds ({MAX_SECTION_BARS}): "
                f"give each section its bars, e.g. {FORM_EXAMPLE}"
            )
        return True
    if token.isnumeric():
        raise SectionError(
            f"{_shown(token)} in the form is not a number of bars: type the bars in plain digits (0-9), "
            f"e.g. {FORM_EXAMPLE}"
        )
    return False


def _shown(text: str, most: int = 40) -> str:
    return repr(text) if len(text) <= most else repr(text[:most]) + f"... ({len(text):,} characters)"


def parse_form(text: str, start: int = 1) -> list[Section]:
    """A typed form, e.g. "intro 4 verse 8 chorus 8 verse 8 chorus 8 outro 4" (name then bars, commas allowed),
    -> sections one after the other from bar `start`; in "verse 2 8" the last number is the length.

    SectionError (an InvalidValue) names a token it cannot read ("²", a name with no length) and the form it takes."""
    if not isinstance(text, str) or not text.strip():
        raise SectionError("the form is empty: type names and bars, e.g. 'intro 4 verse 8 chorus 8 outro 4'")
    tokens = text.replace(",", " ").replace("|", " ").split()
    out: list[Section] = []
    words: list[str] = []
    bar = start
    for i, token in enumerate(tokens):
        after = tokens[i + 1] if i + 1 < len(tokens) else ""
        if token.startswith("@"):  # "chorus 8 @5": the energy of the section just typed
            if not out or words:
                raise SectionError(
                    f"{_shown(token)} in the form follows no section: write it after the bars, e.g. 'chorus 8 @5'"
                )
            level = token[1:]
            if not (level.isascii() and level.isdigit() and len(level) <= 3):
                raise SectionError(f"{_shown(token)} in the form: an energy is a whole number from 1 to 5, e.g. '@5'")
            out[-1] = section_of((out[-1].name, out[-1].start, out[-1].bars, int(level)), f"section {len(out)}")
            continue
        if _is_bars(token) and words and not _is_bars(after):  # "verse 2 8": the last number is the length
            section = section_of((" ".join(words), bar, int(token)), f"section {len(out) + 1}")
            out.append(section)
            bar += section.bars
            words = []
        else:
            words.append(token)
    if words:
        raise SectionError(
            f"{_shown(' '.join(words))} in the form has no length: give each section its bars, e.g. 'chorus 8'"
        )
    return check_sections(out)


def form_text(sections: list[Section]) -> str:
    """Sections as a typed form: 'intro 4, verse 8, chorus 8' (gaps are not shown)."""
    return ", ".join(f"{s.name} {s.bars}" + (f" @{s.energy}" if s.energy is not None else "") for s in sections)


def repeats(sections: list[Section]) -> list[tuple[Section, Section]]:
    """(repeat, first): every section whose kind (name without its number) came before, with its first one."""
    first: dict[str, Section] = {}
    out = []
    for section in sorted(sections, key=lambda s: s.start):
        if section.kind in first:
            out.append((section, first[section.kind]))
        else:
            first[section.kind] = section
    return out


def sections_from_json(raw, n_bars: int | None = None) -> list[Section]:
    """Sections as a sketch file keeps them (a list of {name, start, bars}); SectionError for bad ones."""
    return check_sections(raw if raw is not None else [], n_bars)
