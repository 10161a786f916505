"""The harmony model (musicvae_app.theory.harmony) with its shipped weights, on tunes written here."""

from __future__ import annotations

import numpy as np
import pytest

from musicvae_app.errors import InvalidValue
from musicvae_app.theory.chords import parse_chord
from musicvae_app.theory.harmony import Harmony, HarmonyModel, Note, kbest_viterbi


@pytest.fixture(scope="module")
def model() -> HarmonyModel:
    return HarmonyModel.load()


def arpeggio(bar: int, tones: list[int], beats: int = 4, octave: int = 60) -> list[Note]:
    """One note a beat from `tones` (pitch classes), cycling, in bar `bar` (0-based)."""
    return [Note(octave + tones[i % len(tones)], bar * 4 + i, bar * 4 + i + 0.9) for i in range(beats)]


C, AM, F, G = [0, 4, 7, 4], [9, 4, 0, 4], [5, 9, 0, 9], [7, 11, 2, 11]


def tune_c_am_f_g(repeats: int = 2) -> list[Note]:
    """A melody that spells C, Am, F, G one bar each (chord tones on the beats), `repeats` times."""
    notes = []
    for r in range(repeats):
        for i, tones in enumerate((C, AM, F, G)):
            notes += arpeggio(4 * r + i, tones)
    return notes


def roots(chords: list[list[str]]) -> list[list[int]]:
    return [[parse_chord(s).root for s in bar] for bar in chords]


def test_simple_tune_gets_its_progression(model):
    res = model.harmonize(tune_c_am_f_g())
    assert isinstance(res, Harmony)
    assert res.key in ("C major", "A minor")
    assert len(res.chords) == 8
    firsts = [parse_chord(bar[0]) for bar in res.chords]
    assert firsts[0].root == 0 and firsts[0].quality in ("", "maj7")  # bar 1 is C
    # bars 2-4: Am (or C6-like A minor family), F, G (or G7)
    assert (firsts[1].root, firsts[1].quality in ("m", "m7")) == (9, True)
    # bar 3 spells F A | C A: F, or Dm (D F A: the first half's F and A) turning to F on C A (three nets hear that)
    assert [c.root for c in map(parse_chord, res.chords[2])] in ([5], [2, 5])
    assert firsts[3].root == 7
    assert res.chords[:4] == res.chords[4:]  # the same tune twice gets the same chords


def test_charts_parse_and_are_distinct_and_best_first(model):
    res = model.harmonize(tune_c_am_f_g(), alternatives=4)
    assert len(res.charts) == 4
    assert len(set(res.charts)) == 4
    assert res.scores == sorted(res.scores, reverse=True)
    for chart in res.charts:
        assert chart.startswith("| ") and chart.endswith(" |")
        bars = [b.split() for b in chart.strip("|").split("|")]
        assert len(bars) == 8
        for bar in bars:
            assert 1 <= len(bar) <= 2
            for symbol in bar:
                parse_chord(symbol)
    assert res.charts[0] == "| " + " | ".join(" ".join(b) for b in res.chords) + " |"


def test_two_chords_in_a_bar_where_the_melody_changes_harmony(model):
    notes = tune_c_am_f_g(1)
    # bar 5: two beats of F (A, C) then two beats of G (B, D), held notes, clear change at beat 3
    notes += [Note(69, 16, 17), Note(72, 17, 18), Note(71, 18, 19), Note(74, 19, 20)]
    notes += arpeggio(5, C)
    res = model.harmonize(notes)
    bar5 = [parse_chord(s).root for s in res.chords[4]]
    assert len(bar5) == 2, res.charts[0]
    assert bar5 == [5, 7] or (bar5[0] in (5, 2, 9) and bar5[1] in (7, 11, 2)), res.charts[0]


def test_bass_line_and_comp_work_too(model):
    bass = []
    for bar, root in enumerate([36, 45, 41, 43] * 2):  # C A F G roots, low
        bass += [Note(root, bar * 4, bar * 4 + 1.9), Note(root + 7, bar * 4 + 2, bar * 4 + 3.9)]
    assert [r[0] for r in roots(model.harmonize(bass).chords)][:4] == [0, 9, 5, 7]
    comp = []
    for bar, tones in enumerate([(48, 52, 55), (45, 48, 52), (41, 45, 48), (43, 47, 50)]):
        comp += [Note(p, bar * 4 + beat, bar * 4 + beat + 0.9) for beat in range(4) for p in tones]
    res = model.harmonize(comp)
    assert [c[0] for c in res.chords] == ["C", "Am", "F", "G"]


