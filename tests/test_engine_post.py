"""The post stage (engine/post.py) runs on every entry point's output, and only where that entry point may change."""

from __future__ import annotations

import numpy as np
import pytest

from musicvae_app.engine import Engine
from musicvae_app.sketch.midi import write_midi


@pytest.fixture(scope="module")
def shipped():
    return Engine.load(device="cpu")


@pytest.fixture(scope="module")
def plain(shipped):
    return shipped.generate(steps=3, seed=11)


def _without_groove(song):
    out = song.copy()
    out.settings = song.settings.replace(groove=False)
    return out


def test_every_entry_point_records_the_stage(shipped, plain, tmp_path):
    """The shipped card asks for groove: every take from every entry point has been through it, and the takes
    held to chords through the chart check too."""
    part = plain.copy()
    part.probs[[1, 3, 4]] = 0.0  # piano and bass as the musician's part
    write_midi(part, tmp_path / "part.mid")
    takes = {
        "generate": plain,
        "chords": shipped.generate(steps=3, seed=13, chords="Am F C G"),
        "sections": shipped.generate(steps=3, seed=14, sections=[("verse", 1, 4), ("verse", 9, 4)]),
        "follow": shipped.generate(seed=19, follow=tmp_path / "part.mid"),
        "regenerate": shipped.regenerate_lane(plain, "guitar", seed=15),
        "continue": shipped.continue_song(plain, 1, seed=16),
        "infill": shipped.infill(plain, 5, 8, lanes=["piano"], seed=17),
        "morph": shipped.morph(plain, shipped.generate(steps=3, seed=18), steps=3),
        "set_chord": shipped.set_chord(plain, 2, "Dm"),
        "set_chords": shipped.set_chords(plain, "C G Am F"),
    }
    for name, song in takes.items():
        assert "groove" in song.settings["post"], name
    for name in ("chords", "follow", "set_chord", "set_chords"):
        assert takes[name].settings["post"] == ["groove", "chart"], name
    assert takes["generate"].settings["post"] == ["groove"]
    off = shipped.regenerate_lane(_without_groove(plain), "guitar", seed=15)
    assert off.settings["post"] == []


def test_set_chord_grooves_the_revoiced_bar_and_nothing_else(shipped, plain):
    """The re-voiced bar passes the groove (its notes differ from the same edit without it); every other bar
    and the drums stay as the take had them."""
    on = shipped.set_chord(plain, 2, "Dm")
    off = shipped.set_chord(_without_groove(plain), 2, "Dm")
    spb = plain.steps_per_bar
    bar = slice(spb, 2 * spb)
    assert not np.array_equal(on.notes()[:, bar], off.notes()[:, bar])
    outside = np.ones(plain.n_steps, dtype=bool)
    outside[bar] = False
    assert np.array_equal(on.probs[:, outside], plain.probs[:, outside])
    assert np.array_equal(on.probs[4], plain.probs[4])  # the drums are never re-voiced
    assert on.chords[1] == "Dm"


def test_infill_grooves_the_new_bars_of_its_lanes_only(shipped, plain):
    on = shipped.infill(plain, 5, 8, lanes=["piano"], seed=17)
    off = shipped.infill(_without_groove(plain), 5, 8, lanes=["piano"], seed=17)
    spb = plain.steps_per_bar
    new = slice(4 * spb, 8 * spb)
    assert not np.array_equal(on.probs[0, new], off.probs[0, new])
    others = [1, 2, 3, 4]
    assert np.array_equal(on.probs[others], plain.probs[others])
    assert np.array_equal(on.probs[0, : 4 * spb], plain.probs[0, : 4 * spb])


def test_morph_grooves_the_passage(shipped, plain):
    other = shipped.generate(steps=3, seed=18)
    on = shipped.morph(plain, other, steps=3)
    off = shipped.morph(_without_groove(plain), other, steps=3)
    assert not np.array_equal(on.probs, off.probs)
    assert off.settings["post"] == []
