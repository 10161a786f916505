"""The sketch session without a window: every action a user takes, driven in plain Python (no Qt)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from musicvae_app.errors import InvalidValue, MusicVAEError
from musicvae_app.sketch.midi import read_chords, read_settings
from musicvae_app.sketch.session import Session, SyncExecutor
from musicvae_app.sketch.sketchfile import SketchError
from musicvae_app.sketch.song import LANES
from musicvae_app.sketch.spec import GenerationSettings
from musicvae_app.sketch.undo import History, State
from musicvae_app.theory.chords import fit_chart

GUITAR = LANES.index("guitar")


@pytest.fixture
def session(engine):
    s = Session(engine)
    s.update_settings(steps=3)
    return s


def events_of(session: Session) -> list[tuple]:
    seen: list[tuple] = []
    session.listen(lambda event, *args: seen.append((event, *args)))
    return seen


def test_importing_and_generating_loads_no_qt(tiny_pack, tmp_path):
    script = textwrap.dedent(
        f"""
        import sys
        from musicvae_app.engine import Engine
        from musicvae_app.sketch.session import Session
        session = Session(Engine.load({str(tiny_pack)!r}, device="cpu"))
        session.update_settings(steps=1)
        assert session.generate() and session.song is not None
        assert session.export_midi({str(tmp_path / "out.mid")!r}) is not None
        bad = [m for m in ("PySide6", "pyqtgraph") if m in sys.modules]
        print("QT" if bad else "NO-QT", bad)
        """
    )
    env_root = Path(__file__).resolve().parent.parent
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=env_root, capture_output=True, text=True, timeout=300, check=False
    )
    assert out.returncode == 0, out.stderr
    assert "NO-QT" in out.stdout, out.stdout


def test_generate_makes_a_take_and_one_undo_step(session):
    seen = events_of(session)
    assert session.song is None and not session.dirty
    assert session.generate()
    song = session.song
    assert song is not None and song.n_chunks == 4
    assert session.seed == song.settings["seed"]
    assert session.history.count() == 1 and session.dirty
    assert ("song",) in seen and any(e[0] == "timing" for e in seen)
    assert session.undo() and session.song is None
    assert session.redo() and session.song is song


def test_a_locked_seed_gives_the_same_sketch(session):
    session.set_seed(1234)
    session.lock_seed(True)
    session.generate()
    first = session.song
    session.generate()
    assert session.song.settings["seed"] == 1234
    assert np.array_equal(session.song.probs, first.probs)
    session.lock_seed(False)
    session.generate()  # unlocked and not typed since: a new seed
    assert session.song.settings["seed"] != 1234 or not np.array_equal(session.song.probs, first.probs)


def test_a_typed_seed_is_used_once_even_unlocked(session):
    session.set_seed(77)
    session.generate()
    assert session.song.settings["seed"] == 77 and not session.seed_typed


def test_regenerate_changes_one_lane_and_undoes(session):
    session.generate()
    before = session.song
    assert session.regenerate_lane("guitar")
    after = session.song
    assert not np.array_equal(after.probs[GUITAR], before.probs[GUITAR])
    for i in range(len(LANES)):
        if i != GUITAR:
            assert np.array_equal(after.probs[i], before.probs[i]), LANES[i]
    session.undo()
    assert session.song is before
    session.redo()
    assert session.song is after


def test_regenerate_without_a_sketch_says_so(session):
    seen = events_of(session)
    assert not session.regenerate_lane(GUITAR)
    assert any(e[0] == "status" and "Generate a sketch first" in e[1] for e in seen)


def test_a_locked_lane_survives_generate(session):
    session.generate()
    kept = session.song.probs[GUITAR].copy()
    session.set_lane("guitar", lock=True)
    session.generate()
    assert np.array_equal(session.song.probs[GUITAR], kept)


def test_a_lane_out_of_the_lineup_stays_silent(session):
    session.set_lane("guitar", lineup=False)
    session.generate()
    assert "guitar" not in session.song.lineup
    assert session.song.note_counts()["guitar"] == 0


def test_takes_pick_keep_and_undo(session):
    session.update_settings(variations=3)
    session.generate()
    assert len(session.takes) == 3 and session.index == 0
    second = session.takes[1]
    session.pick_take(1)
    assert session.song is second
    session.keep_take()
    assert session.takes == (second,)
    session.undo()
    assert len(session.takes) == 3 and session.song is second
    session.undo()
    assert session.index == 0


def test_threshold_drags_merge_and_the_export_records_the_new_threshold(session, tmp_path):
    session.generate()
    steps = session.history.count()
    for value in (0.35, 0.4, 0.45):
        session.set_threshold(value)
    assert session.history.count() == steps + 1  # one drag, one undo step
    assert all(t.threshold == 0.45 and t.settings["threshold"] == 0.45 for t in session.takes)
    out = session.export_midi(tmp_path / "sketch.mid")
    assert read_settings(out)["threshold"] == pytest.approx(0.45)
    session.undo()
    assert session.song.threshold == pytest.approx(0.3) and session.song.settings["threshold"] == pytest.approx(0.3)
    assert session.settings.threshold == pytest.approx(0.3)  # the next Generate uses what is shown


def test_tempo_and_program_are_undoable(session):
    session.generate()
    session.set_tempo(96)
    session.set_program("piano", 5)
    assert session.song.tempo == 96 and session.song.programs[0] == 5
    session.undo()
    assert session.song.programs[0] == 0 and session.song.tempo == 96
    session.undo()
    assert session.song.tempo == 120


def test_jam_continues_and_merges_into_one_step(session):
    session.generate()
    before, steps = session.song, session.history.count()
    assert session.continue_song(1)
    assert session.continue_song(1)
    assert session.song.n_chunks == before.n_chunks + 2
    assert session.history.count() == steps + 1
    session.undo()
    assert session.song is before


def test_mutes_and_solos_pick_the_exported_lanes(session, tmp_path):
    session.generate()
    session.set_lane("bass", solo=True)
    assert session.lane_mutes() == [True, True, False, True, True]
    assert session.audible_lanes() == [LANES.index("bass")]
    session.set_lane("bass", solo=False)
    session.set_lane("drums", mute=True)
    assert session.audible_lanes() == [0, 1, 2, 3]
    stems = session.export_stems(tmp_path / "stems")
    assert stems and all(p.exists() for p in stems)


def test_save_and_open_round_trip(session, engine, tmp_path):
    session.update_settings(variations=2)
    session.generate()
    session.pick_take(1)
    session.set_lane("piano", lock=True)
    session.set_lane("drums", mute=True)
    session.set_lane("strings", lineup=False)
    path = tmp_path / "song.mvsketch"
    assert session.save(path)
    assert not session.dirty and session.path == path
    opened = Session.open(path, engine)
    assert not opened.dirty and opened.path == path and not opened.history.can_undo
    assert opened.index == 1 and len(opened.takes) == 2
    assert np.array_equal(opened.song.probs, session.song.probs)
    assert opened.locks[0] and opened.mutes[LANES.index("drums")]
    assert not opened.lineup[LANES.index("strings")]
    session.set_threshold(0.5)
    assert session.dirty
    session.undo()
    assert not session.dirty  # back where the file is


def test_open_a_bad_file(session, engine, tmp_path):
    bad = tmp_path / "bad.mvsketch"
    bad.write_bytes(b"not a sketch")
    seen = events_of(session)
    assert not session.open_sketch(bad)
    assert any(e[0] == "error" and e[1] == "Cannot open sketch" for e in seen)
    with pytest.raises(SketchError):
        Session.open(bad, engine)
    assert issubclass(SketchError, MusicVAEError)


def test_snapshot_restore_and_reopen(session, engine):
    session.generate()
    session.set_lane("bass", solo=True)
    sketch = session.snapshot()
    other = Session(engine)
    other.restore(sketch, "Restore crashed sketch")
    assert other.song is sketch.takes[0] and other.solos[LANES.index("bass")]
    other.reopened()
    assert not other.history.can_undo and not other.dirty  # never saved: nothing on disk to differ from


def test_nothing_to_export_or_save(session, tmp_path):
    seen = events_of(session)
    assert session.export_midi(tmp_path / "x.mid") is None
    assert session.export_stems(tmp_path) == []
    assert not session.save(tmp_path / "x.mvsketch")
    assert [e[1] for e in seen if e[0] == "error"] == ["Nothing to export", "Nothing to export", "Nothing to save"]


def test_an_unwritable_export_is_a_message_and_the_sketch_stays(session, tmp_path):
    session.generate()
    song = session.song
    seen = events_of(session)
    assert session.export_midi(tmp_path / "missing" / "x.mid") is None
    assert session.song is song
    assert any(e[0] == "error" and e[1] == "Export failed" for e in seen)


def test_a_primer_seeds_the_next_generate(session, engine, tmp_path):
    session.generate()
    session.set_tempo(100)
    primer = session.export_midi(tmp_path / "primer.mid")
    fresh = Session(engine)
    fresh.update_settings(steps=1)
    assert fresh.open_primer(primer)
    assert fresh.primer == primer and fresh.primer_bpm == pytest.approx(100)
    fresh.generate()
    assert fresh.song.tempo == pytest.approx(100)
    assert fresh.song.chunks[0][0].source == "primer"
    assert not fresh.open_primer(tmp_path / "nope.mid")
    fresh.clear_primer()
    assert fresh.primer is None


class Deferred:
    """An executor that holds its job until told: like the window's worker thread."""

    def __init__(self):
        self.jobs = []

    @property
    def busy(self) -> bool:
        return bool(self.jobs)

    def submit(self, fn, on_done, on_error) -> bool:
        if self.jobs:
            return False
        self.jobs.append((fn, on_done, on_error))
        return True

    def finish(self) -> None:
        fn, on_done, on_error = self.jobs.pop()
        try:
            result = fn()
        except Exception as exc:
            on_error(exc)
        else:
            on_done(result, 0.01)


