"""A teacher labels more melodies (training/harmony_teacher.py, harmony_teacher_train.py): the shipped harmony model
hears a real .mid file's band and names the chords under its lead line."""

from __future__ import annotations

import numpy as np

from band_files import write_notes
from musicvae_app.theory.harmony import FEATURE_SHAPES, NO_CHORD, chord_index, family_index
from musicvae_app.training import harmony_teacher as ht
from musicvae_app.training.harmony_teacher_train import band_target, soft_target

PROGRESSION = [(0, 0, (0, 4, 7)), (9, 1, (9, 0, 4)), (5, 0, (5, 9, 0)), (7, 0, (7, 11, 2))]  # C Am F G


def band_song(path, bars: int = 24, lead_program: int = 73, passing: bool = True):
    """A flute melody (channel 3: three chord tones and a passing note a bar) over piano chords and a bass."""
    notes = []
    for bar in range(bars):
        root, _, tones = PROGRESSION[bar % 4]
        b = 4 * bar
        notes += [(0, 0, 60 + t if t >= root % 12 else 72 + t, b, b + 4) for t in tones]
        notes += [(2, 33, 36 + root, b, b + 2), (2, 33, 36 + root, b + 2, b + 4)]
        line = [72 + tones[0], 72 + (tones[0] + 2) % 12 if passing else 72 + tones[0], 72 + tones[1], 72 + tones[2]]
        notes += [(3, lead_program, p, b + i, b + i + 1) for i, p in enumerate(line)]
        notes += [(9, 0, 36, b + i, b + i + 0.25) for i in range(4)]
    write_notes(path, notes, tempo=100)
    return path


def test_the_teacher_names_the_bands_chords_under_the_lead(tmp_path):
    teacher = ht.load_teacher()
    items = ht.band_items(str(band_song(tmp_path / "a.mid")), teacher)
    assert len(items) == 1  # the flute; piano and bass are no lead
    item = items[0]
    n = 48
    prof, scal = item["feats"]["melody"]
    assert prof.shape == (n, FEATURE_SHAPES[2][0], 12) and scal.shape == (n, FEATURE_SHAPES[2][1])
    soft, mask, halves = item["soft"].astype(np.float64), item["mask"], item["halves"]
    assert soft.shape == (n, 84) and np.allclose(soft.sum(axis=1), 1.0, atol=1e-2)
    assert mask.mean() >= ht.MIN_KEPT
    assert np.all(halves[~mask] == NO_CHORD) and np.all(halves[mask] == soft[mask].argmax(axis=1))
    expected = [family_index(chord_index((root, q))) for root, q, _ in PROGRESSION]
    right = [family_index(int(halves[h])) == expected[(h // 2) % 4] for h in range(n) if mask[h]]
    assert np.mean(right) >= 0.9  # the teacher hears C Am F G in the band
    assert 0.7 <= item["on_tones"] <= 0.8  # three of the four melody notes are chord tones


def test_no_melody_no_item(tmp_path):
    teacher = ht.load_teacher()
    assert ht.band_items(str(band_song(tmp_path / "b.mid", lead_program=0)), teacher) == []  # a piano line
    # a line that only spells the chords (no passing note) is a section line, not a melody
    assert ht.band_items(str(band_song(tmp_path / "c.mid", passing=False)), teacher) == []


def test_confident_and_on_tones():
    post = np.zeros((3, 84))
    post[0, chord_index((0, 0))] = 1.0  # C, sure
    post[1, chord_index((0, 0))], post[1, chord_index((9, 1))] = 0.5, 0.5  # C or Am: unsure
    post[2, chord_index((7, 0))] = 1.0  # G, sure, but the band is silent there
    keep = ht.confident(post, np.array([False, False, True]))
    assert keep.tolist() == [True, False, False]
    melody = np.array([(60, 0, 1, 90), (62, 1, 2, 90), (67, 4, 6, 90)], dtype=np.float64)  # C, D (half 0); G (half 2)
    chords = np.array([chord_index((0, 0))] * 3)
    assert ht.on_tones(melody, chords, keep) == 0.5  # only half 0 counts: C on a tone, D not


def test_soft_targets_mix_the_peoples_label_with_the_teachers():
    gold = np.array([chord_index((0, 0)), NO_CHORD, chord_index((9, 1))])
    teacher = np.zeros((3, 84), dtype=np.float16)
    teacher[:, chord_index((9, 1))] = 1.0  # the teacher hears Am throughout
    target, mask = soft_target(gold, teacher, 0.3)
    assert mask.tolist() == [True, False, True]
    assert np.allclose(target.sum(axis=1)[mask], 1.0)
    assert np.isclose(target[0, chord_index((0, 0))], 0.7) and np.isclose(target[0, chord_index((9, 1))], 0.3)
    assert np.isclose(target[2, chord_index((9, 1))], 1.0)
    only_gold, _ = soft_target(gold, None, 0.3)
    assert only_gold[0, chord_index((0, 0))] == 1.0
    item = {"soft": teacher, "mask": np.array([True, False, True])}
    t, m = band_target(item)
    assert m.tolist() == [True, False, True] and np.allclose(t.sum(axis=1), 1.0)


def test_the_shipped_ensemble_loads_the_teacher_trained_nets():
    from musicvae_app.theory.harmony import HarmonyModel, features, read_outputs
    from musicvae_app.theory.harmony_fine import fine_outputs, step_features

    model = HarmonyModel.load()
    widths = sorted(net.p["g0_whh"].shape[1] for net in model.melody_nets)
    assert widths == [64, 64]  # melody3.npz and melody5.npz (GRU 64, teacher-trained)
    assert all(net.version == 2 and net.layers == 1 for net in model.melody_nets)
    assert len(model.fine_nets) == 1  # fine.npz
    melody = np.array([(72 + (i % 5) * 2, i, i + 1, 90) for i in range(32)], dtype=np.float64)
    log_post, _ = model.ensemble_posteriors(melody, 16, 4)
    singles = [net.posteriors(*features(melody, 16, 4, net.version))[0] for net in [model, *model.melody_nets]]
    singles += [read_outputs(fine_outputs(p, step_features(melody, 16, 4)))[0] for p in model.fine_nets]
    mean = sum(singles) / len(singles)
    expected = mean - np.log(np.exp(mean).sum(axis=1, keepdims=True))
    assert np.allclose(log_post, expected, atol=1e-4)  # the four nets, the GRUs stepped together, as each alone
