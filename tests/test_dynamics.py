"""Issue 29 item 5, dynamics from the music: velocities by lane, beat position and section, learned from the
training songs (resources/models/default/dynamics.json, training/dynamics.py), heard on real takes of the shipped
pack written by the real MIDI writer and read back with mido alone."""

from __future__ import annotations

import mido
import numpy as np
import pytest

from musicvae_app.engine import Engine
from musicvae_app.sketch.midi import write_midi
from musicvae_app.theory import dynamics
from musicvae_app.theory.dynamics import GROUPS, group_of

DRUMS_CHANNEL = 9
FORM = [("verse", 1, 8), ("chorus", 9, 8), ("verse", 17, 8), ("chorus", 25, 8)]


@pytest.fixture(scope="module")
def shipped():
    return Engine.load(device="cpu")


def read_back(path) -> list[tuple[int, int, int, int]]:
    """(lane, pitch, 16th step, velocity) of every note-on in a .mid, with mido alone (lane i on channel i, drums
    on 9)."""
    mid = mido.MidiFile(path)
    out = []
    for track in mid.tracks:
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type == "note_on" and msg.velocity > 0:
                lane = 4 if msg.channel == DRUMS_CHANNEL else msg.channel
                out.append((lane, msg.note, round(tick * 4 / mid.ticks_per_beat), msg.velocity))
    return out


@pytest.fixture(scope="module")
def form_takes(shipped, tmp_path_factory):
    """Twelve 32-bar takes with verse / chorus / verse / chorus, exported and read back."""
    folder = tmp_path_factory.mktemp("dyn")
    return [
        read_back(write_midi(shipped.generate(steps=7, seed=s, sections=FORM), folder / f"{s}.mid")) for s in range(12)
    ]


def _real_ratio(group: int, places) -> float:
    """The learned table's mean velocity ratio (real training songs) over the given 16ths of the bar."""
    q = dynamics.table()["quantiles"][group]
    return float(np.mean([np.mean(q[p]) for p in places]))


def test_the_table_is_learned_from_real_songs_and_complete():
    t = dynamics.table()
    assert t["groups"] == list(GROUPS)
    assert t["real"]["songs"] >= 1000 and 0.01 < t["real"]["snare_ghost_share"] < 0.1
    assert all(len(rows) == 16 and all(len(q) == dynamics.QUANTILES for q in rows) for rows in t["quantiles"])
    assert all(all(a <= b for a, b in zip(q, q[1:])) for rows in t["quantiles"] for q in rows)  # quantiles rise
    assert len(t["confidence"]) == len(GROUPS) and all(len(rows) == 16 for rows in t["confidence"])
    assert all(len(q) == 21 and q == sorted(q) for rows in t["confidence"] for q in rows)
    assert 0 < t["ghost_floor"] < 1  # measured so that our ghost-note share is real songs
    assert all(len(g) == 5 for g in t["level_gain"])


def test_ghost_notes_on_the_snare_at_about_real_songs_share(form_takes):
    """Snare hits under 0.6 x the take's snare median: real training songs 3.2 % (the table's `real`)."""
    shares = []
    for notes in form_takes:
        snares = np.array([v for lane, p, _, v in notes if lane == 4 and p in (38, 40)])
        if len(snares) >= 16:
            shares.append(((snares < 0.6 * np.median(snares)).sum(), len(snares)))
    ghosts, total = map(sum, zip(*shares))
    share = ghosts / total
    real = dynamics.table()["real"]["snare_ghost_share"]
    assert ghosts > 0 and 0.3 * real <= share <= 3 * real, (share, real)


def test_the_beat_is_louder_than_the_offbeat_16ths_per_lane_at_real_ratios(form_takes):
    """Per group, mean velocity on the beat over the off-beat 16ths (steps 1, 3 of each beat), ours against the
    learned real ratio: the same side of 1 where real songs accent clearly, within 0.1."""
    checked = 0
    for g, name in enumerate(GROUPS[:7]):
        on = [v for notes in form_takes for lane, p, s, v in notes if group_of(lane, p) == g and s % 4 == 0]
        off = [v for notes in form_takes for lane, p, s, v in notes if group_of(lane, p) == g and s % 2 == 1]
        if len(on) < 30 or len(off) < 30:
            continue
        ours = np.mean(on) / np.mean(off)
        real = _real_ratio(g, range(0, 16, 4)) / _real_ratio(g, range(1, 16, 2))
        assert abs(ours - real) <= 0.1, (name, ours, real)
        if real > 1.05:
            assert ours > 1.0, (name, ours, real)
        checked += 1
    assert checked >= 4


def test_the_chorus_plays_louder_than_the_verse(form_takes):
    """Every group that plays in both: mean velocity in the choruses (bars 9-16, 25-32) over the verses."""
    louder = []
    for notes in form_takes:
        chorus = [v for lane, _, s, v in notes if (s // 16) % 16 >= 8]
        verse = [v for lane, _, s, v in notes if (s // 16) % 16 < 8]
        louder.append(np.mean(chorus) - np.mean(verse))
    assert np.mean(louder) > 1.0 and sum(d > 0 for d in louder) >= 5, louder


def test_a_crash_opens_the_chorus_and_its_hats_open(form_takes):
    for notes in form_takes:
        first = {p for lane, p, s, _ in notes if lane == 4 and s == 8 * 16}
        assert 49 in first  # a crash on the chorus's first beat
        chorus = {p for lane, p, s, _ in notes if lane == 4 and 8 * 16 <= s < 16 * 16}
        assert chorus & {46, 51}  # open hats or the ride


def test_velocity_is_fixed_per_note_and_in_range():
    """A note's velocity hangs on its lane, pitch, position, section and confidence only, and stays 1-127."""
    for lane in range(5):
        for step in range(16):
            for c in (0.0, 0.3, 1.0):
                for level in (1, 3, 5):
                    v = dynamics.velocity(lane, 38 if lane == 4 else 60, step, 4, c, level)
                    assert 1 <= v <= 127 and v == dynamics.velocity(lane, 38 if lane == 4 else 60, step, 4, c, level)
    assert dynamics.velocity(4, 36, 0, 4, 1.0) >= dynamics.velocity(4, 36, 0, 4, 0.0)  # surer is not softer


def test_ghost_notes_fall_between_the_8ths_softly_and_never_in_the_musicians_part(shipped, form_takes, tmp_path):
    """Engine/ghosts.py's soft snare hits sit on the 16ths between the 8ths of bars with a backbeat; a followed drum
    part comes back exactly (no ghost added to what the musician played)."""
    soft = [(s, v) for notes in form_takes for lane, p, s, v in notes if lane == 4 and p in (38, 40) and v < 60]
    assert soft and all(s % 2 == 1 for s, _ in soft)
    full = mido.MidiFile(write_midi(shipped.generate(steps=3, seed=2), tmp_path / "take.mid"))
    for track in full.tracks:  # the drums alone: every other note becomes a pause of the same length
        track[:] = [
            m if m.is_meta or getattr(m, "channel", 9) == 9 else mido.MetaMessage("text", text="", time=m.time)
            for m in track
        ]
    part = tmp_path / "part.mid"
    full.save(part)
    given = sorted((p, s) for lane, p, s, _ in read_back(part) if lane == 4)
    assert given and {lane for lane, *_ in read_back(part)} == {4}
    followed = shipped.generate(follow=str(part), seed=9)
    back = sorted((p, s) for lane, p, s, _ in read_back(write_midi(followed, tmp_path / "f.mid")) if lane == 4)
    assert back == given
