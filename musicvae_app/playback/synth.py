"""The built-in synth: FluidSynth (pyfluidsynth + the system's libfluidsynth) with a General MIDI soundfont.

`LiveSynth` is a mido output port that sounds through FluidSynth's own audio driver, so the Player
drives it like any MIDI port. `render_wav` plays the same schedule offline into a WAV file, sample
exact. Where FluidSynth or a soundfont is missing, `unavailable_reason()` says so in one line.

Every render, through pyfluidsynth or the fluidsynth program, goes into a temp file beside the target
(atomic.py) that is renamed into place only when it is complete: a failed, cancelled or killed render
leaves the old WAV whole. Audio is streamed to disk in blocks of BLOCK_FRAMES, so memory does not grow
with the song's length.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import Callable, Iterable
from pathlib import Path

import mido
from mido.ports import BaseOutput

from ..atomic import atomic_target, atomic_write, sweep_beside
from ..errors import MusicVAEError
from ..sketch.song import Song
from .schedule import Lanes, audible_lanes, schedule

SAMPLE_RATE = 44100
GAIN = 0.5
TAIL_SECONDS = 2.0  # let releases and reverb ring out after the last note
BLOCK_FRAMES = 1 << 14  # frames synthesised and written at a time (64 KiB of 16-bit stereo)
POLL_SECONDS = 0.1  # how often a render by the fluidsynth program reports progress and checks for a cancel
SOUNDFONT_ENV = "MUSICVAE_SOUNDFONT"
PREFERRED = ("default-GM.sf2", "default-GM.sf3", "FluidR3_GM.sf2", "FluidR3_GM.sf3", "GeneralUser GS v1.471.sf2")
AUDIO_DRIVERS = (None, "pulseaudio", "pipewire", "alsa", "jack", "coreaudio", "wasapi", "dsound", "sdl2")


class RenderCancelled(Exception):
    """The progress callback asked the render to stop; nothing was written (an old file at the target stays)."""


class SynthUnavailable(MusicVAEError, RuntimeError):
    """FluidSynth, a soundfont or an audio device is missing; the message says which and what to do."""


def soundfont_dirs() -> list[Path]:
    """Where systems and users usually keep soundfonts, most specific first."""
    home = Path.home()
    dirs = [
        home / ".local/share/soundfonts",
        home / ".local/share/sounds/sf2",
        Path("/usr/share/sounds/sf2"),
        Path("/usr/share/sounds/sf3"),
        Path("/usr/share/soundfonts"),
        Path("/usr/local/share/soundfonts"),
        Path("/usr/share/sounds/sf2/fluid-soundfont-gm"),
        Path("/opt/homebrew/share/soundfonts"),
        home / "Library/Audio/Sounds/Banks",
    ]
    if sys.platform == "win32":
        dirs += [Path("C:/soundfonts"), Path(os.environ.get("APPDATA", "C:/")) / "soundfonts"]
    return dirs


def find_soundfont(choice: str | os.PathLike | None = None) -> Path | None:
    """The user's choice, else $MUSICVAE_SOUNDFONT, else the system's General MIDI soundfont; None if none."""
    for chosen in (choice, os.environ.get(SOUNDFONT_ENV)):
        if chosen:
            path = Path(chosen).expanduser()
            if not path.is_file():
                raise SynthUnavailable(f"soundfont '{path}' does not exist: choose a .sf2 or .sf3 file")
            return path
    found: list[Path] = []
    for folder in soundfont_dirs():
        if folder.is_dir():
            found += sorted(p for p in folder.iterdir() if p.suffix.lower() in (".sf2", ".sf3") and p.is_file())
    for name in PREFERRED:
        for path in found:
            if path.name == name:
                return path
    return found[0] if found else None


def _fluidsynth():
    """The pyfluidsynth module, or SynthUnavailable when it or libfluidsynth is missing."""
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # pyfluidsynth prints where it found the library
            import fluidsynth
    except ImportError as exc:
        hint = "pip install pyfluidsynth" if "No module" in str(exc) else _LIB_HINT
        raise SynthUnavailable(f"FluidSynth is not available ({exc}): {hint}") from None
    except OSError as exc:
        raise SynthUnavailable(f"FluidSynth's library could not be loaded ({exc}): {_LIB_HINT}") from None
    return fluidsynth


_LIB_HINT = "install libfluidsynth (apt install libfluidsynth3, brew install fluid-synth, dnf install fluidsynth-libs)"
_SF_HINT = "install fluid-soundfont-gm (apt) or choose a General MIDI .sf2/.sf3 file"


def unavailable_reason(soundfont: str | os.PathLike | None = None) -> str | None:
    """Why the built-in synth cannot play, in one line; None when FluidSynth and a soundfont are there."""
    try:
        _fluidsynth()
        if find_soundfont(soundfont) is None:
            return f"no General MIDI soundfont found: {_SF_HINT}"
    except SynthUnavailable as exc:
        return str(exc)
    return None


def _new_synth(soundfont, sample_rate: int = SAMPLE_RATE, **settings):
    fluidsynth = _fluidsynth()
    path = find_soundfont(soundfont)
    if path is None:
        raise SynthUnavailable(f"no General MIDI soundfont found: {_SF_HINT}")
    synth = fluidsynth.Synth(gain=GAIN, samplerate=float(sample_rate), **settings)
    if synth.sfload(str(path)) < 0:
        synth.delete()
        raise SynthUnavailable(f"FluidSynth could not load soundfont '{path}': choose another .sf2/.sf3 file")
    return synth


def _apply(synth, msg: mido.Message) -> None:
    """Play one channel message on a pyfluidsynth Synth."""
    kind = msg.type
    if kind == "note_on" and msg.velocity > 0:
        synth.noteon(msg.channel, msg.note, msg.velocity)
    elif kind in ("note_off", "note_on"):
        synth.noteoff(msg.channel, msg.note)
    elif kind == "program_change":
        synth.program_change(msg.channel, msg.program)
    elif kind == "control_change":
        synth.cc(msg.channel, msg.control, msg.value)
    elif kind == "pitchwheel":
        synth.pitch_bend(msg.channel, msg.pitch)


class LiveSynth(BaseOutput):
    """A mido output port that sounds through FluidSynth's audio driver (PulseAudio, ALSA, JACK, ...)."""

    def __init__(self, soundfont: str | os.PathLike | None = None, driver: str | None = None) -> None:
        self._soundfont, self._driver = soundfont, driver
        super().__init__("Built-in synth")

    def _open(self, **kwargs) -> None:
        fluidsynth = _fluidsynth()
        os.environ.setdefault("JACK_NO_START_SERVER", "1")
        self._synth = _new_synth(self._soundfont)
        self._synth.setting("audio.jack.autoconnect", 1)
        self._audio = None
        for driver in (self._driver,) if self._driver else AUDIO_DRIVERS:
            if driver is not None:
                self._synth.setting("audio.driver", driver)
            self._audio = fluidsynth.new_fluid_audio_driver(self._synth.settings, self._synth.synth)
            if self._audio:
                self.driver = driver or self._synth.get_setting("audio.driver")
                return
        self._synth.delete()
        raise SynthUnavailable("no audio device answered (tried PulseAudio, PipeWire, ALSA, JACK): connect one")

    def _send(self, msg: mido.Message) -> None:
        _apply(self._synth, msg)

    def _close(self) -> None:
        _fluidsynth().delete_fluid_audio_driver(self._audio)
        self._synth.delete()