def test_work_runs_through_the_executor_and_a_busy_one_queues(engine):
    executor = Deferred()
    session = Session(engine, executor)
    session.update_settings(steps=1)
    assert session.generate() and session.song is None and session.busy
    assert not session.generate() and session.pending is not None  # queued, said in the status bar
    executor.finish()
    assert session.song is not None
    assert session.run_pending() and session.pending is None
    executor.finish()
    assert session.history.count() == 2


def test_generate_waits_for_the_engine(engine):
    session = Session(None)
    seen = events_of(session)
    assert not session.generate() and session.generate_when_ready
    session.update_settings(steps=1)
    session.set_engine(engine)
    assert session.song is not None and any(e[0] == "status" for e in seen)
    broken = Session(None)
    seen = events_of(broken)
    broken.engine_failed("no pack here")
    assert not broken.generate()
    assert ("error", "No model pack", "no pack here") in seen


def test_an_engine_failure_is_an_error_event(session, monkeypatch):
    def fail(**_):
        raise RuntimeError("boom")

    monkeypatch.setattr(session.engine, "generate_takes", fail)
    seen = events_of(session)
    session.generate()
    assert ("error", "Generate failed", "RuntimeError: boom") in seen and session.song is None


def test_sync_executor_reports_failures():
    done, failed = [], []
    SyncExecutor().submit(lambda: 1 / 0, lambda *a: done.append(a), failed.append)
    assert not done and isinstance(failed[0], ZeroDivisionError)


