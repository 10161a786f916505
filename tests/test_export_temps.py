"""Issue 22: a failed export leaves no temp beside the user's file, and its error names their file, not the temp."""

from __future__ import annotations

from musicvae_app import atomic
from musicvae_app.cli import main as cli_main
from musicvae_app.sketch.song import LANES


def generate(tiny_pack, out, *more):
    return cli_main(["generate", "--out", str(out), "--pack", str(tiny_pack), "--steps", "1", "--seed", "3", *more])


def test_a_failed_midi_export_names_the_users_file_and_leaves_no_temp(tiny_pack, tmp_path, capsys):
    out = tmp_path / "song.mid"
    out.mkdir()  # a folder where the file should go: the rename into place fails
    assert generate(tiny_pack, out) == 2
    err = capsys.readouterr().err
    assert str(out) in err and atomic.TEMP_MARK not in err, err
    assert [p.name for p in tmp_path.iterdir()] == ["song.mid"] and out.is_dir()


def test_a_failed_stems_export_names_the_users_file_and_leaves_no_temps(tiny_pack, tmp_path, capsys):
    for lane in LANES:
        (tmp_path / f"s-{lane}.mid").mkdir()  # every stem's place is taken by a folder
    assert generate(tiny_pack, tmp_path / "s.mid", "--stems") == 2
    err = capsys.readouterr().err
    assert str(tmp_path / "s-") in err and ".mid" in err and atomic.TEMP_MARK not in err, err
    assert not [p for p in tmp_path.iterdir() if atomic.TEMP_MARK in p.name]


def test_an_export_sweeps_a_killed_writers_temp_but_no_one_elses(tiny_pack, tmp_path):
    dead = tmp_path / f".song.mid{atomic.TEMP_MARK}999999999-abcd{atomic.TEMP_SUFFIX}"
    theirs = tmp_path / ".notes.txt.tmp"
    for p in (dead, theirs):
        p.write_bytes(b"x")
    assert generate(tiny_pack, tmp_path / "song.mid") == 0
    assert not dead.exists() and theirs.exists()
