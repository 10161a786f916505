"""Issue 29 items 4 and 1 (second pass): guitar density near real and roles over a followed part, from learned
figures. Held notes are struck again on drum hits at the card's learned share (`beat_restrike`), notes steered to
chords are brought back to the calibrated density (`chord_bias`), and over a followed guitar the piano sits out or
lays out at the learned shares (`role_absent`, `role_rest`). The shipped pack, real generation, the part read from
a real .mid file."""

from __future__ import annotations

import numpy as np
import pytest
from cards import with_card

from musicvae_app.engine import Engine
from musicvae_app.evaluation import groove_metrics as gm
from musicvae_app.evaluation.learn_arrangement import measure
from musicvae_app.sketch.midi import write_midi
from musicvae_app.sketch.song import LANES

PIANO, GUITAR, BASS, DRUMS = (LANES.index(n) for n in ("piano", "guitar", "bass", "drums"))
CHART = "C Am F G Em Am Dm G"


@pytest.fixture(scope="module")
def shipped():
    return Engine.load(device="cpu")


def _restruck(songs) -> np.ndarray:
    """Per lane, of the notes held into a drum hit, the share struck again there (groove_metrics.beat_restrikes)."""
    total = sum(gm.beat_restrikes(s.notes(), 4 * s.steps_per_beat) for s in songs)
    return total[:, 1] / np.maximum(total[:, 0], 1)


def _starts(songs, lane: int) -> int:
    return sum(int(np.diff(s.notes()[lane].astype(np.int8), axis=0).clip(0).sum()) for s in songs)


def test_the_card_learned_its_shares_and_offsets(shipped):
    g = shipped.card
    assert g.rules.beat_restrike is not None and all(0.0 < r < 0.6 for r in g.rules.beat_restrike[:3])
    assert g.chord_bias is not None and g.chord_bias[GUITAR] < 0
    assert g.role_absent is not None and 0.0 < g.role_absent[PIANO] < 1.0


def test_held_notes_are_struck_again_on_a_share_of_the_drum_hits(shipped):
    """beat_restrike: with every hit (unset) a guitar chord held into a kick or snare is struck again almost
    always; at the card's share far less often, so the guitar plays fewer note starts under the chart."""

    def takes():
        return [shipped.generate(steps=3, seed=s, chords=CHART) for s in range(4)]

    every = with_card(shipped, takes, beat_restrike=None)
    learned = takes()
    never = with_card(shipped, takes, beat_restrike=[0.0] * 5)
    r_every, r_learned, r_never = _restruck(every), _restruck(learned), _restruck(never)
    assert r_every[GUITAR] > 0.8 and r_every[PIANO] > 0.8, r_every
    assert r_never[GUITAR] < 0.3 and r_never[PIANO] < 0.3, r_never
    assert r_never[GUITAR] < r_learned[GUITAR] < r_every[GUITAR], (r_never, r_learned, r_every)
    assert _starts(learned, GUITAR) < _starts(every, GUITAR)


def test_without_chords_every_hit_still_strikes(shipped):
    """A take without chords keeps the restrikes its decoding was calibrated with: the same notes with the card's
    beat_restrike or without it."""

    def takes():
        return [shipped.generate(steps=2, seed=s) for s in range(2)]

    plain, every = takes(), with_card(shipped, takes, beat_restrike=None)
    for a, b in zip(plain, every):
        assert np.array_equal(a.notes(), b.notes())


