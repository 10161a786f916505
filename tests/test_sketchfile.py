"""Sketch files: everything comes back exactly; bad, foreign and newer files fail with a clear message."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import zipfile

import numpy as np
import pytest

from musicvae_app.sketch import sketchfile
from musicvae_app.sketch.midi import read_settings, write_midi
from musicvae_app.sketch.sketchfile import Sketch, SketchError
from musicvae_app.sketch.song import LANES, UNSET, ChunkInfo, Song, TakeRecord


def make_song(seed: int = 0, chunks: int = 3) -> Song:
    rng = np.random.default_rng(seed)
    return Song(
        probs=rng.random((5, 32 * chunks, 128), dtype=np.float32) ** 6,
        steps_per_beat=2,
        chunk_steps=32,
        threshold=0.4,
        tempo=97.0,
        programs=[4, 25, 33, 49, 0],
        latents=rng.standard_normal((chunks, 5, 16)).astype(np.float32),
        chunks=[[ChunkInfo("generated", seed, 1.0, "tiny")] * len(LANES) for _ in range(chunks)],
        settings={"seed": seed, "noise": 1.0, "pack": "tiny"},
    )


def assert_same(a: Song, b: Song) -> None:
    assert np.array_equal(a.probs, b.probs) and a.probs.dtype == b.probs.dtype
    assert np.array_equal(a.latents, b.latents)
    assert (a.threshold, a.tempo, a.programs, a.steps_per_beat, a.chunk_steps) == (
        b.threshold,
        b.tempo,
        b.programs,
        b.steps_per_beat,
        b.chunk_steps,
    )
    assert a.chunks == b.chunks and a.settings == b.settings


def test_take_record_is_typed_read_only_and_round_trips(tmp_path):
    """A take's settings are a TakeRecord: typed fields, a read-only mapping, replace() for writers, and
    every setting (unknown ones from an older or newer app too) comes back from a sketch file and an export."""
    song = make_song(3)
    song.settings = song.settings.replace(
        transpose=2, key="A minor", lineup="piano,bass,drums", fill=[0.5, 1.0, 1.0, 1.0, 1.0], post=["groove"]
    )
    song.settings = song.settings.replace(guitar_seed=11, future_knob="x", future_list=[1, 2])
    rec = song.settings
    assert isinstance(rec, TakeRecord)
    assert rec.transpose == 2 and rec.key == "A minor" and rec.fill == (0.5, 1.0, 1.0, 1.0, 1.0)
    assert rec.guitar_seed == 11 and rec.harmony is UNSET and "harmony" not in rec
    assert rec.extra == {"future_knob": "x", "future_list": (1, 2)}
    assert rec["fill"] == [0.5, 1.0, 1.0, 1.0, 1.0] and rec.get("harmony", 4) == 4 and "future_knob" in rec
    plain = dict(rec)
    assert plain == rec and set(rec.keys()) == set(plain) and dict(rec.items()) == plain
    assert plain["future_list"] == [1, 2] and plain["post"] == ["groove"]
    with pytest.raises(TypeError):
        rec["transpose"] = 3  # read-only
    with pytest.raises(dataclasses.FrozenInstanceError):
        rec.transpose = 3
    rec["fill"].append(9.0)  # a copy: the record stays as it was
    assert rec["fill"] == [0.5, 1.0, 1.0, 1.0, 1.0]
    assert "key" not in rec.without("key") and rec.replace(key=UNSET) == rec.without("key")
    assert rec.replace(future_knob=UNSET).extra == {"future_list": (1, 2)}
    song.settings = {**rec, "density": "bass=1.3"}  # a dict set by a script becomes a record
    assert isinstance(song.settings, TakeRecord) and song.settings.density == "bass=1.3"

    back = sketchfile.load(sketchfile.save(Sketch([song], current=0), tmp_path / "r.mvsketch")).takes[0]
    assert isinstance(back.settings, TakeRecord)
    assert back.settings == song.settings and dict(back.settings) == dict(song.settings)
    assert back.settings.extra["future_knob"] == "x"
    exported = read_settings(write_midi(song, tmp_path / "r.mid"))
    scalars = {k: v for k, v in dict(song.settings).items() if isinstance(v, (int, float, str))}
    assert exported == scalars


def test_round_trip_keeps_every_take_exactly(tmp_path):
    takes = [make_song(1), make_song(2, chunks=2)]
    takes[1].latents = None
    path = sketchfile.save(
        Sketch(takes, current=1, settings={"locks": [True, False, False, False, True]}), tmp_path / "a.mvsketch"
    )
    back = sketchfile.load(path)
    assert back.current == 1 and back.settings["locks"][0] is True
    assert len(back.takes) == 2
    for a, b in zip(takes, back.takes):
        if a.latents is None:
            assert b.latents is None
            a.latents = b.latents = np.zeros(1)
        assert_same(a, b)


def test_save_is_atomic_and_leaves_no_temp_files(tmp_path, monkeypatch):
    path = tmp_path / "s.mvsketch"
    sketchfile.save(Sketch([make_song(1)]), path)
    before = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        sketchfile.save(Sketch([make_song(2)]), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.mvsketch"]


def test_save_creates_the_folder(tmp_path):
    path = sketchfile.save(Sketch([make_song()]), tmp_path / "new" / "deep" / "s.mvsketch")
    assert sketchfile.load(path).song.n_chunks == 3


@pytest.mark.parametrize(
    "content, message",
    [
        (b"MThd\x00\x00\x00\x06 not a zip", "not a musicvae-app sketch"),
        (b"", "not a musicvae-app sketch"),
    ],
)
def test_garbage_is_refused_by_name(tmp_path, content, message):
    path = tmp_path / "song.mid"
    path.write_bytes(content)
    with pytest.raises(SketchError, match=message) as err:
        sketchfile.load(path)
    assert "song.mid" in str(err.value)


def _zip_with_header(path, header: dict) -> None:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("sketch.json", json.dumps(header))


def test_foreign_zip_is_refused(tmp_path):
    path = tmp_path / "other.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(SketchError, match="not a musicvae-app sketch"):
        sketchfile.load(path)
    _zip_with_header(path, {"format": "someone-else", "format_version": 1})
    with pytest.raises(SketchError, match="not a musicvae-app sketch"):
        sketchfile.load(path)


def test_newer_file_asks_for_an_update(tmp_path):
    path = tmp_path / "future.mvsketch"
    _zip_with_header(path, {"format": sketchfile.FORMAT, "format_version": sketchfile.FORMAT_VERSION + 1, "takes": []})
    with pytest.raises(SketchError, match="newer musicvae-app.*update the app"):
        sketchfile.load(path)


def test_damaged_file_is_refused(tmp_path):
    path = sketchfile.save(Sketch([make_song()]), tmp_path / "s.mvsketch")
    with zipfile.ZipFile(path) as z:
        header = json.loads(z.read("sketch.json"))
    broken = tmp_path / "broken.mvsketch"
    _zip_with_header(broken, header)  # the header without its arrays
    with pytest.raises(SketchError, match="damaged"):
        sketchfile.load(broken)
    with pytest.raises(SketchError, match="does not exist"):
        sketchfile.load(tmp_path / "missing.mvsketch")


# --- chord charts ride with each take (issue 20) ------------------------------------------------------
def _with_header_change(src, dst, change) -> None:
    """Copy the sketch at `src` to `dst` with its sketch.json edited by `change(header)`; the arrays stay."""
    with zipfile.ZipFile(src) as z:
        members = {name: z.read(name) for name in z.namelist()}
    header = json.loads(members["sketch.json"])
    change(header)
    members["sketch.json"] = json.dumps(header).encode()
    with zipfile.ZipFile(dst, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)


def test_each_take_keeps_its_chords(tmp_path):
    charted = make_song(1).with_chords(["Am", "Am", None, "C/E", "G7"])  # 12 bars at 2 steps a beat: 5 charted
    path = sketchfile.save(Sketch([charted, make_song(2)]), tmp_path / "c.mvsketch")
    back = sketchfile.load(path)
    assert back.takes[0].chords == ["Am", "Am", None, "C/E", "G7"]
    assert back.takes[0].chord_at(3) == "C/E" and back.takes[0].chord_at(11) is None
    assert back.takes[1].chords == []


def test_an_old_sketch_without_chords_opens_with_none(tmp_path):
    path = sketchfile.save(Sketch([make_song()]), tmp_path / "new.mvsketch")
    old = tmp_path / "old.mvsketch"
    _with_header_change(path, old, lambda h: [take.pop("chords") for take in h["takes"]])
    back = sketchfile.load(old)
    assert back.song.chords == [] and np.array_equal(back.song.probs, make_song().probs)


def test_chords_are_kept_in_their_canonical_spelling(tmp_path):
    path = sketchfile.save(Sketch([make_song()]), tmp_path / "s.mvsketch")
    typed = tmp_path / "typed.mvsketch"
    _with_header_change(path, typed, lambda h: h["takes"][0].update(chords=["Amin7", " C/E", "N.C.", "Bbmaj7"]))
    assert sketchfile.load(typed).song.chords == ["Am7", "C/E", None, "Bbmaj7"]


@pytest.mark.parametrize(
    "chords, message",
    [
        ("Am F C G", r"take 1 chords must be a list"),
        ({"1": "Am"}, r"take 1 chords must be a list"),
        (["Am"] * 13, r"take 1 chords name 13 bars but the song has 12"),
        (["Am", 5], r"take 1 chords: bar 2 holds 5"),
        (["Am", ["F"]], r"take 1 chords: bar 2 holds \['F'\]"),
        (["Am", "F", "Hm7"], r"take 1 chords: bar 3 holds 'Hm7', not a chord symbol"),
        (["x" * 500], r"take 1 chords: bar 1 holds"),
    ],
)
def test_a_bad_chord_chart_is_refused_naming_the_take_and_the_chords(tmp_path, chords, message):
    path = sketchfile.save(Sketch([make_song()]), tmp_path / "s.mvsketch")
    bad = tmp_path / "bad.mvsketch"
    _with_header_change(path, bad, lambda h: h["takes"][0].update(chords=chords))
    with pytest.raises(SketchError, match=message) as err:
        sketchfile.load(bad)
    assert "'bad.mvsketch' is damaged" in str(err.value)


# --- every take field is checked at load (issue 22) ------------------------------------------------------
def _bad_take_file(tmp_path, change):
    """A real two-take sketch on disk with take 2's header record edited by change(take record)."""
    path = sketchfile.save(Sketch([make_song(1), make_song(2, chunks=2)]), tmp_path / "s.mvsketch")
    bad = tmp_path / "bad.mvsketch"
    _with_header_change(path, bad, lambda h: change(h["takes"][1]))
    return bad


