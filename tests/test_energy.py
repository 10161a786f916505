"""Issue 29 item 3, sections with energy learned from the music: the shipped energy.json (training/energy.py on
band-midi's training split), the engine's decoding-faithful note count, and real takes of the shipped pack with
intro / verse / chorus / verse / chorus / outro at the default energies, written by the real MIDI writer and read
back with mido alone."""

from __future__ import annotations

import json

import mido
import numpy as np
import pytest

from musicvae_app.engine import Engine, drum_lift, energy
from musicvae_app.lanes import DRUMS, LANES
from musicvae_app.sketch.midi import write_midi
from musicvae_app.sketch.song import Song, TakeRecord
from musicvae_app.theory.sections import Section

FORM = [("intro", 1, 4), ("verse", 5, 8), ("chorus", 13, 8), ("verse", 21, 8), ("chorus", 29, 8), ("outro", 37, 4)]
CRASHES = {49, 57}


@pytest.fixture(scope="module")
def shipped():
    return Engine.load(device="cpu")


def read_back(path) -> list[tuple[int, int, int, int]]:
    """(lane, pitch, 16th step, velocity) of every note-on, with mido alone (lane i on channel i, drums on 9)."""
    mid = mido.MidiFile(path)
    out = []
    for track in mid.tracks:
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type == "note_on" and msg.velocity > 0:
                lane = DRUMS if msg.channel == 9 else msg.channel
                out.append((lane, msg.note, round(tick * 4 / mid.ticks_per_beat), msg.velocity))
    return out


@pytest.fixture(scope="module")
def form_takes(shipped, tmp_path_factory):
    folder = tmp_path_factory.mktemp("energy")
    takes = []
    for seed in (3, 4, 5, 6):
        song = shipped.generate(steps=9, seed=seed, sections=FORM)
        takes.append((song, read_back(write_midi(song, folder / f"{seed}.mid"))))
    return takes


def _in(notes, start: int, bars: int, lane: int | None = None):
    lo, hi = (start - 1) * 16, (start - 1 + bars) * 16
    return [n for n in notes if lo <= n[2] < hi and (lane is None or n[0] == lane)]


def _per_bar(notes, kind: str, lane: int | None = None) -> float:
    secs = [(s, b) for name, s, b in FORM if name == kind]
    return sum(len(_in(notes, s, b, lane)) for s, b in secs) / sum(b for _, b in secs)


def test_the_shipped_energy_table_is_learned_and_rises_with_the_level():
    t = energy.table()
    assert "training split" in t["source"] and t["songs"] >= 1000
    for lane in LANES:
        row = t["notes"][lane]
        assert len(row) == 5 and row[2] == 1.0
        assert row[0] < row[1] < row[2] < row[3], (lane, row)  # a fuller fifth of real songs plays more
    assert len(t["loud_cymbals"]) == 5 and len(t["crash_bars"]) == 5


def test_a_pack_without_its_own_energy_table_uses_the_default_packs(tmp_path):
    assert energy.table(str(tmp_path)) == energy.table()
    own = {"notes": {lane: [0.5, 0.8, 1.0, 2.0, 2.5] for lane in LANES}}
    (tmp_path / "own").mkdir()
    (tmp_path / "own" / energy.ENERGY_FILE).write_text(json.dumps(own))
    assert energy.notes_at(energy.table(str(tmp_path / "own")), 0, 4) == 2.0


def test_note_starts_are_counted_as_the_take_decodes_them():
    """decoded_starts (fill, sustain, restrike) against Song.notes on the same probabilities, lane by lane."""
    rng = np.random.default_rng(0)
    probs = rng.random((5, 64, 128)).astype(np.float32) ** 6  # mostly low, some cells over the threshold
    settings = {"fill": [0.6, 0.7, 1, 0.8, 1], "sustain": [0.5, 0.4, 0.6, 0.3, 1], "restrike": [0.3, 0, 0.5, 0, 0]}
    song = Song(probs=probs, steps_per_beat=4, chunk_steps=64, threshold=0.3, settings=TakeRecord.of(settings))
    on = song.notes()
    how = energy.decoding_of(type("S", (), settings)())
    for lane in range(5):
        want = on[lane].sum() if lane == DRUMS else on[lane][0].sum() + (on[lane][1:] & ~on[lane][:-1]).sum()
        assert energy.decoded_starts(probs[lane], 0.3, how[lane], 16, lane == DRUMS) == want, lane


