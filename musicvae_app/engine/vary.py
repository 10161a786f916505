"""A continuation's chunks that do not return: a variation of an earlier one or something new, at real songs' shares.

A primer's continuation keeps the pull toward its primer on every lane (freed, `musicvae evaluate` missed three
continuation goals: its lanes left the primer's groove). Held so, the chunks that draw no return still came back
near (on-cell Jaccard >= 0.6) an earlier chunk far more than real songs' (40 continuations of training songs'
primers with no return drawn: bass 66 %, drums 90 % near, against real songs' 58 / 77 %, their returns included; with
no pull 8 % and 58 %), rarely near the primer itself (bass 11 %, pitched lanes 0-3 %): the pull keeps every chunk
next to the one before. Exact returns are drawn and come near real songs' share, so what is over is the chunks near
an earlier one but not exact. `recall_primer_near` (learned on training songs, `evaluation/learn_primer_vary.py`)
gives per lane and span of the take that share in real songs, in ours, and in ours where held by the pull (no
return drawn); each chunk, each lane held there that comes near but not exact is drawn to play something new at
(ours - real) / held, and takes the first of half the pull and none that is near no earlier chunk (the drums: with
as many bars of a kick and a backbeat as held, engine/kit.py); none: as held. The pull is given up only where the
draw asks for something new, and only as far as it takes.
"""

from __future__ import annotations

import numpy as np
import torch

from ..evaluation.playing_metrics import NEAR_CHUNK as NEAR
from ..evaluation.playing_metrics import SAME_CHUNK as SAME
from ..lanes import DRUMS, LANES
from .kit import NEW_NOISE, kit_bars
from .recall import RECALL_NOISE

KINDS = ("back", "near", "exact")  # recall_primer_near's shares: held chunks that return exactly, vary, change
EASED = 0.5  # the first candidate after the held chunk keeps this share of the pull; the next the lane's least
# (the card's `recall_free_pull`: the bass on its band's roots), then that plus NEW_NOISE x the loop's step noise
# (kit.DrumMoves' new grooves)