def _set_setting(key, value):
    return lambda take: take["settings"].__setitem__(key, value)


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("transpose", -1e9, r"transpose \(semitones\) must be a whole number from -127 to 127, got -1000000000.0"),
        ("transpose", 1e9, r"transpose \(semitones\) must be a whole number from -127 to 127, got 1000000000.0"),
        ("transpose", 1e300, r"transpose \(semitones\) must be a whole number from -127 to 127, got 1e\+300"),
        ("transpose", "up", r"transpose \(semitones\) must be a whole number from -127 to 127, got 'up'"),
        ("transpose", 2.5, r"transpose \(semitones\) must be a whole number"),
        ("transpose", 128, r"transpose \(semitones\) must be a whole number from -127 to 127, got 128"),
        ("lineup", "piano,kazoo", r"lineup must name lanes from piano, guitar, bass, strings, drums"),
        ("lineup", "", r"lineup must name lanes from"),
        ("lineup", ["piano"], r"lineup must name lanes from"),
        ("density", "bass=9", r"density of bass must be from 0.25 to 4.0, got 9"),
        ("density", "kazoo=1.2", r"unknown lane 'kazoo': choose one of piano, guitar, bass, strings, drums"),
        ("density", {"bass": 1.2}, r"density must be lane=value pairs"),
        ("key", "H major", r"key must be a key's name such as 'E minor'"),
        ("key", 5, r"key must be a key's name"),
        ("noise", 99, r"noise must be a number from 0 to 10, got 99"),
        ("threshold", 1.5, r"threshold must be a number above 0 and below 1"),
        ("revive", -1, r"revive must be a whole number from 0 to 1024, got -1"),
        ("pull", 1.0, r"pull must be a number from 0 and below 1, got 1.0"),
        ("harmony", "x", r"harmony must be a number from 0 to 8, got 'x'"),
        ("start_bias", [0.0] * 4, r"start_bias must be five numbers from -8 to 8"),
        ("start_bias", [1e300] * 5, r"start_bias must be a number from -8 to 8, got 1e\+300"),
        ("scale_lock", "yes", r"scale_lock must be true or false, got 'yes'"),
        ("groove", 1, r"groove must be true or false, got 1"),
        ("chords", "mine", r"chords must be one of asked, part, bank, got 'mine'"),
        ("sustain", 5, r"sustain must be from 0.1 to 1.0, got 5"),
        ("fill", [1.0] * 4, r"fill must be one number or five, one per lane; got 4"),
        ("restrike", 0.99, r"restrike must be from 0.0 to 0.95"),
        ("bring_in", "full", r"bring_in must be from 0.1 to 1.0"),
        ("swing", 90, r"swing must be a number from 50 to 75 \(percent"),
        ("swing_grid", "32nd", r"swing_grid must be one of 8th, 16th, got '32nd'"),
        ("humanize_ms", float("nan"), r"humanize_ms must be a number from 0 to 30"),
        ("humanize_velocity", -1, r"humanize_velocity must be a number from 0 to 30"),
        ("steps", -3, r"steps must be a whole number from 0 to"),
        ("variation", 64, r"variation must be a whole number from 0 to 63, got 64"),
        ("variations", 0, r"variations must be a whole number from 1 to 64, got 0"),
    ],
)
def test_every_take_setting_is_checked_at_load_naming_the_take_and_the_setting(tmp_path, key, value, message):
    bad = _bad_take_file(tmp_path, _set_setting(key, value))
    with pytest.raises(SketchError, match=message) as err:
        sketchfile.load(bad)
    assert str(err.value).startswith("'bad.mvsketch' is damaged: take 2 settings: ")


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda t: t.update(tempo=1e9), r"take 2 tempo \(BPM\) must be a number from 20 to 400, got 1000000000.0"),
        (lambda t: t.update(threshold=0), r"take 2 threshold must be a number above 0 and below 1, got 0"),
        (lambda t: t.update(steps_per_beat=7), r"take 2 steps_per_beat must divide 480"),
        (lambda t: t.update(chunk_steps=17), r"take 2 chunk_steps must be a multiple of 16"),
        (lambda t: t.pop("tempo"), r"take 2 has no tempo"),
        (lambda t: t.update(programs=[0, 0, 0, 0, 200]), r"take 2 program must be a whole number from 0 to 127"),
        (lambda t: t.update(programs=[0, 0]), r"take 2 programs must list one instrument \(0-127\) per lane \(5\)"),
        (lambda t: t.update(has_latents="yes"), r"take 2 has_latents must be true or false, got 'yes'"),
        (lambda t: t.update(chunks=t["chunks"][:1]), r"take 2 chunks must list one row per chunk \(2\).*got 1"),
        (lambda t: t.update(chunks={"a": 1}), r"take 2 chunks must list one row per chunk \(2\).*got dict"),
        (lambda t: t["chunks"][1].pop(), r"take 2 chunks: chunk 2 must hold one record per lane \(5\)"),
        (lambda t: t["chunks"][0].__setitem__(0, 7), r"take 2 chunks: chunk 1: a chunk's provenance must be a rec"),
        (lambda t: t["chunks"][0][0].update(noise=1e9), r"take 2 chunks: chunk 1: noise must be a number from 0"),
        (lambda t: t.update(settings=[1, 2]), r"take 2 settings must be a record of named settings, got list"),
    ],
)
def test_every_take_field_is_checked_at_load_naming_the_take_and_the_field(tmp_path, change, message):
    with pytest.raises(SketchError, match=message) as err:
        sketchfile.load(_bad_take_file(tmp_path, change))
    assert str(err.value).startswith("'bad.mvsketch' is damaged: take 2 ")


