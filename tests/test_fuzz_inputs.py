"""Fuzzing what a musician types or loads (issue 32): chart texts, section lists and form texts, follow files.

Every input either works or raises the app's own error (errors.MusicVAEError: InvalidValue, ChordError,
SectionError, MidiImportError), never another exception, and never hangs (each example has a deadline).
Hypothesis draws from the syntax's own pieces (chord symbols, bar lines, N.C., %, holds, digits of other
scripts, a BOM, CRLF) as well as from any text; follow files are random bytes, valid small MIDI files made
with mido, and those files with bytes changed. Examples are kept few, so the whole module runs in seconds.
"""

from __future__ import annotations

import io
import math
import tempfile
from datetime import timedelta
from pathlib import Path

import mido
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from musicvae_app.errors import MusicVAEError
from musicvae_app.sketch.arrangement import chart_of_lines
from musicvae_app.sketch.midi import read_notes
from musicvae_app.sketch.session import Session
from musicvae_app.theory.chords import parse_bars
from musicvae_app.theory.sections import check_sections, parse_form

FUZZ = settings(
    max_examples=150,
    deadline=timedelta(seconds=5),  # generous on a loaded machine; a hang is far past it
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    derandomize=True,  # the same examples every run: a failure is reproducible, CI is not flaky
)

CHART_PIECES = [
    "Am", "F", "C", "G", "Dm7", "C/E", "F#m7b5", "Bbmaj7", "E7sus4", "Abdim7", "Gsus", "Cadd9", "D5", "Δ", "C°7",
    "N.C.", "NC", "x", "%", "/", ".", "|", "||", "| |", "Hb7", "c", "Am/", "/E", "C//E", "a" * 50, "Am" * 30,
    "\ufeff", "\r\n", "\t", "²", "８", "🎸", "\x00", "-", "7", "(", ")", "C(add9)",
]  # fmt: skip
FORM_PIECES = [
    "intro", "verse", "chorus", "bridge", "outro", "verse 2", "Припев", "🎸", "4", "8", "0", "16", "4096", "4097",
    "²", "８", "½", "⑧", "-3", "2.5", ",", "|", "\ufeff", "9" * 30, "x" * 30, "",
]  # fmt: skip


def ours_or_fine(fn, *args, **kwargs):
    """fn(*args) either returns or raises the app's own error; anything else fails the test."""
    try:
        return fn(*args, **kwargs)
    except MusicVAEError:
        return None


texts = st.one_of(
    st.text(max_size=120),
    st.lists(st.sampled_from(CHART_PIECES), max_size=30).map(" ".join),
    st.lists(st.sampled_from(CHART_PIECES), max_size=30).map("".join),
)


@FUZZ
@given(texts, st.one_of(st.none(), st.integers(1, 64)))
def test_chart_texts_work_or_say_why(text, bars):
    got = ours_or_fine(parse_bars, text, bars)
    if got is not None and bars is not None:
        assert len(got) == bars
    ours_or_fine(parse_bars, chart_of_lines(" ".join(text.split())))  # as the window's Chart… passes it


values = st.one_of(
    st.integers(-10, 5000),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.booleans(),
    st.none(),
)
names = st.one_of(st.sampled_from(FORM_PIECES), st.text(max_size=40), st.none(), st.integers())
items = st.one_of(
    st.tuples(names, values, values),
    st.fixed_dictionaries({"name": names, "start": values, "bars": values}),
    st.lists(values, max_size=4),
    values,
)


@FUZZ
@given(st.one_of(st.lists(items, max_size=12), values), st.one_of(st.none(), st.integers(-3, 5000)))
def test_section_lists_work_or_say_why(sections, n_bars):
    got = ours_or_fine(check_sections, sections, n_bars)
    if got:
        assert all(1 <= s.start and s.bars >= 1 for s in got)
        assert all(a.end < b.start for a, b in zip(got, got[1:]))


@FUZZ
@given(
    st.one_of(
        st.text(max_size=80),
        st.lists(st.sampled_from(FORM_PIECES), max_size=20).map(" ".join),
    )
)
def test_form_texts_work_or_say_why(text):
    got = ours_or_fine(parse_form, text)
    if got:
        assert got[0].start == 1 and all(a.end + 1 == b.start for a, b in zip(got, got[1:]))
    session = Session()  # no engine: the form is kept for the next Generate, or refused
    ours_or_fine(session.set_form, text)


