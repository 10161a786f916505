"""Minimum-Bayes-risk decoding of the harmony model (musicvae_app.theory.harmony_decode), checked against brute
force on small chains and on the shipped model with tunes written here."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from musicvae_app.theory.harmony import (
    HarmonyModel,
    Note,
    family_index,
    features,
    kbest_viterbi,
    read_outputs,
    tones_of_index,
)
from musicvae_app.theory.harmony_decode import (
    CHORD_FAMILY,
    expected_agreement,
    family_marginals,
    forward_backward,
    mbr_path,
    repeat_ties,
    tie_repeats,
)
from musicvae_app.theory.harmony_fine import fine_outputs, step_features


def brute_marginals(emit: np.ndarray, trans: list[np.ndarray]) -> np.ndarray:
    t_len, n_s = emit.shape
    post = np.zeros((t_len, n_s))
    for path in itertools.product(range(n_s), repeat=t_len):
        score = emit[0, path[0]] + sum(
            trans[t % len(trans)][path[t - 1], path[t]] + emit[t, path[t]] for t in range(1, t_len)
        )
        post[np.arange(t_len), path] += np.exp(score)
    return post / post.sum(axis=1, keepdims=True)


def test_forward_backward_matches_brute_force_with_alternating_transitions():
    rng = np.random.default_rng(3)
    emit = np.log(rng.dirichlet(np.ones(4), size=5)) * 3  # sharp and flat rows
    trans = [np.log(rng.dirichlet(np.ones(4), size=4)), 0.25 * np.log(rng.dirichlet(np.ones(4), size=4))]
    got = forward_backward(emit, trans)
    assert np.allclose(got, brute_marginals(emit, trans), atol=1e-10)
    assert np.allclose(got.sum(axis=1), 1.0)


def test_forward_backward_survives_a_long_part_with_confident_emissions():
    rng = np.random.default_rng(4)
    emit = np.log(rng.dirichlet(np.full(84, 0.05), size=400) + 1e-300)  # near one-hot, -690 floors
    trans = [np.log(rng.dirichlet(np.ones(84), size=84))]
    post = forward_backward(emit, trans)
    assert np.all(np.isfinite(post)) and np.allclose(post.sum(axis=1), 1.0)


def test_mbr_path_maximises_the_expected_root_and_family_agreement():
    rng = np.random.default_rng(5)
    post = rng.dirichlet(np.full(84, 0.3), size=6)
    fam = family_marginals(post)
    assert fam.shape == (6, 24) and np.allclose(fam.sum(axis=1), 1.0)
    for t in range(6):  # the family marginal is the sum of its chords
        for f in range(24):
            assert np.isclose(fam[t, f], post[t, CHORD_FAMILY == f].sum())
    best = mbr_path(post)
    top = expected_agreement(best, fam)
    for _ in range(200):  # no other chord sequence is expected to be right more often
        other = list(rng.integers(0, 84, size=6))
        assert expected_agreement(other, fam) <= top + 1e-12
    for t, chord in enumerate(best):  # within the chosen family, the likeliest chord
        same = np.flatnonzero(CHORD_FAMILY == CHORD_FAMILY[chord])
        assert post[t, chord] == post[t, same].max()
    assert [family_index(c) for c in best] == list(np.argmax(fam, axis=1))


def test_mbr_can_differ_from_viterbi():
    # One half bar: C 0.4, Cm 0.3, Cm7 0.3. Viterbi takes the single likeliest chord, C; but C minor (Cm + Cm7,
    # 0.6) is the likelier root + family, so the MBR chart says Cm.
    emit = np.full((1, 84), -30.0)
    emit[0, 0] = np.log(0.4)  # C
    emit[0, 12] = np.log(0.3)  # Cm
    emit[0, 36] = np.log(0.3)  # Cm7
    trans = [np.zeros((84, 84))]
    assert kbest_viterbi(emit, trans, 1)[0][1] == [0]
    post = forward_backward(emit, trans)
    assert mbr_path(post) == [12]


@pytest.fixture(scope="module")
def model() -> HarmonyModel:
    return HarmonyModel.load()


def tune() -> list[Note]:
    """Eight bars of a melody: C, Am, F, G arpeggiated one note a beat, twice, and a held G over the last bar."""
    shapes = ([0, 4, 7, 4], [9, 4, 0, 4], [5, 9, 0, 9], [7, 11, 2, 11])
    notes = []
    for bar in range(7):
        tones = shapes[bar % 4]
        notes += [Note(72 + tones[i] - (12 if tones[i] > 7 else 0), bar * 4 + i, bar * 4 + i + 0.9) for i in range(4)]
    notes.append(Note(67, 28, 32))
    return notes


def test_harmonize_charts_the_mbr_path_of_the_models_marginals(model):
    notes = tune()
    res = model.harmonize(notes, alternatives=3)
    arr = np.array([(n.pitch, n.start, n.end, n.velocity) for n in notes], dtype=float)
    logs = [net.posteriors(*features(arr, 16, 4, net.version))[0] for net in [model, *model.melody_nets]]
    logs += [read_outputs(fine_outputs(p, step_features(arr, 16, 4)))[0] for p in model.fine_nets]
    mixed = sum(logs) / len(logs)
    log_post = mixed - np.log(np.exp(mixed).sum(axis=1, keepdims=True))
    ties = repeat_ties(arr, 16, 4)
    assert ties.any()  # bars 5-8 repeat bars 1-4: they share their evidence
    log_post = tie_repeats(log_post, ties, model.repeat_weight)
    tw = model.trans_weight
    post = forward_backward(log_post - model.prior_weight * model.log_prior, [tw * model.trans[0], tw * model.trans[1]])
    assert res.half_bars == mbr_path(post)
    fam = family_marginals(post)
    assert res.scores[0] == pytest.approx(expected_agreement(res.half_bars, fam))
    assert res.scores == sorted(res.scores, reverse=True) and len(set(res.charts)) == 3
    assert all(0.0 < s <= 1.0 for s in res.scores)
    firsts = res.half_bars[0:8:2]
    assert [firsts[0] % 12, firsts[1] % 12, firsts[3] % 12] == [0, 9, 7]  # C, Am, G under their arpeggios
    assert {5, 9} <= set(tones_of_index(firsts[2]))  # F A C A: F, or Dm (the shipped model hears Dm)


def test_decoding_is_deterministic(model):
    notes = tune()
    a = model.harmonize(notes, alternatives=4)
    b = HarmonyModel.load().harmonize(list(reversed(notes)), alternatives=4)  # note order does not matter
    assert a.charts == b.charts and a.half_bars == b.half_bars and a.scores == b.scores


def random_net(rng, width: int, inputs: int = 7, outputs: int = 9) -> dict[str, np.ndarray]:
    def w(*shape):
        return rng.normal(0, 0.4, size=shape).astype(np.float32)

    p = {"in_w": w(width, inputs), "in_b": w(width), "out_w": w(outputs, 2 * width), "out_b": w(outputs)}
    for mine in ("", "_r"):
        p[f"g0_wih{mine}"], p[f"g0_whh{mine}"] = w(3 * width, width), w(3 * width, width)
        p[f"g0_bih{mine}"], p[f"g0_bhh{mine}"] = w(3 * width), w(3 * width)
    return p


def test_nets_stepped_together_match_torch_gru_one_by_one():
    torch = pytest.importorskip("torch")
    from musicvae_app.theory.harmony_net import net_outputs

    rng = np.random.default_rng(7)
    nets = [random_net(rng, 8), random_net(rng, 5), random_net(rng, 8)]  # two widths: two groups
    xs = [rng.normal(size=(12, 11, 7)).astype(np.float32) for _ in nets]
    got = net_outputs(nets, xs)
    for p, x, out in zip(nets, xs, got):
        width = p["in_w"].shape[0]
        gru = torch.nn.GRU(width, width, batch_first=True, bidirectional=True)
        state = {"weight_ih_l0": "g0_wih", "weight_hh_l0": "g0_whh", "bias_ih_l0": "g0_bih", "bias_hh_l0": "g0_bhh"}
        sd = {}
        for theirs, mine in state.items():
            sd[theirs] = torch.from_numpy(p[mine])
            sd[theirs + "_reverse"] = torch.from_numpy(p[mine + "_r"])
        gru.load_state_dict(sd)
        with torch.no_grad():
            h = torch.relu(torch.from_numpy(x) @ torch.from_numpy(p["in_w"]).T + torch.from_numpy(p["in_b"]))
            ref = gru(h)[0] @ torch.from_numpy(p["out_w"]).T + torch.from_numpy(p["out_b"])
        assert out.shape == (12, 11, 9)
        assert np.allclose(out, ref.numpy(), atol=1e-5)


def test_the_shipped_ensemble_averages_every_melody_net(model):
    from musicvae_app.theory.harmony import as_array

    assert len(model.melody_nets) >= 1 and model.melody is model.melody_nets[0]
    arr = as_array(tune())
    log_post, log_key = model.ensemble_posteriors(arr, 16, 4)
    parts = [m.posteriors(*features(arr, 16, 4, m.version)) for m in [model, *model.melody_nets]]
    parts += [read_outputs(fine_outputs(p, step_features(arr, 16, 4))) for p in model.fine_nets]
    mean = sum(p for p, _ in parts) / len(parts)
    assert np.allclose(log_post, mean - np.log(np.exp(mean).sum(axis=1, keepdims=True)), atol=1e-5)
    assert np.allclose(np.exp(log_key).sum(), 1.0)
