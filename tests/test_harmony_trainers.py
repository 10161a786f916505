"""The harmony model's melody-net trainers run end to end: a few training steps on small made-up songs (POP909-like
items and teacher-labelled leads, the shapes the real caches hold), a dev measurement with the shipped nets, and a
checkpoint that the app's numpy code reads. The shared pieces (training/harmony_common.py) are checked on their own:
the soft-target step's loss is the cross-entropy it names, and the targets are the people's labels and the
teacher's marginals as documented."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from musicvae_app.theory.harmony import (
    DEFAULT_WEIGHTS,
    NO_CHORD,
    HarmonyModel,
    chord_index,
    features,
    read_outputs,
    rotated_inputs,
)
from musicvae_app.theory.harmony_fine import fine_outputs, step_features
from musicvae_app.training import harmony_common as hc
from musicvae_app.training import harmony_data as hd

torch = pytest.importorskip("torch")

PROGRESSION = [(0, (0, 4, 7)), (9, (9, 0, 4)), (5, (5, 9, 0)), (7, (7, 11, 2))]  # C Am F G


def song(song_id: int, split: str, bars: int = 20, version: int = 2, seed: int = 0) -> dict:
    """A POP909-like item: a melody on the chord tones of C Am F G (a passing note a bar), its labels, the
    features of each input kind (piano: the chords; bass: their roots) and the melody's 16th-grid steps."""
    rng = np.random.default_rng(seed + song_id)
    mel, piano, bass, halves = [], [], [], []
    for bar in range(bars):
        root, tones = PROGRESSION[bar % 4]
        b = 4.0 * bar
        line = [tones[0], (tones[0] + 2) % 12, tones[1], tones[2]]
        mel += [(72 + p, b + i, b + i + float(rng.choice((0.5, 1.0))), 90) for i, p in enumerate(line)]
        piano += [(60 + t, b, b + 4, 70) for t in tones]
        bass += [(36 + root, b, b + 4, 80)]
        q = 1 if root == 9 else 0
        halves += [chord_index((root, q))] * 2
    halves[-1] = NO_CHORD  # an N half bar is out of the loss and the score
    n = len(halves)
    parts = {"melody": np.array(mel, float), "piano": np.array(piano, float), "bass": np.array(bass, float)}
    parts["melody+piano"] = np.concatenate([parts["melody"], parts["piano"]])
    return {
        "id": song_id,
        "split": split,
        "key": 0,
        "halves": np.array(halves, dtype=np.int64),
        "melody": parts["melody"],
        "steps": step_features(parts["melody"], n, 4),
        "feats": {kind: features(parts[kind], n, 4, version) for kind in hd.KINDS},
    }


def songs(version: int = 2) -> list[dict]:
    return [song(i, "train", version=version) for i in (2, 3, 4)] + [song(11, "dev", version=version)]


def band_item(name: str, bars: int = 20) -> dict:
    """A teacher-labelled lead as harmony_teacher writes it (+ its 16th-grid steps, as the fine trainers read it)."""
    s = song(7, "train", bars)
    n = len(s["halves"])
    soft = np.full((n, 84), 0.2 / 83, dtype=np.float16)
    soft[np.arange(n - 1), s["halves"][:-1]] = 0.8
    mask = np.ones(n, bool)
    mask[-1] = False
    return {"id": name, "soft": soft, "mask": mask, "halves": s["halves"], "key": 0,
            "feats": {"melody": s["feats"]["melody"]}, "steps": s["steps"]}  # fmt: skip


def moved(before: dict, after: dict) -> float:
    """The largest change of any weight between two exported nets (the same keys)."""
    assert sorted(before) == sorted(after)
    return max(float(np.abs(np.asarray(after[k], float) - np.asarray(before[k], float)).max()) for k in before)


def load(path) -> dict:
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