def test_steered_notes_thin_with_chord_bias_but_a_chart_alone_keeps_its_start_offsets(shipped, tmp_path):
    """chord_bias thins a primer's continuation asked to play chords (guitar, strings cells); a sketch with no
    primer (a chart alone, start offsets in force) is the same note for note with or without it."""
    primer = shipped.generate(steps=0, seed=3)
    write_midi(primer, tmp_path / "primer.mid")

    def continued():
        return [shipped.generate(steps=3, seed=s, primer=tmp_path / "primer.mid", chords=CHART) for s in range(3)]

    def chart_alone():
        return [shipped.generate(steps=3, seed=s, chords=CHART) for s in range(2)]

    with_bias, without = continued(), with_card(shipped, continued, chord_bias=None)
    cells = lambda songs, lane: sum(int(s.notes()[lane].sum()) for s in songs)  # noqa: E731
    assert cells(with_bias, GUITAR) < cells(without, GUITAR)
    a, b = chart_alone(), with_card(shipped, chart_alone, chord_bias=None)
    for x, y in zip(a, b):
        assert np.array_equal(x.notes(), y.notes())


def _guitar_part(shipped, tmp_path):
    source = shipped.generate(steps=5, seed=21, chords=CHART)
    part = source.copy()
    part.probs[[PIANO, BASS, 3, DRUMS]] = 0.0  # the musician's guitar alone
    path = write_midi(part, tmp_path / "guitar.mid")
    return path, part.notes()[GUITAR]


def test_over_a_followed_guitar_the_piano_sits_out_at_role_absent(shipped, tmp_path):
    """role_absent 1: the piano sits every generated bar out (the first chunk is the part's start); the guitar as
    the musician played it, note for note."""
    path, guitar = _guitar_part(shipped, tmp_path)

    def takes():
        return [shipped.generate(seed=s, follow=path) for s in range(3)]

    out = with_card(shipped, takes, role_absent=[1.0, 0.0, 0.0, 0.0, 0.0])
    for song in out:
        notes = song.notes()
        assert np.array_equal(notes[GUITAR], guitar)
        chunk = song.steps_per_beat * 16
        assert not notes[PIANO, chunk:].any()
        assert notes[BASS, chunk:].any()  # the rest of the band plays on


def test_over_a_followed_guitar_the_piano_lays_out_at_role_rest(shipped, tmp_path):
    """role_absent 0, role_rest 0.5: the piano is silent in about half of the guitar's bars after the first chunk;
    with role_rest 0 it plays over the guitar more (the part kept either way)."""
    path, guitar = _guitar_part(shipped, tmp_path)

    def takes():
        return [shipped.generate(seed=s, follow=path) for s in range(6)]

    def silent_share(songs) -> float:
        silent = total = 0
        for song in songs:
            n = song.notes()
            bar = 4 * song.steps_per_beat
            bars = n[[PIANO, GUITAR], 4 * bar :].reshape(2, -1, bar * 128).any(axis=2)
            total += int(bars[1].sum())
            silent += int((bars[1] & ~bars[0]).sum())
            assert np.array_equal(n[GUITAR], guitar)
        return silent / max(total, 1)

    half = silent_share(with_card(shipped, takes, role_absent=[0.0] * 5, role_rest=[0.5, 0.0, 0.0, 0.0, 0.0]))
    none = silent_share(with_card(shipped, takes, role_absent=[0.0] * 5, role_rest=[0.0] * 5))
    assert 0.3 <= half <= 0.75 and half > none + 0.05, (half, none)


def test_restrikes_and_absences_are_measured_from_rolls():
    """learn_arrangement.measure: a guitar chord held through two of four snare hits (struck again on the others),
    a piano absent from one of two windows where the guitar plays."""
    bar = 16
    roll = np.zeros((5, 8 * 4 * bar, 128), dtype=bool)
    roll[GUITAR, :, [52, 55, 59]] = True
    for b in range(32):
        for k, beat in enumerate((4, 12)):  # snares on 2 and 4
            t = b * bar + beat
            roll[DRUMS, t, 38] = True
            if k == 1:
                roll[GUITAR, t - 1, [52, 55, 59]] = False  # a gap before beat 4: struck again
    empty = roll.copy()
    roll[PIANO, :, 60] = True
    found = measure([roll, empty])
    assert found["beat_restrike"][GUITAR] == pytest.approx(0.5, abs=1e-3)
    assert found["role_absent"][0] == pytest.approx(0.5, abs=1e-3)
    assert found["role_absent"][1] == 0.0
