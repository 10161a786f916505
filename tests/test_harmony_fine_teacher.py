"""The fine melody net on teacher labels (training/train_harmony_fine_teacher.py): a teacher-labelled band-midi lead
is found again in its real .mid file and read on the fine net's 16th grid; the POP909 targets."""

from __future__ import annotations

import pickle

import numpy as np

from band_files import write_notes
from musicvae_app.theory.harmony import NO_CHORD, chord_index
from musicvae_app.theory.harmony_fine import N_STEP, STEPS, step_features
from musicvae_app.training import harmony_band as hb
from musicvae_app.training import harmony_teacher as ht
from musicvae_app.training import train_harmony_fine_teacher as ft

PROGRESSION = [(0, (0, 4, 7)), (9, (9, 0, 4)), (5, (5, 9, 0)), (7, (7, 11, 2))]  # C Am F G


def song(path, bars: int = 24, lead_program: int = 73, shift: int = 0):
    """A flute melody (three chord tones and a passing note a bar) over piano chords and a bass; a second lead,
    an oboe an octave and `shift` semitones lower, plays the same rhythm (a lead the teacher did not pick)."""
    notes = []
    for bar in range(bars):
        root, tones = PROGRESSION[bar % 4]
        b = 4 * bar
        notes += [(0, 0, 60 + t, b, b + 4) for t in tones]
        notes += [(2, 33, 36 + root, b, b + 2), (2, 33, 36 + root, b + 2, b + 4)]
        line = [72 + tones[0], 72 + (tones[0] + 2) % 12, 72 + tones[1], 72 + tones[2]]
        notes += [(3, lead_program, p, b + i, b + i + 1) for i, p in enumerate(line)]
        notes += [(4, 68, p - 12 + shift, b + i, b + i + 1) for i, p in enumerate(line)]
    write_notes(path, notes, tempo=100)
    return path


def manifest(folder, rows):
    """The band-midi manifest (file, sha1): the pack's split is read from the SHA-1."""
    lines = ["file\tsha1"] + [f"{name}\t{sha}" for name, sha in rows]
    (folder / "manifest.tsv").write_text("\n".join(lines) + "\n")


def test_the_labelled_lead_is_read_again_on_the_fine_grid(tmp_path):
    data = tmp_path / "band"
    data.mkdir()
    song(data / "train.mid")
    song(data / "val.mid")
    manifest(data, [("train.mid", "f" * 40), ("val.mid", "0" * 40)])  # ffffffff % 100 = 95: training; 0: held out
    assert [p.rsplit("/", 1)[-1] for p in hb.training_files(str(data))] == ["train.mid"]
    teacher = ht.load_teacher()
    items = ht.band_items(str(data / "train.mid"), teacher) + ht.band_items(str(data / "val.mid"), teacher)
    assert len(items) == 2
    with open(tmp_path / "band.pkl", "wb") as fh:
        pickle.dump(items, fh)

    out = ft.build_band(str(tmp_path / "band.pkl"), str(data), str(tmp_path / "cache" / "band_fine.pkl"))
    assert [b["id"] for b in out] == ["train.mid"]  # the held-out file is not read
    b = out[0]
    tracks, _ = hb.read_tracks(str(data / "train.mid"))
    flute = next(t["notes"] for t in tracks if t["program"] == 73)
    n = len(items[0]["halves"])
    assert b["steps"].shape == (n * STEPS, N_STEP)
    assert np.array_equal(b["steps"], step_features(flute, n, 4))  # the flute the teacher picked, not the oboe
    assert np.array_equal(b["mask"], items[0]["mask"]) and np.array_equal(b["soft"], items[0]["soft"])
    assert b["key"] == items[0]["key"]
    # a second call reads the cache (the file moved away would otherwise be missed)
    (data / "train.mid").unlink()
    again = ft.build_band(str(tmp_path / "band.pkl"), str(data), str(tmp_path / "cache" / "band_fine.pkl"))
    assert np.array_equal(again[0]["steps"], b["steps"])


def test_a_lead_that_is_not_the_labelled_one_is_not_taken(tmp_path):
    song(tmp_path / "a.mid")
    song(tmp_path / "b.mid", shift=2)  # same flute, another oboe line
    teacher = ht.load_teacher()
    item = ht.band_items(str(tmp_path / "a.mid"), teacher)[0]
    tracks_b, _ = hb.read_tracks(str(tmp_path / "b.mid"))
    assert ft.find_lead(tracks_b, item) is not None  # the flute is the same in both files
    flute_only = [t for t in tracks_b if t["program"] != 73]
    assert ft.find_lead(flute_only, item) is None  # the oboe's line is not the labelled one


def test_pop909_targets_are_the_peoples_labels_smoothed():
    gold = np.array([chord_index((0, 0)), NO_CHORD, chord_index((9, 1))])
    target, mask = ft.pop_target(gold, 0.1)
    assert mask.tolist() == [True, False, True]
    assert np.allclose(target[mask].sum(axis=1), 1.0, atol=1e-5)  # an N half bar is out of the loss
    assert target[0].argmax() == gold[0] and target[2].argmax() == gold[2]
    assert np.isclose(target[0, gold[0]], 0.9 + 0.1 / 84)
    assert np.allclose(ft.pop_target(gold, 0.0)[0][0], np.eye(84)[gold[0]])
