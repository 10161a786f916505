"""A seeded fuzz of sketches that open, then get edited (issue 22): every outcome is a valid take or our error.

A real two-take sketch (made by the engine on the tiny pack, with chords, groove, density, feel and a
transpose) is mutated: take fields and settings set to other values and types or removed, member bytes
flipped or cut short (the archive rewritten so each member still reads), or the file itself cut. Each
mutant is opened through the real reader; one that opens goes through the real Session and every edit
of the engine (Regenerate, Continue, Infill, Morph, set_chord, Transpose, density, export, save and
reopen). Anything but a valid take or a MusicVAEError fails the test, and so does a slow case (a hang
under pytest-timeout). Hypothesis runs a fixed number of derandomized cases, so it runs in seconds and
finds the same nothing every time.
"""

from __future__ import annotations

import io
import json
import time
import zipfile

import mido
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from musicvae_app.errors import MusicVAEError
from musicvae_app.lanes import LANES
from musicvae_app.sketch import sketchfile
from musicvae_app.sketch.arrangement import bars_text
from musicvae_app.sketch.session import Session, SyncExecutor
from musicvae_app.sketch.sketchfile import Sketch, SketchError

FUZZ = settings(
    max_examples=24, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None
)
MEMBERS = ["sketch.json", "take0/probs.npy", "take0/latents.npy", "take1/probs.npy", "take1/latents.npy"]
TAKE_FIELDS = [
    "steps_per_beat",
    "chunk_steps",
    "threshold",
    "tempo",
    "programs",
    "chunks",
    "settings",
    "has_latents",
    "chords",
]
SETTINGS = sorted(sketchfile.TAKE_SETTINGS) + ["seed", "guitar_seed", "pack", "source", "infill", "device"]

# Values near and past every range, of every JSON type, and the issue's own (-1e9, "up", 1e300).
EDGES = [
    -(10**9),
    10**9,
    1e300,
    -1e300,
    2**63,
    "up",
    127,
    -127,
    128,
    0,
    -1,
    1,
    0.5,
    0.999,
    1e-9,
    4.0,
    400,
    20,
    64,
    65,
    "",
    "E minor",
    "C major / A minor",
    "H minor",
    "bass=1.3",
    "bass=9",
    "kazoo=1",
    "piano,bass",
    "piano,kazoo",
    "16th",
    "asked",
    True,
    False,
    None,
    [],
    {},
    [0.0] * 5,
    [1e300] * 5,
    [0] * 4,
    [[]],
    [None] * 5,
]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)
values = st.one_of(st.sampled_from(EDGES), json_values)
takes = st.integers(0, 1)


def _unit(low: float, high: float):
    return st.floats(low, high, allow_nan=False)


def _per_lane(low: float, high: float):
    return _unit(low, high) | st.lists(_unit(low, high), min_size=5, max_size=5)


