"""The band plays: lineup, 16th-note round trip, keys, drums as hits, pack defaults."""

from __future__ import annotations

import mido
import numpy as np
import pytest
import torch

from band_files import write_notes
from musicvae_app.engine import Engine
from musicvae_app.sketch.midi import read_roll, write_midi
from musicvae_app.sketch.song import DRUMS, LANES, Song
from musicvae_app.theory.keys import estimate_key, key_name, normalising_shift, parse_key, transpose_roll

PIANO = LANES.index("piano")

TPB = 480


def _write(path, notes, tempo=120.0):
    """notes: (channel, program, pitch, start beat, end beat) -> a type-1 file with a conductor track."""
    return write_notes(path, notes, tempo=tempo, tpb=TPB)


def _onsets(path) -> dict[tuple[int, int], list[int]]:
    """Independent read-back with mido alone: (channel, pitch) -> onset ticks."""
    mid = mido.MidiFile(str(path))
    out: dict[tuple[int, int], list[int]] = {}
    for track in mid.tracks:
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type == "note_on" and msg.velocity > 0:
                out.setdefault((msg.channel, msg.note), []).append(tick * TPB // mid.ticks_per_beat)
    return out


def e_minor_band(bars: int = 8) -> list:
    """E minor: i-iv-V-i (Em Am B Em) with a bass on roots, a 16th-note guitar and 16th hi-hats."""
    chords = [(40, (64, 67, 71)), (45, (69, 72, 76)), (47, (71, 75, 78)), (40, (64, 67, 71))]
    notes = []
    for bar in range(bars):
        root, chord = chords[bar % 4]
        b = 4 * bar
        notes += [(0, 0, p, b, b + 4) for p in chord]
        notes += [(2, 33, root, b + e / 2, b + e / 2 + 0.45) for e in range(8)]
        notes += [(1, 25, chord[e % 3] + 12, b + e / 4, b + e / 4 + 0.2) for e in range(16)]
        notes += [(9, 0, 42, b + e / 4, b + e / 4 + 0.1) for e in range(16)]
        notes += [(9, 0, 36 if beat % 2 == 0 else 38, b + beat, b + beat + 0.1) for beat in range(4)]
    return notes


# --- keys -----------------------------------------------------------------------------------------
def test_key_estimate_names_and_normalising_shift(tmp_path):
    roll, _ = read_roll(_write(tmp_path / "em.mid", e_minor_band()), 4)
    assert key_name(estimate_key(roll)) == "E minor"
    assert (
        parse_key("E minor") == (4, "minor") and parse_key("Bb") == (10, "major") and parse_key("f#m") == (6, "minor")
    )
    with pytest.raises(ValueError, match="not a key"):
        parse_key("H dorian")
    shift = normalising_shift((4, "minor"))  # E minor -> A minor
    assert shift in (5, -7) and (4 + shift) % 12 == 9
    moved = transpose_roll(roll, shift)
    assert key_name(estimate_key(moved)) == "A minor"
    assert np.array_equal(moved[DRUMS], roll[DRUMS])  # drums are never transposed
    assert np.array_equal(transpose_roll(moved, -shift)[:DRUMS], roll[:DRUMS])


# --- 16th notes and drums as hits -----------------------------------------------------------------
def test_16th_notes_and_restruck_notes_survive_read_and_export(tmp_path):
    """A real .mid with 16th notes, re-struck notes and 16th hats: every onset survives the round trip.

    Known limit of the one-plane roll: back-to-back 16ths on *one* pitch of a pitched lane merge (a
    re-struck note keeps a one-step gap, which a 1-step note cannot give); 8th-note pedals keep every onset.
    """
    notes = [(1, 25, 64, i / 2, i / 2 + 0.5) for i in range(8)]  # an 8th-note pedal, each note held to the next
    notes += [(1, 25, 67 + i % 2, 4 + i / 4, 4 + i / 4 + 0.25) for i in range(8)]  # 16ths alternating two pitches
    notes += [(0, 0, 60, 0, 1), (0, 0, 60, 1, 2), (0, 0, 67, 2, 2.25)]  # two re-struck quarters and a 16th
    notes += [(9, 0, 42, i / 4, i / 4 + 0.25) for i in range(16)]  # 16th hats, each held to the next
    notes += [(9, 0, 36, 0, 4)]  # a kick held for a bar is still one hit
    src = _write(tmp_path / "in.mid", notes)
    roll, _ = read_roll(src, 4)
    probs = np.zeros((5, 64, 128), dtype=np.float32)
    probs[:, : roll.shape[1]] = roll
    out = write_midi(Song(probs, 4, 64, threshold=0.5), tmp_path / "out.mid")
    got = _onsets(out)
    assert got[(1, 64)] == [i * TPB // 2 for i in range(8)]
    assert got[(1, 67)] == [4 * TPB + i * TPB // 2 for i in range(4)]
    assert got[(1, 68)] == [4 * TPB + TPB // 4 + i * TPB // 2 for i in range(4)]
    assert got[(0, 60)] == [0, TPB] and got[(0, 67)] == [2 * TPB]
    assert got[(9, 42)] == [i * TPB // 4 for i in range(16)]
    assert got[(9, 36)] == [0]


# --- the lineup -----------------------------------------------------------------------------------
def test_lanes_out_of_the_lineup_stay_silent_and_out_of_the_export(engine, tmp_path):
    for seed in range(6):
        song = engine.generate(steps=3, seed=seed, lineup=["piano", "bass", "drums"], revive=1)
        assert song.lineup == ["piano", "bass", "drums"]
        assert not song.probs[1].any() and not song.probs[3].any()
        path = write_midi(song, tmp_path / f"s{seed}.mid")
        names = {t.name for t in mido.MidiFile(str(path)).tracks}
        assert "Guitar" not in names and "Strings" not in names
        assert '"lineup": "piano,bass,drums"' in str(mido.MidiFile(str(path)).tracks[0])


def test_every_lineup_lane_plays_from_a_random_start(engine):
    for seed in range(20):
        song = engine.generate(steps=2, seed=seed, revive=1)
        counts = song.note_counts()
        assert all(counts[lane] > 0 for lane in LANES), (seed, counts)


def test_an_empty_lineup_is_refused(engine):
    with pytest.raises(ValueError, match="lineup"):
        engine.generate(steps=1, lineup=[])
    with pytest.raises(ValueError, match="unknown lane"):
        engine.generate(steps=1, lineup=["kazoo"])


def test_regenerate_brings_a_lane_back(engine):
    song = engine.generate(steps=3, seed=2, lineup=["piano", "drums"], revive=1)
    assert not song.probs[2].any()
    new = engine.regenerate_lane(song, "bass", seed=5)
    assert new.note_counts()["bass"] > 0 and "bass" in new.lineup
    assert np.array_equal(new.probs[0], song.probs[0]) and np.array_equal(new.probs[4], song.probs[4])


def test_primer_tempo_is_used_unless_a_tempo_is_given(engine, tmp_path):
    primer = _write(tmp_path / "p.mid", e_minor_band(4), tempo=144)
    assert engine.generate(steps=1, seed=1, primer=primer).tempo == pytest.approx(144)
    assert engine.generate(steps=1, seed=1, primer=primer, tempo=90).tempo == 90


# --- the shipped pack -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def shipped():
    return Engine.load(device="cpu")


def test_shipped_pack_is_a_16th_note_pack_with_its_defaults(shipped):
    cfg = shipped.cfg
    assert (cfg.steps_per_beat, cfg.chunk_steps) == (4, 64)
    song = shipped.generate(steps=1, seed=3)
    g = shipped.pack.card["generation"]
    assert song.threshold == g["threshold"] and song.settings["noise"] == g["noise"]
    assert song.settings["revive"] == g["revive"] and song.settings["pull"] == g["pull"]


def test_shipped_pack_every_lane_plays_from_a_random_start(shipped):
    """Every lineup lane of every take sounds, scale lock or not (seed 1410107820's second take once had a
    silent piano: its bank chunk decoded under the threshold and was never heard, so never revived)."""
    for seed in [*range(12), 1410107820]:
        for song in shipped.generate(steps=7, seed=seed, variations=3, key="E minor", scale_lock=seed % 2 == 0):
            counts = song.note_counts()
            assert all(counts[lane] > 0 for lane in LANES), (seed, song.settings["variation"], counts)


def test_shipped_pack_piano_primer_gets_a_band_in_its_key(shipped, tmp_path):
    """A piano-only E minor primer: the other four lanes come in, and the sketch stays in E minor.

    The key of a sketch is estimated from its notes, so a take may read as a neighbouring key (seed 0
    reads as E major: the VAEs' G# tips the estimate to the parallel major). Over 16 seeds the shipped
    card (session 5: half-bar harmony) reads 12 of 16 as E minor or G major with groove and 12 without
    (the session-4 card: 11 and 13); we ask for at least 11 of 16 without groove (as the 6 of 8 asked before)
    and 10 of 16 with it (as the 5 of 8 asked before).
    """
    piano = [n for n in e_minor_band(4) if n[0] == 0]
    primer = _write(tmp_path / "piano.mid", piano)
    in_key = {False: 0, True: 0}
    for groove in (False, True):
        for seed in range(16):
            song = shipped.generate(steps=4, seed=seed, primer=str(primer), groove=groove)
            counts = song.note_counts()
            assert all(counts[lane] > 0 for lane in LANES), (seed, counts)
            assert song.settings["key"] == "E minor"
            in_key[groove] += key_name(estimate_key(song.notes())) in ("E minor", "G major")  # G major: same scale
    assert in_key[False] >= 11 and in_key[True] >= 10, in_key


def test_shipped_pack_band_primer_in_e_minor_stays_in_e_minor_with_scale_lock(shipped, tmp_path):
    from musicvae_app.theory.keys import scale_pitch_classes

    primer = _write(tmp_path / "band.mid", e_minor_band(4))
    scale = set(scale_pitch_classes((4, "minor")))
    for seed in range(6):
        song = shipped.generate(steps=4, seed=seed, primer=str(primer), scale_lock=True)
        assert song.settings["key"] == "E minor", seed  # the key the take was moved back to and locked in
        # Heard as a key, the take's tonic is E. Its mode can read as major where a take plays E, A and B
        # far more than G (the primer's D# of the B chord then tips it); every generated note is in E minor:
        assert estimate_key(song.notes())[0] == 4, seed
        generated = np.delete(song.notes()[:, song.chunk_steps :], DRUMS, axis=0)
        assert {int(p) % 12 for p in np.nonzero(generated.any(axis=(0, 1)))[0]} <= scale


def test_shipped_pack_same_seed_same_notes(shipped):
    a = shipped.generate(steps=4, seed=9)
    b = shipped.generate(steps=4, seed=9)
    assert np.array_equal(a.probs, b.probs)


def test_a_pack_from_before_the_16th_grid_still_loads(tiny_pack, tmp_path):
    """Format 1 cards (no pitch windows, lead, bank or start) load and generate as the thesis did."""
    import json
    import shutil

    from musicvae_app.model.pack import CARD

    old = shutil.copytree(tiny_pack, tmp_path / "old")
    card = json.loads((old / CARD).read_text())
    card["format_version"] = 1
    for key in ("pitches", "pitch_low", "lead", "bank"):
        card["config"].pop(key, None)
    (old / CARD).write_text(json.dumps(card))
    engine = Engine.load(old, device="cpu")
    assert engine.cfg.lead == "piano" and engine.cfg.pitches == 128
    song = engine.generate(steps=2, seed=1)
    assert song.settings["start"] == "random" and song.probs.shape == (5, 96, 128)


def test_cli_lanes_and_key(tmp_path, capsys):
    from musicvae_app.cli import main

    primer = _write(tmp_path / "em.mid", e_minor_band(4))
    out = tmp_path / "band.mid"
    argv = ["generate", "--out", str(out), "--steps", "2", "--seed", "4", "--device", "cpu"]
    assert main([*argv, "--primer", str(primer), "--lanes", "bass,drums,piano", "--key", "A minor"]) == 0
    text = capsys.readouterr().out
    assert "key A minor" in text and "lineup piano,bass,drums" in text
    names = {t.name for t in mido.MidiFile(str(out)).tracks}
    assert {"Piano", "Bass", "Drums"} <= names and not {"Guitar", "Strings"} & names
    assert main([*argv, "--lanes", "kazoo"]) == 2
    assert "kazoo" in capsys.readouterr().err


@pytest.mark.parametrize("key", ["E minor", "Bb major", "C major", "F# minor"])
def test_scale_lock_keeps_every_pitched_note_in_the_scale(engine, key):
    from musicvae_app.theory.keys import scale_pitch_classes

    scale = set(scale_pitch_classes(parse_key(key)))
    for seed in range(6):
        song = engine.generate(steps=3, seed=seed, key=key, scale_lock=True, revive=1)
        notes = song.notes()
        pitched = np.delete(notes, DRUMS, axis=0)
        classes = {int(p) % 12 for p in np.nonzero(pitched.any(axis=(0, 1)))[0]}
        assert classes and classes <= scale, (key, seed, sorted(classes - scale))
        assert song.settings["scale_lock"] is True and song.settings["key"] == key
    longer = engine.continue_song(song, 2, seed=1)
    classes = {int(p) % 12 for p in np.nonzero(np.delete(longer.notes(), DRUMS, axis=0).any(axis=(0, 1)))[0]}
    assert classes <= scale


# --- composing: infill and morph ------------------------------------------------------------------
def test_infill_changes_only_the_range_and_lanes(engine):
    song = engine.generate(steps=5, seed=3, revive=1)  # 6 chunks of 4 bars (8th-grid tiny pack)
    new = engine.infill(song, 9, 14, lanes=["guitar", "bass"], seed=7)  # snapped out to bars 9-16 = chunks 2-3
    cs = song.chunk_steps
    for lane in range(5):
        if LANES[lane] in ("guitar", "bass"):
            assert np.array_equal(new.probs[lane, : 2 * cs], song.probs[lane, : 2 * cs])
            assert np.array_equal(new.probs[lane, 4 * cs :], song.probs[lane, 4 * cs :])
            assert not np.array_equal(new.probs[lane, 2 * cs : 4 * cs], song.probs[lane, 2 * cs : 4 * cs])
        else:
            assert np.array_equal(new.probs[lane], song.probs[lane])  # bit-identical
    assert new.settings["infill"] == "bars 9-16"
    assert all(new.chunks[c][1].source == "infilled" for c in (2, 3))
    takes = engine.infill(song, 1, 4, seed=7, variations=3)
    assert len(takes) == 3 and len({t.probs.tobytes() for t in takes}) == 3
    assert all(np.array_equal(t.probs[:, 4 * 8 * 2 :], song.probs[:, 4 * 8 * 2 :]) for t in takes)
    with pytest.raises(ValueError, match="bars"):
        engine.infill(song, 5, 99)


def test_morph_moves_from_take_a_to_take_b(engine):
    a = engine.generate(steps=1, seed=1, revive=1)
    b = engine.generate(steps=1, seed=2, revive=1)
    m = engine.morph(a, b, steps=6)
    assert m.n_chunks == 6
    za, zb = m.latents[0], m.latents[-1]
    ea = engine.encode((a.chunk(0) >= a.threshold).astype(np.float32)[:, None])[:, 0].numpy()
    eb = engine.encode((b.chunk(0) >= b.threshold).astype(np.float32)[:, None])[:, 0].numpy()
    dist = [np.linalg.norm(m.latents[i] - ea) for i in range(6)]
    assert dist == sorted(dist)  # every chunk further from A than the one before
    assert np.allclose(za, ea, atol=1e-5) and np.allclose(zb, eb, atol=1e-5)
    kept = engine.morph(a, b, steps=3, keep_lanes=["drums"])
    assert np.allclose(kept.latents[:, 4], ea[4], atol=1e-5)


def test_cli_infill_and_morph(tmp_path, capsys, tiny_pack):
    from musicvae_app.cli import main

    src = tmp_path / "a.mid"
    common = ["--pack", str(tiny_pack), "--device", "cpu"]
    assert main(["generate", "--out", str(src), "--steps", "3", "--seed", "1", *common]) == 0
    out = tmp_path / "b.mid"
    assert (
        main(["infill", str(src), "--bars", "5-8", "--lanes", "guitar", "--out", str(out), "--seed", "2", *common]) == 0
    )
    assert "bars 5-8" in capsys.readouterr().out
    before, after = _onsets(src), _onsets(out)
    assert {k: v for k, v in before.items() if k[0] != 1} == {k: v for k, v in after.items() if k[0] != 1}
    morph = tmp_path / "m.mid"
    assert main(["morph", "--from", str(src), "--to", str(out), "--steps", "4", "--out", str(morph), *common]) == 0
    assert mido.MidiFile(str(morph)).length > 0
    assert main(["infill", str(src), "--bars", "nine", "--out", str(out), *common]) == 2


def test_density_changes_note_counts_monotonically_without_resampling(engine, tmp_path):
    song = engine.generate(steps=3, seed=4, revive=1)
    steps = (0.5, 0.7, 0.85, 1.0, 1.15, 1.3)
    cells = [int(song.with_density({"bass": d}).notes()[2].sum()) for d in steps]
    assert cells == sorted(cells) and cells[0] < cells[-1]
    counts = [song.with_density({"bass": d}).note_counts()["bass"] for d in steps]
    assert counts == sorted(counts) and counts[0] < counts[-1]
    busy = song.with_density("bass=1.5,strings=0.7")
    assert np.array_equal(busy.probs, song.probs)  # no new sample
    assert busy.note_counts()["piano"] == song.note_counts()["piano"]
    assert busy.note_counts()["strings"] <= song.note_counts()["strings"]
    path = write_midi(busy, tmp_path / "d.mid")
    assert '"density": "bass=1.5,strings=0.7"' in str(mido.MidiFile(str(path)).tracks[0])
    with pytest.raises(ValueError, match="density of bass"):
        song.with_density("bass=9")
    with pytest.raises(ValueError, match="unknown lane"):
        song.with_density("kazoo=1.2")


def test_sustain_keeps_a_held_note_whole_through_a_dip(tmp_path):
    probs = np.zeros((5, 64, 128), dtype=np.float32)
    probs[0, 0:8, 60] = [0.9, 0.8, 0.25, 0.7, 0.8, 0.6, 0.1, 0.05]  # a held note whose probability dips at step 2
    probs[0, 20, 62] = 0.25  # a lone weak cell is not a note either way
    probs[4, 0:3, 42] = [0.9, 0.25, 0.9]  # drums stay hits: the weak cell between two hits is no hit
    straight = Song(probs, 4, 64, threshold=0.3)
    held = Song(probs, 4, 64, threshold=0.3, settings={"sustain": 0.6})
    assert straight.note_counts()["piano"] == 2 and held.note_counts()["piano"] == 1
    assert held.notes()[0, :, 60].sum() == 6 and not held.notes()[0, :, 62].any()
    assert held.notes()[4, :, 42].tolist()[:3] == [True, False, True]
    got = _onsets(write_midi(held, tmp_path / "held.mid"))
    assert got[(0, 60)] == [0]


def test_revive_brings_a_silent_lane_back(engine):
    """With revive on, no lane of the lineup stays silent for long after it has played."""
    from musicvae_app.evaluation.metrics import lane_dropout

    songs = engine.generate(steps=10, seed=3, variations=8, revive=1)
    rolls = np.stack([s.notes() for s in songs])
    thesis = engine.generate(steps=10, seed=3, variations=8, revive=0, start="prior")
    assert (
        lane_dropout(rolls, engine.cfg.chunk_steps)["all"]
        <= lane_dropout(np.stack([s.notes() for s in thesis]), engine.cfg.chunk_steps)["all"]
    )


def test_a_primer_without_a_tempo_event_leaves_the_tempo_alone(engine, tmp_path):
    from musicvae_app.sketch.session import Session

    primer = write_notes(tmp_path / "no-tempo.mid", e_minor_band(4))  # no conductor track: no set_tempo
    assert engine.generate(steps=1, seed=1, primer=primer).tempo == 120.0  # MIDI's implied tempo
    session = Session(engine)
    assert session.open_primer(primer)
    assert session.primer == primer and session.primer_bpm is None  # the tempo the musician set stays


def _two_lane_probs(steps: int = 64) -> np.ndarray:
    """Piano on C and E, guitar on C and a clashing F#, drums hits: probabilities (5, steps, 128)."""
    probs = np.zeros((5, steps, 128), dtype=np.float32)
    probs[0, :, 60] = probs[0, :, 64] = 0.6
    probs[1, :, 48] = 0.6
    probs[1, :, 54] = 0.5
    probs[4, ::2, 42] = 0.7
    return probs


def test_harmonise_draws_the_lanes_to_the_bars_chord_and_leaves_drums(shipped):
    """FastBand.harmonise: the band's most-played classes keep their probability, a lone clash fades; 0 is off."""

    fast = shipped.fast
    probs = _two_lane_probs()
    blocked = fast.to_blocked(torch.as_tensor(probs[:, None]))
    fast.set_harmony(0.0)
    assert torch.equal(fast.harmonise(blocked.clone(), 1), blocked)  # the thesis's decoding
    try:
        fast.set_harmony(1.0)
        out = fast.from_blocked(fast.harmonise(blocked.clone(), 1), 1)[:, 0].numpy()
    finally:
        fast.set_harmony(shipped.defaults["harmony"])
    assert np.allclose(out[0, :, 60], 0.6) and np.allclose(out[1, :, 48], 0.6)  # C: the bar's top class
    assert 0.2 < out[0, 0, 64] < 0.6  # E, played by one lane, is kept but weaker
    assert out[1, 0, 54] < 0.3 < probs[1, 0, 54]  # F#: a lone clash falls under the threshold
    assert np.array_equal(out[4], probs[4])  # drums untouched
    with pytest.raises(ValueError, match="harmony"):
        fast.set_harmony(9.0)


def test_harmony_brings_the_lanes_closer_in_tonal_distance(shipped):
    from musicvae_app.evaluation.metrics import PITCHED, tonal_distance

    def mean_td(harmony):
        lineup = "piano,guitar,bass,strings"
        songs = [
            s
            for seed in (4, 5)
            for s in shipped.generate(steps=6, seed=seed, variations=6, harmony=harmony, lineup=lineup)
        ]
        rolls = np.stack([s.notes() for s in songs])
        pairs = [(a, b) for n, a in enumerate(PITCHED) for b in PITCHED[n + 1 :]]
        return np.nanmean([tonal_distance(rolls[:, a], rolls[:, b], 4) for a, b in pairs])

    # the pack default against none (the session-5 card, per half bar: 0.61 against 0.79 over seeds 4 and 5)
    assert mean_td(shipped.defaults["harmony"]) < mean_td(0.0) - 0.1
    song = shipped.generate(steps=1, seed=4, harmony=0.0)
    assert song.settings["harmony"] == 0.0 and shipped.fast.harmony == shipped.defaults["harmony"]
    with pytest.raises(ValueError, match="harmony"):
        shipped.generate(steps=1, harmony=-1)


def test_fill_sounds_near_notes_only_in_bars_the_lane_plays(tmp_path):
    probs = np.zeros((5, 64, 128), dtype=np.float32)
    probs[0, 0, 60] = 0.9  # bar 1 plays
    probs[0, 4, 64] = 0.2  # a near note in a playing bar
    probs[0, 20, 67] = 0.2  # a near note in a resting bar (bar 2)
    plain = Song(probs, 4, 64, threshold=0.3)
    full = Song(probs, 4, 64, threshold=0.3, settings={"fill": [0.5, 1.0, 1.0, 1.0, 1.0]})
    assert plain.note_counts()["piano"] == 1
    assert full.note_counts()["piano"] == 2
    assert full.notes()[0, 4, 64] and not full.notes()[0, 20, 67]
    assert Song(probs, 4, 64, threshold=0.3, settings={"fill": "nonsense"}).note_counts() == plain.note_counts()
    got = _onsets(write_midi(full, tmp_path / "fill.mid"))
    assert got[(0, 64)] == [TPB]  # step 4 at 16ths: beat 2


def test_sustain_per_lane(tmp_path):
    probs = np.zeros((5, 64, 128), dtype=np.float32)
    for lane in (0, 1):
        probs[lane, 0:5, 60] = [0.9, 0.2, 0.9, 0.2, 0.9]  # a held note that dips twice
    song = Song(probs, 4, 64, threshold=0.3, settings={"sustain": [0.5, 1.0, 1.0, 1.0, 1.0]})
    assert song.note_counts()["piano"] == 1 and song.note_counts()["guitar"] == 3
    assert np.array_equal(song.sustain, np.array([0.5, 1, 1, 1, 1], dtype=np.float32))
    for bad in ([0.5, 0.5], [0.05] * 5, True, "x"):
        assert np.array_equal(Song(probs, 4, 64, threshold=0.3, settings={"sustain": bad}).sustain, np.ones(5))


@pytest.mark.parametrize(
    "generation, words",
    [
        ({"harmony": 9}, "harmony"),
        ({"harmony": "lots"}, "harmony"),
        ({"fill": [0.5, 0.5]}, "fill must be one number or five"),
        ({"sustain": [0.5, 0.5, 0.5, 0.5, 2.0]}, "sustain"),
        ({"restrike": 1.2}, "restrike"),
        ({"bring_in": [0.0] * 5}, "bring_in"),
        ({"start_bias": [0.5, 0.5]}, "start_bias must be five numbers"),
        ({"start_bias": [0.0, 0.0, 0.0, 0.0, "x"]}, "start_bias"),
        ({"harmony_after": "yes"}, "harmony_after must be true or false"),
    ],
)
def test_pack_cards_with_bad_decoding_defaults_are_refused(tiny_pack, tmp_path, generation, words):
    import json
    import shutil

    from musicvae_app.model.pack import PackError, load_pack

    folder = tmp_path / "pack"
    shutil.copytree(tiny_pack, folder)
    card = json.loads((folder / "card.json").read_text())
    card["generation"].update(generation)
    (folder / "card.json").write_text(json.dumps(card))
    with pytest.raises(PackError, match=words):
        load_pack(folder)


def test_calibration_tally_puts_sanity_first_then_every_goal_then_music_goals_then_gaps():
    from musicvae_app.evaluation.calibrate import tally

    def table(eb_gap, td_gap, poly_ok):
        lanes = {
            "piano": {
                "EB": {"gap": eb_gap, "met": abs(eb_gap) <= 5},
                "polyphony": {"gap": 0.1, "met": poly_ok},
            }
        }
        return {"lanes": lanes, "TD": {"piano-bass": {"gap": td_gap, "met": td_gap <= 0.05}}, "all": {}}

    assert tally(table(9.0, 0.3, True)) > tally(table(1.0, 0.0, False))  # a missed sanity guard loses first
    assert tally(table(1.0, 0.3, True)) > tally(table(9.0, 0.3, True))  # then goals met
    assert tally(table(6.0, 0.3, True)) > tally(table(9.0, 0.3, True))  # then the smaller gap
    assert tally(table(1.0, -0.4, True)) == tally(table(1.0, 0.0, True))  # TD under real is no gap
    assert tally(table(1.0, 0.3, True), random_goals=2)[1] == tally(table(1.0, 0.3, True))[1] + 2


def test_restrike_turns_a_strum_the_model_blurred_into_strikes(tmp_path):
    """Strummed 8ths decode as a probability that dips between strikes; restrike makes each a note."""
    probs = np.zeros((5, 64, 128), dtype=np.float32)
    probs[1, 0:7, 52] = [0.98, 0.4, 0.97, 0.35, 0.98, 0.5, 0.9]  # guitar: four strikes, dips above the threshold
    probs[0, 0:7, 60] = [0.8, 0.78, 0.8, 0.79, 0.8, 0.77, 0.8]  # piano: a held note (no real dip)
    probs[4, 0:3, 42] = [0.9, 0.5, 0.9]  # drums are hits already: untouched
    plain = Song(probs, 4, 64, threshold=0.3)
    struck = Song(probs, 4, 64, threshold=0.3, settings={"restrike": [0.6, 0.6, 0.0, 0.0, 0.6]})
    assert plain.note_counts()["guitar"] == 1 and struck.note_counts()["guitar"] == 4
    assert struck.note_counts()["piano"] == 1  # no dip, no restrike
    assert np.array_equal(struck.notes()[4], plain.notes()[4])
    assert _onsets(write_midi(struck, tmp_path / "strum.mid"))[(1, 52)] == [0, 240, 480, 720]  # every 8th
    for bad in (1.5, [0.6] * 4, "deep", True):
        assert Song(probs, 4, 64, threshold=0.3, settings={"restrike": bad}).note_counts()["guitar"] == 1


def _longest_silence_after_playing(songs) -> int:
    """The longest run of silent chunks of any lane after it first played, over the songs."""
    longest = 0
    for song in songs:
        for row in song.notes().reshape(5, song.n_chunks, -1).any(axis=2):  # (chunks,) per lane
            heard = np.flatnonzero(row)
            if heard.size:
                runs = np.diff(np.flatnonzero(np.r_[True, row[heard[0] :], True])) - 1
                longest = max(longest, int(runs.max()))
    return longest


def test_a_revived_lane_always_comes_back(tmp_path):
    """With revive 1 no lane that has played stays silent for more than one chunk (loop.wake),
    on a sparse pack whose thesis loop does leave lanes silent for longer."""
    from conftest import make_pack

    sparse = Engine.load(make_pack(tmp_path / "sparse", bias=-2.4), device="cpu")
    thesis = sparse.generate(steps=12, seed=8, variations=12, revive=0, start="prior")
    assert _longest_silence_after_playing(thesis) > 1
    revived = sparse.generate(steps=12, seed=8, variations=12, revive=1, start="prior")
    assert _longest_silence_after_playing(revived) <= 1


def test_a_lane_the_primer_lacks_comes_in_as_light_as_the_pack_says(engine, tmp_path):
    """card generation.bring_in: a brought-in lane's generated chunks are scaled; lanes the primer has are not."""
    piano = [n for n in e_minor_band(4) if n[0] == 0]
    primer = _write(tmp_path / "piano.mid", piano)
    full = engine.generate(steps=2, seed=5, primer=str(primer), revive=1)
    before = engine.use_card(bring_in=[1.0, 0.5, 1.0, 1.0, 1.0])
    try:
        light = engine.generate(steps=2, seed=5, primer=str(primer), revive=1)
    finally:
        engine.use_card(before)
    cs, g = engine.cfg.chunk_steps, LANES.index("guitar")
    assert light.settings["bring_in"] == [1.0, 0.5, 1.0, 1.0, 1.0]
    assert np.array_equal(light.probs[g, :cs], full.probs[g, :cs])  # its first chunk (from the bank) is whole
    assert full.probs[g, cs : 2 * cs].max() > 0.3
    assert np.allclose(light.probs[g, cs : 2 * cs], 0.5 * full.probs[g, cs : 2 * cs], atol=1e-6)
    assert np.array_equal(light.probs[0, : 2 * cs], full.probs[0, : 2 * cs])  # the primer's piano: untouched
    assert light.note_counts()["guitar"] > 0


def test_calibration_decodes_as_the_exported_midi_reads_back(tmp_path):
    """calibrate.decoded (fill and sustain without a new sample) gives exactly what the .mid reads back as."""
    from conftest import make_pack
    from musicvae_app.evaluation.calibrate import decoded
    from musicvae_app.evaluation.windows import read_back

    sixteenths = Engine.load(make_pack(tmp_path / "p16", chunk_steps=64, steps_per_beat=4), device="cpu")
    fill, sustain = [0.5, 0.7, 0.5, 0.35, 1.0], [0.8, 0.6, 1.0, 0.4, 1.0]
    songs = sixteenths.generate(steps=2, seed=3, variations=3)
    got = decoded(songs, fill, sustain)
    for i, song in enumerate(songs):
        song.settings = {**song.settings, "fill": fill, "sustain": sustain}
        back = read_back(write_midi(song, tmp_path / f"{i}.mid"), song.n_steps)
        assert np.array_equal(got[i], back)
        assert back[:DRUMS].sum() > 0 and back[DRUMS].sum() > 0


def test_start_offsets_apply_to_sketches_with_no_primer_only_and_follow_the_song(shipped, tmp_path):
    """Card generation.start_bias: a random start's extra density per lane; a primer's take keeps lane_bias alone.

    The offsets are recorded in the take, so Regenerate on it uses them again; the engine's own
    offsets are as before after every call.
    """
    saved = shipped.card
    before = shipped.fast.lane_bias.clone()
    try:
        # groove off: its four-voice cap would hold a denser piano to the same cells. Three seeds pooled: the
        # offsets also change which bank chunk a start opens on, so one seed's piano may be busy either way
        # (seed 21: 1824 cells against 1337 with the session-5 card; seeds 3, 7, 21 pooled: 2.5x).
        shipped.use_card(start_bias=[3.0, 0.0, 0.0, 0.0, 0.0])
        busy_takes = [shipped.generate(steps=3, seed=seed, groove=False) for seed in (3, 7, 21)]
        busy = busy_takes[-1]
        assert busy.settings["start_bias"] == [3.0, 0.0, 0.0, 0.0, 0.0]
        assert torch.equal(shipped.fast.lane_bias, before)
        shipped.use_card(start_bias=[0.0] * 5)
        plain_takes = [shipped.generate(steps=3, seed=seed, groove=False) for seed in (3, 7, 21)]
        # Sounding cells, not note counts: a denser piano also holds more notes through, merging strikes.
        cells = [sum(int(t.notes()[PIANO].sum()) for t in takes) for takes in (busy_takes, plain_takes)]
        assert cells[0] > 2 * cells[1], cells
        regen = shipped.regenerate_lane(busy, "piano", seed=5)  # the card says 0 now; the take says 3
        quiet = busy.copy()
        quiet.settings = {**busy.settings, "start_bias": [0.0] * 5}
        assert regen.notes()[PIANO].sum() > 2 * shipped.regenerate_lane(quiet, "piano", seed=5).notes()[PIANO].sum()
        shipped.use_card(start_bias=[3.0, 0.0, 0.0, 0.0, 0.0])
        _write(tmp_path / "p.mid", [(0, 0, 60 + i % 3, i, i + 1) for i in range(16)])
        primed = shipped.generate(steps=1, seed=21, primer=str(tmp_path / "p.mid"))
        assert primed.settings["start_bias"] == [0.0] * 5
        assert torch.equal(shipped.fast.lane_bias, before)
    finally:
        shipped.use_card(saved)


def test_harmony_after_the_loop_harmonises_the_take_and_keeps_every_sounding_chunk(shipped, tmp_path):
    """Card generation.harmony_after: the loop runs on unharmonised chunks (the same latents as harmony 0),
    the whole take is harmonised once at the end, drums are untouched, and no lane's chunk that sounded
    goes silent."""
    saved = shipped.card
    primer = _write(tmp_path / "band.mid", e_minor_band(4))
    try:
        shipped.use_card(harmony_after=True)
        kw = dict(steps=6, seed=3, primer=str(primer), lineup="piano,guitar,bass,drums", variations=2)
        for plain, agreed in zip(shipped.generate(harmony=0.0, **kw), shipped.generate(harmony=3.0, **kw)):
            assert np.array_equal(plain.latents, agreed.latents)  # the loop went on from the same notes
            cs = plain.chunk_steps
            a = plain.probs[:, cs:].reshape(5, -1, cs, 128)
            b = agreed.probs[:, cs:].reshape(5, -1, cs, 128)
            assert np.array_equal(a[DRUMS], b[DRUMS]) and not np.array_equal(a, b)
            assert np.array_equal(plain.probs[:, :cs], agreed.probs[:, :cs])  # the primer's chunk as it was
            sounded = (a >= plain.threshold).any(axis=(2, 3))
            assert ((b >= agreed.threshold).any(axis=(2, 3)) | ~sounded).all()
    finally:
        shipped.use_card(saved)


def test_start_offsets_are_calibrated_toward_real_empty_bars(shipped):
    """calibrate_start_bias: a lane with far more empty bars than real gets a higher offset; a lane
    already within the dead band keeps 0."""
    from musicvae_app.evaluation.calibrate import calibrate_start_bias
    from musicvae_app.evaluation.windows import SCORE_CHUNK

    real = np.zeros((4, 5, 9 * SCORE_CHUNK, 128), dtype=bool)
    real[:, :, :, 60] = True  # every lane plays every bar: 0 % empty
    generation = shipped.pack.card["generation"]
    saved, card = generation.get("start_bias"), shipped.card
    try:
        generation["start_bias"] = [0.0] * 5
        piano_empty = calibrate_start_bias(shipped, real, songs=12, rounds=1)
        generation["start_bias"] = [0.0] * 5
        real[:, 0] = False
        real[:, 0, : 4 * SCORE_CHUNK, 60] = True  # the piano rests in 5 of 9 chunks: far fewer notes wanted
        busy_piano = calibrate_start_bias(shipped, real, songs=12, rounds=2)
    finally:
        shipped.use_card(card)
        if saved is None:
            generation.pop("start_bias", None)
        else:
            generation["start_bias"] = saved
    assert piano_empty[0] > 0 and busy_piano[0] < 0
    assert piano_empty[4] == 0.0  # the drums play nearly every bar from a random start already


def test_a_sketch_with_no_primer_starts_where_every_lane_plays_most_bars(shipped):
    """Bank starts come from rows in which every lineup lane plays at least BANK_BARS of the chunk's bars
    as decoded (pull keeps a sketch near its start, so a one-bar-in-four start made a sparse sketch)."""
    from musicvae_app.engine import BANK_BARS

    lanes = list(range(len(LANES)))
    rows = shipped.bank.rows(torch.Generator().manual_seed(0), 40, lanes, 0.3).cpu().numpy()
    assert (shipped.bank.bars(0.3)[rows][:, lanes] >= BANK_BARS).all()
    for seed in range(4):
        song = shipped.generate(steps=1, seed=seed)
        first = song.probs[:, : song.chunk_steps] >= song.threshold  # (5, cs, 128)
        bars = first.reshape(len(LANES), -1, song.steps_per_beat * 4, 128).any(axis=(2, 3)).sum(axis=1)
        assert (bars >= BANK_BARS).all(), (seed, bars)
    shipped.bank._bars_cache.clear()
    plain = shipped.generate(steps=1, seed=3)
    shipped.bank._bars_cache.clear()
    shipped.generate(steps=1, seed=3, scale_lock=True)  # the rows are counted without scale lock's steering
    assert np.array_equal(plain.probs, shipped.generate(steps=1, seed=3).probs)
