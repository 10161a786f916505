"""Files the user names that are not files (issue 32): a FIFO, a link to /dev/zero, a folder, a file over its cap.

Every reader of a user-named file goes through musicvae_app/userfiles.py; each case is refused at once with a
message naming the path, through every face that reads such a file (MIDI part and primer, chart file, sketch,
pack card and weights). A FIFO must never block: each call runs in a thread that must end within seconds
(a hang fails the test, and the FIFO is then opened for writing so the thread can end).
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest

from band_files import write_notes
from musicvae_app.errors import InvalidValue, MusicVAEError
from musicvae_app.model.pack import PackError, load_pack
from musicvae_app.sketch import sketchfile
from musicvae_app.sketch.midi import MidiImportError, read_notes, read_primer
from musicvae_app.sketch.session import Session
from musicvae_app.sketch.sketchfile import SketchError
from musicvae_app.userfiles import open_user_file, read_user_file

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")

SECONDS = 10.0


def within(fn, fifo: Path | None = None, seconds: float = SECONDS):
    """fn() in a thread that must finish in `seconds`; its exception (or result) comes back."""
    box: dict = {}

    def run():
        try:
            box["result"] = fn()
        except BaseException as exc:  # noqa: BLE001 (handed back to the test)
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        if fifo is not None:  # unblock it: a writer that closes at once
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            os.close(fd)
        pytest.fail(f"{fn} did not return within {seconds} s: it blocked on a file that is not a file")
    if "error" in box:
        raise box["error"]
    return box.get("result")


@pytest.fixture
def odd(tmp_path):
    """A FIFO, a link to /dev/zero and a folder, each under a name a user could type."""
    fifo = tmp_path / "part.mid"
    os.mkfifo(fifo)
    zero = tmp_path / "zero.mid"
    zero.symlink_to("/dev/zero")
    folder = tmp_path / "folder.mid"
    folder.mkdir()
    return {"fifo": fifo, "zero": zero, "folder": folder}


SAID = {"fifo": "is a pipe (FIFO), not a regular file", "zero": "is a device, not a regular file",
        "folder": "is a folder, not a regular file"}  # fmt: skip


def test_the_helper_refuses_a_fifo_a_device_a_folder_naming_the_path(odd):
    for kind, path in odd.items():
        with pytest.raises(InvalidValue) as err:
            within(lambda path=path: read_user_file(path, 1000, "chart file", hint="give a text file"), odd["fifo"])
        text = str(err.value)
        assert f"chart file '{path}' {SAID[kind]}: give a text file" == text


def test_the_helper_checks_the_size_before_reading(tmp_path):
    big = tmp_path / "big.txt"
    with open(big, "wb") as f:
        f.truncate(5 << 20)  # sparse: 5 MB said, nothing written
    with pytest.raises(InvalidValue, match=r"big.txt' is 5 MB, more than the 1 MB it may be"):
        read_user_file(big, 1 << 20, "file")
    small = tmp_path / "small.txt"
    small.write_bytes(b"Am F C G")
    assert read_user_file(small, 8) == b"Am F C G"
    with pytest.raises(InvalidValue, match="7 bytes"):
        read_user_file(small, 7)
    with open_user_file(small, 100) as f:
        assert f.read() == b"Am F C G"
    with pytest.raises(InvalidValue, match="does not exist"):
        read_user_file(tmp_path / "gone", 10)


def test_the_error_is_the_callers_own_kind(odd):
    with pytest.raises(SketchError, match="is a device"):
        read_user_file(odd["zero"], 10, "sketch", SketchError)


def test_every_reader_of_a_user_named_file_refuses_them_at_once(odd, tmp_path, tiny_pack):
    from musicvae_app.cli import read_chart_flag

    for kind, path in odd.items():
        for fn, error in (
            (lambda path=path: read_notes(path), MidiImportError),
            (lambda path=path: read_primer(path, 4, 64), MidiImportError),
            (lambda path=path: read_chart_flag(None, str(path)), InvalidValue),
            (lambda path=path: sketchfile.load(path), SketchError),
        ):
            with pytest.raises(error) as err:
                within(fn, odd["fifo"])
            assert str(path) in str(err.value) and SAID[kind] in str(err.value), str(err.value)


def test_a_pack_whose_card_or_weights_are_not_files_is_refused(tmp_path, tiny_pack):
    import shutil

    for member in ("card.json", "weights.safetensors"):
        pack = tmp_path / f"pack-{member}"
        shutil.copytree(tiny_pack, pack)
        (pack / member).unlink()
        (pack / member).symlink_to("/dev/zero")
        with pytest.raises(PackError, match="is a device, not a regular file"):
            within(lambda pack=pack: load_pack(pack))
        (pack / member).unlink()
        os.mkfifo(pack / member)
        with pytest.raises(PackError, match=r"is a pipe \(FIFO\)"):
            within(lambda pack=pack: load_pack(pack), pack / member)


def test_the_session_says_so_and_never_blocks(odd, engine):
    session = Session(engine)
    for kind, path in odd.items():
        assert not within(lambda path=path: session.follow_part(path), odd["fifo"])
        assert SAID[kind] in session.last_error and str(path) in session.last_error
        assert not within(lambda path=path: session.open_sketch(path), odd["fifo"])
        assert SAID[kind] in session.last_error
    assert session.part is None and session.song is None


def test_a_real_midi_file_still_reads(tmp_path):
    path = write_notes(tmp_path / "ok.mid", [(2, 33, 36, 0, 1)], tempo=100)
    notes = read_notes(path)
    assert notes.name == "ok.mid" and list(notes.pitch) == [36] and notes.tempo == pytest.approx(100)
    assert isinstance(MidiImportError("x"), MusicVAEError)


@pytest.mark.parametrize("kind", ["fifo", "zero", "folder"])
def test_a_packs_styles_that_are_not_a_file_are_refused_at_once(tmp_path, kind):
    from types import SimpleNamespace

    from musicvae_app.engine.styles import STYLES_FILE, Styles

    pack = tmp_path / "pack"
    pack.mkdir()
    target = pack / STYLES_FILE
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "zero":
        target.symlink_to("/dev/zero")
    else:
        target.mkdir()
    with pytest.raises(InvalidValue, match=f"styles.*{re.escape(SAID[kind])}"):
        within(lambda: Styles.of_pack(SimpleNamespace(path=pack)), target if kind == "fifo" else None)