def test_soft_step_loss_is_the_masked_soft_cross_entropy_plus_the_keys():
    torch.manual_seed(0)
    lin = torch.nn.Linear(3, 84 + 24)
    x = torch.randn(2, 5, 3)
    out = lin(x)
    chord, key = out[..., :84], out[..., 84:].mean(1)
    gold = np.array([[chord_index((0, 0)), NO_CHORD, 3, 4, 5], [6, 7, 8, 9, NO_CHORD]])
    targets, masks = zip(*(hc.soft_target(g, None, 0.0) for g in gold))
    with torch.no_grad():
        logp = torch.log_softmax(chord, -1).numpy()
        want_nll = np.mean([-logp[b, t, gold[b, t]] for b in range(2) for t in range(5) if gold[b, t] != NO_CHORD])
        want_key = float(torch.nn.functional.cross_entropy(key, torch.tensor([0, 13])))
    before = lin.weight.detach().clone()
    opt = torch.optim.SGD(lin.parameters(), lr=0.1)
    loss = hc.soft_step(lin, opt, chord, key, list(targets), list(masks), [0, 13], key_weight=0.2)
    assert loss == pytest.approx(want_nll + 0.2 * want_key, rel=1e-5)
    assert not torch.equal(before, lin.weight)  # one step taken
    # an unknown key (NO_CHORD) is out of the key loss
    out = lin(x)
    chord, key = out[..., :84], out[..., 84:].mean(1)
    with torch.no_grad():
        logp = torch.log_softmax(chord, -1).numpy()
        nll = np.mean([-logp[b, t, gold[b, t]] for b in range(2) for t in range(5) if gold[b, t] != NO_CHORD])
        k0 = float(torch.nn.functional.cross_entropy(key[:1], torch.tensor([0])))
    loss = hc.soft_step(lin, opt, chord, key, list(targets), list(masks), [0, NO_CHORD], key_weight=0.2)
    assert loss == pytest.approx(nll + 0.2 * k0, rel=1e-5)


def test_targets_mix_the_peoples_label_and_the_teachers():
    gold = np.array([chord_index((0, 0)), NO_CHORD, chord_index((9, 1))])
    teacher = np.zeros((3, 84), np.float16)
    teacher[:, chord_index((9, 1))] = 2.0  # unnormalised: normalised by soft_target
    target, mask = hc.soft_target(gold, teacher, 0.3)
    assert mask.tolist() == [True, False, True]
    assert target[0, gold[0]] == pytest.approx(0.7) and target[0, gold[2]] == pytest.approx(0.3)
    assert target[2, gold[2]] == pytest.approx(1.0)
    smooth, _ = hc.pop_target(gold, 0.1)
    assert np.allclose(smooth[mask].sum(axis=1), 1.0, atol=1e-5) and smooth[0, gold[0]] == pytest.approx(0.9 + 0.1 / 84)
    soft, keep = hc.band_target(band_item("a.mid"))
    assert np.allclose(soft.sum(axis=1), 1.0, atol=1e-3) and not keep[-1]


def test_set_lr_warms_up_then_decays():
    opt = torch.optim.SGD(torch.nn.Linear(1, 1).parameters(), lr=1.0)
    hc.set_lr(opt, 2e-3, 100, 0.0, cosine=True)
    assert opt.param_groups[0]["lr"] == pytest.approx(1e-3)
    hc.set_lr(opt, 2e-3, 400, 0.5, cosine=True)
    assert opt.param_groups[0]["lr"] == pytest.approx(1e-3)
    hc.set_lr(opt, 2e-3, 400, 0.5, cosine=False)
    assert opt.param_groups[0]["lr"] == pytest.approx(2e-3)


def test_fine_trainer_runs_a_step_and_writes_a_net_the_app_reads(tmp_path, monkeypatch):
    from musicvae_app.training import train_harmony_fine as tf

    monkeypatch.setattr(tf, "build", lambda root: songs())
    monkeypatch.setattr(tf, "FINE_CACHE", str(tmp_path))
    size = ["--channels", "8", "--hidden", "16", "--att", "8"]
    tf.main(["--shipped", DEFAULT_WEIGHTS, "--crop", "16", "--batch", "2", "--max-steps", "2", "--eval-every", "2",
             "--run-name", "smoke", *size])  # fmt: skip
    torch.manual_seed(0)
    start = tf.export(tf.make_net(8, 16, 8, 0.1))
    net = load(tmp_path / "smoke_last.npz")
    assert 0 < moved(start, net) < 0.01  # the second step moved the weights a little (the first has lr 0)
    history = json.loads((tmp_path / "smoke_history.json").read_text())["history"]
    assert [h["step"] for h in history] == [2] and all(0 <= history[0][k] <= 1 for k in ("alone", "ens", "ens+1"))
    out = fine_outputs(net, songs()[-1]["steps"])
    assert out.shape == (12, 40, 9) and np.isfinite(out).all()


