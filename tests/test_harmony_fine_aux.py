"""The fine net's trainer with the auxiliary target (training/train_harmony_fine_aux.py): the accompaniment's
pitch-class profile per half bar is what sounds there, the head that predicts it turns with the key as the chord
outputs do, and two training steps on made-up songs write a checkpoint of the fine net's own 9 outputs that the
app's numpy code reads (the head is for training only)."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
from test_harmony_trainers import PROGRESSION, load, moved, songs

from musicvae_app.theory.harmony import DEFAULT_WEIGHTS
from musicvae_app.theory.harmony_fine import N_STEP, fine_outputs

torch = pytest.importorskip("torch")


def piano(bars: int = 20) -> np.ndarray:
    """The made-up songs' piano (test_harmony_trainers.song): each bar's triad held for the bar."""
    return np.array(
        [(60 + t, 4.0 * bar, 4.0 * bar + 4, 70) for bar in range(bars) for t in PROGRESSION[bar % 4][1]], float
    )


def test_chroma_is_each_pitch_class_share_of_the_half_bars_sounding_time():
    from musicvae_app.training.train_harmony_fine_aux import chroma

    # C E G held for bar 1; in bar 2 a C for its first beat and an A across the bar line into bar 3's first beat
    notes = np.array([(60, 0, 4, 90), (64, 0, 4, 90), (67, 0, 4, 90), (48, 4, 5, 90), (69, 6.5, 8.5, 90)], float)
    out = chroma(notes, 6)
    assert out.shape == (6, 12) and out.dtype == np.float32
    assert np.allclose(out[0], out[1]) and np.allclose(out[0][[0, 4, 7]], 1 / 3) and out[0].sum() == pytest.approx(1)
    assert out[2][0] == pytest.approx(1.0)  # beat 1 of bar 2: only the C (the half bar's rest is silent)
    assert out[3][9] == pytest.approx(1.0) and out[4][9] == pytest.approx(1.0)  # the A, in both halves it touches
    assert not out[5].any()  # nothing sounds: a row of zeros (left out of the loss)
    assert not chroma(np.zeros((0, 4)), 3).any()


def test_aux_head_turns_with_the_key():
    from musicvae_app.training import train_harmony_fine as tf
    from musicvae_app.training.train_harmony_fine_aux import attach_aux, aux_logits

    torch.manual_seed(0)
    net = attach_aux(tf.make_net(8, 16, 8, 0.0), 16).eval()
    x = songs()[0]["steps"][: 16 * 8]
    up = x.copy()  # the same melody a semitone up: both pitch-class blocks turn by one
    up[:, :12], up[:, 12:24] = np.roll(x[:, :12], 1, axis=1), np.roll(x[:, 12:24], 1, axis=1)
    with torch.no_grad():
        net(torch.from_numpy(x[None]))
        base = aux_logits(net)[0].numpy()
        net(torch.from_numpy(up[None]))
        moved_up = aux_logits(net)[0].numpy()
    assert base.shape == (16, 12) and x.shape[1] == N_STEP
    assert np.allclose(np.roll(base, 1, axis=1), moved_up, atol=1e-5)
    assert not np.allclose(base, moved_up, atol=1e-3)


def test_aux_trainer_runs_two_steps_and_writes_a_fine_net_the_app_reads(tmp_path, monkeypatch):
    from musicvae_app.training import train_harmony_fine as tf
    from musicvae_app.training import train_harmony_fine_aux as ta

    monkeypatch.setattr(tf, "build", lambda root: songs())
    monkeypatch.setattr(tf, "FINE_CACHE", str(tmp_path))
    monkeypatch.setattr(ta, "pianos", lambda root: {s["id"]: piano() for s in songs()})
    steps = []
    real = ta.aux_step
    monkeypatch.setattr(ta, "aux_step", lambda *a, **k: steps.append((a[4], real(*a, **k))) or steps[-1][1])
    ta.main(["--shipped", DEFAULT_WEIGHTS, "--crop", "16", "--batch", "2", "--max-steps", "2", "--eval-every", "2",
             "--run-name", "smoke", "--keep-all", "--aux", "0.5",
             "--channels", "8", "--hidden", "16", "--att", "8"])  # fmt: skip
    assert len(steps) == 2
    batch, (loss, aux) = steps[-1]
    # the profiles the head learned: the crop's piano, C major's / A minor's / F's / G's triad, a third each
    assert all(np.allclose(p.sum(axis=1), 1.0) and ((p == 0) | np.isclose(p, 1 / 3)).all() for p in batch["chroma"])
    assert np.isfinite(aux) and aux > 0 and loss > 0.5 * aux
    torch.manual_seed(0)
    start = tf.export(tf.make_net(8, 16, 8, 0.1))
    net = load(tmp_path / "smoke_step2.npz")
    assert sorted(net) == sorted(start)  # no head in the checkpoint: the fine net's own weights
    assert 0 < moved(start, net) < 0.01
    history = json.loads((tmp_path / "smoke_history.json").read_text())["history"]
    assert [h["step"] for h in history] == [2] and history[0]["aux_loss"] > 0
    out = fine_outputs(net, songs()[-1]["steps"])
    assert out.shape == (12, 40, 9) and np.isfinite(out).all()
    cached = pickle.loads((tmp_path / "chroma_aux.pkl").read_bytes())
    assert sorted(cached) == [2, 3, 4] and cached[2].shape == (40, 12)  # the training songs' profiles, not dev's