class PrimerVary:
    """Each chunk of a continuation, each lane that does not return: near an earlier chunk or new, at the card's
    `recall_primer_near` share (per lane, by the chunk's place: `starts`, the first chunk of each span)."""

    def __init__(self, starts, eased: dict, seed: int, bars: int = 4, kept=None):
        self.starts = np.asarray(starts, dtype=int)
        self.kept = np.zeros(len(LANES)) if kept is None else np.broadcast_to(np.asarray(kept, float), (len(LANES),))
        self.eased = {k: np.asarray(eased[k], dtype=float) for k in KINDS}  # per kind, (spans, lanes)
        self.bars = bars
        self.rng = np.random.default_rng([int(seed), 32])
        self.seen: torch.Tensor | None = None  # the earlier chunks at the threshold, (chunks, L, B, cells) 0/1
        self.sizes: torch.Tensor | None = None  # their on-cells, (chunks, L, B)

    @classmethod
    def from_card(cls, g, seed: int, bars: int = 4) -> PrimerVary | None:
        """From the card's `recall_primer_near` ({"starts": [...], and per kind of KINDS [[per lane] per span]});
        None where unset. The least pull a lane keeps where it plays something new: `recall_free_pull`."""
        card = getattr(g, "recall_primer_near", None)
        if not card:
            return None
        return cls(card["starts"], card, seed, bars, g.recall_free_pull)

    def span(self, target: int) -> int:
        """The span (of `starts`) chunk `target` lies in."""
        return max(int(np.searchsorted(self.starts, target, side="right")) - 1, 0)

    def _near(self, plain: torch.Tensor, threshold: float) -> tuple[np.ndarray, np.ndarray]:
        """(L, B) twice: whether each lane's chunk of each take (plain (L, B, steps, 128)) is near an earlier one's
        (on-cell Jaccard >= NEAR), and whether it replays one (>= SAME)."""
        now = (plain >= threshold).flatten(2).float()
        if self.seen is None:
            none = np.zeros(now.shape[:2], dtype=bool)
            return none, none
        both = torch.einsum("clbn,lbn->clb", self.seen, now)  # shared on-cells with each earlier chunk
        either = self.sizes + now.sum(dim=2) - both
        jaccard = torch.where(either > 0, both / either.clamp_min(1.0), torch.zeros_like(both)).amax(dim=0)
        jaccard = jaccard.cpu().numpy()
        return jaccard >= NEAR, jaccard >= SAME

    def remember(self, fast, blocks: list[torch.Tensor], batch: int, threshold: float) -> None:
        """The chunks in `blocks` (blocked, every lane) not yet seen, at the threshold."""
        known = 0 if self.seen is None else self.seen.shape[0]
        new = [(fast.from_blocked(block, batch) >= threshold).flatten(2).float() for block in blocks[known:]]
        if new:
            added = torch.stack(new)
            self.seen = added if self.seen is None else torch.cat([self.seen, added])
            self.sizes = self.seen.sum(dim=3)

    @staticmethod
    def held(recall, target: int, revived, lanes: int, batch: int) -> list[tuple[int, int]]:
        """The (lane, take) of chunk `target` held by the pull: no return drawn there, not revived."""
        return [
            (lane, b)
            for lane in range(lanes)
            for b in range(batch)
            if not recall.returns(target, lane, b) and (revived is None or not bool(revived[lane, b]))
        ]

    def keep(self, fast, decode, chunk, returns, target: int, threshold: float, noise: float, blocks):
        """The chunk's (p, z_next) (blocked probabilities (L, B * rows, 16), latents (L, B, K)) where the lanes held
        by the pull (no return drawn, not revived) play otherwise as drawn: at the `back` share they return note
        for note to an earlier chunk of their section (the Recall's way: its latents plus a nuance, replayed after
        the groove stage); of the rest, one near an earlier chunk but not exact drawn to play something new
        (`near`) plays the first of the candidates (half the pull, the least the lane keeps, that plus NEW_NOISE
        steps of noise) that is
        near none, one exact drawn to vary (`exact`) the first that replays none exactly; the drums only one with
        as many bars of a kick and a backbeat as held; none: as held. chunk: (p, z_next, home, pull); returns:
        (the Recall, the chunks' latents so far, the revived lanes or None); decode: latents -> blocked
        probabilities (the loop's decoder); noise: the loop's step noise."""
        p, z_next, home, pull = chunk
        recall, chunk_latents, revived = returns
        lanes, batch = z_next.shape[:2]
        self.remember(fast, list(blocks), batch, threshold)
        span = self.span(target)
        draw = self.rng.random((3, lanes, batch)) < np.stack([self.eased[k][span] for k in KINDS])[:, :lanes, None]
        step = self.rng.standard_normal(tuple(z_next.shape)).astype(np.float32)
        nuance = self.rng.standard_normal(tuple(z_next.shape)).astype(np.float32) * RECALL_NOISE
        free = self.held(recall, target, revived, lanes, batch)
        if not free or not 0 < pull < 1:
            return p, z_next
        rows = p.shape[1] // batch
        back = [(lane, b) for lane, b in free if draw[0, lane, b]]
        if back:  # note for note to an earlier chunk, as the Recall draws them
            sources = recall.sources(target, None, batch)
            back = [(lane, b) for lane, b in back if sources[b] is not None]
            if back:
                z_back = z_next.clone()
                for lane, b in back:
                    src = recall.source(lane, sources[b][0], target, b)  # the chunk before at the card's share
                    z_back[lane, b] = chunk_latents[src][lane, b] + torch.as_tensor(
                        nuance[lane, b], device=z_back.device
                    )
                    recall.made.append((target, int(lane), b, src, None, True))
                p, z_next = _take(p, z_next, decode(z_back), z_back, back, rows)
        free = [f for f in free if f not in back]
        held = fast.from_blocked(p, batch)
        near, exact = self._near(held, threshold)
        wants = {}  # (lane, take): the test a candidate must pass: 0 near none, 1 exact none
        for lane, b in free:
            if near[lane, b] and not exact[lane, b] and draw[1, lane, b]:
                wants[lane, b] = 0
            elif exact[lane, b] and draw[2, lane, b]:
                wants[lane, b] = 1
        if not wants:
            return p, z_next
        own = (z_next - pull * home) / (1.0 - pull)  # the prediction before the pull
        step = torch.as_tensor(step, device=own.device) * noise
        least = torch.as_tensor(self.kept[:lanes, None, None] * pull, dtype=own.dtype, device=own.device)
        lowest = torch.lerp(own, home, least)  # the pull a lane keeps at the least (the bass its band's roots)
        latents = [torch.lerp(own, home, EASED * pull), lowest, *(lowest + k * step for k in NEW_NOISE)]
        kit_held = kit_bars(held[DRUMS], threshold, self.bars)
        for z in latents:  # the candidates in turn, each decoded only while a lane still looks for one
            decoded = decode(z)
            plain = fast.from_blocked(decoded, batch)
            passed = self._near(plain, threshold)
            kits = kit_bars(plain[DRUMS], threshold, self.bars)
            took = [(lane, b) for (lane, b), test in wants.items() if not passed[test][lane, b]]
            took = [(lane, b) for lane, b in took if lane != DRUMS or kits[b] >= kit_held[b]]
            if took:
                p, z_next = _take(p, z_next, decoded, z, took, rows)
            wants = {key: test for key, test in wants.items() if key not in took}
            if not wants:
                break
        return p, z_next


def _take(p, z_next, decoded, latents, chosen, rows: int):
    """New p and z_next where each (lane, take) of `chosen` plays `decoded` (blocked) from `latents`."""
    p, z_next = p.clone(), z_next.clone()
    for lane, b in chosen:
        p[lane, b * rows : (b + 1) * rows] = decoded[lane, b * rows : (b + 1) * rows]
        z_next[lane, b] = latents[lane, b]
    return p, z_next
