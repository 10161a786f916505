import pytest
import torch

from musicvae_app.model.fast import decode_logits_blocked, encode_blocked
from musicvae_app.model.nets import Band, ConditionalNN, ConvVAE, MelodyNN, PackConfig


@pytest.mark.parametrize("steps,spb", [(32, 2), (64, 4)])
def test_vae_shapes_follow_the_diagram(steps, spb):
    cfg = PackConfig(chunk_steps=steps, steps_per_beat=spb)
    vae = ConvVAE(cfg)
    x = torch.zeros(3, steps, 128)
    assert vae.encoder[:2](x.unsqueeze(1)).shape == (3, 64, steps // 4, 32)
    assert vae.encoder[:4](x.unsqueeze(1)).shape == (3, 128, steps // 16, 8)
    assert vae.encoder(x.unsqueeze(1)).shape == (3, 256)
    with torch.no_grad():
        mu, logvar = vae.encode(x)
        probs = vae.decode(mu)
    assert mu.shape == (3, 16) and logvar.shape == (3, 1)
    assert probs.shape == (3, steps, 128)
    assert float(probs.min()) >= 0 and float(probs.max()) <= 1


def test_predictor_shapes():
    cfg = PackConfig()
    assert MelodyNN(cfg)(torch.zeros(7, 16)).shape == (7, 16)
    assert ConditionalNN(cfg)(torch.zeros(7, 16), torch.zeros(7, 16)).shape == (7, 16)
    band = Band(cfg)
    assert set(band.vae) == {"piano", "guitar", "bass", "strings", "drums"}
    assert set(band.cond) == {"guitar", "bass", "strings", "drums"}


def test_config_refuses_impossible_grids():
    with pytest.raises(ValueError, match="multiple of 16"):
        PackConfig(chunk_steps=40)
    with pytest.raises(ValueError, match="lanes"):
        PackConfig(lanes=("piano",))


@pytest.mark.parametrize("steps", [32, 64])
def test_blocked_training_path_equals_the_conv_modules(steps):
    torch.manual_seed(1)
    vae = ConvVAE(PackConfig(chunk_steps=steps))
    x = (torch.rand(4, steps, 128) < 0.1).float()
    mu, logvar = vae.encode(x)
    mu2, logvar2 = encode_blocked(vae, x)
    assert torch.allclose(mu, mu2, atol=1e-5) and torch.allclose(logvar, logvar2, atol=1e-5)
    assert torch.allclose(vae.decode_logits(mu), decode_logits_blocked(vae, mu), atol=1e-5)


def test_narrow_widths_follow_the_config_and_keep_both_paths_equal():
    cfg = PackConfig(chunk_steps=64, pitches=64, pitch_low=(31, 28, 16, 33, 18), channels=(32, 64, 256))
    torch.manual_seed(2)
    vae = ConvVAE(cfg)
    x = (torch.rand(3, 64, 64) < 0.1).float()
    assert vae.encoder[:2](x.unsqueeze(1)).shape == (3, 32, 16, 16)
    assert vae.encoder[:4](x.unsqueeze(1)).shape == (3, 64, 4, 4)
    mu, logvar = vae.encode(x)
    mu2, logvar2 = encode_blocked(vae, x)
    assert torch.allclose(mu, mu2, atol=1e-5) and torch.allclose(logvar, logvar2, atol=1e-5)
    assert torch.allclose(vae.decode_logits(mu), decode_logits_blocked(vae, mu), atol=1e-5)
    narrow = sum(p.numel() for p in vae.parameters())
    wide = sum(p.numel() for p in ConvVAE(PackConfig(chunk_steps=64, pitches=64, pitch_low=cfg.pitch_low)).parameters())
    assert narrow < wide / 2


def test_channels_round_trip_and_old_cards_get_the_thesis_widths():
    cfg = PackConfig(channels=(32, 64, 128))
    assert PackConfig.from_dict(cfg.to_dict()) == cfg
    old = cfg.to_dict()
    del old["channels"]  # a card written before the option existed
    assert PackConfig.from_dict(old).channels == (64, 128, 256)
    for bad in ((32, 64), (0, 64, 128), (32.5, 64, 128)):
        with pytest.raises(ValueError, match="channels"):
            PackConfig(channels=bad)
