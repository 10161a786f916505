"""Set a trained pack's generation defaults by measurement on *training* songs (never the reported ones).

    musicvae calibrate --pack DIR --data DIR [--songs 60]

1. Per-lane density: a logit offset per lane (card generation.lane_bias) so that each lane's
   note cells per bar in continuations of training-song primers match those songs' own.
2. Noise, pull, sustain and scale lock (revive 1): a small grid, each scored by `evaluate_pack` on
   the same training-song windows; the setting that meets the most music goals (sanity guards
   passing first) wins, ties broken by all goals met, then by the smaller mean |EB gap|.
The validation songs that `musicvae evaluate` reports are not touched here.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from pathlib import Path

import numpy as np

from ..evaluate import SCORE_CHUNK, evaluate_pack, generate_continuations, windows
from ..song import LANES

GRID = {"noise": (0.5, 0.8), "pull": (0.0, 0.5), "sustain": (1.0, 0.8), "scale_lock": (False, True)}
REVIVE = 1  # a lane silent for one chunk comes back with a variation of its last part


def training_songs(engine, data: str | Path, count: int, cache_dir=None) -> list:
    """Up to `count` of the pack's *training* songs under data, read at 16ths, ordered by file hash."""
    from ..evaluate import SCORE_STEPS_PER_BEAT
    from .data import Corpus, SongRolls, find_files, load_corpus

    training = engine.pack.card.get("training", {}).get("config", {})
    percent = int(training.get("validation_percent", 10))
    files = find_files(data)
    keyed = [SongRolls(hashlib.sha1(p.read_bytes()).hexdigest(), str(p), np.zeros(0)) for p in files]
    train, _ = Corpus(keyed).split(percent)
    train = sorted(train, key=lambda s: s.key)[: count * 2]
    corpus = load_corpus([Path(s.path) for s in train], SCORE_STEPS_PER_BEAT, cache_dir)
    return sorted(corpus.songs, key=lambda s: s.key)[: count * 2]


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


def _score(result: dict) -> tuple:
    eb = [abs(r["EB"]["gap"]) for r in result["lanes"].values() if r["EB"]["gap"] is not None]
    return (result["sane"], result["music_goals_met"], result["goals_met"], -float(np.mean(eb)))


def calibrate(engine, data, songs: int = 60, steps: int = 8, cache_dir=None) -> dict:
    """Density offsets then the best (noise, pull, revive); returns the new generation defaults."""
    pool = training_songs(engine, data, songs, cache_dir)
    chosen = windows(pool, SCORE_CHUNK, steps, songs)
    print(flush=True)
    print(f"calibrating on {len(chosen)} training songs ({steps} chunks after a mid-song primer)")
    generation = dict(engine.pack.card.get("generation") or {})
    generation["revive"] = REVIVE
    engine.pack.card["generation"] = dict(generation)
    generation["lane_bias"] = calibrate_density(engine, chosen, steps)
    tried = []
    for noise, pull, sustain, scale_lock in itertools.product(*GRID.values()):
        generation.update(noise=noise, pull=pull, sustain=sustain, scale_lock=scale_lock)
        engine.pack.card["generation"] = dict(generation)
        result = evaluate_pack(engine, pool, steps=steps, seed=2000, count=songs, reconstruction=False)
        tried.append(((noise, pull, sustain, scale_lock), _score(result)))
        print(
            f"noise {noise} pull {pull} sustain {sustain} scale lock {scale_lock}: {result['music_goals_met']} of "
            f"{result['music_goals']} music goals, {result['goals_met']} of {result['goals']} goals in all, "
            f"sane {result['sane']}",
            flush=True,
        )
    (noise, pull, sustain, scale_lock), _ = max(tried, key=lambda t: t[1])
    generation.update(noise=noise, pull=pull, sustain=sustain, scale_lock=scale_lock)
    generation["calibration"] = dict(
        songs=len(chosen),
        split="training songs (the validation songs that evaluate reports were not used)",
        grid={k: list(v) for k, v in GRID.items()},
        tried=[
            dict(noise=s[0], pull=s[1], sustain=s[2], scale_lock=s[3], sane=sc[0], music_goals=sc[1], goals=sc[2])
            for s, sc in tried
        ],
    )
    engine.pack.card["generation"] = generation
    return generation


def run_calibrate(args) -> int:
    from ..engine import Engine
    from ..model.pack import CARD, read_card, write_json_atomic

    engine = Engine.load(args.pack, "cpu")
    generation = calibrate(engine, args.data, args.songs, args.steps, args.cache_dir)
    card = read_card(engine.pack.path)
    card["generation"] = generation
    write_json_atomic(Path(engine.pack.path) / CARD, card)
    print(json.dumps({k: v for k, v in generation.items() if k != "calibration"}))
    return 0
