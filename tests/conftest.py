"""Shared fixtures: tiny randomly initialised packs written and read through the real pack code."""

from __future__ import annotations

import os

import pytest
import torch

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from musicvae_app.engine import Engine  # noqa: E402
from musicvae_app.model.nets import Band, PackConfig  # noqa: E402
from musicvae_app.model.pack import load_pack, save_pack  # noqa: E402


def make_pack(
    folder,
    chunk_steps: int = 32,
    steps_per_beat: int = 2,
    seed: int = 0,
    bias: float = -1.6,
    spread: float = 30,
    channels: tuple[int, int, int] = (64, 128, 256),
):
    """A random pack on disk; a wide, negatively biased output layer makes sparse, varied rolls like music."""
    torch.manual_seed(seed)
    band = Band(PackConfig(chunk_steps=chunk_steps, steps_per_beat=steps_per_beat, channels=channels))
    with torch.no_grad():
        for vae in band.vae.values():
            vae.decoder.deconv3.weight.mul_(spread)
            vae.decoder.deconv3.bias.fill_(bias)
    return save_pack(band, folder, {"name": f"tiny-{chunk_steps}", "generation": {"noise": 1.0, "threshold": 0.3}})


@pytest.fixture(scope="session")
def tiny_pack(tmp_path_factory):
    return make_pack(tmp_path_factory.mktemp("packs") / "tiny")


@pytest.fixture(scope="session")
def engine(tiny_pack):
    return Engine.load(load_pack(tiny_pack), device="cpu")


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
