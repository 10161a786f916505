"""Which lane should lead? Same VAEs, predictors retrained for each candidate lead, scored on training songs.

    .venv/bin/python benchmarks/lead_choice.py --pack DIR --data DIR --out DIR [--leads piano bass] [--songs 800]

The lane VAEs and the start bank of the trained pack are kept; for each lead the MelodyNN and the
ConditionalNNs are trained again (same epochs and seed) on latent pairs of `--songs` training songs,
written as a pack under --out/<lead>, and continuations of mid-song primers of 60 *training* songs
are scored at 16ths (music goals, lane dropout). The validation songs that `musicvae evaluate`
reports are not used.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from musicvae_app.engine import Engine  # noqa: E402
from musicvae_app.evaluation.calibrate import training_songs  # noqa: E402
from musicvae_app.evaluation.evaluate import evaluate_pack  # noqa: E402
from musicvae_app.model.nets import Band  # noqa: E402
from musicvae_app.model.pack import CARD, load_pack, save_pack  # noqa: E402
from musicvae_app.training.data import Corpus, find_files, fold_songs, load_corpus, normalise_keys  # noqa: E402
from musicvae_app.training.train import Run, TrainConfig  # noqa: E402

FAIR = {"noise": 0.8, "threshold": 0.3, "revive": 1, "pull": 0.0}


def predictors_for(pack, lead: str, train_songs, epochs: int, out: Path) -> Path:
    cfg = dataclasses.replace(pack.config, lead=lead)
    band = Band(cfg)
    state = {k: v for k, v in pack.band.state_dict().items() if not k.startswith(("melody.", "cond."))}
    band.load_state_dict(state, strict=False)
    out.mkdir(parents=True, exist_ok=True)
    run = Run(TrainConfig(data="-", out=str(out), pred_epochs=epochs, progress=False))
    run.pack_cfg, run.band = cfg, band
    run.cfg = dataclasses.replace(run.cfg, latent=cfg.latent, chunk_steps=cfg.chunk_steps)
    run.train, run.val = train_songs[: int(len(train_songs) * 0.9)], train_songs[int(len(train_songs) * 0.9) :]
    run.train_predictors()
    card = dict(pack.card)
    card["generation"] = dict(FAIR)  # the same generation settings for every lead
    card["representation"] = dict(card.get("representation") or {}, lead=lead)
    card["name"] = f"lead-{lead}"
    folder = save_pack(band, out, card)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pack", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--leads", nargs="+", default=["piano", "bass", "guitar", "drums"])
    parser.add_argument("--songs", type=int, default=800)
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--cache-dir", default=None)
    args = parser.parse_args()
    torch.manual_seed(0)
    pack = load_pack(args.pack)
    cfg = pack.config
    files = find_files(args.data)
    corpus = load_corpus(files, cfg.steps_per_beat, args.cache_dir, cfg.chunk_steps, 2)
    train, _ = corpus.split(int(pack.card.get("training", {}).get("config", {}).get("validation_percent", 10)))
    train = sorted(train, key=lambda s: s.key)[: args.songs]
    if pack.card.get("representation", {}).get("key_normalised"):
        normalise_keys(train)
    fold_songs(train, cfg.pitch_low, cfg.pitches)
    rows = {}
    for lead in args.leads:
        folder = predictors_for(pack, lead, Corpus(train).songs, args.epochs, Path(args.out) / lead)
        engine = Engine.load(folder, "cpu")
        songs = training_songs(engine, args.data, 60, args.cache_dir)
        result = evaluate_pack(engine, songs, steps=8, seed=3000, count=60, reconstruction=False)
        rows[lead] = dict(
            music_goals=f"{result['music_goals_met']} of {result['music_goals']}",
            sane=result["sane"],
            dropout_all=result["all"]["lane_dropout"]["generated"],
            dropout_real=result["all"]["lane_dropout"]["real"],
            td_mean=float(np.mean([r["generated"] for r in result["TD"].values() if r["generated"] is not None])),
            td_real=float(np.mean([r["real"] for r in result["TD"].values() if r["real"] is not None])),
        )
        print(lead, json.dumps(rows[lead]), flush=True)
    print("| lead | music goals (60 training songs) | sane | lane dropout % (real) | mean TD (real) |")
    print("|---|---|---|---:|---:|")
    for lead, r in rows.items():
        print(
            f"| {lead} | {r['music_goals']} | {r['sane']} | {r['dropout_all']:.1f} ({r['dropout_real']:.1f}) "
            f"| {r['td_mean']:.2f} ({r['td_real']:.2f}) |"
        )
    shutil.copy(Path(args.pack) / CARD, Path(args.out) / "source-card.json")


if __name__ == "__main__":
    main()
