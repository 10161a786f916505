"""Chords: the symbols a musician types ("Am7", "C/E", "F#m7b5"), and the chord each bar of a roll plays.

numpy only: no song, no midi, no torch. A chord is a root pitch class, a quality (the intervals above
the root) and, for slash chords, a bass pitch class. `parse_bars` reads a chord chart ("Am F C G",
"| C Am | F G |": the app's one chart parser), `recognize` names the chord of each bar (or half bar) of a
five-lane roll by matching its duration-weighted chroma, with the lowest note's weight, against every chord
template.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..errors import InvalidValue
from ..lanes import BEATS_PER_BAR, DRUMS, LANES
from .sections import MAX_SECTION_BARS

ROOT_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_LETTERS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}

# Canonical quality -> semitones above the root. The first tone set of each is what the chord *is*;
# recognition only considers the qualities in RECOGNIZED.
QUALITIES: dict[str, tuple[int, ...]] = {
    "": (0, 4, 7),
    "m": (0, 3, 7),
    "7": (0, 4, 7, 10),
    "maj7": (0, 4, 7, 11),
    "m7": (0, 3, 7, 10),
    "mMaj7": (0, 3, 7, 11),
    "dim": (0, 3, 6),
    "dim7": (0, 3, 6, 9),
    "m7b5": (0, 3, 6, 10),
    "aug": (0, 4, 8),
    "sus2": (0, 2, 7),
    "sus4": (0, 5, 7),
    "7sus4": (0, 5, 7, 10),
    "6": (0, 4, 7, 9),
    "m6": (0, 3, 7, 9),
    "9": (0, 4, 7, 10, 2),
    "maj9": (0, 4, 7, 11, 2),
    "m9": (0, 3, 7, 10, 2),
    "add9": (0, 4, 7, 2),
    "5": (0, 7),
}

# Other spellings musicians type -> canonical quality.
_ALIASES = {
    "M": "",
    "maj": "",
    "major": "",
    "min": "m",
    "minor": "m",
    "-": "m",
    "dom7": "7",
    "M7": "maj7",
    "Maj7": "maj7",
    "ma7": "maj7",
    "Δ": "maj7",
    "Δ7": "maj7",
    "min7": "m7",
    "-7": "m7",
    "mM7": "mMaj7",
    "minmaj7": "mMaj7",
    "°": "dim",
    "o": "dim",
    "°7": "dim7",
    "o7": "dim7",
    "ø": "m7b5",
    "ø7": "m7b5",
    "min7b5": "m7b5",
    "-7b5": "m7b5",
    "+": "aug",
    "sus": "sus4",
    "7sus": "7sus4",
    "min6": "m6",
    "-6": "m6",
    "M9": "maj9",
    "min9": "m9",
    "-9": "m9",
    "2": "sus2",
    "add2": "add9",
}

ACCEPTED_FORMS = (
    "a root A-G with an optional # or b, then one of: (major), m, 7, maj7, m7, mMaj7, dim, dim7, m7b5, aug, "
    "sus2, sus4, 7sus4, 6, m6, 9, maj9, m9, add9, 5, and an optional /bass (C/E); N.C. for no chord, % to repeat "
    "the bar, . to hold the chord a beat; chords between bar lines share the bar (| C Am | F G |)"
)
NO_CHORD = ("N.C.", "NC", "N.C", "n.c.", "nc", "x")
# The longest chart: a chord (or four) a bar for the longest sketch (MAX_SECTION_BARS bars). In text, 64
# characters a bar ("| Cmaj9/F# . Dm7b5/Ab G7sus4 |" is 30) with room for spacing: 256 K characters, what a
# sketch file keeps whole and a --chords-file may hold. A longer chart is refused where it is typed or read.
MAX_CHART_BARS = MAX_SECTION_BARS
MAX_CHART_CHARS = 64 * MAX_CHART_BARS
REPEAT = ("%", "/")

_SYMBOL = re.compile(r"^([A-Ga-g])([#♯b♭]?)(.*?)(?:/([A-Ga-g])([#♯b♭]?))?$")


class ChordError(InvalidValue):
    """A chord symbol or chart the app cannot read; the message names the symbol, its bar and the forms."""


@dataclass(frozen=True)
class Chord:
    """A chord: root pitch class 0-11, canonical quality (a QUALITIES key), bass pitch class or None."""

    root: int
    quality: str = ""
    bass: int | None = None

    @property
    def tones(self) -> tuple[int, ...]:
        """The chord's pitch classes, root first."""
        return tuple((self.root + i) % 12 for i in QUALITIES[self.quality])

    @property
    def lowest(self) -> int:
        """The pitch class the bass should play: the slash bass, else the root."""
        return self.root if self.bass is None else self.bass

    @property
    def symbol(self) -> str:
        text = ROOT_NAMES[self.root] + self.quality
        return text if self.bass is None or self.bass == self.root else f"{text}/{ROOT_NAMES[self.bass]}"

    def transposed(self, semitones: int) -> Chord:
        bass = None if self.bass is None else (self.bass + semitones) % 12
        return Chord((self.root + semitones) % 12, self.quality, bass)

    def __str__(self) -> str:
        return self.symbol


