"""The transformer melody net (musicvae_app.theory.harmony_attn): its numpy forward pass against the torch net it is
trained as, its transposition equivariance, parts of any length, and its place in the harmony model's melody
ensemble."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

from musicvae_app.theory.harmony import (
    DEFAULT_WEIGHTS,
    HarmonyModel,
    Note,
    as_array,
    features,
    read_outputs,
    rotated_inputs,
)
from musicvae_app.theory.harmony_attn import ATTN_FILE, REL_CLIP, attn_outputs, rel_index
from musicvae_app.theory.harmony_fine import step_features

torch = pytest.importorskip("torch")
from musicvae_app.training.train_harmony_attn import export, make_net  # noqa: E402


def tune(bars: int = 8, seed: int = 3) -> np.ndarray:
    """A sung-like line: 8ths, quarters, held notes and rests on a major scale."""
    rng = np.random.default_rng(seed)
    scale = (0, 2, 4, 5, 7, 9, 11)
    notes, t = [], 0.0
    while t < 4 * bars - 1:
        d = float(rng.choice((0.5, 0.5, 1.0, 2.0)))
        if rng.random() > 0.15:
            notes.append(Note(60 + scale[int(rng.integers(7))] + 12 * int(rng.integers(2)), t, t + 0.9 * d))
        t += d
    return as_array(notes)


def random_net(seed: int = 0, **size):
    torch.manual_seed(seed)
    net = make_net(**size).eval()
    with torch.no_grad():  # big enough numbers that a wrong wire shows (the biases by distance too)
        for p in net.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return net, export(net)


def inputs(notes: np.ndarray, n: int):
    prof, scal = features(notes, n, 4, 2)
    return prof, scal, step_features(notes, n, 4)


@pytest.mark.parametrize("size", [{}, {"d": 32, "heads": 4, "layers": 3, "ff": 48, "step": 4}])
def test_numpy_forward_matches_torch(size):
    net, params = random_net(**size)
    n = 40  # longer than REL_CLIP: far half bars share the last distance bias
    prof, scal, steps = inputs(tune(20), n)
    t = [torch.from_numpy(x[None]) for x in (prof, scal, steps)]
    with torch.no_grad():
        want = net.outputs(net.tokens(*t))[0].numpy()
        chord, key = net(*t)
    got = attn_outputs(params, rotated_inputs(prof, scal), steps)
    assert got.shape == (12, n, 9)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())
    log_c, log_k = read_outputs(got)  # the app's reading of the outputs is the trained net's forward()
    np.testing.assert_allclose(log_c, torch.log_softmax(chord[0], -1).numpy(), atol=1e-3)
    np.testing.assert_allclose(log_k, torch.log_softmax(key[0], -1).numpy(), atol=1e-3)


def test_the_same_line_in_another_key_gets_the_same_chords_in_that_key():
    _, params = random_net(1)
    n = 16
    prof, scal, steps = inputs(tune(), n)
    up_prof = np.roll(prof, 2, axis=2)  # every pitch class up 2; the register numbers kept (no part of the key)
    up_steps = steps.copy()
    up_steps[:, :12] = np.roll(steps[:, :12], 2, axis=1)
    up_steps[:, 12:24] = np.roll(steps[:, 12:24], 2, axis=1)
    a = attn_outputs(params, rotated_inputs(prof, scal), steps)
    b = attn_outputs(params, rotated_inputs(up_prof, scal), up_steps)
    np.testing.assert_allclose(b, np.roll(a, 2, axis=0), rtol=1e-5, atol=1e-5)  # root r + 2 reads what r read
    ca, ka = read_outputs(a)
    cb, kb = read_outputs(b)
    assert (
        np.array_equal((ca.argmax(1) % 12 + 2) % 12, cb.argmax(1) % 12) and (ka.argmax() + 2) % 12 == kb.argmax() % 12
    )


def test_distance_biases_and_parts_of_any_length():
    rel = rel_index(40)
    assert rel[5, 5] == REL_CLIP and rel[5, 6] == REL_CLIP + 1 and rel[6, 5] == REL_CLIP - 1
    assert rel[0, 39] == 2 * REL_CLIP and rel[39, 0] == 0  # farther than REL_CLIP: the last bias either side
    _, params = random_net(2)
    for n in (1, 3, 300):  # a half bar, less than a phrase, longer than any training crop
        prof, scal, steps = inputs(tune(max(1, n // 2)), n)
        out = attn_outputs(params, rotated_inputs(prof, scal), steps)
        assert out.shape == (12, n, 9) and np.isfinite(out).all()
    # attention reads the whole part: the 16th-grid steps of half bar 55 alone (read by no other layer there)
    # change the numbers of half bar 0
    prof, scal, steps = inputs(tune(30), 60)
    far = steps.copy()
    far[55 * 8 : 56 * 8] = step_features(as_array([Note(61, 0.0, 2.0)]), 1, 4)
    rot = rotated_inputs(prof, scal)
    a, b = attn_outputs(params, rot, steps), attn_outputs(params, rot, far)
    assert not np.allclose(a[:, 0], b[:, 0])


def test_an_attn_net_beside_the_weights_joins_the_melody_ensemble(tmp_path):
    shutil.copy(DEFAULT_WEIGHTS, tmp_path / "harmony.npz")  # the first net alone, then with one attn net
    alone = HarmonyModel.load(str(tmp_path / "harmony.npz"))
    assert alone.attn_nets == []
    _, params = random_net(4)
    np.savez(tmp_path / "attn.npz", **params)
    model = HarmonyModel.load(str(tmp_path / "harmony.npz"))
    assert len(model.attn_nets) == 1 and set(model.attn_nets[0]) == set(params)
    melody = tune()
    res = model.harmonize(melody, bars=8, alternatives=1)
    first = alone.posteriors(*features(melody, 16, 4, alone.version))[0]
    prof, scal, steps = inputs(melody, 16)
    attn = read_outputs(attn_outputs(params, rotated_inputs(prof, scal), steps))[0]
    mean = (first + attn) / 2
    mean = mean - np.log(np.exp(mean).sum(axis=1, keepdims=True))
    assert res.half_bars == alone.decode(mean, 1)[0][1]
    assert res.half_bars != alone.harmonize(melody, bars=8, alternatives=1).half_bars  # it was heard
    comp = as_array([Note(p, 4 * b, 4 * b + 4) for b in range(8) for p in (60, 64, 67)])
    assert model.harmonize(comp, alternatives=2).charts == alone.harmonize(comp, alternatives=2).charts  # a comp: not
    # the shipped folder: every attn*.npz there is loaded
    folder = os.path.dirname(DEFAULT_WEIGHTS)
    names = sorted(f for f in os.listdir(folder) if ATTN_FILE.fullmatch(f))
    assert len(HarmonyModel.load().attn_nets) == len(names)
