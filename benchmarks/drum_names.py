"""How many of the drums that play the drum lane names, at 1024x600 and 1280x800 (issue 31: "2 of 14 names").

Run: QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/drum_names.py [--pack DIR] [--seeds 1-8] [--bars 16]

Generates one take per seed with the pack (default: the shipped default pack) in the real window, offscreen, and
for each window size prints the drums that play, the rows the lane shows, the rows it names and the row height
in pixels against a name's height. Works on any checkout with the window (PYTHONPATH=that tree), so a before and
after can be compared on the same seeds.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SIZES = ((1280, 800), (1024, 600))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pack", default=str(ROOT / "resources" / "models" / "default"))
    parser.add_argument("--seeds", default="1-8")
    parser.add_argument("--bars", type=int, default=16)
    args = parser.parse_args()
    lo, _, hi = args.seeds.partition("-")
    seeds = range(int(lo), int(hi or lo) + 1)
    from musicvae_app.ui.app import make_app

    app = make_app()
    from musicvae_app.sketch.song import DRUMS
    from musicvae_app.ui.main_window import MainWindow

    window = MainWindow(pack=args.pack, restore="no", data_dir=tempfile.mkdtemp(prefix="drum-names-"))
    window.show()

    def settle(until=lambda: True, timeout: float = 300.0) -> None:
        deadline = time.monotonic() + timeout
        while not until():
            if time.monotonic() > deadline:
                raise SystemExit("timed out")
            app.processEvents()
            time.sleep(0.01)
        for _ in range(20):
            app.processEvents()
            time.sleep(0.005)

    settle(lambda: window.engine is not None)
    window.bar.steps.set_value(max(args.bars // 4 - 1, 1))
    totals = {size: [0, 0] for size in SIZES}
    print("seed  size      playing  rows  named  row px  name px")
    for seed in seeds:
        window.session.set_seed(seed)
        window.generate()
        settle(lambda: window.song is not None and not window.worker.busy)
        song = window.song
        playing = int(song.notes(song.threshold)[DRUMS][:, 35:82].any(axis=0).sum())
        for size in SIZES:
            window.resize(*size)
            settle()
            lane = window.lanes.lanes[DRUMS]
            axis = lane.row_axis
            values = axis.tickValues(*lane.vb.viewRange()[1], lane.vb.height())[0][1]
            named = len({axis.label_rows.get(v, int(v)) for v in values})
            px = lane.vb.height() / max(len(lane.rows), 1)
            totals[size][0] += named
            totals[size][1] += playing
            print(
                f"{seed:4d}  {size[0]}x{size[1]:<4d} {playing:7d} {len(lane.rows):5d} {named:6d} {px:7.1f} "
                f"{axis.label_height:8d}"
            )
    for size, (named, playing) in totals.items():
        print(f"{size[0]}x{size[1]}: {named} of {playing} playing drums named ({100 * named / max(playing, 1):.0f} %)")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
