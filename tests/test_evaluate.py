"""`musicvae evaluate` end to end on band MIDI files written here, with the tiny random pack."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from band_files import write_notes
from musicvae_app.cli import main
from musicvae_app.engine import Engine
from musicvae_app.evaluation.evaluate import compare, evaluate_pack
from musicvae_app.evaluation.windows import primer_chunk, windows
from musicvae_app.model.pack import CARD, load_pack
from musicvae_app.sketch.song import LANES

TPB = 480
BEATS_PER_CHUNK = 16  # the tiny pack: 2 steps per beat, 32-step chunks
METRICS = {
    "piano": {"EB", "UPC", "QN", "notes_per_bar", "polyphony", "lane_dropout", "primer_similarity"},
    "drums": {"EB", "DP", "notes_per_bar", "polyphony", "lane_dropout", "primer_similarity"},
}
PAIRS = {"piano-guitar", "piano-bass", "piano-strings", "guitar-bass", "guitar-strings", "bass-strings"}


def write_band_song(path, chunks: int, transpose: int = 0) -> None:
    """A four-to-the-bar band loop: piano chords, 8th-note guitar, half-note bass, held strings, kick and snare."""
    notes = []  # (channel, pitch, start beat, end beat)
    beats = chunks * BEATS_PER_CHUNK
    for bar in range(beats // 4):
        b = 4 * bar
        notes += [(0, 60 + transpose + i, b, b + 4) for i in (0, 4, 7)]
        notes += [(1, 64 + transpose + 3 * (e % 2), b + e / 2, b + (e + 1) / 2) for e in range(8)]
        notes += [(2, 36 + transpose, b + h, b + h + 2) for h in (0, 2)]
        notes += [(9, 36 if beat % 2 == 0 else 38, b + beat, b + beat + 0.25) for beat in range(4)]
    notes.append((3, 72 + transpose, 0, beats))
    programs = {0: 0, 1: 24, 2: 32, 3: 48, 9: 0}
    write_notes(path, [(ch, programs[ch], pitch, start, end) for ch, pitch, start, end in notes], tpb=TPB)


@pytest.fixture
def band_data(tmp_path):
    """Three 6-chunk songs, one too short for a mid-song primer, and one broken file."""
    root = tmp_path / "data" / "rock"
    root.mkdir(parents=True)
    for i in range(3):
        write_band_song(root / f"song{i}.mid", chunks=6, transpose=i)
    write_band_song(root / "short.mid", chunks=2)
    (root / "broken.mid").write_bytes(b"MThd this is not MIDI")
    return tmp_path / "data"


@pytest.fixture
def pack(tiny_pack, tmp_path):
    """A copy of the tiny pack whose card holds every song out for validation."""
    folder = shutil.copytree(tiny_pack, tmp_path / "pack")
    card = json.loads((folder / CARD).read_text())
    card["training"] = {"config": {"validation_percent": 100, "genres": []}}
    (folder / CARD).write_text(json.dumps(card))
    return folder


def test_evaluate_prints_and_stores_every_lane_and_metric(band_data, pack, tmp_path, capsys):
    out = tmp_path / "eval.json"
    sha = json.loads((pack / CARD).read_text())["weights_sha256"]
    argv = ["evaluate", "--pack", str(pack), "--data", str(band_data), "--songs", "5", "--steps", "2"]
    argv += ["--seed", "3", "--json", str(out), "--update-card", "--device", "cpu", "--cache-dir", str(tmp_path / "c")]
    argv += ["--random", "4"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    for word in (*LANES, *PAIRS, "EB %", "UPC", "QN %", "DP %", "polyphony", "lane dropout %", "primer similarity"):
        assert word in text
    assert "on 3 of 4 validation songs" in text  # the short song has no mid-song primer; the broken one is skipped

    result = json.loads(out.read_text())
    assert (result["songs"], result["steps"], result["seed"], result["validation_songs"]) == (3, 2, 3, 4)
    assert (result["noise"], result["threshold"]) == (1.0, 0.3)  # the pack's generation defaults
    for lane in LANES:
        assert set(result["lanes"][lane]) == METRICS.get(lane, METRICS["piano"])
        for row in result["lanes"][lane].values():
            assert {"real", "generated", "gap"} <= set(row)
    assert set(result["TD"]) == PAIRS
    assert set(result["all"]) == {"lane_dropout", "primer_similarity"}
    assert "--steps 2" in result["command"]

    # the real side is the songs' own continuation: a loop whose values are known
    real = {lane: {k: v["real"] for k, v in rows.items()} for lane, rows in result["lanes"].items()}
    assert real["piano"] == {
        "EB": 0.0,
        "UPC": 3.0,
        "QN": 100.0,
        "notes_per_bar": 3.0,
        "polyphony": 3.0,
        "lane_dropout": 0.0,
        "primer_similarity": 1.0,
    }
    assert real["bass"]["UPC"] == 1.0 and real["bass"]["QN"] == 100.0
    assert real["guitar"]["UPC"] == 2.0 and real["guitar"]["QN"] == 100.0  # 8th notes: two 16th steps, scored at 16ths
    assert real["guitar"]["notes_per_bar"] == 8.0 and real["drums"]["notes_per_bar"] == 4.0
    assert real["strings"]["primer_similarity"] == 1.0  # one held note starts each chunk afresh
    assert real["drums"]["DP"] == 100.0 and real["drums"]["EB"] == 0.0
    assert result["TD"]["piano-bass"]["real"] > 0
    assert result["scored_at"].startswith("4 steps per beat")  # the tiny pack works on 8ths; scoring is at 16ths
    gen_qn = [result["lanes"][lane]["QN"]["generated"] for lane in ("piano", "guitar", "bass", "strings")]
    assert all(q is None or q == 100.0 for q in gen_qn)  # an 8th-grid pack cannot play a 16th note
    assert set(result["random_start"]["lanes"]) == set(LANES)
    assert set(result["random_start"]["playing"]["lanes"]) == set(LANES) and "random starts" in text
    assert "chord_accuracy" not in result["random_start"]["playing"]["band"]  # a random start follows no song
    assert set(result["reconstruction_f1"]) == set(LANES)

    # how it plays: the real loop repeats every chunk, holds only the strings' note a bar or longer,
    # keeps the bass on the chord's root, and never fills
    playing = result["playing"]
    for word in ("repeated chunks %", "bar-long notes %", "bass root beat 1 %", "fill, 4-bar end %"):
        assert word in text
    assert "chord accuracy %" in text
    repeats = {lane: rows["repetition"]["real"] for lane, rows in playing["lanes"].items()}
    assert repeats == dict.fromkeys(LANES, 100.0)
    assert playing["lanes"]["strings"]["long_notes"]["real"] == 100.0
    assert playing["lanes"]["bass"]["long_notes"]["real"] == 0.0
    assert playing["lanes"]["bass"]["onsets_per_bar"]["real"] == 2.0
    assert playing["lanes"]["drums"]["onsets_per_playing_bar"]["real"] == 4.0
    band = playing["band"]
    assert (band["repetition"]["real"], band["bass_on_root"]["real"], band["chord_tones"]["real"]) == (100, 100, 100)
    assert (band["fill_4"]["real"], band["fill_8"]["real"], band["crash_after"]["real"]) == (0, 0, 0)
    assert band["chord_accuracy"]["real"] is None and 0 <= band["chord_accuracy"]["generated"] <= 100
    assert all({"real", "generated", "gap"} <= set(row) for row in band.values())

    assert band["lanes_per_bar"]["real"] == 5.0  # the loop: every lane plays in every bar
    assert "lanes playing a bar" in text

    # dynamics (issue 29): velocity by beat position and chorus / verse contrast, real beside ours
    for word in ("kick, beat", "hats, 16ths", "snare ghost notes %", "chorus/verse notes x", "chorus-verse velocity"):
        assert word in text
    dyn = result["dynamics"]
    assert dyn["real_songs"] == 3 and dyn["our_takes"] == 3 and dyn["form_takes"] == 3
    rows = dyn["rows"]
    assert rows["kick, beat"]["real"] == 1.0 and rows["backbeat, beat"]["real"] == 1.0  # one velocity a song
    assert rows["snare ghost notes %"]["real"] == 0.0
    assert rows["full/light notes x"]["real"] == pytest.approx(1.0, abs=0.01)  # a loop: one held string note more
    assert rows["full-light velocity"]["real"] == 0.0
    assert rows["chorus-verse velocity"]["generated"] is not None and rows["kick, beat"]["generated"] > 0

    card = json.loads((pack / CARD).read_text())
    assert card["metrics"]["evaluate"]["lanes"] == result["lanes"]
    assert card["metrics"]["evaluate"]["playing"] == result["playing"]
    assert card["weights_sha256"] == sha
    load_pack(pack)  # still a valid pack


def test_evaluate_says_when_no_song_is_long_enough(band_data, pack, capsys):
    argv = ["evaluate", "--pack", str(pack), "--data", str(band_data), "--steps", "6", "--device", "cpu"]
    assert main(argv) == 2
    assert "no song is long enough" in capsys.readouterr().err


def test_primer_comes_from_the_middle_never_the_first_chunk():
    assert primer_chunk(60, 23) == 30
    assert primer_chunk(26, 23) == 2
    assert primer_chunk(25, 23) == 1
    assert primer_chunk(24, 23) is None


def test_evaluate_pack_is_reproducible_and_skips_silent_primers(engine):
    rng = np.random.default_rng(0)
    songs = [rng.random((len(LANES), 6 * 64, 128)) > 0.97 for _ in range(3)]  # 16ths: 64-step chunks
    songs[1][:, 3 * 64 : 4 * 64] = False  # its primer chunk (3) is silent
    first, again = (evaluate_pack(engine, songs, steps=2, seed=5, reconstruction=False) for _ in range(2))
    assert first["songs"] == 2
    assert first["lanes"] == again["lanes"] and first["TD"] == again["TD"]
    assert len(windows(songs, 64, 2, count=1)) == 1


def test_note_soup_is_not_rated_as_music():
    """The real songs against themselves meet every goal; a dense random roll fails the sanity guards."""

    rng = np.random.default_rng(1)
    real = np.zeros((4, len(LANES), 3 * 64, 128), dtype=bool)
    for song in real:  # a plausible band: chords on beats, a bass note per beat, a beat on the drums
        for beat in range(0, 3 * 64, 4):
            root = 48 + int(rng.integers(0, 5))
            song[0, beat : beat + 3, [root + 12, root + 16, root + 19]] = True
            song[1, beat : beat + 2, [root + 24, root + 28]] = True
            song[2, beat : beat + 3, root - 12] = True
            song[3, beat : beat + 4, root + 24] = True
            song[4, beat, 36 if beat % 8 == 0 else 38] = True
    soup = rng.random(real.shape) > 0.6
    same = compare(real, real, 4, 64)
    rows = [row for lane in same["lanes"].values() for row in lane.values()] + list(same["TD"].values())
    assert all(row["met"] in (True, None) for row in rows)
    bad = compare(real, soup, 4, 64)
    assert not any(bad["lanes"][lane]["notes_per_bar"]["met"] for lane in LANES)
    assert not any(bad["lanes"][lane]["polyphony"]["met"] for lane in LANES)


def test_a_deliberately_bad_pack_fails(tmp_path):
    """An untrained pack that plays note soup scores as 'not music' on real band songs, whatever it meets."""
    from conftest import make_pack
    from musicvae_app.engine import Engine
    from musicvae_app.sketch.midi import read_roll

    for i in range(3):
        write_band_song(tmp_path / f"song{i}.mid", chunks=6, transpose=i)
    songs = [read_roll(tmp_path / f"song{i}.mid", 4)[0] for i in range(3)]
    soup = Engine.load(make_pack(tmp_path / "soup", bias=1.5, spread=2), device="cpu")
    result = evaluate_pack(soup, songs, steps=2, seed=0, reconstruction=False)
    assert result["sane"] is False
    assert not all(result["lanes"][lane]["notes_per_bar"]["met"] for lane in LANES)


def test_an_unknown_lane_to_follow_is_refused_naming_it(band_data, engine):
    from musicvae_app.sketch.midi import read_roll

    songs = [read_roll(band_data / "rock" / f"song{i}.mid", 4)[0] for i in range(3)]
    with pytest.raises(ValueError, match="--follow 'banjo'"):
        evaluate_pack(engine, songs, steps=2, seed=1, reconstruction=False, follow="banjo")


def test_asked_chords_are_the_real_songs_and_scored_against_them(band_data, engine):
    from musicvae_app.sketch.midi import read_roll

    asked = []

    class Recording(Engine):
        def generate(self, chords=None, **settings):
            asked.append(chords)
            return super().generate(chords=chords, **settings)

    songs = [read_roll(band_data / "rock" / f"song{i}.mid", 4)[0] for i in range(3)]
    recording = Recording(engine.pack, device="cpu")
    result = evaluate_pack(recording, songs, steps=2, seed=1, reconstruction=False, chords="real")
    asked = [bars for bars in asked if bars is not None]  # the plain continuations ask for none
    assert len(asked) == 3 and all(len(bars) == 12 for bars in asked)  # primer + 2 chunks of 4 bars
    assert {c.symbol for bars in asked for c in bars} == {"C", "C#", "D"}  # each song's own C chord, moved up
    band = result["playing"]["band"]
    assert band["asked_chord_tones"]["real"] == 100.0 and band["asked_bass_on_root"]["real"] == 100.0
    assert 0 <= band["asked_chord_accuracy"]["generated"] <= 100


def test_a_followed_part_is_scored_by_how_much_of_it_is_kept(band_data, engine):
    from musicvae_app.sketch.midi import read_roll

    songs = [read_roll(band_data / "rock" / f"song{i}.mid", 4)[0] for i in range(3)]
    # drums: the tiny pack's 8th grid holds every hit (a held 16th-grid bass note would come back a 16th short)
    result = evaluate_pack(engine, songs, steps=2, seed=1, reconstruction=False, follow="drums")
    assert result["playing"]["band"]["kept"]["generated"] == 100.0  # a followed lane comes back note for note
    assert result["playing"]["band"]["kept"]["lanes"] == ["drums"]
