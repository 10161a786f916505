"""Every line of docs/midi-export.md, checked on real files read back by mido and pretty_midi."""

import os

import mido
import numpy as np
import pretty_midi
import pytest

from musicvae_app.sketch.midi import (
    MidiImportError,
    read_chords,
    read_primer,
    read_roll,
    read_settings,
    write_midi,
    write_stems,
)
from musicvae_app.sketch.song import Song


def hand_song() -> Song:
    """Two chunks at 2 steps per beat: a piano re-strike, a bass line, kick and snare, an out-of-map drum."""
    probs = np.zeros((5, 64, 128), dtype=np.float32)
    probs[0, 0:4, 60] = 0.9  # C4 held 2 beats
    probs[0, 5:7, 60] = 0.5  # re-struck after a gap: a second note
    probs[2, 0:8, 40] = 0.7
    probs[4, 0::4, 36] = 1.0  # kick on beats 1 and 3
    probs[4, 2::4, 38] = 0.8  # snare on 2 and 4
    probs[4, 10, 20] = 1.0  # not a GM drum: never exported
    return Song(probs, steps_per_beat=2, chunk_steps=32, tempo=93.0, settings={"seed": 7, "pack": "hand", "noise": 1.0})


@pytest.fixture
def exported(tmp_path):
    path = write_midi(hand_song(), tmp_path / "take.mid")
    return path, mido.MidiFile(str(path)), pretty_midi.PrettyMIDI(str(path))


def test_type_1_with_conductor_track_and_tempo(exported):
    _, mid, pm = exported
    assert mid.type == 1
    conductor = mid.tracks[0]
    assert not [m for m in conductor if m.type in ("note_on", "note_off")]
    at_zero = []
    tick = 0
    for msg in conductor:
        tick += msg.time
        if tick == 0:
            at_zero.append(msg.type)
    assert "set_tempo" in at_zero and "time_signature" in at_zero
    ts = next(m for m in conductor if m.type == "time_signature")
    assert (ts.numerator, ts.denominator) == (4, 4)
    assert pm.get_tempo_changes()[1][0] == pytest.approx(93.0, abs=0.01)


def test_one_named_track_per_lane_with_program_first(exported):
    _, mid, pm = exported
    names = [next(m.name for m in t if m.type == "track_name") for t in mid.tracks[1:]]
    assert names == ["Piano", "Guitar", "Bass", "Strings", "Drums"]  # guitar and strings are empty: kept
    for track in mid.tracks[1:]:
        kinds = [m.type for m in track if not m.is_meta]
        assert kinds[0] == "program_change" and track[1].time == 0
    assert [i.program for i in pm.instruments if not i.is_drum] == [0, 32]


def test_channels_drums_on_ten_pitched_never(exported):
    _, mid, pm = exported
    channels = [{m.channel for m in t if not m.is_meta} for t in mid.tracks[1:]]
    assert channels == [{0}, {1}, {2}, {3}, {9}]
    drums = [i for i in pm.instruments if i.is_drum]
    assert len(drums) == 1 and drums[0].name == "Drums"


def test_drum_notes_stay_in_the_gm_percussion_map(exported):
    _, _, pm = exported
    drums = next(i for i in pm.instruments if i.is_drum)
    assert {n.pitch for n in drums.notes} == {36, 38}
    assert all(35 <= n.pitch <= 81 for n in drums.notes)


def test_notes_have_velocity_and_real_note_offs_in_order(exported):
    _, mid, _ = exported
    for track in mid.tracks[1:]:
        tick, sounding, last_tick = 0, set(), -1
        events = []
        for msg in track:
            assert msg.time >= 0
            tick += msg.time
            if msg.type == "note_on":
                assert msg.velocity > 0
                sounding.add(msg.note)
            if msg.type == "note_off":
                assert msg.note in sounding
                sounding.discard(msg.note)
            events.append((tick, msg.type))
            assert tick >= last_tick
            last_tick = tick
        assert not sounding
        for (t1, k1), (t2, k2) in zip(events, events[1:]):
            if t1 == t2 and k1 == "note_on":
                assert k2 != "note_off"  # at one tick, offs come before ons


