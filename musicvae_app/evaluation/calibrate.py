"""Set a trained pack's generation defaults by measurement on *training* songs (never the reported ones).

    musicvae calibrate --pack DIR --data DIR [--songs 100 --steps 23] [--harmony-after]
    musicvae calibrate --pack DIR --data DIR --start-only [--songs 400]

Continuations of mid-song primers of training songs are scored against those songs' own with the
metrics `musicvae evaluate` reports (`tally`: music goals met, then sanity guards, then all goals,
then the mean gap in units of each goal's tolerance).
1. For each harmony strength in HARMONY (card generation.harmony, FastBand.harmonise):
   per-lane density offsets (generation.lane_bias) by bisection, so that each lane's note cells
   per bar match the songs' own; start offsets for sketches with no primer (generation.start_bias,
   `calibrate_start_bias`) on 600 random starts; one set of continuations; then each pitched lane's bar fill,
   sustain and restrike (generation.fill/sustain/restrike: decoding only, no new sample) in turn.
2. The best strength is kept; then, per pitched lane, how full it comes in where a primer lacks it
   (generation.bring_in, new continuations each), and its offset nudged either way, step by step
   while it scores better (at most NUDGES steps); then fill, sustain and restrike are swept once
   more, after the start offsets. Noise and pull stay as the card has them; revive is 1.
--start-only refits the start offsets alone against --songs training songs' empty bars.
The validation songs that `musicvae evaluate` reports are not touched here.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np

from ..sketch.song import LANES
from .evaluate import generate_continuations
from .windows import SCORE_CHUNK, windows

REVIVE = 1  # a lane silent for one chunk comes back with a variation of its last part


def training_songs(engine, data: str | Path, count: int, cache_dir=None) -> list:
    """Up to `count` of the pack's *training* songs under data, read at 16ths, ordered by file hash."""
    from ..training.data import find_files, load_corpus, split_files, validation_percent
    from .windows import SCORE_STEPS_PER_BEAT

    train, _ = split_files(find_files(data), validation_percent(engine.pack.card))
    corpus = load_corpus([Path(p) for p in train[: count * 2]], SCORE_STEPS_PER_BEAT, cache_dir)
    return sorted(corpus.songs, key=lambda s: s.key)[: count * 2]


def add_window_args(parser, songs: int, write: str, steps: str = "chunks after the first in each window") -> None:
    """The arguments of the scripts that learn card values from training windows (learn_density, learn_arrangement,
    learn_free_bass, calibrate_chords): --pack, --data, --songs, --steps, --cache-dir and --write (`write`: what
    it writes into the pack's card.json)."""
    parser.add_argument("--pack", default="resources/models/default")
    parser.add_argument("--data", required=True)
    parser.add_argument("--songs", type=int, default=songs)
    parser.add_argument("--steps", type=int, default=7, help=steps)
    parser.add_argument("--cache-dir", default=None)
    parser.add_argument("--write", action="store_true", help=f"write {write} into the pack's card.json")


def training_windows(engine, args) -> list:
    """The windows (a primer chunk and args.steps after it) of args.songs training songs, as add_window_args reads
    them."""
    return windows(training_songs(engine, args.data, args.songs, args.cache_dir), SCORE_CHUNK, args.steps, args.songs)


def write_generation(pack: str | Path, values: dict) -> Path:
    """Put `values` into the "generation" of the pack folder's card.json (the other keys kept) and say so."""
    from ..model.pack import CARD, write_json_atomic  # the one card writer (it imports torch: only to write)

    path = Path(pack) / CARD
    card = json.loads(path.read_text())
    card.setdefault("generation", {}).update(values)
    write_json_atomic(path, card)
    print(f"written to {path}")
    return path


def cells_per_bar(rolls: np.ndarray) -> np.ndarray:
    """Mean active cells per bar per lane of (songs, 5, steps, 128) rolls after the primer chunk."""
    cont = rolls[:, :, SCORE_CHUNK:]
    bars = cont.shape[2] / 16
    return cont.sum(axis=(0, 2, 3)) / (cont.shape[0] * bars)


