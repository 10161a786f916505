"""The harmony rows of `musicvae evaluate` (evaluation/harmony.py): songs in POP909's layout written here, the
shipped harmony model and the tiny pack's engine, takes exported and read back."""

from __future__ import annotations

import math
from types import SimpleNamespace

import mido
import numpy as np
import pytest

from musicvae_app.cli import main
from musicvae_app.evaluation import harmony as hv
from musicvae_app.theory.chords import parse_chord

PROGRESSION = [("C", 0, (0, 4, 7)), ("A", "min", (9, 0, 4)), ("F", 0, (5, 9, 0)), ("G", 0, (7, 11, 2))]
SECONDS_PER_BEAT = 0.5


def write_pop909_song(folder, song_id: int, bars: int = 8) -> None:
    """A POP909-style song folder: NNN.mid (MELODY, PIANO), beat_midi.txt, chord_midi.txt, key_audio.txt."""
    path = folder / f"{song_id:03d}"
    path.mkdir(parents=True)
    tpb = 480
    mid = mido.MidiFile(ticks_per_beat=tpb)
    tempo = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=int(SECONDS_PER_BEAT * 1e6))])
    mid.tracks.append(tempo)
    melody, piano = [], []
    for bar in range(bars):
        _, _, tones = PROGRESSION[bar % 4]
        for beat in range(4):
            melody.append((72 + tones[beat % 3], 4 * bar + beat, 4 * bar + beat + 1))
        piano += [(48 + t, 4 * bar, 4 * bar + 4) for t in tones]
    for name, notes in (("MELODY", melody), ("PIANO", piano)):
        events = []
        for pitch, start, end in notes:
            events += [(start * tpb, 1, pitch), (end * tpb, 0, pitch)]
        track = mido.MidiTrack([mido.MetaMessage("track_name", name=name)])
        now = 0
        for tick, on, pitch in sorted(events, key=lambda e: (e[0], e[1])):
            track.append(mido.Message("note_on", note=pitch, velocity=80 if on else 0, time=int(tick - now)))
            now = tick
        mid.tracks.append(track)
    mid.save(path / f"{song_id:03d}.mid")
    beats = [f"{b * SECONDS_PER_BEAT} 1.0 {1.0 if b % 4 == 0 else 0.0}" for b in range(4 * bars + 1)]
    (path / "beat_midi.txt").write_text("\n".join(beats) + "\n")
    chords = []
    for bar in range(bars):
        root, quality, _ = PROGRESSION[bar % 4]
        label = f"{root}:{'min' if quality == 'min' else 'maj'}"
        chords.append(f"{4 * bar * SECONDS_PER_BEAT}\t{4 * (bar + 1) * SECONDS_PER_BEAT}\t{label}")
    (path / "chord_midi.txt").write_text("\n".join(chords) + "\n")
    (path / "key_audio.txt").write_text(f"0.0\t{4 * bars * SECONDS_PER_BEAT}\tC:maj\n")


@pytest.fixture
def pop909(tmp_path):
    """Two validation songs (id % 5 == 0) and one training song, which the rows must leave out."""
    root = tmp_path / "pop909"
    for song_id in (5, 10, 7):
        write_pop909_song(root, song_id)
    return root


def test_validation_songs_only_and_model_rows_hear_the_progression(pop909):
    songs = hv.pop909_validation(pop909)
    assert [s.song_id for s in songs] == [5, 10]
    rows = hv.model_rows(songs)
    assert set(rows) == {"melody", "piano", "bass"}
    assert rows["piano"] >= 75.0  # C Am F G held as triads is plain to hear
    assert all(0.0 <= v <= 100.0 for v in rows.values())


