"""Where and how the engine runs: the device, torch's thread count, seeds and the limits on a request."""

from __future__ import annotations

import secrets
from contextlib import contextmanager

import numpy as np
import torch

from ..errors import InvalidValue

MAX_STEPS = 1024
MAX_VARIATIONS = 64


def pick_device(device: str = "auto") -> torch.device:
    """'auto' picks CUDA when torch sees it, else the CPU."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device not in ("cpu", "cuda"):
        raise InvalidValue(f"unknown device {device!r}: use auto, cpu or cuda")
    if device == "cuda" and not torch.cuda.is_available():
        raise InvalidValue("device 'cuda' was asked for but torch sees no CUDA GPU: use --device cpu or auto")
    return torch.device(device)


def new_seed() -> int:
    return secrets.randbelow(2**31)


@contextmanager
def torch_threads(threads: int | None):
    """Run the block with `threads` intra-op threads (None: leave torch's setting alone)."""
    if not threads:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _check_count(name: str, value, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
        raise InvalidValue(f"{name} must be a whole number from {low} to {high}, got {value!r}")
    return int(value)