def calibrate_density(engine, chosen, steps: int = 8, rounds: int = 6, seed: int = 1000) -> list[float]:
    """Per-lane logit offsets that bring generated cells per bar to the real songs' (the engine keeps them).

    A bisection per lane on [-3, 3]: density rises with the offset, and the generation loop's feedback
    makes a proportional step overshoot.
    """
    real = np.stack([w.roll[:, : (steps + 1) * SCORE_CHUNK] for w in chosen])
    target = cells_per_bar(real)
    low, high = np.full(len(LANES), -3.0), np.full(len(LANES), 3.0)
    d = engine.defaults
    for r in range(rounds):
        bias = (low + high) / 2
        engine.fast.set_lane_bias(bias)
        gen = generate_continuations(engine, chosen, steps, d["noise"], d["threshold"], seed)
        got = cells_per_bar(gen)
        print(
            f"density round {r + 1}: offsets {np.round(bias, 2).tolist()} cells per bar {np.round(got, 1).tolist()} "
            f"(real {np.round(target, 1).tolist()})"
        )
        too_busy = got > target
        high = np.where(too_busy, bias, high)
        low = np.where(too_busy, low, bias)
    bias = (low + high) / 2
    engine.fast.set_lane_bias(bias)
    return [round(float(b), 3) for b in bias]


HARMONY = (2.0, 2.5)  # tried strengths of the band's harmony agreement (FastBand.harmonise)
FILL = (1.0, 0.5, 0.25)  # tried bar fills per pitched lane (Song.fill)
SUSTAIN = (1.0, 0.7, 0.4)  # tried sustains per pitched lane (Song.sustain)
RESTRIKE = (0.0, 0.6, 0.8)  # tried restrike depths per pitched lane (Song.restrike)
BRING_IN = (0.7, 0.5, 0.35)  # tried gains of a lane brought in where the primer lacks it (1: full)
BRING_IN_LANES = ("piano", "guitar", "strings")  # the lanes primers lack most (bass: 2 % of songs)
BIAS_STEPS = (-0.25, 0.25)
DEADBAND = 2.5  # empty-bar points from real within which a lane's start offset stays 0
NUDGES = 3  # at most this many nudges of a pitched lane's density offset in one direction, after the sweep
PITCHED = [i for i, lane in enumerate(LANES) if lane != "drums"]


def tally(table: dict, random_goals: int = 0) -> tuple:
    """A comparison table's standing, best last: (sanity guards met, goals met, music goals met, -mean gap).

    Note soup or a near-silent lane (a sanity guard missed) loses to a setting with fewer misses. Then
    every goal `musicvae evaluate` reports counts alike (music goals, lane dropout, primer similarity,
    plus `random_goals`: lanes whose empty bars from a random start are within 10 points of real), so
    no goal is bought with another; then the music goals; then the mean music gap, |gap| / the goal's
    tolerance, so EB points and UPC classes weigh alike.
    """
    from .report import MUSIC_GOALS, SANITY_GOALS, all_rows

    tolerance = {"EB": 5.0, "UPC": 0.3, "QN": 5.0, "DP": 5.0, "TD": 0.05}
    music = met = sane = 0
    gaps = []
    for _, metric, row in all_rows(table):
        if row.get("met") is None:
            continue
        met += row["met"]
        if metric in SANITY_GOALS:
            sane += row["met"]
        if metric in MUSIC_GOALS:
            music += row["met"]
            gap = row["gap"] if metric != "TD" else max(row["gap"], 0.0)
            gaps.append(abs(gap) / tolerance[metric])
    return (sane, met + random_goals, music, -round(float(np.mean(gaps)), 4))


