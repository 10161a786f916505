"""One place that bounds every value entering from outside: CLI flags, window fields, sketch files, pack cards, MIDI.

Torch-free and Qt-free. Each `check_*` returns the value in its canonical type or raises InvalidValue
(a MusicVAEError and a ValueError) whose message names the value and the allowed range. The bounds come
from what music needs, and sizes from the memory they cost:

- tempo: MIN_TEMPO..MAX_TEMPO BPM (20-400), finite.
- seed: 0..MAX_SEED (2**32 - 1): every seed in the range makes its own song, and what is recorded is what ran.
- steps and variations: each bounded by a count, and together by MAX_GENERATED_STEPS grid steps
  ((steps + 1) x variations x chunk_steps), about 4 KB each while generating, so at most ~0.5 GB.
- transpose: a take's shift from its pack's key space, -MAX_TRANSPOSE..MAX_TRANSPOSE (-127..127) semitones:
  past that every note has left the 128 MIDI pitches.
- grid: steps_per_beat divides the export's 480 ticks per beat (at most 48); chunk_steps a multiple of 16 up to 1024.
- training: epochs, songs per epoch, batch, workers bounded by counts; learning rate, its decay and the KL weight
  finite and positive (training/train.py's check_config names the flag).
"""

from __future__ import annotations

import math
import numbers

from .errors import InvalidValue

MIN_TEMPO, MAX_TEMPO = 20.0, 400.0
MAX_SEED = 2**32 - 1
MAX_STEPS = 1024  # chunks after the first
MAX_VARIATIONS = 64
MAX_GENERATED_STEPS = 2**17  # grid steps over all takes of one generation: ~4 KB of working memory each
TICKS_PER_BEAT = 480  # the export's resolution: a grid finer than this writes notes on the same tick
MAX_STEPS_PER_BEAT = 48
MIN_CHUNK_STEPS, MAX_CHUNK_STEPS = 16, 1024
MAX_LATENT = 1024
MAX_LATENT_VALUE = 1e4  # |z| in a sketch's latents: the prior is N(0, 1); 3e38 decodes to NaN
MAX_HIDDEN = 4096
MAX_CHANNELS = 1024  # a VAE conv width
MAX_NOISE = 10.0
MAX_PROGRAM = 127
MAX_PITCH = 127  # the highest of the 128 MIDI notes
MAX_TAKES = MAX_VARIATIONS
MAX_SONG_STEPS = MAX_GENERATED_STEPS  # one take in a sketch file
MAX_SONG_MINUTES = 60.0  # longer MIDI files are cut here, and the reader says so
MAX_NOTE_BEATS = 256.0  # 64 bars: a longer held note is cut
MAX_JSON_DEPTH = 32
MAX_TRANSPOSE = 127  # semitones: a shift past the 128 MIDI pitches moves every note off the keyboard
# `musicvae train`: what a run may ask for (each flag is checked against these before any work starts)
MAX_EPOCHS = 10_000
MAX_SONGS_PER_EPOCH = 10_000_000
MAX_BATCH = 4096  # chunks a step: 4096 16th-note chunks are ~0.5 GB of rolls and activations per lane
MAX_VAL_CHUNKS = 1_000_000
MAX_WORKERS = 256
MAX_LEARNING_RATE = 1.0
MAX_KL_WEIGHT = 100.0


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_int(name: str, value, low: int, high: int) -> int:
    """A whole number low..high (a float with no fraction, or a numeric string, is accepted)."""
    number = value
    if isinstance(value, str):
        try:
            number = int(value.strip())
        except ValueError:
            number = None
    elif _is_number(value) and not isinstance(value, numbers.Integral):
        number = int(value) if math.isfinite(value) and float(value).is_integer() else None
    if not isinstance(number, numbers.Integral) or isinstance(number, bool) or not low <= number <= high:
        raise InvalidValue(f"{name} must be a whole number from {low} to {high}, got {value!r}")
    return int(number)


