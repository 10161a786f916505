"""Never lose a sketch: autosave while working, restore after a real kill, reopen after a clean close."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from musicvae_app import userdata
from musicvae_app.sketch import sketchfile
from musicvae_app.ui.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[1]
CHILD = textwrap.dedent(
    """
    import hashlib, sys, time
    from PySide6.QtWidgets import QApplication
    from musicvae_app.engine import Engine
    from musicvae_app.ui.main_window import MainWindow

    app = QApplication([])
    w = MainWindow(Engine.load(sys.argv[1], device="cpu"), data_dir=sys.argv[2], restore="no")
    w.bar.steps.set_value(2)
    w.show()
    w.generate()
    deadline = time.time() + 60
    while w.autosave.saves < 1 and time.time() < deadline:  # the debounced autosave, as in real use
        app.processEvents()
        time.sleep(0.01)
    print(hashlib.sha256(w.song.probs.tobytes()).hexdigest(), w.song.threshold, flush=True)
    app.exec()
    """
)


def digest(song) -> str:
    return hashlib.sha256(song.probs.tobytes()).hexdigest()


@pytest.fixture(scope="module")
def crashed(tmp_path_factory, tiny_pack):
    """A data folder left behind by a window that was killed (SIGKILL) after it generated a sketch."""
    data = tmp_path_factory.mktemp("crashed") / "data"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tiny_pack), str(data)], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        line = proc.stdout.readline().split()
    finally:
        proc.kill()
        proc.wait(30)
    assert proc.returncode != 0 and len(line) == 2, line
    return data, line[0]


def window(qtbot, engine, data, restore):
    w = MainWindow(engine, data_dir=data, restore=restore)
    qtbot.addWidget(w)
    return w


def test_autosave_follows_every_change(qtbot, engine, tmp_path):
    w = window(qtbot, engine, tmp_path / "data", "no")
    w.bar.steps.set_value(2)
    with qtbot.waitSignal(w.songChanged, timeout=60000):
        w.generate()
    qtbot.waitUntil(lambda: w.autosave.saves >= 1, timeout=10000)
    assert digest(sketchfile.load(w.autosave.path).song) == digest(w.song)
    w.bar.threshold.set_value(0.6)
    qtbot.waitUntil(lambda: w.autosave.saves >= 2, timeout=10000)
    assert sketchfile.load(w.autosave.path).song.threshold == pytest.approx(0.6)


def test_killed_window_is_restored_on_next_start(qtbot, engine, crashed, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(crashed[0], data)
    w = window(qtbot, engine, data, "yes")
    assert w.song is not None and digest(w.song) == crashed[1]
    assert not w.undo_stack.canUndo()
    assert w.autosave.crashed() == []  # restored once, not offered again


def test_restore_asks_and_a_no_keeps_the_file(qtbot, engine, crashed, tmp_path, monkeypatch):
    data = tmp_path / "data"
    shutil.copytree(crashed[0], data)
    asked = []
    monkeypatch.setattr(MainWindow, "ask", lambda self, title, text: asked.append(text) or False)
    w = window(qtbot, engine, data, "ask")
    assert asked and "restore" in asked[0].lower()
    assert w.song is None
    kept = list((data / "recovered").glob("*" + sketchfile.SUFFIX))
    assert len(kept) == 1 and digest(sketchfile.load(kept[0]).song) == crashed[1]


def test_restore_asks_and_a_yes_restores(qtbot, engine, crashed, tmp_path, monkeypatch):
    data = tmp_path / "data"
    shutil.copytree(crashed[0], data)
    monkeypatch.setattr(MainWindow, "ask", lambda self, title, text: True)
    w = window(qtbot, engine, data, "ask")
    assert digest(w.song) == crashed[1]


def test_clean_close_reopens_the_last_sketch(qtbot, engine, tmp_path, monkeypatch):
    data = tmp_path / "data"
    first = window(qtbot, engine, data, "no")
    first.bar.steps.set_value(2)
    with qtbot.waitSignal(first.songChanged, timeout=60000):
        first.generate()
    song = first.song
    first.close()
    monkeypatch.setattr(MainWindow, "ask", lambda *a: pytest.fail("a clean close must not ask"))
    second = window(qtbot, engine, data, None)
    assert digest(second.song) == digest(song)


def test_data_folder_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(userdata.DATA_DIR_ENV, str(tmp_path / "elsewhere"))
    assert userdata.data_dir() == tmp_path / "elsewhere" and (tmp_path / "elsewhere").is_dir()


# --- two windows on one data folder (issue 22): every closed window's sketch is kept -----------------------
def a_sketch(seed: int) -> sketchfile.Sketch:
    import numpy as np

    from musicvae_app.sketch.song import Song

    probs = (np.random.default_rng(seed).random((5, 32, 128)) > 0.97).astype(np.float32)
    return sketchfile.Sketch([Song(probs=probs, steps_per_beat=2, chunk_steps=32)])


def kept_digests(data: Path) -> set[str]:
    files = [data / "last.mvsketch", *(data / "recovered").glob("*.mvsketch")]
    return {digest(sketchfile.load(p).song) for p in files if p.exists()}


def test_two_windows_on_one_folder_both_sketches_are_kept(qtbot, tmp_path):
    from musicvae_app.ui.autosave import Autosave

    data = tmp_path / "data"
    first, second = a_sketch(1), a_sketch(2)
    one, two = Autosave(data, lambda: first), Autosave(data, lambda: second)
    for a in (one, two):
        a.save_now()
        a.flush()
    assert one.close_clean() == data / "last.mvsketch"
    assert two.close_clean() == data / "last.mvsketch"
    assert digest(sketchfile.load(data / "last.mvsketch").song) == digest(second.song)  # the last close
    kept = list((data / "recovered").glob("closed-*.mvsketch"))
    assert len(kept) == 1 and digest(sketchfile.load(kept[0]).song) == digest(first.song)
    # a single window that reopens its own last sketch just replaces it: recovered/ does not grow
    third = Autosave(data, lambda: second)
    third.save_now()
    third.flush()
    third.close_clean()
    assert len(list((data / "recovered").glob("*.mvsketch"))) == 1


TWO_PROCESSES = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from PySide6.QtCore import QCoreApplication
    from musicvae_app.sketch import sketchfile
    from musicvae_app.sketch.song import Song
    from musicvae_app.ui.autosave import Autosave

    app = QCoreApplication([])
    probs = (np.random.default_rng(int(sys.argv[2])).random((5, 32, 128)) > 0.97).astype(np.float32)
    sketch = sketchfile.Sketch([Song(probs=probs, steps_per_beat=2, chunk_steps=32)])
    a = Autosave(sys.argv[1], lambda: sketch)
    a.save_now()
    a.flush()
    print("ready", flush=True)
    sys.stdin.readline()  # both windows are open; close when told
    print(a.close_clean(), flush=True)
    """
)


