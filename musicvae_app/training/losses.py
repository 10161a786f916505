"""The training losses: the VAEs' reconstruction + KL, the latent predictors' and the band predictor's."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..model.fast import decode_logits_blocked, encode_blocked
from ..model.nets import Band
from ..sketch.song import LANES


class VAELoss(nn.Module):
    """All five lane VAEs; forward returns the summed per-chunk ELBO loss and per-lane terms."""

    def __init__(self, band: Band, kl_weight: float, recon: str):
        super().__init__()
        self.vae = band.vae
        self.kl_weight = kl_weight
        self.recon = recon

    def forward(self, x: torch.Tensor, chords: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        per_lane = []
        for i, lane in enumerate(LANES):
            vae = self.vae[lane]
            mu, logvar = encode_blocked(vae, x[:, i])
            logits = decode_logits_blocked(vae, mu + torch.randn_like(mu) * torch.exp(0.5 * logvar), chords)
            per_lane.append(vae_loss(logits, x[:, i], mu, logvar, self.kl_weight, self.recon))
        losses = torch.stack(per_lane)
        return losses.sum(), losses.detach()


def vae_loss(logits, target, mu, logvar, kl_weight: float, recon: str) -> torch.Tensor:
    """Negative ELBO per chunk: reconstruction summed over cells + beta * KL(q || N(0, I))."""
    if recon == "bce":
        rec = F.binary_cross_entropy_with_logits(logits, target, reduction="sum")
    else:
        rec = F.mse_loss(torch.sigmoid(logits), target, reduction="sum")
    k = mu.shape[1]
    kl = 0.5 * (mu.pow(2).sum() + (k * (logvar.exp() - logvar - 1)).sum())
    return (rec + kl_weight * kl) / target.shape[0]


class PredictorLoss(nn.Module):
    """MelodyNN or the four ConditionalNNs on latent pairs; forward returns MSE and per-net terms."""

    def __init__(self, band: Band, stage: str):
        super().__init__()
        self.stage = stage
        self.melody = band.melody
        self.cond = band.cond
        self.lead = band.cfg.lead_index
        self.followers = [LANES.index(lane) for lane in band.cfg.followers]

    def forward(self, z_now: torch.Tensor, z_next: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        lead = self.lead
        if self.stage == "melody":
            loss = F.mse_loss(self.melody(z_now[:, lead]), z_next[:, lead])
            return loss, loss.detach()[None]
        with torch.no_grad():
            lead_next = self.melody(z_now[:, lead])  # the *predicted* lead latent, as at generation time
        losses = torch.stack(
            [F.mse_loss(self.cond[LANES[i]](z_now[:, i], lead_next), z_next[:, i]) for i in self.followers]
        )
        return losses.sum(), losses.detach()


class BandLoss(nn.Module):
    """BandNN on latent pairs with a random subset of lanes known at t+1; MSE on the lanes it must predict."""

    def __init__(self, band: Band, known_p: float):
        super().__init__()
        self.band = band.band
        self.known_p = known_p

    def forward(self, z_now, z_next, chords_next) -> tuple[torch.Tensor, torch.Tensor]:
        batch, lanes = z_now.shape[:2]
        # Half the rows know no lane (a sketch from chords alone); the rest know each lane with known_p.
        mask = (torch.rand(batch, lanes) < self.known_p) & (torch.rand(batch, 1) < 0.5)
        mask = mask.to(z_now.device).float()
        pred = self.band(z_now, z_next, mask, chords_next)
        err = (pred - z_next).pow(2).mean(dim=2) * (1 - mask)  # (B, L)
        per_lane = err.sum(dim=0) / (1 - mask).sum(dim=0).clamp_min(1)
        return per_lane.sum(), per_lane.detach()


# --- the run ------------------------------------------------------------------------------------
