"""Issue 29, an arrangement: density that does what it says, styles, grooves that come back, sections with energy.

On the shipped pack (real weights), read back through the real MIDI writer and an independent parser (mido)."""

from __future__ import annotations

import mido
import numpy as np
import pytest

from musicvae_app.engine import Engine
from musicvae_app.sketch.midi import write_midi
from musicvae_app.sketch.song import LANES

DENSITIES = (0.5, 0.8, 1.0, 1.5, 2.0, 3.0)


@pytest.fixture(scope="module")
def shipped():
    return Engine.load(device="cpu")


def _exported_notes(song, path) -> list[int]:
    """Note-ons per lane of the exported .mid, read back with mido (the writer puts lane i on channel i, drums 9)."""
    counts = [0] * len(LANES)
    for track in mido.MidiFile(write_midi(song, path)).tracks:
        for msg in track:
            if msg.type == "note_on" and msg.velocity > 0:
                counts[len(LANES) - 1 if msg.channel == 9 else msg.channel] += 1
    return counts


def test_density_gives_more_notes_in_every_lane_over_seeds(shipped, tmp_path):
    """Issue 29 item 6: notes per bar rise with a lane's density, every lane, several seeds (x0.5 gave more bass
    notes than x3 where the note floors moved with the density and merged notes)."""
    for seed in (1, 2, 6):
        song = shipped.generate(steps=3, seed=seed)
        for li, lane in enumerate(LANES):
            counts = [
                _exported_notes(song.with_density({lane: d}), tmp_path / f"{seed}-{lane}-{d}.mid")[li]
                for d in DENSITIES
            ]
            assert counts == sorted(counts), (seed, lane, counts)
            assert counts[-1] > counts[0], (seed, lane, counts)


# --- reading exports back with mido ------------------------------------------------------------------------


def _read_back(path, steps_per_beat: int = 4):
    """{channel: [(step, pitch, velocity), ...]} of a .mid's note-ons, on a 16th grid, read with mido alone."""
    mid = mido.MidiFile(path)
    out: dict[int, list] = {}
    for track in mid.tracks:
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type == "note_on" and msg.velocity > 0:
                step = round(tick * steps_per_beat / mid.ticks_per_beat)
                out.setdefault(msg.channel, []).append((step, msg.note, msg.velocity))
    return out


