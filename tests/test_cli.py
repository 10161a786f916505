import subprocess
import sys

import mido

from musicvae_app.cli import main
from musicvae_app.sketch.midi import read_settings


def run_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "musicvae_app.cli", *args], capture_output=True, text=True, env=env)


def test_help_lists_every_command():
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("generate", "train", "evaluate", "render"):
        assert command in result.stdout


def test_generate_end_to_end(tiny_pack, tmp_path):
    out = tmp_path / "sketch.mid"
    result = run_cli(
        "generate",
        "--out",
        str(out),
        "--pack",
        str(tiny_pack),
        "--steps",
        "3",
        "--seed",
        "9",
        "--tempo",
        "100",
        "--device",
        "cpu",
    )
    assert result.returncode == 0, result.stderr
    assert "16 bars" in result.stdout and "ms" in result.stdout and "CPU" in result.stdout
    for lane in ("piano", "guitar", "bass", "strings", "drums"):
        assert lane in result.stdout
    mid = mido.MidiFile(str(out))
    assert mid.type == 1 and mid.ticks_per_beat == 480
    assert read_settings(out)["seed"] == 9
    again = tmp_path / "again.mid"
    main(["generate", "--out", str(again), "--pack", str(tiny_pack), "--steps", "3", "--seed", "9", "--tempo", "100"])
    assert again.read_bytes() == out.read_bytes()  # same seed and settings, same file


def test_variations_and_stems(tiny_pack, tmp_path, capsys):
    assert (
        main(
            [
                "generate",
                "--out",
                str(tmp_path / "t.mid"),
                "--pack",
                str(tiny_pack),
                "--steps",
                "1",
                "--variations",
                "3",
                "--stems",
            ]
        )
        == 0
    )
    names = sorted(p.name for p in tmp_path.iterdir())
    assert {"t-1.mid", "t-2.mid", "t-3.mid"} <= set(names)
    assert any(n.startswith("t-1-") for n in names)


def test_primer_file_starts_the_sketch(tiny_pack, tmp_path):
    from band_files import write_band_midi

    primer = write_band_midi(tmp_path / "primer.mid", bars=8)
    out = tmp_path / "s.mid"
    assert main(["generate", "--out", str(out), "--pack", str(tiny_pack), "--steps", "1", "--primer", str(primer)]) == 0
    assert mido.MidiFile(str(out)).length > 0