def _pitch_class(letter: str, accidental: str) -> int:
    pc = _LETTERS[letter.upper()]
    if accidental in ("#", "♯"):
        pc += 1
    elif accidental in ("b", "♭"):
        pc -= 1
    return pc % 12


MAX_SHOWN = 40  # characters of a symbol we could not read that an error quotes


def _shown(text: str) -> str:
    """A symbol for an error message: quoted, at most MAX_SHOWN characters of it."""
    return repr(text) if len(text) <= MAX_SHOWN else repr(text[:MAX_SHOWN]) + f"... ({len(text):,} characters)"


def parse_chord(text: str, bar: int | None = None) -> Chord:
    """One chord symbol -> Chord; ChordError naming the symbol (and its bar, 1-based, if given) otherwise."""
    where = f" in bar {bar}" if bar is not None else ""
    if not isinstance(text, str):
        raise ChordError(f"chord {_shown(repr(text))}{where} is not text: use {ACCEPTED_FORMS}")
    raw = text.strip()
    m = _SYMBOL.match(raw) if len(raw) <= MAX_SHOWN else None
    quality = None
    if m:
        suffix = m.group(3).replace("(", "").replace(")", "")
        quality = suffix if suffix in QUALITIES else _ALIASES.get(suffix)
    if not m or quality is None:
        raise ChordError(f"unknown chord symbol {_shown(raw)}{where}: use {ACCEPTED_FORMS}")
    root = _pitch_class(m.group(1), m.group(2))
    bass = _pitch_class(m.group(4), m.group(5)) if m.group(4) else None
    return Chord(root, quality, None if bass == root else bass)


# --- charts -------------------------------------------------------------------------------------
HOLD = "."  # inside a bar: the chord before goes on for this beat
# How the chords written inside one 4/4 bar share it, in beats: one each for four, two each for two, and
# for three the first takes the half bar ("| C F G |" reads as "| C . F G |", as lead sheets mean it).
_SHARES = {1: (4,), 2: (2, 2), 3: (2, 1, 1), 4: (1, 1, 1, 1)}
Bar = tuple  # the chord (or None) of each of a bar's BEATS_PER_BAR beats


def clean_chart_text(text: str) -> str:
    """A chart as typed or read from a file: a byte-order mark, CRLF and tabs are whitespace like any other."""
    return text.replace("\ufeff", " ").replace("\r", " ").replace("\t", " ")


def _bar_tokens(text: str) -> list[list[str]]:
    """The chart's bars, each a list of tokens: between bar lines as written, without bar lines one a bar."""
    text = clean_chart_text(text)
    if "|" in text:
        return [g for g in (part.split() for part in text.split("|")) if g]
    return [[token] for token in text.split()]


