"""The generation settings as typed values, every one defined once in FIELDS: name, type, default, check, help.

Plain Python (no torch, no Qt). Two typed values are built from the one table:
- `GenerationSpec` (also `GenerationSettings`): what the next Generate uses, as the window, the CLI and a
  script set it. `from_card(card)` takes a pack card's well-formed values over the defaults, `validated()`
  checks every value through limits.py (raising InvalidValue, a MusicVAEError), `engine_args()` is what
  `Engine.generate` takes (or pass the spec itself: `Engine.generate(spec=..., seed=...)`), and `to_dict()`
  what goes into exports and sketch files.
- `CardDefaults` (with its nested `GrooveSettings`): a pack card's "generation" block, parsed once when the
  pack loads (`CardDefaults.from_card`, strict: a bad value is refused with a message naming its key). The
  engine and its groove read its typed fields, never the card's dict. The card's JSON format is unchanged.

How to add a setting: add one `Field` to FIELDS below: its name, a type in words, its default (the value
when neither the card nor the musician sets it), its check (a `_check_*` helper here, each going through
limits.py, returning the canonical value or raising InvalidValue that names the setting) and one line of
help. Say where it lives: `card="generation"` (a pack card may set it: a field of CardDefaults),
`card="groove"` (a groove rule's parameter: a field of GrooveSettings), and/or `spec="value"` (the musician
sets it per Generate: a field of GenerationSpec) or `spec="card"` (per Generate, None meaning the card's).
Then declare the dataclass field with `_default("name")` in the class it lives in (test_spec checks that the
classes and the table agree), and read it where it acts: `engine.card.<name>` or `engine.card.groove.<name>`
in engine/, `spec.<name>` in Engine.generate. Bounds go in limits.py, never inline. The card, the CLI flag,
the sketch file and the window all read the default, range and help from here.
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Callable
from dataclasses import dataclass

from .. import limits
from ..errors import InvalidValue
from .song import LANE_SETTINGS, LANES, lane_index, lane_setting

MAX_FILLS = 1024  # drum fills a card may hold
MAX_FILL_HITS = 256  # [step, pitch] hits in one fill
MAX_LANE_BIAS = 8.0  # a density offset's size, in logits
MAX_HARMONY = 8.0


# --- checks: each takes the setting's name and a value, returns the canonical value or raises InvalidValue ---
def _check_noise(name, value) -> float:
    return limits.check_noise(value)


def _check_threshold(name, value) -> float:
    return limits.check_threshold(value)


def _check_count(low: int, high: int) -> Callable:
    return lambda name, value: limits.check_int(name, value, low, high)


def _check_number(low: float, high: float, **ends) -> Callable:
    return lambda name, value: limits.check_float(name, value, low, high, **ends)


def _check_tempo(name, value) -> float:
    return limits.check_tempo(value)


def _check_flag(name, value) -> bool:
    if not isinstance(value, bool):
        raise InvalidValue(f"{name} must be true or false, got {value!r}")
    return value


def _check_start(name, value) -> str | None:
    if value is not None and value not in ("bank", "prior"):
        raise InvalidValue(f"{name} must be 'bank' or 'prior', got {value!r}")
    return value


def _check_lineup(name, value) -> tuple[str, ...] | None:
    """Lane names (a list, or 'piano,bass' text) as a tuple in lane order; None: every lane (or the card's)."""
    if value is None:
        return None
    if isinstance(value, str):
        names = value.replace(" ", "").split(",")
    elif isinstance(value, (list, tuple)) and all(isinstance(x, (str, int)) for x in value):
        names = list(value)
    else:
        raise InvalidValue(f"{name} must be a list of lane names")
    try:
        picked = {lane_index(lane) for lane in names if lane != ""}
    except ValueError as exc:
        raise InvalidValue(str(exc)) from None
    if not picked:
        raise InvalidValue("the lineup is empty: choose at least one of " + ", ".join(LANES))
    return tuple(LANES[i] for i in sorted(picked))


def _check_key(name, value) -> str | None:
    if value is None:
        return None
    from ..theory.keys import key_name, parse_key

    try:
        return key_name(parse_key(value)) if str(value).strip() else None
    except ValueError as exc:
        raise InvalidValue(str(exc)) from None


def _check_lane_offsets(name, value) -> tuple[float, ...] | None:
    """Five density offsets in logits, one per lane (None: none)."""
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or len(value) != len(LANES):
        raise InvalidValue(f"{name} must be five numbers, one per lane")
    return tuple(limits.check_float(name, v, -MAX_LANE_BIAS, MAX_LANE_BIAS) for v in value)


def _lane_values(name, value, low, high, off):
    try:
        out = lane_setting(value, name, low, high, off)
    except (TypeError, ValueError) as exc:
        raise InvalidValue(str(exc)) from None
    return tuple(out) if isinstance(out, list) else out


def _check_per_lane(name, value) -> float | tuple[float, ...]:
    """One of song.LANE_SETTINGS: one number for every lane, or five (kept as the card gives it)."""
    low, high, off = LANE_SETTINGS[name]
    return _lane_values(name, value, low, high, off)


def _check_share(name, value) -> float | None:
    """One share, 0-1 (None: unset)."""
    return None if value is None else limits.check_float(name, value, 0.0, 1.0)


def _check_pitch(name, value) -> int | None:
    """A MIDI note, 0-127 (None: unset)."""
    return None if value is None else limits.check_int(name, value, 0, limits.MAX_PITCH)


def _check_lane_shares(name, value) -> tuple[float, ...] | None:
    """A groove rule's share per lane, 0-1: one number or five, as five (None: the rule is off)."""
    if value is None:
        return None
    out = _lane_values(name, value, 0.0, 1.0, 0.0)
    return out if isinstance(out, tuple) else (out,) * len(LANES)


# recall_primer_near's shares per span of a continuation's held chunks that play otherwise: any that returns note
# for note, those near an earlier chunk but not exact that play something new, those exact that vary (vary.py)
PRIMER_NEAR_KEYS = ("back", "near", "exact")


def _check_primer_near(name, value) -> dict | None:
    """{"starts": first chunk of each span (ascending, from 1), and PRIMER_NEAR_KEYS: five shares 0-1 per span
    each} (None: unset)."""
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"starts", *PRIMER_NEAR_KEYS}:
        kinds = ", ".join(PRIMER_NEAR_KEYS)
        raise InvalidValue(f"{name} must be {{'starts': [...], and for each of {kinds}: [[five shares], ...]}}")
    starts = [limits.check_int(name, v, 1, 10_000) for v in value["starts"]]
    if not starts or starts != sorted(set(starts)):
        raise InvalidValue(f"{name}: starts must be chunk numbers from 1, ascending")
    out = {"starts": tuple(starts)}
    for key in PRIMER_NEAR_KEYS:
        rows = value[key]
        if not isinstance(rows, (list, tuple)) or len(rows) != len(starts):
            raise InvalidValue(f"{name}: {key} must give five shares for each of the {len(starts)} spans")
        out[key] = tuple(_check_lane_shares(name, row) for row in rows)
    return out