def test_distill_targets_are_the_shipped_ensembles_chords_on_the_melody():
    from musicvae_app.training import train_harmony_fine as tf

    items = songs()
    teach = tf.distill_targets(DEFAULT_WEIGHTS, items)
    model = HarmonyModel.load(DEFAULT_WEIGHTS)
    assert sorted(teach) == sorted(s["id"] for s in items)
    s = items[0]
    want, _ = model.ensemble_posteriors(s["melody"], len(s["halves"]), 4)
    assert teach[s["id"]].shape == (40, 84) and np.allclose(teach[s["id"]], np.exp(want), atol=1e-5)
    assert np.allclose(teach[s["id"]].sum(axis=1), 1.0, atol=1e-4)
    # the melody of C Am F G on its chord tones: the ensemble names most of its half bars right
    labelled = s["halves"] != NO_CHORD
    assert (teach[s["id"]].argmax(axis=1)[labelled] % 12 == s["halves"][labelled] % 12).mean() > 0.5


def test_fine_trainer_distils_and_keeps_every_checkpoint(tmp_path, monkeypatch):
    from musicvae_app.training import train_harmony_fine as tf

    monkeypatch.setattr(tf, "build", lambda root: songs())
    monkeypatch.setattr(tf, "FINE_CACHE", str(tmp_path))
    seen = []
    real = tf.distill_targets
    monkeypatch.setattr(tf, "distill_targets", lambda shipped, items: seen.append(len(items)) or real(shipped, items))
    size = ["--channels", "8", "--hidden", "16", "--att", "8"]
    tf.main(["--shipped", DEFAULT_WEIGHTS, "--crop", "16", "--batch", "2", "--max-steps", "4", "--eval-every", "2",
             "--run-name", "smoke", "--distill", "0.5", "--keep-all", *size])  # fmt: skip
    assert seen == [3]  # the three training songs' targets, not the dev song's
    first, second = load(tmp_path / "smoke_step2.npz"), load(tmp_path / "smoke_step4.npz")
    assert 0 < moved(first, second) < 0.05
    assert np.isfinite(fine_outputs(second, songs()[-1]["steps"])).all()


def test_fine_trainer_distils_from_a_teachers_marginals(tmp_path, monkeypatch):
    from musicvae_app.training import train_harmony_fine as tf

    monkeypatch.setattr(tf, "build", lambda root: songs())
    monkeypatch.setattr(tf, "FINE_CACHE", str(tmp_path))
    soft = {s["id"]: band_item("a.mid")["soft"] * 3 for s in songs()[:2]}  # unnormalised; song 4 has none
    (tmp_path / "soft.pkl").write_bytes(pickle.dumps(soft))
    real = tf.normalised
    seen = []
    monkeypatch.setattr(tf, "normalised", lambda p: seen.append(real(p)) or seen[-1])
    tf.main(["--shipped", DEFAULT_WEIGHTS, "--crop", "16", "--batch", "2", "--max-steps", "2", "--eval-every", "2",
             "--run-name", "smoke", "--distill", "0.3", "--distill-soft", str(tmp_path / "soft.pkl"),
             "--channels", "8", "--hidden", "16", "--att", "8"])  # fmt: skip
    assert len(seen) == 2 and all(np.allclose(p.sum(axis=1), 1.0, atol=1e-3) for p in seen)
    assert np.isfinite(fine_outputs(load(tmp_path / "smoke_last.npz"), songs()[-1]["steps"])).all()


def test_fine_teacher_trainer_runs_a_step_on_pop909_and_band_leads(tmp_path, monkeypatch):
    from musicvae_app.training import train_harmony_fine_teacher as ft

    monkeypatch.setattr(ft, "build", lambda root: songs())
    monkeypatch.setattr(ft, "build_band", lambda *a: [band_item("a.mid"), band_item("b.mid")])
    size = ["--channels", "8", "--hidden", "16", "--att", "8"]
    ft.main(["--shipped", DEFAULT_WEIGHTS, "--crop", "16", "--batch", "4", "--max-steps", "2", "--eval-every", "2",
             "--run-name", "smoke", "--checkpoints", str(tmp_path), *size])  # fmt: skip
    torch.manual_seed(0)
    start = ft.export(ft.make_net(8, 16, 8, 0.1))
    net = load(tmp_path / "smoke_2.npz")
    assert 0 < moved(start, net) < 0.01
    history = json.loads((tmp_path / "smoke_history.json").read_text())["history"]
    h = history[0]
    assert h["step"] == 2 and {"alone", "shipped", "shipped+it", "it for fine1"} <= set(h)
    assert all(0 <= v <= 1 for k, v in h.items() if k not in ("step", "seconds", "loss"))


