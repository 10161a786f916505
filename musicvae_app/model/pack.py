"""A model pack on disk: a folder with weights.safetensors and card.json. Loading never unpickles."""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file
from safetensors.torch import save as save_safetensors

from ..atomic import atomic_write
from ..errors import InvalidValue, MusicVAEError
from ..limits import (
    check_channels,
    check_chunk_steps,
    check_hidden,
    check_int,
    check_json_depth,
    check_latent,
    check_steps_per_beat,
)
from ..resources import resources_dir
from ..sketch.song import LANES
from ..sketch.spec import CardDefaults
from ..userfiles import open_user_file, read_user_file
from .nets import Band, PackConfig, upgrade_name

CARD = "card.json"
WEIGHTS = "weights.safetensors"
FORMAT = "musicvae-pack"
FORMAT_VERSION = 3  # 2: pitch windows, lead lane, start bank; 3: named layers (1 and 2 load through a key map)


class PackError(MusicVAEError):
    """A pack that cannot be used; the message names the pack, the problem and what to do."""


def default_pack_dir() -> Path:
    return Path(os.environ.get("MUSICVAE_PACK") or resources_dir() / "models" / "default")


@dataclass
class Pack:
    """Loaded nets plus the card that describes them; `generation` is the card's generation block, typed."""

    band: Band
    card: dict
    path: Path | None = None
    generation: CardDefaults | None = None

    def __post_init__(self):
        if self.generation is None:  # a pack built in memory: its card's well-formed defaults
            self.generation = CardDefaults.from_card(self.card, strict=False)

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
    weights = save_safetensors(tensors, metadata={"format": FORMAT})
    full = dict(card or {})
    full.update(
        format=FORMAT,
        format_version=FORMAT_VERSION,
        config=band.cfg.to_dict(),
        lanes=list(band.cfg.lanes),
        weights_sha256=hashlib.sha256(weights).hexdigest(),
    )
    full.setdefault("name", folder.name)
    atomic_write(folder / WEIGHTS, weights, mode=0o644)  # a pack is meant to be shared
    write_json_atomic(folder / CARD, full)
    return folder


def write_json_atomic(path: Path, data: dict) -> None:
    atomic_write(path, (json.dumps(data, indent=2, sort_keys=False) + "\n").encode(), mode=0o644)


MAX_CARD_BYTES = 4 << 20
MAX_WEIGHTS_BYTES = 512 << 20  # ~20x the default pack; loading holds it twice (file and nets)
MAX_WEIGHTS_HEADER_BYTES = 16 << 20
_DTYPE_BYTES = {"F32": 4, "F16": 2, "BF16": 2, "F64": 8}


def _check_generation(gen, where: str) -> CardDefaults:
    """The card's generation defaults, typed, each checked by sketch/spec.py's table (PackError names the key)."""
    if not isinstance(gen, dict):
        raise PackError(f"{where}: {CARD} 'generation' must be a record of defaults, got {type(gen).__name__}")
    try:
        return CardDefaults.from_block(gen)
    except InvalidValue as exc:
        raise PackError(f"{where}: {CARD} generation default {exc}") from None


def read_card(folder: str | Path) -> dict:
    """The pack's card, checked: bounded in size and depth, a known format and version, usable values."""
    return _read_card(folder)[0]


def _read_card(folder: str | Path) -> tuple[dict, CardDefaults]:
    """read_card, and the card's generation block parsed (once) into CardDefaults."""
    folder = Path(folder)
    where = f"model pack '{folder}'"
    if not folder.is_dir():
        raise PackError(f"{where} does not exist: train one with `musicvae train` or pass --pack DIR")
    if not (folder / CARD).exists() and not (folder / CARD).is_symlink():
        raise PackError(f"{where} has no {CARD}: it is not a musicvae pack")
    try:  # a folder, pipe or device under the card's name is refused at once; a foreign file's size before reading
        card = json.loads(read_user_file(folder / CARD, MAX_CARD_BYTES, f"{where}: the card", PackError))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PackError(f"{where}: {CARD} is not valid JSON ({exc}); re-export or re-train the pack") from None
    except RecursionError:
        raise PackError(f"{where}: {CARD} is nested too deeply to be a card") from None
    except OSError as exc:
        raise PackError(f"{where}: {CARD} cannot be read ({exc.strerror or exc})") from None
    if not isinstance(card, dict) or card.get("format") != FORMAT:
        raise PackError(f"{where}: {CARD} is not a {FORMAT} card (a foreign model?)")
    try:
        check_json_depth(CARD, card)
    except InvalidValue as exc:
        raise PackError(f"{where}: {exc}") from None
    version = card.get("format_version", 0)
    if isinstance(version, bool) or not isinstance(version, int):
        raise PackError(f"{where}: {CARD} format_version must be a whole number, got {version!r}")
    if version > FORMAT_VERSION:
        raise PackError(f"{where} was made by a newer musicvae-app (format {version}); update the app")
    generation = _check_generation(card.get("generation", {}), where)
    for key in ("training", "metrics"):
        if key in card and not isinstance(card[key], dict):
            raise PackError(f"{where}: {CARD} '{key}' must be a record, got {type(card[key]).__name__}")
    if not isinstance(card.get("training", {}).get("config", {}), dict):
        raise PackError(f"{where}: {CARD} 'training.config' must be a record")
    if "name" in card and not isinstance(card["name"], str):
        raise PackError(f"{where}: {CARD} 'name' must be text")
    return card, generation


