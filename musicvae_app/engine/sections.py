"""Sections at generation: a section that comes back (a second verse, the last chorus) plays the music of its
first time with a variation, as a band plays a song's form, and the drums fill into every new section.

After the loop, each bar of a repeated section is decoded again from the latents of the bar it repeats
(the first section of its kind, bar for bar; a longer repeat goes round that section again) plus a little
noise, with the chords its own bars have, and takes that bar's place. Chunks are 4 bars, so a section on a
chunk's bar lines gets whole chunks; any other bar takes its bar of the decoded chunk. Lanes the take keeps
as given (a primer's, locked lanes, a followed part) are left as they are. The fills are groove's
(`Groove.apply(fill_bars=...)`, run by the post stage): the last bar before each section's first bar always fills.
"""

from __future__ import annotations

import numpy as np
import torch

from ..theory.sections import Section, check_sections, repeats

# sd of the noise on a repeated section's latents (the loop's own is about 1): on the shipped pack a repeated
# chorus's cells against its first time's F1 0.93, a verse's against a chorus's 0.83 (8 seeds)
VARIATION = 0.15
_SEED_SALT = 21  # a repeat's noise comes from its own generator, so takes without sections are unchanged


def fill_bars(sections: list[Section]) -> list[int]:
    """0-based bars that lead into a section (the bar before each section's first bar, after bar 1)."""
    return sorted({s.start - 2 for s in sections if s.start > 1})


def repeat_map(sections: list[Section], n_bars: int) -> dict[int, int]:
    """{bar of a repeated section: the bar of its first section it plays} (0-based, inside n_bars)."""
    out = {}
    for again, first in repeats(sections):
        for k in range(again.bars):
            target, source = again.start - 1 + k, first.start - 1 + k % first.bars
            if target < n_bars and source < n_bars and source != target:
                out[target] = source
    return out


class Sections:
    """Repeated sections played again with a variation, decoded with the engine's Decoder on the Loop's threads."""

    def __init__(self, cfg, fast, device: torch.device, decoder, loop, harmony_after: bool):
        self.cfg = cfg
        self.fast = fast
        self.device = device
        self.decoder = decoder
        self.loop = loop
        self.harmony_after = harmony_after

    @staticmethod
    def check(sections, n_bars: int) -> list[Section]:
        """The call's sections, checked inside n_bars (theory.sections.check_sections)."""
        return check_sections(sections, n_bars)

    def repeat(self, probs, latents, sections, plan, threshold: float, seed: int, keep=None) -> None:
        """In place on probs (L, B, steps, 128) and latents (chunks, L, B, K), in the pack's key space, before
        the take is moved to its key. plan: the call's ChordPlan or None; keep: (chunks, L) bool, chunks of
        lanes to leave as they are."""
        bars, spb = self.cfg.bars, self.cfg.chunk_steps // self.cfg.bars
        lanes, batch = probs.shape[:2]
        n_bars = probs.shape[2] // spb
        mapping = repeat_map(sections, n_bars)
        if not mapping:
            return
        # one decode per (repeat, chunk of the first section it draws on): the chunk's latents plus noise,
        # with the chords of the bars each of its bars will land on
        jobs: dict[tuple[int, int], dict[int, int]] = {}  # (repeat's first bar, source chunk) -> {bar in chunk: target}
        for again, _ in repeats(sections):
            for k in range(again.bars):
                target = again.start - 1 + k
                if mapping.get(target) is None:
                    continue
                source = mapping[target]
                jobs.setdefault((again.start, source // bars), {})[source % bars] = target
        keys = sorted(jobs)
        n = len(keys)
        gen = torch.Generator().manual_seed(int(seed) * 1000 + _SEED_SALT)
        z = torch.as_tensor(latents[[c for _, c in keys]], dtype=torch.float32)  # (n, L, B, K)
        z = z + torch.randn(z.shape, generator=gen) * VARIATION
        z = z.permute(1, 0, 2, 3).reshape(lanes, n * batch, -1).to(self.device)  # (L, n*B, K)
        args = {}
        if plan is not None:
            # per bar of the song, its chords (features, maps, thirds), then per decoded chunk the target bars'
            rows = []
            for (_, chunk), placed in ((key, jobs[key]) for key in keys):
                rows.append([placed.get(j, chunk * bars + j) for j in range(bars)])
            index = torch.as_tensor(rows, device=plan.features.device)  # (n, bars) song bars
            chunk_of, bar_of = index // bars, index % bars
            feats = plan.features.view(plan.features.shape[0], batch, bars, -1)[chunk_of, :, bar_of]  # (n, bars, B, F)
            args["chords"] = feats.permute(0, 2, 1, 3).reshape(n * batch, -1)
            if plan.maps is not None:  # a piece a bar, half bar or beat (plan.per_bar), each bar's pieces together
                per = plan.per_bar
                maps = plan.maps.view(*plan.maps.shape[:2], bars, per, 2, 128)[chunk_of, :, bar_of]  # (n, bars, B, ..)
                thirds = plan.thirds.view(*plan.thirds.shape[:2], bars, per, 2)[chunk_of, :, bar_of]
                maps = maps.permute(0, 2, 1, 3, 4, 5).reshape(n * batch, bars * per, 2, 128)
                args["steer"] = (maps, thirds.permute(0, 2, 1, 3, 4).reshape(n * batch, bars * per, 2))
        after = self.harmony_after
        with self.loop.threads(batch):  # as the loop runs
            p = self.decoder.decode(z, n * batch, harmonise=not after, **args)
            if after and self.fast.harmony and (plan is None or plan.maps is None):  # as the loop (chords do its work)
                self.decoder.harmonise_kept(p, n * batch, threshold)
            decoded = self.decoder.unblock(p, n * batch).reshape(lanes, n, batch, -1, 128)
        z = z.reshape(lanes, n, batch, -1).permute(1, 0, 2, 3).cpu().numpy()  # (n, L, B, K)
        free = np.ones((latents.shape[0], lanes), dtype=bool) if keep is None else ~keep
        for row, key in enumerate(keys):
            placed = jobs[key]
            for j, target in placed.items():
                chunk = target // bars
                for lane in np.flatnonzero(free[chunk]):
                    probs[lane, :, target * spb : (target + 1) * spb] = decoded[lane, row, :, j * spb : (j + 1) * spb]
            for chunk in {t // bars for t in placed.values()}:  # a whole chunk, bar for bar: its latents too
                if all(placed.get(j) == chunk * bars + j for j in range(bars)):
                    for lane in np.flatnonzero(free[chunk]):
                        latents[chunk, lane] = z[row, lane]
