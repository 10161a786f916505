"""A faithful plain port of the thesis's generation loop: the reference the fast engine is measured against.

Lane by lane, chunk by chunk, through the nn.Module layers (Conv2d / ConvTranspose2d), with the
same random-number protocol as musicvae_app.engine: one torch.Generator seeded with `seed` draws the
first chunk's latents (5, 1, K), then the noise (steps, 5, 1, K).
"""

from __future__ import annotations

import numpy as np
import torch

from musicvae_app.model.nets import Band
from musicvae_app.song import LANES


@torch.inference_mode()
def generate_plain(band: Band, steps: int, noise: float, threshold: float, seed: int) -> np.ndarray:
    """Return the song's note probabilities (5, (steps+1)*chunk_steps, 128)."""
    band.eval()
    k = band.cfg.latent
    gen = torch.Generator().manual_seed(seed)
    z0 = torch.randn((len(LANES), 1, k), generator=gen)
    eps = torch.randn((steps, len(LANES), 1, k), generator=gen) * noise
    current = [band.vae[lane].decode(z0[i]) for i, lane in enumerate(LANES)]
    song = [[c] for c in current]
    for s in range(steps):
        latents = [band.vae[lane].encode((current[i] >= threshold).float())[0] for i, lane in enumerate(LANES)]
        lead_next = band.melody(latents[0]) + eps[s, 0]
        nxt = [lead_next] + [
            band.cond[lane](latents[i], lead_next) + eps[s, i] for i, lane in enumerate(LANES) if i > 0
        ]
        current = [band.vae[lane].decode(nxt[i]) for i, lane in enumerate(LANES)]
        for i in range(len(LANES)):
            song[i].append(current[i])
    return np.stack([torch.cat(lane, dim=1)[0].numpy() for lane in song])
