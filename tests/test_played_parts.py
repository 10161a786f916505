"""Your part exactly as you played it (issue 33, item 2): a followed or recorded part keeps its notes as events
(ticks off the grid, velocities, re-struck notes, overlapping voices) through the export (.mid, stems, the
drag-out's file), the sketch file, playback, the CLI, and quantize, which is the musician's later choice.

Every file is read back with mido (an independent parser) and compared note by note: exact ticks and velocities.
"""

from __future__ import annotations

import mido
import numpy as np
import pytest

from band_files import read_back, timed_track
from musicvae_app.errors import InvalidValue
from musicvae_app.playback.recorder import PlayedNote, Recording, write_recording
from musicvae_app.playback.schedule import schedule
from musicvae_app.sketch import sketchfile
from musicvae_app.sketch.session import Session
from musicvae_app.sketch.song import LANES
from musicvae_app.theory.performance import Performance, check_quantize

PIANO, GUITAR, BASS = (LANES.index(n) for n in ("piano", "guitar", "bass"))
TPB = 480
CHANNELS = {PIANO: 0, GUITAR: 1, BASS: 2}
PROGRAMS = {PIANO: 0, GUITAR: 25, BASS: 33}


def played_part() -> dict[int, list[tuple[int, int, int, int]]]:
    """(pitch, start tick, end tick, velocity) per lane: four bars a real player might give.

    piano: legato chords (each held into the next, one voice shared and struck again while still held),
    dynamics from pp to ff; guitar: repeated 16ths on one pitch, each held to the next strike, accents;
    bass: swung 8ths (2:1) and notes off the grid (a few ticks early and late).
    """
    piano = []
    chords = [(60, 64, 67), (60, 65, 69), (59, 62, 67), (60, 64, 67)]
    for bar, chord in enumerate(chords):
        start = bar * 4 * TPB
        end = start + 4 * TPB + (12 if bar < 3 else -40)  # held into the next chord; the last one before the end
        for i, pitch in enumerate(chord):  # legato: overlapping voices
            piano.append((pitch, start + i * 3, end, 30 + 25 * bar + i))
    guitar = []
    for k in range(16):  # a bar of 16ths on E, each held until the next strike
        guitar.append((52, 4 * TPB + k * 120, 4 * TPB + (k + 1) * 120, 127 if k % 4 == 0 else 64 + k))
    bass = []
    for beat in range(8):  # swung 8ths: on the beat, then two thirds into it
        on = 8 * TPB + beat * TPB
        bass.append((36 + beat % 3, on + (beat % 2) * 7 - 3 * (beat % 3 == 2), on + 300, 70 + beat * 6))
        bass.append((43, on + 320, on + 470, 45 + beat))
    bass.append((40, 12 * TPB + 251, 12 * TPB + 1333, 99))  # one note well off the grid
    return {
        PIANO: sorted(piano, key=lambda n: (n[1], n[0])),
        GUITAR: guitar,
        BASS: sorted(bass, key=lambda n: (n[1], n[0])),
    }


def write_part(path, part, tempo: float = 100.0, tpb: int = TPB):
    mid = mido.MidiFile(type=1, ticks_per_beat=tpb)
    mid.tracks.append(mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(tempo))]))
    for lane, notes in part.items():
        ch, scale = CHANNELS[lane], tpb / TPB
        events = [(0, 0, mido.Message("program_change", channel=ch, program=PROGRAMS[lane]))]
        for pitch, on, off, vel in notes:
            events.append((round(on * scale), 2, mido.Message("note_on", channel=ch, note=pitch, velocity=vel)))
            events.append((round(off * scale), 1, mido.Message("note_off", channel=ch, note=pitch, velocity=0)))
        mid.tracks.append(timed_track(events))
    mid.save(str(path))
    return path


@pytest.fixture
def followed(engine, tmp_path):
    session = Session(engine)
    path = write_part(tmp_path / "my-part.mid", played_part())
    assert session.follow_part(path)
    assert session.generate()
    return session


def test_a_followed_part_exports_note_for_note(followed, tmp_path):
    part, song = played_part(), followed.song
    assert sorted(followed.part_lanes()) == [PIANO, GUITAR, BASS] == song.played_lanes()
    out = followed.export_midi(tmp_path / "out.mid")
    got = read_back(out)
    for lane, notes in part.items():
        assert got[CHANNELS[lane]] == notes, LANES[lane]
    # the model still sees its grid (8ths in the test pack), where the re-struck 16ths run together
    assert song.n_bars == 4 and song.note_counts()["guitar"] < len(part[GUITAR])
    # stems: the part's lanes as played, each in its own file
    stems = {p.stem.rsplit("-", 1)[1]: p for p in followed.export_stems(tmp_path / "stems")}
    for lane, notes in part.items():
        assert read_back(stems[LANES[lane]])[CHANNELS[lane]] == notes


