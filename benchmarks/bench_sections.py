"""Sections at generation on a pack: how close a repeated section comes back, how different two sections are,
fills before every section, and what the sections cost in time.

    .venv/bin/python benchmarks/bench_sections.py [--seeds 8] [--pack DIR]

For each seed, one take of the form intro 4, verse 8, chorus 8, verse 2 8, chorus 8, outro 4 (40 bars) and one
without sections (same seed): cell F1 (notes as cells, every lane) between the two choruses, the two verses, a
verse and a chorus; whether the last bar before every section holds one of the card's fills and the section
opens with a crash; the median time of a take with and without sections.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from musicvae_app.engine import Engine  # noqa: E402
from musicvae_app.engine.groove import CRASH  # noqa: E402
from musicvae_app.lanes import DRUMS  # noqa: E402

FORM = [("intro", 1, 4), ("verse", 5, 8), ("chorus", 13, 8), ("verse 2", 21, 8), ("chorus", 29, 8), ("outro", 37, 4)]


def cell_f1(a: np.ndarray, b: np.ndarray) -> float:
    both = int((a & b).sum())
    return 2 * both / max(int(a.sum() + b.sum()), 1)


def bars(song, start: int, n: int) -> np.ndarray:
    spb = song.steps_per_bar
    return song.notes()[:, (start - 1) * spb : (start - 1 + n) * spb]


def fills_in(song, fills) -> tuple[int, int]:
    """(sections after the first led in by a card fill and opened with a crash, sections after the first)."""
    spb, beat = song.steps_per_bar, song.steps_per_beat
    notes = song.notes()[DRUMS]
    good = 0
    for section in song.sections[1:]:
        down = (section.start - 1) * spb
        played = tuple(sorted((int(s), int(p)) for s, p in zip(*np.nonzero(notes[down - 2 * beat : down]))))
        good += played in fills and bool(notes[down, CRASH])
    return good, len(song.sections) - 1


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--pack", default=None)
    args = parser.parse_args()
    engine = Engine.load(args.pack, device="cpu", one_song_threads=1)
    fills = {tuple(sorted(map(tuple, f))) for f in engine.pack.card.get("generation", {}).get("fills", [])}
    rows, timed, plain_timed, filled = [], [], [], [0, 0]
    engine.generate(steps=9, seed=0, sections=FORM)  # warm-up
    for seed in range(args.seeds):
        start = time.perf_counter()
        song = engine.generate(steps=9, seed=seed, sections=FORM)
        timed.append(time.perf_counter() - start)
        start = time.perf_counter()
        plain = engine.generate(steps=9, seed=seed)
        plain_timed.append(time.perf_counter() - start)
        rows.append(
            (
                cell_f1(bars(song, 13, 8), bars(song, 29, 8)),
                cell_f1(bars(song, 5, 8), bars(song, 21, 8)),
                cell_f1(bars(song, 5, 8), bars(song, 13, 8)),
                cell_f1(bars(plain, 13, 8), bars(plain, 29, 8)),
                cell_f1(bars(plain, 5, 8), bars(plain, 13, 8)),
            )
        )
        good, n = fills_in(song, fills)
        filled[0] += good
        filled[1] += n
    mean = np.mean(rows, axis=0)
    print(f"pack '{engine.pack.name}', {args.seeds} seeds, a 40-bar form: {', '.join(f'{n} {b}' for n, _, b in FORM)}")
    print("| cell F1 (mean over seeds) | with sections | without sections (same bars) |")
    print("|---|---:|---:|")
    print(f"| chorus 2 against chorus 1 | {mean[0]:.3f} | {mean[3]:.3f} |")
    print(f"| verse 2 against verse 1 | {mean[1]:.3f} | |")
    print(f"| verse 1 against chorus 1 | {mean[2]:.3f} | {mean[4]:.3f} |")
    print(f"sections led in by a fill and opened with a crash: {filled[0]} of {filled[1]}")
    print(
        f"median time a take: {1000 * statistics.median(timed):.0f} ms with sections, "
        f"{1000 * statistics.median(plain_timed):.0f} ms without"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
