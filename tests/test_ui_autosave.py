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

from musicvae_app import sketchfile, userdata
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

    from musicvae_app.song import Song

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
    from musicvae_app import sketchfile
    from musicvae_app.song import Song
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
