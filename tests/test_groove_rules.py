"""The groove's note rules on rolls written by hand (engine/groove.py): voicing fills in a missing chord tone,
passing notes walk the top voice, the bass approaches a new root, a short bass rest is filled and a long one
left, held chords restrike on the kick. Each rule runs on the real engine (tiny pack) with the card keys the
shipped pack sets, and each is checked off as well: a card without the key leaves the take as it was."""

from __future__ import annotations

import numpy as np
import pytest

from musicvae_app.engine.groove import APPROACH_STEPS, TACET_BARS
from musicvae_app.lanes import DRUMS, LANES
from musicvae_app.model.pack import PackError, load_pack
from musicvae_app.sketch.spec import GrooveSettings
from musicvae_app.theory.chords import parse_chord

PIANO, BASS = LANES.index("piano"), LANES.index("bass")
GUITAR, STRINGS = LANES.index("guitar"), LANES.index("strings")
ALL = list(range(len(LANES)))


@pytest.fixture
def card(engine):
    """Set the tiny engine's card groove parameters (engine.use_card, each checked), every note rule off to
    begin with (the drum fills as the card has them); the engine's own card is back after the test."""
    before = engine.card
    fills = {k: getattr(before.rules, k) for k in ("fills", "fill_rate", "crash_rate")}
    engine.use_card(before.replace(rules=GrooveSettings(**fills)))
    yield lambda **kw: engine.use_card(**kw)
    engine.use_card(before)


def empty(engine, bars: int) -> tuple[np.ndarray, np.ndarray, int]:
    spb = 4 * engine.cfg.steps_per_beat
    return np.zeros((len(LANES), bars * spb, 128), np.float32), np.ones((bars, len(LANES)), bool), spb


def one_bar(engine, rule, take: np.ndarray, chord: str, key: str, lineup=ALL) -> None:
    """A chord rule (engine.groove.color or .voicing) on a one-bar take, every lane free, floor 0.3, in `key`."""
    free = np.ones((1, len(LANES)), bool)
    spb = 4 * engine.cfg.steps_per_beat
    floor = np.full(len(LANES), 0.3)
    rule(take, free, floor, spb, lineup, [parse_chord(chord)], engine.steering.key_scale(key), np.random.default_rng(0))


def pitch_classes(cells: np.ndarray) -> set[int]:
    return {int(p) % 12 for p in np.flatnonzero((cells >= 0.3).any(axis=0))}


def test_voicing_moves_a_doubled_root_to_the_missing_third(engine, card):
    take, free, spb = empty(engine, 1)
    take[PIANO, :, [48, 60, 67, 72]] = 0.9  # C, C, G, C: C major without its third
    floor = np.full(len(LANES), 0.3)
    before = take.copy()
    engine.groove.voicing(take, free, floor, spb, ALL, [parse_chord("C")])
    assert np.array_equal(take, before), "voicing off on the card: untouched"
    card(voicing=[True, True, False, True, False])
    engine.groove.voicing(take, free, floor, spb, ALL, [parse_chord("C")])
    assert pitch_classes(take[PIANO]) == {0, 4, 7}
    assert (take[PIANO, :, 48] >= 0.3).all(), "the lowest note stays"
    assert int((take[PIANO] >= 0.3).any(axis=0).sum()) == 4, "a note moved, none added"
    frozen = before.copy()
    engine.groove.voicing(frozen, ~free, floor, spb, ALL, [parse_chord("C")])
    assert np.array_equal(frozen, before), "a kept bar (a primer's, a part's) is not re-voiced"


def test_voicing_hears_the_chord_when_the_take_has_none(engine, card):
    card(voicing=[True, True, False, True, False])
    take, free, spb = empty(engine, 1)
    take[PIANO, :, [45, 57, 64, 69]] = 0.9  # A, A, E, A: heard as A minor (or A5)
    take[BASS, :, 33] = 0.9
    engine.groove.voicing(take, free, np.full(len(LANES), 0.3), spb, ALL, None)
    heard = pitch_classes(take[PIANO])
    assert {9, 4} <= heard and len(heard) >= 2


