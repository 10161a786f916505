"""Feel (swing, humanize): the exported ticks, the playback schedule, determinism, bounds, the CLI, refusals."""

from __future__ import annotations

import io
from collections import defaultdict, deque

import mido
import numpy as np
import pytest

from musicvae_app.cli import main
from musicvae_app.errors import InvalidValue
from musicvae_app.playback.schedule import schedule
from musicvae_app.sketch.midi import LANE_CHANNELS, lane_notes, read_settings, song_to_midifile, write_midi, write_stems
from musicvae_app.sketch.song import DRUMS, LANES, Song
from musicvae_app.theory.feel import Feel, feel_of, timed_notes

PIANO = 0


def hand_song(cells, steps_per_beat=4, steps=16, tempo=120.0, settings=None, lane=PIANO) -> Song:
    """A song whose `lane` holds exactly `cells`: (pitch, start step, end step) at full confidence."""
    probs = np.zeros((len(LANES), steps, 128), np.float32)
    for pitch, start, end in cells:
        probs[lane, start:end, pitch] = 1.0
    return Song(probs, steps_per_beat, steps, threshold=0.5, tempo=tempo, settings=dict(settings or {}))


def random_song(seed=1, steps_per_beat=4, steps=64, tempo=120.0, density=0.08, settings=None) -> Song:
    rng = np.random.default_rng(seed)
    probs = (rng.random((len(LANES), steps, 128)) < density) * rng.uniform(0.5, 1.0, (len(LANES), steps, 128))
    base = {"seed": 1234}
    base.update(settings or {})
    return Song(probs.astype(np.float32), steps_per_beat, 16, threshold=0.4, tempo=tempo, settings=base)


def exported(song: Song, lanes=None) -> dict[int, list[tuple[int, int, int, int]]]:
    """{channel: sorted (pitch, on tick, off tick, velocity)} read back with mido from the saved bytes."""
    buf = io.BytesIO()
    song_to_midifile(song, lanes).save(file=buf)
    buf.seek(0)
    return notes_of(mido.MidiFile(file=buf))


def notes_of(mid: mido.MidiFile) -> dict[int, list[tuple[int, int, int, int]]]:
    out: dict[int, list] = defaultdict(list)
    for track in mid.tracks[1:]:
        tick, held = 0, defaultdict(deque)
        for msg in track:
            tick += msg.time
            if msg.type == "note_on" and msg.velocity:
                held[(msg.channel, msg.note)].append((tick, msg.velocity))
            elif msg.type in ("note_on", "note_off"):
                on, vel = held[(msg.channel, msg.note)].popleft()
                out[msg.channel].append((msg.note, on, tick, vel))
        assert not any(held.values()), "every note is released"
    return {ch: sorted(v) for ch, v in out.items()}


def grid_notes(song: Song) -> dict[int, list[tuple[int, int, int, int]]]:
    """Today's export without feel: every step on its own tick."""
    ticks = 480 // song.steps_per_beat
    out = {}
    for lane in range(len(LANES)):
        notes = lane_notes(song, lane)
        if notes:
            out[LANE_CHANNELS[lane]] = sorted((p, s * ticks, e * ticks, v) for p, s, e, v in notes)
    return out


# --- swing ---------------------------------------------------------------------------------------


def test_swing_moves_offbeat_8ths_by_the_ratio_and_leaves_beats():
    # beat 0: a note on the beat held to the off-beat (its end swings), one on the off-beat 8th; beat 1 and 2 too
    song = hand_song([(60, 0, 2), (62, 2, 3), (64, 4, 5), (65, 6, 8), (67, 8, 10)])
    for swing in (50, 60, 66, 75):
        got = {(p, on, off) for p, on, off, _ in exported(song.with_feel(swing=swing))[0]}
        s, r = round(480 * swing / 100), swing / 100
        assert got == {
            (60, 0, s),  # held from the beat to the off-beat: its end swings
            (62, s, round(480 * (r + (1 - r) / 2))),  # the off-beat 8th, ending on the last 16th (warped)
            (64, 480, 480 + round(240 * r)),
            (65, 480 + s, 960),
            (67, 960, 960 + s),
        }


