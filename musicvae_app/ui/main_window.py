"""The sketchpad window: a view of a Session (musicvae_app/sketch/session.py) that draws it and forwards user actions.

The session owns the sketch (takes, undo, lanes, primer, seed, settings, file); the window holds the
layout, the wiring, the dialogs (ui/files.py), the worker thread the session's long work runs on, and
autosave. Every user action here is one call on the session; every change the session announces is drawn.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QLabel, QMainWindow, QVBoxLayout, QWidget

from .. import userdata
from ..sketch.session import Session, message
from ..sketch.song import DEFAULT_PROGRAMS, LANES
from ..sketch.spec import GenerationSettings
from ..sketch.undo import State
from . import compose, files, help_dialogs, prefs
from . import record_panel as recording
from .audition import AudioExport, Audition, attach_playback, jam_more
from .autosave import Autosave
from .chord_choices import attach_readings
from .chord_lane import attach_arrangement
from .chord_source import attach_chord_source
from .context import ViewContext
from .controls import FeelControls, GenerateBar, LaneHeader, minutes
from .engine_host import load_engine
from .exports import attach_exports
from .firstrun import generation_defaults
from .focus import BoxKeys
from .lanes_view import LanesView
from .menus import MenuActions, build_menus
from .messages import MessagesMixin
from .mixer import attach_mixer
from .note_editor import attach_note_editor
from .velocity_strip import attach_velocity_strip
from .worker import Worker, slot

RESTORE_ENV = "MUSICVAE_RESTORE"  # ask (default), yes or no: what to do with a crashed session's sketch
MIDI_SUFFIXES = (".mid", ".midi")


def _forward(name: str):
    """A window method that is the session's action `name`."""

    def call(self, *args, **kwargs):
        return getattr(self.session, name)(*args, **kwargs)

    call.__name__, call.__doc__ = name, f"The session's {name} (see Session.{name})."
    return call


