"""Training's knobs: TrainConfig (every flag of `musicvae train`, with its default) and its one check."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..errors import InvalidValue, MusicVAEError
from ..limits import (
    MAX_BATCH,
    MAX_EPOCHS,
    MAX_KL_WEIGHT,
    MAX_LEARNING_RATE,
    MAX_SONGS_PER_EPOCH,
    MAX_VAL_CHUNKS,
    MAX_WORKERS,
    check_channels,
    check_chunk_steps,
    check_float,
    check_int,
    check_latent,
    check_seed,
    check_steps_per_beat,
)
from ..model.pack import MAX_BANK
from ..sketch.song import LANES

STAGES = ("vae", "melody", "cond", "band")
CHECKPOINT_KEYS = ("config", "band", "optimizer", "stage", "done_epochs", "history", "seconds")
# What fixes the nets' shapes: a checkpoint made with other values cannot continue this run.
SHAPE_FIELDS = ("steps_per_beat", "chunk_steps", "pitches", "latent", "channels", "lead", "bank", "chords")


class TrainingError(MusicVAEError):
    """A run that cannot start or go on (unusable data, a damaged checkpoint); the message says what to do."""


class DivergedError(TrainingError):
    """Every process of the run stopped at the same batch (the processes agree before any raises it)."""


DEFAULT_LR = 1e-3  # --lr when none is given (and no checkpoint is resumed)
# A loss this many times the stage's first batch loss is a run that has blown up, though finite: a real run's
# loss only falls from its first batch (the vae stage's from ~5 lanes x cells x ln 2, ~14,000 at 64 x 64; the
# predictors' MSE from ~0.01-1), while --lr 0.02 --kl-weight 100 reaches ~1e26 in the first epoch.
EXPLODED = 1e6


@dataclass
class TrainConfig:
    data: str  # folder of .mid/.midi/.npz files (sub-folders are genres)
    out: str  # the pack folder to write
    genres: list[str] = field(default_factory=list)  # keep only these first-level sub-folders (empty: all)
    steps_per_beat: int = 4  # grid: 4 = 16th notes (the thesis used 2, 8ths)
    chunk_steps: int = 64  # steps per chunk: 64 at 4 steps/beat = 4 bars of 4/4
    pitches: int = 64  # each lane's pitch window, chosen from the data (128: the whole range, as the thesis)
    lead: str = "bass"  # the lane predicted forward that the others follow (the thesis: piano)
    key_normalise: bool = True  # move every song to C major / A minor before training (generation moves back)
    bank: int = 512  # real chunk latents stored in the pack to start sketches from (0: none)
    latent: int = 32  # K, the latent size (the thesis: 16; 16th-note chunks carry more)
    channels: tuple[int, ...] = (64, 128, 256)  # conv widths (the thesis's); narrower generates faster
    vae_epochs: int = 25  # the thesis trained 25 epochs
    pred_epochs: int = 25  # epochs for MelodyNN and the ConditionalNNs
    songs_per_epoch: int = 1000  # the thesis drew about 1,000 random songs per epoch
    batch: int = 64  # the thesis used 32; 64 trains ~1.3x faster per chunk on a CPU
    lr: float | None = None  # Adam learning rate (None: 1e-3; with --resume, the checkpoint's, decayed)
    lr_decay: float = 0.95  # exponential decay per epoch
    kl_weight: float = 0.5  # beta of the ELBO's KL term (0.5 reconstructs better than 1.0: see the card)
    recon: str = "bce"  # reconstruction loss: bce (Bernoulli likelihood) or mse (the thesis's RMSE-like term)
    seed: int = 0
    device: str = "auto"
    validation_percent: int = 10  # share of songs held out, chosen by file hash
    max_val_chunks: int = 4000  # validation chunks scored per epoch
    cache_dir: str | None = None  # where parsed songs are cached (default: <out>/../.cache)
    workers: int = 2  # processes reading MIDI
    resume: bool = False
    progress: bool = True
    chords: bool = False  # the chord-conditioned family: decoders read each bar's chord, plus a band predictor
    chord_dropout: float = 0.15  # share of training chunks decoded with no chords (N.C.), so a pack plays without
    known_p: float = 0.35  # band predictor: chance each lane's next latent is given (a followed part) in training
    init_from: str | None = None  # a pack to start from: every tensor whose name and shape match is copied


def flag_name(name: str) -> str:
    return "--" + name.replace("_", "-")


def shown_value(value) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value).lower() if isinstance(value, bool) else str(value)


def check_config(cfg: TrainConfig) -> TrainConfig:
    """Every knob within what a run can use, checked before any work; InvalidValue names the flag and its range.

    The bounds are musicvae_app.limits'; epochs may be 0 only with --init-from (the nets come from that pack).
    """
    checks = (
        ("steps_per_beat", check_steps_per_beat),
        ("chunk_steps", check_chunk_steps),
        ("latent", check_latent),
        ("seed", check_seed),
        ("channels", lambda v: check_channels(list(v) if isinstance(v, (list, tuple)) else v)),
    )
    for name, check in checks:
        try:
            setattr(cfg, name, check(getattr(cfg, name)))
        except InvalidValue as exc:
            text = str(exc)
            raise InvalidValue(flag_name(name) + text[len(name) :] if text.startswith(name) else text) from None
    low_epochs = 0 if cfg.init_from else 1
    counts = (
        ("pitches", 16, 128),
        ("bank", 0, MAX_BANK),
        ("vae_epochs", low_epochs, MAX_EPOCHS),
        ("pred_epochs", low_epochs, MAX_EPOCHS),
        ("songs_per_epoch", 1, MAX_SONGS_PER_EPOCH),
        ("batch", 1, MAX_BATCH),
        ("validation_percent", 0, 90),
        ("max_val_chunks", 1, MAX_VAL_CHUNKS),
        ("workers", 0, MAX_WORKERS),
    )
    for name, low, high in counts:
        value = getattr(cfg, name)
        if name.endswith("_epochs") and value == 0 and not low:
            continue
        if name.endswith("_epochs") and value == 0:
            raise InvalidValue(f"{flag_name(name)} 0 trains nothing: give 1 to {high} (0 only with --init-from)")
        setattr(cfg, name, check_int(flag_name(name), value, low, high))
    if cfg.pitches % 16:
        raise InvalidValue(f"--pitches must be a multiple of 16 from 16 to 128, got {cfg.pitches}")
    if cfg.lr is not None:  # None: the default, or on --resume the checkpoint's learning rate
        cfg.lr = check_float("--lr", cfg.lr, 0.0, MAX_LEARNING_RATE, low_open=True)
    cfg.lr_decay = check_float("--lr-decay", cfg.lr_decay, 0.0, 1.0, low_open=True)
    cfg.kl_weight = check_float("--kl-weight", cfg.kl_weight, 0.0, MAX_KL_WEIGHT, low_open=True)
    cfg.chord_dropout = check_float("chord_dropout", cfg.chord_dropout, 0.0, 1.0, high_open=True)
    cfg.known_p = check_float("known_p", cfg.known_p, 0.0, 1.0)
    for name, allowed in (("recon", ("bce", "mse")), ("lead", LANES), ("device", ("auto", "cpu", "cuda"))):
        if getattr(cfg, name) not in allowed:
            raise InvalidValue(f"{flag_name(name)} must be one of {', '.join(allowed)}, got {getattr(cfg, name)!r}")
    if cfg.device == "cuda" and not torch.cuda.is_available():
        raise InvalidValue("--device cuda was asked for but torch sees no CUDA GPU: use --device cpu or auto")
    if not Path(cfg.data).is_dir():
        raise InvalidValue(f"--data '{cfg.data}' does not exist or is not a folder: give the folder of MIDI files")
    if Path(cfg.out).exists() and not Path(cfg.out).is_dir():
        raise InvalidValue(f"--out '{cfg.out}' is a file: give a folder for the pack (it is created if missing)")
    if cfg.init_from is not None and not Path(cfg.init_from).is_dir():
        what = "a file" if Path(cfg.init_from).exists() else "missing"
        raise InvalidValue(
            f"--init-from '{cfg.init_from}' is {what}: give a pack folder (with card.json and weights.safetensors)"
        )
    return cfg
