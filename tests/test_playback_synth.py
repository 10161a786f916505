"""The built-in synth: FluidSynth renders a sketch to a WAV that is audible lane by lane, mutes honoured."""

from __future__ import annotations

import wave

import numpy as np
import pytest

from musicvae_app.midi import write_midi
from musicvae_app.playback.synth import (
    SynthUnavailable,
    find_soundfont,
    render_midi_file,
    render_wav,
    unavailable_reason,
)
from musicvae_app.song import LANES, Song

REASON = unavailable_reason()
needs_synth = pytest.mark.skipif(REASON is not None, reason=f"built-in synth unavailable: {REASON}")
AUDIBLE = 100.0  # RMS of 16-bit samples; FluidSynth's noise floor after silence is 0


def sketch(steps: int = 16) -> Song:
    """Four beats at 120 BPM: every lane plays something in its own register."""
    probs = np.zeros((5, steps, 128), np.float32)
    probs[0, 0:4, 72] = probs[0, 4:8, 76] = 1.0  # piano
    probs[1, 0:8, 64] = 0.9  # guitar
    probs[2, 0:4, 40] = probs[2, 8:12, 43] = 1.0  # bass
    probs[3, 0:16, 67] = 0.8  # strings
    probs[4, ::2, 42] = probs[4, ::4, 36] = 1.0  # hats and kick
    return Song(probs=probs, steps_per_beat=2, chunk_steps=steps)


def samples(path) -> np.ndarray:
    with wave.open(str(path)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (2, 2, 44100)
        return np.frombuffer(wav.readframes(wav.getnframes()), np.int16).astype(np.float64)


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x**2))) if len(x) else 0.0


@needs_synth
def test_a_rendered_sketch_is_a_real_wav_that_is_not_silent(tmp_path):
    song = sketch()
    audio = samples(render_wav(song, tmp_path / "sketch.wav"))
    assert len(audio) / 2 / 44100 == pytest.approx(song.seconds + 2.0, abs=0.01)  # plus the release tail
    assert rms(audio) > AUDIBLE


@needs_synth
@pytest.mark.parametrize("lane", LANES)
def test_each_lane_alone_is_audible(tmp_path, lane):
    assert rms(samples(render_wav(sketch(), tmp_path / f"{lane}.wav", solos=[lane]))) > AUDIBLE


@needs_synth
def test_a_muted_lane_is_absent_from_the_render(tmp_path):
    song = sketch()
    without_bass = song.copy()
    without_bass.probs[2] = 0.0
    muted = samples(render_wav(song, tmp_path / "muted.wav", mutes=["bass"]))
    removed = samples(render_wav(without_bass, tmp_path / "removed.wav"))
    full = samples(render_wav(song, tmp_path / "full.wav"))
    np.testing.assert_array_equal(muted, removed)  # offline FluidSynth is sample-exact
    assert rms(full - muted) > AUDIBLE  # and the bass really was there to mute


@needs_synth
def test_an_empty_sketch_renders_silence(tmp_path):
    song = Song(probs=np.zeros((5, 16, 128), np.float32), steps_per_beat=2, chunk_steps=16)
    assert rms(samples(render_wav(song, tmp_path / "empty.wav"))) < 1.0


@needs_synth
def test_rendering_the_exported_file_sounds_like_rendering_the_sketch(tmp_path):
    song = sketch()
    from_song = samples(render_wav(song, tmp_path / "song.wav"))
    from_file = samples(render_midi_file(write_midi(song, tmp_path / "song.mid"), tmp_path / "file.wav"))
    assert len(from_file) == pytest.approx(len(from_song), abs=4)
    n = min(len(from_file), len(from_song))
    assert rms(from_file[:n] - from_song[:n]) < 0.05 * rms(from_song)


@needs_synth
def test_a_missing_chosen_soundfont_is_named(tmp_path):
    missing = tmp_path / "nope.sf2"
    with pytest.raises(SynthUnavailable, match="nope.sf2"):
        find_soundfont(missing)
    assert "nope.sf2" in unavailable_reason(missing)


def test_a_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        render_wav(sketch(), tmp_path / "no" / "such.wav")
