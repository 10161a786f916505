"""Drums that move on and keep the kit: a take without chords frees its drums of the pull only where they keep it.

Held by the pull toward the first chunk, a free take's drums came back to an earlier chunk far more than real
songs' (exact / near 51 / 90 % of chunks against 34 / 64, 48 validation songs); freed entirely, as the chart path
frees them, they came to real songs' repeats but their bars with a kick and a backbeat fell from 84.5 to 72.4 %
(real songs 90.1: benchmarks/RESULTS.md). The predictor's free drums wander off the kit (a percussion bar, a bar
of toms) more often than a drummer does. So each chunk the loop decodes the drums both ways, moved on and held, and
a take's drums move on only where the moved-on chunk keeps at least as many bars with a kick and a backbeat as the
held one would have played: a groove that changes, never away from the kit. The returns the card draws for the
drums (`recall_free`, learned from training songs with no chords read) bring the earlier kit chunks back.
"""

from __future__ import annotations

import numpy as np
import torch

from ..lanes import DRUMS
from ..theory.dynamics import BACKBEAT, KICKS


def kit_bars(drums: torch.Tensor, threshold: float, bars: int) -> np.ndarray:
    """(B,) how many of each chunk's `bars` bars play a kick and a backbeat (snare, clap or side stick) at or over
    the threshold; drums: the drum lane's plain probabilities (B, chunk_steps, 128)."""
    batch, steps = drums.shape[:2]
    per_bar = drums[:, : steps // bars * bars].reshape(batch, bars, -1, 128) >= threshold
    kick = per_bar[..., list(KICKS)].any(dim=(2, 3))
    backbeat = per_bar[..., list(BACKBEAT)].any(dim=(2, 3))
    return (kick & backbeat).sum(dim=1).cpu().numpy()


def keep_kit(
    fast,
    p: torch.Tensor,
    z_next: torch.Tensor,
    held: torch.Tensor,
    moved: list[int],
    batch: int,
    threshold: float,
    bars: int,
    chords=None,
) -> tuple[torch.Tensor, torch.Tensor, list[int]]:
    """Where the drums of the takes in `moved` (moved on, free of the pull) play fewer kit bars than `held` (the
    same chunk's latents with the pull) would, the drums take the held latents and their decode. Only the drums
    are decoded and unblocked: the other lanes' held chunks are never heard (decoding all five cost four lanes for
    nothing). p: the chunk's blocked probabilities (L, B * rows, 16) decoded from z_next (L, B, K). Returns (p,
    z_next, the takes held back); the tensors are new ones where anything changed."""
    if not moved:
        return p, z_next, []
    now = kit_bars(fast.from_blocked(p[DRUMS:], batch, DRUMS)[0], threshold, bars)
    held_drums = fast.decode_lane(held[DRUMS:], DRUMS, chords)  # the drums alone: what the check compares
    then = kit_bars(fast.from_blocked(held_drums, batch, DRUMS)[0], threshold, bars)
    back = [b for b in moved if now[b] < then[b]]
    if not back:
        return p, z_next, []
    rows = p.shape[1] // batch
    p, z_next = p.clone(), z_next.clone()
    for b in back:
        p[DRUMS, b * rows : (b + 1) * rows] = held_drums[0, b * rows : (b + 1) * rows]
        z_next[DRUMS, b] = held[DRUMS, b]
    return p, z_next, back
