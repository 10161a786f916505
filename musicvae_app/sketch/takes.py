"""The takes of a sketch and their undo history: every change to the takes is one undoable step here."""

from __future__ import annotations

from collections.abc import Callable

from .song import Song
from .undo import History, State


class Takes:
    """The takes on screen (a State: the takes and which is current) and the History that undoes them.

    `on_change(state)` runs after every change, undo and redo (the Session updates its controls and tells
    its listeners)."""

    def __init__(self, on_change: Callable[[State], None]) -> None:
        self.state = State()
        self.on_change = on_change
        self.history = History(self._set)

    def _set(self, state: State) -> None:
        self.state = state
        self.on_change(state)

    @property
    def song(self) -> Song | None:
        """The current take."""
        return self.state.song

    @property
    def takes(self) -> tuple[Song, ...]:
        return self.state.takes

    @property
    def index(self) -> int:
        return self.state.index

    def change(self, after: State, text: str, merge: int = -1) -> None:
        """Move to `after` as one undo step named `text` (steps with one merge key >= 0 join)."""
        self.history.push(self.state, after, text, merge)

    def replace_current(self, song: Song, text: str, merge: int = -1) -> None:
        """Swap the current take for a changed one (a regenerated lane, a Jam continuation)."""
        takes = list(self.state.takes)
        takes[self.state.index] = song
        self.change(State(tuple(takes), self.state.index), text, merge)

    def replace(self, old: Song, new: Song, text: str) -> bool:
        """Swap take `old` for `new` wherever it is now; False when it was undone or dropped meanwhile."""
        takes = list(self.state.takes)
        i = next((j for j, take in enumerate(takes) if take is old), None)
        if i is None:
            return False
        takes[i] = new
        self.change(State(tuple(takes), self.state.index), text)
        return True

    def map(self, text: str, merge: int, change: Callable[[Song], Song]) -> None:
        """Change every take the same way (a tempo, a threshold, sections): one undo step."""
        if self.state.takes:
            self.change(State(tuple(change(s) for s in self.state.takes), self.state.index), text, merge)

    def pick(self, index: int) -> None:
        if 0 <= index < len(self.state.takes) and index != self.state.index:
            self.change(State(self.state.takes, index), f"Take {index + 1}")

    def keep_current(self) -> None:
        """Keep only the current take."""
        if len(self.state.takes) > 1:
            self.change(State((self.song,), 0), f"Keep take {self.state.index + 1}")