def test_slash_bass_only_when_the_bass_asks():
    model = HarmonyModel.load()
    comp = []
    for bar, (low, tones) in enumerate(
        [(36, (60, 64, 67)), (40, (60, 64, 67)), (41, (60, 65, 69)), (43, (59, 62, 67))]
    ):
        comp += [Note(low, bar * 4, bar * 4 + 4)]
        comp += [Note(p, bar * 4 + beat, bar * 4 + beat + 0.9) for beat in range(4) for p in tones]
    res = model.harmonize(comp)
    symbols = [c[0] for c in res.chords]
    assert symbols[0] == "C"
    assert symbols[1] in ("C/E", "Em", "Em7")  # E under a C triad: first inversion, or read as Em
    assert symbols[2] == "F" and symbols[3] == "G"


def test_empty_part_raises_a_clear_error(model):
    with pytest.raises(InvalidValue, match="no notes"):
        model.harmonize([])
    with pytest.raises(InvalidValue, match="no notes"):
        model.harmonize(np.zeros((0, 4)))
    with pytest.raises(InvalidValue, match="drum part"):
        model.harmonize(tune_c_am_f_g(), drums=True)
    with pytest.raises(InvalidValue, match="MIDI 0-127"):
        model.harmonize([Note(200, 0, 1)])


def test_deterministic_and_array_input(model):
    notes = tune_c_am_f_g()
    a = model.harmonize(notes, alternatives=3)
    b = HarmonyModel.load().harmonize(np.array([(n.pitch, n.start, n.end, n.velocity) for n in notes]), alternatives=3)
    assert a.charts == b.charts and a.key == b.key
    assert np.allclose(a.scores, b.scores)


def test_bars_argument_pads_the_chart(model):
    res = model.harmonize(tune_c_am_f_g(1), bars=6)
    assert len(res.chords) == 6
    assert res.charts[0].count("|") == 7


def test_kbest_viterbi_matches_brute_force():
    import itertools

    rng = np.random.default_rng(1)
    emit = np.log(rng.dirichlet(np.ones(3), size=4))
    trans = [np.log(rng.dirichlet(np.ones(3), size=3))]
    scored = sorted(
        (
            (emit[0, p[0]] + sum(trans[0][p[i - 1], p[i]] + emit[i, p[i]] for i in range(1, 4)), p)
            for p in itertools.product(range(3), repeat=4)
        ),
        key=lambda x: -x[0],
    )
    got = kbest_viterbi(emit, trans, 5)
    assert np.allclose([g[0] for g in got], [s[0] for s in scored[:5]])
    assert [tuple(g[1]) for g in got] == [s[1] for s in scored[:5]]


def test_a_melody_alone_is_heard_by_both_nets_other_parts_by_the_first(model):
    from musicvae_app.theory.harmony import as_array, features, melody_like, read_outputs
    from musicvae_app.theory.harmony_fine import fine_outputs, step_features

    assert model.melody is not None and model.melody.version == 2  # the shipped melody3.npz
    melody = as_array(tune_c_am_f_g())
    comp = as_array([Note(p, 4 * b, 4 * b + 4) for b in range(8) for p in (60, 64, 67)])
    bass = as_array([Note(36 + (0, 9, 5, 7)[b % 4], 4 * b + i, 4 * b + i + 1) for b in range(8) for i in range(4)])
    assert melody_like(melody) and not melody_like(comp) and not melody_like(bass)
    first_only = HarmonyModel(model.p)  # the same first net, no second one
    assert first_only.harmonize(comp, alternatives=2).charts == model.harmonize(comp, alternatives=2).charts
    both = model.harmonize(melody, alternatives=1)
    nets = [first_only, *model.melody_nets]  # the first net, every melody net and every fine net, equal weights
    logs = [net.posteriors(*features(melody, 16, 4, net.version))[0] for net in nets]
    logs += [read_outputs(fine_outputs(p, step_features(melody, 16, 4)))[0] for p in model.fine_nets]
    mean = sum(logs) / len(logs)
    averaged = HarmonyModel(model.p).decode(np.log(np.exp(mean) / np.exp(mean).sum(1, keepdims=True)), 1)
    assert both.half_bars == averaged[0][1]
