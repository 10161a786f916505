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
    chart = engine.harmonize(part, alternatives=1)[0]
    song = engine.generate(follow=str(part), seed=3)
    assert song.settings["chords"] == "part"
    # each bar held to the best chart's chords, a bar of two (the model may hear `Dm F`) to both
    assert song.chords[:8] == [bar.strip() for bar in chart.strip("|").split("|")]


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


def _bass_beat_one(path) -> dict[int, int]:
    """bar -> the lowest bass pitch (GM program 32-39) sounding on the bar's first step or struck first within its
    first beat, read from the exported file with mido."""
    mid = mido.MidiFile(path)
    bar_ticks = 4 * mid.ticks_per_beat
    beat = mid.ticks_per_beat
    notes, bass_channels = [], set()
    for track in mid.tracks:
        now, open_notes = 0, {}
        for msg in track:
            now += msg.time
            if msg.type == "program_change" and 32 <= msg.program <= 39:
                bass_channels.add(msg.channel)
            elif msg.type == "note_on" and msg.velocity > 0:
                open_notes[(msg.channel, msg.note)] = now
            elif msg.type in ("note_off", "note_on") and (msg.channel, msg.note) in open_notes:
                notes.append((msg.channel, msg.note, open_notes.pop((msg.channel, msg.note)), now))
    out = {}
    for bar in range(max((e for _, _, _, e in notes), default=0) // bar_ticks + 1):
        lo = bar * bar_ticks
        bass = [(s, p) for c, p, s, e in notes if c in bass_channels and s < lo + beat and e > lo]
        if bass:
            first = min(max(s, lo) for s, _ in bass)
            out[bar] = min(p for s, p in bass if max(s, lo) == first)
    return out


def test_under_a_followed_melody_the_bass_plays_each_chords_root_on_beat_one(tmp_path):
    from musicvae_app.engine import Engine
    from musicvae_app.sketch.midi import write_midi
    from musicvae_app.theory.chords import parse_bar

    shipped = Engine.load(device="cpu")
    part = write_part(tmp_path / "tune.mid", repeat=4)  # 16 bars: C Am F G four times
    song = shipped.generate(follow=str(part), seed=5)
    beat_one = _bass_beat_one(write_midi(song, tmp_path / "take.mid"))
    chords = [None if c is None else parse_bar(c)[0] for c in song.chords]  # each bar's first chord
    checked = [bar for bar in beat_one if bar < len(chords) and chords[bar] is not None]
    assert len(checked) >= 8  # the band's bass plays in most bars
    for bar in checked:
        assert beat_one[bar] % 12 == chords[bar].lowest, (bar, beat_one[bar], song.chords[bar])


def test_bass_on_beat_one_moves_only_a_free_bass_off_the_root_in_the_first_beat():
    import numpy as np

    from musicvae_app.engine.post import BASS, bass_on_beat_one
    from musicvae_app.sketch.song import Song
    from musicvae_app.theory.chords import parse_chord, per_beat

    probs = np.zeros((5, 4 * 16, 128), dtype=np.float32)  # one 4-bar chunk at 16ths
    for bar in range(4):
        probs[BASS, bar * 16 : bar * 16 + 8, 40] = 0.9  # E2 for two beats
        probs[BASS, bar * 16 + 8 : bar * 16 + 16, 43] = 0.9  # then G2
    song = Song(probs.copy(), 4, 64, threshold=0.5)
    chords = [parse_chord("C"), parse_chord("C/E"), parse_chord("Am"), None]  # bar 4: no chord
    free = np.ones((4, 5), dtype=bool)
    free[2, BASS] = False  # bar 3's bass is the musician's
    assert bass_on_beat_one(song, per_beat(chords), free)  # the engine's chords: a chord a beat
    bass = song.notes()[BASS]
    assert bass[0:4, 36].all() and not bass[0:4, 40].any()  # C under C: E2 -> C2 (nearest), beat 1 only
    assert bass[4:8, 40].all() and bass[8:16, 43].all()  # the rest of the bar as it was
    assert bass[16:24, 40].all()  # C/E already has its bass note
    assert np.array_equal(song.probs[:, 32:], probs[:, 32:])  # not free, or no chord: untouched
