import json

import pytest
import torch
from safetensors.torch import load_file, save_file

from conftest import make_pack
from musicvae_app.engine import Engine
from musicvae_app.model.pack import PackError, load_pack


def test_round_trip_keeps_every_tensor(tmp_path):
    folder = make_pack(tmp_path / "p")
    pack = load_pack(folder)
    saved = load_file(str(folder / "weights.safetensors"))
    for name, tensor in pack.band.state_dict().items():
        assert torch.equal(tensor, saved[name])
    assert pack.card["config"]["chunk_steps"] == 32
    assert pack.name == "tiny-32"


def _tamper(folder, edit):
    tensors = load_file(str(folder / "weights.safetensors"))
    edit(tensors)
    save_file(tensors, str(folder / "weights.safetensors"))
    card = json.loads((folder / "card.json").read_text())
    card.pop("weights_sha256")  # a careful forger also drops the checksum: the shape check must still catch it
    (folder / "card.json").write_text(json.dumps(card))


def test_tensor_with_wrong_shape_is_named(tmp_path):
    folder = make_pack(tmp_path / "p")
    _tamper(folder, lambda t: t.__setitem__("vae.guitar.from_latent.weight", torch.zeros(256, 8)))
    with pytest.raises(PackError, match=r"vae\.guitar\.from_latent\.weight"):
        load_pack(folder)


def test_missing_and_foreign_tensors_are_named(tmp_path):
    folder = make_pack(tmp_path / "p")
    _tamper(folder, lambda t: t.pop("melody.net.fc1.bias"))
    with pytest.raises(PackError, match=r"melody\.net\.fc1\.bias.*missing"):
        load_pack(folder)
    folder = make_pack(tmp_path / "q")
    _tamper(folder, lambda t: t.__setitem__("lm_head.weight", torch.zeros(2)))
    with pytest.raises(PackError, match="lm_head.weight"):
        load_pack(folder)


def test_changed_weights_fail_the_checksum(tmp_path):
    folder = make_pack(tmp_path / "p")
    raw = bytearray((folder / "weights.safetensors").read_bytes())
    raw[-5] ^= 0xFF
    (folder / "weights.safetensors").write_bytes(bytes(raw))
    with pytest.raises(PackError, match="checksum"):
        load_pack(folder)


@pytest.mark.parametrize(
    "card,message",
    [
        ("{not json", "not valid JSON"),
        ('{"format": "keras"}', "foreign"),
        ('{"format": "musicvae-pack", "format_version": 99}', "newer"),
    ],
)
def test_bad_cards_are_refused_with_a_reason(tmp_path, card, message):
    folder = make_pack(tmp_path / "p")
    (folder / "card.json").write_text(card)
    with pytest.raises(PackError, match=message):
        load_pack(folder)


def test_missing_pack_and_pickle_files_are_refused(tmp_path):
    with pytest.raises(PackError, match="does not exist"):
        load_pack(tmp_path / "nowhere")
    folder = make_pack(tmp_path / "p")
    torch.save({"x": torch.zeros(1)}, folder / "weights.safetensors")  # a pickle under the right name
    card = json.loads((folder / "card.json").read_text())
    card.pop("weights_sha256")
    (folder / "card.json").write_text(json.dumps(card))
    with pytest.raises(PackError, match="safetensors"):
        load_pack(folder)


def test_engine_loads_from_a_folder(tiny_pack):
    engine = Engine.load(tiny_pack, device="cpu")
    assert engine.device == "cpu" and engine.device_name == "CPU"


def test_a_pack_with_numbered_layers_loads_under_named_layers(tiny_pack, tmp_path):
    """Packs of format 1-2 named their layers by index (vae.piano.encoder.0.weight): they load and play the same."""
    import shutil

    import numpy as np

    from musicvae_app.model.nets import _FORMAT2_NAMES
    from musicvae_app.model.pack import CARD, WEIGHTS, _sha256

    old = shutil.copytree(tiny_pack, tmp_path / "old")
    tensors = load_file(str(old / WEIGHTS))
    renamed = {}
    for name, tensor in tensors.items():
        for numbered, named in _FORMAT2_NAMES.items():
            if named in name:
                name = name.replace(named, numbered, 1)
                break
        renamed[name] = tensor
    assert (
        "vae.piano.encoder.0.weight" in renamed
        and "melody.net.5.bias" in renamed
        and "cond.drums.net.2.bias" in renamed
    )
    save_file(renamed, str(old / WEIGHTS))
    card = json.loads((old / CARD).read_text())
    card.update(format_version=2, weights_sha256=_sha256(old / WEIGHTS))
    (old / CARD).write_text(json.dumps(card))
    a = Engine.load(old, device="cpu").generate(steps=3, seed=4)
    b = Engine.load(tiny_pack, device="cpu").generate(steps=3, seed=4)
    assert np.array_equal(a.probs, b.probs)


@pytest.mark.parametrize(
    "channels,message",
    [
        ([0, 64, 256], "channels must be a whole number from 1 to 1024"),
        ("wide", "three conv widths"),
        ([32, 64], "three"),
    ],
)
def test_impossible_conv_widths_in_a_card_are_refused(tmp_path, channels, message):
    folder = make_pack(tmp_path / "p")
    card = json.loads((folder / "card.json").read_text())
    card["config"]["channels"] = channels
    card.pop("weights_sha256", None)
    (folder / "card.json").write_text(json.dumps(card))
    with pytest.raises(PackError, match=message):
        load_pack(folder)


def test_a_card_whose_widths_disagree_with_its_weights_names_the_tensor(tmp_path):
    folder = make_pack(tmp_path / "p")
    card = json.loads((folder / "card.json").read_text())
    card["config"]["channels"] = [32, 64, 256]
    (folder / "card.json").write_text(json.dumps(card))
    with pytest.raises(PackError, match="conv1.weight' has shape"):
        load_pack(folder)