# --- the settings value and the history, on their own ----------------------------------------------
def test_generation_settings_from_the_card_and_validated():
    s = GenerationSettings.from_card({"generation": {"noise": 0.8, "threshold": 2.0}})
    assert s.noise == 0.8 and s.threshold == 0.3  # a bad card value keeps the default
    assert GenerationSettings.from_card(None) == GenerationSettings()
    ok = s.replace(lineup="bass, piano", steps=3).validated(chunk_steps=32)
    assert ok.lineup == ("piano", "bass") and ok.engine_args()["lineup"] == ["piano", "bass"]
    assert ok.to_dict()["lineup"] == "piano,bass"
    for bad in (dict(noise=-1), dict(threshold=1.0), dict(tempo=1000), dict(lineup=()), dict(pull=1.0)):
        with pytest.raises(InvalidValue):
            s.replace(**bad).validated()


def test_history_merges_and_tracks_clean():
    shown = []
    h = History(shown.append)
    a, b, c = State(), State((), 1), State((), 2)
    h.push(a, b, "one")
    h.set_clean()
    h.push(b, c, "drag", merge=1)
    h.push(c, a, "drag", merge=1)
    assert h.count() == 2 and not h.is_clean
    assert h.undo() and h.is_clean and shown[-1] is b
    h.push(b, c, "new")  # the redo step is gone
    assert h.count() == 2 and not h.can_redo
    h.reset_clean()
    h.undo()
    assert not h.is_clean


