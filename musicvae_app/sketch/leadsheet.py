"""A lead sheet: the tune (the musician's part or a chosen lane), the chord symbols, key, tempo and sections as
rehearsal marks, written as MusicXML through music21 (it opens in MuseScore, Finale, Sibelius, Dorico).

The tune is one line: where the lane plays several notes at once, the top one sounds (the "skyline" a lead
sheet writer would keep), on a 16th-note grid; a note over a bar line is tied. Chords are harmony elements
(<harmony> with root, kind and bass, so notation programs read them as chord symbols, not text), written where
the chord changes and at each section's start. From a sketch (File > Export lead sheet, `lead_sheet_of_song`)
or from a sketch's exported .mid (`musicvae leadsheet`, `lead_sheet_of_midi`: chords and sections from its
markers, the key and the part's lane from its settings).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..atomic import atomic_write
from ..errors import InvalidValue
from ..lanes import BEATS_PER_BAR, DEFAULT_PROGRAMS, DRUMS, LANES
from ..theory.chords import NO_CHORD, ChordError, parse_chord
from ..theory.keys import MAJOR_NAMES, MINOR_NAMES, parse_key
from .pins import lane_notes
from .song import Song, lane_index

GRID = 4  # cells a beat: 16th notes
SECTION_PREFIX = "Section "  # midi.write.section_marker's prefix for a name that reads as a chord

# Our qualities (theory/chords.QUALITIES) -> MusicXML <kind> and any added degree (degree, alter).
KINDS: dict[str, tuple[str, tuple[tuple[int, int], ...]]] = {
    "": ("major", ()),
    "m": ("minor", ()),
    "7": ("dominant", ()),
    "maj7": ("major-seventh", ()),
    "m7": ("minor-seventh", ()),
    "mMaj7": ("major-minor", ()),
    "dim": ("diminished", ()),
    "dim7": ("diminished-seventh", ()),
    "m7b5": ("half-diminished", ()),
    "aug": ("augmented", ()),
    "sus2": ("suspended-second", ()),
    "sus4": ("suspended-fourth", ()),
    "7sus4": ("suspended-fourth", ((7, -1),)),
    "6": ("major-sixth", ()),
    "m6": ("minor-sixth", ()),
    "9": ("dominant-ninth", ()),
    "maj9": ("major-ninth", ()),
    "m9": ("minor-ninth", ()),
    "add9": ("major", ((9, 0),)),
    "5": ("power", ()),
}


@dataclass
class LeadSheet:
    """What a lead sheet shows; times in 16ths (GRID a beat), bars 0-based."""

    title: str
    tempo: float
    n_bars: int
    key: str | None = None  # "A minor"; None: music21 guesses it from the tune
    chords: list[str | None] = field(default_factory=list)  # per bar: its chart text ("C Am": two halves)
    sections: list[tuple[int, str]] = field(default_factory=list)  # (bar, name)
    tune: list[tuple[int, int, int]] = field(default_factory=list)  # (pitch, start, end) one line
    tune_name: str = "Tune"
    program: int | None = None  # the tune's GM program (0-127; None: the tune lane's default), its staff's sound


def skyline(notes, n_cells: int) -> list[tuple[int, int, int]]:
    """(pitch, start, end) notes in cells -> one line: the top note sounding at each cell, struck again where
    a note of that pitch starts (a repeated note stays repeated)."""
    top = [-1] * n_cells
    starts: set[tuple[int, int]] = set()
    for pitch, s, e in notes:
        s, e = max(int(s), 0), min(int(e), n_cells)
        if e <= s:
            continue
        starts.add((s, pitch))
        for t in range(s, e):
            if pitch > top[t]:
                top[t] = pitch
    out: list[list[int]] = []
    for t, pitch in enumerate(top):
        if pitch < 0:
            continue
        if out and out[-1][0] == pitch and out[-1][2] == t and (t, pitch) not in starts:
            out[-1][2] = t + 1
        else:
            out.append([pitch, t, t + 1])
    return [tuple(n) for n in out]


def _cells(beats: float) -> int:
    return int(round(beats * GRID))


def default_tune_lane(part_lanes: list[int]) -> int:
    """The lane a lead sheet carries: the musician's part (its first pitched lane); InvalidValue when none."""
    pitched = [i for i in part_lanes if i != DRUMS]
    if not pitched:
        raise InvalidValue(
            "this sketch has no part of yours to carry the tune: choose a lane for it "
            f"({', '.join(name for name in LANES if name != 'drums')})"
        )
    return pitched[0]


