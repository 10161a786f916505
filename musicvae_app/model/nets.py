"""The networks of docs/model.md: one ConvVAE per lane, MelodyNN for the lead lane, ConditionalNN for the rest.

Read top to bottom beside the diagram in docs/model.md. A PackConfig sizes every net and travels
with the weights in the pack's card.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from ..errors import InvalidValue
from ..sketch.song import LANES
from ..theory.chords import CHORD_FEATURES


@dataclass(frozen=True)
class PackConfig:
    """Sizes of a model pack: the grid it works on, each lane's pitch window, and the width of its nets.

    pitches / pitch_low: each lane's VAE sees a window of `pitches` MIDI pitches starting at its
    pitch_low (notes outside fold in by octaves); 128 and 0 is the whole range. lead: the lane
    whose latent is predicted forward and that the other lanes follow (the thesis: piano). bank:
    how many real first-chunk latents the pack stores to start sketches from (0: start from N(0, I)).
    chords: the chord-conditioned family (like Multitrack MusicVAE): each lane decoder also reads the
    chunk's chords (per bar, key-normalised, `chords.chord_features`), and a band predictor (BandNN)
    predicts every lane's next latent from all five lanes, the lanes already known for the next chunk
    (a followed part) and the next chunk's chords.
    """

    latent: int = 16
    steps_per_beat: int = 4
    chunk_steps: int = 64
    hidden: int = 128
    lanes: tuple[str, ...] = field(default=LANES)
    pitches: int = 128
    pitch_low: tuple[int, ...] = (0, 0, 0, 0, 0)
    lead: str = "piano"
    bank: int = 0
    channels: tuple[int, ...] = (64, 128, 256)
    chords: bool = False

    def __post_init__(self) -> None:
        if self.chunk_steps % 16 or self.chunk_steps < 16:
            raise InvalidValue(f"chunk_steps must be a multiple of 16, got {self.chunk_steps}")
        if tuple(self.lanes) != LANES:
            raise InvalidValue(f"a pack's lanes must be {LANES}, got {tuple(self.lanes)}")
        if self.latent < 1 or self.hidden < 1 or self.steps_per_beat < 1:
            raise InvalidValue("latent, hidden and steps_per_beat must be positive")
        if self.pitches % 16 or not 16 <= self.pitches <= 128:
            raise InvalidValue(f"pitches must be a multiple of 16 from 16 to 128, got {self.pitches}")
        if len(self.pitch_low) != len(LANES) or any(not 0 <= lo <= 128 - self.pitches for lo in self.pitch_low):
            raise InvalidValue(
                f"pitch_low needs one start per lane within 0..{128 - self.pitches}, got {self.pitch_low}"
            )
        if self.lead not in LANES:
            raise InvalidValue(f"lead must be one of {', '.join(LANES)}, got {self.lead!r}")
        if self.bank < 0:
            raise InvalidValue(f"bank must be 0 or more, got {self.bank}")
        if len(self.channels) != 3 or any(not isinstance(c, int) or c < 1 for c in self.channels):
            raise InvalidValue(f"channels needs three positive widths (conv1, conv2, conv3), got {self.channels}")

    @property
    def time_kernel(self) -> int:
        """Kernel height of the third conv: what is left of the time axis after two 4x poolings."""
        return self.chunk_steps // 16

    @property
    def pitch_kernel(self) -> int:
        """Kernel width of the third conv: what is left of the pitch window after two 4x poolings."""
        return self.pitches // 16

    @property
    def bars(self) -> int:
        """Bars of 4/4 in a chunk."""
        return self.chunk_steps // (4 * self.steps_per_beat)

    @property
    def chord_inputs(self) -> int:
        """Width of a chunk's chord input: 24 features a bar (chords.CHORD_FEATURES)."""
        return self.bars * CHORD_FEATURES

    @property
    def lead_index(self) -> int:
        return LANES.index(self.lead)

    @property
    def followers(self) -> tuple[str, ...]:
        """The lanes conditioned on the lead, in lane order."""
        return tuple(lane for lane in LANES if lane != self.lead)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["lanes"] = list(self.lanes)
        d["pitch_low"] = list(self.pitch_low)
        d["channels"] = list(self.channels)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> PackConfig:
        names = (
            "latent",
            "steps_per_beat",
            "chunk_steps",
            "hidden",
            "lanes",
            "pitches",
            "pitch_low",
            "lead",
            "bank",
            "channels",
            "chords",
        )
        known = {k: d[k] for k in names if k in d}  # a card from before `channels` gets the thesis's widths
        for key in ("lanes", "pitch_low", "channels"):
            if key in known:
                known[key] = tuple(known[key])
        return cls(**known)


