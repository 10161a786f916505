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

from ..evaluation.playing_metrics import NEAR_CHUNK as NEAR  # a chunk near an earlier one: on-cell Jaccard
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


def take_drums(p: torch.Tensor, z_next: torch.Tensor, batch: int, choice: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """New p and z_next where each take b of `choice` ({b: (drums (1, B * rows, 16) blocked, latents (1, B, K))})
    plays those drums; p: the chunk's blocked probabilities (L, B * rows, 16), z_next: its latents (L, B, K)."""
    rows = p.shape[1] // batch
    p, z_next = p.clone(), z_next.clone()
    for b, (drums, latents) in choice.items():
        p[DRUMS, b * rows : (b + 1) * rows] = drums[0, b * rows : (b + 1) * rows]
        z_next[DRUMS, b] = latents[0, b]
    return p, z_next


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
    p, z_next = take_drums(p, z_next, batch, {b: (held_drums, held[DRUMS:]) for b in back})
    return p, z_next, back


NEW_NOISE = (1.0, 2.0)  # new grooves' latents: the moved-on one plus these many times the loop's step noise


class DrumMoves:
    """Free drums that return with variation at real songs' shares, never away from the kit.

    Freed of the pull, the predictor's drums stay near an earlier chunk in about two thirds of chunks (our own takes
    with no return drawn: near 0.66, exact 0.20-0.23), with the drawn exact returns 75 % against real songs' 64: a
    take kept near-copying its groove. Of the chunks that do not return exactly, real songs come near an earlier
    one at the card's near-but-not-exact share, (recall_free - recall_free x recall_free_exact) / (1 - recall_free
    x recall_free_exact) for the drums (learned on training songs with no chords read). So each chunk a moved-on
    take draws whether its drums vary an earlier groove (near) or play a new one, and takes the first of five
    drum chunks that does so and keeps the kit (as many kit bars as held by the pull): the moved-on one, two new
    ones (its latent plus NEW_NOISE x the step's noise: the predictor's own next chunk is near an earlier one in
    84 % of chunks, one step's noise more in 61 %), halfway back toward the held one, the held one; none that
    does: the first that keeps the kit. Only the drums are decoded (one lane: `FastBand.decode_lane`). The card's
    `recall_free_chance` and `recall_free_chance_exact` are measured with this choice (learn_arrangement
    --chance-only), so the drawn exact returns make up the songs' exact share.
    """

    def __init__(self, near: float, seed: int):
        self.near = float(near)
        self.rng = np.random.default_rng([int(seed), 31])
        self.rolls: list[torch.Tensor] = []  # each earlier chunk's drums at the threshold, (B, cells) bool

    @classmethod
    def from_card(cls, g, seed: int) -> DrumMoves | None:
        """From the card's drum `recall_free` and `recall_free_exact`; None where either is unset."""
        if g.recall_free is None or g.recall_free_exact is None:
            return None
        back = float(np.broadcast_to(np.asarray(g.recall_free, dtype=float), (DRUMS + 1,))[DRUMS])
        exact = back * float(np.broadcast_to(np.asarray(g.recall_free_exact, dtype=float), (DRUMS + 1,))[DRUMS])
        return cls((back - exact) / max(1.0 - exact, 1e-9), seed)

    def _near(self, drums: torch.Tensor, threshold: float) -> np.ndarray:
        """(B,) whether each take's drums (B, steps, 128) come near (Jaccard >= NEAR) any earlier chunk's."""
        now = (drums >= threshold).flatten(1)
        if not self.rolls:
            return np.zeros(now.shape[0], dtype=bool)
        then = torch.stack(self.rolls)  # (chunks, B, cells)
        both = (then & now).sum(dim=2).float()
        either = (then | now).sum(dim=2).float()
        jaccard = torch.where(either > 0, both / either.clamp_min(1.0), torch.zeros_like(both))
        return (jaccard >= NEAR).any(dim=0).cpu().numpy()

    def remember(self, fast, blocks: list[torch.Tensor], batch: int, threshold: float) -> None:
        """The drums of the chunks in `blocks` (blocked, every lane) not yet seen, at the threshold."""
        for block in blocks[len(self.rolls) :]:
            self.rolls.append((fast.from_blocked(block[DRUMS:], batch, DRUMS)[0] >= threshold).flatten(1))

    def keep(self, fast, p, z_next, held, moved, batch, threshold, bars, noise, chords=None, blocks=()):
        """As keep_kit, choosing among the five drum chunks (see the class); blocks: the take's chunks so far
        (blocked). Returns (p, z_next, the takes whose drums are not the moved-on chunk)."""
        self.remember(fast, list(blocks), batch, threshold)
        if not moved:
            return p, z_next, []
        mine = z_next[DRUMS:]
        step = torch.as_tensor(self.rng.standard_normal(mine.shape).astype(np.float32), device=mine.device)
        halfway = torch.lerp(mine, held[DRUMS:], 0.5)
        latents = [mine, *(mine + k * noise * step for k in NEW_NOISE), halfway, held[DRUMS:]]
        decoded = [p[DRUMS:]] + [fast.decode_lane(z, DRUMS, chords) for z in latents[1:]]
        plain = [fast.from_blocked(d, batch, DRUMS)[0] for d in decoded]
        kits = [kit_bars(d, threshold, bars) for d in plain]
        nears = [self._near(d, threshold) for d in plain]
        wants = self.rng.random(batch) < self.near
        changed = []
        for b in moved:
            keeps = [i for i in range(len(latents)) if kits[i][b] >= kits[-1][b]]  # the held one always keeps it
            pick = next((i for i in keeps if nears[i][b] == wants[b]), keeps[0])
            if pick:
                changed.append((b, pick))
        if not changed:
            return p, z_next, []
        p, z_next = take_drums(p, z_next, batch, {b: (decoded[pick], latents[pick]) for b, pick in changed})
        return p, z_next, [b for b, _ in changed]


class HeldKit:
    """A form take's drums stay held by the pull (its energy, fills and repeated sections shape them), but a held
    chunk that plays fewer kit bars than the same chunk moved on (the prediction without the pull) takes the
    moved-on one. Why: a sparse style's first chunk (half-time) pulls its held drums under the threshold in whole
    bars by the take's end (half-time seed 2, as the loop left it: bars 12, 19-20 and 22-24 silent), and a silent
    bar is a break to the style's kit (styles.play_kit) and to the sections' density: form_kit's half-time 0.847
    against 0.958 for the other styles. Only the drums are decoded."""

    def keep(self, fast, p, z_next, home, pull, takes, batch, threshold, bars, chords=None):
        """(p, z_next, the takes whose drums moved on); takes: those whose drums are held this chunk."""
        if not takes or not 0 < pull < 1:
            return p, z_next, []
        moved = (z_next[DRUMS:] - pull * home[DRUMS:]) / (1.0 - pull)  # the prediction before the pull
        moved_drums = fast.decode_lane(moved, DRUMS, chords)
        then = kit_bars(fast.from_blocked(moved_drums, batch, DRUMS)[0], threshold, bars)
        now = kit_bars(fast.from_blocked(p[DRUMS:], batch, DRUMS)[0], threshold, bars)
        on = [b for b in takes if then[b] > now[b]]
        if not on:
            return p, z_next, []
        p, z_next = take_drums(p, z_next, batch, {b: (moved_drums, moved) for b in on})
        return p, z_next, on