def test_swing_on_16ths_moves_the_second_16th_of_each_8th():
    song = hand_song([(60, 0, 1), (61, 1, 2), (62, 2, 3), (63, 3, 4), (64, 4, 5)])
    got = {p: (on, off) for p, on, off, _ in exported(song.with_feel(swing=60, swing_grid="16th"))[0]}
    assert got == {60: (0, 144), 61: (144, 240), 62: (240, 384), 63: (384, 480), 64: (480, 624)}
    # on a grid of 8ths there is no 16th to swing: nothing moves
    eighths = hand_song([(60, 0, 1), (62, 1, 2)], steps_per_beat=2)
    assert exported(eighths.with_feel(swing=70, swing_grid="16th")) == grid_notes(eighths)


def test_drums_swing_and_stay_hits():
    song = hand_song([(36, 0, 1), (42, 0, 8), (38, 4, 5)], lane=DRUMS)  # a hi-hat on every 16th
    plain, swung = exported(song)[9], exported(song.with_feel(swing=60))[9]
    assert len(plain) == len(swung) == 10  # hits stay hits
    hats = sorted(on for p, on, _, _ in swung if p == 42)
    assert hats == [0, 144, 288, 384, 480, 624, 768, 864]
    assert all(off > on for _, on, off, _ in swung)


# --- humanize ------------------------------------------------------------------------------------


@pytest.mark.parametrize("tempo", [60.0, 120.0, 200.0])
def test_humanize_stays_within_its_bounds(tempo):
    song = random_song(tempo=tempo)
    plain = grid_notes(song)
    felt = exported(song.with_feel(humanize_ms=20, humanize_velocity=12))
    bound = 0.020 * tempo / 60 * 480 + 0.5  # ticks, with the rounding to a tick
    moved = []
    for ch in plain:
        assert len(felt[ch]) == len(plain[ch])
        matched = sorted(felt[ch], key=lambda n: (n[0], n[1]))  # one pitch's notes keep their order
        for (p, on, off, vel), (gp, gon, _, gvel) in zip(matched, sorted(plain[ch])):
            assert p == gp
            assert abs(on - gon) <= bound and on >= 0
            assert off - on >= 1
            assert abs(vel - gvel) <= 12 and 1 <= vel <= 127
            moved.append(on - gon)
    moved = np.array(moved)
    assert (moved != 0).mean() > 0.5 and np.abs(moved).max() > bound / 2  # it does spread the notes


def test_humanize_is_deterministic_per_seed_and_lane():
    song = random_song().with_feel(humanize_ms=15, humanize_velocity=10)
    assert (
        exported(song)
        == exported(song.copy())
        == exported(random_song().with_feel(humanize_ms=15, humanize_velocity=10))
    )
    other = song.copy()
    other.settings = other.settings.replace(seed=99)
    a, b = exported(song), exported(other)
    assert [n[0] for n in a[0]] == [n[0] for n in b[0]]  # the same notes...
    assert a != b  # ...nudged otherwise
    # lanes draw apart: the same cells on two lanes get different nudges
    cells = [(60, s, s + 1) for s in range(0, 64, 2)]
    one = hand_song(cells, steps=64, lane=0, settings={"seed": 5})
    two = hand_song(cells, steps=64, lane=1, settings={"seed": 5})
    assert [n[1] for n in exported(one.with_feel(humanize_ms=20))[0]] != [
        n[1] for n in exported(two.with_feel(humanize_ms=20))[1]
    ]


def test_a_note_keeps_its_nudge_when_other_notes_come_and_go():
    song = random_song(seed=3).with_feel(humanize_ms=25, humanize_velocity=20)
    sparser = song.with_threshold(0.8)
    for lane in range(len(LANES)):

        def starts(s, lane=lane):
            notes = lane_notes(s, lane)
            timed = timed_notes(notes, 4, s.tempo, s.feel, seed=1234, lane=lane, song_steps=s.n_steps)
            return {(n[0], n[1]): t[1] for n, t in zip(notes, timed)}

        full, few = starts(song), starts(sparser)
        assert few and all(full[cell] == few[cell] or cell[1] == 0 for cell in few if cell in full)


def test_no_note_leaves_the_sketch_or_overlaps_itself_at_any_tempo():
    for tempo, spb in ((400.0, 12), (20.0, 2), (400.0, 48)):
        song = random_song(seed=7, steps_per_beat=spb, steps=96, tempo=tempo, density=0.3)
        song = song.with_feel(swing=75, swing_grid="16th", humanize_ms=30, humanize_velocity=30)
        end_tick = song.n_steps * 480 // spb
        for ch, notes in exported(song).items():
            by_pitch = defaultdict(list)
            for p, on, off, vel in notes:
                assert 0 <= on < off <= end_tick and 1 <= vel <= 127
                by_pitch[p].append((on, off))
            for spans in by_pitch.values():
                assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:])), (tempo, spb, ch)