def _token(token: str, bar: int, before: Chord | None | str) -> Chord | None:
    if token in NO_CHORD:
        return None
    if token in REPEAT or token == HOLD:
        if before == "start":
            raise ChordError(
                f"bar {bar} of the chart starts with {token!r}, which repeats the chord before: start with a chord"
            )
        return before
    return parse_chord(token, bar=bar)


def parse_bars(text: str, bars: int | None = None, first_bar: int = 1) -> list[Bar]:
    """A chord chart -> each bar's chords, one per beat (a tuple of BEATS_PER_BAR Chord-or-None).

    The one chart syntax of the window, the CLI, chart files and `generate(chords=...)`:
    - without bar lines, one chord a bar: "Am F C G";
    - between bar lines, the chords share the bar: "| C Am | F G |" is two a bar, "| C Am F G |" one a beat,
      "| C F G |" is C for two beats then F and G; "." holds the chord before for a beat ("| C . . G |");
    - "%" repeats the whole bar before ("/" too, alone in a bar); "N.C." (NC, x) is no chord;
    - slash chords (C/E) and every quality of ACCEPTED_FORMS; a BOM, CRLF and tabs read as spaces.
    Repeated or cut to `bars` when given; errors count bars from `first_bar`.
    """
    if isinstance(text, str) and len(text) > MAX_CHART_CHARS:
        raise ChordError(
            f"the chord chart is {len(text):,} characters, more than the {MAX_CHART_CHARS:,} a chart may be "
            f"({MAX_CHART_BARS} bars, the longest sketch): shorten it"
        )
    if not isinstance(text, str) or not clean_chart_text(text).strip():
        raise ChordError("the chord chart is empty: type one chord a bar, e.g. 'Am F C G', or '| C Am | F G |'")
    groups = _bar_tokens(text)
    if not groups:
        raise ChordError("the chord chart has bar lines but no chords: type one chord a bar, e.g. '| Am | F |'")
    if len(groups) > MAX_CHART_BARS:
        raise ChordError(
            f"the chord chart has {len(groups):,} bars, more than the longest sketch ({MAX_CHART_BARS} bars): "
            "shorten it (a chart shorter than the song repeats)"
        )
    out: list[Bar] = []
    for i, tokens in enumerate(groups):
        bar = i + first_bar
        if len(tokens) == 1 and tokens[0] in REPEAT:
            if not out:
                raise ChordError(
                    f"bar {bar} of the chart is {tokens[0]!r}, which repeats the bar before: start with a chord"
                )
            out.append(out[-1])
            continue
        if len(tokens) > BEATS_PER_BAR:
            raise ChordError(
                f"bar {bar} of the chart has {len(tokens)} chords ({_shown(' '.join(tokens))}): "
                f"at most {BEATS_PER_BAR}, one a beat (use '.' to hold a chord for a beat)"
            )
        beats: list[Chord | None] = []
        before: Chord | None | str = out[-1][-1] if out else "start"
        for token, share in zip(tokens, _SHARES[len(tokens)]):
            chord = _token(token, bar, before)
            beats += [chord] * share
            before = chord
        out.append(tuple(beats))
    if bars is not None:
        out = fit_chart(out, bars)
    return out


def bar_text(beats: Bar) -> str:
    """A bar's chords as the chart writes them: 'C', 'C Am' (two halves), 'C . . G' (one a beat)."""
    names = ["N.C." if c is None else c.symbol for c in beats]
    if len(set(names)) == 1:
        return names[0]
    half = len(names) // 2
    if len(names) % 2 == 0 and len(set(names[:half])) == 1 and len(set(names[half:])) == 1:
        return f"{names[0]} {names[half]}"
    return " ".join(name if i == 0 or name != names[i - 1] else HOLD for i, name in enumerate(names))


def bars_text(bars: list[Bar]) -> str:
    """Bars of beats as a chart with bar lines: '| C Am | F G |'."""
    return "| " + " | ".join(bar_text(b) for b in bars) + " |"