def test_with_threshold_records_the_new_threshold(session):
    session.generate()
    song = session.song.with_threshold(0.6)
    assert song.threshold == 0.6 and song.settings["threshold"] == 0.6
    assert session.song.settings["threshold"] == pytest.approx(0.3)  # the original is untouched


def test_importing_the_session_loads_neither_torch_nor_qt():
    code = (
        "import sys, musicvae_app.sketch.session; "
        "print([m for m in ('torch', 'PySide6', 'pyqtgraph') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"


def test_values_out_of_range_raise_and_change_nothing(session):
    session.generate()
    song, steps = session.song, session.history.count()
    for call in (lambda: session.set_threshold(1.5), lambda: session.set_tempo(0), lambda: session.set_program(0, 200)):
        with pytest.raises(InvalidValue):
            call()
    assert session.song is song and session.history.count() == steps
    assert session.settings.threshold == pytest.approx(0.3)


def test_settings_are_checked_when_set_and_against_the_pack_on_generate(session):
    with pytest.raises(InvalidValue):
        session.update_settings(noise=-1.0)
    assert session.settings.noise == 1.0
    session.update_settings(steps=1000, variations=64)  # each within its count...
    seen = events_of(session)
    assert not session.generate()  # ...but together more than one generation may hold
    assert any(e[0] == "error" and e[1] == "Generate failed" and "variations" in e[2] for e in seen)
    assert session.song is None


class ThreadExecutor:
    """A real background executor: each job on its own thread (as the window's worker runs them)."""

    def __init__(self):
        import threading

        self.threads: list = []
        self._threading = threading
        self.busy = False

    def submit(self, fn, on_done, on_error) -> bool:
        def run():
            try:
                result = fn()
            except Exception as exc:
                on_error(exc)
            else:
                on_done(result, 0.0)

        thread = self._threading.Thread(target=run)
        self.threads.append(thread)
        thread.start()
        return True

    def join(self) -> None:
        for thread in self.threads:
            thread.join(30)


def _band_file(path: Path, bars: int) -> Path:
    import sys as _sys

    _sys.path.insert(0, str(Path(__file__).parent))
    from band_files import write_band_midi

    return write_band_midi(path, bars=bars, tempo=132)


def test_a_primer_is_read_through_the_executor_and_a_read_can_be_cancelled(engine, tmp_path):
    executor = ThreadExecutor()
    session = Session(engine, executor=executor)
    primer = _band_file(tmp_path / "long.mid", bars=400)
    assert session.open_primer(primer)  # started, not finished: the caller's thread is free
    executor.join()
    assert session.primer == primer and session.primer_bpm == pytest.approx(132)
    other = _band_file(tmp_path / "other.mid", bars=400)
    events = []
    session.listen(lambda event, *args: events.append(event))
    session.open_primer(other)
    assert session.primer_reading == other or session.primer == other
    if session.cancel_primer():  # the read was still running: its result is dropped when it lands
        executor.join()
        assert session.primer == primer and session.primer_reading is None
    assert "primer" in events
    assert not session.cancel_primer()  # nothing being read


def test_a_bad_primer_read_in_the_background_says_why_and_keeps_the_old_one(engine, tmp_path):
    executor = ThreadExecutor()
    session = Session(engine, executor=executor)
    errors = []
    session.listen(lambda event, *args: errors.append(args) if event == "error" else None)
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"MThd garbage")
    session.open_primer(bad)
    executor.join()
    assert session.primer is None and session.primer_reading is None
    assert errors and "bad.mid" in " ".join(map(str, errors[-1]))


