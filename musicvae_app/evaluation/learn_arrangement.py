"""The card's arrangement shares measured on training songs: how often a lane comes back, and who lays out.

    python -m musicvae_app.evaluation.learn_arrangement --pack resources/models/default --data ../shared/data/band-midi
        [--songs 400] [--write]

Training songs only (the validation songs `musicvae evaluate` reports are never read), in 32-bar windows as
`evaluate` takes them, their chords recognized bar by bar from the band (`playing_metrics.band_chords`):

- `recall`, `recall_moved`, `recall_apart`: per lane (the drums too), of the sounding 4-bar chunks whose earlier
  chunk sharing most of their chords shares all 4 / 3 / 2 or fewer bar by bar, the share that come back to one
  of those chunks (`groove_metrics.return_kinds`: on-cell Jaccard >= 0.6, the bars of another chord moved to
  their new roots; the drums as they are): a groove held, a riff held through a changed chord, a pattern
  that returns although the chords moved on;
- `recall_exact`, `recall_exact_changed`: per lane, of those returns to the same chords / under changed chords,
  the share that replay the chunk exactly (Jaccard >= 0.9); the rest come back with a variation;
- `recall_moves`: per lane, of the returns where the chords changed, the share that match better with the bars of
  another chord moved to their new roots than as they were (most real returns keep their notes: a pedal, common
  tones; the drums 0);
- `role_rest`: piano, of the bars (after the first chunk) of windows whose piano and guitar both play, in which
  the guitar plays, the share where the piano is silent; guitar, the same the other way round (0 for the rest);
- `role_absent`: piano, of the windows whose guitar plays (after the first chunk), the share where the piano is
  silent throughout; guitar, the other way round (a followed guitar part: whether the piano sits out the song);
- `beat_restrike`: piano, guitar, bass, of the notes held into a drum hit the groove strikes on (kicks; the
  guitar kicks and snares), the share struck again there (`groove_metrics.beat_restrikes`);
- `recall_free`, `recall_free_exact`: chords not read (a take without a chart), per lane, of the chunks after the
  first the share that come back to any earlier chunk (Jaccard >= 0.6), and of those the share exact (>= 0.9);
- `recall_free_chance` (`--chance-takes`, our own free takes, not the songs): per lane, the share of chunks that
  come back with no return drawn and the pitched lanes free of the pull; the loop draws returns at
  (recall_free - chance) / (1 - chance), so that drawn and chance returns together make the songs' share.

`--write` puts them into the pack's card.json ("generation"), with how they were measured.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ..sketch.song import LANES
from . import groove_metrics as gm
from . import playing_metrics as pm
from .windows import BAR_STEPS, CHUNK_BARS, SCORE_STEPS_PER_BEAT

PIANO, GUITAR = gm.PIANO, gm.GUITAR
KEYS = (
    "recall",
    "recall_moved",
    "recall_apart",
    "recall_exact",
    "recall_exact_changed",
    "recall_moves",
    "role_rest",
    "role_absent",
    "beat_restrike",
    "recall_free",
    "recall_free_exact",
)
CHANCE_SEED = 100  # free takes' seeds for the chance share (recall_free_chance): 100, 101, ...


def chunk_returns(lane: np.ndarray, chunk_steps: int) -> list[tuple[int, bool, bool]]:
    """Per sounding chunk of a lane's roll (steps, 128) after the first: (its index, whether it comes back to any
    earlier sounding chunk, on-cell Jaccard >= 0.6; whether exactly, >= 0.9)."""
    n = lane.shape[0] // chunk_steps
    cells = lane[: n * chunk_steps].reshape(n, -1) > 0
    sizes = cells.sum(axis=1)
    out = []
    for c in range(1, n):
        if not sizes[c]:
            continue
        before = cells[:c][sizes[:c] > 0]
        if not len(before):
            out.append((c, False, False))
            continue
        jac = (before & cells[c]).sum(axis=1) / (before | cells[c]).sum(axis=1)
        out.append((c, bool((jac >= pm.NEAR_CHUNK).any()), bool((jac >= pm.SAME_CHUNK).any())))
    return out


def free_returns(lane: np.ndarray, chunk_steps: int) -> list[tuple[bool, bool]]:
    """Per sounding chunk of a lane's roll (steps, 128) after the first: (whether it comes back to any earlier
    sounding chunk, on-cell Jaccard >= 0.6; whether exactly, >= 0.9), chords not read (a take without a chart)."""
    return [(near, exact) for _, near, exact in chunk_returns(lane, chunk_steps)]


def free_chance(engine, takes: int, steps: int, seed: int = CHANCE_SEED) -> list[float]:
    """Per lane, the near chance share (free_chances' first)."""
    return free_chances(engine, takes, steps, seed)[0]


def free_chances(engine, takes: int, steps: int, seed: int = CHANCE_SEED) -> tuple[list[float], list[float]]:
    """Per lane, the share of sounding chunks (after the first) of free takes (no chords, no primer) with no drawn
    return that come back to an earlier chunk all the same (Jaccard >= 0.6; and exactly, >= 0.9: the second list):
    what the loop repeats by chance once
    every lane is free of the pull (the drums where they keep their kit). Takes exported and read back at 16ths;
    the card is restored after."""
    import tempfile

    from .windows import export_back

    # no return drawn: every lane's chance set to its songs' share (nothing left to draw, near or exact); the songs'
    # shares themselves stay, as the free drums' choice of varying or renewing a groove reads them (engine/kit.py)
    g = engine.card
    songs = np.asarray(g.recall_free, dtype=float) * np.ones(len(LANES)) if g.recall_free is not None else None
    if songs is None or g.recall_free_exact is None:
        before = engine.use_card(recall_free=[1e-9] * len(LANES), recall_free_exact=None)
    else:
        before = engine.use_card(recall_free_chance=list(songs), recall_free_chance_exact=[0.99] * len(LANES))
    counts = np.zeros((len(LANES), 3))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for k in range(takes):
                take = engine.generate(steps=steps, seed=seed + k)
                roll = export_back(take, Path(tmp) / "t.mid", (steps + 1) * CHUNK_BARS * BAR_STEPS)
                for lane in range(len(LANES)):
                    for near, exact in free_returns(roll[lane], CHUNK_BARS * BAR_STEPS):
                        counts[lane] += (1, near, exact)
    finally:
        engine.use_card(before)
    near = [round(float(k / n), 3) if n else 0.0 for n, k, _ in counts]
    return near, [round(float(e / n), 3) if n else 0.0 for n, _, e in counts]


def measure(rolls: list[np.ndarray]) -> dict:
    """The shares from (5, steps, 128) band rolls (each a whole number of 4-bar chunks)."""
    back = np.zeros((len(LANES), 3, 2))  # per lane and best shared chords (4, 3, <= 2): (chunks, of them back)
    exact = np.zeros((len(LANES), 2, 2))  # per lane, same chords / changed: (chunks back, of them exactly)
    shifted = np.zeros((len(LANES), 2))  # per lane: (chunks back under changed chords, of them moved)
    plays = np.zeros((2, 2))  # per comping lane: (bars the other plays in, of them this one silent)
    absent = np.zeros((2, 2))  # per comping lane: (windows the other plays in, of them this one silent throughout)
    strikes = np.zeros((len(LANES), 2))  # per lane: (notes held into a drum hit, of them struck again)
    free = np.zeros((len(LANES), 3))  # per lane, chords not read: (sounding chunks, of them back, of those exact)
    for roll in rolls:
        chords = pm.band_chords(roll, SCORE_STEPS_PER_BEAT)
        for lane in range(len(LANES)):
            for k, near, same, moved in gm.return_kinds(roll[lane], chords, CHUNK_BARS, moves=lane != gm.DRUMS):
                back[lane, min(CHUNK_BARS - k, 2)] += (1, near)
                if near:
                    exact[lane, int(k < CHUNK_BARS)] += (1, same)
                    if k < CHUNK_BARS:
                        shifted[lane] += (1, moved)
        for lane in range(len(LANES)):
            for near, same in free_returns(roll[lane], CHUNK_BARS * BAR_STEPS):
                free[lane] += (1, near, near and same)
        strikes += gm.beat_restrikes(roll[:, CHUNK_BARS * BAR_STEPS :], BAR_STEPS)
        bars = roll[[PIANO, GUITAR]].reshape(2, -1, BAR_STEPS * 128).any(axis=2)[:, CHUNK_BARS:]
        for i in range(2):
            if bars[1 - i].any():
                absent[i] += (1, int(not bars[i].any()))
        if bars[0].any() and bars[1].any():
            for i in range(2):
                other = bars[1 - i]
                plays[i] += (int(other.sum()), int((other & ~bars[i]).sum()))
    share = lambda a: [round(float(k / n), 3) if n else 0.0 for n, k in a]  # noqa: E731
    rest = share(plays) + [0.0] * (len(LANES) - 2)
    counts = {
        "chunks by shared chords (4, 3, <= 2)": back[..., 0].astype(int).tolist(),
        "returns (same chords, changed)": exact[..., 0].astype(int).tolist(),
        "comping bars": plays[:, 0].astype(int).tolist(),
        "comping windows": absent[:, 0].astype(int).tolist(),
        "held into a hit": strikes[:, 0].astype(int).tolist(),
        "chunks, chords not read": free[:, 0].astype(int).tolist(),
    }
    return {
        "recall": share(back[:, 0]),
        "recall_moved": share(back[:, 1]),
        "recall_apart": share(back[:, 2]),
        "recall_exact": share(exact[:, 0]),
        "recall_exact_changed": share(exact[:, 1]),
        "recall_moves": share(shifted),
        "role_rest": rest,
        "role_absent": share(absent) + [0.0] * (len(LANES) - 2),
        "beat_restrike": share(strikes),
        "recall_free": share(free[:, :2]),
        "recall_free_exact": share(free[:, 1:]),
        "counts": counts,
    }


def main(argv=None) -> int:
    from ..engine import Engine
    from .calibrate import add_window_args, training_windows, write_generation

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_window_args(parser, songs=400, write="the shares")
    parser.add_argument("--chance-takes", type=int, default=48, help="free takes for recall_free_chance (0: skip)")
    parser.add_argument(
        "--chance-only", action="store_true", help="measure (and --write) recall_free_chance(_exact) alone, no songs"
    )
    args = parser.parse_args(argv)
    engine = Engine.load(args.pack)
    if args.chance_only:
        near, exact = free_chances(engine, args.chance_takes, args.steps)
        print(f"recall_free_chance {near}\nrecall_free_chance_exact {exact} ({args.chance_takes} free takes)")
        if args.write:
            write_generation(args.pack, {"recall_free_chance": near, "recall_free_chance_exact": exact})
        return 0
    chosen = training_windows(engine, args)
    found = measure([w.roll for w in chosen])
    keys = KEYS
    if args.chance_takes:
        found["recall_free_chance"], found["recall_free_chance_exact"] = free_chances(
            engine, args.chance_takes, args.steps
        )
        keys += ("recall_free_chance", "recall_free_chance_exact")
    print(f"{len(chosen)} training windows of {(args.steps + 1) * CHUNK_BARS} bars ({BAR_STEPS} steps a bar)")
    for key in keys:
        print(f"  {key:13s} " + " ".join(f"{v:5.3f}" for v in found[key]))
    print(f"  counted chunks {found['counts']}")
    if args.write:
        why = (
            f"measured on {len(chosen)} training windows of {(args.steps + 1) * CHUNK_BARS} bars (their chords "
            "recognized bar by bar; evaluation/learn_arrangement.py): recall, recall_moved, recall_apart, per lane, of "
            "the 4-bar chunks whose earlier chunk sharing most chords shares 4 / 3 / 2 or fewer, the share that come "
            "back to one (Jaccard >= 0.6, bars of other chords moved to their roots; drums as they are); "
            "recall_exact, recall_exact_changed, of those returns to the same chords / under changed chords the share "
            "exact (Jaccard >= 0.9); recall_moves, of the returns under "
            "changed chords, the share closer moved than as they were; "
            "role_rest, piano and guitar, where the other plays a bar, the share this one is silent (windows "
            "with both); role_absent, of windows where the other plays, the share this one is silent throughout; "
            "beat_restrike, piano, guitar, bass, of notes held into a kick (guitar: kick or snare), the share "
            "struck again there; recall_free, recall_free_exact, chords not read (a take without a chart), per lane, "
            "of the chunks after the first the share that come back to any earlier chunk (Jaccard >= 0.6), of "
            "those the share exact (>= 0.9); recall_free_chance (recall_free_chance_exact), the share of our own "
            "free takes' chunks that come back (exactly) with no return drawn (every lane free of the pull, the "
            "drums where they keep their kit, engine/kit.py; "
            f"{args.chance_takes} takes, seeds "
            f"{CHANCE_SEED}-{CHANCE_SEED + args.chance_takes - 1}): the loop draws returns at (recall_free - chance) "
            f"/ (1 - chance); counted {found['counts']}; the validation songs were not used"
        )
        write_generation(args.pack, {**{key: found[key] for key in keys}, "recall_why": why})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