def _check_lane_flags(name, value) -> tuple[bool, ...] | None:
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or len(value) != len(LANES) or not all(v in (True, False) for v in value):
        raise InvalidValue(f"{name} must be five true/false flags, one per lane")
    return tuple(bool(v) for v in value)


def _check_fill_rate(name, value) -> tuple[float, float] | None:
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise InvalidValue(f"{name} must be two shares: at 8-bar and at 4-bar phrase ends")
    return tuple(limits.check_float(name, v, 0.0, 1.0) for v in value)


def _check_fills(name, value) -> tuple | None:
    """Drum fills: a list of fills, each a list of [step, pitch] hits on the grid; as tuples of (step, pitch)."""
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or len(value) > MAX_FILLS:
        raise InvalidValue(f"{name} must be a list of at most {MAX_FILLS} fills")
    out = []
    for fill in value:
        if not isinstance(fill, (list, tuple)) or len(fill) > MAX_FILL_HITS:
            raise InvalidValue(f"each fill must be a list of at most {MAX_FILL_HITS} [step, pitch] hits")
        for hit in fill:
            if (
                not isinstance(hit, (list, tuple))
                or len(hit) != 2
                or not all(isinstance(x, numbers.Integral) and not isinstance(x, bool) for x in hit)
                or not (0 <= hit[0] < 256 and 0 <= hit[1] < 128)
            ):
                raise InvalidValue(f"a fill hit must be [step 0-255, pitch 0-127], got {hit!r}")
        out.append(tuple((int(step), int(pitch)) for step, pitch in fill))
    return tuple(out)