def test_480_ppq_grid_and_bar_line_ends(exported):
    _, mid, _ = exported
    assert mid.ticks_per_beat == 480
    for track in mid.tracks:
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type in ("note_on", "note_off"):
                assert tick % 240 == 0  # on the 8th-note grid of a 2-steps-per-beat song
        assert track[-1].type == "end_of_track"
        assert tick == 64 * 240  # 8 bars of 4/4 at 480 ticks per beat


def test_restruck_note_is_two_notes(exported):
    _, _, pm = exported
    piano = next(i for i in pm.instruments if i.program == 0 and not i.is_drum)
    starts = sorted(n.start for n in piano.notes if n.pitch == 60)
    assert len(starts) == 2


def test_settings_ride_along(exported):
    path, _, _ = exported
    assert read_settings(path) == {"seed": 7, "pack": "hand", "noise": 1.0}


def test_velocity_follows_confidence(exported):
    _, _, pm = exported
    piano = next(i for i in pm.instruments if i.program == 0 and not i.is_drum)
    sure, unsure = sorted(piano.notes, key=lambda n: n.start)
    assert sure.velocity > unsure.velocity > 0


def test_stems_follow_the_same_rules(tmp_path):
    paths = write_stems(hand_song(), tmp_path, "take")
    assert [p.name for p in paths] == ["take-piano.mid", "take-bass.mid", "take-drums.mid"]
    for p in paths:
        mid = mido.MidiFile(str(p))
        assert mid.type == 1 and len(mid.tracks) == 2
        assert any(m.type == "set_tempo" for m in mid.tracks[0])


def test_write_is_atomic_and_leaves_no_temp_files(tmp_path):
    write_midi(hand_song(), tmp_path / "a.mid")
    write_midi(hand_song(), tmp_path / "a.mid")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.mid"]
    with pytest.raises(OSError):
        write_midi(hand_song(), tmp_path / "missing" / "a.mid")


def test_export_reads_back_as_the_same_notes(tmp_path):
    song = hand_song()
    roll, tempo = read_roll(write_midi(song, tmp_path / "r.mid"), 2)
    expected = song.notes().copy()
    expected[4, :, :35] = False
    assert tempo == pytest.approx(93.0, abs=0.01)
    assert np.array_equal(roll[:, :64], expected[:, : roll.shape[1]])


# --- import ----------------------------------------------------------------------------------
def type0_file(path):
    mid = mido.MidiFile(type=0, ticks_per_beat=96)
    track = mido.MidiTrack()
    track.append(mido.Message("program_change", channel=3, program=33, time=0))  # bass on channel 4
    track.append(mido.Message("program_change", channel=5, program=26, time=0))  # guitar
    for beat in range(8):
        track.append(mido.Message("note_on", channel=3, note=40, velocity=90, time=0 if beat == 0 else 48))
        track.append(mido.Message("note_on", channel=9, note=42, velocity=70, time=0))
        track.append(mido.Message("note_on", channel=5, note=64, velocity=70, time=0))
        track.append(mido.Message("note_off", channel=3, note=40, velocity=0, time=48))
        track.append(mido.Message("note_on", channel=9, note=42, velocity=0, time=0))  # note_on vel 0 = off
        track.append(mido.Message("note_off", channel=5, note=64, velocity=0, time=0))
    mid.tracks.append(track)
    mid.save(str(path))
    return path


def test_type0_file_merges_into_lanes_by_program(tmp_path):
    chunk = read_primer(type0_file(tmp_path / "t0.mid"), 2, 32)
    assert chunk.shape == (5, 32, 128)
    assert chunk[2, 0, 40] and chunk[1, 0, 64] and chunk[4, 0, 42]
    assert not chunk[0].any() and not chunk[3].any()
    assert chunk[2, :, 40].sum() == 8  # one step per beat: half-beat notes on an 8th grid


def test_primer_from_a_chosen_bar(tmp_path):
    path = type0_file(tmp_path / "t0.mid")
    assert read_primer(path, 2, 32, bar=2)[2, 0, 40]
    with pytest.raises(MidiImportError, match="bars"):
        read_primer(path, 2, 32, bar=40)