def test_teacher_trainer_runs_a_step_and_writes_a_melody_net(tmp_path, monkeypatch):
    from musicvae_app.training import harmony_teacher_train as tt

    by_version = {1: songs(1), 2: songs(2)}
    monkeypatch.setattr(tt, "build", lambda root, version=1: by_version[version])
    soft = {s["id"]: np.eye(85, 84)[s["halves"]].astype(np.float16) for s in by_version[2]}
    (tmp_path / "soft.pkl").write_bytes(pickle.dumps(soft))
    (tmp_path / "band.pkl").write_bytes(pickle.dumps([band_item("a.mid")]))
    tt.main(["--band", str(tmp_path / "band.pkl"), "--pop909-soft", str(tmp_path / "soft.pkl"),
             "--out", str(tmp_path / "out"), "--checkpoints", str(tmp_path), "--name", "melody9.npz",
             "--hidden", "16", "--crop", "16", "--batch", "4", "--max-steps", "2", "--eval-every", "2",
             "--run-name", "smoke"])  # fmt: skip
    torch.manual_seed(0)
    start = tt.export(tt.make_net(16, 1, 2), 1, 2)
    net = load(tmp_path / "smoke_last.npz")
    assert 0 < moved(start, net) < 0.05
    written = HarmonyModel(load(tmp_path / "out" / "melody9.npz"))
    prof, scal = by_version[2][-1]["feats"]["melody"]
    log_c, log_k = written.posteriors(prof, scal)
    assert log_c.shape == (40, 84) and np.allclose(np.exp(log_c).sum(axis=1), 1.0, atol=1e-4)


def test_attn_trainer_runs_a_step_and_resumes(tmp_path, monkeypatch):
    from musicvae_app.theory.harmony_attn import attn_outputs
    from musicvae_app.training import train_harmony_attn as ta
    from musicvae_app.training import train_harmony_fine as tf

    monkeypatch.setattr(tf, "build", lambda root: songs())
    soft = {s["id"]: np.eye(85, 84)[s["halves"]].astype(np.float16) for s in songs()}
    (tmp_path / "soft.pkl").write_bytes(pickle.dumps(soft))
    items = [band_item("a.mid"), band_item("b.mid")]
    (tmp_path / "band.pkl").write_bytes(pickle.dumps(items))
    (tmp_path / "band_fine.pkl").write_bytes(pickle.dumps([{"id": b["id"], "steps": b["steps"]} for b in items]))
    args = ["--band", str(tmp_path / "band.pkl"), "--band-fine", str(tmp_path / "band_fine.pkl"),
            "--pop909-soft", str(tmp_path / "soft.pkl"), "--shipped", DEFAULT_WEIGHTS, "--checkpoints", str(tmp_path),
            "--d", "16", "--heads", "2", "--layers", "1", "--ff", "16", "--crop", "16", "--batch", "4",
            "--eval-every", "2", "--run-name", "smoke"]  # fmt: skip
    ta.main([*args, "--max-steps", "2"])
    torch.manual_seed(0)
    start = ta.export(ta.make_net(16, 2, 1, 16, 8, 0.1))
    net = load(tmp_path / "smoke_2.npz")
    assert 0 < moved(start, net) < 0.01
    ta.main([*args, "--max-steps", "4", "--resume", str(tmp_path / "smoke_state.pt")])  # two more steps
    history = json.loads((tmp_path / "smoke_history.json").read_text())["history"]
    assert [h["step"] for h in history] == [2, 4] and {"alone", "it for fine1"} <= set(history[-1])
    assert moved(net, load(tmp_path / "smoke_4.npz")) > 0
    dev = songs()[-1]
    out = attn_outputs(net, rotated_inputs(*dev["feats"]["melody"]), dev["steps"])
    log_c, _ = read_outputs(out)
    assert log_c.shape == (40, 84) and np.isfinite(log_c).all()