@dataclass(frozen=True)
class Field:
    """One setting: where it lives, its type in words, its default, its check and one line of help."""

    name: str
    kind: str
    default: object
    check: Callable
    help: str
    card: str = ""  # "generation": a CardDefaults field; "groove": a GrooveSettings field; "": not on a card
    spec: str = ""  # "value": a GenerationSpec field; "card": one whose None means the card's; "": neither

    def validate(self, value):
        """The value checked and in its canonical type (InvalidValue names the setting)."""
        return self.check(self.name, value)


def _fields(*fields: Field) -> dict[str, Field]:
    return {f.name: f for f in fields}


_OFF = {name: off for name, (_, _, off) in LANE_SETTINGS.items()}

# fmt: off
G, R = "generation", "groove"  # where a card field lands: CardDefaults, or its GrooveSettings (`rules`)
FIELDS: dict[str, Field] = _fields(
    # what a musician sets for each Generate (and a card may default)
    Field("noise", "number 0-10", 1.0, _check_noise, "how far each chunk strays from the last (0: none)",
          card=G, spec="value"),
    Field("threshold", "number above 0, below 1", 0.3, _check_threshold,
          "the probability a cell needs to sound (lower: more notes)", card=G, spec="value"),
    Field("steps", "whole number", 7, _check_count(0, limits.MAX_STEPS),
          "chunks after the first (7: 32 bars with the packs' 4-bar chunks)", spec="value"),
    Field("variations", "whole number", 1, _check_count(1, limits.MAX_VARIATIONS), "takes made at once",
          spec="value"),
    Field("tempo", "BPM 20-400", 120.0, _check_tempo, "beats per minute of the takes", spec="value"),
    Field("revive", "whole number", 0, _check_count(0, limits.MAX_STEPS),
          "chunks of silence after which a lane is brought back (0: never)", card=G, spec="card"),
    Field("pull", "number from 0, below 1", 0.0, _check_number(0.0, 1.0, high_open=True),
          "how far each chunk is drawn back toward the first", card=G, spec="card"),
    Field("lineup", "lane names", tuple(LANES), _check_lineup, "the lanes that play (the rest stay silent)",
          card=G, spec="card"),
    Field("key", "key name", None, _check_key, "'E minor' etc. (None: the primer's, or the chart's)", spec="card"),
    Field("start", "'bank' or 'prior'", None, _check_start,
          "where a sketch with no primer starts (None: the bank where the pack has one)", card=G, spec="card"),
    Field("scale_lock", "true/false", False, _check_flag, "every pitched note stays in the key's scale",
          card=G, spec="value"),
    # the pack's decoding and steering (card only)
    Field("harmony", "number 0-8", 0.0, _check_number(0.0, MAX_HARMONY),
          "how strongly pitched lanes are drawn to the band's pitch classes in a bar", card=G),
    Field("harmony_after", "true/false", False, _check_flag, "harmonise each take once at the end, not per chunk",
          card=G),
    Field("harmony_halves", "true/false", False, _check_flag, "the band agrees per half bar, not per bar", card=G),
    Field("lane_bias", "five numbers -8 to 8", None, _check_lane_offsets, "each lane's density offset (logits)",
          card=G),
    Field("start_bias", "five numbers -8 to 8", None, _check_lane_offsets,
          "extra density offsets for a sketch with no primer", card=G),
    Field("chord_bias", "five numbers -8 to 8", None, _check_lane_offsets,
          "density offsets for notes steered to chords (a chart, a followed part's chords)", card=G),
    Field("sustain", "one number or five, 0.1-1", _OFF["sustain"], _check_per_lane,
          "how far below the threshold a started note may dip and still sound (1: off)", card=G),
    Field("fill", "one number or five, 0.1-1", _OFF["fill"], _check_per_lane,
          "inside a playing bar, cells at fill x threshold sound too (1: off)", card=G),
    Field("bring_in", "one number or five, 0.1-1", _OFF["bring_in"], _check_per_lane,
          "how light a lane the primer lacks comes in (1: full)", card=G),
    Field("restrike", "one number or five, 0-0.95", _OFF["restrike"], _check_per_lane,
          "how deep a dip strikes a held note again (0: off)", card=G),
    Field("groove", "true/false", False, _check_flag, "run the groove rules (fills, bass, voicing) by default",
          card=G),
    Field("recall", "one share or five, 0-1", None, _check_lane_shares,
          "per lane: chunks that return to the lane's earlier pattern where the chords and section match", card=G),
    Field("recall_moved", "one share or five, 0-1", None, _check_lane_shares,
          "per lane: chunks that return to an earlier pattern moved to new chords that change on the same bars",
          card=G),
    Field("recall_apart", "one share or five, 0-1", None, _check_lane_shares,
          "per lane: chunks that return to an earlier pattern sharing two chords or fewer", card=G),
    Field("recall_exact", "one share or five, 0-1", None, _check_lane_shares,
          "per lane: returns to the same chords played note for note (the rest varied; unset: all)", card=G),
    Field("recall_exact_changed", "one share or five, 0-1", None, _check_lane_shares,
          "per lane: returns under changed chords played note for note (unset: as recall_exact)", card=G),
    Field("recall_moves", "one share or five, 0-1", None, _check_lane_shares,
          "per lane: returns under changed chords moved to the new roots (the rest as they were; unset: all)",
          card=G),
    Field("recall_free", "one share or five, 0-1", None, _check_lane_shares,
          "per lane, takes without chords: chunks that return to an earlier chunk of the lane (the rest move on, "
          "free of the pull toward the first chunk; unset: every lane held by the pull)", card=G),
    Field("recall_free_exact", "one share or five, 0-1", None, _check_lane_shares,
          "per lane, takes without chords: returns played note for note (the rest varied; unset: all)", card=G),
    Field("recall_free_chance", "one share or five, 0-1", None, _check_lane_shares,
          "per lane, takes without chords: chunks that come back by chance with no return drawn (returns are "
          "drawn at (recall_free - chance) / (1 - chance); unset: 0)", card=G),
    Field("recall_free_chance_exact", "one share or five, 0-1", None, _check_lane_shares,
          "per lane, takes without chords: chunks that come back note for note by chance with no return drawn "
          "(exact returns are drawn at (recall_free x recall_free_exact - it) / (1 - it); unset: as recall_free)",
          card=G),
    Field("recall_free_pull", "one share or five, 0-1", None, _check_lane_shares,
          "per lane, takes without chords: the share of the pull toward the first chunk a pitched lane that does "
          "not return keeps (0 or unset: none)", card=G),
    Field("recall_free_last", "one share or five, 0-1", None, _check_lane_shares,
          "per lane, takes without chords: returns that go back to the chunk just before (a groove held; the rest "
          "to another earlier chunk, drawn; unset: every return's chunk drawn)", card=G),
    Field("recall_primer_near", "spans and five shares each", None, _check_primer_near,
          "per lane, a continuation without chords, by the chunk's place: the share of its chunks held by the "
          "pull that return note for note (back), near an earlier one but not exact (near) or exact (exact) that "
          "play otherwise, so that as many come back as in real songs (engine/vary.py; unset: every chunk as "
          "held)", card=G),
    Field("free_bass_root", "a share, 0-1", None, _check_share,
          "takes without chords: the share of bars whose bass lands on the root of the chord the upper lanes play, "
          "on beat 1, as in real songs (unset: as the take plays)", card=G),
    Field("bass_lowest", "a MIDI note, 0-127", None, _check_pitch,
          "the lowest note the band's bass plays: a new bass span under it moves up an octave (engine/bass_range.py; "
          "unset: as the take plays)", card=G),
    Field("role_rest", "one share or five, 0-1", None, _check_lane_shares,
          "piano, guitar: 4-bar phrases the lane lays out in where the other comps (the rest unused)", card=G),
    Field("role_absent", "one share or five, 0-1", None, _check_lane_shares,
          "piano, guitar: takes over a followed part of the other in which the lane sits out (the rest unused)",
          card=G),
    Field("solo_rest", "one share or five, 0-1", None, _check_lane_shares,
          "guitar: bars it rests in where the piano sits the take out (the rest unused)", card=G),
    # the groove rules' parameters (engine/groove.py)
    Field("fills", "list of [[step, pitch], ...]", None, _check_fills, "the drum fills a phrase end may play",
          card=R),
    Field("fill_rate", "two shares 0-1", None, _check_fill_rate, "share of 8-bar and 4-bar phrase ends that fill",
          card=R),
    Field("crash_rate", "share 0-1", 0.0, _check_number(0.0, 1.0), "share of unfilled phrase ends with a crash",
          card=R),
    Field("fill_other", "share 0-1", 0.0, _check_number(0.0, 1.0), "share of bars inside a phrase that fill",
          card=R),
    Field("voicing", "five true/false", None, _check_lane_flags, "per lane: doubled notes move to missing tones",
          card=R),
    Field("voicing_add", "one share or five, 0-1", None, _check_lane_shares,
          "per lane: a thin bar gets the chord's missing tones", card=R),
    Field("passing", "one share or five, 0-1", None, _check_lane_shares,
          "per lane: bars whose top voice gets a passing note", card=R),
    Field("passing_low", "one share or five, 0-1", None, _check_lane_shares,
          "per lane: the same in the lowest voice", card=R),
    Field("passing_leaps", "true/false", False, _check_flag, "passing notes also fill leaps of a third or fourth",
          card=R),
    Field("color", "one share or five, 0-1", None, _check_lane_shares, "per lane: bars with a seventh or ninth",
          card=R),
    Field("suspend", "one share or five, 0-1", None, _check_lane_shares,
          "per lane: bars whose third is suspended first", card=R),
    Field("boogie", "one share or five, 0-1", None, _check_lane_shares,
          "per lane: power chords step to the sixth on 2 and 4", card=R),
    Field("beat_restrike", "one share or five, 0-1", None, _check_lane_shares,
          "per lane: drum hits (kick; guitar: kick or snare) a held note is struck again on (unset: every one)",
          card=R),
    Field("held_restrike", "one share or five, 0-1", None, _check_lane_shares,
          "per lane: notes held into a 16th inside the bar struck again there, where chords steer (unset: as made)",
          card=R),
    Field("bar_restrike", "one share or five, 0-1", None, _check_lane_shares,
          "per lane: bar lines a note held across is struck again on, where chords steer (unset: every one)",
          card=R),
    Field("approach", "share 0-1", 0.0, _check_number(0.0, 1.0), "bass bar ends that step into a new note", card=R),
    Field("pickup", "share 0-1", 0.0, _check_number(0.0, 1.0), "bass bar ends that play a fifth below", card=R),
    Field("approach_eighths", "share 0-1", 0.0, _check_number(0.0, 1.0), "approach notes an 8th long (else 16th)",
          card=R),
)
# fmt: on