def test_errors_are_one_clear_line(tiny_pack, tmp_path, capsys):
    bad = tmp_path / "bad.mid"
    bad.write_text("not midi")
    assert main(["generate", "--out", str(tmp_path / "x.mid"), "--pack", str(tiny_pack), "--primer", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "bad.mid" in err and "not a readable MIDI file" in err
    assert main(["generate", "--out", str(tmp_path / "x.mid"), "--pack", str(tiny_pack), "--threshold", "2"]) == 2
    assert "threshold" in capsys.readouterr().err
    assert main(["generate", "--out", str(tmp_path / "no" / "x.mid"), "--pack", str(tiny_pack)]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_without_any_pack_it_says_how_to_get_one(tmp_path):
    import os

    env = {**os.environ, "MUSICVAE_PACK": str(tmp_path / "missing-pack")}
    result = run_cli("generate", "--out", str(tmp_path / "x.mid"), env=env)
    assert result.returncode == 2
    assert "musicvae train" in result.stderr and "Traceback" not in result.stderr


# --- chords and a followed part (issue 20) -------------------------------------------------------
def markers(path) -> list[tuple[float, str]]:
    """(bar, text) of every marker in the file, read with mido."""
    mid = mido.MidiFile(str(path))
    out = []
    for track in mid.tracks:
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type == "marker":
                out.append((tick / mid.ticks_per_beat / 4, msg.text))
    return sorted(out)


def lane_notes_of(path) -> dict[str, list[tuple[int, float, float]]]:
    """Each named track's notes as (pitch, start beat, end beat), read with pretty_midi."""
    import pretty_midi

    pm = pretty_midi.PrettyMIDI(str(path))
    beat = 60.0 / pm.get_tempo_changes()[1][0]
    return {
        inst.name.lower(): sorted((n.pitch, round(n.start / beat, 3), round(n.end / beat, 3)) for n in inst.notes)
        for inst in pm.instruments
    }


def test_chords_flag_plays_a_chart_round_and_round(tiny_pack, tmp_path, capsys):
    out = tmp_path / "chart.mid"
    args = ["generate", "--out", str(out), "--pack", str(tiny_pack), "--steps", "3", "--seed", "2"]
    assert main([*args, "--chords", "| Am | F | C | G |"]) == 0
    printed = capsys.readouterr().out
    assert "chords: | Am | F | C | G | Am | F | C | G | ... (16 bars)" in printed
    assert markers(out) == [(bar, "Am F C G".split()[bar % 4]) for bar in range(16)]
    notes = lane_notes_of(out)
    assert all(notes.get(lane) for lane in ("piano", "guitar", "bass", "strings", "drums")), notes.keys()
    assert read_settings(out)["chords"] == "asked"


def test_chords_file_holds_the_chart(tiny_pack, tmp_path, capsys):
    chart = tmp_path / "song.txt"
    chart.write_text("| Dm7 | G7 |\n| Cmaj7 | % |\n", encoding="utf-8")
    out = tmp_path / "f.mid"
    assert (
        main(["generate", "--out", str(out), "--pack", str(tiny_pack), "--steps", "1", "--chords-file", str(chart)])
        == 0
    )
    assert "chords: | Dm7 | G7 | Cmaj7 | Cmaj7 | Dm7 | G7 | Cmaj7 | Cmaj7 |" in capsys.readouterr().out
    assert [text for _, text in markers(out)] == ["Dm7", "G7", "Cmaj7", "Dm7", "G7", "Cmaj7"]  # % holds: no marker


def test_a_chart_file_with_chords_inside_bars_bom_crlf_and_tabs(tiny_pack, tmp_path, capsys):
    """Issue 33: the CLI reads charts with the window's parser: several chords a bar, '.', N.C., BOM/CRLF/tabs."""
    chart = tmp_path / "song.txt"
    chart.write_bytes("\ufeff| C\tAm | F G |\r\n| Dm7 . . G7 | N.C. |\r\n".encode())
    out = tmp_path / "f.mid"
    base = ["generate", "--out", str(out), "--pack", str(tiny_pack), "--steps", "1"]
    assert main([*base, "--chords-file", str(chart)]) == 0
    assert "chords: | C Am | F G | Dm7 . . G7 | N.C. | C Am | F G | Dm7 . . G7 | N.C. |" in capsys.readouterr().out
    assert markers(out)[:6] == [(0, "C"), (0.5, "Am"), (1, "F"), (1.5, "G"), (2, "Dm7"), (2.75, "G7")]  # in bars
    from musicvae_app.sketch.midi import read_chords

    assert read_chords(out, 4) == ["C Am", "F G", "Dm7 . . G7", None] * 2
    assert main([*base, "--chords", "N.C."]) == 0  # no chord at all: drums only, no key error


def test_a_bad_chart_or_chart_file_is_one_line_naming_it(tiny_pack, tmp_path, capsys):
    base = ["generate", "--out", str(tmp_path / "x.mid"), "--pack", str(tiny_pack), "--steps", "1"]
    binary = tmp_path / "chart.bin"
    binary.write_bytes(b"\xff\xfe\x00Am")
    cases = [
        (["--chords", "Am Hb7 C"], "'Hb7' in bar 2"),
        (["--chords", "| Am | F C G Em D |"], "bar 2 of the chart has 5 chords"),  # at most one a beat
        (["--chords", "| . Am |"], "bar 1 of the chart starts with '.'"),
        (["--chords", "  "], "the chord chart is empty"),
        (["--chords-file", str(tmp_path / "missing.txt")], "'" + str(tmp_path / "missing.txt") + "' does not exist"),
        (["--chords-file", str(tmp_path)], f"'{tmp_path}' is a folder, not a regular file"),
        (["--chords-file", str(binary)], "chart.bin' cannot be read (it is not UTF-8 text)"),
    ]
    for extra, said in cases:
        assert main([*base, *extra]) == 2, extra
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and said in err and err.startswith("musicvae generate: error: "), err
    assert not (tmp_path / "x.mid").exists()
    result = run_cli(*base, "--chords", "Am", "--chords-file", str(binary))
    assert result.returncode == 2 and "not allowed with" in result.stderr


def test_follow_keeps_the_part_and_plays_around_it(tiny_pack, tmp_path, capsys):
    from band_files import write_notes

    part_notes = [(0, 0, p, 4 * bar + b, 4 * bar + b + 1.5) for bar in range(8) for b in (0, 2) for p in (57, 60, 64)]
    part = write_notes(tmp_path / "part.mid", part_notes, tempo=96)
    out = tmp_path / "along.mid"
    assert main(["generate", "--out", str(out), "--pack", str(tiny_pack), "--follow", str(part), "--seed", "3"]) == 0
    printed = capsys.readouterr().out
    assert "8 bars" in printed and "96 BPM" in printed and "following 'part.mid': piano kept as played" in printed
    assert "chords heard in the part: | Am | Am | Am | Am | Am | Am | Am | Am |" in printed
    notes = lane_notes_of(out)
    assert notes["piano"] == sorted((p, float(s), float(e)) for _, _, p, s, e in part_notes)
    assert all(notes.get(lane) for lane in ("guitar", "bass", "strings", "drums"))
    assert markers(out) == [(0, "Am")]
    settings = read_settings(out)
    assert settings["chords"] == "part" and settings["part_lanes"] == "piano"


def test_follow_refuses_what_it_cannot_do(tiny_pack, tmp_path, capsys):
    from band_files import write_notes

    part = write_notes(tmp_path / "part.mid", [(0, 0, 60, 0, 4)], tempo=100)
    empty = write_notes(tmp_path / "empty.mid", [], tempo=100)
    bad = tmp_path / "bad.mid"
    bad.write_text("not midi")
    base = ["generate", "--out", str(tmp_path / "x.mid"), "--pack", str(tiny_pack)]
    cases = [
        (["--follow", str(part), "--steps", "3"], "--steps cannot be used with --follow"),
        (["--follow", str(part), "--key", "E minor"], "--key cannot be used with --follow"),
        (["--follow", str(tmp_path / "gone.mid")], "gone.mid' does not exist"),
        (["--follow", str(empty)], "'empty.mid' has no notes to follow"),
        (["--follow", str(bad)], "not a readable MIDI file"),
    ]
    for extra, said in cases:
        assert main([*base, *extra]) == 2, extra
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and said in err, err
    result = run_cli(*base, "--follow", str(part), "--primer", str(part))
    assert result.returncode == 2 and "not allowed with argument --follow" in result.stderr


def test_help_says_the_new_flags():
    generate = run_cli("generate", "--help").stdout
    for flag in ("--chords CHART", "--chords-file PATH", "--follow PART.mid", "no --steps"):
        assert flag in generate
    evaluate = run_cli("evaluate", "--help").stdout
    assert "--chords" in evaluate and "--follow" in evaluate


def test_a_chart_file_that_is_a_pipe_or_a_device_is_refused_at_once(tiny_pack, tmp_path):
    """Files that are not files (issue 32): a FIFO would block for ever, /dev/zero would never end."""
    import os

    fifo = tmp_path / "chart.fifo"
    os.mkfifo(fifo)
    base = ["generate", "--out", str(tmp_path / "o.mid"), "--pack", str(tiny_pack), "--steps", "1"]
    for path in (fifo, "/dev/zero"):
        result = run_cli(*base, "--chords-file", str(path))
        assert result.returncode == 2 and "not a regular file" in result.stderr
    assert not (tmp_path / "o.mid").exists()


def test_a_chart_file_with_a_bom_and_crlf_is_read(tiny_pack, tmp_path):
    chart = tmp_path / "chart.txt"
    chart.write_bytes("\ufeffAm F\r\nC G\r\n".encode())
    out = tmp_path / "o.mid"
    base = ["generate", "--out", str(out), "--pack", str(tiny_pack), "--steps", "1"]
    result = run_cli(*base, "--chords-file", str(chart))
    assert result.returncode == 0, result.stderr
    from musicvae_app.sketch.midi import read_chords

    assert read_chords(out, 4)[:4] == ["Am", "F", "C", "G"]


def test_render_refuses_to_write_over_the_midi_it_renders(tmp_path):
    import mido

    midi = tmp_path / "x.mid"
    mid = mido.MidiFile()
    notes = [mido.Message("note_on", note=60, time=0), mido.Message("note_off", note=60, time=480)]
    mid.tracks.append(mido.MidiTrack(notes))
    mid.save(midi)
    before = midi.read_bytes()
    result = run_cli("render", str(midi), "--out", str(tmp_path / "." / "x.mid"))
    assert result.returncode == 2 and "is the MIDI file being rendered" in result.stderr
    assert midi.read_bytes() == before
