import subprocess
import sys

import mido

from musicvae_app.cli import main
from musicvae_app.midi import read_settings


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
