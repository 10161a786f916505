"""Sketch files: everything comes back exactly; bad, foreign and newer files fail with a clear message."""

from __future__ import annotations

import json
import os
import zipfile

import numpy as np
import pytest

from musicvae_app import sketchfile
from musicvae_app.sketchfile import Sketch, SketchError
from musicvae_app.song import LANES, ChunkInfo, Song


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
