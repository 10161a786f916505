"""Lead sheets (sketch/leadsheet.py, `musicvae leadsheet`): MusicXML written through music21 and read back
independently with xml.etree (the <harmony> chord symbols, <rehearsal> marks, <key>, the tune's notes), and
imported by a real MuseScore where one is installed."""

from __future__ import annotations

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from musicvae_app.errors import InvalidValue
from musicvae_app.sketch.leadsheet import lead_sheet_of_song, skyline, write_lead_sheet
from musicvae_app.sketch.midi import write_midi
from musicvae_app.sketch.song import LANES, Song
from musicvae_app.theory.sections import Section

PIANO, BASS = LANES.index("piano"), LANES.index("bass")
LETTERS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def tune_song() -> Song:
    """Four bars in A minor at 96 BPM: a tune on the bass lane (as the musician's part), chords on the piano."""
    probs = np.zeros((5, 64, 128), np.float32)
    probs[BASS, 0:4, 57] = 1.0  # A3 a beat
    probs[BASS, 4:6, 60] = 1.0  # C4 an 8th
    probs[BASS, 6:20, 64] = 1.0  # E4 over the bar line: tied
    probs[BASS, 24:28, 62] = 1.0  # D4
    probs[BASS, 40:44, 69] = 1.0  # A4 in bar 3
    probs[PIANO, :, [45, 48, 52]] = 1.0  # a low chord under it all: not the tune
    return Song(
        probs=probs,
        steps_per_beat=4,
        chunk_steps=64,
        tempo=96.0,
        chords=["Am7", "Bbmaj7", "F#m7b5/C", None],
        sections=[Section("verse", 1, 2), Section("chorus", 3, 2)],
        settings={"key": "A minor", "part_lanes": "bass"},
    )


def parse(path):
    """What a notation program reads: harmony (root, alter, kind, bass), rehearsal marks, key, notes, tempo."""
    root = ET.parse(path).getroot()
    harmonies = []
    for h in root.iter("harmony"):
        kind = h.find("kind")
        step = h.findtext("root/root-step")
        alter = h.findtext("root/root-alter")
        bass = h.findtext("bass/bass-step")
        harmonies.append((step, float(alter or 0), kind.text, kind.get("text"), bass))
    notes = []
    for n in root.iter("note"):
        if n.find("rest") is not None:
            continue
        step, alter = n.findtext("pitch/step"), float(n.findtext("pitch/alter") or 0)
        midi = (int(n.findtext("pitch/octave")) + 1) * 12 + LETTERS[step] + int(alter)
        ties = [t.get("type") for t in n.findall("tie")]
        notes.append((midi, ties))
    return dict(
        harmony=harmonies,
        rehearsal=[r.text for r in root.iter("rehearsal")],
        fifths=root.findtext(".//key/fifths"),
        mode=root.findtext(".//key/mode"),
        notes=notes,
        tempo=root.findtext(".//per-minute"),
        measures=len(root.findall(".//part/measure")),
    )


def test_a_sketch_becomes_a_lead_sheet_with_chord_symbols_sections_key_and_the_tune(tmp_path):
    path = write_lead_sheet(lead_sheet_of_song(tune_song(), "bass", "Test"), tmp_path / "sheet.musicxml")
    got = parse(path)
    assert got["harmony"] == [
        ("A", 0.0, "minor-seventh", "m7", None),
        ("B", -1.0, "major-seventh", "maj7", None),
        ("F", 1.0, "half-diminished", "m7b5", "C"),
        ("C", 0.0, "none", "N.C.", None),  # the fourth bar has no chord: N.C.
    ]
    assert got["rehearsal"] == ["Verse", "Chorus"]
    assert (got["fifths"], got["mode"]) == ("0", "minor")
    assert got["tempo"] == "96"
    assert got["measures"] == 4
    pitches = [p for p, _ in got["notes"]]
    assert pitches == [57, 60, 64, 64, 64, 62, 69]  # the tune only, E4 written as tied pieces
    ties = [t for p, t in got["notes"] if p == 64]
    assert ties[0] == ["start"] and "stop" in ties[-1]


def test_skyline_keeps_the_top_line_and_repeated_notes():
    assert skyline([(60, 0, 8), (64, 2, 4), (60, 8, 10)], 12) == [(60, 0, 2), (64, 2, 4), (60, 4, 8), (60, 8, 10)]