def _default(name: str):
    return FIELDS[name].default


def _parse(cls, block: dict, fields, strict: bool):
    """cls(**checked values of `fields` found in block); strict: the first bad one raises, else it is skipped."""
    values = {}
    for f in fields:
        if f.name in block:
            try:
                values[f.name] = f.validate(block[f.name])
            except InvalidValue:
                if strict:
                    raise
    return cls(**values)


DEFAULT_NOISE = _default("noise")
DEFAULT_THRESHOLD = _default("threshold")
DEFAULT_STEPS = _default("steps")  # 32 bars with the packs' 4-bar chunks: the README's first sketch
DEFAULT_TEMPO = _default("tempo")
DEFAULT_VARIATIONS = _default("variations")


@dataclass(frozen=True)
class GrooveSettings:
    """The groove rules' parameters from a pack card's "generation" block (see FIELDS' help)."""

    fills: tuple | None = dataclasses.field(default=_default("fills"), repr=False)
    fill_rate: tuple[float, float] | None = _default("fill_rate")
    crash_rate: float = _default("crash_rate")
    fill_other: float = _default("fill_other")
    voicing: tuple[bool, ...] | None = _default("voicing")
    voicing_add: tuple[float, ...] | None = _default("voicing_add")
    passing: tuple[float, ...] | None = _default("passing")
    passing_low: tuple[float, ...] | None = _default("passing_low")
    passing_leaps: bool = _default("passing_leaps")
    color: tuple[float, ...] | None = _default("color")
    suspend: tuple[float, ...] | None = _default("suspend")
    boogie: tuple[float, ...] | None = _default("boogie")
    beat_restrike: tuple[float, ...] | None = _default("beat_restrike")
    bar_restrike: tuple[float, ...] | None = _default("bar_restrike")
    held_restrike: tuple[float, ...] | None = _default("held_restrike")
    approach: float = _default("approach")
    pickup: float = _default("pickup")
    approach_eighths: float = _default("approach_eighths")

    def replace(self, **changes) -> GrooveSettings:
        return dataclasses.replace(self, **{k: FIELDS[k].validate(v) for k, v in changes.items()})


