"""Undo over whole sketch states (the takes and which one is chosen), in plain Python: no Qt.

Songs are never changed in place, so a step is just (state before, state after). Consecutive steps
with the same merge key (a slider drag) become one step, as Qt's QUndoStack merges commands with the
same id. The history is bounded in steps and in the bytes of sketch data it holds; the oldest steps go
first and the newest is always kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .song import Song

HISTORY_BYTES = 384 << 20  # undo keeps at most this much sketch data (oldest steps go first)
HISTORY_STEPS = 500


@dataclass(frozen=True)
class State:
    """Everything an undo step restores."""

    takes: tuple[Song, ...] = ()
    index: int = 0

    @property
    def song(self) -> Song | None:
        return self.takes[self.index] if self.takes else None


@dataclass
class Step:
    before: State
    after: State
    text: str
    merge: int = -1


def _arrays(state: State):
    for song in state.takes:
        yield song.probs
        if song.latents is not None:
            yield song.latents


def history_bytes(steps: list[Step]) -> list[int]:
    """For each step, the bytes of sketch data it and every newer step hold (arrays shared are counted once)."""
    seen: set[int] = set()
    total, out = 0, []
    for step in reversed(steps):
        for state in (step.after, step.before):
            for array in _arrays(state):
                if id(array) not in seen:
                    seen.add(id(array))
                    total += array.nbytes
        out.append(total)
    return out[::-1]


class History:
    """A linear undo history calling `apply(state)` on push, undo and redo.

    Answers both Python names (can_undo, is_clean...) and the QUndoStack names the window's tests and
    menus used (canUndo, isClean, count, index...), so code written against either keeps working.
    """

    def __init__(self, apply: Callable[[State], None], budget: int | None = None, steps: int | None = None):
        self.apply = apply
        self.budget, self.max_steps = budget, steps
        self.steps: list[Step] = []
        self._index = 0  # steps[:index] are done
        self._clean: int | None = 0  # the index at which the sketch equals the file on disk; None: never again
        self.dropped = 0  # old steps dropped to keep the history bounded, in all
        self.listeners: list[Callable[[], None]] = []

    # --- changes -------------------------------------------------------------------------------
    def push(self, before: State, after: State, text: str, merge: int = -1) -> None:
        """Apply `after` and record the step; a step with the merge key of the last one (>= 0) joins it."""
        del self.steps[self._index :]
        if self._clean is not None and self._clean > self._index:
            self._clean = None
        last = self.steps[-1] if self.steps else None
        if merge >= 0 and last is not None and last.merge == merge and self._index != self._clean:
            last.after, last.text = after, text
            self.apply(after)
        else:
            self.steps.append(Step(before, after, text, merge))
            self._index += 1
            self.apply(after)
            self._trim()
        self._changed()

    def _trim(self) -> int:
        budget = HISTORY_BYTES if self.budget is None else self.budget
        limit = HISTORY_STEPS if self.max_steps is None else self.max_steps
        if len(self.steps) < 2:
            return 0
        sizes = history_bytes(self.steps)
        first = max(0, len(self.steps) - limit)
        while first < len(self.steps) - 1 and sizes[first] > budget:
            first += 1
        if first == 0:
            return 0
        del self.steps[:first]
        self._index -= first
        if self._clean is not None:
            self._clean = self._clean - first if self._clean >= first else None
        for step in self.steps:
            step.merge = -1  # as Qt's replayed commands: no merging into a step that was kept
        self.dropped += first
        return first

    def undo(self) -> bool:
        if not self._index:
            return False
        self._index -= 1
        self.apply(self.steps[self._index].before)
        self._changed()
        return True

    def redo(self) -> bool:
        if self._index >= len(self.steps):
            return False
        self.apply(self.steps[self._index].after)
        self._index += 1
        self._changed()
        return True

    def clear(self) -> None:
        """Forget every step (the state on screen stays); a clear history is clean."""
        self.steps.clear()
        self._index, self._clean = 0, 0
        self._changed()

    def set_clean(self) -> None:
        self._clean = self._index
        self._changed()

    def reset_clean(self) -> None:
        """Modified, and no undo or redo makes it unmodified again."""
        self._clean = None
        self._changed()

    def _changed(self) -> None:
        for listener in list(self.listeners):
            listener()

    # --- reading -------------------------------------------------------------------------------
    @property
    def can_undo(self) -> bool:
        return self._index > 0

    @property
    def can_redo(self) -> bool:
        return self._index < len(self.steps)

    @property
    def is_clean(self) -> bool:
        return self._clean == self._index

    @property
    def undo_text(self) -> str:
        return self.steps[self._index - 1].text if self._index else ""

    @property
    def redo_text(self) -> str:
        return self.steps[self._index].text if self.can_redo else ""

    # QUndoStack's names
    def count(self) -> int:
        return len(self.steps)

    def index(self) -> int:
        return self._index

    def text(self, i: int) -> str:
        return self.steps[i].text

    def canUndo(self) -> bool:  # noqa: N802
        return self.can_undo

    def canRedo(self) -> bool:  # noqa: N802
        return self.can_redo

    def isClean(self) -> bool:  # noqa: N802
        return self.is_clean

    def setClean(self) -> None:  # noqa: N802
        self.set_clean()

    def resetClean(self) -> None:  # noqa: N802
        self.reset_clean()