def test_density_brings_a_sections_notes_to_its_level():
    """A chorus (4) and an intro (2) over the same probabilities: each lane's starts a bar near the take's rate x
    the table's level figure (the drums' chorus: each part of the kit x its learned contrast, drum_lift)."""
    rng = np.random.default_rng(1)
    base = (rng.random((5, 1, 16 * 8, 128)) ** 8).astype(np.float32)
    probs = np.concatenate([base, base], axis=2)  # bars 1-8 and 9-16 alike
    free = np.ones((16, 5), dtype=bool)
    sections = [Section("intro", 1, 8), Section("chorus", 9, 8)]
    t = energy.table()
    energy.density(probs, sections, free, 0.3, 16, t)
    for lane in range(5):
        drums = lane == DRUMS
        intro = energy.decoded_starts(probs[lane, 0, : 8 * 16], 0.3, None, 16, drums)
        chorus = energy.decoded_starts(probs[lane, 0, 8 * 16 :], 0.3, None, 16, drums)
        if drums:  # each part of the kit by its own contrast (drum_lift): the whole between the least and the most
            parts = drum_lift.figures(t, 4) / energy.notes_at(t, lane, 2)
            assert 0.8 * parts.min() <= chorus / intro <= 1.2 * parts.max(), (chorus, intro, parts)
            continue
        want = energy.notes_at(t, lane, 4) / energy.notes_at(t, lane, 2)
        assert chorus / intro == pytest.approx(want, rel=0.2), (LANES[lane], chorus, intro, want)


def test_the_chorus_lifts_over_its_verse_the_intro_leads_in_the_outro_ends(form_takes):
    """Over seeds, default energies (intro 2, verse 3, chorus 4, outro 2): the chorus has more notes and louder ones
    than the verse, on every lane taken together and on most lanes alone; the intro fewer than the verse; a crash
    on each chorus's first beat; the last bar one hit (no note starts after its first beat)."""
    chorus, verse, intro, louder, lanes_up = [], [], [], [], 0
    for song, notes in form_takes:
        assert [s.level for s in song.sections] == [2, 3, 4, 3, 4, 2]
        chorus.append(_per_bar(notes, "chorus"))
        verse.append(_per_bar(notes, "verse"))
        intro.append(_per_bar(notes, "intro"))
        vel = {k: np.mean([n[3] for _, s, b in FORM if _ == k for n in _in(notes, s, b)]) for k in ("verse", "chorus")}
        louder.append(vel["chorus"] - vel["verse"])
        lanes_up += sum(_per_bar(notes, "chorus", lane) > _per_bar(notes, "verse", lane) for lane in range(5))
        for name, start, _ in FORM:
            if name == "chorus":
                first = {n[1] for n in notes if n[0] == DRUMS and n[2] == (start - 1) * 16}
                assert first & CRASHES, (song.settings["seed"], start)
        last = (song.n_bars - 1) * 16
        assert all(n[2] == last for n in notes if n[2] >= last), song.settings["seed"]
        assert any(n[2] == last for n in notes)
    assert np.mean(chorus) > 1.05 * np.mean(verse), (chorus, verse)
    assert sum(c > v for c, v in zip(chorus, verse)) >= 3
    assert np.mean(intro) < np.mean(verse), (intro, verse)
    assert np.mean(louder) > 1.5 and sum(d > 0 for d in louder) >= 3, louder
    assert lanes_up >= 0.7 * 5 * len(form_takes), lanes_up


def test_velocities_read_the_active_packs_dynamics_table_else_the_default_with_a_reason(tmp_path):
    """A pack with its own dynamics.json (here the default's with every typical velocity halved) plays softer;
    one without it reads the default pack's and says so; a broken one says why. The .mid is read back by mido."""
    from musicvae_app.model.pack import default_pack_dir
    from musicvae_app.theory import dynamics

    source = default_pack_dir()
    own = json.loads((source / "dynamics.json").read_text())
    own["typical"] = [v / 2 for v in own["typical"]]
    packs = {}
    for name, table in (("soft", own), ("none", None), ("broken", "{not json")):
        folder = tmp_path / name
        folder.mkdir()
        for f in ("card.json", "weights.safetensors"):
            (folder / f).symlink_to(source / f)
        if table is not None:
            (folder / "dynamics.json").write_text(table if isinstance(table, str) else json.dumps(table))
        packs[name] = folder
    try:
        means = {}
        for name in ("default", "soft", "none", "broken"):
            engine = Engine.load(packs[name] if name != "default" else source, device="cpu")
            song = engine.generate(steps=1, seed=2)
            means[name] = np.mean([n[3] for n in read_back(write_midi(song, tmp_path / f"{name}.mid"))])
            if name == "none":
                assert "has no dynamics.json" in engine.dynamics_source
            if name == "broken":
                assert "does not read" in engine.dynamics_source and "default" in engine.dynamics_source
            if name == "soft":
                assert "'soft''s own" in engine.dynamics_source
        assert means["soft"] < 0.7 * means["default"], means
        assert means["none"] == means["default"] == means["broken"]
    finally:
        dynamics.use_pack(None)


def test_a_form_that_ends_in_an_outro_ends_the_take_whatever_steps_asked(shipped, tmp_path):
    """An outro ends the song: a take asked for 9 steps (40 bars) with a 22-bar form ending in an outro is 24 bars
    (whole 4-bar chunks), its bar 22 one final hit, bars 23-24 silent; a 16-bar form without an outro leaves the
    take at the steps asked. Read back with mido."""
    form = [("intro", 1, 2), ("verse", 3, 8), ("chorus", 11, 8), ("outro", 19, 4)]
    song = shipped.generate(steps=9, seed=7, sections=form)
    assert song.n_bars == 24 and song.sections[-1].end == 22
    notes = read_back(write_midi(song, tmp_path / "outro.mid"))
    last = 21 * 16
    assert any(n[2] == last for n in notes) and {n[1] for n in notes if n[2] == last and n[0] == DRUMS} & CRASHES
    assert not [n for n in notes if n[2] > last], "nothing starts after the final hit"
    open_form = shipped.generate(steps=9, seed=7, sections=[("verse", 1, 8), ("chorus", 9, 8)])
    assert open_form.n_bars == 40


