"""Song: five lanes of note probabilities, the threshold that turns them into notes, and provenance.

numpy only: no torch, no Qt, no I/O. Everything that shows, plays or exports a sketch reads a Song.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import numbers
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from ..errors import InvalidValue
from ..lanes import BEATS_PER_BAR, DEFAULT_PROGRAMS, DRUMS, LANES, PITCHES  # also read as `from .song import LANES`
from ..theory.feel import Feel, check_feel, feel_of
from ..theory.performance import Performance, check_quantize
from ..theory.sections import Section, check_sections


class _Unset:
    """The value of a TakeRecord field the take does not record (absent from its mapping)."""

    _one = None

    def __new__(cls):
        if cls._one is None:
            cls._one = super().__new__(cls)
        return cls._one

    def __repr__(self) -> str:
        return "UNSET"

    def __reduce__(self):
        return (_Unset, ())


UNSET: Any = _Unset()  # a field not recorded; `rec.replace(name=UNSET)` removes a setting


def _freeze(value):
    """A value as a TakeRecord holds it: lists as tuples, records as read-only mappings (all the way down)."""
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, Mapping):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    return value


def _thaw(value):
    """A held value as the mapping hands it out, as the take's dict had it: tuples as lists, records as dicts."""
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    return value


@dataclass(frozen=True, eq=False, repr=False)
class TakeRecord(Mapping):
    """What made a take (Song.settings): the settings the engine and the edits recorded, typed and read-only.

    Each field is one setting the app records; UNSET where the take does not record it (a take from a
    primer has no noise, an old sketch no harmony). Settings the app does not know (from an older or
    newer sketch file) are kept in `extra`, so saving a sketch again loses nothing.

    Callers read it as the read-only mapping the take's settings always were: `rec["transpose"]`,
    `rec.get("key")`, `"density" in rec`, `dict(rec)`, `{**rec}`, `.items()`, `.keys()`; the mapping hands
    out lists where a field holds a tuple, so `dict(rec)` is the dict that made it. Attributes give the typed
    value (`rec.transpose`, tuples for lists). Writers make a new record: `rec.replace(transpose=2)`
    (UNSET removes a setting), `rec.without("density")`; `TakeRecord.of(mapping)` builds one from a dict.
    """

    pack: str | None = UNSET  # the pack that made it
    seed: int = UNSET
    noise: float = UNSET
    threshold: float = UNSET
    steps: int = UNSET  # chunks after the first
    variation: int = UNSET  # which of `variations` takes of one Generate
    variations: int = UNSET
    revive: int = UNSET
    pull: float = UNSET
    lineup: str = UNSET  # "piano,bass,drums"
    start: str = UNSET  # what the first chunk came from: "primer", "bank", "random"
    key: str | None = UNSET  # "A minor", "" or None when unknown
    transpose: int = UNSET  # semitones the notes were moved by, out of the pack's key
    scale_lock: bool = UNSET
    sustain: float | tuple[float, ...] = UNSET  # the lane settings (LANE_SETTINGS): one number or five
    fill: float | tuple[float, ...] = UNSET
    bring_in: float | tuple[float, ...] = UNSET
    restrike: float | tuple[float, ...] = UNSET
    harmony: float = UNSET
    start_bias: tuple[float, ...] = UNSET
    device: str = UNSET  # "cpu", "cuda"
    groove: bool = UNSET
    style: str = UNSET  # the style a take was generated in (engine/styles.py); unset: Auto
    chords: str = UNSET  # where the chords came from (CHORD_SOURCES): "asked", "part", "bank"
    chords_typed: str = UNSET  # the bars ("1-4,9") whose chords the musician typed
    follow: str = UNSET  # the followed part's file name
    part_lanes: str = UNSET  # its lanes, kept as played
    recorded: str = UNSET  # lanes recorded onto the take ("guitar,bass"): own parts the next Generate follows
    post: tuple[str, ...] = UNSET  # the post-processing steps that ran, in order
    source: str = UNSET  # the .mid a take read from a file came from
    density: str = UNSET  # "bass=1.3,strings=0.7"
    swing: float = UNSET  # the feel (theory/feel.py)
    swing_grid: str = UNSET
    humanize_ms: float = UNSET
    humanize_velocity: float = UNSET
    infill: str = UNSET  # "bars 5-8": the bars an infill made
    infill_seed: int = UNSET
    morph_steps: int = UNSET
    morph_to: str = UNSET  # the seed of the take a morph moved to
    piano_seed: int = UNSET  # the seed each lane was last regenerated with
    guitar_seed: int = UNSET
    bass_seed: int = UNSET
    strings_seed: int = UNSET
    drums_seed: int = UNSET
    extra: Mapping[str, Any] = field(default_factory=dict)  # settings the app does not know, kept as read

    def __post_init__(self) -> None:
        for f in _RECORD_FIELDS:
            value = getattr(self, f)
            if value is not UNSET:
                object.__setattr__(self, f, _freeze(value))
        object.__setattr__(self, "extra", MappingProxyType({k: _freeze(v) for k, v in dict(self.extra).items()}))

    @classmethod
    def of(cls, settings: Mapping | None = None) -> TakeRecord:
        """A record of a take's settings (a dict, or a record: returned as it is); unknown keys go to `extra`."""
        if isinstance(settings, TakeRecord):
            return settings
        known, extra = {}, {}
        for k, v in dict(settings or {}).items():
            (known if k in _RECORD_FIELDS else extra)[k] = v
        return cls(**known, extra=extra)

    def replace(self, **changes) -> TakeRecord:
        """A copy with these settings changed (UNSET: removed); names the app does not know go to `extra`."""
        known = {k: v for k, v in changes.items() if k in _RECORD_FIELDS}
        extra = dict(self.extra)
        for k, v in changes.items():
            if k not in _RECORD_FIELDS:
                if v is UNSET:
                    extra.pop(k, None)
                else:
                    extra[k] = v
        return dataclasses.replace(self, **known, extra=extra)

    def without(self, *names: str) -> TakeRecord:
        """A copy without these settings (missing ones are fine)."""
        return self.replace(**{name: UNSET for name in names})

    # --- the read-only mapping ---
    def __getitem__(self, name):
        if isinstance(name, str) and name in _RECORD_FIELDS:
            value = getattr(self, name)
            if value is not UNSET:
                return _thaw(value)
        elif name in self.extra:
            return _thaw(self.extra[name])
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        yield from (f for f in _RECORD_FIELDS if getattr(self, f) is not UNSET)
        yield from self.extra

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __contains__(self, name) -> bool:
        if isinstance(name, str) and name in _RECORD_FIELDS:
            return getattr(self, name) is not UNSET
        return name in self.extra

    def __eq__(self, other) -> bool:
        return isinstance(other, Mapping) and dict(self.items()) == dict(other.items())

    __hash__ = None  # like the dict it stands for

    def __repr__(self) -> str:
        return f"TakeRecord({dict(self)!r})"

    def __copy__(self) -> TakeRecord:
        return self  # read-only: a copy is the same record

    def __deepcopy__(self, memo) -> TakeRecord:
        return self

    def __reduce__(self):
        return (TakeRecord.of, (dict(self),))