# --- chords at their beats: the one representation of a chart inside the app ---------------------
# A chart is held as one chord (or None) per beat, BEATS_PER_BAR beats a bar ("beats"); a Song keeps it as
# each bar's chart text (bar_text: 'C', 'C Am', 'C . . G', 'N.C.'), which reads back to the same beats.


def flat_beats(bars: list[Bar]) -> list[Chord | None]:
    """Bars of beats (parse_bars) as one list, a chord (or None) per beat."""
    return [chord for bar in bars for chord in bar]


def beat_bars(beats: list) -> list[Bar]:
    """A per-beat list as bars of BEATS_PER_BAR beats (a trailing partial bar holds its last chord on)."""
    out = []
    for lo in range(0, len(beats), BEATS_PER_BAR):
        bar = list(beats[lo : lo + BEATS_PER_BAR])
        out.append(tuple(bar + [bar[-1]] * (BEATS_PER_BAR - len(bar))))
    return out


def per_beat(chords: list, n_bars: int | None = None) -> list[Chord | None]:
    """One chord a bar (a list of Chord or None) as a chord a beat, fitted to n_bars bars when given."""
    chords = fit_chart(list(chords), n_bars) if n_bars is not None else list(chords)
    return [chord for chord in chords for _ in range(BEATS_PER_BAR)]


def resolution(beats: list) -> int:
    """How many equal pieces a bar needs to hold a per-beat chart: 1 (a chord a bar), 2 (halves) or 4 (beats)."""
    bars = beat_bars(beats)
    if all(len(set(b)) == 1 for b in bars):
        return 1
    half = BEATS_PER_BAR // 2
    if all(len(set(b[:half])) == 1 and len(set(b[half:])) == 1 for b in bars):
        return 2
    return BEATS_PER_BAR


def slot_chords(beats: list, per_bar: int) -> list[Chord | None]:
    """The chord of each of a bar's `per_bar` equal pieces (the chord on the piece's first beat)."""
    step = BEATS_PER_BAR // per_bar
    return list(beats[::step])


def downbeats(beats: list) -> list[Chord | None]:
    """Each bar's chord on its first beat: the chord a listener hears the bar open on."""
    return list(beats[::BEATS_PER_BAR])


def chord_changes(beats: list) -> list[tuple[int, Chord | None]]:
    """(beat, chord) where the chart changes chord (and at beat 0): what a MIDI file marks."""
    return [(i, c) for i, c in enumerate(beats) if i == 0 or c != beats[i - 1]]


def parse_bar(text: str, bar: int | None = None) -> Bar:
    """One bar's chart text ('C', 'C Am', 'C . . G', 'N.C.', as a Song keeps it) -> its beats; ChordError otherwise."""
    where = 1 if bar is None else bar
    bars = parse_bars(f"| {text} |", first_bar=where) if isinstance(text, str) and "|" not in text else None
    if bars is None or len(bars) != 1:
        raise ChordError(f"bar {bar if bar is not None else '?'} holds {_shown(str(text))}, not one bar of a chart")
    return bars[0]


def song_beats(texts: list, n_bars: int | None = None) -> list[Chord | None]:
    """A Song's chords (each bar's chart text, or None) as a chord a beat, to n_bars bars (the chart round and
    round) when given; a bar that does not read is no chord."""
    bars = []
    for i, text in enumerate(texts):
        try:
            bars.append((None,) * BEATS_PER_BAR if text is None else parse_bar(text, i + 1))
        except ChordError:
            bars.append((None,) * BEATS_PER_BAR)
    if n_bars is not None:
        bars = fit_chart(bars, n_bars) if bars else [(None,) * BEATS_PER_BAR] * n_bars
    return flat_beats(bars)


def song_texts(beats: list) -> list[str | None]:
    """A chord a beat as a Song keeps it: each bar's chart text (bar_text); a bar with no chord at all is None."""
    return [None if all(c is None for c in bar) else bar_text(bar) for bar in beat_bars(beats)]


