"""A key asked (with scale lock) should give that key's tonic harmony (issue 33): how often is it heard?

For each asked key and seed, an 8-bar take from the shipped pack, its chords recognized bar by bar in the notes
(theory.chords.recognize, what the chord lane shows). Reports the share of bars heard as the key's tonic chord
(root and major/minor), the share heard as the relative major's tonic (what normalising a minor key onto its
relative major's pitches gives), and the share of takes whose first bar is the tonic. `--before` draws the start
from the whole bank, as before the fix (bank rows not filtered by key).

    .venv/bin/python benchmarks/key_tonic.py [--seeds 12] [--before]
"""

from __future__ import annotations

import argparse

from musicvae_app.engine import Engine
from musicvae_app.theory.chords import recognize
from musicvae_app.theory.keys import parse_key

KEYS = ("E minor", "A minor", "D minor", "B minor", "G major", "F major")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=12)
    parser.add_argument("--before", action="store_true", help="start from any bank row (the old behaviour)")
    args = parser.parse_args()
    engine = Engine.load(device="cpu")
    if args.before:
        rows = engine.bank.rows
        engine.bank.rows = lambda gen, count, lanes, threshold=None, key=None: rows(gen, count, lanes, threshold)
    total = {"tonic": 0, "relative": 0, "bars": 0, "first": 0, "takes": 0}
    for key in KEYS:
        tonic, mode = parse_key(key)
        relative = ((tonic + 3) % 12, "major") if mode == "minor" else ((tonic + 9) % 12, "minor")
        here = {"tonic": 0, "relative": 0, "bars": 0, "first": 0}
        for seed in range(args.seeds):
            song = engine.generate(steps=1, key=key, scale_lock=True, seed=seed)
            chords = recognize(song.notes(), song.steps_per_bar)[: song.n_bars]
            heard = [
                None
                if c is None
                else (c.root, "minor" if c.quality.startswith("m") and not c.quality.startswith("maj") else "major")
                for c in chords
            ]
            here["tonic"] += sum(h == (tonic, mode) for h in heard)
            here["relative"] += sum(h == relative for h in heard)
            here["bars"] += len(heard)
            here["first"] += heard[0] == (tonic, mode)
        for k in here:
            total[k] += here[k]
        total["takes"] += args.seeds
        print(
            f"{key:8s}: tonic {here['tonic'] / here['bars']:.0%} of bars, "
            f"relative {here['relative'] / here['bars']:.0%}, first bar tonic in {here['first']}/{args.seeds} takes"
        )
    print(
        f"all     : tonic {total['tonic'] / total['bars']:.0%} of bars, "
        f"relative {total['relative'] / total['bars']:.0%}, first bar tonic in {total['first']}/{total['takes']} "
        f"takes ({'before' if args.before else 'after'})"
    )


if __name__ == "__main__":
    main()
