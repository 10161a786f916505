"""The card's `bar_restrike` measured on training songs: how often a note held across a bar line is struck again.

    python -m musicvae_app.evaluation.learn_density --pack resources/models/default --data ../shared/data/band-midi
        [--songs 200] [--write]

Training songs only (the validation songs `musicvae evaluate` reports are never read), in 32-bar windows as
`evaluate` takes them (after their first chunk). A note is held across the bar line at step t (a bar's first 16th)
when its pitch sounds at t - 3, t - 2 and t; struck again when it is silent at t - 1 (the one-step gap the export,
and the groove's restrike, leave). Real strings hold their pads across bar lines and strike them again at about
4 in 10 of them; our groove struck every one (engine/groove.Groove.restrike), so under a chart the strings played
8.3 note starts a bar against 6.8 real.

And `solo_rest`: of the bars of windows whose guitar plays and whose piano is absent throughout, the share the
guitar rests in (0.10: a guitar alone comps nearly every bar; engine/roles.sit_out brings ours back to it).

`--write` puts the piano's and the strings' shares into the pack's card.json ("generation" `bar_restrike` and
`held_restrike`; guitar and bass 1.0, every bar line, because their densities under chords were calibrated with
every bar line struck: `chord_bias`, `beat_restrike`, and they play fewer notes than real ones already), with the
shares measured for every lane in `bar_restrike_why`. The piano's (issue 29): under a chart alone it played 13.0 note
starts in the bars it played against 9.3 real (48 validation songs), at 6.6 onsets a played bar against 4.1: its
held chords struck again in 16ths and at every bar line; with its shares, 10.9 and 5.9.
"""

from __future__ import annotations

import argparse

import numpy as np

from ..engine.ties import held_gaps
from ..sketch.song import LANES
from .windows import BAR_STEPS, CHUNK_BARS

STRINGS, PIANO, GUITAR = LANES.index("strings"), LANES.index("piano"), LANES.index("guitar")
APPLIED = (PIANO, STRINGS)  # the lanes whose learned share the card carries (the others: 1.0, see the module's text)


def bar_restrikes(roll: np.ndarray, bar_steps: int = BAR_STEPS) -> np.ndarray:
    """(lanes, 2) per pitched lane: (notes held across a bar line, of them struck again there) of a (5, steps, 128)
    band roll; drums: zeros (hits)."""
    out = np.zeros((len(LANES), 2))
    t = np.arange(bar_steps, roll.shape[1], bar_steps)
    t = t[t >= 3]
    for lane in range(len(LANES)):
        if LANES[lane] == "drums" or not len(t):
            continue
        part = roll[lane].astype(bool)
        held = part[t - 3] & part[t - 2] & part[t]
        out[lane] += (int(held.sum()), int((held & ~part[t - 1]).sum()))
    return out


def held_restrikes(roll: np.ndarray, bar_steps: int = BAR_STEPS) -> np.ndarray:
    """(lanes, 2) per pitched lane: (pitches sounding at t - 2 and t, t inside the bar; of them silent at t - 1) of a
    (5, steps, 128) band roll, as engine/ties.held_gaps counts them; drums: zeros."""
    out = np.zeros((len(LANES), 2))
    inside = (np.arange(roll.shape[1]) % bar_steps != 0)[:, None]
    for lane in range(len(LANES)):
        if LANES[lane] != "drums":
            held, gap = held_gaps(roll[lane].astype(bool))
            out[lane] += (int((held & inside).sum()), int((gap & inside).sum()))
    return out


def measure(rolls) -> dict:
    """{"shares", "counts": notes held across a bar line, per lane; "inner", "inner_counts": held into a 16th
    inside the bar} of band rolls."""
    rolls = [r[:, CHUNK_BARS * BAR_STEPS :] for r in rolls]
    share = lambda a: [round(float(k / n), 3) if n else 1.0 for n, k in a]  # noqa: E731
    total, inner = sum(bar_restrikes(r) for r in rolls), sum(held_restrikes(r) for r in rolls)
    solo = np.zeros(2)  # bars of windows whose guitar plays and whose piano is absent throughout; of them guitar rests
    for r in rolls:
        bars = r[[PIANO, GUITAR]].reshape(2, -1, BAR_STEPS * 128).any(axis=2)
        if bars[1].any() and not bars[0].any():
            solo += (bars.shape[1], int((~bars[1]).sum()))
    return {
        "shares": share(total),
        "counts": total[:, 0].astype(int).tolist(),
        "inner": share(inner),
        "inner_counts": inner[:, 0].astype(int).tolist(),
        "solo_rest": round(float(solo[1] / solo[0]), 3) if solo[0] else 0.0,
        "solo_bars": int(solo[0]),
    }


def card_value(shares: list[float]) -> list[float]:
    """The card's `bar_restrike`: the learned share on APPLIED lanes, 1.0 (every bar line) on the others."""
    return [shares[i] if i in APPLIED else 1.0 for i in range(len(LANES))]


def main(argv=None) -> int:
    from ..engine import Engine
    from .calibrate import add_window_args, training_windows, write_generation

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_window_args(parser, songs=200, write="bar_restrike")
    args = parser.parse_args(argv)
    chosen = training_windows(Engine.load(args.pack), args)
    found = measure([w.roll for w in chosen])
    value, inner = card_value(found["shares"]), card_value(found["inner"])
    print(f"{len(chosen)} training windows of {(args.steps + 1) * CHUNK_BARS} bars")
    print("  held across a bar line, struck again: " + " ".join(f"{n} {s:.3f}" for n, s in zip(LANES, found["shares"])))
    inside = " ".join(f"{n} {s:.3f}" for n, s in zip(LANES, found["inner"]))
    print(f"  sounding two 16ths apart inside the bar, a gap between: {inside}")
    print(f"  counted {found['counts']}, {found['inner_counts']}; card bar_restrike {value}, held_restrike {inner}")
    print(f"  guitar rests, piano absent: {found['solo_rest']:.3f} of {found['solo_bars']} bars (card solo_rest)")
    if args.write:
        why = (
            f"measured on {len(chosen)} training windows (evaluation/learn_density.py): of the notes held across a "
            f"bar line, the share struck again there, per lane {found['shares']} (counted {found['counts']}); "
            "held_restrike, of pitches sounding at t - 2 and t (t inside the bar), the share silent at t - 1, "
            f"{found['inner']} (counted "
            f"{found['inner_counts']}); the card carries the piano's and the strings' shares (applied where chords "
            "steer the band: engine/groove.py, engine/ties.py); guitar and bass 1.0, "
            "their densities under chords calibrated with every bar line struck; solo_rest, guitar: of the bars of "
            f"windows whose guitar plays and whose piano is absent throughout ({found['solo_bars']}), the share the "
            "guitar rests in (engine/roles.sit_out); the validation songs were not used"
        )
        solo_rest = [0.0, found["solo_rest"], 0.0, 0.0, 0.0]
        write_generation(
            args.pack, {"bar_restrike": value, "held_restrike": inner, "solo_rest": solo_rest, "bar_restrike_why": why}
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
