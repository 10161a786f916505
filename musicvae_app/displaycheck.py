"""Can the window open here? `python -m musicvae_app.displaycheck` says what is missing, in words, before Qt aborts.

`make run` calls it first: on a fresh desktop Qt's xcb plugin needs X libraries that a minimal system
lacks, and Qt's own message ("Could not load the Qt platform plugin xcb") does not say which.
No Qt import here: a broken plugin must not take the check down with it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import subprocess
import sys
from pathlib import Path

# Shared library -> Debian/Ubuntu package, for what Qt's xcb plugin links or loads at start.
XCB_PACKAGES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-util.so.1": "libxcb-util1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libxcb.so.1": "libxcb1",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
}
DLOPENED = ("libxcb-cursor.so.0",)  # Qt >= 6.5 loads it at start without linking it: ldd cannot see it
HEADLESS = ("offscreen", "minimal", "vnc", "linuxfb", "eglfs")


def qt_plugin(name: str = "libqxcb.so") -> Path | None:
    """The platform plugin file inside the installed PySide6, found without importing Qt."""
    import importlib.util

    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "Qt" / "plugins" / "platforms" / name
    return path if path.exists() else None


def missing_from_ldd(ldd_output: str) -> list[str]:
    """Libraries that `ldd` reports as 'not found', each once, in order."""
    out: list[str] = []
    for line in ldd_output.splitlines():
        if "not found" in line:
            lib = line.split("=>")[0].strip()
            if lib and lib not in out:
                out.append(lib)
    return out


def missing_libraries(plugin: Path | None = None) -> list[str]:
    """What Qt's xcb plugin needs and this system lacks (linked libraries, and the one Qt loads itself)."""
    plugin = plugin or qt_plugin()
    missing: list[str] = []
    if plugin is not None:
        try:
            ldd = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True, timeout=30).stdout
        except (OSError, subprocess.SubprocessError):
            ldd = ""
        missing = missing_from_ldd(ldd)
    for lib in DLOPENED:
        try:
            ctypes.CDLL(lib)
        except OSError:
            if lib not in missing:
                missing.append(lib)
    return missing


def x_server_answers(display: str) -> bool:
    """True when an X server accepts a connection on `display` (libxcb's own check, no Qt)."""
    name = ctypes.util.find_library("xcb") or "libxcb.so.1"
    try:
        xcb = ctypes.CDLL(name)
    except OSError:
        return True  # without libxcb we cannot ask; the missing library is reported instead
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    conn = xcb.xcb_connect(display.encode(), None)
    try:
        return conn is not None and xcb.xcb_connection_has_error(conn) == 0
    finally:
        if conn:
            xcb.xcb_disconnect(conn)


def problem(environ: dict | None = None, missing: list[str] | None = None) -> str | None:
    """Why the window cannot open on this display, with what to do; None when it can."""
    env = os.environ if environ is None else environ
    platform = (env.get("QT_QPA_PLATFORM") or "").split(":")[0].strip()
    if platform in HEADLESS or sys.platform in ("darwin", "win32"):
        return None
    display, wayland = env.get("DISPLAY", ""), env.get("WAYLAND_DISPLAY", "")
    if platform == "wayland" or (wayland and not display and platform != "xcb"):
        return None  # a Wayland session: Qt's wayland plugin needs nothing from this list
    if not display:
        return (
            "No display to open the window on: DISPLAY is not set. Run `make run` from a desktop session "
            "(or `ssh -X`); on a headless machine use `xvfb-run make run` or QT_QPA_PLATFORM=offscreen."
        )
    missing = missing_libraries() if missing is None else missing
    if missing:
        packages = sorted({XCB_PACKAGES.get(lib, lib) for lib in missing})
        return (
            f"Qt cannot use the X display {display}: the system lacks {', '.join(missing)}. "
            f"Install them with: sudo apt-get install {' '.join(packages)}  (or run `make setup` as root)"
        )
    if not x_server_answers(display):
        return (
            f"No X server answers on DISPLAY={display}: is the desktop running, and may this user use it "
            "(XAUTHORITY, xhost)? On a headless machine use `xvfb-run make run`."
        )
    return None


def main() -> int:
    text = problem()
    if text:
        print(f"musicvae-app: {text}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
