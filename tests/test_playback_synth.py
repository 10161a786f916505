"""The built-in synth: FluidSynth renders a sketch to a WAV that is audible lane by lane, mutes honoured."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from band_files import write_band_midi
from musicvae_app import atomic
from musicvae_app.playback import synth as synth_module
from musicvae_app.playback.synth import (
    RenderCancelled,
    SynthUnavailable,
    find_soundfont,
    render_midi_file,
    render_wav,
    unavailable_reason,
)
from musicvae_app.sketch.midi import write_midi
from musicvae_app.sketch.song import LANES, Song

ROOT = Path(__file__).resolve().parents[1]

REASON = unavailable_reason()
needs_synth = pytest.mark.skipif(REASON is not None, reason=f"built-in synth unavailable: {REASON}")
needs_program = pytest.mark.skipif(
    not shutil.which("fluidsynth") or find_soundfont() is None, reason="no fluidsynth program or soundfont"
)
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


# --- nothing lost on disk (issue 22): atomic, streamed renders -------------------------------------------
def long_sketch(repeats: int = 40) -> Song:
    """sketch() played `repeats` times: 2 s each at 120 BPM."""
    song = sketch()
    return Song(probs=np.tile(song.probs, (1, repeats, 1)), steps_per_beat=2, chunk_steps=16)


def folder_holds(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
def program_only(monkeypatch):
    """As on a system with the fluidsynth program but no pyfluidsynth: render_wav falls back to the program."""

    def missing():
        raise SynthUnavailable("FluidSynth is not available (No module named 'fluidsynth'): pip install pyfluidsynth")

    monkeypatch.setattr(synth_module, "_fluidsynth", missing)


def cli(*args, limit_bytes: int | None = None) -> subprocess.Popen:
    """`musicvae ...` in its own process (this worktree's package), optionally with files capped at `limit_bytes`."""

    def setup() -> None:
        # Ctrl+C as at a terminal: a test run started in the background (nohup, `&`) hands its children SIGINT
        # ignored, and Python then never installs its KeyboardInterrupt handler.
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # the new Python then installs its own
        if limit_bytes:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the cap fails with EFBIG, as a full disk does
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "musicvae_app.cli", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=setup,
    )


def wait_for_temp(folder: Path, proc: subprocess.Popen, at_least: int = 1 << 20) -> Path:
    """The render's temp beside its target once it holds `at_least` bytes (the render is well under way)."""
    deadline = time.time() + 120
    while time.time() < deadline:
        assert proc.poll() is None, proc.communicate()
        for path in folder.iterdir():
            if atomic.TEMP_MARK in path.name and path.stat().st_size >= at_least:
                return path
        time.sleep(0.05)
    raise AssertionError("the render never got under way")


@needs_synth
def test_a_render_streams_into_a_temp_and_replaces_the_old_wav_only_when_complete(tmp_path, monkeypatch):
    path = render_wav(sketch(), tmp_path / "take.wav")
    seen: list[list[str]] = []
    monkeypatch.setattr(synth_module, "BLOCK_FRAMES", 4096)  # many blocks even for this short song

    def look(fraction: float) -> bool:
        seen.append(folder_holds(tmp_path))
        return True

    song = long_sketch(4)
    render_wav(song, path, progress=look)
    assert seen and all(len(names) == 2 and "take.wav" in names for names in seen)  # the old file and a temp
    assert folder_holds(tmp_path) == ["take.wav"]
    assert len(samples(path)) / 2 / 44100 == pytest.approx(song.seconds + 2.0, abs=0.01)
    with monkeypatch.context() as m:
        m.setattr(synth_module, "BLOCK_FRAMES", 1 << 16)  # the block size changes nothing in the audio
        np.testing.assert_array_equal(samples(render_wav(song, tmp_path / "big.wav")), samples(path))


@needs_synth
def test_a_cancelled_render_keeps_the_old_wav_and_leaves_no_temp(tmp_path):
    path = render_wav(sketch(), tmp_path / "take.wav")
    before = path.read_bytes()
    calls: list[float] = []
    with pytest.raises(RenderCancelled):
        render_wav(long_sketch(), path, progress=lambda fraction: calls.append(fraction) or len(calls) < 5)
    assert len(calls) == 5 and 0 < calls[-1] < 1
    assert path.read_bytes() == before and folder_holds(tmp_path) == ["take.wav"]