def chart_cut(chords, n_bars: int) -> str | None:
    """What to tell the musician when a chart (text, or one chord a bar) is longer than the take it plays on:
    the bars past the take's end are not played. None when it fits (a shorter chart repeats, as asked)."""
    try:
        n = len(parse_bars(chords)) if isinstance(chords, str) else len(chords)
    except (ChordError, TypeError):
        return None
    if n <= n_bars:
        return None
    cut = f"bar {n} of the chart is" if n == n_bars + 1 else f"bars {n_bars + 1}-{n} of the chart are"
    return (
        f"the chord chart has {n} bars and the sketch {n_bars}: {cut} not played "
        "(make the sketch longer, with more steps or a song form that long, to hear them)"
    )


def fit_chart(chords: list, bars: int) -> list:
    """The chart repeated (or cut) to exactly `bars` bars."""
    if not chords:
        return [None] * bars
    return [chords[i % len(chords)] for i in range(bars)]


def chart_period(chords: list) -> int:
    """The length of the shortest chart that, repeated, gives `chords` (the whole list if none does)."""
    n = len(chords)
    for p in range(1, n + 1):
        if all(chords[i] == chords[i % p] for i in range(n)):
            return p
    return n


def third_of(chord: Chord) -> int:
    """Semitones from the chord's root to its third (4 major, 3 minor), 0 for chords without one (sus, 5)."""
    steps = QUALITIES[chord.quality]
    return 4 if 4 in steps else 3 if 3 in steps else 0


def chart_text(chords: list[Chord | None]) -> str:
    """Chords per bar as a chart with bar lines: '| Am | F | C | G |'."""
    return "| " + " | ".join("N.C." if c is None else c.symbol for c in chords) + " |"


# --- recognition --------------------------------------------------------------------------------
RECOGNIZED = ("", "m", "7", "maj7", "m7", "dim", "m7b5", "aug", "sus2", "sus4", "6", "m6", "5")
# A larger chord must earn each tone beyond a triad: the share of the bar's weight it has to explain more.
_EXTRA_TONE = 0.05
_PRIOR = {"": 0.03, "m": 0.03, "5": -0.02, "aug": -0.03, "dim": -0.02, "sus2": -0.02, "6": -0.02, "m6": -0.02}
_BASS_WEIGHT = 0.3  # how much the bar's lowest sounding pitch class counts toward a chord rooted on it
_MISSING_TONE = 0.25  # a template tone the bar barely plays (under 7 % of its weight) counts against that chord
_SCARCE = 0.07


def _templates() -> tuple[list[Chord], np.ndarray, np.ndarray]:
    chords, masks, bonus = [], [], []
    for quality in RECOGNIZED:
        for root in range(12):
            chord = Chord(root, quality)
            mask = np.zeros(12)
            mask[list(chord.tones)] = 1.0
            chords.append(chord)
            masks.append(mask)
            bonus.append(_PRIOR.get(quality, 0.0) - _EXTRA_TONE * max(0, len(chord.tones) - 3))
    return chords, np.array(masks), np.array(bonus)


_CHORDS, _MASKS, _BONUS = _templates()
_ROOTS = np.array([ch.root for ch in _CHORDS])


def bar_chroma(roll: np.ndarray, drums: int | None = 4) -> tuple[np.ndarray, np.ndarray]:
    """(chroma (12,), lowest-note chroma (12,)) of a (lanes, steps, 128) or (steps, 128) roll's pitched cells.

    chroma: sounding cells per pitch class, onsets counted double (a struck note says more than a held
    one); lowest: at each step, the lowest sounding pitch's class.
    """
    roll = np.asarray(roll) > 0
    if roll.ndim == 3:
        lanes = [i for i in range(roll.shape[0]) if i != drums]
        roll = roll[lanes].any(axis=0)
    chroma = np.zeros(12)
    lowest = np.zeros(12)
    if not roll.any():
        return chroma, lowest
    onsets = roll & ~np.vstack([np.zeros((1, roll.shape[1]), bool), roll[:-1]])
    per_pitch = roll.sum(axis=0) + onsets.sum(axis=0)
    np.add.at(chroma, np.arange(roll.shape[1]) % 12, per_pitch)
    steps = np.flatnonzero(roll.any(axis=1))
    low = roll[steps].argmax(axis=1)
    np.add.at(lowest, low % 12, 1.0)
    return chroma, lowest