def test_passing_note_fills_a_leap_in_the_top_voice_off_the_beat(engine, card):
    take, free, spb = empty(engine, 1)
    beat = engine.cfg.steps_per_beat
    take[PIANO, : 2 * beat, 72] = 0.9  # C5 for two beats, then E5: a third apart
    take[PIANO, 2 * beat :, 76] = 0.9
    take[PIANO, :, 60] = 0.9
    take[PIANO, :, [64, 67]] = 0.9
    take[BASS, :, [38, 41, 45, 47]] = 0.9  # the rest of C major, so the take's scale holds D
    floor = np.full(len(LANES), 0.3)
    before = take.copy()
    engine.groove.passing(take, free, floor, 0.3, np.random.default_rng(0), spb, ALL)
    assert np.array_equal(take, before), "no passing rate on the card: untouched"
    card(passing=[1.0, 1.0, 0.0, 1.0, 0.0])
    engine.groove.passing(take, free, floor, 0.3, np.random.default_rng(0), spb, ALL)
    changed = np.flatnonzero((take[PIANO] != before[PIANO]).any(axis=1))
    assert len(changed) and changed.min() % beat != 0, "only off the beat"
    assert changed.min() >= 2 * beat - max(1, beat // 2) and changed.max() < 2 * beat, "the held note's last 8th"
    assert (take[PIANO, changed, 74] >= 0.3).all(), "D5, the scale tone between C5 and E5"
    assert (take[PIANO, changed, 72] == 0).all()


def test_bass_approaches_the_next_bars_root_on_its_last_16th(engine, card):
    take, free, spb = empty(engine, 2)
    take[BASS, :spb, 36] = 0.9  # C2 a bar, then G2
    take[BASS, spb:, 43] = 0.9
    take[PIANO, :, [60, 64, 67]] = 0.9
    floor = np.full(len(LANES), 0.3)
    before = take.copy()
    engine.groove.approach(take, free, floor, 0.3, np.random.default_rng(1), spb)
    assert np.array_equal(take, before)
    card(approach=1.0)
    engine.groove.approach(take, free, floor, 0.3, np.random.default_rng(1), spb)
    last = take[BASS, spb - APPROACH_STEPS : spb]
    (note,) = np.flatnonzero((last >= 0.3).any(axis=0))
    assert 1 <= abs(int(note) - 43) <= 2, "a step from G2"
    assert (take[BASS, : spb - APPROACH_STEPS, 36] >= 0.3).all(), "the bar before keeps its root"
    assert (take[BASS, spb:, 43] == before[BASS, spb:, 43]).all()


@pytest.mark.parametrize("rest", [1, TACET_BARS, TACET_BARS + 1])
def test_a_short_bass_rest_is_filled_and_a_long_one_is_the_bass_laying_out(engine, rest):
    bars = rest + 2
    take, free, spb = empty(engine, bars)
    take[BASS, :spb, 36] = 0.9
    take[BASS, (bars - 1) * spb :, 41] = 0.9
    take[PIANO, :, 60] = 0.9
    take[DRUMS, ::2, 42] = 0.9
    engine.groove.keep_bass(take, free, 0.3, None, spb)
    sounding = (take[BASS].reshape(bars, spb, 128) >= 0.3).any(axis=(1, 2))
    assert sounding.all() == (rest <= TACET_BARS)
    if rest <= TACET_BARS:
        assert (take[BASS, spb : 2 * spb, 36] >= 0.3).all(), "the bass's nearest bar before"


def test_a_held_piano_chord_is_struck_again_on_the_kick(engine):
    take, free, spb = empty(engine, 1)
    take[PIANO, :, [60, 64, 67]] = 0.9
    half = spb // 2
    take[DRUMS, [0, half], 36] = 0.9  # kicks on 1 and 3
    take[DRUMS, spb // 4, 38] = 0.9  # a snare on 2: the piano lets it pass
    engine.groove.restrike(take, free, np.full(len(LANES), 0.3), spb, ALL)
    gaps = np.flatnonzero(take[PIANO, :, 60] < 0.3)
    assert list(gaps) == [half - 1], "one step's gap before the kick on 3, none before the snare"


def test_the_card_refuses_bad_groove_keys(tiny_pack, tmp_path):
    import json
    import shutil

    for key, value, words in (
        ("voicing", [1, 0], "voicing must be five"),
        ("passing", 2.0, "passing must be from 0.0 to 1.0"),
        ("approach", -1, "approach"),
        ("pickup", 1.5, "pickup"),
        ("color", [0.5, 2.0, 0, 0, 0], "color must be from 0.0 to 1.0"),
        ("suspend", "often", "suspend"),
        ("approach_eighths", 3, "approach_eighths"),
        ("passing_leaps", "yes", "passing_leaps must be true or false"),
        ("harmony_halves", 1, "harmony_halves must be true or false"),
        ("fill_other", 1.5, "fill_other"),
        ("boogie", [0, -1, 0, 0, 0], "boogie"),
        ("passing_low", 7, "passing_low"),
    ):
        copy = tmp_path / key
        shutil.copytree(tiny_pack, copy)
        path = copy / "card.json"
        data = json.loads(path.read_text())
        data.setdefault("generation", {})[key] = value
        path.write_text(json.dumps(data))
        with pytest.raises(PackError, match=words):
            load_pack(copy)


def test_under_scale_lock_the_groove_adds_no_note_outside_the_key(engine, card):
    """The approach's half step below, a heard chord's missing third, a passing tone: each from the key's scale
    when the take is scale-locked (`scale`), from the take's own notes otherwise."""
    card(voicing=[True, True, False, True, False], passing=[1.0] * 5, approach=1.0)
    c_major = engine.steering.key_scale("C major")
    assert sorted(np.flatnonzero(c_major)) == [0, 2, 4, 5, 7, 9, 11]
    take, free, spb = empty(engine, 2)
    take[BASS, :spb, 36] = 0.9  # C2, then A2: the chromatic approach would be G#2
    take[BASS, spb:, 45] = 0.9
    take[PIANO, :, [45, 57, 64, 69]] = 0.9  # A, A, E, A
    for seed in range(8):
        locked = take.copy()
        engine.groove.apply(locked[:, None], 0.3, ALL, seed, scale=c_major)
        pitched = np.delete(locked, DRUMS, axis=0)
        assert {int(p) % 12 for p in np.flatnonzero((pitched >= 0.3).any(axis=(0, 1)))} <= {0, 2, 4, 5, 7, 9, 11}


def test_a_bass_held_into_the_same_note_gets_a_pickup_from_its_fifth_below(engine, card):
    take, free, spb = empty(engine, 2)
    take[BASS, :, 43] = 0.9  # G2 for two bars, struck again at the bar line (the restrike's gap)
    take[BASS, spb - 1, 43] = 0.0
    take[PIANO, :, [55, 59, 62]] = 0.9
    floor = np.full(len(LANES), 0.3)
    card(approach=1.0)
    before = take.copy()
    engine.groove.approach(take, free, floor, 0.3, np.random.default_rng(1), spb)
    assert np.array_equal(take, before), "pickup off on the card: the same note goes on"
    card(pickup=1.0)
    engine.groove.approach(take, free, floor, 0.3, np.random.default_rng(1), spb)
    assert (take[BASS, spb - 1, 38] >= 0.3) and not (take[BASS, spb - 1, 43] >= 0.3), "D2 on the last 16th"
    assert (take[BASS, : spb - 1, 43] >= 0.3).all() and (take[BASS, spb:, 43] >= 0.3).all()


def test_color_gives_the_band_one_seventh_or_ninth_from_the_key(engine, card):
    """A C major bar in C major: a doubled C in the piano and in the strings moves to the same colour tone,
    B (maj7) or D (add9), both in the key; off on the card, nothing moves."""
    c_major = engine.steering.key_scale("C major")
    take, free, spb = empty(engine, 1)
    take[PIANO, :, [48, 52, 55, 60]] = 0.9  # C E G C
    take[STRINGS, :, [60, 64, 67, 72]] = 0.9
    floor = np.full(len(LANES), 0.3)
    chord = [parse_chord("C")]
    before = take.copy()
    engine.groove.color(take, free, floor, spb, ALL, chord, c_major, np.random.default_rng(0))
    assert np.array_equal(take, before), "no colour rate on the card: untouched"
    card(color=[1.0, 1.0, 0.0, 1.0, 0.0])
    added = set()
    for seed in range(6):
        coloured = before.copy()
        engine.groove.color(coloured, free, floor, spb, ALL, chord, c_major, np.random.default_rng(seed))
        piano, strings = pitch_classes(coloured[PIANO]), pitch_classes(coloured[STRINGS])
        assert piano == strings, "the band agrees on the colour"
        assert {0, 4, 7} < piano and len(piano) == 4 and piano <= {0, 2, 4, 5, 7, 9, 11}
        assert (coloured[PIANO, :, 48] >= 0.3).all(), "the lowest note stays"
        added |= piano - {0, 4, 7}
    assert added == {2, 11}, "both the ninth and the major seventh come, by seed"
    frozen = before.copy()
    engine.groove.color(frozen, ~free, floor, spb, ALL, chord, c_major, np.random.default_rng(0))
    assert np.array_equal(frozen, before), "a kept bar is not coloured"


def test_color_adds_a_voice_where_no_note_is_doubled(engine, card):
    card(color=[1.0, 1.0, 0.0, 1.0, 0.0])
    take, free, spb = empty(engine, 1)
    take[PIANO, :, [48, 52, 55]] = 0.9  # C E G: three voices, none doubled
    one_bar(engine, engine.groove.color, take, "C", "C major", [PIANO])
    sounding = np.flatnonzero((take[PIANO] >= 0.3).any(axis=0))
    assert len(sounding) == 4 and {48, 52, 55} < set(sounding.tolist())
    assert int(set(sounding.tolist()).difference({48, 52, 55}).pop()) % 12 in (2, 11)


def test_a_suspended_fourth_resolves_to_the_third_on_beat_3(engine, card):
    card(suspend=[0.0, 1.0, 0.0, 0.0, 0.0])
    take, free, spb = empty(engine, 1)
    take[GUITAR, :, [50, 54, 57, 62]] = 0.9  # D F# A D: D major
    one_bar(engine, engine.groove.color, take, "D", "D major")
    half = spb // 2
    assert pitch_classes(take[GUITAR, :half]) == {2, 7, 9}, "Dsus4 in the first half: G for F#"
    assert pitch_classes(take[GUITAR, half:]) == {2, 6, 9}, "D major again from beat 3"


def test_some_bass_approaches_are_eighth_notes(engine, card):
    take, free, spb = empty(engine, 2)
    take[BASS, :spb, 36] = 0.9  # C2 a bar, then G2
    take[BASS, spb:, 43] = 0.9
    take[PIANO, :, [60, 64, 67]] = 0.9
    card(approach=1.0, approach_eighths=1.0)
    engine.groove.approach(take, free, np.full(len(LANES), 0.3), 0.3, np.random.default_rng(1), spb)
    eighth = max(1, engine.cfg.steps_per_beat // 2)
    last = take[BASS, spb - eighth : spb]
    (note,) = np.flatnonzero((last >= 0.3).any(axis=0))
    assert (last[:, note] >= 0.3).all() and 1 <= abs(int(note) - 43) <= 2, "an 8th a step from G2"
    assert (take[BASS, : spb - eighth, 36] >= 0.3).all()


def test_passing_leaps_approach_the_far_note_by_step(engine, card):
    take, free, spb = empty(engine, 1)
    beat = engine.cfg.steps_per_beat
    take[PIANO, : 2 * beat, 72] = 0.9  # C5 for two beats, then A5: a sixth up
    take[PIANO, 2 * beat :, 81] = 0.9
    take[PIANO, :, [60, 64, 67]] = 0.9
    take[BASS, :, [38, 41, 47]] = 0.9  # D F B: with the piano, C major's seven tones
    floor = np.full(len(LANES), 0.3)
    card(passing=[1.0, 1.0, 0.0, 1.0, 0.0])
    plain = take.copy()
    engine.groove.passing(plain, free, floor, 0.3, np.random.default_rng(0), spb, ALL)
    assert np.array_equal(plain, take), "a sixth is no third or fourth: without leaps, untouched"
    card(passing_leaps=True)
    engine.groove.passing(take, free, floor, 0.3, np.random.default_rng(0), spb, ALL)
    changed = np.flatnonzero((take[PIANO] != plain[PIANO]).any(axis=1))
    assert len(changed) and changed.max() < 2 * beat
    assert (take[PIANO, changed, 79] >= 0.3).all(), "G5, the scale tone under A5"


def test_half_bar_harmony_keeps_a_chord_change_on_beat_3(engine):
    """FastBand.harmonise per bar-long block (16 steps: a bar at 16ths) fades the second half's F and A (a C
    block's strangers); per half block it keeps them."""
    import torch

    fast = engine.fast
    block = 16
    roll = torch.zeros((len(LANES), 1, engine.cfg.chunk_steps, 128))
    for lane in (PIANO, GUITAR):
        roll[lane, 0, : block + block // 2, [60, 64, 67]] = 0.8  # C major for a block and a half
        roll[lane, 0, block + block // 2 : 2 * block, [60, 65, 69]] = 0.8  # then F major
    saved = (fast.harmony, fast.harmony_halves)
    try:
        out = {}
        for halves in (False, True):
            fast.set_harmony(2.5, halves=halves)
            p = fast.from_blocked(fast.harmonise(fast.to_blocked(roll.clone()), 1), 1)
            out[halves] = p[PIANO, 0, block + block // 2 : 2 * block, 69].mean().item()
    finally:
        fast.set_harmony(saved[0], halves=saved[1])
    assert out[True] == pytest.approx(0.8, abs=1e-4), "per half bar, F major is the half's own chord"
    assert out[False] < 0.4, "per bar, A fades under C major"


def test_a_thin_bar_gets_its_chords_missing_tones_as_new_voices(engine, card):
    """voicing_add: a piano holding a lone C through a C major bar plays E and G with it, in its rhythm; a bar
    of three pitch classes is left alone; off on the card, the lone C stays."""
    chord = [parse_chord("C")]
    floor = np.full(len(LANES), 0.3)
    take, free, spb = empty(engine, 1)
    take[PIANO, : spb // 2, 60] = 0.9  # C4 for half the bar
    card(voicing=[True, True, False, True, False])
    before = take.copy()
    engine.groove.voicing(take, free, floor, spb, ALL, chord, None, np.random.default_rng(0))
    assert np.array_equal(take, before), "no voicing_add on the card: untouched"
    card(voicing_add=[1.0, 1.0, 0.0, 1.0, 0.0])
    engine.groove.voicing(take, free, floor, spb, ALL, chord, None, np.random.default_rng(0))
    on = take[PIANO] >= 0.3
    assert set(np.flatnonzero(on.any(axis=0)).tolist()) == {60, 64, 67}, "E4 and G4 above the C"
    assert on[: spb // 2, [64, 67]].all() and not on[spb // 2 :].any(), "in the C's rhythm"
    full, _, _ = empty(engine, 1)
    full[PIANO, :, [60, 64, 67]] = 0.9
    kept = full.copy()
    engine.groove.voicing(full, free, floor, spb, ALL, chord, None, np.random.default_rng(0))
    assert np.array_equal(full, kept), "three pitch classes: not thin"


def test_a_power_chord_is_thickened_with_the_keys_third(engine, card):
    card(voicing=[True, True, False, True, False], voicing_add=[1.0, 1.0, 0.0, 1.0, 0.0])
    take, free, spb = empty(engine, 1)
    take[STRINGS, :, [57, 64]] = 0.9  # A and E: A5, in C major (so A minor)
    one_bar(engine, engine.groove.voicing, take, "A5", "C major")
    assert pitch_classes(take[STRINGS]) == {9, 0, 4}, "C, the key's third above A"


def test_fills_inside_a_phrase_come_at_the_cards_rate_without_a_crash(engine, card):
    """fill_other: a bar inside a 4-bar phrase may end in one of the card's fills (drummers fill there too:
    6 % of such bars in real songs, by playing_metrics.fill_bars); no crash follows it. Phrase ends keep
    fill_rate (0 here), and with fill_other 0 nothing changes."""
    tom = [[0, 45], [1, 45], [2, 47], [3, 47]]
    card(fills=[tom], fill_rate=[0.0, 0.0], crash_rate=0.0, fill_other=0.0)
    take, free, spb = empty(engine, 8)
    take[DRUMS, ::2, 42] = 0.9  # hats on 8ths
    before = take.copy()
    engine.groove.fills(take, free, np.random.default_rng(0), 0, spb)
    assert np.array_equal(take, before)
    card(fill_other=1.0)
    engine.groove.fills(take, free, np.random.default_rng(0), 0, spb)
    window = 2 * engine.cfg.steps_per_beat
    for bar in range(7):  # the last bar has no next bar to lead into
        tail = take[DRUMS, (bar + 1) * spb - window : (bar + 1) * spb]
        inside = bar % 4 != 3
        assert (tail[:4, [45, 45, 47, 47]].diagonal() == 1.0).all() == inside, bar
    assert not take[DRUMS, :, 49].any(), "no crash after a fill inside the phrase"


def test_a_guitar_power_chord_steps_to_its_sixth_on_2_and_4(engine, card):
    """boogie: A5 (A and E) in A major: the E is F# on beats 2 and 4 and E again on 1 and 3; a triad bar is
    left alone; off on the card, nothing moves."""
    a_major = engine.steering.key_scale("A major")
    beat = engine.cfg.steps_per_beat
    take, free, spb = empty(engine, 1)
    take[GUITAR, :, [45, 52]] = 0.9  # A2 E3
    floor = np.full(len(LANES), 0.3)
    before = take.copy()
    engine.groove.color(take, free, floor, spb, ALL, [parse_chord("A5")], a_major, np.random.default_rng(0))
    assert np.array_equal(take, before)
    card(boogie=[0.0, 1.0, 0.0, 0.0, 0.0])
    engine.groove.color(take, free, floor, spb, ALL, [parse_chord("A5")], a_major, np.random.default_rng(0))
    for b in range(4):
        span = take[GUITAR, b * beat : (b + 1) * beat]
        assert (span[:, 45] >= 0.3).all()
        assert (span[:, 54 if b % 2 else 52] >= 0.3).all() and not (span[:, 52 if b % 2 else 54] >= 0.3).any(), b
    triad, _, _ = empty(engine, 1)
    triad[GUITAR, :, [45, 49, 52]] = 0.9
    kept = triad.copy()
    engine.groove.color(triad, free, floor, spb, ALL, [parse_chord("A")], a_major, np.random.default_rng(0))
    assert np.array_equal(triad, kept)


def test_the_pianos_left_hand_walks_too_under_the_voices_above(engine, card):
    """passing_low: the piano's lowest voice walks a third through the scale tone between (C3 to E3 through
    D3), under the right hand's held chord; without the key, only the top voice may walk."""
    beat = engine.cfg.steps_per_beat
    take, free, spb = empty(engine, 1)
    take[PIANO, : 2 * beat, 48] = 0.9  # C3 for two beats, then E3
    take[PIANO, 2 * beat :, 52] = 0.9
    take[PIANO, :, [67, 72, 76]] = 0.9  # G4 C5 E5 held: the top voice does not move
    take[BASS, :, [38, 41, 45, 47]] = 0.9  # D F A B: with the piano, C major's seven tones
    floor = np.full(len(LANES), 0.3)
    card(passing=[1.0, 1.0, 0.0, 1.0, 0.0])
    plain = take.copy()
    engine.groove.passing(plain, free, floor, 0.3, np.random.default_rng(0), spb, ALL)
    assert np.array_equal(plain, take), "the top voice holds; the left hand is not asked to walk"
    card(passing_low=[1.0, 0.0, 0.0, 0.0, 0.0])
    engine.groove.passing(take, free, floor, 0.3, np.random.default_rng(0), spb, ALL)
    changed = np.flatnonzero((take[PIANO] != plain[PIANO]).any(axis=1))
    assert len(changed) and changed.max() < 2 * beat and changed.min() % beat != 0
    assert (take[PIANO, changed, 50] >= 0.3).all() and (take[PIANO, changed, 48] == 0).all(), "D3 for C3's last 8th"
    assert (take[PIANO, :, [67, 72, 76]] >= 0.3).all(), "the right hand as it was"