# --- off, playback, every writer -----------------------------------------------------------------


def test_feel_off_is_todays_export_exactly():
    song = random_song(settings={"seed": 8})
    assert exported(song) == grid_notes(song)
    off = song.with_feel(swing=60, humanize_ms=5).with_feel(swing=50, humanize_ms=0, humanize_velocity=0)
    assert off.settings == song.settings and off.feel.off
    a, b = io.BytesIO(), io.BytesIO()
    song_to_midifile(song).save(file=a)
    song_to_midifile(off).save(file=b)
    assert a.getvalue() == b.getvalue()
    assert schedule(off) == schedule(song)


def test_playback_schedule_plays_the_exported_ticks():
    song = random_song(tempo=133.0).with_feel(swing=62, humanize_ms=12, humanize_velocity=9)
    tick = 60.0 / song.tempo / 480
    exp = exported(song)
    heard: dict[int, list] = defaultdict(list)
    held = defaultdict(deque)
    for t, msg in schedule(song):
        if msg.type == "note_on":
            held[(msg.channel, msg.note)].append((t, msg.velocity))
        elif msg.type == "note_off":
            on, vel = held[(msg.channel, msg.note)].popleft()
            heard[msg.channel].append((msg.note, round(on / tick), round(t / tick), vel))
    assert {ch: sorted(v) for ch, v in heard.items()} == exp
    # a loop region counts from its start and keeps every note inside it
    region = schedule(song, loop=(4.0, 8.0))
    length = 4 * 60.0 / song.tempo
    assert all(0 <= t <= length + 1e-9 for t, _ in region)
    ons = [t for t, m in region if m.type == "note_on"]
    assert ons and max(ons) < length


def test_write_midi_and_stems_carry_the_feel(tmp_path):
    song = random_song().with_feel(swing=58, humanize_ms=6)
    want = exported(song)
    assert notes_of(mido.MidiFile(str(write_midi(song, tmp_path / "s.mid")))) == want
    for path in write_stems(song, tmp_path / "stems"):
        for ch, notes in notes_of(mido.MidiFile(str(path))).items():
            assert notes == want[ch]
    assert read_settings(tmp_path / "s.mid")["swing"] == 58


# --- settings, refusals, CLI ---------------------------------------------------------------------


def test_with_feel_sets_keeps_and_drops_settings():
    song = hand_song([(60, 0, 1)], settings={"seed": 3})
    felt = song.with_feel(swing=60, swing_grid="16th", humanize_ms=8, humanize_velocity=10)
    assert felt.settings == {"seed": 3, "swing": 60, "swing_grid": "16th", "humanize_ms": 8, "humanize_velocity": 10}
    assert song.settings == {"seed": 3}  # a copy
    assert felt.with_feel(humanize_ms=0).settings.get("humanize_ms") is None
    assert felt.with_feel(swing=57.5).feel == Feel(57.5, "16th", 8.0, 10.0)


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"swing": 80}, ("swing", "50", "75", "80")),
        ({"swing": 49.9}, ("swing", "50", "75")),
        ({"swing": float("nan")}, ("swing",)),
        ({"swing": True}, ("swing",)),
        ({"swing": "lots"}, ("swing", "lots")),
        ({"swing_grid": "32nd"}, ("swing_grid", "8th", "16th", "32nd")),
        ({"humanize_ms": -1}, ("humanize_ms", "0", "30", "-1")),
        ({"humanize_ms": 31}, ("humanize_ms", "30")),
        ({"humanize_velocity": 40}, ("humanize_velocity", "0", "30", "40")),
    ],
)
def test_bad_feel_is_refused_naming_the_value_and_range(kwargs, words):
    with pytest.raises(ValueError) as info:
        hand_song([(60, 0, 1)]).with_feel(**kwargs)
    assert isinstance(info.value, InvalidValue)
    assert all(w in str(info.value) for w in words), str(info.value)