def best_chord(chroma: np.ndarray, lowest: np.ndarray, min_weight: float = 2.0) -> Chord | None:
    """The template that best explains a bar's chroma (None when the bar has almost no pitched notes)."""
    return best_chords(chroma[None], lowest[None], min_weight)[0]


def best_chords(chroma: np.ndarray, lowest: np.ndarray, min_weight: float = 2.0) -> list[Chord | None]:
    """best_chord of many bars at once: chroma and lowest (bars, 12)."""
    total = chroma.sum(axis=1)
    c = chroma / np.maximum(total, 1e-9)[:, None]
    bass = lowest / np.maximum(lowest.sum(axis=1), 1.0)[:, None]
    inside = (_MASKS @ c.T).T  # (bars, templates), summed as best_chord always did
    missing = (_MASKS @ (c < _SCARCE).astype(float).T).T
    score = 2.0 * inside - 1.0 + _BONUS + _BASS_WEIGHT * bass[:, _ROOTS] - _MISSING_TONE * missing
    best = np.argmax(score, axis=1)
    low = np.argmax(lowest, axis=1)
    out: list[Chord | None] = []
    for i, k in enumerate(best):
        if total[i] < min_weight:
            out.append(None)
            continue
        chord = _CHORDS[int(k)]
        pc = int(low[i])
        if lowest[i, pc] > 0.5 * lowest[i].sum() and pc != chord.root and pc in chord.tones:
            chord = Chord(chord.root, chord.quality, pc)  # an inversion: the bass holds another chord tone
        out.append(chord)
    return out


