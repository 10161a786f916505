"""A model pack on disk: a folder with weights.safetensors and card.json. Loading never unpickles."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ..resources import resources_dir
from .nets import Band, PackConfig

CARD = "card.json"
WEIGHTS = "weights.safetensors"
FORMAT = "musicvae-pack"
FORMAT_VERSION = 2  # 2: pitch windows, lead lane and start bank in the config (1 still loads)


class PackError(Exception):
    """A pack that cannot be used; the message names the pack, the problem and what to do."""


def default_pack_dir() -> Path:
    return Path(os.environ.get("MUSICVAE_PACK") or resources_dir() / "models" / "default")


@dataclass
class Pack:
    """Loaded nets plus the card that describes them."""

    band: Band
    card: dict
    path: Path | None = None
    extra: dict = field(default_factory=dict)

    @property
    def config(self) -> PackConfig:
        return self.band.cfg

    @property
    def name(self) -> str:
        return str(self.card.get("name") or (self.path.name if self.path else "unnamed"))


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def save_pack(band: Band, folder: str | Path, card: dict | None = None) -> Path:
    """Write weights and card atomically into folder (created if missing)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in band.state_dict().items()}
    fd, tmp_weights = tempfile.mkstemp(dir=folder, suffix=".safetensors.tmp")
    os.close(fd)
    save_file(tensors, tmp_weights, metadata={"format": FORMAT})
    os.chmod(tmp_weights, 0o644)  # mkstemp makes 0600; a pack is meant to be shared
    full = dict(card or {})
    full.update(
        format=FORMAT,
        format_version=FORMAT_VERSION,
        config=band.cfg.to_dict(),
        lanes=list(band.cfg.lanes),
        weights_sha256=_sha256(Path(tmp_weights)),
    )
    full.setdefault("name", folder.name)
    os.replace(tmp_weights, folder / WEIGHTS)
    write_json_atomic(folder / CARD, full)
    return folder


def write_json_atomic(path: Path, data: dict) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".json.tmp")
    os.fchmod(fd, 0o644)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=2, sort_keys=False)
        f.write("\n")
    os.replace(tmp, path)


def read_card(folder: str | Path) -> dict:
    folder = Path(folder)
    where = f"model pack '{folder}'"
    if not folder.is_dir():
        raise PackError(f"{where} does not exist: train one with `musicvae train` or pass --pack DIR")
    try:
        card = json.loads((folder / CARD).read_text())
    except FileNotFoundError:
        raise PackError(f"{where} has no {CARD}: it is not a musicvae pack") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PackError(f"{where}: {CARD} is not valid JSON ({exc}); re-export or re-train the pack") from None
    if not isinstance(card, dict) or card.get("format") != FORMAT:
        raise PackError(f"{where}: {CARD} is not a {FORMAT} card (a foreign model?)")
    if int(card.get("format_version", 0)) > FORMAT_VERSION:
        raise PackError(f"{where} was made by a newer musicvae-app (format {card['format_version']}); update the app")
    return card


def load_pack(folder: str | Path | None = None) -> Pack:
    """Load and check a pack; raise PackError naming the tensor or file that does not fit."""
    folder = Path(folder) if folder is not None else default_pack_dir()
    where = f"model pack '{folder}'"
    card = read_card(folder)
    try:
        cfg = PackConfig.from_dict(card.get("config") or {})
    except (TypeError, ValueError) as exc:
        raise PackError(f"{where}: card config is unusable: {exc}") from None
    weights = folder / WEIGHTS
    if not weights.is_file():
        raise PackError(f"{where} has no {WEIGHTS}")
    if card.get("weights_sha256") and card["weights_sha256"] != _sha256(weights):
        raise PackError(f"{where}: {WEIGHTS} does not match the checksum in {CARD} (changed or corrupt)")
    try:
        tensors = load_file(str(weights))
    except (SafetensorError, OSError, ValueError) as exc:
        raise PackError(f"{where}: {WEIGHTS} is not a readable safetensors file ({exc})") from None
    band = Band(cfg)
    expected = band.state_dict()
    for name, tensor in expected.items():
        if name not in tensors:
            raise PackError(f"{where}: tensor '{name}' is missing from {WEIGHTS}")
        if tuple(tensors[name].shape) != tuple(tensor.shape):
            raise PackError(
                f"{where}: tensor '{name}' has shape {tuple(tensors[name].shape)} "
                f"but the card's config needs {tuple(tensor.shape)}"
            )
        if not torch.isfinite(tensors[name]).all():
            raise PackError(f"{where}: tensor '{name}' holds NaN or infinite values")
    unexpected = sorted(set(tensors) - set(expected))
    if unexpected:
        raise PackError(f"{where}: tensor '{unexpected[0]}' is not part of a {FORMAT} (foreign weights?)")
    band.load_state_dict({k: v.float() for k, v in tensors.items()})
    band.eval()
    return Pack(band=band, card=card, path=folder)
