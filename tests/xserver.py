"""A real X server for tests that must see the window as a user does: Xvfb on a free display, no window manager.

The `x_display` fixture starts Xvfb itself and skips (with the reason) only where Xvfb is not installed
(`make setup` installs it). Use it from subprocesses: the pytest process itself stays offscreen.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _free_display() -> int:
    for n in range(90, 200):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return n
    raise RuntimeError("no free X display number between :90 and :199")


@pytest.fixture(scope="session")
def x_display():
    """':N' of a running Xvfb (1280x1024, 24 bit), stopped after the session."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        pytest.skip("Xvfb is not installed (apt-get install xvfb, or `make setup` as root): no real X server here")
    n = _free_display()
    proc = subprocess.Popen(
        [xvfb, f":{n}", "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    socket = Path(f"/tmp/.X11-unix/X{n}")
    deadline = time.monotonic() + 20
    while not socket.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"Xvfb :{n} did not start: {proc.stderr.read().decode(errors='replace')[-500:]}")
        time.sleep(0.05)
    yield f":{n}"
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def x_env(display: str | None, tmp: Path, platform: str = "xcb") -> dict:
    """The environment of a window process: the X display (or offscreen), its own data and config folders."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env.update(
        QT_QPA_PLATFORM=platform,
        HOME=str(tmp),
        XDG_CONFIG_HOME=str(tmp / "config"),
        MUSICVAE_DATA_DIR=str(tmp / "data"),
        PYTHONPATH=str(ROOT),
    )
    if display:
        env["DISPLAY"] = display
    return env


def run_window(args: list[str], env: dict, timeout: float = 420) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
