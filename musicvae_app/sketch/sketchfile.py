"""A sketch on disk: every take's probabilities, latents and settings in one versioned file.

The file is a zip holding `sketch.json` (format, version, settings, per-take metadata) and one
`.npy` per array, read with allow_pickle=False. Qt-free. Writes are atomic: a temp file beside the
target, flushed, then renamed over it, so a crash mid-write leaves the previous file whole.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..atomic import atomic_write
from ..errors import InvalidValue, MusicVAEError
from ..limits import (
    MAX_LATENT,
    MAX_LATENT_VALUE,
    MAX_SONG_STEPS,
    MAX_TAKES,
    MAX_VARIATIONS,
    check_chunk_steps,
    check_float,
    check_int,
    check_json_depth,
    check_noise,
    check_program,
    check_seed,
    check_steps_per_beat,
    check_tempo,
    check_threshold,
    check_transpose,
)
from ..theory.chords import MAX_CHART_CHARS, ChordError, bar_text, parse_bar
from ..theory.feel import FEEL_KEYS, check_feel
from ..theory.keys import parse_key
from ..theory.performance import Performance
from ..theory.sections import MAX_BARS_TEXT, SectionError, sections_from_json
from ..userfiles import open_user_file
from .pins import mix_from_json, pins_from_json, pins_to_json
from .song import (
    BEATS_PER_BAR,
    CENTRE_PAN,
    DEFAULT_VOLUME,
    LANE_SETTINGS,
    LANES,
    PITCHES,
    ChunkInfo,
    Song,
    check_chords,
    format_density,
    parse_density,
)
from .spec import FIELDS

FORMAT = "musicvae-sketch"
FORMAT_VERSION = 1
SUFFIX = ".mvsketch"
_HEADER = "sketch.json"


class SketchError(MusicVAEError):
    """A sketch file we cannot open; the message names the file and what to do."""


@dataclass
class Sketch:
    """What the window holds: the takes, which one is chosen, and the settings around them."""

    takes: list[Song]
    current: int = 0
    settings: dict = field(default_factory=dict)

    @property
    def song(self) -> Song:
        return self.takes[self.current]


def _npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(array), allow_pickle=False)
    return buf.getvalue()


def _song_meta(song: Song) -> dict:
    return dict(
        steps_per_beat=song.steps_per_beat,
        chunk_steps=song.chunk_steps,
        threshold=song.threshold,
        tempo=song.tempo,
        programs=[int(p) for p in song.programs],
        chunks=[[asdict(c) for c in row] for row in song.chunks],
        settings=dict(song.settings),  # the take's record as the dict it reads as (unknown keys kept)
        has_latents=song.latents is not None,
        chords=list(song.chords),
        sections=[section.to_dict() for section in song.sections],
        pins=pins_to_json(song.pins),  # the bars the musician edited and their notes (pins.py)
        volumes=[int(v) for v in song.volumes],
        pans=[int(p) for p in song.pans],
    )


def dumps(sketch: Sketch) -> bytes:
    """The file's bytes (a zip)."""
    if not sketch.takes:
        raise InvalidValue("a sketch needs at least one take")
    header = dict(
        format=FORMAT,
        format_version=FORMAT_VERSION,
        current=int(sketch.current),
        settings=sketch.settings,
        takes=[_song_meta(s) for s in sketch.takes],
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr(_HEADER, json.dumps(header, default=_json_default))
        for i, song in enumerate(sketch.takes):
            z.writestr(f"take{i}/probs.npy", _npy(song.probs))
            if song.latents is not None:
                z.writestr(f"take{i}/latents.npy", _npy(song.latents))
            if song.performance is not None:  # the musician's notes as played (older readers ignore it)
                z.writestr(f"take{i}/played.json", json.dumps(song.performance.to_json()))
    return buf.getvalue()


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def save(sketch: Sketch, path: str | Path) -> Path:
    """Write atomically with the user's file mode; the folder is created if missing."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(path, dumps(sketch))


# --- reading: every size is checked before it is allocated -------------------------------------------
MAX_SKETCH_BYTES = 1 << 30  # the file on disk
MAX_HEADER_BYTES = 4 << 20  # sketch.json
MAX_MEMBERS = 4 * MAX_TAKES + 8
MAX_UNPACKED_BYTES = 512 << 20  # all arrays together, as declared and as read
_NPY_HEADER_BYTES = 4096
_FLOATS = ("<f4", "<f2", "<f8")


_UNREADABLE = (
    zipfile.BadZipFile,
    zlib.error,
    RuntimeError,
    NotImplementedError,
    EOFError,
    OSError,
    ValueError,
    KeyError,
    TypeError,
    OverflowError,
)


def _damaged(name: str, why: str) -> SketchError:
    return SketchError(f"{name} is damaged: {why}")


def _zip_directory(f, name: str) -> None:
    """Refuse an archive whose central directory promises more members than a sketch has, before zipfile reads it."""
    f.seek(0, os.SEEK_END)
    size = f.tell()
    tail_len = min(size, 22 + 65535)
    f.seek(size - tail_len)
    tail = f.read(tail_len)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(tail):
        return  # not a zip at all: zipfile says so
    entries = int.from_bytes(tail[at + 10 : at + 12], "little")
    directory = int.from_bytes(tail[at + 12 : at + 16], "little")
    if entries > MAX_MEMBERS or directory > MAX_MEMBERS * 1024:
        raise _damaged(
            name, f"it lists {entries} members ({directory} bytes of index); a sketch has at most {MAX_MEMBERS}"
        )


def _member(z: zipfile.ZipFile, member: str, limit: int, name: str) -> bytearray:
    """A member's bytes, refused when its declared or actual size is over `limit`."""
    try:
        info = z.getinfo(member)
    except KeyError:
        raise _damaged(name, f"{member} is missing") from None
    if info.file_size > limit:
        raise _damaged(name, f"{member} says it holds {info.file_size} bytes, more than the {limit} allowed")
    buf = bytearray(info.file_size + 1)
    with z.open(info) as f:
        got = f.readinto(buf)
        if got > info.file_size or f.read(1):
            raise _damaged(name, f"{member} holds more than the {info.file_size} bytes it declares")
    if got != info.file_size:
        raise _damaged(name, f"{member} holds {got} bytes, not the {info.file_size} it declares")
    del buf[got:]
    return buf


def _array(z: zipfile.ZipFile, member: str, name: str, budget: list[int], check_shape) -> np.ndarray:
    """A float32 .npy member: header parsed and the shape checked (check_shape) before the data is read."""
    try:
        info = z.getinfo(member)
    except KeyError:
        raise _damaged(name, f"{member} is missing") from None
    with z.open(info) as f:
        head = f.read(_NPY_HEADER_BYTES)
    stream = io.BytesIO(head)
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise InvalidValue(f"npy version {version}")
    except (ValueError, OSError, SyntaxError, EOFError) as exc:
        raise _damaged(name, f"{member} is not a readable array ({exc})") from None
    if dtype.str not in _FLOATS or fortran or not all(isinstance(n, int) and n >= 0 for n in shape):
        raise _damaged(name, f"{member} is a {dtype} array; sketches hold float32")
    check_shape(shape)
    nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if nbytes > budget[0]:
        raise _damaged(name, f"{member} would take {nbytes} bytes, more than a sketch may hold ({MAX_UNPACKED_BYTES})")
    budget[0] -= nbytes
    data = _member(z, member, stream.tell() + nbytes, name)
    if len(data) != stream.tell() + nbytes:
        raise _damaged(name, f"{member} holds {len(data) - stream.tell()} bytes of data, not {nbytes}")
    array = np.frombuffer(data, dtype=dtype, offset=stream.tell()).reshape(shape)
    array = array.astype(np.float32, copy=False)
    if not np.isfinite(array).all():
        raise _damaged(name, f"{member} holds NaN or infinite values")
    return array


def load(path: str | Path) -> Sketch:
    """Read a sketch; raise SketchError for a missing, damaged, foreign, oversized or newer file.

    Every value is checked against the bounds in musicvae_app.limits, and every size before it is
    allocated, so a hostile file costs at most what a real sketch of its size would.
    """
    path = Path(path)
    name = f"'{path.name}'"
    f = open_user_file(path, MAX_SKETCH_BYTES, "sketch", SketchError)  # a regular file, its size checked
    with f:
        try:
            _zip_directory(f, name)
            f.seek(0)
            z = zipfile.ZipFile(f)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError, NotImplementedError) as exc:
            raise SketchError(f"{name} is not a musicvae-app sketch (not a sketch archive: {exc})") from None
        with z:
            try:
                return _load(z, name)
            except SketchError:
                raise
            except _UNREADABLE as exc:  # an encrypted, oddly compressed or corrupt member
                raise SketchError(f"{name} is damaged ({type(exc).__name__}: {exc})") from None


