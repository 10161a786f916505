"""The window on a real X server (Xvfb, QT_QPA_PLATFORM=xcb), as a user on a fresh desktop gets it (issue 12).

Every other window test runs offscreen, which never loads Qt's xcb plugin: these start the real thing.
"""

from __future__ import annotations

import json

import pytest
import xserver
from PySide6.QtGui import QImage
from xserver import run_window, x_env

from musicvae_app import displaycheck

x_display = xserver.x_display  # the fixture: a fresh Xvfb for this module's tests


def result_of(proc) -> dict:
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, f"rc {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    return json.loads(lines[-1][len("RESULT ") :])


def test_display_check_finds_the_x_server_and_libraries(x_display):
    assert displaycheck.problem({"DISPLAY": x_display}) is None
    assert displaycheck.missing_libraries() == []


@pytest.mark.timeout(900)
def test_self_test_runs_on_the_real_x_server(x_display, tiny_pack, tmp_path):
    proc = run_window(["-m", "musicvae_app", "--self-test", "--pack", str(tiny_pack)], x_env(x_display, tmp_path))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert ": ok" in proc.stdout
    assert "Could not load the Qt platform plugin" not in proc.stderr


@pytest.mark.timeout(900)
def test_real_x_window_shows_the_same_widgets_as_offscreen(x_display, tiny_pack, tmp_path):
    shots = {}
    for platform, display in (("xcb", x_display), ("offscreen", None)):
        folder = tmp_path / platform
        folder.mkdir()
        args = ["tests/x_window.py", "census", "--pack", str(tiny_pack), "--out", str(folder)]
        shots[platform] = result_of(run_window(args, x_env(display, folder, platform)))
    xcb, off = shots["xcb"], shots["offscreen"]
    assert xcb["platform"] == "xcb" and off["platform"] == "offscreen"
    assert set(xcb["widgets"]) == set(off["widgets"])
    for name in ("generateButton", "dragHandle", "lane_drums", "lane_piano", "playbackPanel", "stepsSlider"):
        assert name in xcb["widgets"], name
    for name, (_x, _y, w, h) in xcb["widgets"].items():
        assert w > 0 and h > 0, name
        assert abs(w - off["widgets"][name][2]) <= 40 and abs(h - off["widgets"][name][3]) <= 40, name
    images = {k: QImage(v["png"]) for k, v in shots.items()}
    assert images["xcb"].size() == images["offscreen"].size()
    assert images["xcb"].width() >= 1000
    # Not a blank or black frame: the real-X picture has the lanes' notes drawn in their colours.
    colours = {images["xcb"].pixel(x, y) for x in range(0, images["xcb"].width(), 7) for y in range(0, 800, 7)}
    assert len(colours) > 20


@pytest.mark.timeout(900)
def test_readme_first_sketch_story_on_the_real_x_server(x_display, tiny_pack, tmp_path):
    args = ["tests/x_window.py", "story", "--pack", str(tiny_pack), "--out", str(tmp_path)]
    result = result_of(run_window(args, x_env(x_display, tmp_path)))
    steps = result["steps"]
    failed = {k: v for k, v in steps.items() if v is False}
    assert not failed, steps
    assert steps["2 bars"] == 32 and steps["2 lanes with notes"] >= 4
    assert steps["5 output"] == "Built-in synth"
    assert steps["6 drag tracks"] == steps["6 export tracks"] == ["Piano", "Guitar", "Bass", "Strings", "Drums"]
    # A second parser (mido) reads a hit for every drum step on screen, in the dragged and the exported file.
    assert result["drum_cells"] > 0
    assert result["drum_hits"] == {"drag": result["drum_cells"], "export": result["drum_cells"]}


@pytest.mark.parametrize(
    "env,missing,expected",
    [
        ({}, [], "DISPLAY is not set"),
        ({"DISPLAY": ":0"}, ["libxcb-icccm.so.4", "libxcb-cursor.so.0"], "install libxcb-cursor0 libxcb-icccm4"),
        ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}, ["libxcb-icccm.so.4"], None),
        ({"WAYLAND_DISPLAY": "wayland-0"}, [], None),
    ],
)
def test_display_check_says_what_is_missing(env, missing, expected):
    text = displaycheck.problem(env, missing)
    assert (text is None) if expected is None else (expected in text)


def test_missing_libraries_come_from_ldd():
    ldd = "\tlibxcb-icccm.so.4 => not found\n\tlibc.so.6 => /lib/libc.so.6\n\tlibxcb-icccm.so.4 => not found\n"
    assert displaycheck.missing_from_ldd(ldd) == ["libxcb-icccm.so.4"]


def test_make_run_checks_the_display_first_and_says_what_is_missing(tmp_path):
    import subprocess
    import sys

    makefile = (xserver.ROOT / "Makefile").read_text()
    run_recipe = makefile.split("\nrun: setup\n", 1)[1].split("\n\n", 1)[0]
    assert "musicvae_app.displaycheck" in run_recipe.splitlines()[0]  # before the app starts
    for package in ("libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1", "xvfb"):
        assert package in makefile
    env = x_env(None, tmp_path, platform="")
    env.pop("QT_QPA_PLATFORM")
    for display, words in ((None, "DISPLAY is not set"), (":187", "No X server answers on DISPLAY=:187")):
        if display:
            env["DISPLAY"] = display
        proc = subprocess.run(
            [sys.executable, "-m", "musicvae_app.displaycheck"],
            env=env,
            capture_output=True,
            text=True,
            cwd=xserver.ROOT,
            timeout=60,
        )
        assert proc.returncode == 1 and words in proc.stderr, proc.stderr
