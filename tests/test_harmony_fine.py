"""The fine melody net (musicvae_app.theory.harmony_fine): its features, its numpy forward pass against the torch
net it was trained as, and its place in the harmony model's melody ensemble."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

from musicvae_app.theory.harmony import DEFAULT_WEIGHTS, HarmonyModel, Note, as_array, features, read_outputs
from musicvae_app.theory.harmony_fine import N_STEP, STEPS, fine_outputs, step_features
from musicvae_app.training.train_harmony_fine import export, make_net

torch = pytest.importorskip("torch")


def tune(shift: int = 0) -> np.ndarray:
    """Eight bars of a sung-like line: 8ths, quarters, a held note, rests, a pickup, one doubled onset."""
    rng = np.random.default_rng(3)
    scale = (0, 2, 4, 5, 7, 9, 11)
    notes, t = [Note(67 + shift, -0.5, 0.0)], 0.0  # a pickup before bar 1 (cut at beat 0)
    while t < 30:
        d = float(rng.choice((0.5, 0.5, 1.0, 2.0)))
        if rng.random() < 0.15:  # a rest
            t += d
            continue
        notes.append(Note(60 + shift + scale[int(rng.integers(7))] + 12 * int(rng.integers(2)), t, t + 0.9 * d))
        t += d
    notes.append(Note(55 + shift, 8.0, 9.0))  # a lower note struck with another: the top line keeps the upper
    return as_array(notes)


def random_params(seed: int = 0) -> dict[str, np.ndarray]:
    torch.manual_seed(seed)
    net = make_net(8, 16, 8, 0.0).eval()
    with torch.no_grad():  # make the numbers big enough that a wrong wire shows
        for p in net.parameters():
            p.mul_(3.0)
    return net, export(net)


def test_step_features_read_the_top_line_on_a_16th_grid():
    notes = as_array([Note(60, 0, 1), Note(64, 1, 1.5), Note(67, 2, 4), Note(48, 2, 4)])
    x = step_features(notes, 2, 4)  # 2 half bars in 4/4: 16 steps of a 16th
    assert x.shape == (2 * STEPS, N_STEP)
    sounding = [int(np.argmax(r[:12])) if r[:12].any() else None for r in x]
    assert sounding == [0] * 4 + [4] * 2 + [None] * 2 + [7] * 8  # G over the low C: the top line
    struck = [i for i, r in enumerate(x) if r[12:24].any()]
    assert struck == [0, 4, 8] and x[4, 12 + 4] == 1 and x[8, 12 + 7] == 1
    assert list(x[:, 24]) == [0] * 6 + [1] * 2 + [0] * 8  # the rest
    assert x[4, 27] == pytest.approx(4 / 12) and x[4, 28] == pytest.approx(3 / 12)  # E: up 4 from C, on up 3
    assert list(x[:, 31]) == [0] * 8 + [1] * 8  # which half of the bar
    # 3/4: a half bar is a beat and a half, still 8 steps
    assert step_features(as_array([Note(60, 1.5, 3.0)]), 2, 3)[8:, 12].tolist() == [1] + [0] * 7


def test_numpy_forward_matches_torch():
    net, params = random_params()
    notes = tune()
    n = 16
    steps = step_features(notes, n, 4)
    with torch.no_grad():
        want = net.outputs(torch.from_numpy(steps[None]))[0].numpy()
    got = fine_outputs(params, steps)
    assert got.shape == (12, n, 9)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())
    # and the chord/key reading of the torch net's forward() is harmony.read_outputs'
    with torch.no_grad():
        chord, key = net(torch.from_numpy(steps[None]))
    log_c, log_k = read_outputs(got)
    np.testing.assert_allclose(log_c, torch.log_softmax(chord[0], -1).numpy(), atol=1e-3)
    np.testing.assert_allclose(log_k, torch.log_softmax(key[0], -1).numpy(), atol=1e-3)


def test_the_same_line_in_another_key_gets_the_same_chords_in_that_key():
    _, params = random_params(1)
    x = step_features(tune(), 16, 4)
    up = x.copy()  # every pitch class up 2, the register numbers kept (they are no part of the key)
    up[:, :12], up[:, 12:24] = np.roll(x[:, :12], 2, axis=1), np.roll(x[:, 12:24], 2, axis=1)
    c0, k0 = read_outputs(fine_outputs(params, x))
    c2, k2 = read_outputs(fine_outputs(params, up))
    # chord index = quality * 12 + root; key index = mode * 12 + tonic: up 2 semitones moves every root by 2
    np.testing.assert_allclose(c2.reshape(16, 7, 12), np.roll(c0.reshape(16, 7, 12), 2, axis=2), atol=1e-4)
    np.testing.assert_allclose(k2.reshape(2, 12), np.roll(k0.reshape(2, 12), 2, axis=1), atol=1e-4)


def test_a_fine_net_beside_the_weights_joins_the_melody_ensemble(tmp_path):
    shipped = HarmonyModel.load()
    folder = os.path.dirname(DEFAULT_WEIGHTS)
    shutil.copy(DEFAULT_WEIGHTS, tmp_path / "harmony.npz")  # the first net alone, then with one fine net
    alone = HarmonyModel.load(str(tmp_path / "harmony.npz"))
    assert alone.melody_nets == [] and alone.fine_nets == []
    _, params = random_params(2)
    np.savez(tmp_path / "fine.npz", **params)
    model = HarmonyModel.load(str(tmp_path / "harmony.npz"))
    assert len(model.fine_nets) == 1 and set(model.fine_nets[0]) == set(params)
    melody = tune()[1:]  # from bar 1 on
    res = model.harmonize(melody, bars=8, alternatives=1)
    first = alone.posteriors(*features(melody, 16, 4, alone.version))[0]
    fine = read_outputs(fine_outputs(params, step_features(melody, 16, 4)))[0]
    mean = (first + fine) / 2
    mean = mean - np.log(np.exp(mean).sum(axis=1, keepdims=True))
    assert res.half_bars == alone.decode(mean, 1)[0][1]
    assert res.half_bars != alone.harmonize(melody, bars=8, alternatives=1).half_bars  # it was heard
    comp = as_array([Note(p, 4 * b, 4 * b + 4) for b in range(8) for p in (60, 64, 67)])
    assert model.harmonize(comp, alternatives=2).charts == alone.harmonize(comp, alternatives=2).charts
    # the shipped folder: every fine*.npz there is loaded
    names = sorted(f for f in os.listdir(folder) if f.startswith("fine") and f.endswith(".npz"))
    assert len(shipped.fine_nets) == len(names)
