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


# --- weights that overflow (issue 22: "weights x 1e30 load, generate NaN and 0 notes, exit 0") ------------------
def _scaled_pack(folder, source, names: str | tuple[str, ...] = "", factor: float = 1e30):
    """A copy of `source` saved through the real pack writer, every parameter whose name has one of `names` scaled."""
    from musicvae_app.model.pack import save_pack

    pack = load_pack(source)
    with torch.no_grad():
        for name, tensor in pack.band.named_parameters():
            if any(part in name for part in ((names,) if isinstance(names, str) else names)):
                tensor.mul_(factor)
    return save_pack(pack.band, folder, dict(pack.card))


def test_weights_that_overflow_are_refused_at_load_naming_the_nets(tiny_pack, tmp_path):
    big = _scaled_pack(tmp_path / "big", tiny_pack)
    with pytest.raises(PackError) as exc:
        load_pack(big)
    message = str(exc.value)
    assert str(big) in message and "re-train" in message
    for net in ("piano lane's VAE", "drums lane's VAE", "lead (piano) predictor", "bass lane's predictor"):
        assert net in message


def test_only_the_net_that_overflows_is_named(tiny_pack, tmp_path):
    big = _scaled_pack(tmp_path / "melody", tiny_pack, "melody.")
    with pytest.raises(PackError, match=r"the lead \(piano\) predictor gives NaN") as exc:
        load_pack(big)
    assert "VAE" not in str(exc.value)
    strings = _scaled_pack(tmp_path / "strings", tiny_pack, "vae.strings.decoder.")
    with pytest.raises(PackError, match="the strings lane's VAE gives NaN") as exc:
        load_pack(strings)
    assert "piano" not in str(exc.value)


def test_chord_weights_that_overflow_are_refused(tiny_chord_pack, tmp_path):
    # Finite with no chords (the deconv alone stays under float32's range); chords on, it overflows.
    big = _scaled_pack(tmp_path / "chords", tiny_chord_pack, ("vae.bass.from_chords.", "vae.bass.decoder.deconv1.w"))
    with pytest.raises(PackError, match="the bass lane's VAE gives NaN"):
        load_pack(big)
    band = _scaled_pack(tmp_path / "band", tiny_chord_pack, "band.net.")
    with pytest.raises(PackError, match="the band predictor gives NaN"):
        load_pack(band)


def test_a_sound_pack_passes_the_probe_and_plays(tiny_pack, tiny_chord_pack):
    for folder in (tiny_pack, tiny_chord_pack):
        song = Engine.load(folder, device="cpu").generate(steps=1, seed=3)
        assert song.notes().any()


def test_the_engine_refuses_non_finite_output_naming_pack_and_lane(tiny_pack):
    """A pack damaged after loading (the probe cannot see it): every call that decodes says so, naming the lane."""
    import numpy as np

    pack = load_pack(tiny_pack)
    engine = Engine.load(pack, device="cpu")
    song = engine.generate(steps=2, seed=1)
    with torch.no_grad():
        for tensor in pack.band.vae["guitar"].decoder.parameters():
            tensor.mul_(1e30)
    damaged = Engine.load(pack, device="cpu")
    calls = {
        "generate": lambda: damaged.generate(steps=2, seed=1),
        "primer": lambda: damaged.generate(steps=1, seed=1, primer=song),
        "variations": lambda: damaged.generate(steps=1, seed=1, variations=3),
        "regenerate": lambda: damaged.regenerate_lane(song, "guitar", seed=2),
        "continue": lambda: damaged.continue_song(song, 1, seed=2),
        "reconstruct": lambda: damaged.reconstruct(song),
    }
    for what, call in calls.items():
        with pytest.raises(PackError) as exc:
            call()
        message = str(exc.value)
        assert "'tiny-32'" in message and "lane guitar:" in message, (what, message)
        assert "piano" not in message and "drums" not in message
    assert np.isfinite(engine.generate(steps=2, seed=1).probs).all()  # the sound engine is untouched


def test_the_cli_says_a_pack_overflows_in_one_line_and_writes_nothing(tiny_pack, tmp_path, capsys):
    from musicvae_app.cli import main

    big = _scaled_pack(tmp_path / "big", tiny_pack)
    out = tmp_path / "x.mid"
    assert main(["generate", "--out", str(out), "--pack", str(big), "--seed", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("musicvae generate: error: model pack") and "NaN" in err
    assert not out.exists()