@dataclass(frozen=True)
class CardDefaults:
    """A pack card's "generation" block, checked and typed: the engine's defaults where a call leaves one unset.

    Per-lane values are tuples: five for lane_bias and start_bias; sustain, fill, bring_in and restrike keep
    the card's shape (one number for every lane, or five). start None: 'bank' where the pack has a bank.
    """

    noise: float = _default("noise")
    threshold: float = _default("threshold")
    revive: int = _default("revive")
    pull: float = _default("pull")
    lineup: tuple[str, ...] = _default("lineup")
    start: str | None = _default("start")
    scale_lock: bool = _default("scale_lock")
    harmony: float = _default("harmony")
    harmony_after: bool = _default("harmony_after")
    harmony_halves: bool = _default("harmony_halves")
    lane_bias: tuple[float, ...] | None = _default("lane_bias")
    start_bias: tuple[float, ...] | None = _default("start_bias")
    chord_bias: tuple[float, ...] | None = _default("chord_bias")
    sustain: float | tuple[float, ...] = _default("sustain")
    fill: float | tuple[float, ...] = _default("fill")
    bring_in: float | tuple[float, ...] = _default("bring_in")
    restrike: float | tuple[float, ...] = _default("restrike")
    groove: bool = _default("groove")
    recall: tuple[float, ...] | None = _default("recall")
    recall_moved: tuple[float, ...] | None = _default("recall_moved")
    recall_apart: tuple[float, ...] | None = _default("recall_apart")
    recall_exact: tuple[float, ...] | None = _default("recall_exact")
    recall_exact_changed: tuple[float, ...] | None = _default("recall_exact_changed")
    recall_moves: tuple[float, ...] | None = _default("recall_moves")
    recall_free: tuple[float, ...] | None = _default("recall_free")
    recall_free_exact: tuple[float, ...] | None = _default("recall_free_exact")
    recall_free_chance: tuple[float, ...] | None = _default("recall_free_chance")
    recall_free_chance_exact: tuple[float, ...] | None = _default("recall_free_chance_exact")
    recall_free_pull: tuple[float, ...] | None = _default("recall_free_pull")
    recall_free_last: tuple[float, ...] | None = _default("recall_free_last")
    recall_primer_near: dict | None = _default("recall_primer_near")
    free_bass_root: float | None = _default("free_bass_root")
    bass_lowest: int | None = _default("bass_lowest")
    role_rest: tuple[float, ...] | None = _default("role_rest")
    role_absent: tuple[float, ...] | None = _default("role_absent")
    solo_rest: tuple[float, ...] | None = _default("solo_rest")
    rules: GrooveSettings = GrooveSettings()  # the groove rules' parameters ("groove" is the on/off default)

    @classmethod
    def from_card(cls, card: dict | None, strict: bool = True) -> CardDefaults:
        """From a pack card: its "generation" block (see from_block)."""
        return cls.from_block(card.get("generation", {}) if isinstance(card, dict) else {}, strict)

    @classmethod
    def from_block(cls, block, strict: bool = True) -> CardDefaults:
        """From a card's "generation" block. strict: InvalidValue names the first bad key (a pack load turns it
        into a PackError); otherwise a bad value keeps its default. Keys the table lacks are left out."""
        if not isinstance(block, dict):
            if strict:
                raise InvalidValue(f"'generation' must be a record of defaults, got {type(block).__name__}")
            block = {}
        rules = _parse(GrooveSettings, block, [f for f in FIELDS.values() if f.card == "groove"], strict)
        own = [f for f in FIELDS.values() if f.card == "generation"]
        return dataclasses.replace(_parse(cls, block, own, strict), rules=rules)

    def replace(self, **changes) -> CardDefaults:
        """This with some values changed (each checked); groove rule keys go to `rules`."""
        rules = {k: changes.pop(k) for k in list(changes) if k in FIELDS and FIELDS[k].card == "groove"}
        checked = {k: v if k == "rules" else FIELDS[k].validate(v) for k, v in changes.items()}
        out = dataclasses.replace(self, **checked)
        return dataclasses.replace(out, rules=out.rules.replace(**rules)) if rules else out

    def engine_defaults(self, has_bank: bool) -> dict:
        """The defaults as the engine's parts read them (Engine.defaults): lists where the card has lists."""

        def plain(value):
            return list(value) if isinstance(value, tuple) else value

        out = {f.name: plain(getattr(self, f.name)) for f in dataclasses.fields(self) if f.name != "rules"}
        out["start"] = self.start if self.start is not None else ("bank" if has_bank else "prior")
        return out


