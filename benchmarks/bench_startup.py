"""Window benchmarks: cold start to a usable window, to Generate usable, peak memory, and lanes redraw.

Run: QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_startup.py [--runs 5] [--pack DIR] [--x]
     [--before TREE]
Cold start is measured from process launch (outside the process) to the first turn of the event loop
with the window shown ("usable": it takes clicks, shows the last sketch; the pack loads in the background)
and to Generate being usable (the pack loaded: a Generate runs at once; where the engine runs in its own
process, engine/remote.py, that process has said "ready"). --x runs the window on a real X
server (a fresh Xvfb, xcb) instead of offscreen. --before TREE also times the window of another checkout
(e.g. main before a change), its runs interleaved with this tree's so both see the same machine load.
Redraw is a three-minute song (92 bars) re-shown at a new threshold. --pycache keeps the compiled bytecode of
both trees in a temp folder, as Python does on a developer's machine, where PYTHONDONTWRITEBYTECODE is set.
--idle-share (Linux, root, run under `setsid`) measures as on an idle machine on a shared one: this benchmark's
session gets the CPU before the other sessions (its autogroup at nice -20) and the engine process stays in it
($MUSICVAE_ENGINE_SAME_SESSION=1), so both trees get the same share.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
GOAL_START_S, GOAL_GENERATE_S, GOAL_REDRAW_MS, GOAL_RSS_MB = 2.5, 1.5, 16.0, 600


def pack_dir(requested: str | None, tmp: Path) -> tuple[Path, str]:
    from musicvae_app.model.pack import PackError, default_pack_dir, load_pack

    if requested:
        return Path(requested), "given"
    try:
        load_pack()
        return default_pack_dir(), "default"
    except PackError:
        import torch

        from musicvae_app.model.nets import Band, PackConfig
        from musicvae_app.model.pack import save_pack

        torch.manual_seed(0)
        return save_pack(Band(PackConfig()), tmp / "pack", {"name": "random-default-size"}), "random (no default yet)"


def launch(
    mode: str, pack: Path, data: Path, extra: list[str] = (), tree: Path = ROOT, display: str | None = None
) -> tuple[float, float, str, str]:
    """(seconds from launch to the ready line, peak RSS MB, the line, the self-test's memory line or "").

    The peak RSS is the largest of the window's process and the processes it waited for (the engine's)."""
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "xcb" if display else os.environ.get("QT_QPA_PLATFORM", "offscreen"),
        "PYTHONPATH": str(tree),
        "MUSICVAE_EXIT_WHEN_READY": mode,
        "MUSICVAE_PACK": str(pack),
        "MUSICVAE_DATA_DIR": str(data),
        "MUSICVAE_RESTORE": "no",
    }
    if display:
        env["DISPLAY"] = display
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "musicvae_app", *extra],
        cwd=tree,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    line = memory = ""
    seconds = float("nan")
    for out in proc.stdout:
        if out.startswith(("ready", "engine")) and not line:
            seconds, line = time.perf_counter() - start, out.strip()
        elif out.startswith("memory:"):
            memory = out.strip()
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"the window exited with status {status} ({mode})")
    return seconds, usage.ru_maxrss / 1024, line, memory


def redraw_ms(pack: Path, repeats: int = 30) -> dict[str, float]:
    from musicvae_app.engine import Engine
    from musicvae_app.ui.app import make_app
    from musicvae_app.ui.controls import LaneHeader
    from musicvae_app.ui.lanes_view import LanesView

    app = make_app()
    engine = Engine.load(pack, device="cpu")
    cfg = engine.pack.config
    chunks = int(np.ceil(180 / (cfg.chunk_steps / cfg.steps_per_beat * 0.5)))  # 3 minutes at 120 BPM
    song = engine.generate(steps=chunks - 1, seed=1)
    view = LanesView([LaneHeader(i) for i in range(5)])
    view.resize(1280, 680)
    view.show()
    app.processEvents()
    data, full = [], []
    for i in range(repeats):
        t = 0.25 + 0.01 * (i % 10)
        start = time.perf_counter()
        view.set_song(song, threshold=t)
        data.append(time.perf_counter() - start)
        start = time.perf_counter()
        view.set_song(song, threshold=t + 0.05)
        view.grab()  # paints all five lanes into an image: the whole redraw as the screen would get it
        full.append(time.perf_counter() - start)
    return {
        "bars": song.n_bars,
        "data_ms": statistics.median(data) * 1000,
        "paint_ms": statistics.median(full) * 1000,
    }


def xvfb() -> tuple[subprocess.Popen, str]:
    """A fresh Xvfb (1280x800), for --x."""
    for n in range(90, 200):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            break
    proc = subprocess.Popen(["Xvfb", f":{n}", "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
    deadline = time.monotonic() + 20
    while not Path(f"/tmp/.X11-unix/X{n}").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("Xvfb did not start")
        time.sleep(0.05)
    return proc, f":{n}"


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()}, {os.cpu_count()} cores"
    except OSError:
        pass
    return f"{os.cpu_count()} cores"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pack")
    parser.add_argument("--x", action="store_true", help="on a real X server (a fresh Xvfb) instead of offscreen")
    parser.add_argument("--before", help="another checkout to time the same way, interleaved (before/after)")
    parser.add_argument("--no-redraw", action="store_true", help="start-up only")
    parser.add_argument("--idle-share", action="store_true", help="this session first (see above; setsid, root)")
    parser.add_argument(
        "--pycache",
        action="store_true",
        help="keep compiled bytecode in a temp folder for every tree (where PYTHONDONTWRITEBYTECODE is set)",
    )
    args = parser.parse_args()
    if args.idle_share:
        Path("/proc/self/autogroup").write_text("-20")  # this session's autogroup (setsid gave it its own)
        os.environ["MUSICVAE_ENGINE_SAME_SESSION"] = "1"
    server, display = xvfb() if args.x else (None, None)
    trees = {"this tree": ROOT, **({"before": Path(args.before).resolve()} if args.before else {})}
    try:
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            pack, kind = pack_dir(args.pack, tmp)
            if args.pycache:  # compiled bytecode kept, as Python keeps it on a developer's machine (not in the trees)
                os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
                os.environ["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
            for name, tree in trees.items():  # warm the OS file cache (and the bytecode cache) once
                launch("engine", pack, tmp / f"warmup-{name}", tree=tree, display=display)
            times: dict[str, dict[str, list]] = {name: {"window": [], "engine": []} for name in trees}
            for i in range(args.runs):  # interleaved: every tree sees the same machine load
                for name, tree in trees.items():
                    for mode in ("window", "engine"):
                        times[name][mode].append(
                            launch(mode, pack, tmp / f"{name}{mode}{i}", tree=tree, display=display)
                        )
            window, engine = times["this tree"]["window"], times["this tree"]["engine"]
            generated = launch("engine", pack, tmp / "g", ["--self-test"], display=display)
            redraw = None if args.no_redraw else redraw_ms(pack)
    finally:
        if server is not None:
            server.terminate()
    print(
        f"CPU: {cpu_name()}; load average at the end {os.getloadavg()[0]:.1f}; "
        f"{'Xvfb (xcb)' if args.x else 'offscreen'}"
        + ("; this session's autogroup at nice -20 (--idle-share)" if args.idle_share else "")
        + ("; bytecode cached (--pycache)" if args.pycache else "")
    )
    if args.before:
        for name in trees:
            w, e = (statistics.median(r[0] for r in times[name][m]) for m in ("window", "engine"))
            runs = [round(r[0], 2) for r in times[name]["engine"]]
            print(f"{name:>9}: usable window {w:.2f} s, Generate usable {e:.2f} s (runs: {runs})")
    rows = [
        ("cold start to usable window", f"{statistics.median(w[0] for w in window):.2f} s", f"<= {GOAL_START_S} s"),
        (
            "cold start to Generate usable (pack loaded)",
            f"{statistics.median(e[0] for e in engine):.2f} s",
            f"<= {GOAL_GENERATE_S} s",
        ),
        ("peak RSS, pack loaded + one Generate", f"{generated[1]:.0f} MB", f"< {GOAL_RSS_MB} MB"),
    ]
    if generated[3]:
        print(f"one Generate (self-test), peak RSS per process: {generated[3].removeprefix('memory: ')}")
    if redraw is not None:
        rows += [
            (f"redraw {redraw['bars']} bars (data)", f"{redraw['data_ms']:.1f} ms", f"< {GOAL_REDRAW_MS:.0f} ms"),
            (
                f"redraw {redraw['bars']} bars (data + paint)",
                f"{redraw['paint_ms']:.1f} ms",
                f"< {GOAL_REDRAW_MS:.0f} ms",
            ),
        ]
    print(f"pack: {pack} ({kind}); {args.runs} runs each, medians; Python {sys.version.split()[0]}")
    print(f"| {'measure':<44} | {'result':>9} | {'goal':>9} |")
    print(f"|{'-' * 46}|{'-' * 11}|{'-' * 11}|")
    for name, value, goal in rows:
        print(f"| {name:<44} | {value:>9} | {goal:>9} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