MAX_BANK = 4096  # start latents a pack may store


def card_config(card: dict, where: str = "model pack") -> PackConfig:
    """The card's network sizes, each checked against musicvae_app.limits before anything is built."""
    raw = card.get("config") or {}
    if not isinstance(raw, dict):
        raise PackError(f"{where}: card config must be a record, got {type(raw).__name__}")
    try:
        sizes = dict(
            latent=check_latent(raw.get("latent", 16)),
            steps_per_beat=check_steps_per_beat(raw.get("steps_per_beat", 4)),
            chunk_steps=check_chunk_steps(raw.get("chunk_steps", 64)),
            hidden=check_hidden(raw.get("hidden", 128)),
        )
        if "lanes" in raw:
            if not isinstance(raw["lanes"], list) or not all(isinstance(x, str) for x in raw["lanes"]):
                raise InvalidValue("lanes must be a list of lane names")
            sizes["lanes"] = raw["lanes"]
        if "pitches" in raw:
            sizes["pitches"] = check_int("pitches", raw["pitches"], 16, 128)
        if "pitch_low" in raw:
            low = raw["pitch_low"]
            if not isinstance(low, list) or len(low) != 5:
                raise InvalidValue("pitch_low must be a list of five pitches, one per lane")
            sizes["pitch_low"] = [check_int("pitch_low", x, 0, 127) for x in low]
        if "lead" in raw:
            if not isinstance(raw["lead"], str):
                raise InvalidValue("lead must be a lane name")
            sizes["lead"] = raw["lead"]
        if "bank" in raw:
            sizes["bank"] = check_int("bank", raw["bank"], 0, MAX_BANK)
        if "channels" in raw:  # cards from before the option have none: the thesis's 64, 128, 256
            sizes["channels"] = check_channels(raw["channels"])
        if "chords" in raw:  # the chord-conditioned family; cards from before it have none
            if not isinstance(raw["chords"], bool):
                raise InvalidValue(f"chords must be true or false, got {raw['chords']!r}")
            sizes["chords"] = raw["chords"]
        return PackConfig.from_dict(sizes)
    except (InvalidValue, TypeError, ValueError) as exc:
        raise PackError(f"{where}: card config is unusable: {exc}") from None


def weights_header(path: Path, where: str = "model pack") -> dict[str, tuple[str, tuple[int, ...]]]:
    """{tensor name: (dtype, shape)} from a safetensors file's header, read without loading any tensor."""
    try:
        with open_user_file(path, MAX_WEIGHTS_BYTES, f"{where}: the weights", PackError) as f:
            size = os.fstat(f.fileno()).st_size
            length = int.from_bytes(f.read(8), "little")
            if not 2 <= length <= min(MAX_WEIGHTS_HEADER_BYTES, size - 8):
                raise InvalidValue(f"header length {length}")
            header = json.loads(f.read(length))
    except PackError:
        raise
    except (OSError, ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise PackError(f"{where}: {WEIGHTS} is not a readable safetensors file ({exc})") from None
    if not isinstance(header, dict):
        raise PackError(f"{where}: {WEIGHTS} is not a readable safetensors file (header is not a table)")
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        ok = isinstance(info, dict) and isinstance(info.get("shape"), list) and isinstance(info.get("dtype"), str)
        ok = ok and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in info["shape"])
        offsets = info.get("data_offsets") if ok else None
        ok = ok and isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(o, int) for o in offsets)
        if not ok:
            raise PackError(f"{where}: {WEIGHTS} describes tensor '{name}' unreadably")
        shape = tuple(info["shape"])
        width = _DTYPE_BYTES.get(info["dtype"])
        count = 1
        for n in shape:
            count *= n
        if width is None or offsets[1] - offsets[0] != count * width or not 0 <= offsets[0] <= offsets[1] <= size:
            raise PackError(f"{where}: tensor '{name}' in {WEIGHTS} has a size or type that does not match its shape")
        out[name] = (info["dtype"], shape)
    return out