@needs_synth
def test_a_full_disk_keeps_the_old_wav_and_names_the_users_file_not_the_temp(tmp_path):
    midi = write_band_midi(tmp_path / "song.mid", bars=40, tempo=120)  # 80 s: 14 MB of audio
    out = tmp_path / "out" / "song.wav"
    out.parent.mkdir()
    render_wav(sketch(), out)
    before = out.read_bytes()
    proc = cli("render", midi, "--out", out, limit_bytes=4 << 20)  # the disk is full at 4 MB
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 2, err
    assert str(out) in err and "File too large" in err and atomic.TEMP_MARK not in err, err
    assert out.read_bytes() == before and folder_holds(out.parent) == ["song.wav"]


@needs_synth
@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT])
def test_a_terminated_cli_render_keeps_the_old_wav_and_removes_its_temp_at_once(tmp_path, how):
    midi = write_band_midi(tmp_path / "song.mid", bars=240, tempo=120)  # 8 minutes: several seconds to render
    out = tmp_path / "out" / "song.wav"
    out.parent.mkdir()
    render_wav(sketch(), out)
    before = out.read_bytes()
    proc = cli("render", midi, "--out", out)
    wait_for_temp(out.parent, proc)
    proc.send_signal(how)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "interrupted" in err, err
    assert out.read_bytes() == before and folder_holds(out.parent) == ["song.wav"]


@needs_synth
def test_a_killed_renders_temp_is_cleaned_by_the_next_render(tmp_path):
    midi = write_band_midi(tmp_path / "song.mid", bars=240, tempo=120)
    out = tmp_path / "out" / "song.wav"
    out.parent.mkdir()
    render_wav(sketch(), out)
    before = out.read_bytes()
    proc = cli("render", midi, "--out", out)
    left = wait_for_temp(out.parent, proc)
    proc.kill()  # SIGKILL: nothing can clean up at once
    proc.communicate(timeout=60)
    assert out.read_bytes() == before and left.exists()
    hidden = out.parent / ".someone-elses.wav.tmp"  # not ours: never touched
    hidden.write_bytes(b"x")
    render_wav(sketch(), out.parent / "next.wav")
    assert not left.exists() and hidden.exists()
    assert folder_holds(out.parent) == [".someone-elses.wav.tmp", "next.wav", "song.wav"]


@needs_program
def test_the_fluidsynth_program_fallback_renders_atomically(tmp_path, program_only):
    path = tmp_path / "take.wav"
    path.write_bytes(b"the old file")
    song = sketch()
    audio = samples(render_wav(song, path))
    assert len(audio) / 2 / 44100 >= song.seconds and rms(audio) > AUDIBLE
    assert folder_holds(tmp_path) == ["take.wav"]
    assert path.stat().st_mode & 0o777 == atomic.default_mode()


@needs_program
def test_a_cancelled_fallback_render_keeps_the_old_wav_and_stops_the_program(tmp_path, program_only):
    path = render_wav(sketch(), tmp_path / "take.wav")
    before = path.read_bytes()
    seen: list[float] = []

    def stop(fraction: float) -> bool:
        seen.append(fraction)
        return fraction == 0  # stop once the program has written some audio

    started = time.monotonic()
    with pytest.raises(RenderCancelled):
        render_wav(long_sketch(600), path, progress=stop)  # 20 minutes of music
    assert 0 < seen[-1] < 0.5 and time.monotonic() - started < 60
    assert path.read_bytes() == before and folder_holds(tmp_path) == ["take.wav"]


FALLBACK_CLI = """
import sys
from musicvae_app import cli
from musicvae_app.playback import synth

def missing():
    raise synth.SynthUnavailable("FluidSynth is not available: pip install pyfluidsynth")

synth._fluidsynth = missing  # as on a system with the fluidsynth program but no pyfluidsynth
sys.exit(cli.main(sys.argv[1:]))
"""


@needs_program
def test_a_full_disk_under_the_fallback_keeps_the_old_wav_and_names_the_users_file(tmp_path):
    midi = write_band_midi(tmp_path / "song.mid", bars=40, tempo=120)  # 80 s: 14 MB of audio
    out = tmp_path / "out" / "song.wav"
    out.parent.mkdir()
    render_wav(sketch(), out)
    before = out.read_bytes()

    def cap() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4 << 20, 4 << 20))  # the disk is full at 4 MB

    done = subprocess.run(
        [sys.executable, "-c", FALLBACK_CLI, "render", str(midi), "--out", str(out)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        preexec_fn=cap,
        timeout=300,
    )
    assert done.returncode == 2, done.stderr  # the program itself exits 0 with half a file
    assert str(out) in done.stderr and "unchanged" in done.stderr and atomic.TEMP_MARK not in done.stderr
    assert out.read_bytes() == before and folder_holds(out.parent) == ["song.wav"]
