"""A Session's files: the sketch file (save, open, restore) and the exports (MIDI, stems), each written
atomically; a failure is said through the session's "error" event and the sketch stays as it is."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..atomic import atomic_write, atomic_write_set
from ..errors import InvalidValue
from . import sketchfile
from .midi import lane_ticks, song_to_midifile
from .sketchfile import Sketch, SketchError
from .song import LANES
from .undo import State

if TYPE_CHECKING:
    from .session import Session

OPEN_TEXT = "Open sketch"


class SketchFiles:
    """The file side of one Session (session.files); the Session forwards these names."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def export_midi(self, path: str | Path) -> Path | None:
        return export_midi(self.session, path)

    def export_stems(self, folder: str | Path) -> list[Path]:
        return export_stems(self.session, folder)

    def snapshot(self) -> Sketch | None:
        return snapshot(self.session)

    def save(self, path: str | Path) -> bool:
        return save(self.session, path)

    save_sketch = save

    def restore(self, sketch: Sketch, text: str = "Restore sketch") -> None:
        restore(self.session, sketch, text)

    def open_sketch(self, path: str | Path, text: str = OPEN_TEXT) -> bool:
        return open_sketch(self.session, path, text)


def export_midi(session: Session, path: str | Path) -> Path | None:
    """The DAW-ready file of the current take (muted lanes left out); its path, or None (said)."""
    if not session.have_song("export"):
        return None
    song, lanes, path = session.song, session.audible_lanes(), Path(path)
    try:
        out = atomic_write(path, lambda f: song_to_midifile(song, lanes).save(file=f))
    except OSError as exc:
        session.events.error("Export failed", f"Could not write '{path}': {exc.strerror or exc}. Pick another folder.")
        return None
    session.events.status(f"Exported {out}", 5000)
    return out


def export_stems(session: Session, folder: str | Path) -> list[Path]:
    """One .mid per lane with notes (folder/<stem>-piano.mid ...), written as a set: all or none."""
    if not session.have_song("export stems"):
        return []
    song, stem, folder = session.song, session.file_stem(), Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        items = [
            (folder / f"{stem}-{LANES[lane]}.mid", lambda f, lane=lane: song_to_midifile(song, [lane]).save(file=f))
            for lane in range(len(LANES))
            if lane_ticks(song, lane)
        ]
        paths = atomic_write_set(items)
    except OSError as exc:
        session.events.error("Export failed", f"Could not write stems to '{folder}': {exc.strerror or exc}.")
        return []
    session.events.status(f"Wrote {len(paths)} stems to {folder}", 5000)
    return paths


def snapshot(session: Session) -> Sketch | None:
    """The sketch as a file holds it (None when there are no takes yet)."""
    if not session.takes:
        return None
    mix, inputs = session.mix, session.inputs
    settings = dict(
        primer=str(inputs.primer) if inputs.primer else None,
        follow=str(inputs.part) if inputs.part else None,
        locks=list(mix.locks),
        lineup=list(mix.lineup),
        mutes=list(mix.mutes),
        solos=list(mix.solos),
        path=str(session.path) if session.path else None,
        clean=session.history.is_clean,
        generation={
            **session.settings.to_dict(),
            **session.arrangement.arrangement_settings(),
            **({"style": session.style} if session.style else {}),
        },
    )
    return Sketch(list(session.takes), session.index, settings)


def save(session: Session, path: str | Path) -> bool:
    """Save the sketch file (atomically, with the user's file mode); it is then not modified."""
    sketch = snapshot(session)
    if sketch is None:
        return session.have_song("save")
    try:
        session.path = sketchfile.save(sketch, path)
    except OSError as exc:
        session.events.error("Save failed", f"Could not save '{path}': {exc.strerror or exc}. Pick another folder.")
        return False
    session.history.set_clean()
    return True


def restore(session: Session, sketch: Sketch, text: str = "Restore sketch") -> None:
    """Put a sketch's takes and lane settings back, as one undoable change."""
    settings = dict(sketch.settings or {})
    session.mix.restore(settings)
    session.opened_settings = settings
    generation = settings.get("generation") if isinstance(settings.get("generation"), dict) else {}
    if "key" in generation or "scale_lock" in generation:  # the next Generate's key comes back with the sketch
        try:
            session.set_key(generation.get("key", session.settings.key), generation.get("scale_lock"))
        except InvalidValue:
            pass
    unknown_style = restore_style(session, generation.get("style"))
    session.events.emit("lanes")
    session.reel.change(State(tuple(sketch.takes), sketch.current), text)
    dropped = list(settings.get(sketchfile.DROPPED) or []) + unknown_style
    dropped += session.arrangement.restore_arrangement(generation)
    if dropped:  # the takes came back; what around them could not is said, never lost in silence
        session.events.error(
            "Part of the sketch could not be kept",
            "The sketch opened, but these were unusable and are left out: " + "; ".join(dropped) + ".",
        )


def restore_style(session: Session, name: str | None) -> list[str]:
    """The next Generate's style as the sketch saved it (none saved: Auto), without its tempo and swing (the
    sketch's own come back); a style the loaded pack lacks is Auto, and said ([what was left out])."""
    engine = session.jobs.engine
    try:
        style = engine.style_set.get(name) if engine is not None else None
    except InvalidValue:
        session.style = None
        return [f"the style '{str(name)[:40]}' (this model pack has no such style: Auto)"]
    session.style = style.name if style is not None else (name if engine is None else None)
    session.events.emit("settings")
    return []


def open_sketch(session: Session, path: str | Path, text: str = OPEN_TEXT) -> bool:
    """Open a sketch file as an undoable change; a bad, foreign or newer file says why and changes nothing."""
    try:
        sketch = sketchfile.load(path)
    except SketchError as exc:
        session.events.error("Cannot open sketch", str(exc))
        return False
    restore(session, sketch, text)
    if text == OPEN_TEXT:  # a file just opened is what is on disk: not modified
        session.path = Path(path)
        session.history.set_clean()
    else:  # the last sketch (or a crashed one) comes back under the file name it had, if any
        saved_as = (sketch.settings or {}).get("path")
        session.path = Path(saved_as) if saved_as else session.path
        session.events.emit("history")
    return True