def bars_chroma(roll: np.ndarray, span: int, drums: int | None = 4) -> tuple[np.ndarray, np.ndarray]:
    """bar_chroma of every `span`-step piece of a (lanes, steps, 128) or (steps, 128) roll at once:
    (chroma (pieces, 12), lowest (pieces, 12)); a trailing partial piece is padded with silence."""
    roll = np.asarray(roll)
    roll = roll if roll.dtype == bool else roll > 0
    if roll.ndim == 3:
        lanes = [i for i in range(roll.shape[0]) if i != drums]
        roll = (roll if len(lanes) == roll.shape[0] else roll[lanes]).any(axis=0)
    n = -(-roll.shape[0] // span)
    if n * span != roll.shape[0]:
        padded = np.zeros((n * span, roll.shape[1]), dtype=bool)
        padded[: roll.shape[0]] = roll
        roll = padded
    pieces = roll.reshape(n, span, roll.shape[1])
    struck = np.count_nonzero(pieces[:, 1:] & ~pieces[:, :-1], axis=1)  # onsets after a piece's first step
    per_pitch = 2 * np.count_nonzero(pieces[:, :1], axis=1) + np.count_nonzero(pieces[:, 1:], axis=1) + struck
    width = -(-roll.shape[1] // 12) * 12
    chroma = np.zeros((n, width))
    chroma[:, : roll.shape[1]] = per_pitch
    chroma = chroma.reshape(n, -1, 12).sum(axis=1)
    sounding = pieces.any(axis=2)  # (n, span)
    low = pieces.argmax(axis=2) % 12
    rows = np.repeat(np.arange(n), span).reshape(n, span)
    lowest = np.bincount(rows[sounding] * 12 + low[sounding], minlength=n * 12).reshape(n, 12).astype(np.float64)
    return chroma, lowest


def recognize(roll: np.ndarray, steps_per_bar: int, per_bar: int = 1, drums: int | None = 4) -> list[Chord | None]:
    """The chord of each bar (per_bar=2: each half bar) of a (lanes, steps, 128) roll; None where it is silent."""
    if per_bar not in (1, 2):
        raise InvalidValue(f"per_bar must be 1 or 2, got {per_bar}")
    roll = np.asarray(roll)
    if roll.shape[-2] == 0:
        return []
    return best_chords(*bars_chroma(roll, steps_per_bar // per_bar, drums))


def upper_chords(band: np.ndarray, steps_per_bar: int) -> list[Chord | None]:
    """The chord each bar of a band roll (5 lanes, steps, 128) plays above the bass (piano, guitar, strings;
    slash dropped): what the bass should root.

    Recognising with the bass would let the bass vote for its own note (and turn every bass note that is a chord
    tone into a slash chord), so 'bass on the root' would hold by construction."""
    upper = [i for i in range(len(LANES)) if i not in (LANES.index("bass"), DRUMS)]
    chords = recognize(np.asarray(band)[upper], steps_per_bar, drums=None)
    return [None if c is None else Chord(c.root, c.quality) for c in chords]


def beat_one_pitch(bar: np.ndarray, beat_steps: int) -> int | None:
    """The bass note on beat 1 of a (bar steps, 128) bar: the lowest pitch sounding on its first step, else the
    lowest pitch of the first note start within the first beat; None when nothing plays there."""
    for step in range(min(beat_steps, len(bar))):
        pitches = np.flatnonzero(bar[step])
        if pitches.size:
            return int(pitches[0])
    return None


def chords_key(chords: list[Chord | None]) -> tuple[int, str] | None:
    """The key a chord chart is in (tonic, mode), from its chord tones with roots counted double.

    The first and last chords' roots count extra: a chart most often starts or ends on its tonic.
    """
    return _chart_key(tuple(chords))


@lru_cache(maxsize=256)
def _chart_key(chords: tuple[Chord | None, ...]) -> tuple[int, str] | None:
    """chords_key of a chart as a tuple (Chords are hashable), cached: a take asks for its chart's key once."""
    from .keys import key_of_histogram

    hist = np.zeros(12)
    given = [c for c in chords if c is not None]
    for chord in given:
        hist[list(chord.tones)] += 1.0
        hist[chord.root] += 1.0
    if given:
        hist[given[0].root] += 0.25 * len(given)
        hist[given[-1].root] += 0.1 * len(given)
    return key_of_histogram(hist)


# --- features for the model ---------------------------------------------------------------------
CHORD_FEATURES = 24  # 12 chord tones + 12 for the pitch class the bass should play


def bars_of(chords: list[Chord | None]) -> dict[Chord, list[int]]:
    """Each chord of a chart and the bars (indices) that play it; bars with no chord are left out."""
    out: dict[Chord, list[int]] = {}
    for i, chord in enumerate(chords):
        if chord is not None:
            out.setdefault(chord, []).append(i)
    return out


def chord_features(chords: list[Chord | None], shift: int = 0) -> np.ndarray:
    """(len(chords), 24) float32: each chord's tones and its lowest pitch class, moved `shift` semitones.

    A bar with no chord is all zeros. Key-normalised packs pass the shift that took the song to C / Am.
    """
    out = np.zeros((len(chords), CHORD_FEATURES), dtype=np.float32)
    for chord, rows in bars_of(chords).items():  # a chart has few chords
        moved = chord.transposed(shift) if shift else chord
        out[np.ix_(rows, list(moved.tones))] = 1.0
        out[rows, 12 + moved.lowest] = 1.0
    return out


def chord_of_features(row: np.ndarray) -> Chord | None:
    """Inverse of chord_features for one row (the recognized quality of those tones); None for zeros."""
    if not np.any(row):
        return None
    tones = set(np.flatnonzero(row[:12] > 0.5).tolist())
    low = int(np.argmax(row[12:]))
    for quality, steps in QUALITIES.items():
        for root in range(12):
            if {(root + s) % 12 for s in steps} == tones:
                return Chord(root, quality, None if low == root else low)
    return None