def render_events(
    events: Iterable[tuple[float, mido.Message]],
    path: str | os.PathLike,
    soundfont: str | os.PathLike | None = None,
    sample_rate: int = SAMPLE_RATE,
    tail: float = TAIL_SECONDS,
    progress: Callable[[float], bool] | None = None,
) -> Path:
    """Play (seconds, message) pairs through FluidSynth offline into a 16-bit stereo WAV.

    The audio is streamed, BLOCK_FRAMES at a time, into a temp file beside `path` that replaces
    `path` only when the render is complete (atomic.atomic_write): a full disk, an error or a cancel
    leaves the previous file and no temp. `progress(fraction)` is called as the render goes (0..1);
    returning False stops it with RenderCancelled.
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"folder '{path.parent}' does not exist: create it or choose another file")
    sweep_beside(path, force=True)  # a WAV of a render that was killed: gone before this one starts
    events = sorted(events, key=lambda e: e[0])
    total = max(int(round(events[-1][0] * sample_rate)) if events else 1, 1)
    synth = _new_synth(soundfont, sample_rate)

    def write(f) -> None:
        with wave.open(f, "wb") as wav:
            wav.setnchannels(2)
            wav.setsampwidth(2)
            wav.setframerate(sample_rate)
            done, next_report = 0, 0
            for seconds, msg in events:
                frame = int(round(seconds * sample_rate))
                _stream(synth, wav, frame - done)
                done = max(done, frame)
                _apply(synth, msg)
                if progress is not None and done >= next_report:
                    next_report = done + sample_rate // 2  # about twice per second of music
                    if progress(min(done / total, 1.0)) is False:
                        raise RenderCancelled("cancelled")
            _stream(synth, wav, int(tail * sample_rate))

    try:
        atomic_write(path, write)
    finally:
        synth.delete()
    return path


def _stream(synth, wav: wave.Wave_write, frames: int) -> None:
    """Synthesise `frames` frames and write them as they come, BLOCK_FRAMES at a time."""
    while frames > 0:
        n = min(frames, BLOCK_FRAMES)
        wav.writeframesraw(synth.get_samples(n).astype("<i2", copy=False).tobytes())
        frames -= n


def render_wav(
    song: Song,
    path: str | os.PathLike,
    soundfont: str | os.PathLike | None = None,
    mutes: Lanes = None,
    solos: Lanes = None,
    progress: Callable[[float], bool] | None = None,
) -> Path:
    """Render the sketch (muted lanes left out) to a WAV file: File > Export audio (see render_events)."""
    try:
        return render_events(schedule(song, mutes, solos), path, soundfont, progress=progress)
    except SynthUnavailable:
        if not shutil.which("fluidsynth"):
            raise
    from ..sketch.midi import write_midi  # no libfluidsynth for Python, but the fluidsynth program is there

    lanes = [i for i, on in enumerate(audible_lanes(mutes, solos)) if on]
    with tempfile.TemporaryDirectory() as tmp:
        midi = write_midi(song, Path(tmp) / "sketch.mid", lanes)
        return _render_cli(midi, path, soundfont, song.seconds, progress)


def render_midi_file(
    midi_path: str | os.PathLike, wav_path: str | os.PathLike, soundfont: str | os.PathLike | None = None
) -> Path:
    """Render a .mid file to WAV (the `musicvae render` command), atomically and streamed (see render_events)."""
    try:
        events, now = [], 0.0
        from ..sketch.midi import open_midifile  # meta events mido cannot decode are left out, the notes kept

        for msg in open_midifile(midi_path):  # iterating a file yields tempo-aware seconds
            now += msg.time
            if not msg.is_meta:
                events.append((now, msg))
        return render_events(events, wav_path, soundfont)
    except SynthUnavailable:
        if not shutil.which("fluidsynth"):
            raise
    try:
        seconds = mido.MidiFile(str(midi_path)).length
    except (OSError, ValueError, EOFError, KeyError, IndexError):
        seconds = None  # the program says what is wrong with the file
    return _render_cli(Path(midi_path), wav_path, soundfont, seconds)


def _render_cli(
    midi_path: Path,
    wav_path,
    soundfont,
    seconds: float | None = None,
    progress: Callable[[float], bool] | None = None,
) -> Path:
    """Render with the fluidsynth program: `fluidsynth -ni -T wav -F <temp beside out.wav> sf2 file.mid`.

    The program streams to disk itself; its file is renamed over `wav_path` only when it succeeded
    (atomic.atomic_target). The program exits 0 even when a write failed (a full disk), so its file must
    also hold the song's `seconds` of audio when given. With `seconds`, `progress` gets the share written
    so far and returning False stops the program (RenderCancelled). An interrupt ends the program too.
    """
    font = find_soundfont(soundfont)
    if font is None:
        raise SynthUnavailable(f"no General MIDI soundfont found: {_SF_HINT}")
    wav_path = Path(wav_path)
    if not wav_path.parent.is_dir():
        raise FileNotFoundError(f"folder '{wav_path.parent}' does not exist: create it or choose another file")
    sweep_beside(wav_path, force=True)
    expected = (seconds + TAIL_SECONDS) * SAMPLE_RATE * 4 if seconds else None  # bytes of 16-bit stereo
    with atomic_target(wav_path) as tmp, tempfile.TemporaryFile("w+") as errors:
        cmd = ["fluidsynth", "-ni", "-g", str(GAIN), "-r", str(SAMPLE_RATE), "-T", "wav", "-O", "s16"]
        cmd += ["-F", str(tmp), str(font), str(midi_path)]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=errors)
        try:
            while proc.poll() is None:
                time.sleep(POLL_SECONDS)
                if progress is not None and expected:
                    written = tmp.stat().st_size if tmp.exists() else 0
                    if progress(min(written / expected, 1.0)) is False:
                        raise RenderCancelled("cancelled")
        finally:
            if proc.poll() is None:  # cancelled, interrupted or terminated: the program stops with us
                proc.kill()
                proc.wait()
        errors.seek(0)
        said = errors.read().strip().replace(str(tmp), str(wav_path))
        written = tmp.stat().st_size if tmp.is_file() else 0
        short = expected is not None and written < seconds * SAMPLE_RATE * 4 * 0.99
        if proc.returncode != 0 or not written or short or "write error" in said:
            raise SynthUnavailable(
                f"fluidsynth could not render '{midi_path}' to '{wav_path}' (it is unchanged): {said[-300:]}"
            )
    return wav_path
