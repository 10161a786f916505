"""The window as it opens on a screen of a given size (run on Xvfb by tests/test_real_x_fit.py).

    python tests/x_fit.py --pack DIR --out DIR

Starts the window the way `musicvae-app` does (no size given: it picks one that fits the screen), waits for
the pack, generates, and prints one JSON line (prefixed "RESULT "): the screen's available area, the
window's frame and the status bar's place on the screen, and a screenshot's path.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from x_window import make_app, wait_until  # beside this file (run as a script); it puts the repository on sys.path


def rect(r) -> list[int]:
    return [r.x(), r.y(), r.width(), r.height()]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pack", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    app = make_app()
    from musicvae_app.ui.main_window import MainWindow

    window = MainWindow(pack=args.pack, restore="no")
    window.show()
    assert wait_until(app, lambda: window.engine is not None), "the pack did not load"
    window.bar.steps.set_value(3)
    window.generate()
    assert wait_until(app, lambda: window.song is not None and not window.worker.busy)
    screen = window.screen()
    status = window.statusBar()
    top_left = status.mapToGlobal(status.rect().topLeft())
    bottom_right = status.mapToGlobal(status.rect().bottomRight())
    size = screen.geometry()
    png = Path(args.out) / f"window-{size.width()}x{size.height()}.png"
    window.grab().save(str(png))
    drums = window.lanes.lanes[4]  # the drum lane: every drum that plays named (issue 31)
    axis = drums.row_axis
    values = axis.tickValues(*drums.vb.viewRange()[1], drums.vb.height())[0][1]
    playing = window.song.notes(window.song.threshold)[4][:, 35:82].any(axis=0).sum()
    result = {
        "drum_rows": len(drums.rows),
        "drum_playing": int(playing),
        "drum_named": len({axis.label_rows.get(v, int(v)) for v in values}),
        "drum_row_px": drums.vb.height() / max(len(drums.rows), 1),
        "label_px": axis.label_height,
        "screen": rect(size),
        "available": rect(screen.availableGeometry()),
        "frame": rect(window.frameGeometry()),
        "status": [top_left.x(), top_left.y(), bottom_right.x(), bottom_right.y()],
        "status_visible": status.isVisible(),
        "png": str(png),
    }
    print("RESULT " + json.dumps(result), flush=True)
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
