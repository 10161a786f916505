"""Where the returns of a chart take are lost: each drawn return (recall.Recall.made) counted stage by stage.

    .venv/bin/python -m benchmarks.trace_chart_returns --data ../shared/data/band-midi --songs 24 [--train] [--seed N]
        [--primer]

The songs' own chords alone as a chart (as `bench_arrangement --chart`; --primer: from each song's first chunk,
as bench_arrangement's default path), one take a song. Each return the loop drew
(a pitched lane's chunk, its source chunk, the same chords or changed, exact or varied) is compared with its source
after each stage of `Engine.generate`: the loop and groove (before `replay`), `replay`, the roles
(`roles.sit_out`, `roles.balance`), the take made (`takes.song`), the chart check (`post.run_chart`),
`recall.settle`, `recall_chart.settle_changed` and the exported .mid read back at 16ths. Per lane and stage: how
many drawn returns are still >= 0.9 alike (on-cell Jaccard, as bench_arrangement's "= earlier") and >= 0.6 ("~"),
how many sound at all (a silent chunk is not counted by the benchmark), split by same / changed chords and by
exact / varied draws. Returns to or from the take's first chunk are left out (the benchmark drops it).
"""

from __future__ import annotations

import argparse
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np

from musicvae_app.engine import Engine, roles
from musicvae_app.engine import generate as gen_mod
from musicvae_app.evaluation.calibrate import training_songs
from musicvae_app.evaluation.evaluate import validation_songs
from musicvae_app.evaluation.playing import continuation_chords
from musicvae_app.evaluation.windows import SCORE_CHUNK, export_back, roll_to_midi, windows
from musicvae_app.sketch.song import DRUMS, LANES

STAGES = ["loop", "replay", "sitout", "roles", "song", "chart", "settle", "changed", "mid"]


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    union = (a | b).sum()
    return float((a & b).sum() / union) if union else -1.0


class Tracer:
    def __init__(self):
        self.made = []
        self.snaps = {}  # stage -> (5, steps, 128) bool for take 0
        self.chunk = None
        self.chords = None

    def probs_snap(self, stage, probs, threshold):
        self.snaps[stage] = np.asarray(probs[:, 0] >= threshold)

    def song_snap(self, stage, song):
        self.snaps[stage] = np.array(song.notes(), copy=True)