class MainWindow(MessagesMixin, QMainWindow):
    """Five lanes, the generation bar, takes, undo, autosave. Build it with an Engine, or let it load one."""

    songChanged = Signal(object)  # the current Song, or None
    mutesChanged = Signal(list)  # lane_mutes()
    engineReady = Signal()
    engineNotice = Signal(str)  # where the engine runs changed (the engine process stopped): said in the status bar

    # the file dialogs and drag and drop (ui/files.py's FileDialogs, built over the ViewContext)
    def export_dialog(self) -> None:
        self.file_dialogs.export_dialog()

    def stems_dialog(self) -> None:
        self.file_dialogs.stems_dialog()

    def primer_dialog(self) -> None:
        self.file_dialogs.primer_dialog()

    def open_sketch_dialog(self) -> None:
        self.file_dialogs.open_sketch_dialog()

    def save_sketch_dialog(self, save_as: bool = False) -> None:
        self.file_dialogs.save_sketch_dialog(save_as)

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        self.file_dialogs.drag_enter(event)

    def dropEvent(self, event) -> None:  # noqa: N802
        self.file_dialogs.drop(event)

    def _drag_mime(self):
        return self.file_dialogs.drag_mime()

    def __init__(
        self,
        engine=None,
        data_dir: str | Path | None = None,
        restore: str | None = None,
        pack=None,
        engine_process=None,
    ):
        """engine_process: the engine process the launcher started (ui/engine_host.py), used when `engine` is None."""
        super().__init__()
        self.engine_process, self._pack = engine_process, pack
        self.engine_notice: str | None = None  # the last word about where the engine runs
        self.setObjectName("mainWindow")
        self.data_dir = Path(data_dir) if data_dir is not None else userdata.data_dir()
        self.settings = QSettings(str(self.data_dir / "settings.ini"), QSettings.Format.IniFormat)
        self.last_error: str | None = None  # the text of the last error shown, for tests and logs
        self._close_refused = False  # a close was refused once (recovered/ not writable): the next one goes
        self.worker = Worker(self)
        self._loading = False  # the pack is loading: Generate says so (a click then runs once it has loaded)
        defaults = generation_defaults(pack if engine is None else engine.pack)
        self.session = Session(engine, self.worker, GenerationSettings.from_card({"generation": defaults}))
        self.autosave = Autosave(self.data_dir, self.session.snapshot, self)  # creates the data folder when it can
        self.autosave.problem.connect(lambda text: self.statusBar().showMessage(text, 15000))

        self.bar = GenerateBar(self._drag_mime)
        self.session.tempo_range = (self.bar.tempo.minimum(), self.bar.tempo.maximum())
        self.headers = [LaneHeader(i) for i in range(len(LANES))]
        self.lanes = LanesView(self.headers)
        self.feel = FeelControls()  # placed on the transport row by attach_playback
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
        self.views = ViewContext(
            session=self.session,
            parent=self,
            lanes=self.lanes,
            show_error=self.show_error,
            status=lambda text, ms=0: self.statusBar().showMessage(text, ms),
            refocus=self.refocus,
            settings=self.settings,
            data_dir=self.data_dir,
        )
        self.file_dialogs = files.FileDialogs(
            self.views,
            export_midi=self.export_midi,
            export_stems=self.export_stems,
            open_primer=self.open_primer,
            open_sketch=self.open_sketch,
            save_sketch=self.save_sketch,
            autosave=self.autosave,
            recovered_label=lambda text: self.recovered_action.setText(text),
        )
        self.menus = build_menus(self.views, self.menuBar(), self._menu_actions())  # held by reference
        self.recovered_action = self.menus.recovered  # File > Open recovered sketch…
        self.record_panel: recording.RecordDialog | None = None  # File > Record a part…, once shown
        self._connect()
        prefs.load(self, defaults)
        self._fit_on_a_real_screen()
        self.session.listen(self._session_changed)
        self._update_title()
        self._show_state()
        self.playback = attach_playback(
            self.views,
            place=self.add_playback_panel,
            feel=self.feel,
            song_changed=self.songChanged,
            mutes_changed=self.mutesChanged,
            list_outputs=engine is not None,  # at launch, the pack first: MIDI ports and the synth after it
        )
        self.audition = Audition(self.views, self.playback)  # File > Export audio, Choose soundfont
        self.playback.stop_shortcut.activated.connect(self.lanes.scroll_to_start)  # Home: the start, on screen too
        self.arrangement = attach_arrangement(self.views, box, self.headers[0], self.menus.sketch)  # ui/chord_lane.py
        self.chord_source = attach_chord_source(self.views, box, self.arrangement)  # ui/chord_source.py
        self.readings = attach_readings(self.views, self.arrangement, self.menus.sketch)  # ui/chord_choices.py
        self.note_editor = attach_note_editor(self.views, self.menus)  # Edit > Edit notes (ui/note_editor.py)
        self.mixer = attach_mixer(self.views, self.menus, self.headers)  # View > Mixer (ui/mixer.py)
        self.velocity = attach_velocity_strip(self.views, self.menus, self.note_editor)  # ui/velocity_strip.py
        self.exports = attach_exports(self.views, self.menus, self.audition)  # audio stems, lead sheet (ui/exports.py)
        self.box_keys = BoxKeys(self, self.lanes, self._shortcuts)  # shortcuts work from a box; Enter/Esc: the roll
        restored = self._restore(restore or os.environ.get(RESTORE_ENV, "ask"))
        # A damaged sketch set aside, or autosave off: said, never a crash; then sketches new in recovered/.
        said = [self.autosave.notice, restored, self._recovered_news()]
        if any(said):
            self.statusBar().showMessage("; ".join(m for m in said if m), 30000)
        if engine is None:
            self._load_engine(pack)
        else:
            self._engine_loaded(engine, 0.0)

    # --- what the session holds, read through the window (tests, playback, audition) -------------
    song = property(lambda self: self.session.song, doc="The current take.")
    state = property(lambda self: self.session.state)
    undo_stack = property(lambda self: self.session.history)
    engine = property(lambda self: self.session.engine)
    engine_error = property(lambda self: self.session.engine_error)
    primer = property(lambda self: self.session.primer)
    primer_bpm = property(lambda self: self.session.primer_bpm)
    sketch_path = property(lambda self: self.session.path)

    def lane_mutes(self) -> list[bool]:
        """Per lane: True when playback should leave it silent (muted, or another lane is soloed)."""
        return self.session.lane_mutes()

    # --- user actions: each one is the session's action of that name (musicvae_app/sketch/session.py) --------
    generate, regenerate_lane, replace_take = (
        _forward("generate"),
        _forward("regenerate_lane"),
        _forward("replace_take"),
    )
    set_threshold, set_tempo, set_program = _forward("set_threshold"), _forward("set_tempo"), _forward("set_program")
    pick_take, keep_take = _forward("pick_take"), _forward("keep_take")
    open_primer, clear_primer = _forward("open_primer"), _forward("clear_primer")
    cancel_primer = _forward("cancel_primer")
    export_midi, export_stems = _forward("export_midi"), _forward("export_stems")
    save_sketch, open_sketch, _snapshot = _forward("save"), _forward("open_sketch"), _forward("snapshot")

    set_density, set_feel, set_key = _forward("set_density"), _forward("set_feel"), _forward("set_key")

    def regenerate_bars(self, all_lanes: bool = False) -> bool:
        """Regenerate the bars selected on the lanes (Shift+drag): one undo step (see ui/compose.py)."""
        return compose.regenerate_bars(self.views, all_lanes)

    def lane_menu(self, lane: int, beats: float, pos):
        return compose.lane_menu(self.views, lane, beats, pos)

    def morph_dialog(self):
        """Morph to take…: a non-blocking dialog (None, with a status message, when there is one take)."""
        return compose.morph_dialog(self.views)

    # --- audition (ui/audition.py) and recording (ui/record_panel.py), over the ViewContext ------------
    def jam_more(self) -> bool:
        """Jam: continue the current take by a chunk in the background."""
        return jam_more(self.views)

    @property
    def audio_export(self) -> AudioExport | None:
        """The audio export running in the background, or None."""
        return self.audition.running

    def export_audio(self, path: str | Path) -> Path | None:
        return self.audition.export_audio(path)

    def export_audio_in_background(self, path: str | Path) -> AudioExport | None:
        return self.audition.export_audio_in_background(path)

    def export_audio_dialog(self) -> None:
        self.audition.export_audio_dialog()

    def choose_soundfont(self, path: str | Path) -> bool:
        return self.audition.choose_soundfont(path)

    def choose_soundfont_dialog(self) -> None:
        self.audition.choose_soundfont_dialog()

    def record_dialog(self) -> recording.RecordDialog:
        """File > Record a part…: the window's one Record dialog, shown."""
        self.record_panel = recording.record_dialog(self.views, self.playback, self.record_panel)
        return self.record_panel

    def _menu_actions(self) -> MenuActions:
        """What the menus call (ui/menus.py): the window's actions and dialogs, by name."""
        return MenuActions(
            new_sketch=self.new_sketch,
            primer_dialog=self.primer_dialog,
            clear_primer=self.clear_primer,
            cancel_primer=self.cancel_primer,
            follow_dialog=self.file_dialogs.follow_dialog,
            record_dialog=self.record_dialog,
            open_sketch_dialog=self.open_sketch_dialog,
            open_recovered_dialog=self.file_dialogs.open_recovered_dialog,
            save_sketch_dialog=self.save_sketch_dialog,
            save_sketch_as_dialog=lambda: self.save_sketch_dialog(True),
            export_dialog=self.export_dialog,
            stems_dialog=self.stems_dialog,
            export_audio_dialog=self.export_audio_dialog,
            choose_soundfont_dialog=self.choose_soundfont_dialog,
            quit=self.close,
            generate=self.generate,
            regenerate_lane=self.regenerate_lane,
            regenerate_bars=self.regenerate_bars,
            morph_dialog=self.morph_dialog,
            pick_take=self.pick_take,
            keep_take=self.keep_take,
            shortcuts_dialog=lambda: help_dialogs.shortcuts_dialog(self, self.menuBar()),
            guide_dialog=lambda: help_dialogs.guide_dialog(self),
        )

    def new_sketch(self) -> None:
        """File > New sketch: no takes, no primer, no part, no chart, untitled. One undo step: Undo brings the
        takes back (and autosave still holds them until the next change)."""
        s = self.session
        if s.song is None and s.path is None:
            return
        if s.part is not None:
            s.stop_following()
        if s.primer is not None:
            s.clear_primer()
        s.arrangement.restore_arrangement({})
        s.reel.change(State(), "New sketch")
        s.path = None
        s.history.set_clean()
        self.lanes.clear_selection()
        self._update_title()
        self.statusBar().showMessage("New sketch: Generate (Ctrl+G) to start; Undo (Ctrl+Z) brings the last one back")

    def _shortcuts(self) -> list:
        """Every key the window's menus answer to (the boxes let these through, see ui/focus.py)."""
        return [k for a in self.findChildren(QAction) for k in a.shortcuts()]

    def folder(self) -> str:
        """The folder the user picked last: where file dialogs open."""
        return files.last_folder(self.views)

    # --- drawing what the session announces --------------------------------------------------------
    def _session_changed(self, event: str, *args) -> None:
        if event in ("history", "settings", "primer", "part"):
            # a Save (the file name), a typed chord or a form, the primer: on disk with the takes
            self.autosave.schedule()
        if event in ("settings", "primer", "part"):
            self._show_next_length()
        if event == "song":
            self._show_state()
            self.autosave.schedule()
        elif event == "lanes":
            self._show_lanes()
        elif event == "history":
            self._update_title()
        elif event == "settings":
            seed = self.session.seed
            if self.bar.seed_value() != seed:
                self.bar.seed.setText("" if seed is None else str(seed))
            self.bar.show_key(self.session.settings.key, self.session.settings.scale_lock)
            self.bar.show_style(self.session.style)
        elif event in ("primer", "part"):
            self._show_primer()
            self._show_key_info(self.session.take_key())
        elif event == "timing":
            self.time_label.setText(f"Last generation: {args[0] * 1000:.0f} ms")
            self.statusBar().clearMessage()
            prefs.save(self)
        elif event == "status":
            self.statusBar().showMessage(*args)
        elif event == "error":
            self.show_error(*args)

    def _show_state(self) -> None:
        song, state = self.song, self.state
        self.lanes.set_song(song)
        self.bar.takes.show_takes(state.index, len(state.takes))
        counts = song.note_counts() if song is not None else {}
        mine = self.session.part_lanes()
        key = self.session.take_key()  # a random start's is heard from its notes: once a change, for both lines
        if song is None:
            self.sketch_length.setText("Sketch: none yet")
        else:
            in_key = f" · {key}" if key else ""
            self.sketch_length.setText(f"Sketch: {song.n_bars} bars · {minutes(song.seconds)}{in_key}")
        density = song.density if song is not None else {}
        for i, header in enumerate(self.headers):
            notes = f"{counts[LANES[i]]} notes" if song is not None else ""
            played = song is not None and i in song.played_lanes()
            header.set_part(i in mine, played, song.performance.quantize if played else "off")
            header.count.setText("your part" if i in mine else notes)
            if i in mine:
                header.count.setToolTip(f"Your part ({notes}): kept as you played it; the band follows it")
            header.set_program(song.programs[i] if song is not None else DEFAULT_PROGRAMS[i])
            header.set_density(density.get(LANES[i], 1.0))
        if song is not None:
            self.bar.threshold.set_value(song.threshold, quiet=True)
            self._quiet_tempo(song.tempo)
            feel = song.feel
            self.feel.show_feel(feel.swing, feel.swing_grid, feel.humanize_ms, feel.humanize_velocity)
        self._show_key_info(key)
        self.songChanged.emit(song)

    def _show_next_length(self) -> None:
        """ "next: N bars" says what the next Generate makes: a followed part's length, or a form's when it is
        longer than Steps or when it ends in an outro (sketch/arrangement.py sets the take's length for it)."""
        s = self.session
        if s.part is not None and s.part_song is not None:
            self.bar.set_next_length(s.part_song.n_bars, "the part you follow")
            return
        steps = int(self.bar.steps.value())
        kept = s.song.n_chunks - 1 if s.mix.locked() and s.song is not None else None  # as Session.generation_args
        need = s.arrangement.arrangement_args(steps, kept).get("steps", steps)
        self.bar.set_next_length(self.bar.bars_of(need) if need != steps else None, "the song form")

    def _show_key_info(self, take_key: str | None) -> None:
        """The Key box and the key line; `take_key`: Session.take_key(), which the caller may have at hand."""
        s = self.session
        following = s.part is not None or s.recorded_part() is not None
        s_key = (s.part_key() or "") if following else None
        self.bar.set_key_info(s.primer_key, take_key, s_key)
        if not following:
            self.bar.show_key(s.settings.key, s.settings.scale_lock)

    def _quiet_tempo(self, bpm: float) -> None:
        self.bar.tempo.blockSignals(True)
        self.bar.tempo.setValue(int(round(bpm)))
        self.bar.tempo.blockSignals(False)
        self.bar.update_length()

    def _show_lanes(self) -> None:
        s = self.session
        for i, header in enumerate(self.headers):
            for button, on in (
                (header.lock, s.locks),
                (header.mute, s.mutes),
                (header.solo, s.solos),
                (header.play, s.lineup),
            ):
                button.blockSignals(True)
                button.setChecked(on[i])
                button.blockSignals(False)
        mutes = self.lane_mutes()
        self.mutesChanged.emit(mutes)
        self.lanes.set_dimmed(mutes)
        self.autosave.schedule()

    def _show_primer(self) -> None:
        s = self.session
        bpm = s.part_bpm if s.part is not None else s.primer_bpm
        # shown on the tempo box too (changing it there overrides the file's tempo); none: the sketch's own
        self._quiet_tempo(bpm or s.settings.tempo)
        if s.part is not None:
            self.bar.set_primer(s.part.name, s.part_bpm, "Part")
        else:
            self.bar.set_primer(s.primer.name if s.primer else None, s.primer_bpm)

    def _header_changed(self, header: LaneHeader) -> None:
        self.session.set_lane(
            header.lane,
            lock=header.lock.isChecked(),
            mute=header.mute.isChecked(),
            solo=header.solo.isChecked(),
            lineup=header.play.isChecked(),
        )

    def _update_title(self, *_) -> None:
        name = self.sketch_path.name if self.sketch_path else "Untitled sketch"
        self.setWindowTitle(f"{name}{'' if self.undo_stack.isClean() else ' •'} — musicvae-app")

    # --- messages ----------------------------------------------------------------------------------
    def add_playback_panel(self, widget: QWidget) -> None:
        """The transport gets its own thin row between the generate bar and the lanes."""
        self.centralWidget().layout().insertWidget(1, widget)

    def set_playhead(self, beats: float | None) -> None:
        self.lanes.set_playhead(beats)

    # --- the engine and the worker -----------------------------------------------------------------
    def _load_engine(self, pack) -> None:
        """The engine process's engine, or one loaded here (ui/engine_host.py), on the worker thread."""
        process, notice = self.engine_process, self.engineNotice.emit
        self.device_label.setText("Loading model…")
        self._loading = True
        self.worker.submit(lambda: load_engine(pack, process, notice), self._engine_loaded, self._engine_failed)

    def _engine_notice(self, text: str) -> None:
        self.engine_notice = text
        self.statusBar().showMessage(text, 15000)

    def _engine_loaded(self, engine, secs: float) -> None:
        self._loading = False
        cfg = engine.pack.config
        self.session.engine = engine
        self.bar.set_grid(cfg.chunk_steps, cfg.steps_per_beat)
        self.session.update_settings(steps=int(self.bar.steps.value()))  # the grid may have lowered it
        self.device_label.setText(f"Device: {engine.device_name}")
        self.pack_label.setText(f"Pack: {engine.pack.name}")
        if not self.settings.contains("noise"):  # normally read from the card already, before torch loaded
            card = GenerationSettings.from_card(engine.pack.card)
            self.bar.noise.set_value(card.noise)
            self.bar.threshold.set_value(card.threshold)
        self.bar.set_styles(engine.styles())
        self.bar.show_style(self.session.style)  # a sketch restored while the pack loaded keeps its style
        self.engineReady.emit()
        self.session.set_engine(engine)  # a Generate clicked while the pack loaded runs now
        QTimer.singleShot(0, self.playback, slot(self.playback.ensure_outputs))  # then the MIDI ports and the synth

    def _engine_failed(self, exc: Exception) -> None:
        self._loading = False
        if self.engine_process is not None and self.engine_process.closed and self.session.engine is None:
            return  # the window closed the engine process while it loaded: nothing to say
        self.session.engine_failed(
            f"{message(exc)}\n\nThe window still opens, saves and exports sketches. To generate, put a pack in "
            f"resources/models/default, train one with `musicvae train`, or set MUSICVAE_PACK to a pack folder."
        )
        self.device_label.setText("Device: none")
        self.pack_label.setText("Pack: not found")
        self.show_error("No model pack", self.engine_error)
        QTimer.singleShot(0, self.playback, slot(self.playback.ensure_outputs))

    def _busy(self, busy: bool) -> None:
        self.bar.generate.setText(("Loading\nmodel…" if self._loading else "Working…") if busy else "Generate")
        if not busy and self.session.pending is not None:
            QTimer.singleShot(0, slot(self.session.run_pending))

    # --- files -------------------------------------------------------------------------------------
    def _restore(self, mode: str) -> str | None:
        """Offer a crashed window's sketch, else reopen last.mvsketch; returns what to say in the status bar."""
        said = None
        crashed = self.autosave.crashed()
        if crashed and mode != "no":
            question = "musicvae-app did not close properly last time. Restore the sketch it was working on?"
            if mode == "yes" or self.ask("Restore sketch", question):
                if self.open_sketch(crashed[0], "Restore crashed sketch"):
                    self.session.reopened()
                    said = "Restored the sketch from the session that did not close"
                    crashed[0].unlink()
                    crashed = crashed[1:]
        if crashed:
            folder = self.autosave.set_aside(crashed)
            left = [p for p in crashed if p.exists()]
            if left:  # recovered/ cannot take them: they stay where they are, and the next start offers them again
                said = (
                    f"{len(left)} unrestored sketch(es) stay in '{self.autosave.sessions}': '{folder}' cannot be "
                    f"written. Make it writable (or free space on its disk); File > Open sketch… opens them"
                )
            else:
                said = f"Unrestored sketches are kept in {folder}"
        elif self.song is None and mode != "no" and self.autosave.last_path.exists():
            if self.open_sketch(self.autosave.last_path, "Reopen last sketch"):
                self.session.reopened()
        return said

    def _recovered_news(self) -> str | None:
        """Sketches that arrived in recovered/ since a window last told (another window's, or set aside):
        said once, in the status bar and on File > Open recovered sketch…."""
        news = self.autosave.recovered_news()
        if not news:
            return None
        self.recovered_action.setText(f"Open recovered sketch… ({len(news)} new)")
        self.autosave.mark_told()
        return (
            f"{len(news)} sketch(es) kept in '{self.autosave.recovered}' (from other windows, or set aside): "
            f"File > Open recovered sketch… opens them"
        )

    # --- window plumbing ---------------------------------------------------------------------------
    def _build_status(self) -> None:
        self.device_label, self.pack_label, self.time_label = QLabel(), QLabel(), QLabel("Last generation: –")
        self.sketch_length = QLabel("Sketch: none yet")
        self.sketch_length.setObjectName("sketchLengthLabel")
        self.sketch_length.setToolTip("Length of the sketch on screen (Steps sets the length of the next Generate)")
        for label in (self.sketch_length, self.device_label, self.pack_label, self.time_label):
            label.setContentsMargins(8, 0, 8, 0)
            self.statusBar().addPermanentWidget(label)
        self.statusBar().installEventFilter(self)

    def _connect(self) -> None:
        bar, s = self.bar, self.session
        bar.generate.clicked.connect(slot(self.generate))
        bar.noise.valueChanged.connect(lambda v: s.update_settings(noise=float(v)))
        bar.steps.valueChanged.connect(lambda v: s.update_settings(steps=int(v)))
        bar.variations.valueChanged.connect(lambda v: s.update_settings(variations=int(v)))
        bar.threshold.valueChanged.connect(slot(self.set_threshold, 1))
        bar.tempo.valueChanged.connect(slot(self.set_tempo, 1))
        bar.seed.textEdited.connect(lambda *_: s.set_seed(bar.seed_value()))
        bar.seed_lock.toggled.connect(s.lock_seed)
        bar.dice.clicked.connect(slot(s.roll_seed))
        bar.export.clicked.connect(slot(self.export_dialog))
        bar.takes.prev.clicked.connect(lambda: self.pick_take(self.state.index - 1))
        bar.takes.next.clicked.connect(lambda: self.pick_take(self.state.index + 1))
        bar.takes.keep.clicked.connect(slot(self.keep_take))
        bar.key.currentIndexChanged.connect(slot(lambda: s.set_key(bar.key_value(), bar.scale_lock.isChecked())))
        bar.scale_lock.toggled.connect(slot(lambda: s.set_key(bar.key_value(), bar.scale_lock.isChecked())))
        bar.style.currentIndexChanged.connect(slot(lambda: s.set_style(bar.style.currentData())))
        bar.takes.morph.clicked.connect(slot(self.morph_dialog))
        self.feel.feelChanged.connect(slot(lambda values: s.set_feel(**values), 1))
        self.lanes.selectionChanged.connect(
            slot(lambda picked: self.statusBar().showMessage(compose.selection_text(picked), 8000), 1)
        )
        self.lanes.contextRequested.connect(slot(self.lane_menu, 3))
        self.worker.busyChanged.connect(self._busy)
        self.engineNotice.connect(self._engine_notice)  # emitted on the worker thread: queued to this one
        for header in self.headers:
            header.regenerateRequested.connect(slot(self.regenerate_lane, 1))
            header.densityChanged.connect(slot(s.set_density, 2))
            header.quantizeChanged.connect(slot(s.set_quantize, 1))
            header.programChanged.connect(slot(self.set_program, 2))
            header.stateChanged.connect(lambda header=header: self._header_changed(header))

    def fit_to_screen(self) -> None:
        """The window inside its screen's available area (the panels left out), the status bar on screen:
        on a 1280x800 or a 1024x600 screen the whole window shows."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None or self.isMaximized() or self.isFullScreen():
            return
        area = screen.availableGeometry()
        frame, inner = self.frameGeometry(), self.geometry()
        extra_w, extra_h = frame.width() - inner.width(), frame.height() - inner.height()
        width, height = min(self.width(), area.width() - extra_w), min(self.height(), area.height() - extra_h)
        if (width, height) != (self.width(), self.height()):
            self.resize(width, height)
        frame = self.frameGeometry()
        x = min(max(frame.x(), area.x()), area.x() + area.width() - frame.width())
        y = min(max(frame.y(), area.y()), area.y() + area.height() - frame.height())
        if (x, y) != (frame.x(), frame.y()):
            self.move(x, y)

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if not getattr(self, "_fitted", False):  # once its frame is known
            self._fitted = True
            self._fit_on_a_real_screen()

    def _fit_on_a_real_screen(self) -> None:
        """fit_to_screen, except offscreen: that platform's 800x800 "screen" is no screen (renders and tests
        there keep the size asked for)."""
        if QGuiApplication.platformName() != "offscreen":
            self.fit_to_screen()

    def closeEvent(self, event) -> None:  # noqa: N802
        if self.engine is None and self.engine_process is not None:
            self.engine_process.close(0)  # still loading: stopped now, so the worker is not kept waiting for it
        self.worker.wait(10000)
        # Another window's last sketch that recovered/ cannot take is never replaced: the first close is
        # refused with what to do; a second one goes, leaving this sketch in sessions/ for the next start.
        self.autosave.close_clean(force=self._close_refused)
        if self.autosave.blocked:
            self._close_refused = True
            event.ignore()
            self.show_error("Window kept open", self.autosave.blocked)
            if self.engine is None and self.engine_process is not None and self.engine_process.closed:
                self.engine_process = None  # stopped for a close that did not happen: the model loads here
                self._load_engine(self._pack)
            return
        self.playback.shutdown()
        prefs.save(self)
        if self.engine_process is not None:  # the window owns it: a call running there is waited for a moment
            self.engine_process.close()
        super().closeEvent(event)
