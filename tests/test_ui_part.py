"""Following a part in the real window (offscreen): the menu item, Shift+drop, the lane header and the label."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from band_files import write_notes
from musicvae_app.song import LANES

BASS = LANES.index("bass")
TIMEOUT = 60000


def test_shift_drop_follows_a_part_and_the_header_says_it_is_yours(qtbot, window, tmp_path):
    notes = [(2, 33, 36 + bar % 3, 4 * bar + b, 4 * bar + b + 0.5) for bar in range(4) for b in range(4)]
    path = write_notes(tmp_path / "my-bass.mid", notes, tempo=90)
    assert window.findChild(type(window.menuBar().actions()[0]), "followAction") is not None
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    drop = QDropEvent(
        QPointF(200, 200),
        Qt.DropAction.CopyAction | Qt.DropAction.MoveAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.ShiftModifier,
    )
    window.dropEvent(drop)
    assert drop.dropAction() == Qt.DropAction.CopyAction  # never a move of the user's file
    qtbot.waitUntil(lambda: window.session.part == path, timeout=TIMEOUT)
    assert window.primer is None  # followed, not a primer
    assert window.bar.primer.text().startswith("Part: my-bass.mid") and window.bar.tempo.value() == 90
    with qtbot.waitSignal(window.songChanged, timeout=TIMEOUT):
        window.generate()
    assert window.headers[BASS].title.text() == "Bass · your part"
    assert [h.title.text() for i, h in enumerate(window.headers) if i != BASS] == [
        n.capitalize() for i, n in enumerate(LANES) if i != BASS
    ]
    window.session.stop_following()
    assert window.bar.primer.text() == "Primer: none"