def install(engine, tr: Tracer):
    orig_replay, orig_balance, orig_settle, orig_changed = (
        gen_mod.replay,
        roles.balance,
        gen_mod.settle,
        gen_mod.settle_changed,
    )
    thr = {"t": float(engine.card.threshold)}

    def replay(probs, made, free, chunk_bars, bar_steps, lead_ins=None):
        tr.made = list(made)
        tr.chunk = chunk_bars * bar_steps
        tr.probs_snap("loop", probs, thr["t"])
        out = orig_replay(probs, made, free, chunk_bars, bar_steps, lead_ins)
        tr.probs_snap("replay", probs, thr["t"])
        return out

    orig_sit = roles.sit_out

    def sit_out(probs, absent, free, threshold, *a, **k):
        out = orig_sit(probs, absent, free, threshold, *a, **k)
        tr.probs_snap("sitout", probs, threshold)
        return out

    def balance(probs, rest, free, threshold, *a, **k):
        thr["t"] = threshold
        out = orig_balance(probs, rest, free, threshold, *a, **k)
        tr.probs_snap("roles", probs, threshold)
        return out

    def settle(song, made, b, asked, *a, **k):
        tr.song_snap("chart", song)
        tr.chords = asked
        out = orig_settle(song, made, b, asked, *a, **k)
        tr.song_snap("settle", song)
        return out

    def settle_changed(song, *a, **k):
        out = orig_changed(song, *a, **k)
        tr.song_snap("changed", song)
        return out

    orig_song = engine.takes.song

    def song(probs, *a, **k):
        thr["t"] = a[1]
        s = orig_song(probs, *a, **k)
        tr.song_snap("song", s)
        return s

    roles.sit_out = sit_out
    gen_mod.replay, roles.balance, gen_mod.settle, gen_mod.settle_changed = replay, balance, settle, settle_changed
    engine.takes.song = song


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pack", default="resources/models/default")
    parser.add_argument("--data", required=True)
    parser.add_argument("--songs", type=int, default=24)
    parser.add_argument("--steps", type=int, default=7)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train", action="store_true")
    parser.add_argument("--primer", action="store_true", help="each song's first chunk as a primer too (evaluate's)")
    args = parser.parse_args(argv)
    engine = Engine.load(args.pack)
    pool = (
        training_songs(engine, args.data, args.songs * 2, None) if args.train else validation_songs(engine, args.data)
    )
    chosen = windows(pool, SCORE_CHUNK, args.steps, args.songs)
    charts = continuation_chords(chosen)
    tr = Tracer()
    install(engine, tr)
    # counts[lane][kind][stage] = [alive (sounding), near, exact]
    counts = defaultdict(lambda: defaultdict(lambda: defaultdict(lambda: np.zeros(3, dtype=int))))
    drawn = defaultdict(int)
    chunks = defaultdict(lambda: np.zeros(5, dtype=int))  # lane: counted, exact, near, exact by a return, near by one
    with tempfile.TemporaryDirectory() as tmp:
        for k, chart in enumerate(charts):
            tr.__init__()
            extra = {}
            if args.primer:  # as bench_arrangement's default path: the primer chunk, then the song's own chords
                extra["primer"] = roll_to_midi(chosen[k].roll[:, :SCORE_CHUNK], Path(tmp) / "primer.mid")
            song = engine.generate(steps=args.steps, seed=args.seed + k, chords=chart, **extra)
            tr.snaps["mid"] = export_back(song, Path(tmp) / "t.mid", (args.steps + 1) * SCORE_CHUNK)
            chunk = tr.chunk or 0
            mid = tr.snaps["mid"]
            for lane in range(DRUMS):
                cells = mid[lane].reshape(-1, SCORE_CHUNK * 128)
                for c in range(2, len(cells)):
                    if not cells[c].any():
                        continue
                    best = (
                        max(jaccard(cells[c], cells[e]) for e in range(1, c) if cells[e].any())
                        if any(cells[e].any() for e in range(1, c))
                        else 0.0
                    )
                    back = any(m[0] == c and m[1] == lane and m[2] == 0 and m[3] >= 1 for m in tr.made)
                    chunks[LANES[lane]] += [1, best >= 0.9, best >= 0.6, back and best >= 0.9, back and best >= 0.6]
            for target, lane, b, src, moves, exact in tr.made:
                if b != 0 or lane == DRUMS or src < 1:
                    continue
                kind = ("same" if moves is None else "moved" if any(moves) else "changed") + (
                    "/exact" if exact else "/varied"
                )
                drawn[(LANES[lane], kind)] += 1
                for stage in STAGES:
                    snap = tr.snaps.get(stage)
                    if snap is None:
                        continue
                    mid = stage == "mid"
                    c = SCORE_CHUNK if mid else chunk
                    a, s = snap[lane, target * c : (target + 1) * c], snap[lane, src * c : (src + 1) * c]
                    j = jaccard(a, s)
                    counts[LANES[lane]][kind][stage] += [a.any() and s.any(), j >= 0.6, j >= 0.9]
    print(f"{len(charts)} {'training' if args.train else 'validation'} charts, seed {args.seed}")
    print("lane     kind            drawn  " + " ".join(f"{s:>13s}" for s in STAGES))
    print("(per stage: sounding / near / exact)")
    for lane in LANES[:DRUMS]:
        for kind in sorted(counts[lane]):
            row = counts[lane][kind]
            cells = " ".join(f"{'/'.join(str(x) for x in row[s]):>13s}" for s in STAGES)
            print(f"{lane:8s} {kind:15s} {drawn[(lane, kind)]:5d}  {cells}")
    print("lane     counted chunks, exact, near, of which a drawn return (exact, near)")
    for lane in LANES[:DRUMS]:
        n = chunks[lane]
        print(
            f"{lane:8s} {n[0]:5d}  exact {100 * n[1] / max(n[0], 1):5.1f} %  near {100 * n[2] / max(n[0], 1):5.1f} %"
            f"  drawn {n[3]} / {n[4]}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