_RECORD_FIELDS = frozenset(f.name for f in dataclasses.fields(TakeRecord)) - {"extra"}


def lane_index(lane: str | int) -> int:
    """Accept a lane name ('guitar') or index (1); raise InvalidValue (a ValueError) naming the valid lanes."""
    if isinstance(lane, (int, np.integer)):
        if 0 <= int(lane) < len(LANES):
            return int(lane)
    elif isinstance(lane, str) and lane.lower() in LANES:
        return LANES.index(lane.lower())
    raise InvalidValue(f"unknown lane {lane!r}: choose one of {', '.join(LANES)}")


def note_runs(roll: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Notes of a (steps, pitches) bool roll as runs of on-cells: pitch, start, end (exclusive), by pitch, start."""
    padded = np.zeros((roll.shape[1], roll.shape[0] + 2), dtype=np.int8)
    padded[:, 1:-1] = roll.T
    edges = np.diff(padded, axis=1)
    width = edges.shape[1]
    # row-major (flatnonzero, much faster than a 2-D nonzero): each pitch's runs in time order, so starts and
    # ends pair up
    pitch, start = np.divmod(np.flatnonzero(edges == 1), width)
    end = np.flatnonzero(edges == -1) % width
    return pitch, start, end


DENSITY_RANGE = (0.25, 4.0)
SUSTAIN_RANGE = (0.1, 1.0)


def lane_setting(value, name: str, low: float, high: float, default: float, strict: bool = True):
    """A per-lane decoding setting: one number for every lane or a list of five, each within [low, high].

    strict: raise InvalidValue (a ValueError) naming the setting on a bad value; otherwise a bad value reads as
    `default` (off), as an old or damaged sketch should.
    """
    try:
        if isinstance(value, (list, tuple)):
            if len(value) != len(LANES):
                raise InvalidValue(f"{name} must be one number or five, one per lane; got {len(value)}")
            values = list(value)
        else:
            values = [value]
        for v in values:
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not low <= float(v) <= high:
                raise InvalidValue(f"{name} must be from {low} to {high}, got {v!r}")
        out = [float(v) for v in values]
        return out if isinstance(value, (list, tuple)) else out[0]
    except (TypeError, ValueError):
        if strict:
            raise
        return default


# Per-lane decoding settings (Song.fill, .sustain, .restrike) and the bring-in gain: (low, high, off).
LANE_SETTINGS = {
    "sustain": (SUSTAIN_RANGE[0], SUSTAIN_RANGE[1], 1.0),
    "fill": (0.1, 1.0, 1.0),
    "bring_in": (0.1, 1.0, 1.0),
    "restrike": (0.0, 0.95, 0.0),
}


def lane_value(name: str, value, strict: bool = True) -> float | list[float]:
    """One of LANE_SETTINGS, checked: one number for every lane or a list of five."""
    low, high, off = LANE_SETTINGS[name]
    return lane_setting(value, name, low, high, off, strict)


def hysteresis(high: np.ndarray, low: np.ndarray) -> np.ndarray:
    """(..., steps, pitches) rolls -> the runs (along steps) of `low` that hold at least one `high` cell.

    Sparse: only the cells of `low` are visited (a take's low roll is about 1 % on), sorted by (roll, pitch,
    step) so that each run is a stretch of consecutive steps."""
    low = low | high
    steps, pitches = low.shape[-2], low.shape[-1]
    cell = np.flatnonzero(low)  # a 1-D nonzero: many times faster than a 3-D one
    keep = np.zeros(low.shape, dtype=bool)
    if not len(cell):
        return keep
    roll, rest = np.divmod(cell, steps * pitches)
    step, pitch = np.divmod(rest, pitches)
    key = (roll * pitches + pitch) * (steps + 1) + step  # a gap of one between columns: runs never join
    order = np.argsort(key, kind="stable")
    key = key[order]
    starts = np.empty(len(key), dtype=bool)
    starts[0] = True
    np.not_equal(key[1:], key[:-1] + 1, out=starts[1:])
    run = np.cumsum(starts) - 1  # each sorted cell's run
    cell = cell[order]
    hit = np.zeros(int(run[-1]) + 1, dtype=bool)
    hit[run[high.reshape(-1)[cell]]] = True
    keep.reshape(-1)[cell[hit[run]]] = True
    return keep


def parse_density(value) -> dict[str, float]:
    """'bass=1.3,strings=0.7' (or a dict) -> {lane: density}; raises ValueError naming a bad lane or value."""
    if not value:
        return {}
    items = value.items() if isinstance(value, dict) else (part.split("=", 1) for part in str(value).split(","))
    out = {}
    for item in items:
        if len(item) != 2:
            raise InvalidValue(f"density {value!r}: write lane=value pairs, e.g. bass=1.3,strings=0.7")
        lane, number = item
        lane = LANES[lane_index(str(lane).strip())]
        try:
            d = float(number)
        except (TypeError, ValueError):
            raise InvalidValue(f"density of {lane} must be a number, got {number!r}") from None
        if not (math.isfinite(d) and DENSITY_RANGE[0] <= d <= DENSITY_RANGE[1]):
            raise InvalidValue(f"density of {lane} must be from {DENSITY_RANGE[0]} to {DENSITY_RANGE[1]}, got {number}")
        out[lane] = d
    return out


def format_density(density: dict[str, float]) -> str:
    return ",".join(f"{lane}={density[lane]:g}" for lane in LANES if lane in density and density[lane] != 1.0)


MAX_CHORD_CHARS = 32  # a chord symbol's text ("Cmaj7#11/G" is 10)
MAX_BAR_CHARS = 4 * MAX_CHORD_CHARS + 3  # a bar's chart text: up to a chord a beat ("C . . G", "Am7 D7/F#")


def check_chords(chords, n_bars: int) -> list[str | None]:
    """A chord chart as Song keeps it: a list of at most `n_bars` bars, each the bar's chart text (a symbol 'Am7',
    two halves 'C Am', a chord a beat 'C . . G', as chords.bar_text writes it) or None (no chord).

    Only the shape is checked here (Song is plain data); whether a symbol names a chord is chords.py's
    business. Raises ValueError naming the chords and what is wrong.
    """
    if not isinstance(chords, (list, tuple)):
        raise InvalidValue(f"chords must be a list of chord symbols, one per bar; got {type(chords).__name__}")
    if len(chords) > n_bars:
        raise InvalidValue(f"chords name {len(chords)} bars but the song has {n_bars}")
    for bar, chord in enumerate(chords):
        if chord is not None and not (
            isinstance(chord, str) and 0 < len(chord.strip()) and len(chord) <= MAX_BAR_CHARS
        ):
            raise InvalidValue(
                f"chords: bar {bar + 1} holds {chord!r:.60}; a bar's chords are a symbol like 'Am7' or a bar's "
                f"chart like 'C Am' (1-{MAX_BAR_CHARS} characters), or None"
            )
    return list(chords)


DEFAULT_VOLUME = 100  # the General MIDI default of CC7 (channel volume)
CENTRE_PAN = 64  # CC10: 0 hard left, 64 the centre, 127 hard right


@dataclass
class ChunkInfo:
    """How one chunk was made: enough to reproduce it."""

    source: str  # "primer", "random", "generated", "regenerated", "reconstructed"
    seed: int | None = None
    noise: float | None = None
    pack: str | None = None


@dataclass
class Song:
    """A band sketch: probs[lane, step, pitch] in [0, 1]; notes are the cells at or above threshold."""

    probs: np.ndarray  # float32, (5, steps, 128)
    steps_per_beat: int
    chunk_steps: int
    threshold: float = 0.3
    tempo: float = 120.0
    programs: list[int] = field(default_factory=lambda: list(DEFAULT_PROGRAMS))
    latents: np.ndarray | None = None  # float32, (chunks, 5, K): the latent each chunk was decoded from
    chunks: list[list[ChunkInfo]] = field(default_factory=list)  # [chunk][lane]
    settings: TakeRecord = field(default_factory=TakeRecord)  # what made the take: pack, seed, noise, threshold...
    # [bar]: the bar's chart text ("Am7", "C Am": two halves, "C . . G": a chord a beat), or None (no chord);
    # [] none known. chords.song_beats reads it as a chord a beat.
    chords: list[str | None] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)  # intro, verse, chorus... over bars (sections.py)
    # the musician's own parts as played (theory/performance.py): off-grid times, velocities; None: none
    performance: Performance | None = None
    pins: dict = field(default_factory=dict)  # lane -> pins.LanePins: the bars the musician edited, their notes
    volumes: list[int] = field(default_factory=lambda: [DEFAULT_VOLUME] * len(LANES))  # the mixer: CC7 per lane
    pans: list[int] = field(default_factory=lambda: [CENTRE_PAN] * len(LANES))  # CC10 per lane, 64 the centre

    def __setattr__(self, name, value) -> None:
        if name == "settings" and not isinstance(value, TakeRecord):
            value = TakeRecord.of(value)  # a dict (from a script, an old caller) becomes the record
        super().__setattr__(name, value)

    def __post_init__(self) -> None:
        self.probs = np.asarray(self.probs, dtype=np.float32)
        if self.probs.ndim != 3 or self.probs.shape[0] != len(LANES) or self.probs.shape[2] != PITCHES:
            raise InvalidValue(f"Song probs must be (5, steps, 128), got {self.probs.shape}")
        if self.probs.shape[1] % self.chunk_steps:
            raise InvalidValue("Song length must be a whole number of chunks")
        if not 0.0 < self.threshold < 1.0:
            raise InvalidValue(f"threshold {self.threshold} is outside (0, 1)")
        self.chords = check_chords(self.chords, self.n_bars)
        self.sections = check_sections(self.sections, self.n_bars)
        if self.performance is not None and not isinstance(self.performance, Performance):
            raise InvalidValue(f"Song performance must be a Performance, got {type(self.performance).__name__}")
        if self.performance is not None and not len(self.performance):
            self.performance = None

    @property
    def n_steps(self) -> int:
        return self.probs.shape[1]

    @property
    def n_chunks(self) -> int:
        return self.n_steps // self.chunk_steps

    @property
    def steps_per_bar(self) -> int:
        return self.steps_per_beat * BEATS_PER_BAR

    @property
    def n_bars(self) -> int:
        return self.n_steps // self.steps_per_bar

    @property
    def seconds(self) -> float:
        return self.n_steps / self.steps_per_beat * 60.0 / self.tempo

    @property
    def density(self) -> dict[str, float]:
        """Per-lane density (1.0: as generated; 1.3 busier, 0.7 sparser), from settings "bass=1.3,strings=0.7"."""
        return parse_density(self.settings.get("density"))

    def lane_thresholds(self, threshold: float | None = None) -> np.ndarray:
        """Each lane's threshold: the song's, moved by the lane's density (a logit shift of -2 ln density)."""
        base = self.threshold if threshold is None else threshold
        dens = self.density
        out = np.full(len(LANES), float(base))
        for i, lane in enumerate(LANES):
            d = dens.get(lane, 1.0)
            if d != 1.0:
                logit = math.log(base / (1.0 - base)) - 2.0 * math.log(d)
                out[i] = 1.0 / (1.0 + math.exp(-logit))
        return out

    def _per_lane(self, name: str) -> np.ndarray:
        """A LANE_SETTINGS value of this take's settings as five floats; missing or bad reads as off."""
        value = lane_value(name, self.settings.get(name, LANE_SETTINGS[name][2]), strict=False)
        return np.broadcast_to(np.asarray(value, dtype=np.float32), (len(LANES),)).copy()

    @property
    def sustain(self) -> np.ndarray:
        """Each lane's sustain (five floats): how far below the threshold a started note may dip and still sound.

        Notes of pitched lanes are decoded with hysteresis: a run of cells at or above
        sustain x threshold is a note if one of its cells reaches the threshold (1.0: no hysteresis).
        The model's probabilities dip inside held notes; without this, one held note breaks into
        several. Settings "sustain" is one number for every lane or five, one per lane.
        """
        return self._per_lane("sustain")

    @property
    def fill(self) -> np.ndarray:
        """Each lane's bar fill (five floats; 1.0: off): inside a bar where the lane already plays, a cell at or
        above fill x threshold sounds too.

        A VAE's probabilities are blurred: where a part plays, its chord tones and passing notes sit
        under the threshold beside the few that pass it. Fill lets a playing bar sound as full as real
        parts do without waking the bars the lane rests in. Settings "fill": one number or five.
        """
        return self._per_lane("fill")

    @property
    def restrike(self) -> np.ndarray:
        """Each lane's restrike depth (five floats; 0: off): a sounding cell whose probability is at most
        restrike x the lower of its two neighbours' is a one-step gap, so the note is struck again after it.

        The VAEs learnt strummed 8ths and repeated notes as a probability that dips between strikes
        (0.98, 0.3, 0.98, ...); at the threshold those dips sound and the strikes merge into one held
        note. Settings "restrike": one number or five; drums are hits already.
        """
        return self._per_lane("restrike")

    def notes(self, threshold: float | None = None) -> np.ndarray:
        """The binary roll (5, steps, 128); re-thresholding (density, fill, sustain, restrike) needs no model."""
        if "density" not in self.settings:
            high = np.full((len(LANES), 1, 1), self.threshold if threshold is None else threshold, dtype=np.float32)
        else:
            high = self.lane_thresholds(threshold)[:, None, None].astype(np.float32)
        on = self.probs >= high
        # where a note starts and ends (fill, sustain) is read at the take's own threshold, not the lane's: a
        # density moves only which notes sound, so a busier lane never merges two notes into one (x3 gave fewer
        # bass notes than x1 when the floors moved with it)
        seg = np.full((len(LANES), 1, 1), self.threshold if threshold is None else threshold, dtype=np.float32)
        fill = self.fill
        filled = [i for i in range(len(LANES)) if fill[i] < 1.0]
        bar = self.steps_per_bar
        if filled and self.n_steps % bar == 0:
            bars = self.n_steps // bar
            for i in filled:  # lane by lane: no copy of the take's probabilities
                lane = on[i].reshape(bars, bar, 128)
                playing = lane.any(axis=(1, 2))  # (bars,)
                near = (self.probs[i] >= fill[i] * seg[i, 0, 0]).reshape(bars, bar, 128)
                lane |= near & playing[:, None, None]
        sustain = self.sustain
        pitched = [i for i in range(len(LANES)) if i != DRUMS and sustain[i] < 1.0]  # drums stay hits
        if pitched:
            low = np.stack([self.probs[i] >= sustain[i] * seg[i, 0, 0] for i in pitched])
            # cells that sound only under a density's lower threshold (not fill's): notes of their own
            extra = np.stack([(self.probs[i] >= high[i, 0, 0]) & (self.probs[i] < seg[i, 0, 0]) for i in pitched])
            extra &= ~low
            kept = hysteresis(on[pitched] & ~extra, low)
            near = np.zeros_like(kept)  # a one-step gap beside a held note, as a re-struck note keeps
            near[:, 1:] |= kept[:, :-1]
            near[:, :-1] |= kept[:, 1:]
            on[pitched] = kept | (extra & ~near)
        depth = self.restrike
        for i in [i for i in range(len(LANES)) if i != DRUMS and depth[i] > 0.0]:
            p, held = self.probs[i], on[i]
            # cells with sounding cells on both sides (a 1-D nonzero: many times faster than a 2-D one)
            t, q = np.divmod(np.flatnonzero(held[1:-1] & held[:-2] & held[2:]), held.shape[1])
            dip = p[t + 1, q] <= depth[i] * np.minimum(p[t, q], p[t + 2, q])
            held[t[dip] + 1, q[dip]] = False
        bar = self.steps_per_bar
        for lane, pinned in self.pins.items():  # bars the musician edited hold their notes at any threshold
            for b in pinned.bars:
                on[lane, b * bar : (b + 1) * bar] = False
            for pitch, start, end, _ in pinned.notes:
                on[lane, start:end, pitch] = True
        return on

    def with_density(self, density: dict[str, float] | str) -> Song:
        """A copy with new per-lane densities (no new sample: the same probabilities, other thresholds)."""
        out = self.copy()
        text = format_density(parse_density(density))
        out.settings = out.settings.replace(density=text or UNSET)
        return out

    @property
    def feel(self) -> Feel:
        """The take's feel (swing, humanize; feel.Feel) from its settings; `feel.off` when none is set."""
        return feel_of(self.settings)

    def with_feel(self, swing=None, swing_grid=None, humanize_ms=None, humanize_velocity=None) -> Song:
        """A copy with a new feel (None keeps a value): swing 50-75 (%, 50 straight) on "8th" or "16th",
        humanize_ms 0-30 (timing spread), humanize_velocity 0-30. Same notes; only their timing and
        velocities move, in playback and export alike. ValueError (InvalidValue) names a bad value and its range.
        """
        out = self.copy()
        changed = check_feel(
            swing=swing, swing_grid=swing_grid, humanize_ms=humanize_ms, humanize_velocity=humanize_velocity
        )
        default = Feel()  # a value equal to the default is dropped
        out.settings = out.settings.replace(**{k: UNSET if v == getattr(default, k) else v for k, v in changed.items()})
        return out

    def note_counts(self, threshold: float | None = None) -> dict[str, int]:
        """Notes per lane (runs of held cells; drums count every struck cell's run)."""
        roll = self.notes(threshold)
        onsets = roll & ~np.concatenate([np.zeros_like(roll[:, :1]), roll[:, :-1]], axis=1)
        return {name: int(onsets[i].sum()) for i, name in enumerate(LANES)}

    def with_threshold(self, threshold: float) -> Song:
        """A copy cut at another threshold; its settings record it (an export says what its notes were cut at)."""
        out = self.copy()
        out.threshold = float(threshold)
        out.__post_init__()
        if "threshold" in out.settings:
            out.settings = out.settings.replace(threshold=out.threshold)
        return out

    def chunk(self, index: int) -> np.ndarray:
        """Probabilities of one chunk, (5, chunk_steps, 128)."""
        s = index * self.chunk_steps
        return self.probs[:, s : s + self.chunk_steps]

    def copy(self) -> Song:
        return copy.deepcopy(self)

    @property
    def lineup(self) -> list[str]:
        """The lanes that play in this sketch (all five unless the settings say otherwise)."""
        text = self.settings.get("lineup")
        if not isinstance(text, str) or not text:
            return list(LANES)
        return [lane for lane in LANES if lane in text.split(",")]

    def chord_at(self, bar: int) -> str | None:
        """The chords of `bar` (0-based: the first bar is 0) as the chart writes them ('Am7', 'C Am'); None where
        no chord is known."""
        if isinstance(bar, bool) or not isinstance(bar, (int, np.integer)) or not 0 <= bar < self.n_bars:
            raise IndexError(f"bar {bar!r} is outside the song (bars 0 to {self.n_bars - 1}, 0-based)")
        return self.chords[bar] if bar < len(self.chords) else None

    def with_chords(self, chords) -> Song:
        """A copy with another chord chart (same notes); ValueError (check_chords) for a malformed one."""
        out = self.copy()
        out.chords = check_chords(chords, self.n_bars)
        return out

    def with_quantize(self, grid: str) -> Song:
        """A copy whose own parts are heard on `grid` ("off": as played; "16th", "8th", "8th triplet"); the notes
        as played are kept, so another grid (or "off") later starts from them. InvalidValue for a bad grid."""
        grid = check_quantize(grid)
        if self.performance is None or self.performance.quantize == grid:
            return self
        return dataclasses.replace(self, performance=self.performance.with_quantize(grid))

    def played_lanes(self) -> list[int]:
        """The lanes that play the musician's own notes as played (the take's `performance`)."""
        return self.performance.lanes if self.performance is not None else []

    def equal_notes(self, other: Song) -> bool:
        return self.probs.shape == other.probs.shape and bool(np.array_equal(self.notes(), other.notes()))