@dataclass(frozen=True)
class GenerationSpec:
    """What the next Generate uses. None: the pack's default (the engine reads its card)."""

    noise: float = _default("noise")
    threshold: float = _default("threshold")
    steps: int = _default("steps")
    variations: int = _default("variations")
    tempo: float = _default("tempo")
    revive: int | None = None
    pull: float | None = None
    lineup: tuple[str, ...] | None = None
    key: str | None = None
    start: str | None = None
    scale_lock: bool = _default("scale_lock")

    @classmethod
    def from_card(cls, card: dict | None) -> GenerationSpec:
        """From a pack card (or its "generation" block): each well-formed value is taken, the rest stay default."""
        card = card if isinstance(card, dict) else {}
        gen = card.get("generation", card) if "generation" in card else card
        gen = gen if isinstance(gen, dict) else {}
        taken = [f for f in FIELDS.values() if f.card and f.spec == "value" and f.name in ("noise", "threshold")]
        return _parse(cls, gen, taken, strict=False)

    def replace(self, **changes) -> GenerationSpec:
        return dataclasses.replace(self, **changes)

    def validated(self, chunk_steps: int | None = None) -> GenerationSpec:
        """This with every value checked and in its canonical type; InvalidValue names the first bad one."""
        values = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "scale_lock":
                value = bool(value)  # the window's checkbox: anything truthy
            keep = value is None and FIELDS[f.name].spec == "card"  # None: the card's
            values[f.name] = value if keep else FIELDS[f.name].validate(value)
        if chunk_steps is not None:
            values["steps"], values["variations"] = limits.check_steps_variations(
                values["steps"], values["variations"], chunk_steps
            )
        return dataclasses.replace(self, **values)

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


GenerationSettings = GenerationSpec  # the name the session, the window and the CLI know it by
