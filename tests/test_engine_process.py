"""The engine process (engine/remote.py, engine/serve.py; issue 31 item 5): a real second Python process.

The same seed and settings make byte-identical exports in the process and in this one; a process that dies, or
never starts, is said and replaced by the engine here (never a hang); it never outlives the window.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from musicvae_app.engine import Engine
from musicvae_app.engine.remote import EngineCallFailed, EngineProcess, EngineProcessLost, RemoteEngine
from musicvae_app.errors import InvalidValue
from musicvae_app.model.pack import PackError
from musicvae_app.sketch.jobs import message
from musicvae_app.sketch.midi import song_to_midifile
from musicvae_app.sketch.session import Session
from musicvae_app.sketch.spec import GenerationSettings

ROOT = Path(__file__).resolve().parents[1]
TAG_ENV = "MUSICVAE_TEST_PROCESS_TAG"


def pids_tagged(tag: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if f"{TAG_ENV}={tag}".encode() in (proc / "environ").read_bytes().split(b"\0"):
                if (proc / "stat").read_text().split(") ")[1][0] != "Z":  # a zombie is gone, only not reaped
                    found.append(int(proc.name))
        except OSError:
            continue
    return found


def wait_until(check, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


@pytest.fixture(scope="module")
def remote(tiny_pack):
    process = EngineProcess.start(tiny_pack)
    engine = RemoteEngine(process, tiny_pack)
    yield engine
    assert process.close() == 0  # asked to quit, it leaves by itself


def midi_bytes(song) -> bytes:
    out = io.BytesIO()
    song_to_midifile(song).save(file=out)
    return out.getvalue()


def session_of(engine, tmp_path: Path, name: str) -> Session:
    s = Session(engine, settings=GenerationSettings.from_card(engine.pack.card))
    s.update_settings(steps=3, variations=2)
    return s


def the_story(engine, tmp_path: Path, name: str) -> list[bytes]:
    """A Generate (two takes), a regenerated lane, a chart, an infill, a morph: each take exported as .mid bytes."""
    s = session_of(engine, tmp_path, name)
    out = []

    def export(step: str) -> None:
        path = s.export_midi(tmp_path / f"{name}-{step}.mid")
        assert path is not None, s.events.last_error
        out.append(path.read_bytes())

    s.set_seed(4242)
    assert s.generate()
    export("generate")
    s.replace_take(engine.regenerate_lane(s.song, "guitar", seed=5), "Regenerate guitar")  # the window's is unseeded
    export("regenerate")
    assert s.set_chords("| Am | F | C | G |")
    export("chords")
    assert s.infill(2, 3, seed=77)
    export("infill")
    assert s.morph_to_take(1 if s.state.index == 0 else 0, steps=3)
    export("morph")
    return out


def test_the_same_seed_and_settings_export_the_same_bytes_in_the_process_and_here(remote, engine, tmp_path):
    assert remote.remote and remote.pack.name == engine.pack.name
    assert remote.cfg.chunk_steps == engine.cfg.chunk_steps and remote.cfg.bars == engine.cfg.bars
    local = Engine.load(engine.pack, one_song_threads=1)  # as the window loads it
    there, here = the_story(remote, tmp_path, "remote"), the_story(local, tmp_path, "local")
    assert len(there) == 5 and all(len(b) > 100 for b in there)
    assert there == here
    assert len(set(there)) == 5  # five different takes: the comparison compared something


def test_the_default_pack_makes_the_same_takes_in_the_process_and_here(tmp_path):
    """The shipped pack (bank, styles, harmony model): a styled Generate with a chart, byte for byte."""
    process = EngineProcess.start(None)
    try:
        remote = RemoteEngine(process)
        local = Engine.load(None, one_song_threads=1)
        assert remote.styles() == local.styles() and remote.card == local.card
        args = dict(steps=3, seed=9, variations=2, chords="Am F C G", style=remote.styles()[1][0])
        there, here = remote.generate_takes(**args), local.generate_takes(**args)
        assert len(there) == 2 and midi_bytes(there[0]) != midi_bytes(there[1])
        assert [midi_bytes(song) for song in there] == [midi_bytes(song) for song in here]
        assert remote.harmonize(there[0], alternatives=2) == local.harmonize(here[0], alternatives=2)
    finally:
        process.close()


def test_an_error_in_the_process_comes_back_as_raised_there(remote, engine):
    with pytest.raises(InvalidValue) as there:
        remote.generate(steps=-1, seed=1)
    with pytest.raises(InvalidValue) as here:
        engine.generate(steps=-1, seed=1)
    assert str(there.value) == str(here.value)
    with pytest.raises(InvalidValue, match="unknown style"):  # the styles are the pack's, read without a call
        remote.style_set.get("polka-nonexistent")
    assert remote.remote  # the process is still there


def test_a_pack_that_does_not_load_is_the_same_message_as_here(tmp_path):
    missing = tmp_path / "no-such-pack"
    process = EngineProcess.start(missing)
    with pytest.raises((PackError, EngineCallFailed)) as there:  # PackError's module is loaded here already
        process.wait_ready(60)
    with pytest.raises(PackError) as here:
        Engine.load(missing)
    assert message(there.value) == message(here.value)
    assert wait_until(lambda: not process.alive, 10)


def test_a_window_whose_pack_does_not_load_in_the_process_says_so(qtbot, tmp_path):
    from musicvae_app.ui.main_window import MainWindow

    missing = tmp_path / "no-such-pack"
    with pytest.raises(PackError) as here:
        Engine.load(missing)
    process = EngineProcess.start(missing)
    w = MainWindow(pack=str(missing), data_dir=tmp_path / "data", restore="no", engine_process=process)
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: w.engine_error is not None, timeout=120_000)
    assert w.engine is None and w.engine_error.startswith(message(here.value))
    assert w.last_error == w.engine_error  # the "No model pack" message, as with the engine in the window


def test_a_process_not_ready_in_time_is_replaced_by_the_engine_here(qtbot, tiny_pack, tmp_path, monkeypatch):
    from musicvae_app.engine import remote as remote_module
    from musicvae_app.ui.main_window import MainWindow

    monkeypatch.setattr(remote_module, "READY_TIMEOUT_S", 0.5)
    process = EngineProcess.start(tiny_pack)
    os.kill(process.proc.pid, signal.SIGSTOP)  # hung
    try:
        w = MainWindow(pack=str(tiny_pack), data_dir=tmp_path / "data", restore="no", engine_process=process)
        qtbot.addWidget(w)
        with qtbot.waitSignal(w.engineReady, timeout=120_000):
            pass
        assert isinstance(w.engine, Engine) and "not ready after" in w.engine_notice
        assert wait_until(lambda: not process.alive, 10)
    finally:
        if process.alive:
            process.proc.kill()


def test_a_killed_process_is_said_and_the_engine_runs_here_with_the_same_take(tiny_pack, engine, tmp_path):
    notices = []
    process = EngineProcess.start(tiny_pack)
    remote = RemoteEngine(process, tiny_pack, on_notice=notices.append)
    first = remote.generate(steps=2, seed=31)
    os.kill(process.proc.pid, signal.SIGKILL)
    start = time.monotonic()
    again = remote.generate(steps=2, seed=31)  # never a hang: the engine loads here and runs the call
    assert time.monotonic() - start < 120
    assert not remote.remote and not process.alive
    assert notices and "stopped" in notices[0] and "loading the model in the window" in notices[0]
    assert notices[-1] == "The model runs in the window now (the engine process stopped)"
    assert again.note_counts() == first.note_counts()
    assert (again.probs == first.probs).all()


def test_a_process_that_dies_before_it_is_ready_raises_at_once(tiny_pack):
    process = EngineProcess.start(tiny_pack)
    os.kill(process.proc.pid, signal.SIGKILL)
    start = time.monotonic()
    with pytest.raises(EngineProcessLost, match="exited before it was ready"):
        process.wait_ready(60)
    assert time.monotonic() - start < 5


def test_a_process_not_ready_in_time_is_stopped(tiny_pack):
    process = EngineProcess.start(tiny_pack)
    os.kill(process.proc.pid, signal.SIGSTOP)  # hung
    try:
        with pytest.raises(EngineProcessLost, match="not ready after"):
            process.wait_ready(0.5)
        assert wait_until(lambda: not process.alive, 10)
    finally:
        if process.alive:
            process.proc.kill()


def test_the_window_generates_through_the_process_and_closes_it(qtbot, tiny_pack, tmp_path):
    from musicvae_app.ui.main_window import MainWindow

    process = EngineProcess.start(tiny_pack)
    w = MainWindow(pack=str(tiny_pack), data_dir=tmp_path / "data", restore="no", engine_process=process)
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.engineReady, timeout=120_000):
        pass
    assert isinstance(w.engine, RemoteEngine) and w.engine.remote
    w.bar.steps.set_value(2)
    with qtbot.waitSignal(w.songChanged, timeout=60_000):
        w.generate()
    assert w.song is not None and sum(w.song.note_counts().values()) > 0
    assert w.export_midi(tmp_path / "a.mid") is not None
    w.close()
    assert not process.alive and process.proc.returncode == 0  # asked to quit, it left


def test_a_window_whose_process_is_killed_says_so_and_still_generates(qtbot, tiny_pack, tmp_path):
    from musicvae_app.ui.main_window import MainWindow

    process = EngineProcess.start(tiny_pack)
    w = MainWindow(pack=str(tiny_pack), data_dir=tmp_path / "data", restore="no", engine_process=process)
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.engineReady, timeout=120_000):
        pass
    os.kill(process.proc.pid, signal.SIGKILL)
    w.bar.steps.set_value(2)
    with qtbot.waitSignal(w.songChanged, timeout=120_000):
        w.generate()
    assert w.song is not None and not w.engine.remote
    qtbot.waitUntil(lambda: w.engine_notice == "The model runs in the window now (the engine process stopped)")
    assert w.last_error is None


def test_a_window_whose_process_never_starts_loads_the_engine_itself(qtbot, tiny_pack, tmp_path):
    from musicvae_app.ui.main_window import MainWindow

    process = EngineProcess.start(tiny_pack)
    os.kill(process.proc.pid, signal.SIGKILL)
    w = MainWindow(pack=str(tiny_pack), data_dir=tmp_path / "data", restore="no", engine_process=process)
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.engineReady, timeout=120_000):
        pass
    assert isinstance(w.engine, Engine)
    assert w.engine_notice.startswith("The engine process exited before it was ready")
    assert w.engine_notice.endswith("loading the model in the window")


def test_closing_the_window_while_the_process_loads_stops_it_at_once(qtbot, tiny_pack, tmp_path):
    from musicvae_app.ui.main_window import MainWindow

    process = EngineProcess.start(tiny_pack)
    w = MainWindow(pack=str(tiny_pack), data_dir=tmp_path / "data", restore="no", engine_process=process)
    qtbot.addWidget(w)
    start = time.monotonic()
    w.close()
    assert time.monotonic() - start < 8 and not process.alive
    qtbot.wait(200)  # the load job's end is delivered: no "No model pack" message for a window that closed
    assert w.last_error is None


def run_app(tag: str, *args: str, **env) -> subprocess.Popen:
    full = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen", TAG_ENV: tag, **env}
    return subprocess.Popen(
        [sys.executable, "-m", "musicvae_app", *args],
        cwd=ROOT,
        env=full,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def test_the_app_self_test_runs_the_engine_in_its_process_and_leaves_none_behind(tmp_path, tiny_pack):
    tag = uuid.uuid4().hex
    script = (
        "import sys; from musicvae_app.ui.launch import main; code = main(['--self-test', '--pack', sys.argv[1]]); "
        "print('torch imported in the window:', 'torch' in sys.modules); sys.exit(code)"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen", TAG_ENV: tag}
    env["MUSICVAE_DATA_DIR"] = str(tmp_path / "data")
    done = subprocess.run(
        [sys.executable, "-c", script, str(tiny_pack)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert ": ok" in done.stdout and "engine process" in done.stdout
    assert "torch imported in the window: False" in done.stdout
    assert pids_tagged(tag) == []


def test_a_killed_window_takes_its_engine_process_with_it(tmp_path, tiny_pack):
    tag = uuid.uuid4().hex
    app = run_app(tag, "--pack", str(tiny_pack), MUSICVAE_DATA_DIR=str(tmp_path / "data"), MUSICVAE_RESTORE="no")
    try:
        assert wait_until(lambda: len(pids_tagged(tag)) >= 2, 60)  # the window and its engine process
        os.kill(app.pid, signal.SIGKILL)
        app.wait(10)
        assert wait_until(lambda: pids_tagged(tag) == [], 120), pids_tagged(tag)
    finally:
        if app.poll() is None:
            app.kill()
        for pid in pids_tagged(tag):
            os.kill(pid, signal.SIGKILL)


def test_no_engine_process_when_turned_off(tmp_path, tiny_pack):
    tag = uuid.uuid4().hex
    app = run_app(
        tag,
        "--pack",
        str(tiny_pack),
        MUSICVAE_DATA_DIR=str(tmp_path / "data"),
        MUSICVAE_RESTORE="no",
        MUSICVAE_ENGINE_PROCESS="0",
        MUSICVAE_EXIT_WHEN_READY="engine",
    )
    try:
        out, _ = app.communicate(timeout=300)
    finally:
        if app.poll() is None:
            app.kill()
    assert app.returncode == 0 and out.startswith("engine ")


def test_a_frozen_bundle_starts_its_own_executable_as_the_engine_process(tiny_pack, tmp_path, monkeypatch):
    """As PyInstaller's bundle: sys.executable is the app (packaging/launcher.py), told by the environment to serve."""
    bundle = tmp_path / "musicvae-app"
    bundle.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{ROOT / "packaging" / "launcher.py"}" "$@"\n')
    bundle.chmod(0o755)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(bundle))
    process = EngineProcess.start(tiny_pack)
    try:
        assert process.proc.args[0] == str(bundle)
        engine = RemoteEngine(process, tiny_pack)
        assert engine.pack.name == "tiny-32" and engine.generate(steps=1, seed=2).n_bars > 0
    finally:
        assert process.close() == 0
