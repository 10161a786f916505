"""A hash of the notes of a fixed set of takes from the shipped pack: the redesign's "same music" check.

Every entry point of the engine is run once with fixed seeds (generate with and without a chart, a followed
part, a song form, regenerate, continue, infill, morph, set_chord, set_chords) and the notes, probabilities
(rounded) and chords of each take are hashed. `--record FILE` writes the hashes, `--check FILE` compares:
a refactor that keeps behaviour prints "same" for every take. Hashes are of float output, so they are only
comparable on one machine (one CPU kind, one torch build): record and check on the same one.

    .venv/bin/python benchmarks/same_music.py --record /tmp/before.json
    .venv/bin/python benchmarks/same_music.py --check /tmp/before.json

Runs the musicvae_app of the checkout it sits in (its folder goes first on sys.path).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's musicvae_app, not an installed one


def _digest(song) -> str:
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(song.notes()).tobytes())
    h.update(np.round(np.asarray(song.probs, dtype=np.float64), 4).tobytes())
    h.update(json.dumps(list(song.chords or []), default=str).encode())
    h.update(json.dumps([repr(s) for s in (song.sections or [])]).encode())
    return h.hexdigest()[:16]


def takes(engine) -> dict:
    """name -> Song, each from one entry point with fixed seeds."""
    from musicvae_app.sketch.midi import write_midi

    out = {}
    plain = engine.generate(steps=3, seed=11)
    out["generate"] = plain
    out["generate_scale_lock"] = engine.generate(steps=3, seed=12, key="E minor", scale_lock=True)
    out["generate_chords"] = engine.generate(steps=3, seed=13, chords="Am F C G")
    out["generate_sections"] = engine.generate(
        steps=7, seed=14, sections=[("verse", 1, 8), ("chorus", 9, 8), ("chorus", 17, 8)]
    )
    out["regenerate"] = engine.regenerate_lane(plain, "guitar", seed=15)
    out["continue"] = engine.continue_song(plain, 2, seed=16)
    out["infill"] = engine.infill(plain, 5, 8, lanes=["piano", "strings"], seed=17)
    other = engine.generate(steps=3, seed=18)
    out["morph"] = engine.morph(plain, other, steps=4)
    out["set_chord"] = engine.set_chord(plain, 2, "Dm")
    out["set_chords"] = engine.set_chords(plain, "C G Am F")
    with tempfile.TemporaryDirectory() as folder:
        part = plain.copy()
        keep = np.zeros(part.probs.shape[0], dtype=bool)
        keep[[0, 2]] = True  # piano and bass as the user's part
        part.probs[~keep] = 0.0
        path = Path(folder) / "part.mid"
        write_midi(part, path)
        out["follow"] = engine.generate(seed=19, follow=path)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--record", type=Path)
    ap.add_argument("--check", type=Path)
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    from musicvae_app.engine import Engine
    from musicvae_app.resources import resources_dir

    engine = Engine.load(resources_dir() / "models" / "default", device="cpu")
    hashes = {name: _digest(song) for name, song in takes(engine).items()}
    if args.record:
        args.record.write_text(json.dumps(hashes, indent=1) + "\n")
    bad = 0
    if args.check:
        before = json.loads(args.check.read_text())
        for name, value in hashes.items():
            same = before.get(name) == value
            bad += not same
            print(f"{name:22s} {'same' if same else 'CHANGED'} {value}")
    else:
        for name, value in hashes.items():
            print(f"{name:22s} {value}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
