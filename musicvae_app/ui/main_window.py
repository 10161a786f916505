"""The sketchpad window: observes the current Song, calls the Engine off the UI thread, never loses a sketch."""

from __future__ import annotations

import dataclasses
import os
import secrets
import time
from pathlib import Path

from PySide6.QtCore import QEvent, QMimeData, QSettings, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QFileDialog, QLabel, QMainWindow, QMessageBox, QVBoxLayout, QWidget

from .. import sketchfile, userdata
from ..midi import MidiImportError, read_primer, umask, write_midi, write_stems
from ..sketchfile import Sketch, SketchError
from ..song import DEFAULT_PROGRAMS, LANES, Song
from .audition import attach_playback
from .autosave import Autosave
from .controls import DEFAULT_STEPS, MAX_SEED, GenerateBar, LaneHeader, minutes
from .firstrun import generation_defaults, midi_tempo
from .lanes_view import LanesView
from .undo import Change, State, trim_history
from .worker import Worker, slot

RESTORE_ENV = "MUSICVAE_RESTORE"  # ask (default), yes or no: what to do with a crashed session's sketch
MERGE_THRESHOLD, MERGE_TEMPO, MERGE_PROGRAM = 1, 2, 3
MIDI_SUFFIXES = (".mid", ".midi")


