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
        assert _but_ghosts(takes[name]) == ["groove", "chart"], name
    assert _but_ghosts(takes["generate"]) == ["groove"]
    for name in ("set_chord", "set_chords"):  # the drums are never re-voiced: no ghost notes there
        assert "ghosts" not in takes[name].settings["post"], name
    off = shipped.regenerate_lane(_without_groove(plain), "guitar", seed=15)
    assert off.settings["post"] == []


def _but_ghosts(song) -> list:
    """The steps a take records, but the ghost notes (which a take gets only where the model half-hears a snare)."""
    return [step for step in song.settings["post"] if step != "ghosts"]


def test_every_entry_point_that_makes_drums_lifts_ghost_notes_and_says_so(shipped, plain):
    """Ghost notes are one step of the stage: a new drum lane, new chunks and new drum bars get them as a generate
    does. The same call without a ghost floor differs only in snare notes on the 16ths between the 8ths, and the
    take records "ghosts" exactly when there are such notes. (The pack's floor lifts a ghost note in a minority of
    takes, as real drummers play them in some songs only: the test lowers it so that every entry point has some.)"""
    calls = {
        "regenerate": lambda seed: shipped.regenerate_lane(plain, "drums", seed=seed),
        "continue": lambda seed: shipped.continue_song(plain, 1, seed=seed),
        "infill": lambda seed: shipped.infill(plain, 5, 8, lanes=["drums"], seed=seed),
    }
    floor, lifted = shipped.post.ghost, set()
    assert floor is not None  # the shipped pack has its dynamics.json
    for name, call in calls.items():
        for seed in range(1, 4):
            try:
                shipped.post.ghost = (0.002, 1.0)  # any snare heard at 0.2 % of the threshold, one a snare hit
                with_ghosts = call(seed)
                shipped.post.ghost = None
                without = call(seed)
            finally:
                shipped.post.ghost = floor
            new = with_ghosts.notes()[4] & ~without.notes()[4]
            assert not (without.notes()[4] & ~with_ghosts.notes()[4]).any(), (name, seed)  # nothing taken away
            assert np.array_equal(with_ghosts.notes()[:4], without.notes()[:4]), (name, seed)
            steps, pitches = np.nonzero(new)
            spb = with_ghosts.steps_per_beat
            assert set(pitches.tolist()) <= {38, 40}, (name, seed)  # the snares
            assert all(s % spb and (s * 4 // spb) % 2 for s in steps.tolist()), (name, seed)  # off the 8ths
            assert ("ghosts" in with_ghosts.settings["post"]) == bool(new.any()), (name, seed)
            if new.any():
                lifted.add(name)
    assert lifted == set(calls), lifted  # each entry point lifted ghost notes for some seed


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
