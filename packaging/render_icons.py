"""Render resources/icons/musicvae-app.svg to the PNG sizes the desktop and the window use.

Run after editing the SVG: QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/render_icons.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ICONS = Path(__file__).resolve().parents[1] / "resources" / "icons"
SIZES = (16, 32, 48, 64, 128, 256)


def main() -> int:
    _app = QGuiApplication(sys.argv[:1])  # QPainter on a QImage needs a GUI application
    renderer = QSvgRenderer(str(ICONS / "musicvae-app.svg"))
    if not renderer.isValid():
        print(f"cannot read {ICONS / 'musicvae-app.svg'}", file=sys.stderr)
        return 1
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        image.save(str(ICONS / f"musicvae-app-{size}.png"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