def test_what_counts_is_kept_dynamics_repeats_legato_off_grid(followed, tmp_path):
    """The four things the grid loses, named one by one in the exported file."""
    got = read_back(followed.export_midi(tmp_path / "out.mid"))
    piano, guitar, bass = got[0], got[1], got[2]
    assert sorted({v for *_, v in piano}) == sorted({30 + 25 * b + i for b in range(4) for i in range(3)})  # dynamics
    e_strikes = [n for n in guitar if n[0] == 52]
    assert len(e_strikes) == 16 and all(b[1] - a[1] == 120 for a, b in zip(e_strikes, e_strikes[1:]))  # repeats
    c4 = [n for n in piano if n[0] == 60]
    assert len(c4) == 3 and c4[0][2] > c4[1][1]  # the shared voice struck again while still held: legato
    assert any(n[1] % 120 for n in bass) and (40, 12 * TPB + 251, 12 * TPB + 1333, 99) in bass  # off the grid


def test_the_sketch_file_keeps_the_part_and_older_files_still_load(followed, engine, tmp_path):
    path = tmp_path / "s.mvsketch"
    followed.save(path)
    again = Session.open(path, engine)
    assert again.song.performance == followed.song.performance
    got = read_back(again.export_midi(tmp_path / "again.mid"))
    for lane, notes in played_part().items():
        assert got[CHANNELS[lane]] == notes
    # a sketch written before parts were kept (no played notes): loads, its grid notes export as before
    sketch = sketchfile.load(path)
    sketch.takes = [t.__class__(**{**t.__dict__, "performance": None}) for t in sketch.takes]
    old = sketchfile.save(sketch, tmp_path / "old.mvsketch")
    assert sketchfile.load(old).song.performance is None
    # a damaged one is refused naming the take, never a traceback
    import zipfile

    bad = tmp_path / "bad.mvsketch"
    with zipfile.ZipFile(path) as z, zipfile.ZipFile(bad, "w") as out:
        for item in z.infolist():
            data = z.read(item)
            out.writestr(item, b'{"notes": [[0, 60, 10, 5, 90]]}' if item.filename.endswith("played.json") else data)
    with pytest.raises(sketchfile.SketchError, match="take 1 played notes"):
        sketchfile.load(bad)


def test_playback_plays_the_part_as_played(followed):
    song = followed.song
    events = schedule(song)
    tick = 60.0 / song.tempo / TPB
    ons = sorted(
        (round(t / tick), m.note, m.velocity) for t, m in events if m.type == "note_on" and m.channel == CHANNELS[BASS]
    )
    assert ons == sorted((on, p, v) for p, on, _, v in played_part()[BASS])


@pytest.mark.parametrize("grid,step", [("16th", 120), ("8th", 240), ("8th triplet", 160)])
def test_quantize_is_a_later_choice_one_undo_step_and_can_be_changed_again(followed, tmp_path, grid, step):
    part = played_part()
    followed.set_quantize(grid)
    assert followed.history.undo_text == f"Quantize {grid}"
    got = read_back(followed.export_midi(tmp_path / "q.mid"))
    for lane, notes in part.items():
        q = got[CHANNELS[lane]]
        assert len(q) == len(notes) and all(n[1] % step == 0 for n in q)  # every start on the grid
        assert sorted(n[3] for n in q) == sorted(n[3] for n in notes)  # velocities untouched
    played_starts = {(p, round(s / step) * step) for p, s, _, _ in part[BASS]}
    assert {(p, s) for p, s, _, _ in got[CHANNELS[BASS]]} == played_starts
    followed.set_quantize("8th" if grid != "8th" else "16th")  # changed again, from the notes as played
    followed.undo()
    assert followed.song.performance.quantize == grid
    followed.undo()  # back to as played, exactly
    got = read_back(followed.export_midi(tmp_path / "off.mid"))
    assert all(got[CHANNELS[lane]] == notes for lane, notes in part.items())
    assert followed.quantize == "off"


def test_quantize_survives_generate_and_a_bad_grid_is_refused(followed):
    followed.set_quantize("16th")
    assert followed.generate() and followed.song.performance.quantize == "16th"
    before = followed.song
    with pytest.raises(InvalidValue, match="quantize must be one of off, 16th, 8th, 8th triplet"):
        followed.set_quantize("32nd")
    assert followed.song is before and check_quantize("8t") == "8th triplet"


def test_transpose_and_continue_keep_the_part(followed, engine, tmp_path):
    followed.transpose(2)
    got = read_back(followed.export_midi(tmp_path / "up.mid"))
    assert got[CHANNELS[BASS]] == [(p + 2, s, e, v) for p, s, e, v in played_part()[BASS]]
    followed.transpose(-2)
    longer = engine.continue_song(followed.song, 1, seed=3)
    assert longer.n_steps > followed.song.n_steps
    path = tmp_path / "long.mid"
    from musicvae_app.sketch.midi import write_midi

    got = read_back(write_midi(longer, path))
    end = followed.song.n_steps * TPB // followed.song.steps_per_beat
    assert [n for n in got[CHANNELS[BASS]] if n[1] < end] == played_part()[BASS]  # the part as played, then the band


