"""Shared fixtures: tiny randomly initialised packs written and read through the real pack code."""

from __future__ import annotations

import os

import pytest
import torch

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from musicvae_app.engine import Engine  # noqa: E402
from musicvae_app.model.nets import Band, PackConfig  # noqa: E402
from musicvae_app.model.pack import load_pack, save_pack  # noqa: E402
from musicvae_app.theory.chords import chord_features, parse_bars  # noqa: E402


def make_pack(
    folder,
    chunk_steps: int = 32,
    steps_per_beat: int = 2,
    seed: int = 0,
    bias: float = -1.6,
    spread: float = 30,
    channels: tuple[int, int, int] = (64, 128, 256),
    chords: bool = False,
    bank: int = 0,
):
    """A random pack on disk; a wide, negatively biased output layer makes sparse, varied rolls like music.

    chords: the chord-conditioned family; its bank (when `bank` > 0) starts from random latents, every lane
    sounding, each row playing Am F C G, as a trained chord pack's bank plays real progressions.
    """
    torch.manual_seed(seed)
    cfg = PackConfig(
        chunk_steps=chunk_steps, steps_per_beat=steps_per_beat, channels=channels, chords=chords, bank=bank
    )
    band = Band(cfg)
    with torch.no_grad():
        for vae in band.vae.values():
            vae.decoder.deconv3.weight.mul_(spread)
            vae.decoder.deconv3.bias.fill_(bias)
        if bank:
            band.bank_z.copy_(torch.randn_like(band.bank_z))
            band.bank_sounding.fill_(1.0)
        if bank and chords:
            progression = [bar[0] for bar in parse_bars("Am F C G", bars=cfg.bars)]
            row = torch.as_tensor(chord_features(progression)).reshape(-1)
            band.bank_chords.copy_(row.expand_as(band.bank_chords))
    name = f"tiny-{chunk_steps}" + ("-chords" if chords else "")
    return save_pack(band, folder, {"name": name, "generation": {"noise": 1.0, "threshold": 0.3}})


@pytest.fixture(scope="session")
def tiny_pack(tmp_path_factory):
    return make_pack(tmp_path_factory.mktemp("packs") / "tiny")


@pytest.fixture(scope="session")
def engine(tiny_pack):
    return Engine.load(load_pack(tiny_pack), device="cpu")


@pytest.fixture(scope="session")
def tiny_chord_pack(tmp_path_factory):
    """A tiny chord-conditioned pack with a 16-chunk start bank (decoders and band predictor read chords)."""
    return make_pack(tmp_path_factory.mktemp("packs") / "tiny-chords", chords=True, bank=16)


@pytest.fixture(scope="session")
def chord_engine(tiny_chord_pack):
    return Engine.load(load_pack(tiny_chord_pack), device="cpu")


@pytest.fixture
def session(engine):
    """A Session (no Qt) on the tiny pack, its next Generate one step after the first chunk (8 bars); a test file
    that wants another keeps its own."""
    from musicvae_app.sketch.session import Session

    s = Session(engine)
    s.update_settings(steps=1)
    return s


@pytest.fixture
def window(qtbot, engine, tmp_path):
    """The real sketchpad window, offscreen, on the tiny pack, with its data in a temp folder."""
    from musicvae_app.ui.main_window import MainWindow

    w = MainWindow(engine, data_dir=tmp_path / "data", restore="no")
    qtbot.addWidget(w)
    w.bar.steps.set_value(3)
    w.bar.variations.setValue(1)
    w.bar.seed_lock.setChecked(False)
    w.show()
    return w