def test_two_processes_on_one_folder_closing_at_once_keep_both_sketches(tmp_path):
    import numpy as np

    data = tmp_path / "data"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", TWO_PROCESSES, str(data), str(seed)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for seed in (11, 12)
    ]
    for p in procs:
        assert p.stdout.readline().strip() == "ready"
    for p in procs:  # both close at the same moment
        p.stdin.write("\n")
        p.stdin.flush()
    for p in procs:
        said = p.communicate(timeout=60)
        assert p.returncode == 0, said
    expected = set()
    for seed in (11, 12):
        probs = (np.random.default_rng(seed).random((5, 32, 128)) > 0.97).astype(np.float32)
        expected.add(hashlib.sha256(probs.tobytes()).hexdigest())
    assert kept_digests(data) == expected


# --- real windows in one process; recovered/ that cannot be written; sketches told about (issue 22) ----------
def generated(qtbot, w, seed: int) -> str:
    w.bar.steps.set_value(2)
    w.session.set_seed(seed)
    with qtbot.waitSignal(w.songChanged, timeout=60000):
        w.generate()
    return digest(w.song)


def recovered_digests(data: Path) -> list[str]:
    return sorted(digest(sketchfile.load(p).song) for p in (data / "recovered").glob("*.mvsketch"))


def last_digest(data: Path) -> str:
    return digest(sketchfile.load(data / "last.mvsketch").song)


def test_two_windows_in_one_process_both_kept_and_a_third_restores_the_newest(qtbot, engine, tmp_path, monkeypatch):
    from musicvae_app.ui import files

    data = tmp_path / "data"
    monkeypatch.setattr(MainWindow, "ask", lambda *a: pytest.fail("a window that is still open never crashed"))
    one = window(qtbot, engine, data, None)
    two = window(qtbot, engine, data, None)  # the first one's autosave is a live window's, not a crash
    one.show()
    two.show()
    first, second = generated(qtbot, one, 1), generated(qtbot, two, 2)
    assert first != second
    one.close()
    two.close()
    assert not one.isVisible() and not two.isVisible()
    assert last_digest(data) == second and recovered_digests(data) == [first]
    third = window(qtbot, engine, data, None)
    assert digest(third.song) == second  # the newest comes back...
    assert recovered_digests(data) == [first]  # ...and the other is still kept
    said = third.statusBar().currentMessage()
    assert f"1 sketch(es) kept in '{data / 'recovered'}'" in said and "Open recovered sketch" in said
    assert third.recovered_action.text() == "Open recovered sketch… (1 new)"
    asked = []

    def pick(parent, title, folder, kinds):
        asked.append(folder)
        return str(next((data / "recovered").glob("*.mvsketch"))), kinds

    monkeypatch.setattr(files.QFileDialog, "getOpenFileName", pick)
    third.recovered_action.trigger()
    assert asked == [str(data / "recovered")] and digest(third.song) == first
    assert third.recovered_action.text() == "Open recovered sketch…"
    third.session.undo()  # back to the reopened sketch: this window closes with what it found
    third.close()
    assert last_digest(data) == second and recovered_digests(data) == [first]
    fourth = window(qtbot, engine, data, None)  # told once: not again
    assert "recovered" not in fourth.statusBar().currentMessage()
    assert fourth.recovered_action.text() == "Open recovered sketch…"