def _kit_share(hits, n_bars: int) -> float:
    """Share of the drum bars that play with a kick and a backbeat (snare, clap or side stick)."""
    per_bar: dict[int, set] = {}
    for step, pitch, _ in hits:
        per_bar.setdefault(step // 16, set()).add(pitch)
    playing = [b for b in range(n_bars) if per_bar.get(b)]
    kit = [b for b in playing if per_bar[b] & {35, 36} and per_bar[b] & {37, 38, 39, 40}]
    return len(kit) / max(len(playing), 1)


# --- styles --------------------------------------------------------------------------------------------------


def test_styles_are_listed_with_a_line_each_auto_first(shipped):
    styles = shipped.styles()
    assert styles[0][0] == "Auto"
    names = [name for name, _ in styles[1:]]
    assert len(names) >= 6 and len(set(names)) == len(names)
    assert all(text and len(text) < 160 for _, text in styles)
    for style in shipped.style_set.by_name.values():  # each a subset of the bank and its own fills, feel, tempo
        assert style.bank_rows and set(style.bank_rows) <= set(range(shipped.fast.bank_z.shape[0]))
        assert style.fills and style.fill_rate
        assert 40 <= style.tempo[0] <= style.tempo_median <= style.tempo[1] <= 260


def test_every_style_plays_a_kit_at_its_tempo(shipped, tmp_path):
    """Kick and backbeat in most drum bars of every style (exported and read back), its tempo, its swing."""
    for name, _ in shipped.styles()[1:]:
        style = shipped.style_set.get(name)
        shares = []
        for seed in (1, 2):
            song = shipped.generate(steps=3, seed=seed, style=name)
            assert song.settings["style"] == style.name
            assert song.tempo == style.tempo_median
            if style.swing_percent > 50:
                assert song.feel.swing == style.swing_percent
            hits = _read_back(write_midi(song, tmp_path / f"{name}-{seed}.mid")).get(9, [])
            shares.append(_kit_share(hits, song.n_bars))
        assert np.mean(shares) >= 0.8, (name, shares)


def test_a_style_starts_from_its_own_bank_rows(shipped):
    """Two styles from the same seed start from different rows; "Auto" and None are today's generate."""
    a = shipped.generate(steps=1, seed=5, style="four-on-the-floor")
    b = shipped.generate(steps=1, seed=5, style="ballad")
    assert not np.array_equal(a.notes()[4], b.notes()[4])
    plain, auto = shipped.generate(steps=1, seed=5), shipped.generate(steps=1, seed=5, style="Auto")
    assert np.array_equal(plain.notes(), auto.notes())
    assert "style" not in plain.settings


def test_an_unknown_style_names_the_styles_there_are(shipped):
    from musicvae_app.errors import InvalidValue

    with pytest.raises(InvalidValue) as exc:
        shipped.generate(steps=1, style="polka")
    text = str(exc.value)
    assert "polka" in text and "Auto" in text and all(name in text for name, _ in shipped.styles()[1:])


def test_cli_styles_and_generate_with_a_style_and_a_form(tmp_path, capsys):
    from musicvae_app.cli import main

    assert main(["styles"]) == 0
    listed = capsys.readouterr().out
    assert "Auto" in listed and "shuffle" in listed and "BPM" in listed
    out = tmp_path / "s.mid"
    args = ["generate", "--style", "funk", "--form", "intro 4 verse 4 chorus 4 @5 outro 4", "--steps", "3"]
    assert main([*args, "--seed", "2", "--out", str(out)]) == 0
    assert out.is_file() and _read_back(out).get(9)
    assert main(["generate", "--style", "polka", "--out", str(tmp_path / "x.mid")]) == 2
    err = capsys.readouterr().err
    assert "unknown style 'polka'" in err and "funk" in err
    assert main(["generate", "--form", "verse 8 @7", "--out", str(tmp_path / "y.mid")]) == 2
    assert "1 to 5" in capsys.readouterr().err
    assert not (tmp_path / "x.mid").exists() and not (tmp_path / "y.mid").exists()


# --- sections with energy -----------------------------------------------------------------------------------

FORM = [
    ("intro", 1, 4),
    ("verse", 5, 8),
    ("chorus", 13, 8, 5),
    ("verse 2", 21, 8),
    ("chorus", 29, 8, 5),
    ("outro", 37, 4),
]


def test_the_chorus_lifts_and_the_outro_ends(shipped, tmp_path):
    """Over seeds: the chorus (energy 5) has more notes and louder ones than the verse (3), a crash on its first
    beat; the last bar of an outro is one hit: the drums on beat 1 only, the pitched lanes struck on beat 1 only."""
    notes = {"verse": [], "chorus": []}
    loud = {"verse": [], "chorus": []}
    for seed in (1, 2, 3):
        song = shipped.generate(steps=9, seed=seed, sections=FORM)
        assert [s.level for s in song.sections] == [2, 3, 5, 3, 5, 2]
        events = _read_back(write_midi(song, tmp_path / f"form-{seed}.mid"))
        every = [e for hits in events.values() for e in hits]
        for sec in song.sections:
            if sec.kind in notes:
                inside = [v for step, _, v in every if sec.start - 1 <= step // 16 < sec.end]
                notes[sec.kind].append(len(inside) / sec.bars)
                loud[sec.kind].append(float(np.mean(inside)))
        for sec in song.sections:
            if sec.kind == "chorus":
                first = {p for step, p, _ in events[9] if step == (sec.start - 1) * 16}
                assert first & {49, 57}, (seed, sec)
        last = (song.n_bars - 1) * 16
        assert {step for step, _, _ in events[9] if step >= last} == {last}
        assert all(step == last for ch in (0, 1, 2, 3) for step, _, _ in events.get(ch, []) if step >= last)
    assert np.mean(notes["chorus"]) > 1.15 * np.mean(notes["verse"]), notes
    assert np.mean(loud["chorus"]) > np.mean(loud["verse"]) + 3, loud


def test_energy_out_of_range_is_refused_naming_the_range(shipped):
    from musicvae_app.errors import InvalidValue
    from musicvae_app.theory.sections import parse_form

    with pytest.raises(InvalidValue, match="1 to 5"):
        shipped.generate(steps=3, sections=[("chorus", 1, 8, 9)])
    with pytest.raises(InvalidValue, match="1 to 5"):
        parse_form("verse 8 chorus 8 @0")
    assert [s.energy for s in parse_form("verse 8 chorus 8 @5")] == [None, 5]


# --- grooves that come back ---------------------------------------------------------------------------------


def test_lanes_return_to_their_pattern_under_a_chart(shipped):
    """With the card's recall, a bass under a repeating chart replays an earlier 4-bar chunk far more often than
    without (real songs: about a fifth of bass chunks); takes without chords are the same either way."""
    from musicvae_app.evaluation.playing_metrics import earlier_repetition

    card = shipped.card
    assert card.recall is not None and card.recall[2] > 0
    on = [shipped.generate(steps=7, seed=s, chords="Am F C G").notes()[2] for s in range(6)]
    plain = shipped.generate(steps=3, seed=9).notes()
    try:
        shipped.use_card(recall=None)
        off = [shipped.generate(steps=7, seed=s, chords="Am F C G").notes()[2] for s in range(6)]
        assert np.array_equal(shipped.generate(steps=3, seed=9).notes(), plain)
    finally:
        shipped.use_card(card)
    back_on, back_off = earlier_repetition(np.stack(on), 64), earlier_repetition(np.stack(off), 64)
    assert back_on >= back_off + 8, (back_on, back_off)


def test_earlier_repetition_counts_a_chunk_that_replays_any_earlier_one():
    from musicvae_app.evaluation.playing_metrics import earlier_repetition

    rng = np.random.default_rng(0)
    a, b, c = (rng.random((64, 128)) < 0.05 for _ in range(3))
    lane = np.concatenate([a, b, a, c, np.zeros((64, 128), bool)])  # A B A C (silent): 1 of 3 comes back
    assert earlier_repetition(lane, 64) == pytest.approx(100 / 3)


# --- the window ---------------------------------------------------------------------------------------------


def test_the_window_style_box_and_a_section_energy(qtbot, shipped, tmp_path):
    """The Style box lists the pack's styles ("Auto" first); picking one sets the next Generate's style and tempo;
    a section named 'chorus @5' gets energy 5; a bad energy is a message and the sections stay."""
    from musicvae_app.ui.main_window import MainWindow

    w = MainWindow(shipped, data_dir=tmp_path / "data", restore="no")
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.bar.style.count() > 1, timeout=20000)
    box = w.bar.style
    assert box.itemText(0) == "Auto" and box.count() == len(shipped.styles())
    box.setCurrentIndex(box.findText("funk"))
    session = w.session
    assert session.style == "funk"
    assert session.generation_args()["style"] == "funk"
    assert session.settings.tempo == shipped.style_set.get("funk").tempo_median
    box.setCurrentIndex(box.findText("shuffle"))
    assert session.feel["swing"] == shipped.style_set.get("shuffle").swing_percent > 50
    box.setCurrentIndex(0)
    assert session.style is None and "style" not in session.generation_args()
    session.mark_section("chorus @5", 1, 4)
    assert [(s.name, s.level) for s in session.sections()] == [("chorus", 5)]
    from musicvae_app.errors import InvalidValue

    with pytest.raises(InvalidValue, match="1 to 5"):
        session.mark_section("verse @9", 5, 8)
    assert [(s.name, s.level) for s in session.sections()] == [("chorus", 5)]


# --- dynamics from the music --------------------------------------------------------------------------------


def test_velocity_by_position_accents_the_beat_and_ghosts_the_snare():
    from musicvae_app.theory.dynamics import group_of, table, velocity

    drums, hat, snare, kick = LANES.index("drums"), 42, 38, 36

    def usual(pitch, step):  # the mean over the pack's usual hits there (its measured confidence quantiles)
        q = table()["confidence"][group_of(drums, pitch)][step % 16]
        return np.mean([velocity(drums, pitch, step, 4, c) for c in q[1:-1]])

    assert usual(hat, 0) > usual(hat, 1) + 10  # beat 1 over its 16th
    assert usual(snare, 4) >= usual(snare, 0)  # the backbeat on 2
    assert velocity(drums, snare, 3, 4, 0.0) < 0.6 * usual(snare, 4)  # a ghost note
    assert velocity(drums, kick, 0, 4, 1.0) > velocity(drums, kick, 0, 4, 0.0)  # the model's confidence counts
    assert all(1 <= velocity(lane, 60, step, 4, c) <= 127 for lane in range(5) for step in range(16) for c in (0, 1))


def test_exported_drums_accent_the_beat(shipped, tmp_path):
    """Read back with mido: hi-hat and ride hits on the beat are louder than those off it, as in real songs (the
    fills' toms, loud wherever they fall, are another kind of hit: tests/test_dynamics.py compares kind by kind)."""
    from musicvae_app.theory.dynamics import HATS

    on, off = [], []
    for seed in (1, 2, 3):
        hits = _read_back(write_midi(shipped.generate(steps=3, seed=seed), tmp_path / f"d{seed}.mid"))[9]
        on += [v for step, p, v in hits if step % 4 == 0 and p in HATS]
        off += [v for step, p, v in hits if step % 4 and p in HATS]
    assert np.mean(on) > np.mean(off) + 5, (np.mean(on), np.mean(off))


def test_a_section_energy_and_a_style_are_saved_with_the_sketch(shipped, tmp_path):
    from musicvae_app.sketch.sketchfile import Sketch, load, save

    song = shipped.generate(steps=3, seed=4, style="rock", sections=[("verse", 1, 8), ("chorus", 9, 8, 5)])
    back = load(save(Sketch([song]), tmp_path / "s.musicvae")).song
    assert [(s.name, s.energy, s.level) for s in back.sections] == [("verse", None, 3), ("chorus", 5, 5)]
    assert back.settings["style"] == "rock"
    assert np.array_equal(back.notes(), song.notes())
