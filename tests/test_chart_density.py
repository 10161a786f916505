"""Issue 29 leftovers (item 4): under a chart alone the piano sits the take out at the card's learned share
(`role_absent`), and the strings hold their notes as real ones do (`held_restrike`, `bar_restrike`, learned by
evaluation/learn_density.py). The shipped pack, real generation, every take exported to .mid and read back by mido."""

from __future__ import annotations

import mido
import numpy as np
import pytest
from cards import with_card

from musicvae_app.engine import Engine
from musicvae_app.engine.ties import held_gaps
from musicvae_app.evaluation.learn_density import bar_restrikes, card_value, held_restrikes, measure
from musicvae_app.sketch.midi import write_midi
from musicvae_app.sketch.song import LANES

PIANO, GUITAR, BASS, STRINGS, DRUMS = range(5)
CHART = "C Am F G Em Am Dm G"
STEPS = 4 * 16 * 4  # 4 chunks of 4 bars at 16ths


@pytest.fixture(scope="module")
def shipped():
    return Engine.load(device="cpu")


def _roll(path) -> np.ndarray:
    """(5, STEPS, 128) bool at 16ths from the .mid, by mido: each note from its start to its end."""
    mid = mido.MidiFile(path)
    roll = np.zeros((len(LANES), STEPS, 128), dtype=bool)
    for track in mid.tracks:
        tick, open_at = 0, {}
        for msg in track:
            tick += msg.time
            step = round(tick * 4 / mid.ticks_per_beat)
            if msg.type not in ("note_on", "note_off"):
                continue
            lane = DRUMS if msg.channel == 9 else msg.channel
            if msg.type == "note_on" and msg.velocity > 0:
                open_at[(lane, msg.note)] = step
            elif (lane, msg.note) in open_at:
                start = open_at.pop((lane, msg.note))
                roll[lane, start : max(step, start + 1), msg.note] = True
    return roll


def _starts(path) -> np.ndarray:
    """Note starts per lane (note_on with a velocity), by mido."""
    out = np.zeros(len(LANES), dtype=int)
    for track in mido.MidiFile(path).tracks:
        for msg in track:
            if msg.type == "note_on" and msg.velocity > 0:
                out[DRUMS if msg.channel == 9 else msg.channel] += 1
    return out


def _takes(engine, tmp_path, tag, seeds, **kw) -> list:
    paths = []
    for s in seeds:
        paths.append(write_midi(engine.generate(steps=3, seed=s, **kw), tmp_path / f"{tag}{s}.mid"))
    return paths


def test_under_a_chart_alone_the_piano_sits_out_at_role_absent(shipped, tmp_path):
    """role_absent 1 for the piano: every chart-alone take whose guitar plays has no piano, the band plays on;
    0: the piano plays in some of the same takes."""
    seeds = range(4)
    out = with_card(shipped, lambda: _takes(shipped, tmp_path, "out", seeds, chords=CHART), role_absent=[1.0] + [0] * 4)
    stay = with_card(shipped, lambda: _takes(shipped, tmp_path, "in", seeds, chords=CHART), role_absent=[0.0] * 5)
    with_guitar = [p for p in out if _starts(p)[GUITAR]]
    assert len(with_guitar) >= 2
    for p in with_guitar:
        n = _starts(p)
        assert n[PIANO] == 0 and n[BASS] > 0 and n[DRUMS] > 0, n
    assert sum(_starts(p)[PIANO] for p in stay) > 0


def test_the_cards_share_sits_some_takes_out_and_leaves_the_others_as_they_were(shipped, tmp_path):
    """At the card's learned share (0.51) some of 10 chart-alone takes lose the piano and some keep it; a take
    that keeps it plays the same piano as with role_absent 0 (a whole-take draw, nothing else moved)."""
    assert 0.3 < shipped.card.role_absent[PIANO] < 0.7
    seeds = range(10)
    learned = [_roll(p)[PIANO] for p in _takes(shipped, tmp_path, "l", seeds, chords=CHART)]
    never = with_card(shipped, lambda: _takes(shipped, tmp_path, "n", seeds, chords=CHART), role_absent=[0.0] * 5)
    never = [_roll(p)[PIANO] for p in never]
    sat_out = [not a.any() and b.any() for a, b in zip(learned, never)]
    assert 1 <= sum(sat_out) <= 9, sat_out
    for a, b, out in zip(learned, never, sat_out):
        assert out or np.array_equal(a, b)


def test_a_sat_out_piano_comes_back_when_its_density_is_turned_up(shipped, tmp_path):
    """The piano that sat a chart-alone take out is silent at density 1 and plays, more with each step, at the
    window's piano density 2 and 3 (its surest notes first), exported and read back."""
    songs = with_card(
        shipped, lambda: [shipped.generate(steps=3, seed=s, chords=CHART) for s in range(3)], role_absent=[1.0] * 5
    )
    came_back = 0
    for k, song in enumerate(songs):
        counts = [
            _starts(write_midi(song.with_density({"piano": d}), tmp_path / f"d{k}_{d}.mid"))[PIANO] for d in (1, 2, 3)
        ]
        if _starts(write_midi(song, tmp_path / f"d{k}.mid"))[GUITAR]:
            assert counts[0] == 0 and counts[0] < counts[1] <= counts[2], counts
            came_back += 1
    assert came_back >= 2