def calibrate_start_bias(engine, real: np.ndarray, songs: int = 600, steps: int = 8, rounds: int = 6) -> list[float]:
    """Per-lane density offsets for sketches with no primer (card generation.start_bias), by bisection.

    From a random start every lineup lane plays, so its share of empty bars should match the real songs'
    where that instrument plays (`lineup_figures`); continuations of a primer keep lane_bias alone,
    because there the real lane is often simply absent. The card's generation must be in use.
    Hundreds of sketches: a sketch's empty bars depend mostly on the bank chunk it starts from, and
    30 sketches put the piano anywhere from 18 to 33 % empty with the same offsets, and 200 put the
    strings 13 % empty on one set of seeds and 20 % on another.
    """
    from .evaluate import lineup_figures, random_starts

    generation = engine.pack.card["generation"]

    def gaps(bias) -> np.ndarray:
        generation["start_bias"] = [float(b) for b in bias]
        engine.use_card(start_bias=generation["start_bias"])  # the engine reads its typed card, not the dict
        rand = random_starts(engine, songs, steps, seed=4000)
        lanes = lineup_figures(rand, real[:, :, : rand.shape[2]], list(LANES))
        return np.array([lanes[lane]["empty_bars"]["gap"] or 0.0 for lane in LANES])

    gap = gaps(np.zeros(len(LANES)))
    moving = np.abs(gap) > DEADBAND  # a lane already near real keeps 0: empty bars say little about a busy lane
    low = np.where(moving & (gap > 0), 0.0, -2.0)  # too many empty bars: a higher offset, else a lower one
    high = np.where(moving & (gap < 0), 0.0, 2.0)
    print(f"start offsets 0: empty-bar gaps {np.round(gap, 1).tolist()}; moving {moving.astype(int).tolist()}")
    for r in range(rounds if moving.any() else 0):
        bias = np.where(moving, (low + high) / 2, 0.0)
        gap = gaps(bias)
        print(f"start offsets round {r + 1}: {np.round(bias, 2).tolist()} empty-bar gaps {np.round(gap, 1).tolist()}")
        low = np.where(gap > 0, bias, low)
        high = np.where(gap > 0, high, bias)
    out = [round(float(b), 3) if m else 0.0 for b, m in zip((low + high) / 2, moving)]
    generation["start_bias"] = out
    engine.use_card(start_bias=out)
    return out


def random_start_goals(engine, real: np.ndarray, songs: int = 100, steps: int = 8) -> int:
    """Lineup lanes that play in every random-start sketch with empty bars within 10 points of real."""
    from .evaluate import lineup_figures, random_starts

    rand = random_starts(engine, songs, steps, seed=3000)
    lanes = lineup_figures(rand, real[:, :, : rand.shape[2]], [LANES[i] for i in engine.lineup(None)])
    return sum(bool(row["plays_met"] and row["empty_bars"]["met"]) for row in lanes.values() if row["in_lineup"])


def continuation_songs(engine, chosen, steps: int, seed: int) -> list:
    """The pack's continuations (Songs, pack defaults) of every window's primer, primer passed as a .mid."""
    from .evaluate import continuations

    return list(continuations(engine, chosen, steps, seed))


def decoded(songs: list, fill: list[float], sustain: list[float], restrike=0.0) -> np.ndarray:
    """The songs' notes with other fill, sustain and restrike (no new sample): bool (songs, 5, steps, 128).

    The song's .mid reads back as exactly this (tested): drums keep the GM percussion map, as the export does.
    """
    from ..sketch.midi import GM_DRUM_RANGE

    out = []
    for song in songs:
        song = song.copy()
        song.settings = song.settings.replace(fill=list(fill), sustain=list(sustain), restrike=restrike)
        out.append(song.notes())
    out = np.stack(out)
    drums = LANES.index("drums")
    out[:, drums, :, : GM_DRUM_RANGE[0]] = False
    out[:, drums, :, GM_DRUM_RANGE[1] + 1 :] = False
    return out


