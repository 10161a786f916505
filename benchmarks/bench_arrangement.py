"""Issue 29, an arrangement: grooves that come back, lanes playing per bar, notes per bar, a kit in every style,
measured on real songs beside ours.

    .venv/bin/python -m benchmarks.bench_arrangement --data ../shared/data/band-midi --songs 48 [--train]
        [--chart | --form | --plain] [--seed N]

Real: the songs' own windows (a mid-song chunk and 7 after it, 32 bars, as `musicvae evaluate --steps 7`
takes them). Ours: the engine asked to play each window's own chords (recognized from the real song) from its
primer chunk, as `evaluate --chords real` asks, exported and read back at 16ths. --train measures training
songs instead (for tuning: the validation songs are only reported). Per lane: the share of 4-bar chunks that
replay an earlier one (Jaccard >= 0.9; >= 0.6 "near"), the share of bars the lane plays in, note starts per
bar. --styles adds, per style, the share of drum bars with a kick and a backbeat in random-start sketches.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from musicvae_app.engine import Engine
from musicvae_app.evaluation import groove_metrics as gm
from musicvae_app.evaluation import playing_metrics as pm
from musicvae_app.evaluation.calibrate import training_songs
from musicvae_app.evaluation.evaluate import validation_songs
from musicvae_app.evaluation.playing import chord_takes, continuation_chords
from musicvae_app.evaluation.windows import SCORE_CHUNK, SCORE_STEPS_PER_BEAT, windows
from musicvae_app.sketch.song import DRUMS, LANES

BAR = 4 * SCORE_STEPS_PER_BEAT


def lane_rows(rolls: np.ndarray, chords: list | None = None) -> dict:
    """{lane: {figure: value}} of (songs, 5, steps, 128) rolls (continuations only); with the chords (a bar each,
    per song), "moved": chunks that replay the earlier chunk sharing most of their chords (groove_metrics)."""
    out = {}
    for i, lane in enumerate(LANES):
        roll = rolls[:, i]
        bars = roll.reshape(roll.shape[0], -1, BAR, 128).any(axis=(2, 3))
        out[lane] = {
            "moved": gm.moved_repetition(roll, chords) if chords is not None and i != DRUMS else float("nan"),
            "back": pm.earlier_repetition(roll, SCORE_CHUNK),
            "near": pm.earlier_repetition(roll, SCORE_CHUNK, pm.NEAR_CHUNK),
            "plays": 100.0 * float(bars.mean()),
            "starts": pm.onsets_per_bar(roll, SCORE_STEPS_PER_BEAT),
        }
    return out


def kit_share(rolls: np.ndarray) -> float:
    """% of drum bars that play with a kick and a backbeat (snare, clap or side stick)."""
    drums = rolls[:, LANES.index("drums")].reshape(rolls.shape[0], -1, BAR, 128)
    playing = drums.any(axis=(2, 3))
    kit = drums[..., [35, 36]].any(axis=(2, 3)) & drums[..., [37, 38, 39, 40]].any(axis=(2, 3))
    return 100.0 * float(kit[playing].mean()) if playing.any() else float("nan")


def plain_takes(engine, count: int, steps: int, seed: int, **extra) -> np.ndarray:
    """`count` random-start sketches (no primer, no chords) exported and read back at 16ths; chunk 0 is the start."""
    import tempfile
    from pathlib import Path

    from musicvae_app.evaluation.windows import export_back

    total = (steps + 1) * SCORE_CHUNK
    with tempfile.TemporaryDirectory() as tmp:
        return np.stack(
            [
                export_back(engine.generate(steps=steps, seed=seed + k, **extra), Path(tmp) / "t.mid", total)
                for k in range(count)
            ]
        )


def chart_takes(engine, chords: list[list], steps: int, seed: int, **extra) -> np.ndarray:
    """Sketches asked each song's own chords (a bar each, from its first chunk on) with no primer, exported and read
    back at 16ths: a chart typed in, as a songwriter would (extra: more of generate's arguments, e.g. sections)."""
    import tempfile
    from pathlib import Path

    from musicvae_app.evaluation.windows import export_back

    total = (steps + 1) * SCORE_CHUNK
    with tempfile.TemporaryDirectory() as tmp:
        return np.stack(
            [
                export_back(engine.generate(steps=steps, seed=seed + k, chords=c, **extra), Path(tmp) / "t.mid", total)
                for k, c in enumerate(chords)
            ]
        )


def chart_form(chunks: int) -> list[tuple[str, int, int]]:
    """Verse and chorus by turns, a quarter of the take each (whole chunks): a form marked on a chart."""
    bars = chunks * SCORE_CHUNK // BAR
    size = max(SCORE_CHUNK // BAR, bars // 4 // (SCORE_CHUNK // BAR) * (SCORE_CHUNK // BAR))
    return [("verse" if i % 2 == 0 else "chorus", 1 + i * size, size) for i in range(bars // size)]


FORM = [("intro", 1, 4), ("verse", 5, 8), ("chorus", 13, 8), ("verse", 21, 8), ("chorus", 29, 8), ("outro", 37, 4)]


def _played_mean(values) -> float:
    """The mean over the positions that have notes (velocity_table gives 0 where none falls)."""
    values = np.asarray(values, dtype=float)
    return float(values[values > 0].mean()) if (values > 0).any() else float("nan")


def dynamics(engine, real_paths: list[str], count: int, seed: int) -> None:
    """Velocity by 16th position (drums: kick, backbeat, hats) real beside ours, and a form's chorus against its
    verse (notes a bar, mean velocity), from exported takes read back with mido (training/styles.read_song)."""
    import tempfile
    from pathlib import Path

    from musicvae_app.sketch.midi import write_midi
    from musicvae_app.training.styles import read_song, velocity_table

    real = velocity_table([s for s in (read_song(p) for p in real_paths) if s is not None])
    songs, contrast = [], {"verse": [], "chorus": []}
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(count):
            take = engine.generate(steps=9, seed=seed + k, sections=FORM)
            song = read_song(str(write_midi(take, Path(tmp) / "t.mid")))
            songs.append(song)
            for sec in take.sections:
                if sec.kind in contrast:
                    n = song["notes"]
                    inside = n[(n[:, 2] >= (sec.start - 1) * 4) & (n[:, 2] < sec.end * 4)]
                    contrast[sec.kind].append((len(inside) / sec.bars, float(inside[:, 3].mean())))
    ours = velocity_table(songs)
    print(f"velocity, real (validation songs) beside ours ({count} sketches with a form):")
    for name, r, o in zip(("kick", "backbeat", "hats/ride"), real["drums_by_position"], ours["drums_by_position"]):
        on = lambda row: _played_mean(row[::4])  # noqa: E731
        off = lambda row: _played_mean(row[1::2])  # noqa: E731
        print(f"  {name:10s} beats {on(r):5.1f} / {on(o):5.1f}   off-8th 16ths {off(r):5.1f} / {off(o):5.1f}")
    for lane, r, o in zip(LANES, real["lane_mean"], ours["lane_mean"]):
        print(f"  {lane:10s} mean {r:5.1f} / {o:5.1f}")
    print(
        f"  snare ghost notes (< 0.6 x the song's median) {100 * real['snare_ghost_share']:.1f} % / "
        f"{100 * ours['snare_ghost_share']:.1f} %"
    )
    for kind, rows in contrast.items():
        rows = np.array(rows)
        print(f"  {kind:7s} notes a bar {rows[:, 0].mean():5.1f}, mean velocity {rows[:, 1].mean():5.1f}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pack", default="resources/models/default")
    parser.add_argument("--data", required=True)
    parser.add_argument("--songs", type=int, default=48)
    parser.add_argument("--steps", type=int, default=7)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train", action="store_true", help="training songs (tuning), not the validation split")
    parser.add_argument("--cache-dir", default=None)
    parser.add_argument("--styles", type=int, default=0, help="random-start sketches per style for the kit share")
    parser.add_argument("--follow", default=None, help="ours follow the real songs' own part on these lanes")
    parser.add_argument("--plain", action="store_true", help="ours: random-start sketches, no primer, no chords")
    parser.add_argument("--chart", action="store_true", help="ours: the songs' own chords alone, no primer")
    parser.add_argument("--form", action="store_true", help="ours: the songs' own chords alone, with sections")
    parser.add_argument("--dynamics", type=int, default=0, help="sketches with a song form: velocity, chorus lift")
    parser.add_argument("--recall", default=None, help="five shares (card `recall`) to try in place of the card's")
    args = parser.parse_args(argv)
    engine = Engine.load(args.pack)
    if args.recall is not None:
        engine.use_card(recall=[float(x) for x in args.recall.split(",")] if args.recall != "off" else None)
    print(f"recall {engine.card.recall}")
    if args.train:
        pool = training_songs(engine, args.data, args.songs * 2, args.cache_dir)
    else:
        pool = validation_songs(engine, args.data, args.cache_dir)
    chosen = windows(pool, SCORE_CHUNK, args.steps, args.songs)
    real = np.stack([w.roll for w in chosen])
    chords = continuation_chords(chosen)
    t0 = time.perf_counter()
    if args.follow:
        from musicvae_app.evaluation.playing import follow_takes

        given = [LANES.index(name) for name in args.follow.split(",")]
        chosen = [w for w in chosen if all(w.roll[i].any() for i in given)]
        real = np.stack([w.roll for w in chosen])
        ours = follow_takes(engine, chosen, given, args.steps, args.seed)
    elif args.chart or args.form:
        form = chart_form(args.steps + 1) if args.form else []
        ours = chart_takes(engine, chords, args.steps, args.seed, sections=form)
    elif args.plain:
        ours = plain_takes(engine, len(chosen), args.steps, args.seed)
    else:
        ours = chord_takes(engine, chosen, chords, args.steps, args.seed)
    seconds = time.perf_counter() - t0
    after = [c[SCORE_CHUNK // BAR :] for c in continuation_chords(chosen)]  # the real chords, what ours were asked
    r, g = lane_rows(real[..., SCORE_CHUNK:, :], after), lane_rows(ours[..., SCORE_CHUNK:, :], after)
    split = "training" if args.train else "validation"
    how = "random-start sketches, no chords" if args.plain else "primer + chunks asked their own chords"
    how = "the songs' own chords alone (no primer)" if args.chart else how
    how = "the songs' own chords alone with a form (verse, chorus, verse, chorus)" if args.form else how
    how = f"following the songs' own {args.follow}" if args.follow else how
    print(
        f"{len(chosen)} {split} songs ({args.steps} chunks after the first), ours: {how}, seed {args.seed} "
        f"({seconds:.1f} s)"
    )
    print(
        f"{'lane':8s} {'= earlier %':>17s} {'~ earlier %':>17s} {'bars played %':>17s} {'starts/bar':>17s} "
        f"{'= moved earlier %':>17s}"
    )
    print(f"{'':8s} " + " ".join(f"{'real':>8s} {'ours':>8s}" for _ in range(5)))
    for lane in LANES:
        keys = ("back", "near", "plays", "starts", "moved")
        cells = " ".join(f"{r[lane][k]:8.1f} {g[lane][k]:8.1f}" for k in keys)
        print(f"{lane:8s} {cells}")
    for name, rolls in (("real", real), ("ours", ours)):
        comp = gm.comping(rolls, BAR, SCORE_CHUNK // BAR)
        if comp is not None:
            print(
                f"{name}: of the bars of {comp['pieces']:.0f} songs whose piano and guitar both play: both "
                f"{comp['both']:.1f} %, piano alone {comp['piano_alone']:.1f} %, "
                f"guitar alone {comp['guitar_alone']:.1f}"
                f" %, neither {comp['neither']:.1f} %"
            )
    print(
        f"kit bars (kick and backbeat) %: real {kit_share(real[..., SCORE_CHUNK:, :]):.1f}, ours {kit_share(ours):.1f}"
    )
    if args.dynamics:
        dynamics(engine, [w.name for w in chosen], args.dynamics, args.seed)
    if args.styles:
        print(f"per style, {args.styles} random-start sketches of {args.steps + 1} chunks:")
        for name, _ in engine.styles():
            takes = plain_takes(engine, args.styles, args.steps, args.seed, style=name)
            drums = takes[:, LANES.index("drums"), SCORE_CHUNK:]
            starts = float(drums.sum()) / (drums.shape[0] * drums.shape[1] / BAR)  # every drum cell is a hit
            print(f"  {name:18s} kit bars {kit_share(takes):5.1f} %   drum hits/bar {starts:5.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