def test_where_the_piano_sat_out_the_guitar_comes_back_to_its_learned_rest(shipped, tmp_path):
    """solo_rest (the guitar's bars at rest where a real piano is absent: 0.10) brings a sat-out take's silent guitar
    chunks back: with a share of 0 the guitar rests in no changeable bar of the takes where it rested before
    (seed 0 of this chart rests bars 9-10), the piano silent either way."""
    chart = "C G Am F C G F C"
    assert 0.0 < shipped.card.solo_rest[GUITAR] < 0.3

    def rests(tag, solo):
        def takes():
            return _takes(shipped, tmp_path, tag, range(4), chords=chart)

        paths = with_card(shipped, takes, role_absent=[1.0] * 5, solo_rest=solo)
        out = []
        for p in paths:
            roll = _roll(p)
            bars = roll[[PIANO, GUITAR]].reshape(2, -1, 16 * 128).any(axis=2)
            assert not bars[0].any()
            out.append(int((~bars[1]).sum()))
        return out

    before, after = rests("s", None), rests("z", [0.0] * 5)
    assert sum(before) > 0, before
    assert sum(after) < sum(before) and all(a <= b for a, b in zip(after, before)), (before, after)


def test_a_lineup_asked_or_a_primer_keeps_the_piano(shipped, tmp_path):
    """The musician who names the lanes (lineup) or plays a primer gets the piano as before: role_absent 1
    changes nothing there."""
    lanes = ("piano", "guitar", "bass", "strings", "drums")
    asked = with_card(
        shipped, lambda: _takes(shipped, tmp_path, "a", range(3), chords=CHART, lineup=lanes), role_absent=[1.0] * 5
    )
    assert sum(_starts(p)[PIANO] for p in asked) > 0
    primer = write_midi(shipped.generate(steps=0, seed=3), tmp_path / "primer.mid")

    def continued():
        return [shipped.generate(steps=3, seed=s, primer=primer, chords=CHART).notes() for s in range(2)]

    a, b = continued(), with_card(shipped, continued, role_absent=[1.0] * 5)
    for x, y in zip(a, b):
        assert np.array_equal(x, y)


def test_strings_hold_their_notes_under_a_chart(shipped, tmp_path):
    """The card's held_restrike / bar_restrike against unset (every gap the model made, every bar line struck):
    fewer string note starts over 4 seeds, and a share of gaps inside held notes nearer the learned one."""
    held = shipped.card.rules.held_restrike
    assert held is not None and 0.0 < held[STRINGS] < 0.3
    seeds = range(4)
    learned = _takes(shipped, tmp_path, "h", seeds, chords=CHART)
    made = with_card(
        shipped, lambda: _takes(shipped, tmp_path, "m", seeds, chords=CHART), held_restrike=None, bar_restrike=None
    )

    def gap_share(paths) -> float:
        total = sum(held_restrikes(_roll(p)) for p in paths)
        return total[STRINGS, 1] / total[STRINGS, 0]

    n_learned, n_made = (sum(_starts(p)[STRINGS] for p in paths) for paths in (learned, made))
    assert n_learned < 0.95 * n_made, (n_learned, n_made)
    assert abs(gap_share(learned) - held[STRINGS]) < abs(gap_share(made) - held[STRINGS])
    assert gap_share(learned) < gap_share(made)


def test_without_chords_the_strings_are_as_the_model_made_them(shipped):
    """Takes without chords (the calibrated path `musicvae evaluate` scores) are the same with or without the
    learned shares."""

    def takes():
        return [shipped.generate(steps=2, seed=s).notes() for s in range(2)]

    a, b = takes(), with_card(shipped, takes, held_restrike=None, bar_restrike=None)
    for x, y in zip(a, b):
        assert np.array_equal(x, y)


def test_the_shares_are_measured_from_rolls():
    """A string note held over two bar lines, struck again at the second and once inside a bar; a piano note
    struck again every other step (a pulse)."""
    roll = np.zeros((5, 64, 128), dtype=bool)
    roll[STRINGS, 0:64, 60] = True
    roll[STRINGS, 31, 60] = False  # struck again at bar line 32
    roll[STRINGS, 9, 60] = False  # and at step 10, inside the bar
    roll[PIANO, 0:16:2, 64] = True  # a pulse of 8ths
    across = bar_restrikes(roll)
    assert tuple(across[STRINGS]) == (3, 1)
    inner = held_restrikes(roll)
    assert inner[STRINGS, 1] == 1 and inner[PIANO, 1] == 7
    h, g = held_gaps(roll[PIANO])
    assert g[2:16:2, 64].all() and not g[:, 60].any()
    found = measure([np.concatenate([np.zeros((5, 64, 128), bool), roll], axis=1)])
    assert found["shares"][STRINGS] == pytest.approx(1 / 3, abs=1e-3)
    assert card_value(found["shares"])[PIANO] == 1.0
