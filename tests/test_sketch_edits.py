"""Sketches that open, then break (issue 22): every edit of an opened sketch ends as a take or the app's own error.

Real sketch files are written to tmp_path (by the real writer, then edited where a case needs a field changed),
opened through the real reader and Session, and edited by the real engine on the tiny packs. A case that used
to hang (transpose -1e9) runs under a timeout and a clock.
"""

from __future__ import annotations

import json
import time
import zipfile

import numpy as np
import pytest
import torch

from musicvae_app.engine import Engine
from musicvae_app.errors import InvalidValue
from musicvae_app.lanes import DRUMS, LANES
from musicvae_app.model.nets import Band, PackConfig
from musicvae_app.model.pack import load_pack, save_pack
from musicvae_app.sketch import sketchfile
from musicvae_app.sketch.session import Session
from musicvae_app.sketch.sketchfile import Sketch, SketchError
from musicvae_app.sketch.song import ChunkInfo
from musicvae_app.theory.keys import transpose_roll

BASS = LANES.index("bass")


@pytest.fixture(scope="module")
def other_engine(tmp_path_factory):
    """A pack on the tiny pack's grid (2 steps a beat, 32-step chunks) whose latents hold 8 numbers a lane, not 16."""
    torch.manual_seed(1)
    band = Band(PackConfig(latent=8, chunk_steps=32, steps_per_beat=2, channels=(64, 128, 256)))
    with torch.no_grad():  # sparse, varied rolls, as conftest.make_pack makes them
        for vae in band.vae.values():
            vae.decoder.deconv3.weight.mul_(30)
            vae.decoder.deconv3.bias.fill_(-1.6)
    card = {"name": "tiny-latent-8", "generation": {"noise": 1.0, "threshold": 0.3}}
    return Engine.load(load_pack(save_pack(band, tmp_path_factory.mktemp("packs") / "eight", card)), device="cpu")


