"""The networks of docs/model.md: one ConvVAE per lane, MelodyNN for the lead lane, ConditionalNN for the rest.

Read top to bottom beside the diagram in docs/model.md. A PackConfig sizes every net and travels
with the weights in the pack's card.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from ..song import LANES


@dataclass(frozen=True)
class PackConfig:
    """Sizes of a model pack: the grid it works on and the width of its nets."""

    latent: int = 16
    steps_per_beat: int = 4
    chunk_steps: int = 64
    hidden: int = 128
    lanes: tuple[str, ...] = field(default=LANES)

    def __post_init__(self) -> None:
        if self.chunk_steps % 16 or self.chunk_steps < 16:
            raise ValueError(f"chunk_steps must be a multiple of 16, got {self.chunk_steps}")
        if tuple(self.lanes) != LANES:
            raise ValueError(f"a pack's lanes must be {LANES}, got {tuple(self.lanes)}")
        if self.latent < 1 or self.hidden < 1 or self.steps_per_beat < 1:
            raise ValueError("latent, hidden and steps_per_beat must be positive")

    @property
    def time_kernel(self) -> int:
        """Kernel height of the third conv: what is left of the time axis after two 4x poolings."""
        return self.chunk_steps // 16

    def to_dict(self) -> dict:
        d = asdict(self)
        d["lanes"] = list(self.lanes)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> PackConfig:
        known = {k: d[k] for k in ("latent", "steps_per_beat", "chunk_steps", "hidden", "lanes") if k in d}
        if "lanes" in known:
            known["lanes"] = tuple(known["lanes"])
        return cls(**known)


class ConvVAE(nn.Module):
    """One lane's VAE: 1 x chunk_steps x 128 roll <-> K-dim latent, isotropic Gaussian posterior."""

    def __init__(self, cfg: PackConfig):
        super().__init__()
        t = cfg.time_kernel
        self.latent = cfg.latent
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 64, kernel_size=4, stride=4),
            nn.ReLU(),
            nn.Conv2d(64, 128, kernel_size=4, stride=4),
            nn.ReLU(),
            nn.Conv2d(128, 256, kernel_size=(t, 8), stride=(t, 8)),
            nn.ReLU(),
            nn.Flatten(),
        )
        self.to_posterior = nn.Linear(256, cfg.latent + 1)  # K means + one shared log-variance
        self.from_latent = nn.Linear(cfg.latent, 256)
        self.decoder = nn.Sequential(
            nn.ReLU(),
            nn.Unflatten(1, (256, 1, 1)),
            nn.ConvTranspose2d(256, 128, kernel_size=(t, 8), stride=(t, 8)),
            nn.ReLU(),
            nn.ConvTranspose2d(128, 64, kernel_size=4, stride=4),
            nn.ReLU(),
            nn.ConvTranspose2d(64, 1, kernel_size=4, stride=4),
        )

    def encode(self, roll: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """roll (B, chunk_steps, 128) -> (mean (B, K), log-variance (B, 1))."""
        h = self.to_posterior(self.encoder(roll.unsqueeze(1)))
        return h[:, : self.latent], h[:, self.latent :]

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """z (B, K) -> per-cell logits (B, chunk_steps, 128)."""
        return self.decoder(self.from_latent(z)).squeeze(1)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.decode_logits(z))

    def forward(self, roll: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Reparameterised pass for training: (logits, mean, log-variance)."""
        mu, logvar = self.encode(roll)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.decode_logits(z), mu, logvar


class MelodyNN(nn.Module):
    """Lead (piano) latent of chunk t -> piano latent of chunk t+1."""

    def __init__(self, cfg: PackConfig):
        super().__init__()
        k, h = cfg.latent, cfg.hidden
        self.net = nn.Sequential(
            nn.Linear(k, h), nn.ReLU(), nn.Dropout(0.2), nn.Linear(h, h), nn.ReLU(), nn.Linear(h, k)
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class ConditionalNN(nn.Module):
    """(lane latent at t, predicted piano latent at t+1) -> lane latent at t+1."""

    def __init__(self, cfg: PackConfig):
        super().__init__()
        k, h = cfg.latent, cfg.hidden
        self.net = nn.Sequential(nn.Linear(2 * k, h), nn.ReLU(), nn.Linear(h, k))

    def forward(self, z_lane: torch.Tensor, z_piano_next: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([z_lane, z_piano_next], dim=-1))


class Band(nn.Module):
    """All nets of a pack under one roof, named as they are stored: vae.<lane>, melody, cond.<lane>."""

    def __init__(self, cfg: PackConfig):
        super().__init__()
        self.cfg = cfg
        self.vae = nn.ModuleDict({lane: ConvVAE(cfg) for lane in LANES})
        self.melody = MelodyNN(cfg)
        self.cond = nn.ModuleDict({lane: ConditionalNN(cfg) for lane in LANES[1:]})