def test_bass_root_and_family_counts():
    bass = np.zeros((3 * 16, 128), dtype=bool)
    bass[0:8, 36] = True  # bar 1: C on beat 1
    bass[16 + 4 : 16 + 8, 45] = True  # bar 2: plays, but only from beat 2 (a miss)
    roots = [0, 9, 5]  # bar 3: the bass rests (not counted)
    assert hv.bass_root_hits(bass, roots) == (1, 2)
    ours = [parse_chord("C7"), parse_chord("A"), None]
    ref = [parse_chord("C"), parse_chord("Am7"), parse_chord("F")]
    assert hv.family_hits(ours, ref) == (1, 3)  # C7 ~ C; A is not Am7; silence is a miss
    assert hv.family_of(parse_chord("Gsus4")) == (7, 0) and hv.family_of(parse_chord("Bdim")) == (11, 1)


def test_melody_followed_by_the_engine_is_measured(engine, pop909):
    songs = hv.pop909_validation(pop909)
    rows = hv.melody_follow(engine, songs, seed=1)
    assert rows["songs"] == 2 and rows["bars"] == 16  # 8 annotated bars each, every one with a chord
    for name in ("bass_root", "band_chords", "chart_chords", "bass_silent", "band_halves", "chart_halves"):
        assert math.isnan(rows[name]) or 0.0 <= rows[name] <= 100.0
    assert rows["chart_chords"] >= 50.0  # the harmony model reads the arpeggiated C Am F G
    assert rows["chart_halves"] >= 50.0


def test_a_charts_half_bars_are_its_chords_on_beats_one_and_three():
    take = SimpleNamespace(chords=["C Am", "F", "G . . D7", None])
    names = [None if c is None else c.symbol for c in hv._chart(take, 4, halves=True)]
    assert names == ["C", "Am", "F", "F", "G", "G", None, None]
    assert [None if c is None else c.symbol for c in hv._chart(take, 3)] == ["C", "F", "G"]
    bars = SimpleNamespace(chords=[parse_chord("C"), None])  # a chord a bar, as Chords
    assert [None if c is None else c.symbol for c in hv._chart(bars, 2, halves=True)] == ["C", "C", None, None]


def test_evaluate_prints_harmony_rows_or_says_why_not(engine, pop909, tmp_path, capsys):
    skipped = hv.harmony_section(engine, tmp_path / "nowhere", [], 2, 0)
    assert "not a folder" in skipped["skipped"]
    assert hv.format_harmony(skipped).startswith("harmony: skipped (")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no POP909 song folders" in hv.harmony_section(engine, empty, [], 2, 0)["skipped"]
    section = hv.harmony_section(engine, pop909, [], 2, 0)
    text = hv.format_harmony(section)
    for words in ("melody alone", "piano comp alone", "a bass line", "bass root on beat 1", "band's chords"):
        assert words in text


def test_cli_evaluate_prints_harmony_rows_and_skips_them_without_data(tiny_pack, pop909, tmp_path, capsys):
    import json
    import shutil

    from test_evaluate import write_band_song

    from musicvae_app.model.pack import CARD

    pack = shutil.copytree(tiny_pack, tmp_path / "pack")
    card = json.loads((pack / CARD).read_text())
    card["training"] = {"config": {"validation_percent": 100, "genres": []}}
    (pack / CARD).write_text(json.dumps(card))
    data = tmp_path / "data" / "rock"
    data.mkdir(parents=True)
    for i in range(2):
        write_band_song(data / f"song{i}.mid", chunks=10, transpose=i)
    argv = ["evaluate", "--pack", str(pack), "--data", str(tmp_path / "data"), "--songs", "2", "--steps", "2"]
    argv += ["--random", "0", "--device", "cpu", "--json", str(tmp_path / "e.json")]
    assert main(argv) == 0
    assert "harmony: skipped (no --harmony-data DIR given" in capsys.readouterr().out
    assert main([*argv, "--harmony-data", str(pop909), "--harmony-songs", "2"]) == 0
    text = capsys.readouterr().out
    assert "harmony model on 2 POP909 validation songs" in text
    assert "band over a followed real comp (2 windows" in text  # the band songs' piano parts
    result = json.loads((tmp_path / "e.json").read_text())
    assert result["harmony"]["melody_follow"]["bars"] == 16
    assert "--harmony-data" in result["command"]