def _tune_lane(lane) -> int:
    li = lane_index(lane)
    if li == DRUMS:
        raise InvalidValue("drums carry no tune: choose piano, guitar, bass or strings")
    return li


def lead_sheet_of_song(song: Song, lane: int | str, title: str = "Sketch") -> LeadSheet:
    """The lead sheet of a take with `lane` as the tune."""
    li = _tune_lane(lane)
    scale = GRID / song.steps_per_beat
    notes = [(p, round(s * scale), round(e * scale)) for p, s, e, _ in lane_notes(song, li)]
    n_cells = song.n_bars * BEATS_PER_BAR * GRID
    key = str(song.settings.get("key") or "").split(" / ")[0] or None
    sections = [(s.start - 1, s.name) for s in song.sections]
    chords = [song.chord_at(b) for b in range(song.n_bars)]
    tune = skyline(notes, n_cells)
    return LeadSheet(title, song.tempo, song.n_bars, key, chords, sections, tune, LANES[li], int(song.programs[li]))


def lead_sheet_of_midi(path: str | Path, lane: int | str | None = None) -> LeadSheet:
    """The lead sheet of a sketch's .mid: the tune from `lane` (default: the musician's part, as the file's
    settings name it), chords and sections from its markers, the key from its settings."""
    from .midi import chords_from_notes, read_notes, read_settings

    path = Path(path)
    notes = read_notes(path)  # MidiImportError in words for a file that is not MIDI
    settings = read_settings(path)
    if lane is None:
        part = [LANES.index(n) for n in str(settings.get("part_lanes") or "").split(",") if n in LANES]
        li = default_tune_lane(part)
    else:
        li = _tune_lane(lane)
    n_bars = max(-(-_cells(notes.length) // (BEATS_PER_BAR * GRID)), 1)
    mine = notes.lane == li
    if not mine.any():
        raise InvalidValue(f"'{path.name}' has no {LANES[li]} notes for the tune: choose another lane with --lane")
    tune = [(int(p), _cells(s), _cells(e)) for p, s, e in zip(notes.pitch[mine], notes.start[mine], notes.end[mine])]
    chords = chords_from_notes(notes, GRID)[:n_bars]
    sections = []
    for beats, text in notes.markers:
        if not text or text in NO_CHORD:
            continue
        try:
            parse_chord(text)
            continue  # a chord, not a section
        except ChordError:
            pass
        name = text[len(SECTION_PREFIX) :] if text.startswith(SECTION_PREFIX) else text
        sections.append((min(_cells(beats) // (BEATS_PER_BAR * GRID), n_bars - 1), name))
    key = str(settings.get("key") or "").split(" / ")[0] or None
    n_cells = n_bars * BEATS_PER_BAR * GRID
    return LeadSheet(path.stem, notes.tempo, n_bars, key, chords, sections, skyline(tune, n_cells), LANES[li])


# --- MusicXML ---------------------------------------------------------------------------------------------
def _m21_name(name: str) -> str:
    """'Bb' -> 'B-' (music21 writes flats as '-')."""
    return name[0] + name[1:].replace("b", "-")


def _bar_chords(text: str | None) -> list[tuple[int, str | None]]:
    """(beat, symbol or None) where a bar's chords start: its chart text ('C Am': C on beat 0, Am on beat 2); a
    bar's text that does not read stands whole on beat 0 (chord_symbol then leaves it out)."""
    from ..theory.chords import parse_bar

    if text is None:
        return [(0, None)]
    try:
        beats = [None if c is None else c.symbol for c in parse_bar(text)]
    except ChordError:
        return [(0, text)]
    return [(i, c) for i, c in enumerate(beats) if i == 0 or c != beats[i - 1]]


def chord_symbol(symbol: str):
    """A music21 ChordSymbol with the MusicXML kind of our chord (None for no chord or a symbol we cannot read)."""
    from music21 import harmony

    from ..theory.chords import ROOT_NAMES

    if symbol is None or symbol in NO_CHORD:
        return harmony.NoChord()
    try:
        chord = parse_chord(symbol)
    except ChordError:
        return None
    kind, degrees = KINDS[chord.quality]
    bass = None if chord.bass is None else _m21_name(ROOT_NAMES[chord.bass])
    cs = harmony.ChordSymbol(root=_m21_name(ROOT_NAMES[chord.root]), bass=bass, kind=kind)
    for degree, alter in degrees:
        cs.addChordStepModification(harmony.ChordStepModification("add", degree, alter), updatePitches=True)
    cs.chordKindStr = chord.quality  # what the sheet prints: our symbol's own spelling
    return cs


def _key(text: str | None):
    from music21 import key

    try:
        tonic, mode = parse_key(text or "")
    except ValueError:
        return None
    name = (MAJOR_NAMES if mode == "major" else MINOR_NAMES)[tonic]
    return key.Key(_m21_name(name), mode)


def to_score(sheet: LeadSheet):
    """The music21 Score of a lead sheet: one part, a measure a bar."""
    from music21 import clef, expressions, harmony, instrument, metadata, meter, note, stream, tempo

    score = stream.Score()
    score.insert(0, metadata.Metadata(title=sheet.title, composer=""))  # not music21's "Music21"
    part = stream.Part()
    part.partName = sheet.tune_name.capitalize()
    program = sheet.program
    if program is None:
        program = DEFAULT_PROGRAMS[LANES.index(sheet.tune_name)] if sheet.tune_name in LANES else 0
    sound = instrument.instrumentFromMidiProgram(int(program))  # MuseScore then has the part's instrument
    sound.partName = part.partName
    part.insert(0, sound)
    bar_cells = BEATS_PER_BAR * GRID
    by_bar: dict[int, list] = {}
    for pitch, s, e in sheet.tune:
        while s < e:  # split at bar lines, tied
            bar = s // bar_cells
            end = min(e, (bar + 1) * bar_cells)
            by_bar.setdefault(bar, []).append((pitch, s - bar * bar_cells, end - s, end < e))
            s = end
    sections = dict(sheet.sections)
    low = min((p for p, _, _ in sheet.tune), default=60)
    held = None
    for bar in range(sheet.n_bars):
        m = stream.Measure(number=bar + 1)
        if bar == 0:
            m.insert(0, clef.BassClef() if low < 48 else clef.TrebleClef())
            k = _key(sheet.key)
            if k is not None:
                m.insert(0, k)
            m.insert(0, meter.TimeSignature(f"{BEATS_PER_BAR}/4"))
            m.insert(0, tempo.MetronomeMark(number=round(sheet.tempo, 1)))
        if bar in sections:
            name = sections[bar]
            m.insert(0, expressions.RehearsalMark(name[:1].upper() + name[1:]))
        for beat, chord in _bar_chords(sheet.chords[bar] if bar < len(sheet.chords) else None):
            if chord is not None and (chord != held or (bar in sections and beat == 0)):  # changes, sections
                cs = chord_symbol(chord)
                if cs is not None:
                    m.insert(beat, cs)
            elif chord is None and held is not None:
                m.insert(beat, harmony.NoChord())
            held = chord
        now = 0
        for pitch, start, length, tied_on in sorted(by_bar.get(bar, []), key=lambda n: n[1]):
            if start > now:
                m.insert(now / GRID, note.Rest(quarterLength=(start - now) / GRID))
            n = note.Note(pitch, quarterLength=length / GRID)
            if tied_on:
                n.tie = _tie("start")
            m.insert(start / GRID, n)
            now = start + length
        if now < bar_cells:
            m.insert(now / GRID, note.Rest(quarterLength=(bar_cells - now) / GRID))
        part.append(m)
    _tie_ends(part)
    if _key(sheet.key) is None and sheet.tune:
        first = part.getElementsByClass(stream.Measure).first()
        first.insert(0, part.analyze("key"))
    score.insert(0, part)
    return score


def _tie(kind: str):
    from music21 import tie

    return tie.Tie(kind)


def _tie_ends(part) -> None:
    """A note tied on from the bar before is the tie's stop (or continue)."""
    notes = list(part.recurse().getElementsByClass("Note"))
    for a, b in zip(notes, notes[1:]):
        if a.tie is not None and a.tie.type in ("start", "continue") and b.pitch == a.pitch:
            b.tie = _tie("continue" if b.tie is not None and b.tie.type == "start" else "stop")


def write_lead_sheet(sheet: LeadSheet, path: str | Path) -> Path:
    """Write the lead sheet as MusicXML (uncompressed .musicxml/.xml) atomically; its path."""
    from music21.musicxml.m21ToXml import GeneralObjectExporter

    path = Path(path)
    if path.suffix.lower() == ".mxl":
        raise InvalidValue(f"'{path.name}': write an uncompressed MusicXML file (.musicxml or .xml)")
    if not path.parent.is_dir():
        raise InvalidValue(f"folder '{path.parent}' does not exist: create it or choose another file")
    data = GeneralObjectExporter(to_score(sheet)).parse()
    return atomic_write(path, data)
