"""All five lane VAEs as batched matrix multiplies, for generation.

Every conv in a ConvVAE has kernel == stride, so each layer is a reshape plus one matrix multiply,
and the five lanes go through one batched multiply (torch.bmm over a lane axis).

The trick that removes every permute from the generation loop is the *blocked* layout of a chunk:
time = T2*16 + T1*4 + T0 and pitch = P2*16 + P1*4 + P0 (pitch counted inside the lane's pitch
window), stored in the order (T2, P2, T1, P1, T0, P0).
Then the decoder's last layer writes exactly the 4x4 patches the encoder's first layer reads, the
patches of one second-layer window are contiguous rows, and so on up. A chunk is converted to and
from the plain (time, pitch) layout only when it enters or leaves the loop.
"""

from __future__ import annotations

import torch

from ..errors import InvalidValue
from ..sketch.song import LANES
from .nets import Band, ConvVAE

BLOCK = 16  # cells in a 4x4 patch: a row of the blocked layout (the first conv's kernel, the last deconv's)


def _stack(tensors: list[torch.Tensor]) -> torch.Tensor:
    return torch.stack(tensors).contiguous()


def _affine(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """x @ w + b per lane. bmm then an in-place add: baddbmm takes a slow path for narrow outputs here."""
    return torch.bmm(x, w).add_(b)


class FastBand:
    """Stacked, pre-arranged weights of the five lane VAEs plus the latent predictors."""

    def __init__(self, band: Band, device: torch.device | str = "cpu"):
        cfg = band.cfg
        self.cfg = cfg
        self.t = cfg.time_kernel
        self.w = cfg.pitch_kernel
        self.lead = cfg.lead_index
        self.followers = [LANES.index(lane) for lane in cfg.followers]
        k = cfg.latent
        vaes = [band.vae[lane] for lane in LANES]
        with torch.no_grad():
            e1 = [v.encoder.conv1 for v in vaes]
            e2 = [v.encoder.conv2 for v in vaes]
            e3 = [v.encoder.conv3 for v in vaes]
            d1 = [v.decoder.deconv1 for v in vaes]
            d2 = [v.decoder.deconv2 for v in vaes]
            d3 = [v.decoder.deconv3 for v in vaes]
            # Encoder: conv weight (out, in, kh, kw) -> rows ordered (kh, kw, in), one column per out channel.
            self.w1 = _stack([c.weight.permute(2, 3, 1, 0).reshape(-1, c.out_channels) for c in e1])
            self.b1 = _stack([c.bias[None] for c in e1])
            self.w2 = _stack([c.weight.permute(2, 3, 1, 0).reshape(-1, c.out_channels) for c in e2])
            self.b2 = _stack([c.bias[None] for c in e2])
            self.w3 = _stack([c.weight.permute(2, 3, 1, 0).reshape(-1, c.out_channels) for c in e3])
            self.b3 = _stack([c.bias[None] for c in e3])
            self.wmu = _stack([v.to_posterior.weight[:k].T for v in vaes])
            self.bmu = _stack([v.to_posterior.bias[None, :k] for v in vaes])
            # Decoder: transposed conv weight (in, out, kh, kw) -> one row per in channel, columns (kh, kw, out).
            self.wz = _stack([v.from_latent.weight.T for v in vaes])
            self.bz = _stack([v.from_latent.bias[None] for v in vaes])
            self.wd1 = _stack([c.weight.permute(0, 2, 3, 1).reshape(c.in_channels, -1) for c in d1])
            self.bd1 = _stack([c.bias.repeat(self.t * self.w)[None] for c in d1])
            self.wd2 = _stack([c.weight.permute(0, 2, 3, 1).reshape(c.in_channels, -1) for c in d2])
            self.bd2 = _stack([c.bias.repeat(BLOCK)[None] for c in d2])
            self.wd3 = _stack([c.weight.permute(0, 2, 3, 1).reshape(c.in_channels, -1) for c in d3])
            self.bd3 = _stack([c.bias.repeat(BLOCK)[None] for c in d3])
            # Chord packs: each lane's chord weights (L, bars * 24, C3), added to the decoder's first layer.
            self.wc = _stack([v.from_chords.weight.T for v in vaes]) if cfg.chords else None
            layers = (band.band.net.fc1, band.band.net.fc2, band.band.net.fc3) if cfg.chords else ()
            self.band_net = [(fc.weight.T.contiguous(), fc.bias.clone()) for fc in layers] or None
            mel = band.melody.net
            self.melody = [(fc.weight.T.contiguous(), fc.bias.clone()) for fc in (mel.fc1, mel.fc2, mel.fc3)]
            conds = [band.cond[lane].net for lane in cfg.followers]
            self.cw1 = _stack([c.fc1.weight.T for c in conds])
            self.cb1 = _stack([c.fc1.bias[None] for c in conds])
            self.cw2 = _stack([c.fc2.weight.T for c in conds])
            self.cb2 = _stack([c.fc2.bias[None] for c in conds])
            # Each lane's pitch window as gather/scatter indices: folded (128,) -> window position.
            self.window = [_fold_index(lo, cfg.pitches) for lo in cfg.pitch_low]
            self.bank_z = band.bank_z.clone() if cfg.bank else None
            self.bank_sounding = band.bank_sounding.clone() > 0 if cfg.bank else None
            # Each cell of a blocked bar-long block (P2, T1, P1, T0, P0) -> its pitch class in the pack's key
            # space, one-hot per pitched lane (drums, the last lane, have none), so a bar's chroma is one
            # batched multiply.
            if LANES.index("drums") != len(LANES) - 1:
                raise AssertionError("harmonise expects the drums last")
            cell = torch.arange(self.w * 256)
            pitch = (cell // 256) * 16 + ((cell // 16) % 4) * 4 + cell % 4
            # Per half bar too: a cell's class in its half's 12 columns (the second half's are 12-23), so a bar
            # that changes chord on beat 3 keeps both chords; the bar's own is the two halves summed.
            half = ((cell // 64) % 4 >= 2).long() * 12
            self.cell_class_half = torch.zeros((len(LANES) - 1, self.w * 256, 24))
            for i, lo in enumerate(cfg.pitch_low[:-1]):
                self.cell_class_half[i, cell, (lo + pitch) % 12 + half] = 1.0
            self.class_cell_half = self.cell_class_half.transpose(1, 2).contiguous()
            self.cell_class = self.cell_class_half[..., :12] + self.cell_class_half[..., 12:]
            self.class_cell = self.cell_class.transpose(1, 2).contiguous()
        self.harmony = 0.0
        self.harmony_halves = False
        for name, value in list(vars(self).items()):
            if isinstance(value, torch.Tensor):
                setattr(self, name, value.to(device))
        self.melody = [(w.to(device), b.to(device)) for w, b in self.melody]
        if self.band_net is not None:
            self.band_net = [(w.to(device), b.to(device)) for w, b in self.band_net]

    def set_lane_bias(self, bias) -> None:
        """Add a per-lane logit offset to every decoded cell: each lane's density, without a new sample.

        bias: five floats (0: as trained; > 0 busier, < 0 sparser). Replaces any earlier bias.
        """
        bias = torch.as_tensor([float(b) for b in bias], dtype=self.bd3.dtype, device=self.bd3.device)
        if bias.shape != (len(LANES),) or not torch.isfinite(bias).all():
            raise InvalidValue(f"lane bias needs five finite numbers, got {bias.tolist()}")
        if not hasattr(self, "_bd3_trained"):
            self._bd3_trained = self.bd3.clone()
        self.bd3 = self._bd3_trained + bias[:, None, None]
        self.lane_bias = bias

    def set_harmony(self, strength: float, halves: bool | None = None) -> None:
        """How strongly each pitched lane is drawn to the pitch classes the band plays in the same bar (0: off),
        and (halves) whether the band agrees per half bar instead (a chord change on beat 3 survives).

        See `harmonise`. Replaces any earlier strength; halves None keeps the earlier choice.
        """
        strength = float(strength)
        if not 0.0 <= strength <= 8.0:
            raise InvalidValue(f"harmony must be from 0 to 8, got {strength}")
        self.harmony = strength
        if halves is not None:
            self.harmony_halves = bool(halves)

    def harmonise(self, p: torch.Tensor, batch: int) -> torch.Tensor:
        """Blocked probabilities (L, B*rows, 16) of one step, with the pitched lanes agreeing on a harmony.

        Per bar-long block of time (16 steps: T2 of the blocked layout) the pitched lanes' probabilities are
        summed per pitch class into the band's chroma; each pitched cell is then scaled by
        (its class's share / the bar's largest share) ** harmony. The bar's most-played classes keep their
        probability and the rest fade, so the lanes lean toward one chord instead of each its own.
        In place; a no-op at harmony 0 (the thesis's decoding).
        """
        if not self.harmony:
            return p
        to_class, to_cell = self.cell_class, self.class_cell
        if self.harmony_halves:
            to_class, to_cell = self.cell_class_half, self.class_cell_half
        pitched = to_class.shape[0]  # the pitched lanes come first, drums last: a view, left untouched
        cells = p[:pitched].view(pitched, batch * self.t, -1)  # (lanes, B*T2, one bar-long block's cells)
        chroma = torch.bmm(cells, to_class).sum(dim=0)  # (B*T2, 12 or 24: a chroma per bar or per half)
        weight = chroma.clamp_min_(1e-6).pow_(self.harmony).unflatten(-1, (-1, 12))
        weight = weight.div_(weight.amax(dim=-1, keepdim=True)).flatten(-2)  # (share / largest share) ** harmony
        cells.mul_(torch.bmm(weight.expand(pitched, -1, -1), to_cell))
        return p

    # --- layout -------------------------------------------------------------------------------
    def to_blocked(self, roll: torch.Tensor) -> torch.Tensor:
        """(L, B, steps, 128) plain -> (L, B * steps * w/2, 16) blocked rows of 4x4 patches.

        Each lane keeps its pitch window; notes outside it fold in by octaves.
        """
        lanes, batch = roll.shape[:2]
        if self.cfg.pitches < 128:
            roll = torch.stack([fold(roll[i], self.window[i], self.cfg.pitches) for i in range(lanes)])
        x = roll.reshape(lanes, batch, self.t, 4, 4, self.w, 4, 4).permute(0, 1, 2, 5, 3, 6, 4, 7)
        return x.reshape(lanes, -1, BLOCK)

    def stack_blocks(self, blocks: list[torch.Tensor]) -> torch.Tensor:
        """Blocked chunks (L, B*rows, BLOCK) of successive steps -> one blocked tensor (L, steps*B*rows, BLOCK)."""
        return torch.stack(blocks, dim=1).reshape(blocks[0].shape[0], -1, BLOCK)

    def from_blocked(self, x: torch.Tensor, batch: int, first: int = 0) -> torch.Tensor:
        """Inverse of to_blocked: -> (L, B, steps, 128), zero outside each lane's window. x may hold L lanes
        only, from lane `first` on (the pitched lanes, say, or the drums alone: first=DRUMS)."""
        lanes = x.shape[0]
        x = x.reshape(lanes, batch, self.t, self.w, 4, 4, 4, 4).permute(0, 1, 2, 4, 6, 3, 5, 7)
        if self.cfg.pitches == 128:
            return x.reshape(lanes, batch, self.cfg.chunk_steps, self.cfg.pitches)
        out = x.new_zeros((lanes, batch, self.cfg.chunk_steps, 128))
        # one strided copy per lane, straight into its window
        for i, lo in enumerate(self.cfg.pitch_low[first : first + lanes]):
            window = out[i, ..., lo : lo + self.cfg.pitches]
            window.unflatten(-1, (self.w, 4, 4)).unflatten(-4, (self.t, 4, 4)).copy_(x[i])
        return out

    # --- the VAEs -----------------------------------------------------------------------------
    def encode(self, x: torch.Tensor, batch: int) -> torch.Tensor:
        """Blocked binary chunk (L, B*.., 16) -> latent means (L, B, K)."""
        lanes = x.shape[0]
        h = _affine(x, self.w1, self.b1).relu_()
        h = _affine(h.reshape(lanes, -1, self.w2.shape[1]), self.w2, self.b2).relu_()
        h = _affine(h.reshape(lanes, batch, -1), self.w3, self.b3).relu_()
        return _affine(h, self.wmu, self.bmu)

    def decode(self, z: torch.Tensor, chords: torch.Tensor | None = None) -> torch.Tensor:
        """Latents (L, B, K) [+ chords (B, bars * 24) on chord packs] -> blocked note probabilities (L, B*.., 16)."""
        return self._decode(z, chords, slice(None))

    def decode_lane(self, z: torch.Tensor, lane: int, chords: torch.Tensor | None = None) -> torch.Tensor:
        """One lane's latents (1, B, K) [+ chords] -> its blocked note probabilities (1, B*.., 16): `decode` of that
        lane alone (its weights only), for a check that reads one lane (engine/kit.py: the drums)."""
        return self._decode(z, chords, slice(lane, lane + 1))

    def _decode(self, z: torch.Tensor, chords: torch.Tensor | None, lanes: slice) -> torch.Tensor:
        """`decode` with the weights of `lanes` (all, or one lane's) for z's lanes."""
        n = z.shape[0]
        h = _affine(z, self.wz[lanes], self.bz[lanes])
        if self.wc is not None and chords is not None:
            h.add_(torch.matmul(chords, self.wc[lanes]))
        h = h.relu_()
        h = _affine(h, self.wd1[lanes], self.bd1[lanes]).relu_()
        h = _affine(h.reshape(n, -1, self.wd2.shape[1]), self.wd2[lanes], self.bd2[lanes]).relu_()
        return _affine(h.reshape(n, -1, self.wd3.shape[1]), self.wd3[lanes], self.bd3[lanes]).sigmoid_()

    # --- the latent predictors ----------------------------------------------------------------
    def predict_lead(self, z_lead: torch.Tensor) -> torch.Tensor:
        """MelodyNN in eval mode: (B, K) -> (B, K)."""
        (w1, b1), (w2, b2), (w3, b3) = self.melody
        h = torch.relu(torch.addmm(b1, z_lead, w1))
        h = torch.relu(torch.addmm(b2, h, w2))
        return torch.addmm(b3, h, w3)

    def predict_band(self, z: torch.Tensor, known: torch.Tensor, mask: torch.Tensor, chords: torch.Tensor):
        """BandNN in eval mode: latents and known latents (L, B, K), mask (L, B), chords (B, C) -> (L, B, K)."""
        lanes, batch, k = z.shape
        m = mask.to(z.dtype)
        flat = [t.permute(1, 0, 2).reshape(batch, -1) for t in (z, known * m[..., None])]
        x = torch.cat([*flat, m.T, chords], dim=-1)
        (w1, b1), (w2, b2), (w3, b3) = self.band_net
        h = torch.relu(torch.addmm(b1, x, w1))
        h = torch.relu(torch.addmm(b2, h, w2))
        return torch.addmm(b3, h, w3).view(batch, lanes, k).permute(1, 0, 2).contiguous()

    def predict_others(self, z_others: torch.Tensor, z_lead_next: torch.Tensor) -> torch.Tensor:
        """The four ConditionalNNs: (4, B, K) follower latents (in `followers` order) + (B, K) lead -> (4, B, K)."""
        x = torch.cat([z_others, z_lead_next.expand(z_others.shape[0], -1, -1)], dim=-1)
        return _affine(_affine(x, self.cw1, self.cb1).relu_(), self.cw2, self.cb2)


def _fold_index(low: int, width: int) -> torch.Tensor:
    """For each of the 128 MIDI pitches, its position in the window [low, low + width), folded by octaves."""
    target = torch.arange(128)
    while ((target < low) | (target >= low + width)).any():
        target = torch.where(target < low, target + 12, target)
        target = torch.where(target >= low + width, target - 12, target)
    return target - low


def fold(roll: torch.Tensor, index: torch.Tensor, width: int) -> torch.Tensor:
    """(..., 128) roll -> (..., width) window: each pitch goes to index[pitch]; collisions keep the max."""
    out = roll.new_zeros((*roll.shape[:-1], width))
    index = index.to(roll.device).expand(roll.shape)
    return out.scatter_reduce_(-1, index, roll, "amax", include_self=True)


def encode_blocked(vae: ConvVAE, roll: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """ConvVAE.encode as matrix multiplies on the module's own parameters (differentiable, for training).

    roll (B, chunk_steps, pitches) -> (mean (B, K), log-variance (B, 1)); equal to vae.encode up to rounding.
    """
    c1, c2, c3 = vae.encoder.conv1, vae.encoder.conv2, vae.encoder.conv3
    batch, t, w = roll.shape[0], roll.shape[1] // 16, roll.shape[2] // 16
    x = roll.reshape(batch, t, 4, 4, w, 4, 4).permute(0, 1, 4, 2, 5, 3, 6).reshape(-1, 16)
    h = torch.relu(x @ c1.weight.permute(2, 3, 1, 0).reshape(16, -1) + c1.bias)
    h = torch.relu(
        h.reshape(-1, 16 * c1.out_channels) @ c2.weight.permute(2, 3, 1, 0).reshape(-1, c2.out_channels) + c2.bias
    )
    h = torch.relu(h.reshape(batch, -1) @ c3.weight.permute(2, 3, 1, 0).reshape(-1, c3.out_channels) + c3.bias)
    out = vae.to_posterior(h)
    return out[:, : vae.latent], out[:, vae.latent :]


def decode_logits_blocked(vae: ConvVAE, z: torch.Tensor, chords: torch.Tensor | None = None) -> torch.Tensor:
    """ConvVAE.decode_logits as matrix multiplies (differentiable): z (B, K) -> logits (B, chunk_steps, pitches)."""
    d1, d2, d3 = vae.decoder.deconv1, vae.decoder.deconv2, vae.decoder.deconv3
    batch, (t, w) = z.shape[0], d1.kernel_size
    h = torch.relu(vae.latent_in(z, chords))
    h = torch.relu(h @ d1.weight.permute(0, 2, 3, 1).reshape(d1.in_channels, -1) + d1.bias.repeat(t * w))
    h = h.reshape(-1, d2.in_channels) @ d2.weight.permute(0, 2, 3, 1).reshape(d2.in_channels, -1)
    h = torch.relu(h + d2.bias.repeat(16))
    h = h.reshape(-1, d3.in_channels) @ d3.weight.permute(0, 2, 3, 1).reshape(d3.in_channels, -1) + d3.bias
    return h.reshape(batch, t, w, 4, 4, 4, 4).permute(0, 1, 3, 5, 2, 4, 6).reshape(batch, t * 16, w * 16)
