"""Quality before/after: the thesis's generation loop against the pack's own generation defaults.

    .venv/bin/python benchmarks/bench_quality.py [--pack DIR] [--data DIR] [--songs 100]

Both continue the same mid-song primers of the pack's validation songs for 23 chunks (see
musicvae_app/evaluation/evaluate.py) and are compared with the real songs' own continuations.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from musicvae_app.engine import Engine  # noqa: E402
from musicvae_app.evaluation.evaluate import evaluate_pack, validation_songs  # noqa: E402

THESIS = {"noise": 1.0, "threshold": 0.3, "revive": 0, "pull": 0.0}


def summary(result: dict) -> dict:
    lanes = result["lanes"]
    out = {"goals met": f"{result['goals_met']} of {result['goals']}"}
    out["lane dropout % (all; real {:.1f})".format(result["all"]["lane_dropout"]["real"])] = result["all"][
        "lane_dropout"
    ]["generated"]
    for lane, rows in lanes.items():
        out[f"{lane} dropout %"] = rows["lane_dropout"]["generated"]
    out["primer similarity (all; real {:.2f})".format(result["all"]["primer_similarity"]["real"])] = result["all"][
        "primer_similarity"
    ]["generated"]
    out["TD mean (real {:.2f})".format(np.mean([v["real"] for v in result["TD"].values()]))] = float(
        np.mean([v["generated"] for v in result["TD"].values()])
    )
    for metric in ("EB", "QN", "UPC"):
        gaps = [
            abs(rows[metric]["gap"]) for rows in lanes.values() if metric in rows and rows[metric]["gap"] is not None
        ]
        out[f"mean |{metric} gap|"] = float(np.mean(gaps))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pack", default=None)
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared/data/band-midi"))
    parser.add_argument("--songs", type=int, default=100)
    parser.add_argument("--cache-dir", default=None)
    args = parser.parse_args()
    engine = Engine.load(args.pack, "cpu")
    songs = validation_songs(engine, args.data, args.cache_dir)
    defaults = dict(engine.pack.card.get("generation", {}))
    rows = {}
    for name, settings in (("thesis loop", THESIS), ("pack defaults", defaults)):
        engine.use_card(dict(settings))
        rows[name] = summary(evaluate_pack(engine, songs, steps=23, seed=0, count=args.songs))
    print(f"pack '{engine.pack.name}', {args.songs} validation songs, 23 chunks after a mid-song primer, seed 0")
    print(f"thesis loop: {THESIS}\npack defaults: {defaults}\n")
    print("| measure | thesis loop | pack defaults |")
    print("|---|---:|---:|")
    for key in rows["thesis loop"]:
        a, b = rows["thesis loop"][key], rows["pack defaults"][key]
        fmt = (lambda v: v) if isinstance(a, str) else (lambda v: f"{v:.2f}")
        print(f"| {key} | {fmt(a)} | {fmt(b)} |")


if __name__ == "__main__":
    main()