def test_transpose_is_one_action_and_one_undo_step_and_exports_carry_the_key(session, tmp_path):
    import mido

    song = session.generate() and session.song
    key_before = song.settings.get("key")
    session.transpose(2)
    moved = session.song
    pitched = [i for i, lane in enumerate(LANES) if lane != "drums"]
    assert np.array_equal(moved.probs[pitched, :, 2:110], song.probs[pitched, :, :108])  # the top folds down an octave
    assert np.array_equal(moved.probs[LANES.index("drums")], song.probs[LANES.index("drums")])
    assert moved.settings["transpose"] == int(song.settings.get("transpose", 0)) + 2
    session.undo()
    assert np.array_equal(session.song.probs, song.probs) and session.song.settings.get("key") == key_before
    session.redo()
    path = session.export_midi(tmp_path / "up.mid")
    signatures = [m for m in mido.MidiFile(str(path)).tracks[0] if m.type == "key_signature"]
    if moved.settings.get("key"):
        assert len(signatures) == 1
    with pytest.raises(InvalidValue, match="semitones"):
        session.transpose(40)


def test_a_take_s_chords_move_with_transpose_and_stay_through_jam_and_save(session, tmp_path):
    session.generate()
    session.replace_take(session.song.with_chords(["Am", "F", None, "C/E"]), "Chords")
    session.transpose(2)
    assert session.song.chords == ["Bm", "G", None, "D/F#"]
    exported = read_chords(session.export_midi(tmp_path / "up.mid"), session.song.steps_per_beat)
    assert exported[:4] == ["Bm", "G", None, "D/F#"]
    session.undo()
    assert session.song.chords == ["Am", "F", None, "C/E"]
    session.redo()
    bars = session.song.n_bars
    assert session.continue_song(1) and session.song.n_bars > bars
    # the new bars go on round the chart
    assert session.song.chords == fit_chart(["Bm", "G", None, "D/F#"], session.song.n_bars)
    assert session.save(tmp_path / "charted.mvsketch")
    assert Session.open(tmp_path / "charted.mvsketch").song.chords == session.song.chords


# --- issue 11: composing controls through the session ---------------------------------------------
def e_minor_primer(path):
    """Two bars of E minor: an Em arpeggio on piano and E-B on bass (E and B weigh most, G makes it minor)."""
    from band_files import write_notes

    notes = []
    for beat in range(8):
        for pitch in (64, 67, 71):
            notes.append((0, 0, pitch + (12 if beat % 4 == 3 else 0), beat, beat + 1))
        notes.append((1, 32, 40 if beat % 2 == 0 else 47, beat, beat + 1))
    notes += [(0, 0, 66, 2.5, 3), (0, 0, 62, 6.5, 7)]  # F# and D: in E minor, not in G major's tonic triad
    return write_notes(path, notes, tempo=100)


def test_key_and_scale_lock_go_into_the_next_generate_and_come_back_with_the_sketch(session, engine, tmp_path):
    seen = events_of(session)
    session.set_key("f#m", scale_lock=True)
    assert session.settings.key == "F# minor" and session.settings.scale_lock
    assert ("settings",) in seen
    assert session.generation_args()["key"] == "F# minor" and session.generation_args()["scale_lock"] is True
    session.generate()
    assert session.song.settings["key"].startswith("F# minor") and session.song.settings["scale_lock"] is True
    assert session.take_key() == "F# minor"
    assert read_settings(session.export_midi(tmp_path / "k.mid"))["key"].startswith("F# minor")
    session.save(tmp_path / "k.mvsketch")
    again = Session.open(tmp_path / "k.mvsketch", engine)
    assert again.settings.key == "F# minor" and again.settings.scale_lock is True
    with pytest.raises(InvalidValue, match="not a key"):
        session.set_key("H major")
    assert session.settings.key == "F# minor"
    session.set_key(None, scale_lock=False)
    assert session.settings.key is None and session.settings.scale_lock is False


def test_a_primer_in_e_minor_shows_its_key(session, tmp_path):
    assert session.open_primer(e_minor_primer(tmp_path / "em.mid"))
    assert session.primer_key == "E minor"
    session.clear_primer()
    assert session.primer_key is None


