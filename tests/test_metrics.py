"""Band metrics on tiny hand-made rolls whose answers are worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from musicvae_app.evaluation import metrics
from musicvae_app.sketch.song import LANES

SPB = 2  # 2 steps per beat: a 4/4 bar is 8 steps
BAR = 8


def lane(steps: int, *notes: tuple[int, int, int]) -> np.ndarray:
    """A lane roll with notes (pitch, start, end) holding cells start..end-1."""
    roll = np.zeros((steps, 128), dtype=bool)
    for pitch, start, end in notes:
        roll[start:end, pitch] = True
    return roll


def band(steps: int, **lanes: list[tuple[int, int, int]]) -> np.ndarray:
    rolls = np.zeros((len(LANES), steps, 128), dtype=bool)
    for name, notes in lanes.items():
        rolls[LANES.index(name)] = lane(steps, *notes)
    return rolls


def test_empty_bars_counts_whole_bars_and_pools_pieces():
    roll = lane(4 * BAR + 3, (60, 0, 1), (60, 2 * BAR + 5, 2 * BAR + 6), (60, 4 * BAR, 4 * BAR + 3))
    assert metrics.empty_bars(roll, SPB) == 50.0  # bars 0 and 2 of 4; the partial 5th bar is dropped
    pieces = np.stack([lane(2 * BAR, (60, 0, 2)), lane(2 * BAR)])
    assert metrics.empty_bars(pieces, SPB) == 75.0
    assert metrics.empty_bars(lane(BAR), SPB) == 100.0
    assert math.isnan(metrics.empty_bars(lane(BAR - 1, (60, 0, 2)), SPB))  # no whole bar to measure


def test_pitch_classes_per_non_empty_bar():
    roll = lane(
        3 * BAR,
        (60, 0, 2),  # bar 0: C4, C5, E4 -> 2 classes
        (72, 2, 3),
        (64, 4, 8),
        (60, 2 * BAR, 2 * BAR + 1),  # bar 1 is empty; bar 2: C D E F -> 4 classes
        (62, 2 * BAR + 1, 2 * BAR + 2),
        (64, 2 * BAR + 2, 2 * BAR + 3),
        (65, 2 * BAR + 7, 2 * BAR + 8),
    )
    assert metrics.pitch_classes_per_bar(roll, SPB) == 3.0
    assert metrics.pitch_classes_per_bar(lane(BAR, (7, 0, 1), (127, 3, 4)), SPB) == 1.0  # G0 and G9: one class
    assert math.isnan(metrics.pitch_classes_per_bar(lane(BAR), SPB))


def test_qualified_notes_are_runs_of_at_least_two_steps():
    # a 1-step note, a 3-step note, and a re-strike kept apart by the roll's one-step gap: two 2-step notes
    roll = lane(BAR, (60, 0, 1), (62, 2, 5), (64, 0, 2), (64, 3, 5))
    assert sorted(metrics.note_lengths(roll)) == [1, 2, 2, 3]
    assert metrics.qualified_notes(roll) == 75.0
    assert metrics.qualified_notes(roll, min_steps=3) == 25.0
    pieces = np.stack([lane(4, (60, 3, 4)), lane(4, (60, 0, 1))])  # never joined across pieces
    assert metrics.qualified_notes(pieces) == 0.0
    assert math.isnan(metrics.qualified_notes(lane(BAR)))


def test_note_lengths_pair_interleaved_runs_of_many_pitches():
    roll = lane(10, (40, 0, 6), (41, 1, 2), (41, 3, 10), (42, 9, 10), (43, 0, 10))
    assert sorted(metrics.note_lengths(roll)) == [1, 1, 6, 7, 10]


def test_drum_pattern_counts_onsets_on_the_eighth_note_grid():
    # 4 steps per beat: 8th notes fall on even steps; a held drum note has one onset
    roll = lane(16, (36, 0, 1), (38, 2, 5), (42, 1, 2), (42, 7, 8), (46, 4, 5))
    assert metrics.drum_pattern(roll, 4) == 60.0  # onsets 0, 2, 4 on the grid; 1 and 7 off it
    assert metrics.drum_pattern(roll, 2) == 100.0  # every step of an 8th-note grid is on it
    assert math.isnan(metrics.drum_pattern(lane(16), 4))


def test_polyphony_is_mean_pitches_per_active_step():
    roll = lane(BAR, (60, 0, 1), (64, 0, 2), (67, 0, 1))  # step 0: 3 pitches, step 1: 1, steps 2-7: none
    assert metrics.polyphony(roll) == 2.0
    assert math.isnan(metrics.polyphony(lane(BAR)))


def test_tonal_distance_known_intervals():
    c, f_sharp = lane(BAR, (60, 0, 8)), lane(BAR, (66, 0, 8))
    assert metrics.tonal_distance(c, f_sharp, SPB) == pytest.approx(2 * math.sqrt(2))  # tritone: opposite
    c_major, c_major_low = lane(BAR, (60, 0, 8), (64, 0, 8), (67, 0, 8)), lane(BAR, (36, 0, 8), (40, 0, 8), (43, 0, 8))
    assert metrics.tonal_distance(c_major, c_major_low, SPB) == pytest.approx(0.0)  # octaves do not matter
    # Harte's centroid of C is (0, 1, 0, 1, 0, 0.5), of E (sqrt3/2, -1/2, 0, 1, sqrt3/4, -1/4)
    assert metrics.tonal_distance(c, lane(BAR, (64, 0, 8)), SPB) == pytest.approx(math.sqrt(3.75))


def test_tonal_distance_only_on_bars_where_both_lanes_sound():
    piano = lane(3 * BAR, (60, 0, 8), (60, BAR, 2 * BAR), (66, 2 * BAR, 3 * BAR))
    bass = lane(3 * BAR, (48, 0, 8), (54, 2 * BAR, 2 * BAR + 4), (48, 2 * BAR + 4, 3 * BAR))
    # bar 0: C vs C -> 0; bar 1: bass silent, skipped; bar 2: F# vs half F#, half C -> chroma-weighted centroid
    half = (metrics.TONNETZ[:, 6] + metrics.TONNETZ[:, 0]) / 2
    expected = (0.0 + np.linalg.norm(metrics.TONNETZ[:, 6] - half)) / 2
    assert metrics.tonal_distance(piano, bass, SPB) == pytest.approx(expected)
    assert expected == pytest.approx(math.sqrt(2) / 2)
    assert math.isnan(metrics.tonal_distance(piano, lane(3 * BAR), SPB))


def test_lane_dropout_needs_more_than_two_silent_chunks_in_a_row():
    cs = 8  # six chunks: the primer and five after it
    rolls = band(
        6 * cs,
        piano=[(60, 0, 2), (60, 4 * cs, 4 * cs + 1)],  # silent in chunks 1-3: dropped
        guitar=[(52, 0, 2), (52, 3 * cs, 3 * cs + 1), (52, 4 * cs, 6 * cs)],  # silent in chunks 1-2 only
        bass=[(40, 2 * cs, 2 * cs + 1)],  # not in the primer: not counted
        strings=[(72, 0, 3 * cs)],  # silent in chunks 3-5, at the end: dropped
        drums=[(36, c * cs, c * cs + 1) for c in range(6)],
    )
    out = metrics.lane_dropout(rolls, cs)
    assert out["piano"] == 100.0 and out["guitar"] == 0.0 and out["strings"] == 100.0 and out["drums"] == 0.0
    assert math.isnan(out["bass"])
    assert out["all"] == 50.0
    pooled = metrics.lane_dropout(np.stack([rolls, band(6 * cs, piano=[(60, 0, 6 * cs)])]), cs)
    assert pooled["piano"] == 50.0 and pooled["all"] == 40.0
    with pytest.raises(ValueError, match="primer chunk"):
        metrics.lane_dropout(rolls[:, :cs], cs)


def test_primer_similarity_is_mean_jaccard_of_notes_per_chunk():
    cs = 8
    rolls = band(
        4 * cs,
        piano=[
            (60, 0, 2),
            (64, 4, 6),  # primer: {(0, C), (4, E)}
            (60, cs, cs + 2),
            (64, cs + 4, cs + 8),  # chunk 1: the same notes, longer -> 1
            (60, 2 * cs, 2 * cs + 1),
            (67, 2 * cs + 4, 2 * cs + 5),  # chunk 2: {(0, C), (4, G)} -> 1/3
        ],  # chunk 3: no piano -> 0
    )
    out = metrics.primer_similarity(rolls, cs)
    assert out["piano"] == pytest.approx(4 / 9)
    assert out["all"] == pytest.approx(4 / 9)
    assert all(math.isnan(out[name]) for name in ("guitar", "bass", "strings", "drums"))
    held = band(2 * cs, bass=[(40, 0, 2 * cs)])  # one note held through: a fresh onset at the chunk's start
    assert metrics.primer_similarity(held, cs)["bass"] == 1.0
    copy = np.concatenate([rolls[:, :cs]] * 3, axis=1)
    assert metrics.primer_similarity(copy, cs)["all"] == 1.0


def test_band_metrics_apply_each_metric_to_its_lanes():
    rolls = band(2 * BAR, piano=[(60, 0, 2)], bass=[(36, 0, 8)], drums=[(36, 0, 1), (38, 4, 5)])
    out = metrics.band_metrics(rolls, SPB)
    assert set(out["lanes"]) == set(LANES)
    assert set(out["lanes"]["drums"]) == {"EB", "DP", "notes_per_bar", "polyphony"}
    assert set(out["lanes"]["piano"]) == {"EB", "UPC", "QN", "notes_per_bar", "polyphony"}
    assert out["lanes"]["drums"]["notes_per_bar"] == 2.0  # two hits in the one bar that has any
    assert out["lanes"]["piano"]["notes_per_bar"] == 1.0
    assert out["lanes"]["bass"]["EB"] == 50.0 and out["lanes"]["drums"]["DP"] == 100.0
    assert sorted(out["TD"]) == sorted(
        ["piano-guitar", "piano-bass", "piano-strings", "guitar-bass", "guitar-strings", "bass-strings"]
    )
    assert out["TD"]["piano-bass"] == pytest.approx(0.0)
    assert math.isnan(out["TD"]["piano-guitar"])
    stacked = metrics.band_metrics(np.stack([rolls, rolls]), SPB)
    assert stacked["lanes"]["bass"]["EB"] == 50.0


def test_shapes_are_checked():
    with pytest.raises(ValueError, match="lane roll"):
        metrics.empty_bars(np.zeros((8, 64), dtype=bool), SPB)
    with pytest.raises(ValueError, match="band rolls"):
        metrics.band_metrics(np.zeros((4, 16, 128), dtype=bool), SPB)
