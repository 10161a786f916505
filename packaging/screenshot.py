"""Screenshot of the real window with a generated sketch: docs/screenshot.png (1280x800), 1920x1080 and 1024x600 checks.

Run offscreen: QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/screenshot.py [--seed N]
Uses the default pack; without one it says so and uses an untrained random pack (the picture then
shows noise, not music).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from musicvae_app.engine import Engine  # noqa: E402
from musicvae_app.model.pack import PackError, load_pack  # noqa: E402
from musicvae_app.ui.app import make_app  # noqa: E402
from musicvae_app.ui.main_window import MainWindow  # noqa: E402


def random_pack(folder: Path):
    import torch

    from musicvae_app.model.nets import Band, PackConfig
    from musicvae_app.model.pack import save_pack

    torch.manual_seed(0)
    band = Band(PackConfig())
    with torch.no_grad():
        for vae in band.vae.values():
            vae.decoder.deconv3.weight.mul_(30)
            vae.decoder.deconv3.bias.fill_(-2.2)
    return load_pack(save_pack(band, folder, {"name": "untrained (no default pack yet)"}))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--steps", type=int, default=7)
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshot.png"))
    parser.add_argument("--big", default=str(Path(tempfile.gettempdir()) / "musicvae-screenshot-1920.png"))
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = make_app()
    with tempfile.TemporaryDirectory() as tmp:
        try:
            pack = load_pack()
        except PackError as exc:
            print(f"no default pack ({exc}); using an untrained random pack", file=sys.stderr)
            pack = random_pack(Path(tmp) / "pack")
        window = MainWindow(Engine.load(pack, device="cpu"), data_dir=Path(tmp) / "data", restore="no")
        bar = window.bar
        bar.steps.set_value(args.steps)
        bar.variations.setValue(3)
        bar.seed.setText(str(args.seed))
        bar.seed.textEdited.emit(bar.seed.text())  # as if typed: the session takes the seed
        bar.seed_lock.setChecked(True)
        window.headers[4].lock.setChecked(False)
        bar.key.setCurrentIndex(bar.key.findText("E minor"))  # the composing controls, in use
        bar.scale_lock.setChecked(True)
        window.session.set_form("intro 4, verse 8, chorus 8, verse 8, chorus 4")  # the sections strip, in use
        window.show()
        window.generate()
        window.worker.wait()
        app.processEvents()
        window.pick_take(1)
        window.session.set_chord(13, "Am")  # a typed chord (bright) among the recognized ones (dim)
        window.worker.wait()
        app.processEvents()
        window.headers[2].density.setValue(1.3)
        window.feel.swing.setValue(58)
        window.lanes.select_bars(9, 12, [1])  # guitar, bars 9-12: Ctrl+R would regenerate them
        window.headers[3].solo.setChecked(False)
        window.headers[1].mute.setChecked(True)
        window.time_label.setText(window.time_label.text())
        small = str(Path(args.big).with_name("musicvae-screenshot-1024x600.png"))
        for size, out in (((1280, 800), args.out), ((1920, 1080), args.big), ((1024, 600), small)):
            window.resize(*size)
            for _ in range(5):
                app.processEvents()
            Path(out).parent.mkdir(parents=True, exist_ok=True)
            window.grab().save(out)
            print(f"wrote {out} ({size[0]}x{size[1]})")
        window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