@pytest.mark.parametrize(
    "content,message",
    [
        (bytes(range(256)) * 4, "not a readable MIDI file"),
        (b"", "not a readable MIDI file"),
        (b"Hello, this is a text file\n" * 10, "not a readable MIDI file"),
    ],
)
def test_malformed_primers_raise_midi_import_error(tmp_path, content, message):
    path = tmp_path / "bad.mid"
    path.write_bytes(content)
    with pytest.raises(MidiImportError, match=message):
        read_primer(path, 2, 32)


def test_truncated_and_empty_of_notes_files(tmp_path):
    good = write_midi(hand_song(), tmp_path / "good.mid").read_bytes()
    (tmp_path / "cut.mid").write_bytes(good[: len(good) // 2])
    with pytest.raises(MidiImportError, match="cut.mid"):
        read_primer(tmp_path / "cut.mid", 2, 32)
    silent = mido.MidiFile()
    silent.tracks.append(mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=500000)]))
    silent.save(str(tmp_path / "silent.mid"))
    with pytest.raises(MidiImportError, match="no notes"):
        read_primer(tmp_path / "silent.mid", 2, 32)
    with pytest.raises(MidiImportError, match="does not exist"):
        read_primer(tmp_path / "nope.mid", 2, 32)


# --- drums are hits; tracks keep their places; files follow the umask (issue 12) -----------------
def hats_song(steps_per_beat: int = 4) -> Song:
    """Hats on every 8th for two bars, one extra 16th hat, a kick held over four steps, a held piano note."""
    spb = steps_per_beat
    probs = np.zeros((5, 16 * spb, 128), dtype=np.float32)
    probs[4, 0 : 8 * spb : spb // 2, 42] = 0.9  # closed hat on every 8th of bars 1-2
    if spb >= 4:
        probs[4, spb // 4, 42] = 0.9  # and one 16th (where the grid has 16ths)
    probs[4, 8 * spb : 8 * spb + 4, 36] = 0.8  # four kicks in a row on consecutive steps
    probs[0, 0 : 2 * spb, 60] = 0.9  # a piano note held two beats stays one note
    return Song(probs, steps_per_beat=spb, chunk_steps=16 * spb, threshold=0.5, tempo=120.0)


def note_ons(path) -> dict[tuple[int, int], list[int]]:
    """(channel, note) -> ticks of every sounding note_on, counted by mido straight from the file."""
    out: dict[tuple[int, int], list[int]] = {}
    for track in mido.MidiFile(str(path)).tracks:
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type == "note_on" and msg.velocity > 0:
                out.setdefault((msg.channel, msg.note), []).append(tick)
    return out


@pytest.mark.parametrize("spb", [2, 4])
def test_every_active_drum_step_is_its_own_hit(tmp_path, spb):
    song = hats_song(spb)
    ons = note_ons(write_midi(song, tmp_path / "hats.mid"))
    ticks = 480 // spb
    drum_steps = np.nonzero(song.notes()[4])
    assert len(ons[(9, 42)]) == int(song.notes()[4, :, 42].sum()) == (17 if spb >= 4 else 16)
    assert ons[(9, 42)] == sorted(int(s) * ticks for s in np.flatnonzero(song.notes()[4, :, 42]))
    assert len(ons[(9, 36)]) == 4  # consecutive steps are four kicks, not one long note
    assert sum(len(v) for k, v in ons.items() if k[0] == 9) == len(drum_steps[0])
    assert len(ons[(0, 60)]) == 1  # pitched lanes still hold
    pm = pretty_midi.PrettyMIDI(str(tmp_path / "hats.mid"))
    drums = next(i for i in pm.instruments if i.is_drum)
    lengths = {round(n.end - n.start, 6) for n in drums.notes}
    assert len(lengths) == 1 and lengths.pop() <= 0.25  # one short, fixed length


def test_playback_and_audio_schedule_hit_every_drum_step():
    from musicvae_app.playback.schedule import schedule

    song = hats_song(4)
    ons = [m for _, m in schedule(song) if m.type == "note_on" and m.channel == 9]
    assert len(ons) == int(song.notes()[4].sum())


def test_track_order_is_the_same_whatever_lanes_are_empty(tmp_path):
    song = hats_song(4)
    full = song.copy()
    full.probs[1:4, 0:4, 50] = 0.9
    names = []
    for s in (song, full):
        mid = mido.MidiFile(str(write_midi(s, tmp_path / "t.mid")))
        names.append([next(m.name for m in t if m.type == "track_name") for t in mid.tracks[1:]])
        channels = [{m.channel for m in t if not m.is_meta} for t in mid.tracks[1:]]
        assert channels == [{0}, {1}, {2}, {3}, {9}]
    assert names[0] == names[1] == ["Piano", "Guitar", "Bass", "Strings", "Drums"]
    muted = mido.MidiFile(str(write_midi(full, tmp_path / "m.mid", [4, 0, 2])))
    assert [next(m.name for m in t if m.type == "track_name") for t in muted.tracks[1:]] == ["Piano", "Bass", "Drums"]


def test_exports_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        mode = write_midi(hand_song(), tmp_path / "a.mid").stat().st_mode & 0o777
        stems = write_stems(hand_song(), tmp_path / "stems")
        os.umask(0o027)
        group = write_midi(hand_song(), tmp_path / "b.mid").stat().st_mode & 0o777
    finally:
        os.umask(old)
    assert mode == 0o644 and {p.stat().st_mode & 0o777 for p in stems} == {0o644}
    assert group == 0o640


# --- chords ride as markers on the conductor track (issue 20) -------------------------------------
def charted_song() -> Song:
    """Eight bars at 4 steps per beat with a chord chart: a held chord, a bar without one, a slash chord."""
    probs = np.zeros((5, 128, 128), dtype=np.float32)
    probs[2, ::8, 45] = 0.9
    chords = ["Am", "Am", "F", None, "C/E", "Amin7", "G"]  # "Amin7" is Am7 spelled another way; bar 8 unknown
    return Song(probs, steps_per_beat=4, chunk_steps=64, threshold=0.5, chords=chords)


def markers_of(track) -> list[tuple[int, str]]:
    """(absolute tick, text) of each marker in a mido track."""
    out, tick = [], 0
    for msg in track:
        tick += msg.time
        if msg.type == "marker":
            out.append((tick, msg.text))
    return out


def test_chord_changes_are_markers_on_bar_lines_of_the_conductor_track(tmp_path):
    mid = mido.MidiFile(str(write_midi(charted_song(), tmp_path / "chart.mid")))
    bar = 4 * 480
    assert markers_of(mid.tracks[0]) == [
        (0, "Am"),  # bar 2 holds Am: no second marker
        (2 * bar, "F"),
        (3 * bar, "N.C."),
        (4 * bar, "C/E"),
        (5 * bar, "Am7"),
        (6 * bar, "G"),
    ]
    assert not any(markers_of(track) for track in mid.tracks[1:])


def test_chords_read_back_from_the_markers(tmp_path):
    path = write_midi(charted_song(), tmp_path / "chart.mid")
    assert read_chords(path, 4) == ["Am", "Am", "F", None, "C/E", "Am7", "G", "G"]  # G holds to the end
    assert read_chords(path, 2) == read_chords(path, 4)
    assert read_roll(path, 4)[0][2, ::8, 45].all()  # the notes read as they did


def test_a_take_without_chords_writes_no_markers_and_reads_none(tmp_path):
    path = write_midi(hand_song(), tmp_path / "plain.mid")
    assert not markers_of(mido.MidiFile(str(path)).tracks[0])
    assert read_chords(path, 2) == []


def test_a_symbol_no_reader_knows_is_left_out_of_the_export(tmp_path):
    song = charted_song().with_chords(["Am", "Hm7", "Am", "Cmaj7"])
    path = write_midi(song, tmp_path / "odd.mid")
    assert [text for _, text in markers_of(mido.MidiFile(str(path)).tracks[0])] == ["Am", "Cmaj7"]


def test_stems_carry_the_chords_too(tmp_path):
    for path in write_stems(charted_song(), tmp_path, "take"):
        assert read_chords(path, 4)[:3] == ["Am", "Am", "F"]


def daw_file(path, events, bars: int = 4):
    """A type-1 file as a DAW writes it: meta events (tick, type, text) on the first track, a bass note a bar."""
    mid = mido.MidiFile(type=1, ticks_per_beat=96)
    meta, last = mido.MidiTrack(), 0
    for tick, kind, text in sorted(events, key=lambda e: e[0]):
        meta.append(mido.MetaMessage(kind, text=text, time=tick - last))
        last = tick
    meta.append(mido.MetaMessage("end_of_track", time=bars * 384 - last))
    notes = mido.MidiTrack([mido.Message("program_change", channel=2, program=33, time=0)])
    for _ in range(bars):
        notes.append(mido.Message("note_on", channel=2, note=40, velocity=90, time=0))
        notes.append(mido.Message("note_off", channel=2, note=40, velocity=0, time=384))
    mid.tracks.extend([meta, notes])
    mid.save(str(path))
    return path


def test_only_markers_that_name_chords_count(tmp_path):
    path = daw_file(
        tmp_path / "daw.mid",
        [
            (0, "marker", "Verse"),  # a section name, not a chord
            (0, "marker", "Dm7"),
            (384, "text", "G7"),  # text and lyrics are not chord markers
            (384, "lyrics", "C"),
            (768, "marker", " Bbmaj7 "),
            (1152, "marker", "Chorus"),
        ],
    )
    assert read_chords(path, 4) == ["Dm7", "Dm7", "Bbmaj7", "Bbmaj7"]


def test_a_marker_counts_on_its_beat(tmp_path):
    """Issue 33: a chord named inside a bar changes the chord there (C for two beats, then G), not the bar."""
    path = daw_file(
        tmp_path / "changes.mid",
        [
            (0, "marker", "C"),
            (192, "marker", "G"),  # beat 3 of bar 1: the bar's second half, and on into bar 2
            (767, "marker", "F"),  # a tick before bar 3's line: snaps onto it on the grid
            (1536, "marker", "E7"),  # the file's last bar line: no bar left to name
        ],
    )
    assert read_chords(path, 4) == ["C G", "G", "F", "F"]


def test_chords_inside_bars_are_markers_on_their_beats_and_read_back(tmp_path):
    """Issue 33: two chords a bar, a chord a beat and N.C. inside a bar ride as markers on their beats."""
    song = charted_song().with_chords(["C Am", "F G", "C . . G", "Dm N.C.", None, "G7/B"])
    path = write_midi(song, tmp_path / "beats.mid")
    beat = 480
    assert markers_of(mido.MidiFile(str(path)).tracks[0]) == [
        (0, "C"),
        (2 * beat, "Am"),
        (4 * beat, "F"),
        (6 * beat, "G"),
        (8 * beat, "C"),
        (11 * beat, "G"),
        (12 * beat, "Dm"),
        (14 * beat, "N.C."),
        (20 * beat, "G7/B"),
    ]
    assert read_chords(path, 4) == ["C Am", "F G", "C . . G", "Dm N.C.", None, "G7/B", "G7/B", "G7/B"]
    assert read_chords(path, 2) == read_chords(path, 4)


def test_a_file_of_section_markers_only_has_no_chords(tmp_path):
    path = daw_file(tmp_path / "sections.mid", [(0, "marker", "Intro"), (768, "marker", "Bridge")])
    assert read_chords(path, 4) == []
    with pytest.raises(MidiImportError, match="does not exist"):
        read_chords(tmp_path / "nope.mid", 4)


def test_section_names_in_any_language_are_written_as_utf8_and_read_back(tmp_path):
    """Issue 32: a section named in Russian or with an emoji broke every export (mido's Latin-1 default)."""
    from musicvae_app.sketch.midi import read_notes, write_stems
    from musicvae_app.theory.sections import Section

    song = hand_song()
    song.sections = [Section("Вступление", 1, 2), Section("🎸 solo", 3, 2)]
    path = write_midi(song, tmp_path / "take.mid")
    assert "Вступление".encode() in path.read_bytes()  # UTF-8 in the file, as DAWs read markers today
    texts = [text for _, text in read_notes(path).markers]
    assert "Вступление" in texts and "🎸 solo" in texts
    mine = [m.text for t in mido.MidiFile(str(path), charset="utf-8").tracks for m in t if m.type == "marker"]
    assert "Вступление" in mine  # an independent parser agrees
    assert read_chords(path, 4) == []  # section names never read as chords
    assert len(write_stems(song, tmp_path / "stems")) >= 1
