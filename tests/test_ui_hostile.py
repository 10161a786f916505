"""Start-up always reaches a window, and autosave never loses work (issue 13): damaged sketches, bad data folders,
full disks, a user who never pauses, and an undo history that would grow without bound."""

from __future__ import annotations

import errno
import gc
import os
import subprocess
import sys
import time
import weakref
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QAction
from test_hostile import HOSTILE_SKETCHES, a_song, sketch_bytes

from musicvae_app import atomic
from musicvae_app.sketch import sketchfile
from musicvae_app.sketch.sketchfile import Sketch
from musicvae_app.sketch.song import Song
from musicvae_app.sketch.undo import History, State
from musicvae_app.ui import app as app_module
from musicvae_app.ui import autosave as autosave_module
from musicvae_app.ui.autosave import MAX_WAIT_MS, Autosave
from musicvae_app.ui.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[1]
DAMAGED = ["header-is-a-list", "chunk-steps-0", "tempo-nan", "huge-array-shape"]


def open_window(qtbot, engine, data, restore=None) -> MainWindow:
    w = MainWindow(engine, data_dir=data, restore=restore)
    qtbot.addWidget(w)
    return w


def cap_memory() -> None:
    """In the child: 3 GB of address space, as the issue's outside check runs the app."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))


def full_disk(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


# --- damaged sketches never lock the user out ---------------------------------------------------------
@pytest.mark.parametrize("kind", DAMAGED)
def test_damaged_last_sketch_is_set_aside_and_the_window_starts_clean(qtbot, engine, tmp_path, monkeypatch, kind):
    data = tmp_path / "data"
    data.mkdir()
    bad = HOSTILE_SKETCHES[kind](sketch_bytes(tmp_path))
    (data / "last.mvsketch").write_bytes(bad)
    monkeypatch.setattr(MainWindow, "ask", lambda *a: pytest.fail("nothing to ask about"))
    w = open_window(qtbot, engine, data)
    assert w.song is None and not (data / "last.mvsketch").exists()
    assert (data / "recovered" / "last.mvsketch").read_bytes() == bad  # kept, byte for byte
    assert "set aside" in w.statusBar().currentMessage() and "recovered" in w.statusBar().currentMessage()


def test_damaged_crashed_session_is_set_aside_not_offered(qtbot, engine, tmp_path, monkeypatch):
    data = tmp_path / "data"
    (data / "sessions").mkdir(parents=True)
    (data / "sessions" / "123-456.mvsketch").write_bytes(HOSTILE_SKETCHES["tempo-nan"](sketch_bytes(tmp_path)))
    monkeypatch.setattr(MainWindow, "ask", lambda *a: pytest.fail("a damaged sketch must not be offered"))
    w = open_window(qtbot, engine, data, "ask")
    assert w.song is None and (data / "recovered" / "123-456.mvsketch").exists()
    assert w.autosave.crashed() == []


def test_a_folder_named_like_the_last_sketch_does_not_stop_the_start(qtbot, engine, tmp_path):
    data = tmp_path / "data"
    (data / "last.mvsketch").mkdir(parents=True)
    w = open_window(qtbot, engine, data)
    assert w.song is None and (data / "recovered" / "last.mvsketch").is_dir()


def test_a_recovered_folder_that_cannot_be_made_still_gives_a_window(qtbot, engine, tmp_path):
    data = tmp_path / "data"
    (data / "sessions").mkdir(parents=True)
    (data / "recovered").write_text("a file where the recovered folder goes")
    bad = HOSTILE_SKETCHES["chunk-steps-0"](sketch_bytes(tmp_path))
    (data / "last.mvsketch").write_bytes(bad)
    for i in range(3):  # crash autosaves that can be neither restored (restore=no) nor moved
        sketchfile.save(Sketch([a_song()]), data / "sessions" / f"{i}-1.mvsketch")
    w = open_window(qtbot, engine, data, "no")
    assert w.song is None and "could not be set aside" in w.statusBar().currentMessage()


def test_thousands_of_crash_autosaves_do_not_stall_the_start(qtbot, engine, tmp_path):
    data = tmp_path / "data"
    (data / "sessions").mkdir(parents=True)
    bad = HOSTILE_SKETCHES["tempo-nan"](sketch_bytes(tmp_path))
    for i in range(2000):
        (data / "sessions" / f"{i}-1.mvsketch").write_bytes(bad)
    start = time.perf_counter()
    w = open_window(qtbot, engine, data, "no")
    assert time.perf_counter() - start < 20
    assert w.song is None and len(list((data / "recovered").iterdir())) == 2000  # every one kept, none opened


def test_start_window_starts_clean_when_restoring_fails_unforeseen(qtbot, tmp_path):
    data = tmp_path / "data"
    (data / "sessions").mkdir(parents=True)
    sketchfile.save(Sketch([a_song()]), data / "last.mvsketch")
    calls = []

    class Flaky(MainWindow):
        def __init__(self, pack=None, restore=None, data_dir=None):
            calls.append(restore)
            if len(calls) == 1:
                raise RuntimeError("an unforeseen failure while restoring")
            super().__init__(engine=None, data_dir=data_dir, restore=restore, pack=str(tmp_path / "no-pack"))

    w = app_module.start_window(Flaky, data_dir=data)
    qtbot.addWidget(w)
    assert calls == [None, "no"] and not (data / "last.mvsketch").exists()
    assert len(list((data / "recovered").glob("last-*.mvsketch"))) == 1


# --- data folders that cannot be written ------------------------------------------------------------------
def test_a_data_folder_that_cannot_be_created_gives_a_warning_and_a_window(qtbot, engine, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    rescue = tmp_path / "rescue"
    monkeypatch.setattr(autosave_module, "rescue_dir", lambda: rescue)
    w = open_window(qtbot, engine, blocker / "data", "no")
    assert not w.autosave.enabled
    assert "Autosave is off" in w.statusBar().currentMessage()
    w.bar.steps.set_value(1)
    with qtbot.waitSignal(w.songChanged, timeout=60000):
        w.generate()
    w.close()  # nothing can go in the data folder: the sketch goes to the rescue folder instead
    saved = list(rescue.glob("*.mvsketch"))
    assert len(saved) == 1 and sketchfile.load(saved[0]).song.equal_notes(w.song)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_data_folder_gives_a_warning_and_a_window(qtbot, engine, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    data.chmod(0o500)
    try:
        w = open_window(qtbot, engine, data, None)
        assert not w.autosave.enabled and "Autosave is off" in w.statusBar().currentMessage()
    finally:
        data.chmod(0o700)


def test_user_data_dir_that_cannot_be_created_is_no_traceback(tmp_path, monkeypatch):
    from musicvae_app import userdata

    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    monkeypatch.setenv(userdata.DATA_DIR_ENV, str(blocker / "data"))
    assert userdata.data_dir() == blocker / "data"


def test_settings_the_window_cannot_use_are_dropped_before_it_starts(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "settings.ini").write_text(
        "[General]\nnoise=loud\ntempo=nan\nsteps=1e400\nvariations=4\ngeometry=abc\nseed=99999999999999999999\n"
    )
    assert sorted(app_module.repair_settings(data)) == ["geometry", "noise", "seed", "steps", "tempo"]
    assert "variations=4" in (data / "settings.ini").read_text()


@pytest.mark.parametrize("layout", ["damaged-last", "not-creatable", "sessions-is-a-file", "garbage-settings"])
def test_the_app_reaches_its_window_with_any_data_folder(tmp_path, tiny_pack, layout):
    data = tmp_path / "data"
    if layout == "damaged-last":
        data.mkdir()
        (data / "last.mvsketch").write_bytes(HOSTILE_SKETCHES["huge-array-shape"](sketch_bytes(tmp_path)))
    elif layout == "garbage-settings":
        data.mkdir()
        (data / "settings.ini").write_text("[General]\nnoise=loud\ntempo=nan\nsteps=[1,2]\ngeometry=abc\n")
    elif layout == "not-creatable":
        (tmp_path / "file").write_text("x")
        data = tmp_path / "file" / "data"
    else:
        data.mkdir()
        (data / "sessions").write_text("a file where the sessions folder goes")
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHONPATH": str(ROOT),
        "MUSICVAE_DATA_DIR": str(data),
        "MUSICVAE_PACK": str(tiny_pack),
        "MUSICVAE_EXIT_WHEN_READY": "window",
        "MUSICVAE_RESTORE": "yes",
    }
    result = subprocess.run(
        [sys.executable, "-m", "musicvae_app"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        preexec_fn=cap_memory if sys.platform.startswith("linux") else None,
    )
    assert result.returncode == 0 and "ready" in result.stdout, result.stderr[-2000:]
    assert "Traceback" not in result.stderr


# --- autosave under a busy user and a failing disk ---------------------------------------------------------
def song_sketch() -> Sketch:
    return Sketch([a_song()])


def test_a_user_who_never_pauses_is_still_saved_within_the_maximum_wait(qtbot, tmp_path):
    saver = Autosave(tmp_path / "data", song_sketch)
    start = time.monotonic()
    while saver.saves == 0 and time.monotonic() - start < 6:
        saver.schedule()  # a change every 0.3 s: the quiet-time delay alone would never fire
        qtbot.wait(300)
    assert saver.saves >= 1 and saver.path.exists()
    assert time.monotonic() - start < MAX_WAIT_MS / 1000 + 2
    saver.close_clean()


def test_full_disk_is_reported_retried_and_never_replaces_the_last_good_save(qtbot, tmp_path, monkeypatch):
    saver = Autosave(tmp_path / "data", song_sketch)
    messages = []
    saver.problem.connect(messages.append)
    saver.save_now()
    saver.pool.waitForDone()
    qtbot.waitUntil(lambda: saver.saves == 1, timeout=5000)
    good = saver.path.read_bytes()
    monkeypatch.setattr(autosave_module.sketchfile, "save", full_disk)
    saver.schedule()
    qtbot.waitUntil(lambda: saver.failures >= 1, timeout=5000)
    assert "No space left on device" in messages[-1] and "retrying" in messages[-1]
    assert saver.path.read_bytes() == good and saver.timer.isActive()  # the retry is on its way
    monkeypatch.undo()
    qtbot.waitUntil(lambda: saver.saves == 2, timeout=10000)
    assert saver.failures == 0 and "works again" in messages[-1]
    saver.close_clean()


def test_a_disk_full_at_start_keeps_autosave_trying(qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr(autosave_module, "atomic_write", full_disk)
    saver = Autosave(tmp_path / "data", song_sketch)
    assert saver.enabled and "is full" in saver.notice
    monkeypatch.undo()
    saver.save_now()
    qtbot.waitUntil(lambda: saver.saves == 1, timeout=5000)  # room again: saved
    saver.close_clean()


def test_window_shows_autosave_failures_in_the_status_bar(qtbot, engine, tmp_path, monkeypatch):
    w = open_window(qtbot, engine, tmp_path / "data", "no")
    w.bar.steps.set_value(1)
    monkeypatch.setattr(autosave_module.sketchfile, "save", full_disk)
    with qtbot.waitSignal(w.songChanged, timeout=60000):
        w.generate()
    qtbot.waitUntil(lambda: "Autosave failed" in w.statusBar().currentMessage(), timeout=10000)


def test_close_on_a_failing_autosave_still_writes_the_last_sketch(qtbot, tmp_path, monkeypatch):
    data = tmp_path / "data"
    saver = Autosave(data, song_sketch)
    real_save = sketchfile.save
    monkeypatch.setattr(
        autosave_module.sketchfile, "save", lambda s, p: full_disk() if "sessions" in str(p) else real_save(s, p)
    )
    saver.schedule()
    qtbot.waitUntil(lambda: saver.failures >= 1, timeout=5000)
    assert saver.close_clean() == data / "last.mvsketch"
    assert sketchfile.load(data / "last.mvsketch").song.equal_notes(a_song())


def test_temp_files_of_killed_saves_are_cleaned_at_start(tmp_path):
    sessions = tmp_path / "data" / "sessions"
    sessions.mkdir(parents=True)
    dead = sessions / f".1-2.mvsketch{atomic.TEMP_MARK}999999999-beef{atomic.TEMP_SUFFIX}"
    dead.write_bytes(b"\0" * 4096)
    (tmp_path / "data" / "drag").mkdir()
    old_export = tmp_path / "data" / "drag" / ".sketch-7-abc123.mid.tmp"  # a drag-out export killed mid-write
    old_export.write_bytes(b"\0" * 4096)
    os.utime(old_export, (time.time() - 7200, time.time() - 7200))
    saver = Autosave(tmp_path / "data", song_sketch)
    assert not dead.exists() and not old_export.exists()
    saver.close_clean()


# --- undo history bounded by memory ----------------------------------------------------------------------
def big_song(i: int) -> Song:
    probs = np.full((5, 1024, 128), i / 100, dtype=np.float32)  # 2.6 MB each
    return Song(probs, steps_per_beat=4, chunk_steps=64, tempo=120.0)


def test_undo_history_drops_the_oldest_steps_beyond_its_memory_budget():
    shown, freed = [], None

    def show(state: State) -> None:  # like the window: only the state on screen is held
        shown[:] = [state]

    stack = History(show, budget=8 * big_song(0).probs.nbytes)
    state = State()
    for i in range(1, 30):
        after = State((big_song(i),), 0)
        freed = freed or weakref.ref(after.song)
        stack.push(state, after, f"Generate {i}")
        state = after
    assert 2 <= stack.count() <= 8  # about 8 songs' worth of history, never all 29
    assert stack.text(stack.count() - 1) == "Generate 29"
    gc.collect()
    assert freed() is None  # the dropped steps' memory is returned
    assert shown[-1] is state  # the replayed steps did not re-apply anything
    stack.undo()
    assert shown[-1].song.probs[0, 0, 0] == pytest.approx(0.28)  # undo still walks back step by step
    stack.undo()
    assert shown[-1].song.probs[0, 0, 0] == pytest.approx(0.27)


def test_window_undo_history_is_bounded(qtbot, engine, tmp_path, monkeypatch):
    import musicvae_app.sketch.undo as undo_module

    monkeypatch.setattr(undo_module, "HISTORY_STEPS", 3)
    w = open_window(qtbot, engine, tmp_path / "data", "no")
    w.bar.steps.set_value(1)
    for _ in range(5):
        with qtbot.waitSignal(w.songChanged, timeout=60000):
            w.generate()
    assert w.undo_stack.count() == 3
    note = w.findChild(QAction, "undoHistoryNote")
    assert "2 older steps dropped" in note.text() and not note.isEnabled()  # said in the Edit menu
    song = w.song
    w.undo_stack.undo()
    assert w.song is not song


def test_primers_with_bad_meta_events_load_in_the_window(qtbot, window, tmp_path):
    """Issue 22: meta events that broke mido (100 sharps, 1-byte time signature...) are ignored; the notes prime."""
    from test_hostile import BAD_META

    for name, data in sorted(BAD_META.items()):
        path = tmp_path / f"{name}.mid"
        path.write_bytes(data)
        assert window.open_primer(path)
        qtbot.waitUntil(lambda path=path: path.name[:8] in window.bar.primer.text(), timeout=20_000)
        assert window.primer == path
        assert not window.last_error
