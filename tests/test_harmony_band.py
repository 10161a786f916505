"""More melodies for the harmony model (training/harmony_band.py), and the context features (version 2)."""

from __future__ import annotations

import numpy as np

from band_files import write_notes
from musicvae_app.theory.harmony import FEATURE_SHAPES, NO_CHORD, chord_index, features
from musicvae_app.training import harmony_band as hb

PROGRESSION = [(0, 0, (0, 4, 7)), (9, 1, (9, 0, 4)), (5, 0, (5, 9, 0)), (7, 0, (7, 11, 2))]  # C Am F G


def band_song(path, bars: int = 20, lead_program: int = 73):
    """A flute melody (channel 3) over piano chords (0) and a bass (2), with a drum beat (9)."""
    notes = []
    for bar in range(bars):
        root, _, tones = PROGRESSION[bar % 4]
        b = 4 * bar
        notes += [(0, 0, 60 + t if t >= root % 12 else 72 + t, b, b + 4) for t in tones]
        notes += [(2, 33, 36 + root, b, b + 2), (2, 33, 36 + root, b + 2, b + 4)]
        notes += [(3, lead_program, 72 + tones[i % 3], b + i, b + i + 1) for i in range(4)]
        notes += [(9, 0, 36, b + i, b + i + 0.25) for i in range(4)]
    write_notes(path, notes, tempo=100)
    return path


def test_lead_line_labelled_with_the_bands_chords(tmp_path):
    items = hb.song_items(str(band_song(tmp_path / "a.mid")))
    assert len(items) == 1  # the flute; piano and bass are no lead, the drums are left out
    item = items[0]
    assert item["key"] == NO_CHORD  # no annotated key: the key loss leaves it out
    halves = item["halves"]
    assert len(halves) == 40
    expected = [chord_index((root, quality)) for root, quality, _ in PROGRESSION]
    for bar in range(20):
        assert halves[2 * bar] == halves[2 * bar + 1] == expected[bar % 4]
    prof, scal = item["feats"]["melody"]
    assert prof.shape == (40, FEATURE_SHAPES[2][0], 12)
    assert scal.shape == (40, FEATURE_SHAPES[2][1])


def test_no_lead_no_item(tmp_path):
    assert hb.song_items(str(band_song(tmp_path / "b.mid", lead_program=0))) == []  # a piano line is no lead
    assert hb.song_items(str(band_song(tmp_path / "c.mid", bars=8))) == []  # too short to learn from


def test_context_features_see_the_whole_part_and_the_neighbours():
    notes = np.array([(60, 0, 4, 90), (64, 4, 8, 90), (67, 36, 40, 90)], dtype=np.float64)  # C, E, ..., G at bar 10
    prof, scal = features(notes, 20, 4, version=2)
    assert prof.shape == (20, 8, 12) and scal.shape == (20, 11)
    v1_prof, v1_scal = features(notes, 20, 4, version=1)
    assert np.allclose(prof[:, :6], v1_prof) and np.allclose(scal[:, :6], v1_scal)  # version 1 is kept as is
    whole = prof[0, 6]
    assert np.allclose(whole[[0, 4, 7]], [1 / 3, 1 / 3, 1 / 3])  # every half bar sees the whole part
    assert np.allclose(prof[10, 6], whole)
    assert prof[0, 7, 0] > 0 and prof[0, 7, 4] > 0 and prof[0, 7, 7] == 0  # 4 half bars either side
    assert prof[18, 7, 7] == 1.0  # only the G is near the end
    assert scal[0, 6] == 0.0 and scal[19, 6] == 1.0  # place in the part
    assert np.array_equal(scal[:8, 7:].argmax(axis=1), [0, 0, 1, 1, 2, 2, 3, 3])  # which bar of four
