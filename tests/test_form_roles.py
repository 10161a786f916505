"""Issue 29 item 4 in takes with a song form: of piano and guitar, one comps while the other lays out or sits the song
out (engine/form_roles.py, roles.py), and a section that comes back keeps its first time's roles. The shipped pack,
real generation under a chart with verse / chorus / verse / chorus, every take exported to .mid and read back with
mido alone (test_chart_path's reader)."""

from __future__ import annotations

import numpy as np
import pytest
from cards import with_card
from test_chart_path import GUITAR, PIANO, _roll

from musicvae_app.engine import Engine
from musicvae_app.sketch.midi import write_midi

FORM = [("verse", 1, 8), ("chorus", 9, 8), ("verse", 17, 8), ("chorus", 25, 8)]
CHART = "C G Am F C G F C"


@pytest.fixture(scope="module")
def shipped():
    return Engine.load(device="cpu")


def _bars(shipped, tmp_path, tag, seeds=range(6)) -> list[np.ndarray]:
    """Per take, (2, 32) whether piano and guitar play each bar, read back from the exported .mid."""
    out = []
    for s in seeds:
        path = write_midi(shipped.generate(steps=7, seed=s, chords=CHART, sections=FORM), tmp_path / f"{tag}{s}.mid")
        out.append(_roll(path, 32)[[PIANO, GUITAR]].reshape(2, 32, -1).any(axis=2))
    return out


def test_a_form_take_gives_piano_and_guitar_roles(shipped, tmp_path):
    """Over 6 takes of a chart with a form the piano plays far fewer bars than with no roles (the card without
    role_rest: before form_roles it played 82 % of bars of 48 validation charts' form takes, real 29.8 %), some
    takes' piano sits the song out, and the chart keeps a comping lane: the guitar plays in most of the bars, and
    in no take are both silent in more than a quarter of them."""
    plain = with_card(shipped, lambda: _bars(shipped, tmp_path, "n"), role_rest=None)
    roles = _bars(shipped, tmp_path, "r")
    piano = float(np.mean([b[0].mean() for b in roles]))
    assert piano < float(np.mean([b[0].mean() for b in plain])) - 0.2, (piano, [b[0].mean() for b in plain])
    assert piano < 0.6
    assert any(not b[0].any() for b in roles)  # a piano that sits the song out
    assert float(np.mean([b[1].mean() for b in roles])) > 0.7
    assert max(float((~b[0] & ~b[1]).mean()) for b in roles) <= 0.25, [(~b[0] & ~b[1]).mean() for b in roles]


def test_a_section_that_comes_back_keeps_its_first_times_roles(shipped, tmp_path):
    """With the piano laying out over the guitar in half its bars (role_rest 0.5, never sitting the song out), the piano
    lays out 4-bar phrases of the first verse and chorus, and the second verse and chorus lay out the same phrases
    (the repeats play their first time's music: test_sections): every phrase silent the first time is silent the
    second, and the piano plays on elsewhere."""
    takes = with_card(
        shipped, lambda: _bars(shipped, tmp_path, "k"), role_rest=[0.5, 0.0, 0, 0, 0], role_absent=[0.0] * 5
    )
    out_first = kept = 0
    for bars in takes:
        piano = bars[0].reshape(8, 4)  # 4-bar phrases: verse 0-1, chorus 2-3, verse 4-5, chorus 6-7
        assert piano.any()
        for c in range(4):
            if not piano[c].any():
                out_first += 1
                kept += int(not piano[c + 4].any())
    assert out_first >= 3, out_first
    assert kept == out_first, (kept, out_first)


def test_over_a_followed_guitar_a_repeated_section_keeps_the_pianos_lay_outs(shipped, tmp_path):
    """A followed guitar part with the same form: the piano lays out phrases over it (role_rest 0.5, never sitting
    the song out), and a phrase it lays out the first time is laid out when the section comes back; the guitar as
    the musician played it, note for note."""
    source = shipped.generate(steps=7, seed=21, chords=CHART)
    part = source.copy()
    part.probs[[PIANO, 2, 3, 4]] = 0.0  # the musician's guitar alone
    path = write_midi(part, tmp_path / "guitar.mid")

    def takes():
        return [shipped.generate(seed=s, follow=path, sections=FORM) for s in range(6)]

    out_first = kept = 0
    for song in with_card(shipped, takes, role_absent=[0.0] * 5, role_rest=[0.5, 0.0, 0, 0, 0]):
        notes = song.notes()
        assert np.array_equal(notes[GUITAR], part.notes()[GUITAR])
        p = write_midi(song, tmp_path / "take.mid")
        piano = _roll(p, 32)[PIANO].reshape(8, -1).any(axis=1)
        assert piano.any()
        for c in range(1, 4):  # the first chunk is the part's start
            if not piano[c]:
                out_first += 1
                kept += int(not piano[c + 4])
    assert out_first >= 2, out_first
    assert kept == out_first, (kept, out_first)
