"""How often a followed Generate runs the harmony model, and what that costs (review item: the nets ran twice).

A Generate that follows a part reads the part's chords (Harmonizer.follow_chords: the band's chords) and then the
chord lane's readings of the take's part (sketch/choices.py): the same notes. This counts the runs of the harmony
model (HarmonyModel.harmonize, wrapped, not replaced) in each followed Generate of the session, and the time spent
in them, on the shipped pack with real POP909 validation songs followed whole (their first 64 bars, as in
bench_readings.py). Run it from each checkout to compare (the figures are the checkout's whose musicvae_app the
path puts first):

    PYTHONPATH=. .venv/bin/python benchmarks/bench_harmony_once.py --data /work/shared/data/pop909 --songs 5
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.bench_readings import first_bars
from musicvae_app.engine import Engine
from musicvae_app.model.pack import load_pack
from musicvae_app.resources import resources_dir
from musicvae_app.sketch.session import Session


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="the POP909 folder (one folder per song: NNN/NNN.mid)")
    ap.add_argument("--songs", type=int, default=5)
    args = ap.parse_args()
    engine = Engine.load(load_pack(resources_dir() / "models" / "default"), device="cpu", one_song_threads=1)
    model = engine.harmonizer.model
    real, spent = model.harmonize, []

    def timed(*a, **k):
        start = time.perf_counter()
        try:
            return real(*a, **k)
        finally:
            spent.append(time.perf_counter() - start)

    model.harmonize = timed
    folders = sorted(p for p in Path(args.data).iterdir() if p.is_dir() and (p / f"{p.name}.mid").exists())
    folders = [p for p in folders if int(p.name) % 5 == 0][: args.songs]  # validation songs
    runs, in_model, gen = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        engine.harmonize(first_bars(folders[0] / f"{folders[0].name}.mid", Path(tmp) / "warm.mid", 8))  # warm
        for folder in folders:
            part = first_bars(folder / f"{folder.name}.mid", Path(tmp) / f"{folder.name}.mid")
            session = Session(engine)
            session.set_seed(1)
            assert session.follow_part(part), session.last_error
            spent.clear()
            start = time.perf_counter()
            assert session.generate() and len(session.chord_alternatives()) == 3
            gen.append(time.perf_counter() - start)
            runs.append(len(spent))
            in_model.append(sum(spent))
            print(
                f"{folder.name}: {session.song.n_bars} bars, Generate {gen[-1] * 1000:.0f} ms, harmony model runs "
                f"{runs[-1]} ({in_model[-1] * 1000:.0f} ms)"
            )
    g, m = (statistics.median(x) * 1000 for x in (gen, in_model))
    print(f"median over {len(gen)} songs: followed Generate {g:.0f} ms, harmony model {m:.0f} ms, runs {runs}")


if __name__ == "__main__":
    main()