@FUZZ
@given(names, values, values)
def test_marked_sections_work_or_say_why(name, first, last):
    ours_or_fine(Session().mark_section, name, first, last)


# --- follow files -----------------------------------------------------------------------------------------
notes_st = st.lists(
    st.tuples(
        st.integers(0, 15),  # channel
        st.integers(0, 127),  # program
        st.integers(0, 127),  # pitch
        st.integers(0, 20_000),  # start tick
        st.integers(0, 5_000),  # length in ticks
        st.integers(0, 127),  # velocity (0: a note-on that is a note-off)
    ),
    max_size=40,
)


def midi_bytes(notes, tpb: int, tempo: int, fmt: int) -> bytes:
    mid = mido.MidiFile(type=fmt, ticks_per_beat=tpb)
    events = [(0, mido.MetaMessage("set_tempo", tempo=tempo))]
    for ch, program, pitch, start, length, vel in notes:
        events += [
            (start, mido.Message("program_change", channel=ch, program=program)),
            (start, mido.Message("note_on", channel=ch, note=pitch, velocity=vel)),
            (start + length, mido.Message("note_off", channel=ch, note=pitch)),
        ]
    track, now = mido.MidiTrack(), 0
    for tick, msg in sorted(events, key=lambda e: e[0]):
        track.append(msg.copy(time=tick - now))
        now = tick
    mid.tracks.append(track)
    buf = io.BytesIO()
    mid.save(file=buf)
    return buf.getvalue()


valid_midi = st.builds(
    midi_bytes,
    notes_st,
    st.integers(1, 960),
    st.integers(1, 16_777_215),  # microseconds a beat: 3.6 to 60,000,000 BPM, clamped by the reader
    st.sampled_from([0, 1]),
)


@st.composite
def changed(draw, data: st.SearchStrategy[bytes]) -> bytes:
    raw = bytearray(draw(data))
    for _ in range(draw(st.integers(1, 6))):
        if raw:
            raw[draw(st.integers(0, len(raw) - 1))] = draw(st.integers(0, 255))
    return bytes(raw[: draw(st.integers(0, len(raw)))]) if draw(st.booleans()) else bytes(raw)


follow_files = st.one_of(st.binary(max_size=300), (st.just(b"MThd") | st.just(b"")).flatmap(
    lambda head: st.binary(max_size=200).map(lambda b: head + b)), valid_midi, changed(valid_midi))  # fmt: skip


@pytest.fixture(scope="module")
def folder():
    with tempfile.TemporaryDirectory() as tmp:
        yield Path(tmp)


@settings(FUZZ, max_examples=80)
@given(follow_files)
def test_follow_files_work_or_say_why(engine, folder, data):
    """Through the follow path's reader (read once, as the CLI and the session do) to the part on the grid."""
    path = folder / "part.mid"
    path.write_bytes(data)
    notes = ours_or_fine(read_notes, path)
    if notes is None:
        return
    assert all(math.isfinite(x) for x in (notes.tempo, notes.length))
    part = ours_or_fine(engine.read_part, notes)
    if part is not None:
        assert part.notes().any() and part.n_bars >= 1


short_midi = st.builds(
    midi_bytes,
    st.lists(st.tuples(*[st.integers(0, 15), st.integers(0, 127), st.integers(0, 127)], st.integers(0, 3000),
                       st.integers(0, 1000), st.integers(0, 127)), max_size=12),
    st.integers(96, 960),
    st.integers(200_000, 1_000_000),
    st.sampled_from([0, 1]),
)  # fmt: skip


@settings(FUZZ, max_examples=8, deadline=timedelta(seconds=60))  # a whole Generate: seconds on a loaded machine
@given(short_midi)
def test_a_few_valid_parts_are_followed_to_a_band(engine, folder, data):
    path = folder / "small.mid"
    path.write_bytes(data)
    song = ours_or_fine(engine.generate, follow=path, seed=1)
    if song is not None:
        assert song.settings["part_lanes"]