def test_a_regenerated_lane_is_no_longer_the_part(followed, engine):
    new = engine.regenerate_lane(followed.song, "guitar", seed=5)
    assert GUITAR not in new.played_lanes() and PIANO in new.played_lanes()


def test_a_recording_is_written_and_followed_as_played(engine, tmp_path):
    tempo = 120.0
    beat = 60.0 / tempo
    played = [
        PlayedNote(60, 101, -0.01, 0.4),  # a hair before the downbeat: starts on it
        PlayedNote(64, 37, 0.013, 0.52),  # late and soft, overlapping the first
        PlayedNote(62, 90, beat * 1.5 + 0.021, beat * 1.75),
        PlayedNote(62, 91, beat * 1.75, beat * 2.0),  # the same pitch again a 16th later
        PlayedNote(67, 80, -beat, -beat + 0.1),  # in the count-in: not part of the take
    ]
    rec = Recording(PIANO, tempo, played)
    path = write_recording(rec, tmp_path)
    got = read_back(path)[0]
    ticks = tempo / 60.0 * TPB
    want = sorted(
        [(n.pitch, max(round(n.start * ticks), 0), round(n.end * ticks), n.velocity) for n in played[:4]],
        key=lambda n: (n[1], n[0]),
    )
    assert got == want
    session = Session(engine)
    session.update_settings(steps=1)
    assert session.follow_recording(rec, tmp_path / "rec") is not None
    out = read_back(session.export_midi(tmp_path / "band.mid"))
    assert out[0] == want


def test_performance_checks_its_notes():
    with pytest.raises(InvalidValue, match="velocity"):
        Performance(np.array([[0, 60, 0, 10, 0]]))
    with pytest.raises(InvalidValue, match="end after"):
        Performance(np.array([[0, 60, 10, 10, 9]]))
    p = Performance(np.array([[0, 60, 5, 100, 90], [0, 60, 50, 130, 91]]), "16th")
    q = p.played()  # both strikes land on tick 0 or 120: kept apart, never overlapping
    assert q[:, 2].tolist() == [0, 120] and q[0, 3] <= q[1, 2]


def test_the_cli_follows_as_played_and_quantizes_when_asked(tiny_pack, tmp_path, capsys):
    from musicvae_app.cli import main

    part = write_part(tmp_path / "part.mid", played_part(), tpb=960)  # a DAW's 960 ticks a beat
    base = ["generate", "--pack", str(tiny_pack), "--follow", str(part), "--seed", "4"]
    assert main([*base, "--out", str(tmp_path / "as-played.mid")]) == 0
    got = read_back(tmp_path / "as-played.mid")
    assert all(got[CHANNELS[lane]] == notes for lane, notes in played_part().items())
    assert main([*base, "--quantize", "8th", "--out", str(tmp_path / "q.mid")]) == 0
    bass = read_back(tmp_path / "q.mid")[CHANNELS[BASS]]
    assert all(s % 240 == 0 for _, s, _, _ in bass)
    assert sorted(v for *_, v in bass) == sorted(v for *_, v in played_part()[BASS])
    capsys.readouterr()
    for extra, said in (
        (["--quantize", "32nd"], "quantize must be one of off, 16th, 8th, 8th triplet, got '32nd'"),
        (["--quantize", "8th", "--follow", ""], "give --follow PART.mid too"),
    ):
        args = [a for a in base if a not in ("--follow", str(part))] if "--follow" in extra else base
        extra = [x for x in extra if x not in ("--follow", "")]
        assert main([*args, *extra, "--out", str(tmp_path / "x.mid")]) == 2
        assert said in capsys.readouterr().err


def test_bars_edited_in_the_roll_play_as_edited_the_rest_as_played(followed, tmp_path):
    from musicvae_app.sketch.pins import with_pins

    song = followed.song
    spb, bar = song.steps_per_beat, song.steps_per_bar
    edited = with_pins(song, BASS, [2], [(45, 2 * bar, 2 * bar + spb, 77)])  # bar 3 of the bass: one note, placed
    followed.replace_take(edited, "Edit notes")
    got = read_back(followed.export_midi(tmp_path / "edited.mid"))[CHANNELS[BASS]]
    bar_ticks = 4 * TPB
    assert [n for n in got if 2 * bar_ticks <= n[1] < 3 * bar_ticks] == [(45, 2 * bar_ticks, 2 * bar_ticks + TPB, 77)]
    assert [n for n in got if not 2 * bar_ticks <= n[1] < 3 * bar_ticks] == [
        n for n in played_part()[BASS] if not 2 * bar_ticks <= n[1] < 3 * bar_ticks
    ]
