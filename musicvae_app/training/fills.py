"""A pack's drum fills: real fills cut from training songs, and how often real drummers play one.

A 4-bar VAE never sees a phrase end, so it never plays a fill into the next phrase. The engine adds
them (engine/groove.py) from a bank of real ones that this module cuts from the training songs: the
last two beats of every bar `playing_metrics.fill_bars` calls a fill, with how often fills and
crashes fall at phrase ends in those songs. Run it on a pack:

    python -m musicvae_app.training.fills --pack resources/models/default --data ../shared/data/band-midi
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ..evaluation.playing_metrics import CRASHES, FILL_BEATS, crash_bars, fill_bars, phrase_offset
from ..lanes import DRUMS

MAX_FILLS = 256


def fill_bank(rolls: list[np.ndarray], steps_per_beat: int, count: int = MAX_FILLS, seed: int = 0) -> dict:
    """Fills and rates from songs' five-lane rolls (5, steps, 128) on a grid of steps_per_beat.

    Returns {"fills": [[[step, pitch], ...], ...] (steps from the start of the fill's two beats),
    "fill_rate": [at the end of an 8-bar phrase, at the end of another 4-bar phrase],
    "crash_rate": a crash on the next bar's beat 1 after a phrase end with no fill}.
    """
    spb, window = 4 * steps_per_beat, FILL_BEATS * steps_per_beat
    fills, seen = [], set()
    ends8 = ends4 = fill8 = fill4 = plain = crashed = 0
    for roll in rolls:
        drums = np.asarray(roll[DRUMS]) > 0
        n = drums.shape[0] // spb
        if n < 8:
            continue
        drums = drums[: n * spb]
        is_fill, crash = fill_bars(drums, steps_per_beat), crash_bars(drums, steps_per_beat)
        playing = drums.reshape(n, spb, -1).any(axis=(1, 2))
        offset = phrase_offset(crash, 4)
        for bar in np.flatnonzero(is_fill):
            tail = drums[bar * spb + spb - window : (bar + 1) * spb]
            hits = tuple(map(tuple, np.argwhere(tail).tolist()))
            if len(hits) >= 3 and hits not in seen:
                seen.add(hits)
                fills.append([list(h) for h in hits])
        for bar in range(n - 1):
            if not playing[bar] or (bar - offset) % 4 != 3:
                continue
            if (bar - offset) % 8 == 7:
                ends8 += 1
                fill8 += int(is_fill[bar])
            else:
                ends4 += 1
                fill4 += int(is_fill[bar])
            if not is_fill[bar]:
                plain += 1
                crashed += int(crash[bar + 1])
    rng = np.random.default_rng(seed)
    if len(fills) > count:
        fills = [fills[i] for i in sorted(rng.choice(len(fills), size=count, replace=False))]
    return {
        "fills": fills,
        "fill_rate": [round(fill8 / max(ends8, 1), 3), round(fill4 / max(ends4, 1), 3)],
        "crash_rate": round(crashed / max(plain, 1), 3),
    }


def main(argv: list[str] | None = None) -> int:
    from ..model.pack import CARD, read_card, write_json_atomic
    from .data import find_files, load_corpus

    p = argparse.ArgumentParser(prog="python -m musicvae_app.training.fills", description=__doc__.split("\n")[0])
    p.add_argument("--pack", required=True, help="the pack folder whose card gets the fills")
    p.add_argument("--data", required=True, help="the folder the pack was trained on (training songs are used)")
    p.add_argument("--songs", type=int, default=1000, help="training songs to cut fills from")
    p.add_argument("--cache-dir", default=None)
    args = p.parse_args(argv)
    card = read_card(args.pack)
    spb = int(card.get("config", {}).get("steps_per_beat", 4))
    corpus = load_corpus(find_files(args.data), spb, args.cache_dir, 0)
    train, _ = corpus.split(int(card.get("training", {}).get("config", {}).get("validation_percent", 10)))
    bank = fill_bank([s.roll for s in train[: args.songs]], spb)
    card.setdefault("generation", {}).update(bank)
    card["generation"]["fills_why"] = (
        f"{len(bank['fills'])} real fills (the last {FILL_BEATS} beats of bars playing_metrics.fill_bars calls a "
        f"fill) cut from {min(args.songs, len(train))} training songs, with the rates at which those songs fill "
        "at 8-bar and 4-bar phrase ends and crash on the next downbeat (GM crashes "
        f"{', '.join(map(str, CRASHES))}); engine/groove.py plays them"
    )
    write_json_atomic(Path(args.pack) / CARD, card)
    print(f"{len(bank['fills'])} fills, fill rate {bank['fill_rate']}, crash rate {bank['crash_rate']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