def test_damaged_feel_settings_play_straight():
    assert feel_of({"swing": "abc", "humanize_ms": 1e9, "swing_grid": 5}).off
    song = random_song(settings={"swing": "abc", "humanize_ms": [1], "humanize_velocity": None})
    assert exported(song) == grid_notes(song)


def test_cli_swing_and_humanize_end_to_end(tiny_pack, tmp_path, capsys):
    def gen(name, *flags):
        out = tmp_path / name
        args = ["generate", "--out", str(out), "--pack", str(tiny_pack), "--steps", "1", "--seed", "4"]
        assert main([*args, "--device", "cpu", *flags]) == 0
        return out

    plain, swung = gen("plain.mid"), gen("swung.mid", "--swing", "60")
    felt, again = (gen(n, "--swing", "60", "--humanize", "8", "--humanize-velocity", "10") for n in ("f.mid", "g.mid"))
    assert "feel: swing 60% on 8ths, humanize 8 ms" in capsys.readouterr().out
    assert read_settings(felt) | {"swing": 60, "humanize_ms": 8, "humanize_velocity": 10} == read_settings(felt)
    assert "swing" not in read_settings(plain)
    p, s = notes_of(mido.MidiFile(str(plain))), notes_of(mido.MidiFile(str(swung)))
    assert p != s and {ch: len(v) for ch, v in p.items()} == {ch: len(v) for ch, v in s.items()}
    # the tiny pack's grid is 8ths: with swing 60 every onset is on a beat or at 0.6 of one
    assert {on % 480 for notes in s.values() for _, on, _, _ in notes} <= {0, 288}
    assert felt.read_bytes() == again.read_bytes() != swung.read_bytes()


@pytest.mark.parametrize(
    "flags, flag",
    [
        (["--swing", "90"], "--swing"),
        (["--humanize", "x"], "--humanize"),
        (["--swing-grid", "3"], "--swing-grid"),
        (["--humanize-velocity", "31"], "--humanize-velocity"),
    ],  # fmt: skip
)
def test_cli_refuses_bad_feel_before_loading_a_pack(tmp_path, capsys, flags, flag):
    args = ["generate", "--out", str(tmp_path / "x.mid"), "--pack", str(tmp_path / "no-pack"), *flags]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and f"error: {flag}:" in err and "pack" not in err.split(flag)[0], err


def test_the_feel_travels_with_the_take_through_a_sketch_file(tmp_path):
    from musicvae_app.sketch import sketchfile

    song = random_song().with_feel(swing=64, swing_grid="16th", humanize_ms=9, humanize_velocity=7)
    path = sketchfile.save(sketchfile.Sketch(takes=[song]), tmp_path / "s.musicvae")
    back = sketchfile.load(path).takes[0]
    assert back.feel == song.feel and exported(back) == exported(song)


def test_a_loop_over_a_felt_sketch_leaves_no_note_hanging():
    song = random_song(seed=5, steps_per_beat=12, steps=96, tempo=400.0, density=0.3)
    song = song.with_feel(swing=70, humanize_ms=30, humanize_velocity=30)
    for loop in ((1.0, 3.0), (0.0, 8.0), (2.5, 2.75)):
        sounding = defaultdict(int)
        events = schedule(song, loop=loop)
        assert [t for t, _ in events] == sorted(t for t, _ in events)
        for _, msg in events:
            if msg.type in ("note_on", "note_off"):
                sounding[(msg.channel, msg.note)] += 1 if msg.type == "note_on" else -1
                assert sounding[(msg.channel, msg.note)] in (0, 1)
        assert not any(sounding.values())


def test_continuing_a_sketch_keeps_the_feel_of_what_was_there():
    short = random_song(seed=11, steps=64).with_feel(humanize_ms=20, humanize_velocity=15)
    rng = np.random.default_rng(0)
    probs = np.zeros((len(LANES), 4160, 128), np.float32)
    probs[:, :64] = short.probs
    probs[:, 64:] = (rng.random((len(LANES), 4096, 128)) < 0.01) * 0.9  # past a block of draws, too
    long = Song(probs, 4, 16, threshold=0.4, tempo=short.tempo, settings=dict(short.settings))
    a, b = exported(short), exported(long)
    for ch, notes in a.items():
        early = [n for n in notes if n[2] < 60 * 120]  # ended well before the short sketch's end
        assert early and early == [n for n in b[ch] if n[:2] in {e[:2] for e in early}]