def test_infill_regenerates_only_the_range_and_lanes_as_one_undo_step(session):
    song = session.generate() and session.song  # 4 chunks of 4 bars
    steps_before = len(session.history.steps)
    assert session.infill(5, 8, ["guitar", "bass"], seed=3)
    new = session.song
    assert len(session.history.steps) == steps_before + 1
    assert session.history.undo_text == "Regenerate bars 5-8 (guitar, bass)"
    lo, hi = 1 * song.chunk_steps, 2 * song.chunk_steps
    chosen = [LANES.index("guitar"), LANES.index("bass")]
    others = [i for i in range(len(LANES)) if i not in chosen]
    assert np.array_equal(new.probs[others], song.probs[others])  # bit-identical: probabilities, hence notes
    assert np.array_equal(new.probs[chosen, :lo], song.probs[chosen, :lo])
    assert np.array_equal(new.probs[chosen, hi:], song.probs[chosen, hi:])
    assert not np.array_equal(new.probs[chosen, lo:hi], song.probs[chosen, lo:hi])
    session.undo()
    assert session.song is song
    with pytest.raises(InvalidValue, match="end bar"):
        session.infill(9, 3)


def test_infill_snaps_to_chunks_and_variations_sit_side_by_side(session):
    session.update_settings(variations=2)
    session.generate()
    session.pick_take(1)
    song = session.song
    session.update_settings(variations=3)
    assert session.infill(6, 6)  # inside the second chunk: bars 5-8, every lane
    assert len(session.takes) == 2 - 1 + 3 and session.index == 1
    assert session.history.undo_text == "Regenerate bars 5-8 (all lanes)"
    cs = song.chunk_steps
    for take in session.takes[1:4]:
        assert np.array_equal(take.probs[:, :cs], song.probs[:, :cs])
        assert np.array_equal(take.probs[:, 2 * cs :], song.probs[:, 2 * cs :])
    assert not np.array_equal(session.takes[1].probs, session.takes[2].probs)
    session.undo()
    assert len(session.takes) == 2 and session.song is song


def test_morph_to_take_adds_a_take_in_one_undo_step_and_keeps_locked_lanes(session):
    session.update_settings(variations=2)
    session.generate()
    a, b = session.takes
    session.set_lane("drums", lock=True)
    session.set_density("bass", 1.5)
    assert session.morph_to_take(1, steps=5)
    assert len(session.takes) == 3 and session.index == 2
    morph = session.song
    assert morph.n_chunks == 5 and session.history.undo_text == "Morph take 1 to take 2"
    assert morph.density == {"bass": 1.5} and morph.programs == session.takes[0].programs
    drums = LANES.index("drums")
    first = morph.chunk(0)[drums]
    assert all(np.array_equal(morph.chunk(c)[drums], first) for c in range(5))  # the locked lane stays A's
    assert not np.array_equal(morph.chunk(0)[0], morph.chunk(4)[0])  # the piano moves toward take 2
    session.undo()
    assert len(session.takes) == 2
    with pytest.raises(InvalidValue, match="current take"):
        session.morph_to_take(0)
    with pytest.raises(InvalidValue, match="morph steps"):
        session.morph_to_take(1, steps=1)


def test_density_is_live_monotonic_one_step_per_drag_and_saved(session, engine, tmp_path, monkeypatch):
    session.generate()
    song = session.song
    for name in ("generate", "regenerate_lane", "continue_song", "infill", "morph"):
        monkeypatch.setattr(engine, name, lambda *a, **k: pytest.fail("the engine was called"))
    steps_before = len(session.history.steps)
    counts = []
    for value in (0.5, 0.8, 1.0, 1.5, 2.5):
        session.set_density("bass", value)
        counts.append(int(session.song.notes()[LANES.index("bass")].sum()))  # sounding cells (runs may merge)
        assert session.song.note_counts()["piano"] == song.note_counts()["piano"]
        assert np.array_equal(session.song.probs, song.probs)  # no new sample
    assert counts == sorted(counts) and counts[0] < counts[-1]
    assert len(session.history.steps) == steps_before + 1  # a drag is one undo step
    session.set_density("piano", 0.7)
    assert len(session.history.steps) == steps_before + 2
    assert session.song.density == {"bass": 2.5, "piano": 0.7}
    session.save(tmp_path / "d.mvsketch")
    assert Session.open(tmp_path / "d.mvsketch", engine).song.density == {"bass": 2.5, "piano": 0.7}
    assert read_settings(session.export_midi(tmp_path / "d.mid"))["density"] == "piano=0.7,bass=2.5"
    with pytest.raises(InvalidValue, match="density of bass"):
        session.set_density("bass", 9)
    session.undo()
    assert session.song.density == {"bass": 2.5}
    session.undo()
    assert session.song is song and session.density == {}