def _load(z: zipfile.ZipFile, name: str) -> Sketch:
    if len(z.infolist()) > MAX_MEMBERS:
        raise _damaged(name, f"it holds {len(z.infolist())} members; a sketch has at most {MAX_MEMBERS}")
    declared = sum(i.file_size for i in z.infolist())
    if declared > MAX_UNPACKED_BYTES + MAX_HEADER_BYTES:
        raise _damaged(name, f"it would unpack to {declared} bytes, more than a sketch may hold")
    if _HEADER not in z.namelist():
        raise SketchError(f"{name} is not a musicvae-app sketch (no {_HEADER} inside)")
    try:
        header = json.loads(bytes(_member(z, _HEADER, MAX_HEADER_BYTES, name)))
    except SketchError:
        raise
    except (ValueError, RecursionError, zipfile.BadZipFile, OSError, EOFError) as exc:
        raise SketchError(f"{name} is damaged: {_HEADER} is unreadable ({type(exc).__name__})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        found = header.get("format") if isinstance(header, dict) else type(header).__name__
        raise SketchError(f"{name} is not a musicvae-app sketch (format {found!r})")
    version = header.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise SketchError(f"{name} has no valid format version; it may be damaged")
    if version > FORMAT_VERSION:
        raise SketchError(
            f"{name} was saved by a newer musicvae-app (sketch format {version}, this app reads up to "
            f"{FORMAT_VERSION}): update the app to open it"
        )
    try:
        check_json_depth(_HEADER, header)
        metas = header["takes"]
        if not isinstance(metas, list):
            raise InvalidValue("takes must be a list")
        if len(metas) > MAX_TAKES:
            raise InvalidValue(f"it holds {len(metas)} takes; a sketch holds at most {MAX_TAKES}")
        budget = [MAX_UNPACKED_BYTES]
        takes = [_read_take(z, i, meta, name, budget) for i, meta in enumerate(metas)]
        current = header.get("current", 0)
        current = current if isinstance(current, int) and not isinstance(current, bool) else 0
        settings = _window_settings(header.get("settings"))
    except SketchError:
        raise
    except InvalidValue as exc:  # a field outside what the app allows: the message names the take and the field
        text = str(exc)  # a value quoted in it may be megabytes long
        raise SketchError(f"{name} is damaged: {text if len(text) <= 400 else text[:399] + '…'}") from None
    except (KeyError, TypeError, ValueError, AttributeError, zipfile.BadZipFile, OSError) as exc:
        raise SketchError(f"{name} is damaged ({type(exc).__name__}: {exc})") from None
    if not takes:
        raise SketchError(f"{name} holds no takes")
    return Sketch(takes=takes, current=min(max(current, 0), len(takes) - 1), settings=settings)


MAX_PATH_CHARS = 4096  # a file path the settings name (Linux's PATH_MAX): a longer one names no file
DROPPED = "dropped"  # the settings' list of what the loader could not keep, each said when the sketch opens


def _window_settings(raw) -> dict:
    """The window's settings around the takes, keeping only well-formed entries; what the musician made (the
    next Generate's chart and sections) is kept whole up to the lengths the app accepts at entry, and what
    cannot be kept is listed under DROPPED, for the session to say so, never dropped silently."""
    raw = raw if isinstance(raw, dict) else {}
    out: dict = {}
    dropped: list[str] = []
    for key in ("primer", "follow", "path"):  # "path": the file an autosaved sketch was saved as (title, Save)
        if isinstance(raw.get(key), str) and len(raw[key]) <= MAX_PATH_CHARS:
            out[key] = raw[key]
        elif raw.get(key) is not None:
            dropped.append(f"the {key} file's name (not a file path)")
    if isinstance(raw.get("clean"), bool):  # whether it was saved as it is
        out["clean"] = raw["clean"]
    for key in ("locks", "mutes", "solos", "lineup"):
        value = raw.get(key)
        if isinstance(value, list) and len(value) == len(LANES) and all(isinstance(v, bool) for v in value):
            out[key] = value
    generation = raw.get("generation") if isinstance(raw.get("generation"), dict) else {}
    kept: dict = {}  # the key and scale lock of the next Generate (the rest are the window's own preferences)
    if generation.get("key") is None or (isinstance(generation.get("key"), str) and len(generation["key"]) < 64):
        if "key" in generation:
            kept["key"] = generation["key"]
    if isinstance(generation.get("scale_lock"), bool):
        kept["scale_lock"] = generation["scale_lock"]
    chart = generation.get("chart")  # the next Generate's chords, as long as a chart may be typed
    if isinstance(chart, str) and len(chart) <= MAX_CHART_CHARS:
        kept["chart"] = chart
        if generation.get("chart_syntax") == 2:  # arrangement.CHART_SYNTAX: the chart reads as parse_bars
            kept["chart_syntax"] = 2
    elif chart is not None:
        what = f"{len(chart):,} characters" if isinstance(chart, str) else "not text"
        dropped.append(f"the chord chart ({what}; a chart is at most {MAX_CHART_CHARS:,})")
    if generation.get("chords_over_part") is True:  # played over a followed part
        kept["chords_over_part"] = True
    style = generation.get("style")  # the next Generate's style, by name (the pack checks it when it opens)
    if isinstance(style, str) and 0 < len(style) <= 64:
        kept["style"] = style
    elif style is not None:
        dropped.append("the style (not a style's name)")
    try:  # and its sections
        sections = [s.to_dict() for s in sections_from_json(generation.get("sections"))]
    except SectionError as exc:
        sections = []
        dropped.append(f"the song form ({exc})")
    if sections:
        kept["sections"] = sections
    if kept:
        out["generation"] = kept
    if dropped:
        out[DROPPED] = dropped
    return out


def _scalar(value) -> bool:
    return value is None or isinstance(value, (bool, int, str)) or (isinstance(value, float) and np.isfinite(value))


CHORD_SOURCES = ("asked", "part", "bank")  # where a take's chords came from (engine.chording.STEERED)


def _check_lineup(value) -> str:
    """The lanes that play, as the engine writes them: 'piano,bass' (at least one lane, each named once)."""
    names = [part.strip().lower() for part in value.split(",")] if isinstance(value, str) else None
    if not names or not all(name in LANES for name in names):
        raise InvalidValue(f"lineup must name lanes from {', '.join(LANES)}, comma-separated; got {value!r}")
    return ",".join(lane for lane in LANES if lane in names)


def _check_key(value) -> str:
    """A key as the engine records it: '' (none known), 'E minor', or 'C major / A minor' (a key-free pack's)."""
    if not isinstance(value, str) or len(value) > 64:
        raise InvalidValue(f"key must be a key's name such as 'E minor' or 'Bb major', got {value!r}")
    first = value.split(" / ")[0].strip()
    if first:
        try:
            parse_key(first)
        except ValueError:
            raise InvalidValue(f"key must be a key's name such as 'E minor' or 'Bb major', got {value!r}") from None
    return value


def _check_density(value) -> str:
    if not isinstance(value, str):
        raise InvalidValue(f"density must be lane=value pairs such as 'bass=1.3,strings=0.7', got {value!r}")
    try:
        return format_density(parse_density(value))
    except ValueError as exc:
        raise InvalidValue(str(exc)) from None


def _check_start_bias(value) -> list[float]:
    if not isinstance(value, list) or len(value) != len(LANES):
        raise InvalidValue(f"start_bias must be five numbers from -8 to 8, one per lane; got {value!r}")
    return [check_float("start_bias", v, -8.0, 8.0) for v in value]


def _check_choice(name: str, choices: tuple[str, ...]):
    def check(value) -> str:
        if value not in choices:
            raise InvalidValue(f"{name} must be one of {', '.join(choices)}, got {value!r}")
        return value

    return check


def _check_bars_text(value) -> str:
    """The bars whose chords were typed, as the arrangement writes them ("1-4,9"), kept whole."""
    ok = isinstance(value, str) and len(value) <= MAX_BARS_TEXT and value.isascii()
    if not ok or any(part and not part.replace("-", "", 1).isdigit() for part in value.split(",")):
        raise InvalidValue(f"chords_typed must list bars such as '1-4,9', got {value!r:.60}")
    return value


def _check_feel_value(name: str):
    return lambda value: check_feel(**{name: value})[name]


def _field_check(name: str):
    """The generation setting's own check (spec.FIELDS), for a take setting recorded as the spec takes it."""
    return lambda value: FIELDS[name].validate(value)


# Settings a take records as the next Generate's spec takes them: checked by the one table (spec.FIELDS).
# The rest differ in what a take holds: its steps (a Continue passes the spec's limit), its lineup and key
# (as text, '' when unknown), its start_bias (five numbers, always).
AS_SPEC = ("noise", "threshold", "revive", "pull", "harmony", "scale_lock", "groove", "variations", *LANE_SETTINGS)

# Every take setting the app reads back (engine edits, the window, playback and export): its check.
TAKE_SETTINGS = {
    "transpose": check_transpose,
    "key": _check_key,
    "density": _check_density,
    "lineup": _check_lineup,
    **{name: _field_check(name) for name in AS_SPEC},
    "start_bias": _check_start_bias,
    "chords": _check_choice("chords", CHORD_SOURCES),
    "chords_typed": _check_bars_text,
    "steps": lambda v: check_int("steps", v, 0, MAX_SONG_STEPS),
    "morph_steps": lambda v: check_int("morph_steps", v, 0, MAX_SONG_STEPS),
    "variation": lambda v: check_int("variation", v, 0, MAX_VARIATIONS - 1),
    **{name: _check_feel_value(name) for name in FEEL_KEYS},
}


def _take_settings(raw, i: int) -> dict:
    """What made a take. Every setting the app reads back is checked (TAKE_SETTINGS: InvalidValue naming the
    take, the setting and what it may be); the rest are JSON scalars (and short lists of them) kept as
    provenance; a seed only if the app could have used it (a forged one is dropped)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InvalidValue(f"take {i + 1} settings must be a record of named settings, got {type(raw).__name__}")
    out = {}
    for key, value in list(raw.items())[:64]:
        key = str(key)[:64]
        if key in TAKE_SETTINGS:
            if value is not None:  # null: not set, as in a sketch from before the setting existed
                try:
                    out[key] = TAKE_SETTINGS[key](value)
                except InvalidValue as exc:
                    raise InvalidValue(f"take {i + 1} settings: {exc}") from None
            continue
        if isinstance(value, str):
            value = value[:256]
        elif isinstance(value, list) and len(value) <= 16 and all(_scalar(v) and len(str(v)) <= 64 for v in value):
            value = list(value)
        elif not _scalar(value):
            continue
        out[key] = value
    for key in [k for k in out if k == "seed" or k.endswith("_seed")]:
        try:
            out[key] = check_seed(out[key])
        except InvalidValue:
            del out[key]
    return out


def _chunk_info(raw) -> ChunkInfo:
    if not isinstance(raw, dict) or not isinstance(raw.get("source"), str):
        raise InvalidValue(f"a chunk's provenance must be a record with its source, got {raw!r:.80}")
    seed, noise, pack = raw.get("seed"), raw.get("noise"), raw.get("pack")
    return ChunkInfo(
        source=raw["source"][:64],
        seed=None if seed is None else check_seed(seed),
        noise=None if noise is None else check_noise(noise),
        pack=None if pack is None else str(pack)[:256],
    )


def _take_chords(raw, i: int, n_bars: int) -> list[str | None]:
    """A take's chord chart: at most a bar's chart text (or null) a bar, each one chords.py reads, kept canonical.
    Files before sub-bar charts hold one symbol a bar, which reads the same."""
    try:
        chords = check_chords(raw, n_bars)
    except ValueError as exc:
        raise InvalidValue(f"take {i + 1} {exc}") from None
    out: list[str | None] = []
    for bar, text in enumerate(chords):
        try:
            beats = None if text is None else parse_bar(text, bar + 1)
            out.append(None if beats is None or all(c is None for c in beats) else bar_text(beats))
        except ChordError:
            raise InvalidValue(f"take {i + 1} chords: bar {bar + 1} holds {text!r}, not a chord symbol") from None
    return out


UNKNOWN = "unknown"  # the provenance of a chunk whose take recorded none (a sketch from an older writer)


def _read_take(z: zipfile.ZipFile, i: int, meta, name: str, budget: list[int]) -> Song:
    if not isinstance(meta, dict):
        raise InvalidValue(f"take {i + 1} is not a record")

    def field(key: str, check):
        """meta[key] through its check; InvalidValue names the take and the field."""
        if key not in meta:
            raise InvalidValue(f"take {i + 1} has no {key}")
        try:
            return check(meta[key])
        except InvalidValue as exc:
            raise InvalidValue(f"take {i + 1} {exc}") from None

    steps_per_beat = field("steps_per_beat", check_steps_per_beat)
    chunk_steps = field("chunk_steps", check_chunk_steps)
    threshold = field("threshold", check_threshold)
    tempo = field("tempo", check_tempo)
    programs = meta.get("programs")
    if not isinstance(programs, list) or len(programs) != len(LANES):
        raise InvalidValue(
            f"take {i + 1} programs must list one instrument (0-127) per lane ({len(LANES)}), got {programs!r}"
        )
    try:
        programs = [check_program(p) for p in programs]
    except InvalidValue as exc:
        raise InvalidValue(f"take {i + 1} {exc}") from None

    def probs_shape(shape) -> None:
        if len(shape) != 3 or shape[0] != len(LANES) or shape[2] != PITCHES:
            raise _damaged(name, f"take {i + 1} has probabilities of shape {shape}, not (5, steps, 128)")
        if not 0 < shape[1] <= MAX_SONG_STEPS or shape[1] % chunk_steps:
            raise _damaged(
                name,
                f"take {i + 1} is {shape[1]} steps long: a sketch take is 1 to {MAX_SONG_STEPS // chunk_steps} "
                f"whole chunks of {chunk_steps} steps",
            )

    probs = _array(z, f"take{i}/probs.npy", name, budget, probs_shape)
    if probs.min() < 0.0 or probs.max() > 1.0:
        raise _damaged(name, f"take {i + 1} holds probabilities outside 0-1")
    n_chunks = probs.shape[1] // chunk_steps
    has_latents = meta.get("has_latents", False)
    if not isinstance(has_latents, bool):
        raise InvalidValue(f"take {i + 1} has_latents must be true or false, got {has_latents!r}")
    latents = None
    if has_latents:

        def latent_shape(shape) -> None:
            if len(shape) != 3 or shape[0] != n_chunks or shape[1] != len(LANES) or not 0 < shape[2] <= MAX_LATENT:
                raise _damaged(
                    name,
                    f"take {i + 1} has latents of shape {shape}, not one row of 5 lanes per chunk "
                    f"({n_chunks}, 5, 1 to {MAX_LATENT})",
                )

        latents = _array(z, f"take{i}/latents.npy", name, budget, latent_shape)
        largest = float(np.abs(latents).max()) if latents.size else 0.0
        if largest > MAX_LATENT_VALUE:
            raise _damaged(name, f"take {i + 1} has a latent of {largest:.3g}; the most is {MAX_LATENT_VALUE:g}")
    rows = _chunk_rows(meta.get("chunks", []), i, n_chunks)
    n_bars = probs.shape[1] // (steps_per_beat * BEATS_PER_BAR)
    chords = _take_chords(meta.get("chords", []), i, n_bars)
    try:
        sections = sections_from_json(meta.get("sections"), n_bars)
    except SectionError as exc:
        raise InvalidValue(f"take {i + 1} sections: {exc}") from None
    try:
        pins = pins_from_json(meta.get("pins"), probs.shape[1], steps_per_beat * BEATS_PER_BAR)
        volumes = mix_from_json(meta.get("volumes"), "volumes", DEFAULT_VOLUME)
        pans = mix_from_json(meta.get("pans"), "pans", CENTRE_PAN)
    except InvalidValue as exc:
        raise InvalidValue(f"take {i + 1} {exc}") from None
    return Song(
        pins=pins,
        volumes=volumes,
        pans=pans,
        probs=probs,
        steps_per_beat=steps_per_beat,
        chunk_steps=chunk_steps,
        threshold=threshold,
        tempo=tempo,
        programs=programs,
        latents=latents,
        chunks=rows,
        settings=_take_settings(meta.get("settings"), i),
        chords=chords,
        sections=sections,
        performance=_played(z, i, name, budget),
    )


def _played(z: zipfile.ZipFile, i: int, name: str, budget: list[int]) -> Performance | None:
    """A take's notes as played (take<i>/played.json), checked; None for a take without (an older sketch)."""
    member = f"take{i}/played.json"
    if member not in z.namelist():
        return None
    data = _member(z, member, min(MAX_HEADER_BYTES * 8, budget[0]), name)
    budget[0] -= len(data)
    try:
        return Performance.from_json(json.loads(bytes(data)))
    except (ValueError, RecursionError) as exc:  # InvalidValue is a ValueError, and so is a JSON error
        raise InvalidValue(f"take {i + 1} played notes: {exc}") from None


def _chunk_rows(chunks, i: int, n_chunks: int) -> list[list[ChunkInfo]]:
    """How each chunk of each lane was made: one row of five records per chunk. A take that recorded none
    (an empty list) gets rows of 'unknown' provenance, so every edit finds a record for every chunk."""
    if not isinstance(chunks, list) or len(chunks) not in (0, n_chunks):
        count = len(chunks) if isinstance(chunks, list) else type(chunks).__name__
        raise InvalidValue(
            f"take {i + 1} chunks must list one row per chunk ({n_chunks}) of one record per lane, got {count}"
        )
    if not chunks:
        return [[ChunkInfo(UNKNOWN)] * len(LANES) for _ in range(n_chunks)]
    rows = []
    for c, row in enumerate(chunks):
        if not isinstance(row, list) or len(row) != len(LANES):
            raise InvalidValue(f"take {i + 1} chunks: chunk {c + 1} must hold one record per lane ({len(LANES)})")
        try:
            rows.append([_chunk_info(record) for record in row])
        except InvalidValue as exc:
            raise InvalidValue(f"take {i + 1} chunks: chunk {c + 1}: {exc}") from None
    return rows
