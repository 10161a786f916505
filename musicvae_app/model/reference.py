"""A faithful plain port of the thesis's generation loop: the reference the fast engine is measured against.

Lane by lane, chunk by chunk, through the nn.Module layers (Conv2d / ConvTranspose2d), with the
same random-number protocol as musicvae_app.engine with start='prior': one torch.Generator seeded
with `seed` draws the first chunk's latents (5, 1, K), then the noise (steps, 5, 1, K). The lead
lane is the pack's (the thesis: piano); each lane sees its pitch window, as in the fast path.
"""

from __future__ import annotations

import numpy as np
import torch

from ..sketch.song import LANES
from .fast import _fold_index, fold
from .nets import Band


@torch.inference_mode()
def generate_plain(band: Band, steps: int, noise: float, threshold: float, seed: int) -> np.ndarray:
    """Return the song's note probabilities (5, (steps+1)*chunk_steps, 128)."""
    band.eval()
    cfg = band.cfg
    k, lead = cfg.latent, cfg.lead_index
    windows = [_fold_index(lo, cfg.pitches) for lo in cfg.pitch_low]
    gen = torch.Generator().manual_seed(seed)
    z0 = torch.randn((len(LANES), 1, k), generator=gen)
    eps = torch.randn((steps, len(LANES), 1, k), generator=gen) * noise

    def decode(i: int, z: torch.Tensor) -> torch.Tensor:
        window = band.vae[LANES[i]].decode(z)  # (1, cs, pitches)
        full = torch.zeros((1, cfg.chunk_steps, 128))
        full[..., cfg.pitch_low[i] : cfg.pitch_low[i] + cfg.pitches] = window
        return full

    def encode(i: int, probs: torch.Tensor) -> torch.Tensor:
        notes = fold((probs >= threshold).float(), windows[i], cfg.pitches)
        return band.vae[LANES[i]].encode(notes)[0]

    current = [decode(i, z0[i]) for i in range(len(LANES))]
    song = [[c] for c in current]
    for s in range(steps):
        latents = [encode(i, current[i]) for i in range(len(LANES))]
        lead_next = band.melody(latents[lead]) + eps[s, lead]
        nxt = [
            lead_next if i == lead else band.cond[lane](latents[i], lead_next) + eps[s, i]
            for i, lane in enumerate(LANES)
        ]
        current = [decode(i, nxt[i]) for i in range(len(LANES))]
        for i in range(len(LANES)):
            song[i].append(current[i])
    return np.stack([torch.cat(lane, dim=1)[0].numpy() for lane in song])