# Values each field and setting may hold: mutants that open with unusual but allowed values go on to be edited.
ALLOWED_SETTINGS = {
    "transpose": st.integers(-127, 127),
    "key": st.sampled_from(["", "E minor", "Bb major", "C major / A minor", "f#m", "G"]),
    "density": st.sampled_from(["", "bass=1.3", "piano=0.25,drums=4", "strings=0.7,guitar=2"]),
    "lineup": st.lists(st.sampled_from(LANES), min_size=1, max_size=5, unique=True).map(",".join),
    "noise": _unit(0.0, 10.0),
    "threshold": _unit(0.01, 0.99),
    "revive": st.integers(0, 1024),
    "pull": _unit(0.0, 0.99),
    "harmony": _unit(0.0, 8.0),
    "start_bias": st.lists(_unit(-8.0, 8.0), min_size=5, max_size=5),
    "scale_lock": st.booleans(),
    "groove": st.booleans(),
    "chords": st.sampled_from(["asked", "part", "bank"]),
    "chords_typed": st.lists(st.integers(1, 4096), max_size=40).map(lambda bars: bars_text(set(bars))),
    "steps": st.integers(0, 1024),
    "morph_steps": st.integers(0, 64),
    "variation": st.integers(0, 63),
    "variations": st.integers(1, 64),
    "sustain": _per_lane(0.1, 1.0),
    "fill": _per_lane(0.1, 1.0),
    "bring_in": _per_lane(0.1, 1.0),
    "restrike": _per_lane(0.0, 0.95),
    "swing": _unit(50.0, 75.0),
    "swing_grid": st.sampled_from(["8th", "16th"]),
    "humanize_ms": _unit(0.0, 30.0),
    "humanize_velocity": _unit(0.0, 30.0),
}
ALLOWED_FIELDS = {
    "steps_per_beat": st.sampled_from([1, 2, 4]),  # the tiny pack's is 2
    "chunk_steps": st.sampled_from([16, 32, 64]),  # its is 32; a take is 64 steps long
    "threshold": _unit(0.01, 0.99),
    "tempo": _unit(20.0, 400.0),
    "programs": st.lists(st.integers(0, 127), min_size=5, max_size=5),
    "chunks": st.just([]),
    "settings": st.just({}),
    "has_latents": st.booleans(),
    "chords": st.lists(st.sampled_from([None, "Am", "F", "C/E", "G7", "Bbmaj7", "N.C."]), max_size=8),
}
assert set(ALLOWED_SETTINGS) == set(sketchfile.TAKE_SETTINGS)
KINDS = ["allowed setting"] * 4 + ["allowed field"] * 2 + ["setting", "setting", "field"]
KINDS += ["drop", "flip", "truncate", "cut"]


@st.composite
def mutation(draw):
    """One step: a take field or setting set to another allowed value, or to any value or type, or dropped;
    a member's bit flipped or the member cut short; the file cut short."""
    kind = draw(st.sampled_from(KINDS))
    if kind == "allowed setting":
        key = draw(st.sampled_from(sorted(ALLOWED_SETTINGS)))
        return "setting", draw(takes), key, draw(ALLOWED_SETTINGS[key])
    if kind == "allowed field":
        key = draw(st.sampled_from(sorted(ALLOWED_FIELDS)))
        return "field", draw(takes), key, draw(ALLOWED_FIELDS[key])
    if kind == "setting":
        return kind, draw(takes), draw(st.sampled_from(SETTINGS)), draw(values)
    if kind == "field":
        return kind, draw(takes), draw(st.sampled_from(TAKE_FIELDS)), draw(values)
    if kind == "drop":
        return kind, draw(takes), draw(st.sampled_from(TAKE_FIELDS + SETTINGS))
    if kind == "flip":
        return kind, draw(st.sampled_from(MEMBERS)), draw(st.integers(0, 10**6)), draw(st.integers(0, 7))
    if kind == "truncate":
        return kind, draw(st.sampled_from(MEMBERS)), draw(st.floats(0.0, 1.0))
    return kind, draw(st.floats(0.0, 1.0))


mutations = st.lists(mutation(), min_size=1, max_size=3)


@pytest.fixture(scope="module")
def base(tmp_path_factory, engine) -> bytes:
    """A real sketch: a charted take with groove, density, feel and a transpose, and a plain one."""
    session = Session(engine)
    session.update_settings(steps=1, variations=2)
    session.set_seed(21)
    assert session.generate()
    session.set_density("bass", 1.3)
    session.set_feel(swing=58, humanize_ms=6)
    session.transpose(2)
    charted = engine.set_chord(engine.generate(seed=5, steps=1, chords="Am F C G", groove=True), 2, "Dm")
    path = tmp_path_factory.mktemp("base") / "base.mvsketch"
    sketchfile.save(Sketch([charted, session.takes[1]]), path)
    return path.read_bytes()


