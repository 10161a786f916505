"""Undo over whole sketch states: the takes and which one is chosen. Songs are never changed in place."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtGui import QUndoCommand, QUndoStack

from ..song import Song

HISTORY_BYTES = 384 << 20  # undo keeps at most this much sketch data (oldest steps go first)
HISTORY_STEPS = 500
DROPPED_PROPERTY = "droppedSteps"  # on the stack: how many old steps trim_history has dropped so far


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
        self.replayed = False  # re-pushed by trim_history: its state is already on screen

    def redo(self) -> None:
        if self.replayed:
            self.replayed = False
            return
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


def _arrays(state: State):
    for song in state.takes:
        yield song.probs
        if song.latents is not None:
            yield song.latents


def history_bytes(commands: list[Change]) -> list[int]:
    """For each command, the bytes of sketch data it and every newer command hold (arrays shared are counted once)."""
    seen: set[int] = set()
    total, out = 0, []
    for command in reversed(commands):
        for state in (command.after, command.before):
            for array in _arrays(state):
                if id(array) not in seen:
                    seen.add(id(array))
                    total += array.nbytes
        out.append(total)
    return out[::-1]


def trim_history(stack: QUndoStack, budget: int = HISTORY_BYTES, steps: int = HISTORY_STEPS) -> int:
    """Drop the oldest undo steps until the history holds at most `budget` bytes and `steps` steps.

    The newest step is always kept. Call right after a push (nothing to redo). Returns how many
    steps were dropped.
    """
    if stack.index() != stack.count() or stack.count() < 2:
        return 0
    commands = [stack.command(i) for i in range(stack.count())]
    if not all(isinstance(c, Change) for c in commands):
        return 0
    sizes = history_bytes(commands)
    first = max(0, len(commands) - steps)
    while first < len(commands) - 1 and sizes[first] > budget:
        first += 1
    if first == 0:
        return 0
    clean = stack.cleanIndex()
    stack.setProperty(DROPPED_PROPERTY, int(stack.property(DROPPED_PROPERTY) or 0) + first)
    kept = [Change(c.apply, c.before, c.after, c.text()) for c in commands[first:]]  # no merging while replayed
    stack.clear()
    for command in kept:
        command.replayed = True
        stack.push(command)
    if clean == len(commands):
        stack.setClean()
    else:
        stack.resetClean()
    return first
