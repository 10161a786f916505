"""Undo over whole sketch states: the takes and which one is chosen. Songs are never changed in place."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtGui import QUndoCommand

from ..song import Song


@dataclass(frozen=True)
class State:
    """Everything an undo step restores."""

    takes: tuple[Song, ...] = ()
    index: int = 0

    @property
    def song(self) -> Song | None:
        return self.takes[self.index] if self.takes else None


class Change(QUndoCommand):
    """before -> after; consecutive changes with the same merge key (a slider drag) become one step."""

    def __init__(self, apply: Callable[[State], None], before: State, after: State, text: str, merge: int = -1):
        super().__init__(text)
        self.apply, self.before, self.after, self.merge = apply, before, after, merge

    def redo(self) -> None:
        self.apply(self.after)

    def undo(self) -> None:
        self.apply(self.before)

    def id(self) -> int:
        return self.merge

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 (Qt's name)
        if not isinstance(other, Change) or other.merge != self.merge or self.merge < 0:
            return False
        self.after = other.after
        self.setText(other.text())
        return True