def two_closed_windows_apart(qtbot, engine, data):
    """Two windows on one folder; the first is closed (its sketch is last.mvsketch), the second still open."""
    one, two = window(qtbot, engine, data, "no"), window(qtbot, engine, data, "no")
    first, second = generated(qtbot, one, 1), generated(qtbot, two, 2)
    two.show()
    one.close()
    assert last_digest(data) == first
    return two, first, second


def refused(qtbot, w, data: Path, why: str) -> None:
    """The close was refused: the window runs on, and says why, where, and what to do."""
    from PySide6.QtWidgets import QMessageBox

    assert w.isVisible() and w.autosave.enabled
    for text in (w.last_error, *(box.text() for box in w.findChildren(QMessageBox))):
        assert f"'{data / 'recovered'}'" in text and why in text and "writable" in text and "close again" in text
    assert w.findChildren(QMessageBox)
    saves = w.autosave.saves
    w.bar.threshold.set_value(0.61)  # autosave still works in the window that stayed open
    qtbot.waitUntil(lambda: w.autosave.saves > saves, timeout=10000)


def test_recovered_in_the_way_refuses_the_close_and_a_fixed_folder_keeps_both(qtbot, engine, tmp_path):
    data = tmp_path / "data"
    two, first, second = two_closed_windows_apart(qtbot, engine, data)
    (data / "recovered").write_text("a file where the recovered folder goes")  # refused as root too
    two.close()
    refused(qtbot, two, data, "File exists")
    assert last_digest(data) == first  # the other window's sketch is neither replaced nor moved
    (data / "recovered").unlink()  # what the message says to do; then close again
    two.close()
    assert not two.isVisible()
    assert last_digest(data) == second and recovered_digests(data) == [first]


def test_recovered_in_the_way_a_second_close_keeps_the_sketch_for_the_next_start(qtbot, engine, tmp_path):
    data = tmp_path / "data"
    two, first, second = two_closed_windows_apart(qtbot, engine, data)
    (data / "recovered").write_text("a file where the recovered folder goes")
    two.close()
    assert two.isVisible()
    two.close()  # the user closes again without fixing it: the window goes, nothing is lost
    assert not two.isVisible() and last_digest(data) == first
    three = window(qtbot, engine, data, "yes")  # the sketch left in sessions/ is offered back
    assert digest(three.song) == second and last_digest(data) == first


def test_a_full_disk_under_recovered_refuses_the_close(qtbot, engine, tmp_path, monkeypatch):
    from musicvae_app.ui import autosave as autosave_module

    data = tmp_path / "data"
    two, first, second = two_closed_windows_apart(qtbot, engine, data)
    replace = os.replace

    def full_in_recovered(src, dst):
        if Path(dst).parent.name == "recovered":
            raise OSError(28, "No space left on device")
        return replace(src, dst)

    monkeypatch.setattr(autosave_module.os, "replace", full_in_recovered)
    two.close()
    refused(qtbot, two, data, "No space left on device")
    assert "free space" in two.last_error and last_digest(data) == first
    monkeypatch.setattr(autosave_module.os, "replace", replace)  # room again
    two.close()
    assert last_digest(data) == second and recovered_digests(data) == [first]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_recovered_folder_refuses_the_close(qtbot, engine, tmp_path):
    data = tmp_path / "data"
    two, first, second = two_closed_windows_apart(qtbot, engine, data)
    (data / "recovered").mkdir()
    (data / "recovered").chmod(0o500)
    try:
        two.close()
        refused(qtbot, two, data, "Permission denied")
        assert last_digest(data) == first
    finally:
        (data / "recovered").chmod(0o700)
    two.close()
    assert last_digest(data) == second and recovered_digests(data) == [first]


def test_unrestored_sketches_recovered_cannot_take_stay_and_are_said(qtbot, engine, crashed, tmp_path, monkeypatch):
    data = tmp_path / "data"
    shutil.copytree(crashed[0], data)
    (data / "recovered").write_text("a file where the recovered folder goes")
    monkeypatch.setattr(MainWindow, "ask", lambda *a: False)
    w = window(qtbot, engine, data, "ask")
    said = w.statusBar().currentMessage()
    assert "1 unrestored sketch(es) stay in" in said and str(data / "recovered") in said and "writable" in said
    assert [digest(sketchfile.load(p).song) for p in w.autosave.crashed()] == [crashed[1]]  # kept, offered again


def test_windows_starting_at_once_all_find_the_folder_writable(tmp_path):
    """writable_folder from many threads at once on one folder: every call finds it writable (a shared probe file
    once made the slower of two starting windows read the other's cleanup as an unwritable folder, turn autosave
    off and close without the folder lock, replacing the other window's sketch)."""
    import threading

    from musicvae_app.ui.autosave import writable_folder

    folder = tmp_path / "sessions"
    errors = []
    start = threading.Barrier(8)

    def probe():
        start.wait()
        for _ in range(40):
            error = writable_folder(folder)
            if error is not None:
                errors.append(error)

    threads = [threading.Thread(target=probe) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert [p.name for p in folder.iterdir()] == [], "no probe file is left behind"