def load_pack(folder: str | Path | None = None) -> Pack:
    """Load and check a pack; raise PackError naming the tensor or file that does not fit.

    Every size is checked before anything is allocated: the card's network sizes against the limits,
    then the shapes the weights file declares against the nets (built on torch's meta device, which
    holds no memory); only then are the nets built and the tensors read.
    """
    folder = Path(folder) if folder is not None else default_pack_dir()
    where = f"model pack '{folder}'"
    card, generation = _read_card(folder)
    cfg = card_config(card, where)
    weights = folder / WEIGHTS
    if not weights.exists():
        raise PackError(f"{where} has no {WEIGHTS}")
    declared = weights_header(weights, where)
    old_names = int(card.get("format_version") or 1) < 3  # numbered layers: read them under today's names
    if old_names:
        declared = {upgrade_name(k): v for k, v in declared.items()}
    if card.get("weights_sha256") and card["weights_sha256"] != _sha256(weights):
        raise PackError(f"{where}: {WEIGHTS} does not match the checksum in {CARD} (changed or corrupt)")
    try:
        with torch.device("meta"):
            expected = {k: tuple(v.shape) for k, v in Band(cfg).state_dict().items()}
    except (RuntimeError, ValueError) as exc:
        raise PackError(f"{where}: card config is unusable: {exc}") from None
    need = 4 * sum(math.prod(shape) for shape in expected.values())
    if need > MAX_WEIGHTS_BYTES:
        raise PackError(
            f"{where}: the card's config needs {need >> 20} MB of weights, more than a pack may hold "
            f"({MAX_WEIGHTS_BYTES >> 20} MB)"
        )
    for name, shape in expected.items():
        if name not in declared:
            raise PackError(f"{where}: tensor '{name}' is missing from {WEIGHTS}")
        if declared[name][1] != shape:
            raise PackError(
                f"{where}: tensor '{name}' has shape {declared[name][1]} but the card's config needs {shape}"
            )
    unexpected = sorted(set(declared) - set(expected))
    if unexpected:
        raise PackError(f"{where}: tensor '{unexpected[0]}' is not part of a {FORMAT} (foreign weights?)")
    try:
        tensors = load_file(str(weights))
    except (SafetensorError, OSError, ValueError) as exc:
        raise PackError(f"{where}: {WEIGHTS} is not a readable safetensors file ({exc})") from None
    if old_names:
        tensors = {upgrade_name(k): v for k, v in tensors.items()}
    band = Band(cfg)
    for name, tensor in band.state_dict().items():
        if name not in tensors or tuple(tensors[name].shape) != tuple(tensor.shape):
            raise PackError(f"{where}: tensor '{name}' does not match its declared shape in {WEIGHTS}")
        if not torch.isfinite(tensors[name]).all():
            raise PackError(f"{where}: tensor '{name}' holds NaN or infinite values")
    band.load_state_dict({k: v.float() for k, v in tensors.items()})
    band.eval()
    probe_finite(band, where)
    return Pack(band=band, card=card, path=folder, generation=generation)


@torch.inference_mode()
def probe_finite(band: Band, where: str = "model pack") -> None:
    """A few cheap passes through every net; PackError naming the nets that give NaN or infinity.

    Finite weights can still overflow (weights x 1e30 load, then every note probability is NaN): each
    lane's decoder runs on three latents (zero, +1, -1; chord packs with and without chords), its encoder
    on an empty and a full chunk, the predictors on those latents. About 6 ms on the shipped pack; the
    engine checks every output as well (Decoder.unblock).
    """
    cfg = band.cfg
    k = cfg.latent
    z = torch.stack([torch.zeros(k), torch.ones(k), -torch.ones(k)])
    chords = torch.zeros(len(z), cfg.chord_inputs) if cfg.chords else None
    if chords is not None:
        chords[1:] = 1.0  # no chord, and every chord input on
    rolls = torch.stack([torch.zeros(cfg.chunk_steps, cfg.pitches), torch.ones(cfg.chunk_steps, cfg.pitches)])
    bad = []
    for lane in LANES:
        vae = band.vae[lane]
        logits = vae.decode_logits(z, chords)
        mu, logvar = vae.encode(rolls)
        if not (torch.isfinite(logits).all() and torch.isfinite(mu).all() and torch.isfinite(logvar).all()):
            bad.append(f"the {lane} lane's VAE")
    if not torch.isfinite(band.melody(z)).all():
        bad.append(f"the lead ({cfg.lead}) predictor")
    for lane, net in band.cond.items():
        if not torch.isfinite(net(z, z)).all():
            bad.append(f"the {lane} lane's predictor")
    if band.band is not None:
        lanes = len(LANES)
        zs = z[:, None].expand(-1, lanes, -1)
        if not torch.isfinite(band.band(zs, zs, torch.ones(len(z), lanes), chords)).all():
            bad.append("the band predictor")
    if bad:
        raise PackError(
            f"{where}: {', '.join(bad)} give{'s' if len(bad) == 1 else ''} NaN or infinite values (weights "
            "that overflow): the pack is damaged; re-train it or choose another pack"
        )
