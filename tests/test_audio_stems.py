"""The mixer in audio: volume and pan (CC7/CC10) honoured by a real FluidSynth render, and audio stems, one WAV
per lane, from a sketch and from `musicvae render X.mid --out X.wav --stems`. The WAVs are read back with the
standard library's wave module and measured (energy per channel)."""

from __future__ import annotations

import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from musicvae_app.playback.stems import render_stems
from musicvae_app.playback.synth import find_soundfont, render_wav, unavailable_reason
from musicvae_app.sketch.midi import write_midi
from musicvae_app.sketch.song import LANES, Song

REASON = unavailable_reason()
pytestmark = pytest.mark.skipif(REASON is not None or find_soundfont() is None, reason=f"no FluidSynth: {REASON}")
PIANO, BASS, DRUMS = LANES.index("piano"), LANES.index("bass"), LANES.index("drums")
AUDIBLE = 100.0  # RMS of 16-bit samples


def band(**mix) -> Song:
    """Two bars at 120 BPM: a piano chord, a bass line and a kick, each lane on its own."""
    probs = np.zeros((5, 32, 128), np.float32)
    probs[PIANO, 0:16, [60, 64, 67]] = 1.0
    probs[BASS, 0:8, 40] = 1.0
    probs[BASS, 8:16, 43] = 1.0
    probs[DRUMS, ::4, 36] = 1.0
    return Song(probs=probs, steps_per_beat=4, chunk_steps=32, **mix)


def channels(path: Path) -> tuple[float, float]:
    """RMS of the left and right channels of a 16-bit stereo WAV."""
    with wave.open(str(path), "rb") as w:
        assert w.getnchannels() == 2 and w.getsampwidth() == 2
        data = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float64).reshape(-1, 2)
    return float(np.sqrt((data[:, 0] ** 2).mean())), float(np.sqrt((data[:, 1] ** 2).mean()))


def test_pan_and_volume_are_heard_in_the_render(tmp_path):
    only_bass = [i == BASS for i in range(len(LANES))]
    centre = channels(render_wav(band(), tmp_path / "centre.wav", solos=only_bass))
    left = channels(render_wav(band(pans=[64, 64, 0, 64, 64]), tmp_path / "left.wav", solos=only_bass))
    quiet = channels(render_wav(band(volumes=[100, 100, 40, 100, 100]), tmp_path / "quiet.wav", solos=only_bass))
    assert min(centre) > AUDIBLE and abs(centre[0] - centre[1]) < 0.2 * max(centre)  # in the middle
    assert left[0] > AUDIBLE and left[1] < 0.1 * left[0]  # hard left: (almost) nothing on the right
    assert sum(quiet) < 0.5 * sum(centre)  # CC7 40 against 100: quieter (FluidSynth's curve is steep)


def test_one_wav_per_lane_each_with_its_own_lane(tmp_path):
    song = band(pans=[127, 64, 0, 64, 64])
    paths = render_stems(song, tmp_path / "song.wav")
    assert [p.name for p in paths] == ["song-piano.wav", "song-bass.wav", "song-drums.wav"]  # lanes that play
    piano, bass, drums = (channels(p) for p in paths)
    # panned right (the GM piano is a stereo sample: panning moves its balance, it cannot empty the left side)
    assert piano[1] > AUDIBLE and piano[0] < 0.7 * piano[1]
    assert bass[0] > AUDIBLE and bass[1] < 0.1 * bass[0]  # panned left
    assert min(drums) > AUDIBLE
    mix = channels(render_wav(song, tmp_path / "mix.wav"))
    # the stems add up to the mix (powers of independent parts add): within a few percent
    for side in (0, 1):
        total = np.sqrt(sum(s[side] ** 2 for s in (piano, bass, drums)))
        assert abs(total - mix[side]) < 0.25 * mix[side]


def test_the_render_command_writes_stems_from_the_exported_midi(tmp_path):
    midi = write_midi(band(pans=[64, 64, 0, 64, 64], volumes=[100, 100, 110, 100, 100]), tmp_path / "x.mid")
    out = tmp_path / "x.wav"
    result = subprocess.run(
        [sys.executable, "-m", "musicvae_app.cli", "render", str(midi), "--out", str(out), "--stems"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in tmp_path.glob("x*.wav"))
    assert names == ["x-bass.wav", "x-drums.wav", "x-piano.wav", "x.wav"]
    bass = channels(tmp_path / "x-bass.wav")
    assert bass[0] > AUDIBLE and bass[1] < 0.1 * bass[0]  # the file's CC10 0 honoured
    assert min(channels(tmp_path / "x-piano.wav")) > AUDIBLE
    assert "x-bass.wav" in result.stdout
