"""Issue 29 item 2, grooves that come back per lane, drums included: under a chart each lane returns to an earlier
4-bar chunk at about the card's learned share, some note for note and some with a variation; a pattern changes at
a section change and comes back with its section. The shipped pack, real generation, the takes exported as .mid
and read back with mido alone; the learned shares measured from rolls."""

from __future__ import annotations

import mido
import numpy as np
import pytest

from musicvae_app.engine import Engine
from musicvae_app.engine.recall import twin_chunks
from musicvae_app.evaluation import groove_metrics as gm
from musicvae_app.evaluation.learn_arrangement import measure
from musicvae_app.sketch.midi import write_midi
from musicvae_app.sketch.song import LANES
from musicvae_app.theory.chords import parse_bars
from musicvae_app.theory.sections import Section

DRUMS_CHANNEL = 9
CHUNK = 64  # 16ths in a 4-bar chunk
BASS, DRUMS = LANES.index("bass"), LANES.index("drums")
FORM = [("verse", 1, 8), ("chorus", 9, 8), ("verse", 17, 8), ("chorus", 25, 8)]


@pytest.fixture(scope="module")
def shipped():
    return Engine.load(device="cpu")


def onsets(path, bars: int) -> np.ndarray:
    """(5, 16ths, 128) bool: where a note starts in a .mid, read with mido alone (lane i on channel i, drums on
    9)."""
    mid = mido.MidiFile(path)
    out = np.zeros((len(LANES), bars * 16, 128), dtype=bool)
    for track in mid.tracks:
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type == "note_on" and msg.velocity > 0:
                lane = DRUMS if msg.channel == DRUMS_CHANNEL else msg.channel
                step = round(tick * 4 / mid.ticks_per_beat)
                if lane < len(LANES) and step < bars * 16:
                    out[lane, step, msg.note] = True
    return out


def _jaccard(a: np.ndarray, b: np.ndarray) -> float:
    union = int((a | b).sum())
    return int((a & b).sum()) / union if union else float("nan")


def _best_earlier(roll: np.ndarray, lane: int, chunk: int, earlier) -> float | None:
    """The highest onset Jaccard of a sounding chunk with any sounding chunk of `earlier` (None: silent)."""
    now = roll[lane, chunk * CHUNK : (chunk + 1) * CHUNK]
    if not now.any():
        return None
    found = [_jaccard(roll[lane, e * CHUNK : (e + 1) * CHUNK], now) for e in earlier]
    found = [j for j in found if j == j]
    return max(found) if found else None


@pytest.fixture(scope="module")
def chart_takes(shipped, tmp_path_factory):
    """Eight 32-bar takes under a chart that repeats every chunk, exported and read back; the piano never sits
    a take out (`role_absent` 0; roles.sit_out is tested in test_chart_density.py), so every lane has chunks."""
    folder = tmp_path_factory.mktemp("returns")
    card = shipped.card
    try:
        shipped.use_card(role_absent=[0.0] * 5)
        return [
            onsets(write_midi(shipped.generate(steps=7, seed=s, chords="C G Am F"), folder / f"{s}.mid"), 32)
            for s in range(8)
        ]
    finally:
        shipped.use_card(card)


def test_each_lane_drums_included_comes_back_at_about_its_learned_share(shipped, chart_takes):
    """Every chunk of this chart shares all four chords with the ones before: each lane returns to one at about the
    card's `recall` share (Jaccard >= 0.6 of the note starts, as learn_arrangement measures real songs), about the
    card's `recall_exact` of them note for note (>= 0.9) and the rest with a variation."""
    card = shipped.card
    for lane, name in enumerate(LANES):
        found = [j for roll in chart_takes for c in range(1, 8) if (j := _best_earlier(roll, lane, c, range(c)))]
        found = np.asarray(found)
        near, exact = float((found >= 0.6).mean()), float((found >= 0.9).mean())
        assert len(found) >= 30, (name, len(found))
        assert near >= card.recall[lane] - 0.3, (name, near, card.recall[lane])
        assert exact >= 0.2, (name, exact)
        assert ((found >= 0.6) & (found < 0.9)).mean() >= 0.1, (name, found)  # returns with a variation