def test_the_command_reads_a_sketch_midi_and_takes_the_part_or_a_lane(tmp_path):
    midi = write_midi(tune_song(), tmp_path / "song.mid")
    out = tmp_path / "song.musicxml"
    run = [sys.executable, "-m", "musicvae_app.cli", "leadsheet", str(midi), "--out", str(out)]
    result = subprocess.run(run, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    got = parse(out)
    assert [p for p, _ in got["notes"]] == [57, 60, 64, 64, 64, 62, 69]  # the part (bass) as the tune
    assert [h[:3] for h in got["harmony"]] == [
        ("A", 0.0, "minor-seventh"),
        ("B", -1.0, "major-seventh"),
        ("F", 1.0, "half-diminished"),
        ("C", 0.0, "none"),
    ]
    assert got["rehearsal"] == ["Verse", "Chorus"] and got["mode"] == "minor"
    piano = subprocess.run(run + ["--lane", "piano"], capture_output=True, text=True)
    assert piano.returncode == 0, piano.stderr
    assert {p for p, _ in parse(out)["notes"]} == {52}  # the top of the piano's chord
    drums = subprocess.run(run + ["--lane", "drums"], capture_output=True, text=True)
    assert drums.returncode == 2 and "drums carry no tune" in drums.stderr


def test_no_part_and_no_lane_is_refused_in_words(tmp_path):
    song = tune_song()
    song.settings = song.settings.without("part_lanes")
    midi = write_midi(song, tmp_path / "band.mid")
    from musicvae_app.sketch.leadsheet import lead_sheet_of_midi

    with pytest.raises(InvalidValue, match="no part of yours"):
        lead_sheet_of_midi(midi)


MUSESCORE = next((shutil.which(n) for n in ("mscore3", "musescore3", "mscore", "musescore") if shutil.which(n)), None)


@pytest.mark.skipif(
    MUSESCORE is None,
    reason="MuseScore is not installed (apt-get install musescore3; `make setup` as root installs it)",
)
def test_musescore_imports_the_chord_symbols_as_chord_symbols(tmp_path):
    path = write_lead_sheet(lead_sheet_of_song(tune_song(), "bass", "Test"), tmp_path / "sheet.musicxml")
    again = tmp_path / "again.musicxml"
    result = subprocess.run(
        [MUSESCORE, "-o", str(again), str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={"QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    got = parse(again)  # MuseScore wrote them back as <harmony>: it read chord symbols, not text
    assert [h[:3] for h in got["harmony"]][:3] == [
        ("A", 0.0, "minor-seventh"),
        ("B", -1.0, "major-seventh"),
        ("F", 1.0, "half-diminished"),
    ]
    assert got["rehearsal"] == ["Verse", "Chorus"]
    # In MuseScore's own file they are Harmony elements (its chord symbols), not staff text: root as a tonal
    # pitch class (C = 14, G = 15 ... F = 13, Bb = 12), the kind as its name, the slash bass as <base>.
    own = tmp_path / "sheet.mscx"
    result = subprocess.run(
        [MUSESCORE, "-o", str(own), str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={"QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert "no instrument found" not in result.stdout + result.stderr  # the part has its instrument
    harmonies = [
        (h.findtext("root"), h.findtext("name"), h.findtext("base")) for h in ET.parse(own).getroot().iter("Harmony")
    ]
    # Am7, Bbmaj7, F#m7b5/C
    assert harmonies[:3] == [("17", "m7", None), ("12", "maj7", None), ("20", "m7b5", "14")], harmonies
    assert "N.C." in [name for _, name, _ in harmonies]
    assert not [t.text for t in ET.parse(own).getroot().iter("StaffText")]  # no chord came in as plain text
    marks = ["".join(m.find("text").itertext()) for m in ET.parse(own).getroot().iter("RehearsalMark")]
    assert marks == ["Verse", "Chorus"]


def test_the_tune_plays_on_its_lanes_instrument_and_music21_is_not_the_composer(tmp_path):
    song = tune_song()
    song.programs = [0, 24, 35, 48, 0]  # the bass lane on Fretless Bass (GM 36, 0-based 35)
    path = write_lead_sheet(lead_sheet_of_song(song, "bass", "Test"), tmp_path / "sheet.musicxml")
    root = ET.parse(path).getroot()
    assert [int(p.text) for p in root.iter("midi-program")] == [36]  # MusicXML counts programs from 1
    assert root.find(".//score-instrument/instrument-name") is not None
    assert "Music21" not in "".join(c.text or "" for c in root.iter("creator"))


def test_chords_inside_a_bar_stand_at_their_beats(tmp_path):
    """Issue 33: a bar's two chords ('C Am') are two chord symbols in that measure, the second on beat 3."""
    song = tune_song()
    song.chords = ["Am7 Dm7", "G7 . . C", None, "F"]
    path = write_lead_sheet(lead_sheet_of_song(song, "bass", "Test"), tmp_path / "sheet.musicxml")
    root = ET.parse(path).getroot()
    per_measure = []
    for measure in root.iter("measure"):
        at, found = 0, []
        for el in measure:  # a harmony stands at the position reached by the notes before it (plus its offset)
            if el.tag == "harmony":
                offset = int(el.findtext("offset") or 0)
                found.append((el.findtext("root/root-step"), at + offset))
            elif el.tag == "note" and el.find("chord") is None:
                at += int(el.findtext("duration"))
            elif el.tag == "backup":
                at -= int(el.findtext("duration"))
            elif el.tag == "forward":
                at += int(el.findtext("duration"))
        per_measure.append(found)
    divisions = int(root.findtext(".//divisions"))
    beats = [[(step, at / divisions) for step, at in m] for m in per_measure]
    assert beats[0] == [("A", 0.0), ("D", 2.0)]
    assert beats[1] == [("G", 0.0), ("C", 3.0)]
    assert [step for step, _ in beats[2]] == ["C"]  # N.C. (MusicXML writes no chord with a C root)
    assert beats[3] == [("F", 0.0)]