def test_the_session_asks_for_the_forms_length_unless_lanes_are_locked(session):
    """The window's Generate (Session.generation_args) makes a form that ends in an outro as long as the form, shorter
    or longer than Steps; with locked lanes, as long as the form or their take, whichever is longer (never Steps'
    length: the bars after an outro rest, a longer Steps left silent chunks); a form without an outro only
    lengthens."""
    per_chunk = session.engine.cfg.bars
    session.update_settings(steps=9)
    session.set_form(f"intro {per_chunk} verse {2 * per_chunk} outro {per_chunk}")
    assert session.generation_args()["steps"] == 3  # 4 chunks
    assert session.generate() and session.song.n_bars == 4 * per_chunk
    session.update_settings(steps=6)
    session.set_lane(0, lock=True)
    assert session.generation_args()["steps"] == 3  # as long as the locked take, not 3 silent chunks after it
    session.set_lane(0, lock=False)
    assert session.generation_args()["steps"] == 3
    session.set_form(f"verse {2 * per_chunk} chorus {2 * per_chunk}")
    assert session.generation_args()["steps"] == 6
    session.update_settings(steps=1)
    assert session.generation_args()["steps"] == 3
    session.update_settings(steps=7)
    assert session.generate() and session.song.n_chunks == 8  # a form without an outro: Steps' length
    session.set_form(f"intro {per_chunk} verse {2 * per_chunk} outro {per_chunk}")
    session.set_lane(0, lock=True)
    assert session.generation_args()["steps"] == 7  # the locked take's lanes are not cut


def test_a_followed_part_gone_round_to_an_outro_ends_with_it_and_one_that_plays_on_goes_on(shipped, tmp_path):
    """A followed 8-bar part (guitar and bass) goes round until a 22-bar form ends in an outro, then stops: the take
    (24 bars, whole chunks) ends too, bar 22 the drums' final hit and nothing after that bar, rather than the band
    playing bars 23-24 on alone. A part that plays on after the form (40 bars under the same form) goes on: the
    band with it. Read back with mido."""
    source = shipped.generate(steps=1, seed=11, chords="C G Am F")
    source.probs[[i for i in range(len(LANES)) if LANES[i] not in ("guitar", "bass")]] = 0.0
    short = write_midi(source, tmp_path / "short.mid")
    form = [("intro", 1, 2), ("verse", 3, 8), ("chorus", 11, 8), ("outro", 19, 4)]
    last = 21 * 16
    for seed in (0, 1):
        song = shipped.generate(seed=seed, sections=form, follow=short)
        assert song.n_bars == 24
        notes = read_back(write_midi(song, tmp_path / f"went-round-{seed}.mid"))
        assert {n[1] for n in notes if n[2] == last and n[0] == DRUMS} & CRASHES, seed
        assert not [n for n in notes if n[2] >= 22 * 16], ("nothing after the form", seed)
    long = shipped.generate(steps=9, seed=12, chords="C G Am F")
    long.probs[[i for i in range(len(LANES)) if LANES[i] not in ("guitar", "bass")]] = 0.0
    song = shipped.generate(seed=0, sections=form, follow=write_midi(long, tmp_path / "long.mid"))
    assert song.n_bars == 40
    notes = read_back(write_midi(song, tmp_path / "plays-on.mid"))
    band = [n for n in notes if n[0] not in (LANES.index("guitar"), LANES.index("bass"))]
    assert [n for n in band if n[2] >= 24 * 16], "the band plays on with the part"


def test_locked_lanes_under_a_form_that_ends_in_an_outro_leave_no_silent_chunks(shipped):
    """A take made with a 16-bar form ending in an outro, its piano locked, generated again with Steps at 6 (28
    bars): the new take is as long as the locked one (16 bars), not 28 bars whose last 12 rest (the outro ends the
    song); a locked take longer than the form is kept whole."""
    form = [("intro", 1, 4), ("verse", 5, 8), ("outro", 13, 4)]
    take = shipped.generate(steps=9, seed=1, sections=form)
    assert take.n_bars == 16
    again = shipped.generate(steps=6, seed=2, sections=form, keep=take, keep_lanes=["piano"])
    assert again.n_bars == 16
    notes = again.notes()
    assert notes[:, 15 * again.steps_per_bar :].any()  # the final hit, on the take's last bar
    longer = shipped.generate(steps=6, seed=3)
    kept = shipped.generate(steps=1, seed=4, sections=form, keep=longer, keep_lanes=["drums"])
    assert kept.n_bars == 28 and np.array_equal(kept.notes()[DRUMS], longer.notes()[DRUMS])