def check_float(name: str, value, low: float, high: float, *, low_open: bool = False, high_open: bool = False) -> float:
    """A finite number in [low, high] (open at an end where asked)."""
    number = None
    if _is_number(value):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = None
    ok = number is not None and math.isfinite(number)
    ok = ok and (number > low if low_open else number >= low) and (number < high if high_open else number <= high)
    if not ok:
        span = f"{'above' if low_open else 'from'} {low:g} {'and below' if high_open else 'to'} {high:g}"
        raise InvalidValue(f"{name} must be a number {span}, got {value!r}")
    return number


def check_tempo(value) -> float:
    """Beats per minute, MIN_TEMPO..MAX_TEMPO (20-400)."""
    return check_float("tempo (BPM)", value, MIN_TEMPO, MAX_TEMPO)


def check_seed(value) -> int:
    """A seed 0..MAX_SEED (2**32 - 1); each one makes a different song."""
    return check_int("seed", value, 0, MAX_SEED)


def check_transpose(value) -> int:
    """A take's transposition from its pack's key space: a whole number of semitones, -127..127."""
    return check_int("transpose (semitones)", value, -MAX_TRANSPOSE, MAX_TRANSPOSE)


def check_noise(value) -> float:
    return check_float("noise", value, 0.0, MAX_NOISE)


def check_threshold(value) -> float:
    return check_float("threshold", value, 0.0, 1.0, low_open=True, high_open=True)


def check_steps_variations(steps, variations, chunk_steps) -> tuple[int, int]:
    """(steps, variations), each within its count and together within MAX_GENERATED_STEPS grid steps."""
    steps = check_int("steps", steps, 0, MAX_STEPS)
    variations = check_int("variations", variations, 1, MAX_VARIATIONS)
    chunk_steps = check_chunk_steps(chunk_steps)
    total = (steps + 1) * variations * chunk_steps
    if total > MAX_GENERATED_STEPS:
        most = MAX_GENERATED_STEPS // ((steps + 1) * chunk_steps)
        fix = f"at most {most} variations at {steps} steps" if most >= 1 else "fewer steps"
        raise InvalidValue(
            f"{steps} steps x {variations} variations is {total} grid steps, more than the {MAX_GENERATED_STEPS} "
            f"one generation may hold in memory: choose {fix}"
        )
    return steps, variations


def check_steps_per_beat(value) -> int:
    """Grid steps per beat: 1..48 and a divisor of the export's 480 ticks, so every step lands on its own tick."""
    spb = check_int("steps_per_beat", value, 1, MAX_STEPS_PER_BEAT)
    if TICKS_PER_BEAT % spb:
        raise InvalidValue(f"steps_per_beat must divide {TICKS_PER_BEAT} (e.g. 2, 3, 4, 6, 8, 12, 16), got {spb}")
    return spb


def check_chunk_steps(value) -> int:
    """Steps per chunk: a multiple of 16 from 16 to 1024."""
    cs = check_int("chunk_steps", value, MIN_CHUNK_STEPS, MAX_CHUNK_STEPS)
    if cs % 16:
        raise InvalidValue(f"chunk_steps must be a multiple of 16 from 16 to {MAX_CHUNK_STEPS}, got {cs}")
    return cs


def check_program(value) -> int:
    return check_int("program", value, 0, MAX_PROGRAM)


def check_latent(value) -> int:
    return check_int("latent", value, 1, MAX_LATENT)


def check_hidden(value) -> int:
    return check_int("hidden", value, 1, MAX_HIDDEN)


def check_channels(value) -> tuple[int, int, int]:
    """The VAEs' three conv widths (conv1, conv2, conv3), each 1..MAX_CHANNELS."""
    if not isinstance(value, (list, tuple)) or len(value) != 3:
        raise InvalidValue(f"channels must be three conv widths, e.g. 32,64,256; got {value!r}")
    return tuple(check_int("channels", w, 1, MAX_CHANNELS) for w in value)


def json_depth(value, limit: int = MAX_JSON_DEPTH) -> int:
    """Nesting depth of parsed JSON, counted without recursion; stops counting past `limit`."""
    depth, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (dict, list)):
            depth = max(depth, level)
            if depth > limit:
                return depth
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return depth


def check_json_depth(name: str, value, limit: int = MAX_JSON_DEPTH):
    """The value itself, or InvalidValue when nested deeper than `limit`."""
    if json_depth(value, limit) > limit:
        raise InvalidValue(f"{name} is nested more than {limit} levels deep")
    return value