def test_latents_of_the_wrong_shape_are_refused_naming_the_take(tmp_path):
    path = sketchfile.save(Sketch([make_song(1), make_song(2, chunks=2)]), tmp_path / "s.mvsketch")
    with zipfile.ZipFile(path) as z:
        members = {name: z.read(name) for name in z.namelist()}
    buf = io.BytesIO()
    np.save(buf, np.zeros((3, 5, 16), np.float32))  # take 2 has two chunks
    members["take1/latents.npy"] = buf.getvalue()
    bad = tmp_path / "bad.mvsketch"
    with zipfile.ZipFile(bad, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    with pytest.raises(SketchError, match=r"take 2 has latents of shape \(3, 5, 16\), not one row of 5 lanes"):
        sketchfile.load(bad)


def test_unset_settings_open_as_unset_and_a_take_without_chunk_records_gets_unknown_ones(tmp_path):
    def change(take):
        take["settings"].update(transpose=None, density=None, key=None, lineup=None)
        take["chunks"] = []

    back = sketchfile.load(_bad_take_file(tmp_path, change)).takes[1]
    assert not {"transpose", "density", "key", "lineup"} & set(back.settings)
    assert back.chunks == [[ChunkInfo("unknown")] * len(LANES)] * 2
    assert np.array_equal(back.probs, make_song(2, chunks=2).probs)


def test_a_sketch_the_engine_made_with_every_setting_opens_as_it_was_saved(tmp_path, engine):
    """The checks refuse nothing the app writes: chords, groove, scale lock, density, feel, transpose, infill, morph."""
    from musicvae_app.sketch.session import Session

    session = Session(engine)
    session.update_settings(steps=2, variations=2, key="E minor", scale_lock=True)
    session.set_seed(5)
    assert session.generate()
    session.set_density("bass", 1.3)
    session.set_feel(swing=60, swing_grid="16th", humanize_ms=8, humanize_velocity=5)
    session.transpose(-3)
    assert session.infill(2, 3) and session.regenerate_lane("guitar") and session.morph_to_take(1, steps=2)
    assert session.set_chord(2, "Dm7")  # a typed bar: the take records chords_typed
    charted = engine.generate(seed=3, steps=1, chords="Am F C G", groove=True, revive=1, pull=0.2, harmony=1.0)
    takes = list(session.takes) + [charted, engine.set_chord(charted, 2, "Dm7"), engine.reconstruct(charted)]
    written = set().union(*(take.settings for take in takes))
    assert set(sketchfile.TAKE_SETTINGS) <= written  # every checked setting is in the file, as the app wrote it
    path = sketchfile.save(Sketch(takes, current=1), tmp_path / "all.mvsketch")
    back = sketchfile.load(path)
    assert len(back.takes) == len(takes) and back.current == 1
    for a, b in zip(takes, back.takes):
        assert_same(a, b)
        assert a.chords == b.chords


def test_a_huge_bad_value_is_quoted_short(tmp_path):
    bad = _bad_take_file(tmp_path, _set_setting("lineup", "kazoo," * 200_000))
    with pytest.raises(SketchError, match=r"take 2 settings: lineup must name lanes from") as err:
        sketchfile.load(bad)
    assert len(str(err.value)) <= 430