def test_drums_return_at_their_learned_share_and_otherwise_move_on(shipped):
    """The drums come back (their shares learned from real songs, not 0): under a chart whose chords change every
    chunk, about a third to two thirds of their chunks replay an earlier one note for note (real songs: 34 %);
    with the drums' shares at 0 their chunks all move on (free of the pull toward the first chunk) and few do."""
    card = shipped.card
    assert card.recall[DRUMS] > 0.5 and card.recall_apart[DRUMS] > 0.3
    chart = "C G Am F Dm G C E7 F C G Am Em F G C"

    def exact_share() -> float:
        rolls = [shipped.generate(steps=7, seed=s, chords=chart).notes()[DRUMS] for s in range(6)]
        rows = [exact for r in rolls for _, _, exact, _ in gm.return_kinds(r, [None] * 32, 4, moves=False)]
        return float(np.mean(rows))

    on = exact_share()
    no_drums = {key: [*getattr(card, key)[:DRUMS], 0.0] for key in ("recall", "recall_moved", "recall_apart")}
    try:
        shipped.use_card(**no_drums)
        off = exact_share()
    finally:
        shipped.use_card(card)
    assert 0.3 <= on <= 0.7 and on >= off + 0.15, (on, off)


def test_a_pattern_changes_at_a_section_change_and_comes_back_with_its_section(shipped, tmp_path):
    """verse / chorus / verse / chorus: the chorus's first chunk plays no verse chunk again (the chorus has its
    own pattern), while the second verse's first chunk comes back near the first verse's, on every lane over the
    takes. The piano never sits a take out (`role_absent` 0, as chart_takes: form roles are test_form_roles')."""
    chorus, verse = {i: [] for i in range(5)}, {i: [] for i in range(5)}
    card = shipped.card
    try:
        shipped.use_card(role_absent=[0.0] * 5)
        songs = [shipped.generate(steps=7, seed=s, chords="C G Am F Am F C G", sections=FORM) for s in range(6)]
    finally:
        shipped.use_card(card)
    for s, song in enumerate(songs):
        roll = onsets(write_midi(song, tmp_path / f"{s}.mid"), 32)
        for lane in range(5):
            chorus[lane].append(_best_earlier(roll, lane, 2, [0, 1]))
            verse[lane].append(_best_earlier(roll, lane, 4, [0]))
    for lane, name in enumerate(LANES):
        c = [j for j in chorus[lane] if j is not None]
        v = [j for j in verse[lane] if j is not None]
        assert c and v, name
        assert np.mean(np.asarray(c) >= 0.9) <= 0.2, (name, c)
        assert np.median(v) >= 0.55 and np.median(v) > np.median(c) + 0.2, (name, v, c)


def test_twin_chunks_map_a_returning_section_onto_its_first_time():
    sections = [Section("verse", 1, 8), Section("chorus", 9, 8), Section("verse", 17, 8), Section("chorus", 25, 4)]
    assert twin_chunks(sections, 8, 4).tolist() == [-1, -1, -1, -1, 0, 1, 2, -1]
    assert twin_chunks([Section("verse", 1, 8), Section("verse", 11, 8)], 5, 4).tolist() == [-1] * 5  # off the grid


def test_the_shares_of_returns_are_measured_from_rolls():
    """learn_arrangement.measure: a bass that keeps its riff over a changed chord comes back as it was (not moved);
    one that moves its riff with the chord comes back moved; a drum part that loops comes back exactly."""
    rng = np.random.default_rng(5)
    bar = 16
    roll = np.zeros((5, 8 * 4 * bar, 128), dtype=bool)
    riff = rng.random((4 * bar, 128)) < 0.03
    groove = rng.random((4 * bar, 128)) < 0.05
    for c in range(8):
        roll[BASS, c * 64 : (c + 1) * 64, 36:48] = riff[:, 36:48]
        roll[DRUMS, c * 64 : (c + 1) * 64, 35:50] = groove[:, 35:50]
        roll[0, c * 64 : (c + 1) * 64, [60, 64, 67]] = True  # a C chord held throughout
        if c % 2:
            roll[0, c * 64 + 3 * bar : (c + 1) * 64, [60, 64, 67]] = False  # bar 4 of odd chunks: A minor
            roll[0, c * 64 + 3 * bar : (c + 1) * 64, [57, 60, 64]] = True
    found = measure([roll])
    assert found["recall"][BASS] == 1.0 and found["recall"][DRUMS] == 1.0
    assert found["recall_exact"][DRUMS] == 1.0 and found["recall_exact"][BASS] == 1.0
    assert found["recall_moves"][BASS] == 0.0  # kept as it was over the changed chord
    rows = gm.return_kinds(roll[BASS], [None] * 32, 4)
    assert all(near and exact and not moved for _, near, exact, moved in rows)


def test_a_riff_moved_with_its_chord_counts_as_moved():
    chords = [bar[0] for bar in parse_bars("C F G C C F A C")]
    bar = 16
    lane = np.zeros((8 * bar, 128), dtype=bool)
    for j, root in enumerate([36, 41, 43, 36, 36, 41, 45, 36]):
        lane[j * bar : j * bar + 4, root] = True
        lane[j * bar + 8 : j * bar + 12, root + 7] = True
    rows = gm.return_kinds(lane, chords, 4)
    assert rows == [(3, True, True, True)]