def sweep_decoding(songs: list, real: np.ndarray, generation: dict) -> tuple:
    """Per pitched lane in turn, the fill, sustain and restrike that score best (`tally`), the others held.

    Returns (score, fill, sustain, restrike); generation gives the starting values.
    """
    from .evaluate import compare
    from .windows import SCORE_STEPS_PER_BEAT

    start = {name: generation.get(name, off) for name, off in (("fill", 1.0), ("sustain", 1.0), ("restrike", 0.0))}
    values = {
        name: [float(x) for x in np.broadcast_to(np.asarray(v, dtype=float), (len(LANES),))]
        for name, v in start.items()
    }

    def score(v):
        rolls = decoded(songs, v["fill"], v["sustain"], v["restrike"])
        return tally(compare(real, rolls, SCORE_STEPS_PER_BEAT, SCORE_CHUNK))

    best = score(values)
    for lane in PITCHED:
        for f, su, r in itertools.product(FILL, SUSTAIN, RESTRIKE):
            trial = {name: list(v) for name, v in values.items()}
            trial["fill"][lane], trial["sustain"][lane], trial["restrike"][lane] = f, su, r
            got = score(trial)
            if got > best:
                best, values = got, trial
        print(
            f"  {LANES[lane]}: fill {values['fill'][lane]} sustain {values['sustain'][lane]} "
            f"restrike {values['restrike'][lane]} -> {best}",
            flush=True,
        )
    return best, values["fill"], values["sustain"], values["restrike"]


def standing(engine, real: np.ndarray, made: list, settings: dict) -> tuple:
    """`tally` of continuations decoded with the settings' fill, sustain and restrike, plus the random starts."""
    from .evaluate import compare
    from .windows import SCORE_STEPS_PER_BEAT

    rolls = decoded(made, settings["fill"], settings["sustain"], settings["restrike"])
    return tally(compare(real, rolls, SCORE_STEPS_PER_BEAT, SCORE_CHUNK), random_start_goals(engine, real))


def _use(engine, generation: dict) -> None:
    engine.pack.card["generation"] = dict(generation)
    engine.use_card(generation)  # checked, and every part rebuilt on it (harmony and lane offsets included)


