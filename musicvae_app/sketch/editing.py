"""Note editing and the mixer of a Session (session.editing; the Session forwards every name here).

Every edit is one undo step on the current take: add a note, move notes (in time and pitch, together),
resize one, delete notes, set their velocity; the bars it touches are pinned (pins.py): they keep exactly
these notes at any threshold, and Generate and Regenerate ask before they replace them (`may_replace`, the window's
question in `ask`). The mixer's volume and pan (MIDI CC7 and CC10, 0-127) are set on every take, as the
instrument is, and a drag of one lane's fader undoes as one step. No Qt: the window and scripts call these.

Notes are (pitch, start step, end step, velocity), steps 0-based on the take's grid (song.steps_per_beat a
beat), the end exclusive; a note is named by (pitch, start step).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable

from ..errors import InvalidValue
from ..limits import check_int
from .jobs import Events
from .pins import DRUM_HIT_STEPS, Note, check_note, lane_notes, note_bars, pin, pinned_bars, with_pins
from .song import DRUMS, LANES, Song, lane_index
from .takes import Takes

DEFAULT_VELOCITY = 100
MERGE_VOLUME = 50  # + lane: a drag of one lane's volume fader is one undo step
MERGE_PAN = 60  # + lane


class NoteEditing:
    """The edits of the notes and the mix of the current take, each one undo step on `reel`."""

    def __init__(self, reel: Takes, events: Events) -> None:
        self.reel = reel
        self.events = events
        self.ask: Callable[[str, str], bool] | None = None  # (title, text) -> replace? The window's question

    # --- reading ------------------------------------------------------------------------------------
    def _song(self) -> Song:
        song = self.reel.song
        if song is None:
            raise InvalidValue("there is no sketch to edit yet: Generate one first")
        return song

    def lane_notes(self, lane: int | str) -> list[Note]:
        """The current take's notes of a lane, by pitch then start (what plays and exports)."""
        return lane_notes(self._song(), lane_index(lane))

    def edited_bars(self, lane: int | str) -> list[int]:
        """The bars (1-based) of a lane the musician edited in the current take."""
        song = self.reel.song
        return [] if song is None else [b + 1 for b in pinned_bars(song, lane_index(lane))]

    def may_replace(
        self, lanes: Iterable[int], first_bar: int = 1, last_bar: int | None = None, verb: str = "Regenerate"
    ) -> bool:
        """Whether new material may replace bars first_bar..last_bar (1-based) of `lanes`: True when none of
        them was edited, else the answer to the window's question (scripts, with no `ask`: True). `verb`
        names what replaces them (Regenerate, Generate)."""
        song = self.reel.song
        if song is None:
            return True
        last_bar = song.n_bars if last_bar is None else last_bar
        hit = {LANES[i]: [b for b in self.edited_bars(i) if first_bar <= b <= last_bar] for i in lanes}
        hit = {lane: bars for lane, bars in hit.items() if bars}
        if not hit or self.ask is None:
            return True
        where = "; ".join(f"{lane} bars {_bar_list(bars)}" for lane, bars in hit.items())
        text = f"You edited notes in {where}. {verb} replaces them."
        if verb == "Generate":
            text += " Lock a lane to keep it as it is; Undo brings your edits back."
        return bool(self.ask("Replace your edits?", text))

    # --- the edits ----------------------------------------------------------------------------------
    def _edit(self, lane: int | str, touched: Iterable[int], change: Callable[[list[Note]], list[Note]], text: str):
        song = self._song()
        li = lane_index(lane)
        spb = song.steps_per_bar
        pinned, notes = pin(song, li, {s // spb for s in touched if 0 <= s < song.n_steps})
        new = with_pins(pinned, li, (), change(list(notes)))
        self.reel.replace_current(new, text)
        return new

    def _find(self, notes: list[Note], lane: int, keys) -> list[Note]:
        """The notes named by (pitch, start step); InvalidValue names one that is not there."""
        out = []
        for key in keys:
            try:
                pitch, start = (int(x) for x in tuple(key)[:2])
            except (TypeError, ValueError):
                raise InvalidValue(f"name a note by (pitch, start step), got {key!r}") from None
            match = next((n for n in notes if n[0] == pitch and n[1] == start), None)
            if match is None:
                raise InvalidValue(f"the {LANES[lane]} lane has no note of pitch {pitch} starting at step {start}")
            if match not in out:
                out.append(match)
        if not out:
            raise InvalidValue("choose at least one note")
        return out

    def add_note(
        self, lane: int | str, pitch: int, start: int, length: int | None = None, velocity: int = DEFAULT_VELOCITY
    ) -> Note:
        """Add a note (`length` steps; default a beat, a hit on drums): one undo step "Add note". A note of
        the same pitch it overlaps is cut where the new one starts (or removed, if it starts inside it)."""
        song = self._song()
        li = lane_index(lane)
        length = (DRUM_HIT_STEPS if li == DRUMS else song.steps_per_beat) if length is None else length
        start = check_int("start step", start, 0, song.n_steps - 1)
        length = check_int("length", length, 1, song.n_steps - start)
        note = check_note(song, li, (pitch, start, start + length, velocity))
        self._edit(li, range(note[1], note[2]), lambda notes: _placed(notes, [note]), "Add note")
        return note

    def delete_notes(self, lane: int | str, notes) -> int:
        """Delete the notes named by (pitch, start step): one undo step; how many went."""
        li = lane_index(lane)
        keys = list(notes)
        gone = self._find(self.lane_notes(li), li, keys)
        touched = [s for n in gone for s in range(n[1], n[2])]
        self._edit(li, touched, lambda all_: [n for n in all_ if n not in gone], _count("Delete", len(gone)))
        return len(gone)

    def move_notes(self, lane: int | str, notes, steps: int = 0, semitones: int = 0) -> list[Note]:
        """Move the named notes together by `steps` (time) and `semitones` (pitch; on drums: to another drum
        row): one undo step; the moved notes. Refused (InvalidValue) when one would leave the sketch."""
        song = self._song()
        li = lane_index(lane)
        steps = check_int("steps", steps, -song.n_steps, song.n_steps)
        semitones = check_int("semitones", semitones, -127, 127)
        moving = self._find(self.lane_notes(li), li, list(notes))
        moved = [check_note(song, li, (p + semitones, s + steps, e + steps, v)) for p, s, e, v in moving]
        if not steps and not semitones:
            return moved
        touched = [s for n in moving + moved for s in range(n[1], n[2])]
        text = _count("Move", len(moved))
        self._edit(li, touched, lambda all_: _placed([n for n in all_ if n not in moving], moved), text)
        return moved

    def resize_note(self, lane: int | str, note, end: int) -> Note:
        """Give the named note a new end step (exclusive; at least one step long): one undo step."""
        song = self._song()
        li = lane_index(lane)
        if li == DRUMS:
            raise InvalidValue("a drum note is a hit: move it or change its velocity instead")
        (old,) = self._find(self.lane_notes(li), li, [note])
        end = check_int("end step", end, old[1] + 1, song.n_steps)
        new = (old[0], old[1], end, old[3])
        if end != old[2]:
            touched = range(old[1], max(end, old[2]))
            self._edit(li, touched, lambda all_: _placed([n for n in all_ if n != old], [new]), "Resize note")
        return new

    def set_velocity(self, lane: int | str, notes, velocity) -> list[Note]:
        """Set the named notes' velocity (1-127; one number, or one per note): one undo step."""
        li = lane_index(lane)
        chosen = self._find(self.lane_notes(li), li, list(notes))
        values = list(velocity) if isinstance(velocity, (list, tuple)) else [velocity] * len(chosen)
        if len(values) != len(chosen):
            raise InvalidValue(f"give one velocity, or one per note ({len(chosen)}), got {len(values)}")
        values = [check_int("velocity", v, 1, 127) for v in values]
        change = dict(zip(chosen, values))
        if all(n[3] == v for n, v in change.items()):
            return chosen
        touched = [s for n in chosen for s in range(n[1], n[2])]
        self._edit(li, touched, lambda all_: [(*n[:3], change.get(n, n[3])) for n in all_], "Velocity")
        return [(*n[:3], change[n]) for n in chosen]

    # --- the mixer ------------------------------------------------------------------------------------
    def set_volume(self, lane: int | str, value: int) -> None:
        """A lane's volume (MIDI CC7, 0-127; 100 the General MIDI default), on every take: saved, exported,
        played and rendered. A fader drag is one undo step."""
        self._set_mix(lane, "volumes", check_int("volume", value, 0, 127), "volume", MERGE_VOLUME)

    def set_pan(self, lane: int | str, value: int) -> None:
        """A lane's pan (MIDI CC10, 0 hard left, 64 the centre, 127 hard right), on every take."""
        self._set_mix(lane, "pans", check_int("pan", value, 0, 127), "pan", MERGE_PAN)

    def _set_mix(self, lane, name: str, value: int, what: str, merge: int) -> None:
        li = lane_index(lane)
        song = self.reel.song
        if song is None or getattr(song, name)[li] == value:
            return

        def change(s: Song) -> Song:
            values = list(getattr(s, name))
            values[li] = value
            return dataclasses.replace(s, **{name: values})

        self.reel.map(f"{LANES[li].capitalize()} {what}", merge + li, change)


def _placed(notes: list[Note], new: list[Note]) -> list[Note]:
    """`notes` with `new` put in: a note of the same pitch a new one overlaps is cut where the new one starts,
    or removed when it starts inside it (two notes of one pitch never sound at once)."""
    out = []
    for p, s, e, v in notes:
        for q, ns, ne, _ in new:
            if q != p or e <= ns or s >= ne:
                continue
            if s < ns:
                e = ns
            else:
                e = s  # removed
        if e > s:
            out.append((p, s, e, v))
    return out + list(new)


def _count(verb: str, n: int) -> str:
    return f"{verb} note" if n == 1 else f"{verb} {n} notes"


def _bar_list(bars: list[int]) -> str:
    return ", ".join(str(b) for b in bars[:8]) + (" ..." if len(bars) > 8 else "")


__all__ = ["NoteEditing", "note_bars", "DEFAULT_VELOCITY"]