class ConvVAE(nn.Module):
    """One lane's VAE: 1 x chunk_steps x pitches roll <-> K-dim latent, isotropic Gaussian posterior."""

    def __init__(self, cfg: PackConfig):
        super().__init__()
        t, w = cfg.time_kernel, cfg.pitch_kernel
        c1, c2, c3 = cfg.channels
        self.latent = cfg.latent
        self.encoder = nn.Sequential(
            OrderedDict(
                conv1=nn.Conv2d(1, c1, kernel_size=4, stride=4),
                relu1=nn.ReLU(),
                conv2=nn.Conv2d(c1, c2, kernel_size=4, stride=4),
                relu2=nn.ReLU(),
                conv3=nn.Conv2d(c2, c3, kernel_size=(t, w), stride=(t, w)),
                relu3=nn.ReLU(),
                flatten=nn.Flatten(),
            )
        )
        self.to_posterior = nn.Linear(c3, cfg.latent + 1)  # K means + one shared log-variance
        self.from_latent = nn.Linear(cfg.latent, c3)
        # Chord packs: the chunk's chords enter beside the latent, so one latent (a groove) plays any chords.
        self.from_chords = nn.Linear(cfg.chord_inputs, c3, bias=False) if cfg.chords else None
        self.decoder = nn.Sequential(
            OrderedDict(
                relu0=nn.ReLU(),
                unflatten=nn.Unflatten(1, (c3, 1, 1)),
                deconv1=nn.ConvTranspose2d(c3, c2, kernel_size=(t, w), stride=(t, w)),
                relu1=nn.ReLU(),
                deconv2=nn.ConvTranspose2d(c2, c1, kernel_size=4, stride=4),
                relu2=nn.ReLU(),
                deconv3=nn.ConvTranspose2d(c1, 1, kernel_size=4, stride=4),
            )
        )

    def encode(self, roll: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """roll (B, chunk_steps, pitches) -> (mean (B, K), log-variance (B, 1))."""
        h = self.to_posterior(self.encoder(roll.unsqueeze(1)))
        return h[:, : self.latent], h[:, self.latent :]

    def decode_logits(self, z: torch.Tensor, chords: torch.Tensor | None = None) -> torch.Tensor:
        """z (B, K) [+ chords (B, bars * 24) on chord packs] -> per-cell logits (B, chunk_steps, pitches)."""
        return self.decoder(self.latent_in(z, chords)).squeeze(1)

    def latent_in(self, z: torch.Tensor, chords: torch.Tensor | None = None) -> torch.Tensor:
        """The decoder's first layer: the latent, plus the chords where the pack reads them (no chords: N.C.)."""
        h = self.from_latent(z)
        if self.from_chords is not None and chords is not None:
            h = h + self.from_chords(chords)
        return h

    def decode(self, z: torch.Tensor, chords: torch.Tensor | None = None) -> torch.Tensor:
        return torch.sigmoid(self.decode_logits(z, chords))


class MelodyNN(nn.Module):
    """Lead-lane latent of chunk t -> lead latent of chunk t+1 (the thesis's lead is the piano)."""

    def __init__(self, cfg: PackConfig):
        super().__init__()
        k, h = cfg.latent, cfg.hidden
        self.net = nn.Sequential(
            OrderedDict(
                fc1=nn.Linear(k, h),
                relu1=nn.ReLU(),
                dropout=nn.Dropout(0.2),
                fc2=nn.Linear(h, h),
                relu2=nn.ReLU(),
                fc3=nn.Linear(h, k),
            )
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class ConditionalNN(nn.Module):
    """(lane latent at t, predicted lead latent at t+1) -> lane latent at t+1."""

    def __init__(self, cfg: PackConfig):
        super().__init__()
        k, h = cfg.latent, cfg.hidden
        self.net = nn.Sequential(OrderedDict(fc1=nn.Linear(2 * k, h), relu=nn.ReLU(), fc2=nn.Linear(h, k)))

    def forward(self, z_lane: torch.Tensor, z_piano_next: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([z_lane, z_piano_next], dim=-1))


class BandNN(nn.Module):
    """Every lane's next latent from the whole band: the chord family's predictor (docs/model.md).

    Input: the five lanes' latents at chunk t, the latents of the lanes already known at t+1 (a part the
    musician gave, a locked lane; zeros elsewhere), which lanes those are, and chunk t+1's chords. Trained
    with a random subset of lanes known, as MMM and MIDI-GPT mask tracks, so any lane can be the given one.
    """

    def __init__(self, cfg: PackConfig):
        super().__init__()
        k, lanes, h = cfg.latent, len(LANES), 2 * cfg.hidden
        self.lanes, self.latent = lanes, k
        self.net = nn.Sequential(
            OrderedDict(
                fc1=nn.Linear(2 * lanes * k + lanes + cfg.chord_inputs, h),
                relu1=nn.ReLU(),
                dropout=nn.Dropout(0.1),
                fc2=nn.Linear(h, h),
                relu2=nn.ReLU(),
                fc3=nn.Linear(h, lanes * k),
            )
        )

    def forward(self, z_now: torch.Tensor, known: torch.Tensor, mask: torch.Tensor, chords: torch.Tensor):
        """z_now, known (B, L, K); mask (B, L) 1 where known; chords (B, bars * 24) -> next latents (B, L, K)."""
        x = torch.cat([z_now.flatten(1), (known * mask[..., None]).flatten(1), mask, chords], dim=-1)
        return self.net(x).view(-1, self.lanes, self.latent)


class Band(nn.Module):
    """All nets of a pack under one roof, named as they are stored: vae.<lane>, melody, cond.<lane>, band.

    With cfg.bank > 0 the pack also stores `bank_z` (bank, lanes, K), latent means of real chunks
    from the training data, and `bank_sounding` (bank, lanes), 1 where that lane had notes: the
    starting points of sketches and of lanes that must come in. Chord packs also store `bank_chords`
    (bank, bars * 24): the chords each of those chunks played, a real progression to start from.
    """

    def __init__(self, cfg: PackConfig):
        super().__init__()
        self.cfg = cfg
        self.vae = nn.ModuleDict({lane: ConvVAE(cfg) for lane in LANES})
        self.melody = MelodyNN(cfg)
        self.cond = nn.ModuleDict({lane: ConditionalNN(cfg) for lane in cfg.followers})
        self.band = BandNN(cfg) if cfg.chords else None
        if cfg.bank:
            self.register_buffer("bank_z", torch.zeros(cfg.bank, len(LANES), cfg.latent))
            self.register_buffer("bank_sounding", torch.zeros(cfg.bank, len(LANES)))
            if cfg.chords:
                self.register_buffer("bank_chords", torch.zeros(cfg.bank, cfg.chord_inputs))


# Layer names before pack format 3, when the layers were numbered (encoder.0 ...): old key -> new key part.
_FORMAT2_NAMES = {
    "encoder.0.": "encoder.conv1.",
    "encoder.2.": "encoder.conv2.",
    "encoder.4.": "encoder.conv3.",
    "decoder.2.": "decoder.deconv1.",
    "decoder.4.": "decoder.deconv2.",
    "decoder.6.": "decoder.deconv3.",
    "melody.net.0.": "melody.net.fc1.",
    "melody.net.3.": "melody.net.fc2.",
    "melody.net.5.": "melody.net.fc3.",
    "net.0.": "net.fc1.",
    "net.2.": "net.fc2.",
}


def upgrade_name(name: str) -> str:
    """A tensor name from a pack of format 1 or 2 (numbered layers) as format 3 names it (named layers)."""
    for old, new in _FORMAT2_NAMES.items():
        if old in name and not (old == "net.0." and "melody.net" in name):
            return name.replace(old, new, 1)
    return name