def test_feel_moves_the_exported_off_beats_is_undoable_and_saved(session, engine, tmp_path):
    import mido

    from musicvae_app.theory.feel import TICKS_PER_BEAT

    session.generate()
    song = session.song
    straight = mido.MidiFile(str(session.export_midi(tmp_path / "straight.mid")))
    steps_before = len(session.history.steps)
    for value in (55, 60, 66):
        session.set_feel(swing=value)
    assert len(session.history.steps) == steps_before + 1 and session.song.feel.swing == 66
    session.set_feel(humanize_ms=8, humanize_velocity=10)
    assert len(session.history.steps) == steps_before + 2
    assert np.array_equal(session.song.probs, song.probs)
    session.set_feel(humanize_ms=0, humanize_velocity=0)
    swung = mido.MidiFile(str(session.export_midi(tmp_path / "swung.mid")))
    assert read_settings(tmp_path / "swung.mid")["swing"] == 66

    def onsets(mid):
        out = []
        for track in mid.tracks[1:]:
            tick = 0
            for msg in track:
                tick += msg.time
                if msg.type == "note_on" and msg.velocity:
                    out.append(tick)
        return sorted(out)

    before, after = onsets(straight), onsets(swung)
    assert len(before) == len(after)
    half = TICKS_PER_BEAT // 2
    moved = {
        t: t // TICKS_PER_BEAT * TICKS_PER_BEAT + round(0.66 * TICKS_PER_BEAT)
        for t in before
        if t % TICKS_PER_BEAT == half
    }
    assert moved and all(m in after for m in moved.values())
    assert sum(1 for t in after if t % TICKS_PER_BEAT == half) == 0  # no off-beat 8th left straight
    session.save(tmp_path / "f.mvsketch")
    assert Session.open(tmp_path / "f.mvsketch", engine).song.feel.swing == 66
    session.generate()  # the next Generate keeps the feel the controls show
    assert session.song.feel.swing == 66
    with pytest.raises(InvalidValue, match="swing"):
        session.set_feel(swing=90)
    session.undo()
    session.undo()
    session.undo()
    assert session.song is song and session.song.feel.off


def test_infill_lands_on_its_own_take_when_the_user_flips_takes_meanwhile(engine):
    executor = Deferred()
    session = Session(engine, executor)
    session.update_settings(steps=3, variations=2)
    session.generate()
    executor.finish()
    first, second = session.takes
    session.update_settings(variations=1)
    assert session.infill(1, 4, ["piano"], seed=5)
    session.pick_take(1)  # while the worker runs
    executor.finish()
    assert session.index == 0 and session.takes[1] is second  # the infilled take is current, the other untouched
    assert np.array_equal(session.song.probs[1:], first.probs[1:])
    assert not np.array_equal(session.song.probs[0, : first.chunk_steps], first.probs[0, : first.chunk_steps])


def test_a_take_from_a_random_start_is_named_by_its_own_notes_not_the_packs_key_space(session):
    """A key-normalised pack records 'C major / A minor' for a random start (its key space); the bank row it
    starts from need not be in C, so the label names the key the take's notes are in."""
    session.generate()
    song = session.song
    song.settings = song.settings.replace(key="C major / A minor")
    song.probs[:] = 0.0
    for step in range(song.probs.shape[1]):  # D major: D F# A, with G and C# passing, over a D bass
        song.probs[0, step, (62, 66, 69, 67, 73)[step % 5]] = 0.9
        song.probs[LANES.index("bass"), step, 38] = 0.9
    assert session.take_key() == "D major"
    song.settings = song.settings.replace(
        key="E minor"
    )  # a key the engine chose (asked, a primer's, a part's) is said as recorded
    assert session.take_key() == "E minor"
    song.probs[:] = 0.0
    song.settings = song.settings.replace(key="")
    assert session.take_key() is None  # nothing pitched: no key to name
