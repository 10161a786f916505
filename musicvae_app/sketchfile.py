"""A sketch on disk: every take's probabilities, latents and settings in one versioned file.

The file is a zip holding `sketch.json` (format, version, settings, per-take metadata) and one
`.npy` per array, read with allow_pickle=False. Qt-free. Writes are atomic: a temp file beside the
target, flushed, then renamed over it, so a crash mid-write leaves the previous file whole.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .song import ChunkInfo, Song

FORMAT = "musicvae-sketch"
FORMAT_VERSION = 1
SUFFIX = ".mvsketch"
_HEADER = "sketch.json"


class SketchError(Exception):
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
        settings=song.settings,
        has_latents=song.latents is not None,
    )


def dumps(sketch: Sketch) -> bytes:
    """The file's bytes (a zip)."""
    if not sketch.takes:
        raise ValueError("a sketch needs at least one take")
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
    return buf.getvalue()


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def save(sketch: Sketch, path: str | Path) -> Path:
    """Write atomically; the folder is created if missing."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = dumps(sketch)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load(path: str | Path) -> Sketch:
    """Read a sketch; raise SketchError for a missing, damaged, foreign or newer file."""
    path = Path(path)
    name = f"'{path.name}'"
    try:
        z = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise SketchError(f"sketch '{path}' does not exist") from None
    except IsADirectoryError:
        raise SketchError(f"'{path}' is a folder, not a sketch file") from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise SketchError(f"{name} is not a musicvae-app sketch (not a sketch archive: {exc})") from None
    with z:
        try:
            header = json.loads(z.read(_HEADER))
        except KeyError:
            raise SketchError(f"{name} is not a musicvae-app sketch (no {_HEADER} inside)") from None
        except (ValueError, zipfile.BadZipFile, OSError) as exc:
            raise SketchError(f"{name} is damaged: {_HEADER} is unreadable ({exc})") from None
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise SketchError(f"{name} is not a musicvae-app sketch (format {header.get('format')!r})")
        version = header.get("format_version")
        if not isinstance(version, int) or version < 1:
            raise SketchError(f"{name} has no valid format version; it may be damaged")
        if version > FORMAT_VERSION:
            raise SketchError(
                f"{name} was saved by a newer musicvae-app (sketch format {version}, this app reads up to "
                f"{FORMAT_VERSION}): update the app to open it"
            )
        try:
            takes = [_read_take(z, i, meta) for i, meta in enumerate(header["takes"])]
            current = int(header.get("current", 0))
            settings = dict(header.get("settings") or {})
        except (KeyError, TypeError, ValueError, zipfile.BadZipFile, OSError) as exc:
            raise SketchError(f"{name} is damaged ({type(exc).__name__}: {exc})") from None
    if not takes:
        raise SketchError(f"{name} holds no takes")
    return Sketch(takes=takes, current=min(max(current, 0), len(takes) - 1), settings=settings)


def _read_take(z: zipfile.ZipFile, i: int, meta: dict) -> Song:
    probs = np.load(io.BytesIO(z.read(f"take{i}/probs.npy")), allow_pickle=False)
    latents = None
    if meta.get("has_latents"):
        latents = np.load(io.BytesIO(z.read(f"take{i}/latents.npy")), allow_pickle=False)
    return Song(
        probs=probs,
        steps_per_beat=int(meta["steps_per_beat"]),
        chunk_steps=int(meta["chunk_steps"]),
        threshold=float(meta["threshold"]),
        tempo=float(meta["tempo"]),
        programs=[int(p) for p in meta["programs"]],
        latents=latents,
        chunks=[[ChunkInfo(**c) for c in row] for row in meta.get("chunks", [])],
        settings=dict(meta.get("settings") or {}),
    )
