"""Engine.harmonize and `musicvae harmonize`: a part's chord charts from the learned harmony model, best first."""

from __future__ import annotations

import subprocess
import sys

import mido
import pytest

from musicvae_app.errors import InvalidValue
from musicvae_app.theory.chords import parse_bars

# A tune that spells its chords: each bar's notes are one chord's tones (C, Am, F, G), on the beat.
TUNE = [(60, 64, 67, 72), (57, 60, 64, 69), (53, 57, 60, 65), (55, 59, 62, 67)]


def write_part(path, bars=TUNE, channel=0, repeat=2):
    mid = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    mid.tracks.append(track)
    track.append(mido.Message("program_change", program=73 if channel != 9 else 0, channel=channel))
    for _ in range(repeat):
        for pitches in bars:
            for pitch in pitches:
                track.append(mido.Message("note_on", note=pitch, velocity=90, channel=channel, time=0))
                track.append(mido.Message("note_off", note=pitch, velocity=0, channel=channel, time=480))
    mid.save(path)
    return path


def test_a_melody_gets_charts_best_first_in_the_chart_syntax(engine, tmp_path):
    part = write_part(tmp_path / "tune.mid")
    charts = engine.harmonize(part, alternatives=3)
    assert 1 <= len(charts) <= 3 and len(set(charts)) == len(charts)
    bars = [parse_bars(chart) for chart in charts]
    assert all(len(b) == 8 for b in bars)  # the part's 8 bars, whatever the pack's grid
    best = bars[0]
    assert best[0][0].root == 0 and best[0][0].quality in ("", "maj7", "6", "add9")  # bar 1 spells C major
    assert best[3][0].root == 7  # bar 4 spells G
    harmony = engine.harmony(part, alternatives=1)
    assert harmony.key in ("C major", "A minor") and harmony.charts == charts[:1]


def test_a_followed_melody_is_played_on_the_models_chords(engine, tmp_path):
    part = write_part(tmp_path / "tune.mid")
    best = parse_bars(engine.harmonize(part, alternatives=1)[0])
    song = engine.generate(follow=str(part), seed=3)
    assert song.settings["chords"] == "part"
    assert song.chords[:8] == [bar[0].symbol if bar[0] else None for bar in best]


def test_drums_only_or_no_notes_is_a_clear_message(engine, tmp_path):
    drums = write_part(tmp_path / "drums.mid", bars=[(36, 38, 42, 38)], channel=9)
    with pytest.raises(InvalidValue, match="only drums"):
        engine.harmonize(drums)
    empty = tmp_path / "empty.mid"
    mid = mido.MidiFile()
    mid.tracks.append(mido.MidiTrack())
    mid.save(empty)
    with pytest.raises(InvalidValue, match="no notes"):
        engine.harmonize(empty)


def test_the_command_prints_the_key_and_numbered_charts(tiny_pack, tmp_path):
    part = write_part(tmp_path / "tune.mid")
    run = [sys.executable, "-m", "musicvae_app.cli", "harmonize", str(part), "--pack", str(tiny_pack)]
    out = subprocess.run([*run, "--alternatives", "2"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("key: ") and lines[1].startswith("1. | ") and lines[2].startswith("2. | ")
    parse_bars(lines[1][3:])
    bad = subprocess.run([*run[:4], str(tmp_path / "missing.mid")], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "missing.mid" in bad.stderr