def edited(src, dst, change):
    """The sketch file at `src` copied to `dst` with its sketch.json edited by change(header); arrays unchanged."""
    with zipfile.ZipFile(src) as z:
        members = {name: z.read(name) for name in z.namelist()}
    header = json.loads(members["sketch.json"])
    change(header)
    members["sketch.json"] = json.dumps(header).encode()
    with zipfile.ZipFile(dst, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return dst


def opened(path, engine):
    """A Session holding the sketch file, and the list its "error" events land in."""
    session = Session.open(path, engine)
    errors: list[tuple[str, str]] = []
    session.listen(lambda event, *args: errors.append(args) if event == "error" else None)
    return session, errors


def two_takes(engine, tmp_path, name="s.mvsketch"):
    return sketchfile.save(Sketch(engine.generate_takes(seed=11, steps=2, variations=2)), tmp_path / name)


def assert_take(song, engine) -> None:
    """A take every part of the app can use: probabilities in 0-1, one chunk record and latent row per chunk."""
    assert np.isfinite(song.probs).all() and song.probs.min() >= 0.0 and song.probs.max() <= 1.0
    assert len(song.chunks) == song.n_chunks and all(len(row) == len(LANES) for row in song.chunks)
    assert song.latents.shape == (song.n_chunks, len(LANES), engine.cfg.latent)


# --- the transpose hang ---------------------------------------------------------------------------------
def _folded(roll, shift):
    """The fold by octaves, note by note: a note pushed off the keyboard comes back by whole octaves."""
    out = np.zeros_like(roll)
    out[DRUMS] = roll[DRUMS]
    for p in range(128):
        t = p + shift
        t = t % 12 if t < 0 else (116 + (t - 116) % 12 if t > 127 else t)
        np.maximum(out[:DRUMS, :, t], roll[:DRUMS, :, p], out=out[:DRUMS, :, t])
    return out


@pytest.mark.timeout(60)
@pytest.mark.parametrize("shift", [-(10**9), 10**9, 10**300, -(10**300), 2**63, 128, -128, 140, -139])
def test_transpose_roll_works_in_time_that_does_not_grow_with_the_shift(shift):
    roll = np.random.default_rng(3).random((5, 64, 128)).astype(np.float32) ** 4
    start = time.perf_counter()
    out = transpose_roll(roll, shift)
    assert time.perf_counter() - start < 0.5
    assert np.array_equal(out, _folded(roll, shift))
    assert np.array_equal(out[DRUMS], roll[DRUMS])


@pytest.mark.parametrize("shift", ["up", 2.5, float("nan")])
def test_transpose_roll_refuses_a_shift_that_is_not_a_whole_number(shift):
    with pytest.raises(TypeError):
        transpose_roll(np.zeros((5, 32, 128), np.float32), shift)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("transpose", [-(10**9), 10**9, 1e300, "up", 2.5, 128])
def test_every_edit_of_a_take_with_a_wild_transpose_is_our_error_at_once(engine, transpose):
    song = engine.generate(seed=4, steps=1)
    other = engine.generate(seed=5, steps=1)
    song.settings = song.settings.replace(transpose=transpose)
    edits = {
        "regenerate": lambda: engine.regenerate_lane(song, "bass", seed=1),
        "continue": lambda: engine.continue_song(song, 1, seed=1),
        "infill": lambda: engine.infill(song, 1, 2, seed=1),
        "morph": lambda: engine.morph(song, other, 2),
        "set_chord": lambda: engine.set_chord(song, 1, "Am"),
        "reconstruct": lambda: engine.reconstruct(song),
        "generate with it locked": lambda: engine.generate(seed=1, steps=1, keep=song, keep_lanes=["bass"]),
    }
    for name, edit in edits.items():
        start = time.perf_counter()
        with pytest.raises(InvalidValue, match=r"transpose \(semitones\) must be a whole number from -127 to 127"):
            edit()
        assert time.perf_counter() - start < 2.0, name


@pytest.mark.timeout(300)
@pytest.mark.parametrize("transpose", [127, -127])
def test_a_sketch_at_the_edge_of_the_transpose_range_opens_and_every_edit_ends_in_seconds(engine, tmp_path, transpose):
    path = edited(
        two_takes(engine, tmp_path),
        tmp_path / "edge.mvsketch",
        lambda h: [take["settings"].update(transpose=transpose) for take in h["takes"]],
    )
    session, errors = opened(path, engine)
    start = time.perf_counter()
    assert session.regenerate_lane("bass")
    assert session.continue_song(1)
    assert session.infill(1, 4)
    assert session.morph_to_take(1, steps=2)
    assert errors == [] and time.perf_counter() - start < 60
    for take in session.takes:
        assert_take(take, engine)
        assert take.settings["transpose"] == transpose
    assert session.save(tmp_path / "after.mvsketch")
    assert sketchfile.load(tmp_path / "after.mvsketch").song.equal_notes(session.song)


def test_transpose_stops_at_the_range_a_sketch_file_holds_and_changes_nothing(engine, tmp_path):
    path = edited(
        two_takes(engine, tmp_path),
        tmp_path / "high.mvsketch",
        lambda h: h["takes"][1]["settings"].update(transpose=120),
    )
    session, errors = opened(path, engine)
    before = session.takes
    session.transpose(12)
    assert errors == [
        (
            "Cannot transpose",
            "Take 2 is already +120 semitones from its pack's key; +12 more would pass 127 either way, where no "
            "note is left on the keyboard. Transpose the other way.",
        )
    ]
    assert session.takes is before and not session.dirty
    session.transpose(7)  # up to 127: still a sketch the reader opens
    assert [take.settings["transpose"] for take in session.takes] == [7, 127]
    assert session.save(tmp_path / "out.mvsketch")
    assert [t.settings["transpose"] for t in sketchfile.load(tmp_path / "out.mvsketch").takes] == [7, 127]


# --- latents and chunk records ----------------------------------------------------------------------------
@pytest.mark.timeout(300)
def test_a_sketch_from_a_pack_with_other_latents_opens_and_this_pack_edits_its_notes(engine, other_engine, tmp_path):
    """Regenerate, Continue, Infill and Morph go on from the notes (latents only ride along): they work and
    keep this pack's latents. Changing chords decodes the take's own latents: it says which pack made it."""
    made = other_engine.generate_takes(seed=2, steps=2, variations=2)
    path = sketchfile.save(Sketch(made), tmp_path / "eight.mvsketch")
    session, errors = opened(path, engine)
    assert session.song.latents.shape == (3, 5, 8) and session.song.equal_notes(made[0])

    with pytest.raises(InvalidValue) as err:
        engine.set_chord(session.song, 1, "Am")
    assert str(err.value) == (
        "this take was made with model pack 'tiny-latent-8': its latents hold 8 numbers a lane, pack 'tiny-32' "
        "uses 16, so changing its chords cannot decode them. Load the pack that made the sketch to do this, or "
        "Regenerate a lane (or bars) first: this pack then reads the notes and keeps its own latents."
    )

    opened_take = session.song
    assert session.regenerate_lane("bass") and errors == []
    regenerated = session.song
    assert_take(regenerated, engine)
    for lane in range(len(LANES)):
        if lane != BASS:
            assert np.array_equal(regenerated.probs[lane], opened_take.probs[lane])
    assert regenerated.chunks[0][BASS].source == "regenerated" and regenerated.chunks[0][0].source != "regenerated"
    assert engine.set_chord(regenerated, 1, "Am").chords[0] == "Am"  # this pack's latents now: chords work

    assert session.undo() and session.song is opened_take
    assert session.continue_song(1) and errors == []
    longer = session.song
    assert_take(longer, engine)
    assert longer.n_chunks == 4 and np.array_equal(longer.probs[:, : opened_take.n_steps], opened_take.probs)

    assert session.undo() and session.infill(5, 8) and errors == []  # bars 5-8: the second chunk
    infilled = session.song
    assert_take(infilled, engine)
    assert np.array_equal(infilled.probs[:, :32], opened_take.probs[:, :32])
    assert np.array_equal(infilled.probs[:, 64:], opened_take.probs[:, 64:])

    assert session.morph_to_take(1, steps=2) and errors == []
    assert_take(session.song, engine)
    assert session.save(tmp_path / "mixed.mvsketch")
    back = sketchfile.load(tmp_path / "mixed.mvsketch")
    assert [t.latents.shape[-1] for t in back.takes] == [16, 8, 16]  # the untouched take keeps the other pack's


@pytest.mark.timeout(300)
def test_a_take_saved_without_latents_opens_and_edits_or_says_so(engine, tmp_path):
    path = edited(
        two_takes(engine, tmp_path), tmp_path / "bare.mvsketch", lambda h: h["takes"][0].update(has_latents=False)
    )
    session, errors = opened(path, engine)
    assert session.song.latents is None
    with pytest.raises(InvalidValue, match=r"^this take keeps no latents \(it was saved without them\), so changing"):
        engine.set_chord(session.song, 2, "F")
    for edit in (lambda: session.regenerate_lane(0), lambda: session.continue_song(1), lambda: session.infill(2, 3)):
        assert edit() and errors == []
        assert_take(session.song, engine)
        session.undo()
    assert session.song.latents is None and not session.dirty


@pytest.mark.timeout(300)
def test_a_take_without_chunk_records_opens_with_unknown_ones_and_edits(engine, tmp_path):
    path = edited(
        two_takes(engine, tmp_path), tmp_path / "nochunks.mvsketch", lambda h: h["takes"][0].update(chunks=[])
    )
    session, errors = opened(path, engine)
    assert session.song.chunks == [[ChunkInfo("unknown")] * 5] * 3
    assert session.regenerate_lane("drums") and session.infill(1, 4) and session.continue_song(1) and errors == []
    assert_take(session.song, engine)
    assert engine.set_chord(session.song, 1, "C").chords[0] == "C"


@pytest.mark.timeout(300)
def test_engine_edits_of_a_take_in_memory_without_chunk_records_work_and_mismatched_ones_say_so(engine):
    song = engine.generate(seed=8, steps=2)
    bare = song.copy()
    bare.chunks, bare.latents = [], None
    for result in (
        engine.regenerate_lane(bare, "piano", seed=1),
        engine.continue_song(bare, 1, seed=1),
        engine.infill(bare, 1, 4, seed=1),
    ):
        assert_take(result, engine)
        assert result.chunks[-1][DRUMS].source in ("unknown", "generated", "infilled", "regenerated")
    short = song.copy()
    short.chunks = short.chunks[:1]
    message = r"this take records how 1 chunks were made but holds 3 \(each of 5 lanes\): the take is damaged"
    for edit in (
        lambda: engine.regenerate_lane(short, "piano", seed=1),
        lambda: engine.continue_song(short, 1, seed=1),
        lambda: engine.infill(short, 1, 4, seed=1),
    ):
        with pytest.raises(InvalidValue, match=message):
            edit()


@pytest.mark.timeout(300)
def test_a_sketch_on_another_grid_opens_and_each_edit_names_the_pack_without_losing_it(engine, tmp_path):
    """steps_per_beat 4 and 64-step chunks (a real pack's grid) on the tiny pack (2 and 32): Regenerate says so."""
    path = edited(
        two_takes(engine, tmp_path),
        tmp_path / "grid.mvsketch",
        lambda h: [
            take.update(steps_per_beat=4, chunk_steps=96, chords=[], chunks=[], has_latents=False)
            for take in h["takes"]
        ],
    )
    session, errors = opened(path, engine)
    before = session.song
    for edit in (
        lambda: session.regenerate_lane("bass"),
        lambda: session.infill(1, 2),
        lambda: session.morph_to_take(1, steps=2),
    ):
        edit()
    assert [title for title, _ in errors] == [
        "Regenerate bass failed",
        "Regenerate bars 1-6 (all lanes) failed",  # one 96-step chunk: six bars
        "Morph take 1 to take 2 failed",
    ]
    for _, text in errors:
        assert text == (
            "this song is on a 4-steps-per-beat, 96-step grid but pack 'tiny-32' works on 2 / 32: load the pack "
            "that made it"
        )
    assert session.song is before and not session.dirty
    with pytest.raises(InvalidValue, match="load the pack that made it"):
        engine.continue_song(before, 1)


def test_a_refused_sketch_leaves_the_open_one_as_it_was(engine, tmp_path):
    path = two_takes(engine, tmp_path)
    session, errors = opened(path, engine)
    song = session.song
    bad = edited(path, tmp_path / "bad.mvsketch", lambda h: h["takes"][1]["settings"].update(transpose=-1e9))
    assert not session.open_sketch(bad)
    assert errors == [
        (
            "Cannot open sketch",
            "'bad.mvsketch' is damaged: take 2 settings: transpose (semitones) must be a whole number from -127 to "
            "127, got -1000000000.0",
        )
    ]
    assert session.song is song and session.path == path and not session.dirty
    with pytest.raises(SketchError):
        Session.open(bad, engine)


@pytest.mark.parametrize("value", [3e38, -3e38, 1e5])
def test_latents_too_large_to_decode_are_refused_at_load(engine, tmp_path, value):
    """Finite but huge latents (a flipped exponent bit) used to open, then set_chord decoded them to NaN: a take
    the reader would refuse after saving."""
    import io

    path = two_takes(engine, tmp_path)
    with zipfile.ZipFile(path) as z:
        members = {name: z.read(name) for name in z.namelist()}
    buf = io.BytesIO()
    np.save(buf, np.full((3, 5, 16), value, np.float32))
    members["take1/latents.npy"] = buf.getvalue()
    bad = tmp_path / "huge.mvsketch"
    with zipfile.ZipFile(bad, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    with pytest.raises(SketchError, match=r"'huge.mvsketch' is damaged: take 2 has a latent of .*; the most is 10000"):
        sketchfile.load(bad)
