"""Song as plain data: the lane vocabulary, the chord chart it carries, and the floors its imports keep."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from musicvae_app import lanes
from musicvae_app.sketch.song import BEATS_PER_BAR, DEFAULT_PROGRAMS, DRUMS, LANES, PITCHES, Song


def four_bar_song(**kwargs) -> Song:
    probs = np.zeros((5, 64, 128), dtype=np.float32)
    probs[0, :, 60] = 0.9
    return Song(probs, steps_per_beat=4, chunk_steps=16, threshold=0.5, **kwargs)


def run_fresh(script: str) -> str:
    """Run `script` in a fresh interpreter from the repository root; its stdout."""
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)], cwd=root, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_song_keys_and_chords_load_without_midi():
    out = run_fresh(
        """
        import sys
        import musicvae_app.sketch.song, musicvae_app.theory.keys, musicvae_app.theory.chords
        print(sorted(m for m in ("musicvae_app.sketch.midi", "mido", "torch") if m in sys.modules))
        """
    )
    assert out.strip() == "[]"


def test_keys_stands_on_the_lanes_alone():
    out = run_fresh(
        """
        import sys
        import musicvae_app.theory.keys
        print(sorted(m for m in ("musicvae_app.sketch.song", "musicvae_app.sketch.midi") if m in sys.modules))
        """
    )
    assert out.strip() == "[]"


def test_song_still_names_the_lane_vocabulary():
    assert (LANES, DRUMS, PITCHES, BEATS_PER_BAR, DEFAULT_PROGRAMS) == (
        lanes.LANES,
        lanes.DRUMS,
        lanes.PITCHES,
        lanes.BEATS_PER_BAR,
        lanes.DEFAULT_PROGRAMS,
    )
    assert LANES[DRUMS] == "drums"


def test_a_song_knows_no_chords_until_told():
    song = four_bar_song()
    assert song.chords == [] and [song.chord_at(bar) for bar in range(4)] == [None] * 4


def test_chord_of_each_bar_and_bars_past_the_chart_have_none():
    song = four_bar_song(chords=["Am", None, "F"])
    assert [song.chord_at(bar) for bar in range(song.n_bars)] == ["Am", None, "F", None]
    with pytest.raises(IndexError, match="bar 4 is outside the song"):
        song.chord_at(4)


def test_copies_keep_the_chords_and_do_not_share_them():
    song = four_bar_song(chords=["Am", "F", "C", "G"])
    for other in (song.copy(), song.with_threshold(0.4), song.with_density("bass=1.3"), song.with_feel(swing=60)):
        assert other.chords == ["Am", "F", "C", "G"]
        other.chords[0] = "E"
    assert song.chords[0] == "Am"


def test_with_chords_is_a_new_take_with_the_same_notes():
    song = four_bar_song()
    charted = song.with_chords(("C", "G"))
    assert charted.chords == ["C", "G"] and song.chords == []
    assert charted.equal_notes(song)


@pytest.mark.parametrize(
    "chords, message",
    [
        ("Am F C G", "chords must be a list"),
        (["Am", "F", "C", "G", "Am"], "chords name 5 bars but the song has 4"),
        (["Am", 7], "chords: bar 2 holds 7"),
        (["", "F"], "chords: bar 1 holds ''"),
        (["C" * 132], "chords: bar 1 holds"),  # a bar holds at most four symbols (MAX_BAR_CHARS)
        (["  "], "chords: bar 1 holds"),
    ],
)
def test_a_malformed_chord_chart_is_refused_by_name(chords, message):
    with pytest.raises(ValueError, match=message):
        four_bar_song(chords=chords)
    with pytest.raises(ValueError, match=message):
        four_bar_song().with_chords(chords)
