"""Issue 29, items 2 and 4 under charts that change: a lane returns to its pattern where the chords (or three of
four) repeat, moved to the changed chord; piano and guitar share the comping at the card's learned shares; the
density knob still adds notes. The shipped pack, real generation."""

from __future__ import annotations

import numpy as np
import pytest
from cards import with_card

from musicvae_app.engine import Engine
from musicvae_app.evaluation import groove_metrics as gm
from musicvae_app.evaluation.learn_arrangement import measure
from musicvae_app.sketch.song import LANES
from musicvae_app.theory.chords import parse_bars

BASS, PIANO, GUITAR = LANES.index("bass"), LANES.index("piano"), LANES.index("guitar")
CHART = "C F G C C F Am C"  # chunks alternate: the second shares 3 of the first's 4 chords, the third all 4


@pytest.fixture(scope="module")
def shipped():
    return Engine.load(device="cpu")


def _bar_chords(text: str, bars: int) -> list:
    chords = [bar[0] for bar in parse_bars(text)]
    return [chords[i % len(chords)] for i in range(bars)]


def _starts(bar: np.ndarray) -> list[int]:
    """The steps where a note starts in a (steps, 128) bar."""
    on = np.vstack([np.zeros((1, bar.shape[1]), bool), bar])
    return np.flatnonzero((on[1:] & ~on[:-1]).any(axis=1)).tolist()


def test_the_bass_comes_back_moved_where_three_of_four_chords_repeat(shipped):
    """recall_moved on the bass alone: the second chunk (C F Am C after C F G C) replays the first, its bars of the
    same chord exactly (but for the 16th before the Am bar, where a note held into its A is struck again) and the
    Am bar in the G bar's rhythm, starting on A (moved to its root, re-voiced by the chart check); off, it does so
    rarely."""

    def takes():
        return [shipped.generate(steps=3, seed=s, chords=CHART).notes()[BASS] for s in range(4)]

    def held(lanes) -> int:
        count = 0
        for lane in lanes:
            spb = lane.shape[0] // 16
            bars = [lane[j * spb : (j + 1) * spb] for j in range(8)]
            # the bar before the moved one may end a 16th sooner: a held note the moved bar's downbeat lands on is
            # struck again there (recall_chart.settle_changed)
            same = np.array_equal(bars[0], bars[4]) and np.array_equal(bars[1][:-1], bars[5][:-1])
            moved = _starts(bars[2]) == _starts(bars[6]) and 33 % 12 in (np.flatnonzero(bars[6][0]) % 12).tolist()
            count += same and moved
        return count

    on = with_card(shipped, takes, recall=None, recall_moved=[0.0, 0.0, 1.0, 0.0, 0.0])
    off = with_card(shipped, takes, recall=None, recall_moved=None)
    assert held(on) >= 3 and held(on) > held(off), (held(on), held(off))
    assert all(gm.returns(lane, _bar_chords(CHART, 16), 4) for lane in on)


def test_a_lane_replays_its_chunk_where_the_chords_repeat_exactly(shipped):
    """recall 1 on the bass: every chunk of the same chords as an earlier one replays it (the groove stage's
    per-bar draws no longer blur it), but for its last beat."""
    chords = _bar_chords("Am F C G", 16)

    def takes():
        return [shipped.generate(steps=3, seed=s, chords="Am F C G").notes()[BASS] for s in range(3)]

    on = with_card(shipped, takes, recall=[0.0, 0.0, 1.0, 0.0, 0.0])
    rows = [r for lane in on for r in gm.returns(lane, chords, 4)]
    assert all(k == 4 for k, _ in rows)
    assert sum(back for _, back in rows) >= 0.8 * len(rows), rows


def _comping(lanes: list[np.ndarray], bar_steps: int) -> tuple[float, float]:
    """(piano silent in the guitar's bars, guitar silent in the piano's bars) after the first chunk, pooled."""
    p_out = g_out = p_bars = g_bars = 0
    for notes in lanes:
        bars = notes[[PIANO, GUITAR]].reshape(2, -1, bar_steps * notes.shape[-1]).any(axis=2)[:, 4:]
        p_out += int((bars[1] & ~bars[0]).sum())
        g_out += int((bars[0] & ~bars[1]).sum())
        g_bars += int(bars[1].sum())
        p_bars += int(bars[0].sum())
    return p_out / max(g_bars, 1), g_out / max(p_bars, 1)


def test_piano_lays_out_where_the_guitar_comps_at_the_cards_share(shipped):
    """role_rest: under a chart, the piano is silent in about its share of the guitar's bars (drawn per take) and
    the guitar comes back where it dropped out beyond its share; without it the piano plays over the guitar."""
    chart = "C Am F G Em Am Dm G"

    def takes():
        return [shipped.generate(steps=5, seed=s, chords=chart).notes() for s in range(8)]

    no_sit_out = [0.0] * 5  # roles.sit_out (a chart alone's whole-take draw) is tested in test_chart_density.py
    on = with_card(shipped, takes, role_rest=[0.5, 0.0, 0.0, 0.0, 0.0], role_absent=no_sit_out)
    off = with_card(shipped, takes, role_rest=None, role_absent=no_sit_out)
    bar_steps = on[0].shape[1] // 24
    p_on, g_on = _comping(on, bar_steps)
    p_off, g_off = _comping(off, bar_steps)
    assert 0.3 <= p_on <= 0.7 and p_on >= p_off + 0.2, (p_on, p_off)
    assert g_on <= g_off, (g_on, g_off)


def test_density_still_rises_under_a_chart_with_roles_and_returns(shipped):
    song = shipped.generate(steps=3, seed=5, chords=CHART)
    for li, lane in enumerate(LANES[:4]):
        counts = [
            int(np.diff(song.with_density({lane: d}).notes()[li].astype(np.int8), axis=0).clip(0).sum())
            for d in (0.5, 1.0, 2.0, 3.0)
        ]
        assert counts == sorted(counts) and counts[-1] > counts[0], (lane, counts)


def test_the_shares_are_measured_from_rolls():
    """learn_arrangement.measure: a bass that replays its chunk under the same chords, a piano silent where the
    guitar plays in a quarter of the bars."""
    rng = np.random.default_rng(3)
    bar = 16
    roll = np.zeros((5, 8 * 4 * bar, 128), dtype=bool)
    riff = rng.random((4 * bar, 128)) < 0.02
    for c in range(8):
        roll[BASS, c * 64 : (c + 1) * 64, 36:48] = riff[:, 36:48]
        roll[GUITAR, c * 64 : (c + 1) * 64, [52, 55, 60]] = True
        if c % 4 != 3:
            roll[PIANO, c * 64 : (c + 1) * 64, [60, 64, 67]] = True
    found = measure([roll])
    assert found["recall"][BASS] == 1.0
    assert found["role_rest"][0] == pytest.approx(8 / 28, abs=1e-3)  # shares kept to 3 places
    assert found["role_rest"][1] == 0.0