class MainWindow(QMainWindow):
    """Five lanes, the generation bar, takes, undo, autosave. Build it with an Engine, or let it load one."""

    songChanged = Signal(object)  # the current Song, or None
    mutesChanged = Signal(list)  # lane_mutes()
    engineReady = Signal()

    def __init__(self, engine=None, data_dir: str | Path | None = None, restore: str | None = None, pack=None):
        super().__init__()
        self.setObjectName("mainWindow")
        self.data_dir = Path(data_dir) if data_dir is not None else userdata.data_dir()
        self.settings = QSettings(str(self.data_dir / "settings.ini"), QSettings.Format.IniFormat)
        self.engine = engine
        self.engine_error: str | None = None
        self.state = State()
        self.primer: Path | None = None
        self.primer_bpm: float | None = None  # the primer's tempo: the next Generate plays at it
        self._seed_typed = False  # a seed typed (or rolled) since the last Generate is used even unlocked
        self._opened_settings: dict = {}  # the settings of the sketch file opened last
        self.sketch_path: Path | None = None
        self.last_error: str | None = None  # the text of the last error shown, for tests and logs
        self.undo_stack = QUndoStack(self)
        self.worker = Worker(self)
        self._pending = None
        self._generate_when_ready = False
        self.autosave = Autosave(self.data_dir, self._snapshot, self)  # creates the data folder when it can
        self.autosave.problem.connect(lambda text: self.statusBar().showMessage(text, 15000))

        self.bar = GenerateBar(self._drag_mime)
        self.headers = [LaneHeader(i) for i in range(len(LANES))]
        self.lanes = LanesView(self.headers)
        central = QWidget()
        box = QVBoxLayout(central)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(0)
        box.addWidget(self.bar)
        box.addWidget(self.lanes, 1)
        self.setCentralWidget(central)
        self.setAcceptDrops(True)
        self.resize(1280, 800)
        self._build_status()
        self._build_menus()
        self._connect()
        self._pack_defaults = generation_defaults(pack if engine is None else engine.pack)
        self._load_settings()
        self.undo_stack.cleanChanged.connect(self._update_title)
        self._update_title()
        self._show_state()
        self.playback = attach_playback(self)
        self._restore(restore or os.environ.get(RESTORE_ENV, "ask"))
        if self.autosave.notice:  # a damaged sketch set aside, or autosave off: said, never a crash
            self.statusBar().showMessage(self.autosave.notice, 30000)
        if self.engine is None:
            self._load_engine(pack)
        else:
            self._engine_loaded(self.engine, 0.0)

    # --- public surface for tests and the playback panel ---------------------------------------
    @property
    def song(self) -> Song | None:
        """The current take."""
        return self.state.song

    def lane_mutes(self) -> list[bool]:
        """Per lane: True when playback should leave it silent (muted, or another lane is soloed)."""
        solo = [h.solo.isChecked() for h in self.headers]
        return [h.mute.isChecked() or (any(solo) and not s) for h, s in zip(self.headers, solo)]

    def add_playback_panel(self, widget: QWidget) -> None:
        """The transport gets its own thin row between the generate bar and the lanes."""
        self.centralWidget().layout().insertWidget(1, widget)

    def set_playhead(self, beats: float | None) -> None:
        self.lanes.set_playhead(beats)

    def show_error(self, title: str, text: str) -> None:
        """Every user-facing error goes through here: a non-blocking message box; the sketch is untouched."""
        self.last_error = text
        self.show_status(f"{title}: {text}", 10000)
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(slot(self.refocus))
        box.open()

    def show_status(self, text: str, ms: int = 0) -> None:
        """A status-bar message elided to the room left by the permanent labels; the whole text in its tooltip
        (and, for an error, in a dialog when the status bar is clicked)."""
        bar = self.statusBar()
        room = (
            bar.width()
            - sum(
                w.width()
                for w in (self.sketch_length, self.device_label, self.pack_label, self.time_label)
                if w.isVisible()
            )
            - 40
        )
        line = " ".join(text.split())
        bar.showMessage(bar.fontMetrics().elidedText(line, Qt.TextElideMode.ElideRight, max(room, 80)), ms)
        bar.setToolTip(text)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802
        if watched is self.statusBar() and event.type() == QEvent.Type.MouseButtonPress and self.last_error:
            box = QMessageBox(
                QMessageBox.Icon.Information, "Last message", self.last_error, QMessageBox.StandardButton.Ok, self
            )
            box.setObjectName("lastErrorBox")
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.finished.connect(slot(self.refocus))
            box.open()
            return True
        return super().eventFilter(watched, event)

    def ask(self, title: str, text: str) -> bool:
        """A yes/no question (only asked where the user's answer matters, e.g. restoring after a crash)."""
        answer = QMessageBox.question(self, title, text, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        self.refocus()
        return answer == QMessageBox.StandardButton.Yes

    def refocus(self) -> None:
        """Give the keyboard back to the window after a dialog: without a window manager (a bare X server)
        nobody else does, and every shortcut (Ctrl+G, Space...) would stay dead."""
        if self.isVisible():
            self.raise_()
            self.activateWindow()

    # --- engine calls --------------------------------------------------------------------------
    def generate(self) -> bool:
        """Generate with the bar's settings (locked lanes kept); returns False if it could not start now."""
        if not self._engine_usable("Generate"):
            return False
        bar = self.bar
        use_typed = bar.seed_lock.isChecked() or self._seed_typed  # typing a seed means "use this seed"
        seed = bar.seed_value() if use_typed else None
        seed = secrets.randbelow(MAX_SEED) if seed is None else seed
        self._seed_typed = False
        locked = [LANES[i] for i, h in enumerate(self.headers) if h.lock.isChecked()]
        keep = self.song if locked and self.song is not None else None
        args = dict(
            steps=int(bar.steps.value()),
            noise=bar.noise.value(),
            threshold=bar.threshold.value(),
            seed=seed,
            primer=str(self.primer) if self.primer else None,
            variations=int(bar.variations.value()),
            tempo=float(self.primer_bpm or bar.tempo.value()),
            keep=keep,
            keep_lanes=locked if keep is not None else (),
            lineup=[LANES[i] for i, h in enumerate(self.headers) if h.play.isChecked()] or None,
        )
        bar.seed.setText(str(seed))
        engine = self.engine
        return self._submit("Generate", lambda: engine.generate(**args), self._generated)

    def regenerate_lane(self, lane: int) -> bool:
        """A new part for one lane of the current take; the other lanes stay."""
        if not self._engine_usable(f"Regenerate {LANES[lane]}"):
            return False
        song = self.song
        if song is None:
            self.statusBar().showMessage("Generate a sketch first, then regenerate its lanes", 5000)
            return False
        engine, noise = self.engine, self.bar.noise.value()

        def done(new: Song, secs: float) -> None:
            self.replace_take(new, f"Regenerate {LANES[lane]}")
            self._generation_time(secs)

        return self._submit(f"Regenerate {LANES[lane]}", lambda: engine.regenerate_lane(song, lane, noise=noise), done)

    def replace_take(self, song: Song, text: str, merge: int = -1) -> None:
        """Swap the current take for a changed one (a regenerated lane, a Jam continuation), undoably."""
        takes = list(self.state.takes)
        takes[self.state.index] = song
        self._change(State(tuple(takes), self.state.index), text, merge)

    def _submit(self, what: str, fn, on_done) -> bool:
        if self.worker.busy:
            self._pending = (what, fn, on_done)
            self.statusBar().showMessage(f"Busy: {what} is queued and runs when the current job finishes", 5000)
            return False
        self.statusBar().showMessage(f"{what}…")
        return self.worker.submit(fn, on_done, lambda exc: self.show_error(f"{what} failed", _message(exc)))

    def _busy(self, busy: bool) -> None:
        self.bar.generate.setText("Working…" if busy else "Generate")
        if not busy and self._pending is not None:
            what, fn, on_done = self._pending
            self._pending = None
            QTimer.singleShot(0, slot(lambda: self._submit(what, fn, on_done)))

    def _generated(self, result, secs: float) -> None:
        songs = result if isinstance(result, list) else [result]
        programs = self._programs()
        takes = tuple(dataclasses.replace(s, programs=list(programs)) for s in songs)
        self._change(State(takes, 0), "Generate" if len(takes) == 1 else f"Generate {len(takes)} takes")
        self._generation_time(secs)
        self._save_settings()

    def _generation_time(self, secs: float) -> None:
        self.time_label.setText(f"Last generation: {secs * 1000:.0f} ms")
        self.statusBar().clearMessage()

    def _engine_usable(self, what: str) -> bool:
        if self.engine is not None:
            return True
        if self.engine_error:
            self.show_error("No model pack", self.engine_error)
        elif what == "Generate":
            self._generate_when_ready = True
            self.statusBar().showMessage("The model is still loading; Generate runs as soon as it is ready", 5000)
        else:
            self.statusBar().showMessage(f"The model is still loading; {what} again in a moment", 5000)
        return False

    def _load_engine(self, pack) -> None:
        def load():
            from ..engine import Engine  # torch loads here, on the worker thread, after the window is up

            return Engine.load(pack, one_song_threads=1)  # steady beside a busy DAW (see Engine)

        self.device_label.setText("Loading model…")
        self.worker.submit(load, self._engine_loaded, self._engine_failed)

    def _engine_loaded(self, engine, secs: float) -> None:
        self.engine = engine
        cfg = engine.pack.config
        self.bar.set_grid(cfg.chunk_steps, cfg.steps_per_beat)
        self.device_label.setText(f"Device: {engine.device_name}")
        self.pack_label.setText(f"Pack: {engine.pack.name}")
        if not self.settings.contains("noise"):  # normally read from the card already, before torch loaded
            gen = engine.pack.card.get("generation") or {}
            self.bar.noise.set_value(float(gen.get("noise", self.bar.noise.value())))
            self.bar.threshold.set_value(float(gen.get("threshold", self.bar.threshold.value())))
        self.engineReady.emit()
        if self._generate_when_ready:  # Generate was clicked while the pack loaded
            self._generate_when_ready = False
            self.generate()

    def _engine_failed(self, exc: Exception) -> None:
        self.engine_error = (
            f"{_message(exc)}\n\nThe window still opens, saves and exports sketches. To generate, put a pack in "
            f"resources/models/default, train one with `musicvae train`, or set MUSICVAE_PACK to a pack folder."
        )
        self.device_label.setText("Device: none")
        self.pack_label.setText("Pack: not found")
        self.show_error("No model pack", self.engine_error)

    # --- changes (all undoable) -----------------------------------------------------------------
    def _change(self, after: State, text: str, merge: int = -1) -> None:
        self.undo_stack.push(Change(self._apply, self.state, after, text, merge))
        trim_history(self.undo_stack)

    def _apply(self, state: State) -> None:
        self.state = state
        self._show_state()
        self.autosave.schedule()

    def _map_takes(self, text: str, merge: int, **fields) -> None:
        if self.state.takes:
            takes = tuple(dataclasses.replace(s, **fields) for s in self.state.takes)
            self._change(State(takes, self.state.index), text, merge)

    def set_threshold(self, value: float) -> None:
        """Re-threshold every take's stored probabilities: no engine call, no new randomness."""
        if self.song is not None and abs(self.song.threshold - value) > 1e-9:
            self._map_takes(f"Threshold {value:.2f}", MERGE_THRESHOLD, threshold=float(value))

    def set_tempo(self, bpm: float) -> None:
        if self.song is not None and abs(self.song.tempo - bpm) > 1e-9:
            self._map_takes(f"Tempo {bpm:.0f}", MERGE_TEMPO, tempo=float(bpm))

    def set_program(self, lane: int, program: int) -> None:
        programs = self._programs()
        programs[lane] = int(program)
        self._map_takes(f"{LANES[lane].capitalize()} instrument", MERGE_PROGRAM, programs=programs)

    def pick_take(self, index: int) -> None:
        if 0 <= index < len(self.state.takes) and index != self.state.index:
            self._change(State(self.state.takes, index), f"Take {index + 1}")

    def keep_take(self) -> None:
        if len(self.state.takes) > 1:
            self._change(State((self.song,), 0), f"Keep take {self.state.index + 1}")

    def _programs(self) -> list[int]:
        return list(self.song.programs) if self.song is not None else list(DEFAULT_PROGRAMS)

    def _show_state(self) -> None:
        song = self.song
        self.lanes.set_song(song)
        self.bar.takes.show_takes(self.state.index, len(self.state.takes))
        counts = song.note_counts() if song is not None else {}
        if song is None:
            self.sketch_length.setText("Sketch: none yet")
        else:
            self.sketch_length.setText(f"Sketch: {song.n_bars} bars · {minutes(song.seconds)}")
        for i, header in enumerate(self.headers):
            header.count.setText(f"{counts[LANES[i]]} notes" if song is not None else "")
            header.set_program(song.programs[i] if song is not None else DEFAULT_PROGRAMS[i])
        if song is not None:
            self.bar.threshold.set_value(song.threshold, quiet=True)
            self.bar.tempo.blockSignals(True)
            self.bar.tempo.setValue(int(round(song.tempo)))
            self.bar.tempo.blockSignals(False)
            self.bar.update_length()
        self.songChanged.emit(song)

    # --- files ----------------------------------------------------------------------------------
    def open_primer(self, path: str | Path) -> bool:
        """Seed the next Generate from a .mid; a file we cannot use shows why and changes nothing."""
        path = Path(path)
        try:
            if self.engine is not None:
                cfg = self.engine.pack.config
                read_primer(path, cfg.steps_per_beat, cfg.chunk_steps)
            elif not path.is_file():
                raise MidiImportError(f"'{path}' does not exist")
        except MidiImportError as exc:
            self.show_error("Cannot use this primer", str(exc))
            return False
        self.primer = path
        bpm = midi_tempo(path)
        spin = self.bar.tempo
        self.primer_bpm = min(max(bpm, spin.minimum()), spin.maximum()) if bpm else None
        if self.primer_bpm:  # shown on the tempo box too; changing it there overrides the file's tempo
            self.bar.tempo.blockSignals(True)
            self.bar.tempo.setValue(int(round(self.primer_bpm)))
            self.bar.tempo.blockSignals(False)
            self.bar.update_length()
        self.bar.set_primer(path.name, self.primer_bpm)
        at = f" at {self.primer_bpm:.0f} BPM" if self.primer_bpm else ""
        self.statusBar().showMessage(f"The next Generate starts from {path.name}{at}", 5000)
        return True

    def clear_primer(self) -> None:
        self.primer = None
        self.primer_bpm = None
        self.bar.set_primer(None)

    def export_midi(self, path: str | Path) -> Path | None:
        """The DAW-ready file; an unwritable place shows a message and the sketch stays."""
        if not self._have_song("export"):
            return None
        try:
            out = write_midi(self.song, path, self._audible_lanes())
        except OSError as exc:
            self.show_error("Export failed", f"Could not write '{path}': {exc.strerror or exc}. Pick another folder.")
            return None
        self.statusBar().showMessage(f"Exported {out}", 5000)
        return out

    def export_stems(self, folder: str | Path) -> list[Path]:
        if not self._have_song("export stems"):
            return []
        try:
            paths = write_stems(self.song, folder, self._file_stem())
        except OSError as exc:
            self.show_error("Export failed", f"Could not write stems to '{folder}': {exc.strerror or exc}.")
            return []
        self.statusBar().showMessage(f"Wrote {len(paths)} stems to {folder}", 5000)
        return paths

    def save_sketch(self, path: str | Path) -> bool:
        sketch = self._snapshot()
        if sketch is None:
            return self._have_song("save")
        try:
            self.sketch_path = sketchfile.save(sketch, path)
            os.chmod(self.sketch_path, 0o666 & ~umask())  # a sketch for a bandmate: the user's usual permissions
        except OSError as exc:
            self.show_error("Save failed", f"Could not save '{path}': {exc.strerror or exc}. Pick another folder.")
            return False
        self.undo_stack.setClean()
        self._update_title()
        return True

    def open_sketch(self, path: str | Path, text: str = "Open sketch") -> bool:
        """Open a sketch file as an undoable change; a bad, foreign or newer file shows why."""
        try:
            sketch = sketchfile.load(path)
        except SketchError as exc:
            self.show_error("Cannot open sketch", str(exc))
            return False
        self._apply_sketch_settings(sketch.settings)
        self._opened_settings = dict(sketch.settings or {})
        self._change(State(tuple(sketch.takes), sketch.current), text)
        if text == "Open sketch":  # a file just opened is what is on disk: not modified
            self.sketch_path = Path(path)
            self.undo_stack.setClean()
        else:  # the last sketch (or a crashed one) comes back under the file name it had, if any
            saved_as = (sketch.settings or {}).get("path")
            self.sketch_path = Path(saved_as) if saved_as else self.sketch_path
        self._update_title()
        return True

    def _have_song(self, what: str) -> bool:
        if self.song is None:
            self.show_error("Nothing to " + what.split()[0], f"There is no sketch to {what} yet: Generate one first.")
        return self.song is not None

    def _audible_lanes(self) -> list[int] | None:
        mutes = self.lane_mutes()
        return None if not any(mutes) else [i for i, m in enumerate(mutes) if not m]

    def _file_stem(self) -> str:
        if self.sketch_path is not None:
            return self.sketch_path.stem
        seed = (self.song.settings or {}).get("seed") if self.song is not None else None
        return f"sketch-{seed}" if seed is not None else "sketch"

    def _drag_mime(self) -> QMimeData | None:
        """A fresh .mid of the current sketch in the user's drag folder, as a file URL."""
        if not self._have_song("drag out"):
            return None
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = (self.data_dir / "drag").resolve() / f"{self._file_stem()}-{stamp}.mid"
        path.parent.mkdir(parents=True, exist_ok=True)
        path = self.export_midi(path)
        if path is None:
            return None
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(path))])
        return mime

    def _snapshot(self) -> Sketch | None:
        if not self.state.takes:
            return None
        settings = dict(
            primer=str(self.primer) if self.primer else None,
            locks=[h.lock.isChecked() for h in self.headers],
            lineup=[h.play.isChecked() for h in self.headers],
            mutes=[h.mute.isChecked() for h in self.headers],
            solos=[h.solo.isChecked() for h in self.headers],
            path=str(self.sketch_path) if self.sketch_path else None,
            clean=self.undo_stack.isClean(),
        )
        return Sketch(list(self.state.takes), self.state.index, settings)

    def _apply_sketch_settings(self, settings: dict) -> None:
        for key, attr in (("locks", "lock"), ("mutes", "mute"), ("solos", "solo"), ("lineup", "play")):
            for header, on in zip(self.headers, settings.get(key) or []):
                getattr(header, attr).setChecked(bool(on))

    def _restore(self, mode: str) -> None:
        crashed = self.autosave.crashed()
        if crashed and mode != "no":
            question = "musicvae-app did not close properly last time. Restore the sketch it was working on?"
            if mode == "yes" or self.ask("Restore sketch", question):
                if self.open_sketch(crashed[0], "Restore crashed sketch"):
                    self._reopened()
                    self.statusBar().showMessage("Restored the sketch from the session that did not close", 8000)
                    crashed[0].unlink()
                    crashed = crashed[1:]
        if crashed:
            folder = self.autosave.set_aside(crashed)
            self.statusBar().showMessage(f"Unrestored sketches are kept in {folder}", 8000)
        elif self.song is None and mode != "no" and self.autosave.last_path.exists():
            if self.open_sketch(self.autosave.last_path, "Reopen last sketch"):
                self._reopened()

    def _reopened(self) -> None:
        """A sketch back from the last session: no undo history; modified unless it was saved as it is."""
        self.undo_stack.clear()  # a clear stack is clean
        if self.sketch_path is not None and not self._opened_settings.get("clean", False):
            self.undo_stack.resetClean()
        self._update_title()

    # --- window plumbing ------------------------------------------------------------------------
    def _build_status(self) -> None:
        self.device_label, self.pack_label, self.time_label = QLabel(), QLabel(), QLabel("Last generation: –")
        self.sketch_length = QLabel("Sketch: none yet")
        self.sketch_length.setObjectName("sketchLengthLabel")
        self.sketch_length.setToolTip("Length of the sketch on screen (Steps sets the length of the next Generate)")
        for label in (self.sketch_length, self.device_label, self.pack_label, self.time_label):
            label.setContentsMargins(8, 0, 8, 0)
            self.statusBar().addPermanentWidget(label)
        self.statusBar().installEventFilter(self)

    def _build_menus(self) -> None:
        from .menus import build_menus

        build_menus(self)

    def _connect(self) -> None:
        bar = self.bar
        bar.generate.clicked.connect(slot(self.generate))
        bar.threshold.valueChanged.connect(self.set_threshold)
        bar.tempo.valueChanged.connect(self._tempo_typed)
        bar.seed.textEdited.connect(self._seed_edited)
        bar.dice.clicked.connect(lambda: (bar.seed.setText(str(secrets.randbelow(MAX_SEED))), self._seed_edited()))
        bar.export.clicked.connect(self.export_dialog)
        bar.takes.prev.clicked.connect(lambda: self.pick_take(self.state.index - 1))
        bar.takes.next.clicked.connect(lambda: self.pick_take(self.state.index + 1))
        bar.takes.keep.clicked.connect(self.keep_take)
        self.worker.busyChanged.connect(self._busy)
        for header in self.headers:
            header.regenerateRequested.connect(slot(self.regenerate_lane, 1))
            header.programChanged.connect(self.set_program)
            header.stateChanged.connect(slot(lambda: self.mutesChanged.emit(self.lane_mutes())))
            header.stateChanged.connect(lambda: self.lanes.set_dimmed(self.lane_mutes()))
            header.stateChanged.connect(self.autosave.schedule)

    def _seed_edited(self, *_) -> None:
        self._seed_typed = self.bar.seed_value() is not None

    def _tempo_typed(self, bpm: int) -> None:
        self.primer_bpm = None  # the user's tempo wins over the primer's from now on
        self.set_tempo(float(bpm))

    def _load_settings(self) -> None:
        s, bar, gen = self.settings, self.bar, self._pack_defaults
        bar.noise.set_value(float(s.value("noise", gen.get("noise", 1.0))))
        bar.threshold.set_value(float(s.value("threshold", gen.get("threshold", 0.3))))
        bar.steps.set_value(int(s.value("steps", DEFAULT_STEPS)))
        bar.tempo.setValue(int(s.value("tempo", 120)))
        bar.variations.setValue(int(s.value("variations", 1)))
        bar.seed.setText(str(s.value("seed", "")))
        bar.seed_lock.setChecked(str(s.value("seed_lock", "false")).lower() == "true")
        geometry = s.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)

    def _save_settings(self) -> None:
        s, bar = self.settings, self.bar
        for key, value in (
            ("noise", bar.noise.value()),
            ("threshold", bar.threshold.value()),
            ("steps", int(bar.steps.value())),
            ("tempo", bar.tempo.value()),
            ("variations", bar.variations.value()),
            ("seed", bar.seed.text()),
            ("seed_lock", bar.seed_lock.isChecked()),
            ("geometry", self.saveGeometry()),
        ):
            s.setValue(key, value)
        s.sync()

    def _update_title(self, *_) -> None:
        name = self.sketch_path.name if self.sketch_path else "Untitled sketch"
        self.setWindowTitle(f"{name}{'' if self.undo_stack.isClean() else ' •'} — musicvae-app")

    def closeEvent(self, event) -> None:  # noqa: N802
        self.playback.shutdown()
        self._save_settings()
        self.worker.wait(10000)
        self.autosave.close_clean()
        super().closeEvent(event)

    def _own_drop(self, event) -> bool:
        """A drag that started in this app (Drag MIDI dropped back on the window): not a primer."""
        if event.source() is not None:
            return True
        drag_dir = (self.data_dir / "drag").resolve()
        return any(Path(u.toLocalFile()).resolve().parent == drag_dir for u in event.mimeData().urls())

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if not self._own_drop(event) and any(_dropped_kind(u) for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        if self._own_drop(event):
            event.ignore()
            return
        for url in event.mimeData().urls():
            kind = _dropped_kind(url)
            if kind == "primer":
                self.open_primer(url.toLocalFile())
            elif kind == "sketch":
                self.open_sketch(url.toLocalFile())
            if kind:
                event.acceptProposedAction()
                return

    # --- dialogs (thin: the methods above do the work) --------------------------------------------
    def _folder(self) -> str:
        return str(self.settings.value("last_dir", str(Path.home())))

    def _remember(self, path: str) -> str:
        if path:
            self.settings.setValue("last_dir", str(Path(path).parent))
        return path

    def export_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export MIDI", str(Path(self._folder()) / f"{self._file_stem()}.mid"), "MIDI (*.mid)"
        )
        self.refocus()
        if self._remember(path):
            self.export_midi(path)

    def stems_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export stems into folder", self._folder())
        self.refocus()
        if folder:
            self.settings.setValue("last_dir", folder)
            self.export_stems(folder)

    def primer_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open primer", self._folder(), "MIDI (*.mid *.midi)")
        self.refocus()
        if self._remember(path):
            self.open_primer(path)

    def open_sketch_dialog(self) -> None:
        pattern = f"Sketches (*{sketchfile.SUFFIX})"
        path, _ = QFileDialog.getOpenFileName(self, "Open sketch", self._folder(), pattern)
        self.refocus()
        if self._remember(path):
            self.open_sketch(path)

    def save_sketch_dialog(self, save_as: bool = False) -> None:
        if self.sketch_path is not None and not save_as:
            self.save_sketch(self.sketch_path)
            return
        start = str(Path(self._folder()) / f"{self._file_stem()}{sketchfile.SUFFIX}")
        path, _ = QFileDialog.getSaveFileName(self, "Save sketch", start, f"Sketches (*{sketchfile.SUFFIX})")
        self.refocus()
        if self._remember(path):
            self.save_sketch(path if path.endswith(sketchfile.SUFFIX) else path + sketchfile.SUFFIX)


def _dropped_kind(url: QUrl) -> str | None:
    name = url.toLocalFile().lower()
    if name.endswith(MIDI_SUFFIXES):
        return "primer"
    if name.endswith(sketchfile.SUFFIX):
        return "sketch"
    return None


def _message(exc: Exception) -> str:
    """Our own errors already speak to the user; anything else says what kind of failure it was."""
    text = str(exc) or type(exc).__name__
    ours = isinstance(exc, (MidiImportError, SketchError, ValueError, OSError)) or type(exc).__name__ == "PackError"
    return text if ours else f"{type(exc).__name__}: {text}"