def mutate(data: bytes, steps) -> bytes:
    """The sketch with each step applied: header fields in sketch.json, or bytes of a member or of the file."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        members = {name: z.read(name) for name in z.namelist()}
    cut_at = None
    for step in steps:
        kind = step[0]
        if kind in ("field", "setting", "drop"):
            try:
                header = json.loads(members["sketch.json"])
                take = header["takes"][step[1]]
                if kind == "field":
                    take[step[2]] = step[3]
                elif kind == "setting":
                    take["settings"][step[2]] = step[3]
                else:
                    take.pop(step[2], None)
                    take["settings"].pop(step[2], None)
            except (ValueError, KeyError, IndexError, TypeError, AttributeError):
                continue  # an earlier step broke the header: this one has nothing to change
            members["sketch.json"] = json.dumps(header).encode()
        elif kind == "flip" and members.get(step[1]):
            raw = bytearray(members[step[1]])
            raw[step[2] % len(raw)] ^= 1 << step[3]
            members[step[1]] = bytes(raw)
        elif kind == "truncate" and step[1] in members:
            members[step[1]] = members[step[1]][: int(len(members[step[1]]) * step[2])]
        elif kind == "cut":
            cut_at = step[1]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, member in members.items():
            z.writestr(name, member)
    raw = out.getvalue()
    return raw if cut_at is None else raw[: int(len(raw) * cut_at)]


class Recording(SyncExecutor):
    """The session's executor for scripts, keeping every exception a job ended in."""

    def __init__(self):
        self.raised: list[BaseException] = []

    def submit(self, fn, on_done, on_error) -> bool:
        def kept(exc):
            self.raised.append(exc)
            on_error(exc)

        return super().submit(fn, on_done, kept)


def valid(song, engine=None) -> None:
    """A take every part of the app can use."""
    assert np.isfinite(song.probs).all() and 0.0 <= song.probs.min() and song.probs.max() <= 1.0
    assert song.probs.shape[1] % song.chunk_steps == 0 and 0.0 < song.threshold < 1.0
    assert len(song.chunks) == song.n_chunks and all(len(row) == len(LANES) for row in song.chunks)
    if engine is not None:
        assert song.latents.shape == (song.n_chunks, len(LANES), engine.cfg.latent)
        assert np.isfinite(song.latents).all()
    song.notes()
    song.note_counts()


def edit(fn, engine):
    """Run one edit: a valid take (or list of takes), or our own error; anything else fails the test."""
    try:
        result = fn()
    except MusicVAEError:
        return
    for take in result if isinstance(result, list) else [result]:
        valid(take, engine)


@pytest.mark.timeout(600)
@FUZZ
@given(mutations)
def test_fuzzed_sketches_open_and_edit_as_valid_takes_or_our_errors(tmp_path_factory, engine, base, steps):
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / "f.mvsketch"
    path.write_bytes(mutate(base, steps))
    start = time.perf_counter()
    try:
        sketch = sketchfile.load(path)
    except SketchError as exc:
        assert str(exc).startswith(("'f.mvsketch'", "sketch '")), str(exc)
        return
    for take in sketch.takes:
        valid(take)
    executor = Recording()
    session = Session.open(path, engine, executor)
    song, other = session.song, sketch.takes[1 - sketch.current] if len(sketch.takes) > 1 else session.song

    edit(lambda: engine.regenerate_lane(song, "bass", seed=1), engine)
    edit(lambda: engine.continue_song(song, 1, seed=1), engine)
    edit(lambda: engine.infill(song, 1, min(4, song.n_bars), seed=1), engine)
    edit(lambda: engine.morph(song, other, 2), engine)
    edit(lambda: engine.set_chord(song, 1, "Am"), engine)
    session.regenerate_lane("piano")  # the window's way: a result, or an "error" event with the job's exception
    session.infill(1, 1)
    session.continue_song(1)
    session.transpose(1)
    session.set_density("strings", 0.7)
    assert all(isinstance(exc, MusicVAEError) for exc in executor.raised), executor.raised
    for take in session.takes:
        valid(take)
    assert session.export_midi(folder / "f.mid") is not None
    assert len(mido.MidiFile(folder / "f.mid").tracks) >= 1
    assert session.save(folder / "again.mvsketch")
    again = sketchfile.load(folder / "again.mvsketch")  # nothing the app made from it is refused on reopening
    assert [t.n_steps for t in again.takes] == [t.n_steps for t in session.takes]
    assert time.perf_counter() - start < 60