def calibrate(
    engine, data, songs: int = 100, steps: int = 23, cache_dir=None, nudge: bool = True, harmony_after=None
) -> dict:
    """Harmony, density offsets, fill, sustain and bring-in on training songs; returns the new defaults.

    See the module's docstring for the order; `nudge` False skips the offsets' nudges. harmony_after:
    harmonise each take once at the end (True) or chunk by chunk in the loop (False); None keeps the card's.
    """

    pool = training_songs(engine, data, songs, cache_dir)
    chosen = windows(pool, SCORE_CHUNK, steps, songs)
    density_windows = windows(pool, SCORE_CHUNK, 8, 60)
    real = np.stack([w.roll for w in chosen])
    print(flush=True)
    print(f"calibrating on {len(chosen)} training songs ({steps} chunks after a mid-song primer)")
    generation = dict(engine.pack.card.get("generation") or {})
    generation["revive"] = REVIVE
    if harmony_after is not None:
        generation["harmony_after"] = bool(harmony_after)
    generation.pop("scale_lock", None)  # scale lock is the musician's choice, off by default
    tried = []
    best = None
    for harmony in HARMONY:
        generation.update(
            harmony=harmony,
            fill=1.0,
            sustain=1.0,
            restrike=0.0,
            bring_in=1.0,
            lane_bias=[0.0] * len(LANES),
            start_bias=[0.0] * len(LANES),
        )
        _use(engine, generation)
        bias = calibrate_density(engine, density_windows, 8)
        generation["lane_bias"] = bias
        _use(engine, generation)
        generation["start_bias"] = calibrate_start_bias(engine, real)
        made = continuation_songs(engine, chosen, steps, seed=2000)
        _, fill, sustain, restrike = sweep_decoding(made, real, generation)
        swept = dict(generation, fill=fill, sustain=sustain, restrike=restrike)
        _use(engine, swept)
        score = standing(engine, real, made, swept)
        print(
            f"harmony {harmony}: offsets {bias} fill {fill} sustain {sustain} restrike {restrike} -> {score}",
            flush=True,
        )
        tried.append(
            dict(
                harmony=harmony,
                lane_bias=bias,
                start_bias=generation["start_bias"],
                fill=fill,
                sustain=sustain,
                restrike=restrike,
                score=list(score),
            )
        )
        if best is None or score > best[0]:
            best = (score, swept)
    score, generation = best

    def trial(settings: dict, what: str) -> tuple:
        _use(engine, settings)
        got = standing(engine, real, continuation_songs(engine, chosen, steps, seed=2000), settings)
        print(f"{what}: {got}", flush=True)
        tried.append(dict(what=what, score=list(got)))
        return got

    generation["bring_in"] = [1.0] * len(LANES)
    for lane in [LANES.index(name) for name in BRING_IN_LANES]:  # a lane the primer lacks: how full it comes in
        for gain in BRING_IN:
            settings = dict(generation, bring_in=list(generation["bring_in"]))
            settings["bring_in"][lane] = gain
            got = trial(settings, f"{LANES[lane]} brought in at {gain}")
            if got > score:
                score, generation = got, settings
    if nudge:
        for lane in PITCHED:
            for step in BIAS_STEPS:
                moved = False
                for _ in range(NUDGES):  # keep going in a direction while it scores better
                    settings = dict(generation, lane_bias=list(generation["lane_bias"]))
                    settings["lane_bias"][lane] = round(settings["lane_bias"][lane] + step, 3)
                    got = trial(settings, f"{LANES[lane]} offset {settings['lane_bias'][lane]}")
                    if got <= score:
                        break
                    score, generation, moved = got, settings, True
                if moved:
                    break
    _use(engine, generation)  # start offsets, fill and sustain again, on the settings kept
    generation["start_bias"] = calibrate_start_bias(engine, real)
    made = continuation_songs(engine, chosen, steps, seed=2000)
    _, fill, sustain, restrike = sweep_decoding(made, real, generation)
    generation.update(fill=fill, sustain=sustain, restrike=restrike)
    _use(engine, generation)
    score = standing(engine, real, made, generation)
    generation["calibration"] = dict(
        songs=len(chosen),
        steps=steps,
        split="training songs (the validation songs that evaluate reports were not used)",
        score="sanity guards met, goals met (with random-start empty bars), music goals met, -mean music gap",
        best=list(score),
        tried=tried,
    )
    return generation


def refit_start_bias(engine, data, songs: int = 400, cache_dir=None) -> dict:
    """Start offsets alone, against the empty bars of `songs` training songs (every other default kept).

    The full calibration fits them against its 100 continuation windows, whose guitar plays in more
    bars than the data's at large; more songs give a steadier target. Returns the new defaults.
    """
    pool = training_songs(engine, data, songs, cache_dir)
    real = np.stack([w.roll[:, : 9 * SCORE_CHUNK] for w in windows(pool, SCORE_CHUNK, 8, songs)])
    generation = dict(engine.pack.card.get("generation") or {})
    _use(engine, generation)
    print(f"start offsets against {len(real)} training songs")
    start_bias = calibrate_start_bias(engine, real)
    generation = dict(engine.pack.card["generation"], start_bias=start_bias)
    if isinstance(generation.get("calibration"), dict):
        generation["calibration"] = dict(generation["calibration"], start_bias_songs=len(real))
    return generation


def run_calibrate(args) -> int:
    from ..engine import Engine
    from ..model.pack import CARD, read_card, write_json_atomic

    engine = Engine.load(args.pack, "cpu")
    if getattr(args, "start_only", False):
        generation = refit_start_bias(engine, args.data, args.songs, args.cache_dir)
    else:
        generation = calibrate(
            engine,
            args.data,
            args.songs,
            args.steps,
            args.cache_dir,
            harmony_after=getattr(args, "harmony_after", None),
        )
    card = read_card(engine.pack.path)
    card["generation"] = generation
    write_json_atomic(Path(engine.pack.path) / CARD, card)
    print(json.dumps({k: v for k, v in generation.items() if k != "calibration"}))
    return 0
