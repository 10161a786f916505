"""The lanes view: each lane zoomed to what it plays, GM drum names, chunk lines, a playhead, fast redraws."""

from __future__ import annotations

import time

import numpy as np
import pytest

from musicvae_app.sketch.song import DRUMS, LANES, Song
from musicvae_app.ui.controls import LaneHeader
from musicvae_app.ui.lanes_view import LanesView, lane_image, lane_rows


def song_with(notes: dict[int, list[tuple[int, int, int]]], chunks: int = 2, threshold: float = 0.5) -> Song:
    """A song with given (pitch, start, end) notes per lane at probability 0.9 (steps_per_beat 4, 64-step chunks)."""
    probs = np.zeros((5, 64 * chunks, 128), dtype=np.float32)
    for lane, items in notes.items():
        for pitch, start, end in items:
            probs[lane, start:end, pitch] = 0.9
    return Song(probs=probs, steps_per_beat=4, chunk_steps=64, threshold=threshold)


@pytest.fixture
def view(qtbot):
    v = LanesView([LaneHeader(i) for i in range(len(LANES))])
    qtbot.addWidget(v)
    v.resize(1200, 700)
    v.show()
    return v


def test_melodic_lane_zooms_to_the_range_it_plays(view):
    view.set_song(song_with({0: [(60, 0, 8), (72, 8, 16)], 2: [(40, 0, 4)]}))
    piano = view.lanes[0]
    assert piano.rows[0] <= 60 and piano.rows[-1] >= 72 and len(piano.rows) <= 16
    assert len(view.lanes[2].rows) >= 13  # a one-note lane still shows an octave
    assert piano.row_axis.tickStrings([float(list(piano.rows).index(60))], 1, 1) == ["C4"]


def test_drum_lane_shows_gm_names_of_the_drums_used(view):
    view.set_song(song_with({DRUMS: [(36, 0, 1), (38, 4, 5), (42, 2, 3), (20, 6, 7)]}))
    drums = view.lanes[DRUMS]
    assert list(drums.rows) == [36, 38, 42]  # the off-map note 20 is not part of the GM kit
    assert drums.row_axis.tickStrings([0.4, 1.4, 2.4], 1, 1) == ["Kick", "Snare", "Closed HH"]


def test_notes_are_drawn_with_probability_as_shade(view):
    song = song_with({1: [(50, 0, 4)]})
    song.probs[1, 8:12, 50] = 0.6
    view.set_song(song)
    image = view.lanes[1].image.image
    row = list(view.lanes[1].rows).index(50)
    assert image[0, row] > image[8, row] > 0 and image[5, row] == 0


def test_chunk_boundaries_and_shared_time_axis(view):
    view.set_song(song_with({0: [(60, 0, 4)]}, chunks=4))
    x, _ = view.lanes[0].chunks.getData()
    assert sorted(set(x)) == [16.0, 32.0, 48.0]  # beats where chunks 2, 3 and 4 start
    view.lanes[0].setXRange(4, 12, padding=0)
    assert view.lanes[3].vb.viewRange()[0] == pytest.approx([4, 12], abs=0.01)


def test_threshold_moves_do_not_shrink_the_rows(view):
    song = song_with({0: [(60, 0, 8)]})
    song.probs[0, 8:12, 90] = 0.4
    view.set_song(song, threshold=0.3)
    rows = view.lanes[0].rows.copy()
    view.set_song(song, threshold=0.8)
    assert np.array_equal(view.lanes[0].rows, rows)


def test_playhead(view):
    view.set_song(song_with({0: [(60, 0, 8)]}))
    view.set_playhead(6.5)
    assert all(lane.playhead.isVisible() and lane.playhead.value() == 6.5 for lane in view.lanes)
    view.set_playhead(None)
    assert not any(lane.playhead.isVisible() for lane in view.lanes)


def test_three_minute_song_redraws_fast(view):
    rng = np.random.default_rng(0)
    steps = 64 * 23  # 92 bars: 3 minutes at 120 BPM
    song = Song(probs=rng.random((5, steps, 128), dtype=np.float32) ** 12, steps_per_beat=4, chunk_steps=64)
    view.set_song(song)
    times = []
    for t in (0.3, 0.35, 0.4, 0.45, 0.5):
        start = time.perf_counter()
        view.set_song(song, threshold=t)
        times.append(time.perf_counter() - start)
    assert np.median(times) < 0.05  # benchmarks/bench_startup.py measures the real number (goal: 16 ms)


def test_lane_image_marks_note_starts():
    probs = np.zeros((8, 128), dtype=np.float32)
    probs[0:3, 60] = probs[3:5, 60] = 0.9
    probs[3, 60] = 0.1  # a gap: two notes
    image, onset = lane_image(probs, np.arange(58, 63), 0.5)
    assert list(np.flatnonzero(onset[:, 2])) == [0, 4]
    assert (image[:, 2] > 0).sum() == 4
    assert len(lane_rows(probs, 0.5, drums=False)) >= 13
