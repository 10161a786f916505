"""`musicvae evaluate`: how close a pack's continuations of real mid-song primers are to the real songs.

Each validation song gives one window: a primer chunk from its middle (never its first chunk, the
intro) and the song's own next `steps` chunks. The pack continues the same primer for `steps`
chunks, and every metric in `metrics.py` is measured on both continuations, pooled over the songs.
"""

from __future__ import annotations

import hashlib
import math
import shlex
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import metrics
from .song import LANES

# The quality goals: (test on generated - real, description).
GOALS = {
    "EB": (lambda gap: abs(gap) <= 5.0, "|gap| <= 5"),
    "UPC": (lambda gap: abs(gap) <= 0.3, "|gap| <= 0.3"),
    "QN": (lambda gap: abs(gap) <= 5.0, "|gap| <= 5"),
    "DP": (lambda gap: abs(gap) <= 5.0, "|gap| <= 5"),
    "TD": (lambda gap: gap <= 0.05, "gap <= 0.05"),
    "lane_dropout": (lambda gap: gap <= 0.0, "gap <= 0"),
    "primer_similarity": (lambda gap: abs(gap) <= 0.15, "|gap| <= 0.15"),
}
LABELS = {
    "EB": "EB %",
    "UPC": "UPC",
    "QN": "QN %",
    "DP": "DP %",
    "polyphony": "polyphony",
    "lane_dropout": "lane dropout %",
    "primer_similarity": "primer similarity",
}


@dataclass
class Window:
    """A validation song's primer chunk and its own continuation: roll (5, (steps + 1) * chunk_steps, 128)."""

    name: str
    primer_chunk: int
    roll: np.ndarray


def primer_chunk(n_chunks: int, steps: int) -> int | None:
    """The chunk nearest the song's middle that leaves `steps` chunks after it and is not the first."""
    chunk = min(n_chunks // 2, n_chunks - steps - 1)
    return chunk if chunk >= 1 else None


def windows(songs: Iterable, chunk_steps: int, steps: int, count: int | None = None) -> list[Window]:
    """Windows of the songs (SongRolls or bool (5, steps, 128) rolls) long enough for one, in the order given."""
    out = []
    for i, song in enumerate(songs):
        if count is not None and len(out) >= count:
            break
        roll = np.asarray(getattr(song, "roll", song), dtype=bool)
        chunk = primer_chunk(roll.shape[1] // chunk_steps, steps)
        if chunk is None:
            continue
        start = chunk * chunk_steps
        window = roll[:, start : start + (steps + 1) * chunk_steps]
        if window[:, :chunk_steps].any():  # a silent primer (a break) gives the model nothing to continue
            out.append(Window(str(getattr(song, "path", f"song {i}")), chunk, window))
    return out


def generate_continuations(engine, primers: list[Window], steps: int, noise: float, threshold: float, seed: int):
    """The pack's continuation of every window's primer: bool (songs, 5, (steps + 1) * chunk_steps, 128)."""
    from .engine import torch_threads

    cs = engine.cfg.chunk_steps
    out = np.zeros((len(primers), len(LANES), (steps + 1) * cs, 128), dtype=bool)
    # One thread: song-by-song generation on a busy 2-core machine took 1.7 s a song with 2 threads, 0.06 s with 1.
    with torch_threads(1 if engine.device == "cpu" else None):
        for i, window in enumerate(primers):
            song = engine.generate(
                steps=steps, noise=noise, threshold=threshold, seed=seed + i, primer=window.roll[:, :cs]
            )
            out[i] = song.notes()
    return out


def _number(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), 4)


def _row(metric: str, real: float, generated: float) -> dict:
    gap = generated - real if math.isfinite(real) and math.isfinite(generated) else math.nan
    row = {"real": _number(real), "generated": _number(generated), "gap": _number(gap)}
    if metric in GOALS:
        test, text = GOALS[metric]
        row["goal"] = text
        row["met"] = bool(test(gap)) if math.isfinite(gap) else None
    return row


def compare(real: np.ndarray, generated: np.ndarray, steps_per_beat: int, chunk_steps: int) -> dict:
    """Every metric of real and generated windows (songs, 5, steps, 128), chunk 0 the primer, side by side."""
    cont_real, cont_gen = real[..., chunk_steps:, :], generated[..., chunk_steps:, :]
    m_real = metrics.band_metrics(cont_real, steps_per_beat)
    m_gen = metrics.band_metrics(cont_gen, steps_per_beat)
    drop_real, drop_gen = metrics.lane_dropout(real, chunk_steps), metrics.lane_dropout(generated, chunk_steps)
    sim_real, sim_gen = metrics.primer_similarity(real, chunk_steps), metrics.primer_similarity(generated, chunk_steps)
    lanes = {}
    for lane in LANES:
        rows = {k: _row(k, v, m_gen["lanes"][lane][k]) for k, v in m_real["lanes"][lane].items()}
        rows["lane_dropout"] = _row("lane_dropout", drop_real[lane], drop_gen[lane])
        rows["primer_similarity"] = _row("primer_similarity", sim_real[lane], sim_gen[lane])
        lanes[lane] = rows
    return {
        "lanes": lanes,
        "TD": {pair: _row("TD", v, m_gen["TD"][pair]) for pair, v in m_real["TD"].items()},
        "all": {
            "lane_dropout": _row("lane_dropout", drop_real["all"], drop_gen["all"]),
            "primer_similarity": _row("primer_similarity", sim_real["all"], sim_gen["all"]),
        },
    }


def _all_rows(table: dict):
    for lane, rows in table["lanes"].items():
        for metric, row in rows.items():
            yield lane, metric, row
    for pair, row in table["TD"].items():
        yield pair, "TD", row
    for metric, row in table["all"].items():
        yield "all", metric, row


def evaluate_pack(
    engine,
    songs: Iterable,
    steps: int = 23,
    noise: float | None = None,
    threshold: float | None = None,
    seed: int = 0,
    count: int | None = None,
) -> dict:
    """Continue a mid-song primer of up to `count` songs and compare the metrics with the songs' own continuations.

    songs: SongRolls or bool (5, steps, 128) rolls on the pack's grid; noise and threshold default to the pack's.
    """
    cfg = engine.cfg
    generation = engine.pack.card.get("generation", {})
    noise = float(generation.get("noise", 1.0) if noise is None else noise)
    threshold = float(generation.get("threshold", 0.3) if threshold is None else threshold)
    chosen = windows(songs, cfg.chunk_steps, steps, count)
    if not chosen:
        raise ValueError(
            f"no song is long enough for a mid-song primer and {steps} chunks after it "
            f"({steps + 2} chunks of {cfg.chunk_steps} steps): use fewer --steps or longer songs"
        )
    t0 = time.perf_counter()
    generated = generate_continuations(engine, chosen, steps, noise, threshold, seed)
    seconds = time.perf_counter() - t0
    real = np.stack([w.roll for w in chosen])
    table = compare(real, generated, cfg.steps_per_beat, cfg.chunk_steps)
    met = [row["met"] for _, _, row in _all_rows(table) if row.get("met") is not None]
    return {
        "pack": engine.pack.name,
        "songs": len(chosen),
        "steps": steps,
        "noise": noise,
        "threshold": threshold,
        "seed": seed,
        "steps_per_beat": cfg.steps_per_beat,
        "chunk_steps": cfg.chunk_steps,
        "primer_chunks": {
            "min": int(min(w.primer_chunk for w in chosen)),
            "median": float(np.median([w.primer_chunk for w in chosen])),
            "max": int(max(w.primer_chunk for w in chosen)),
        },
        **table,
        "goals_met": int(sum(met)),
        "goals": len(met),
        "generation_seconds": round(seconds, 2),
        "device": engine.device,
    }


def _fmt(value: float | None, width: int, sign: bool = False) -> str:
    if value is None:
        return "-".rjust(width)
    return f"{value:+{width}.2f}" if sign else f"{value:{width}.2f}"


def format_table(result: dict) -> str:
    """The result as a plain-text table: one line per lane and metric, then tonal distances, then all lanes."""
    head = f"{'lane':<16}{'metric':<19}{'real':>9}{'generated':>11}{'gap':>9}  goal"
    lines = [head, "-" * (len(head) + 20)]
    last = None
    for where, metric, row in _all_rows(result):
        label = "TD" if metric == "TD" else LABELS[metric]
        goal = ""
        if "goal" in row:
            verdict = {True: "ok", False: "MISS", None: "n/a"}[row["met"]]
            goal = f"{row['goal']:<14}{verdict}"
        shown = where if where != last else ""
        last = where
        lines.append(
            f"{shown:<16}{label:<19}{_fmt(row['real'], 9)}{_fmt(row['generated'], 11)}"
            f"{_fmt(row['gap'], 9, sign=True)}  {goal}".rstrip()
        )
    lines.append(f"goals met: {result['goals_met']} of {result['goals']}")
    return "\n".join(lines)


def validation_songs(engine, data: str | Path, cache_dir: str | Path | None = None) -> list:
    """The pack's validation songs under data (its training split and genres), ordered by file hash."""
    from .training.data import Corpus, SongRolls, find_files, load_corpus

    training = engine.pack.card.get("training", {}).get("config", {})
    percent = int(training.get("validation_percent", 10))
    files = find_files(data, training.get("genres") or None)
    if not files and training.get("genres"):
        files = find_files(data)  # another collection, without the genre folders the pack trained on
    keyed = [SongRolls(hashlib.sha1(path.read_bytes()).hexdigest(), str(path), np.zeros(0)) for path in files]
    _, held_out = Corpus(keyed).split(percent)  # hash the files first, so only validation songs are read
    corpus = load_corpus([Path(s.path) for s in held_out], engine.cfg.steps_per_beat, cache_dir)
    return sorted(corpus.songs, key=lambda s: s.key)


def _command(args, result: dict) -> str:
    parts = ["musicvae", "evaluate", "--pack", str(args.pack or "resources/models/default"), "--data", str(args.data)]
    parts += ["--songs", str(args.songs), "--steps", str(result["steps"]), "--seed", str(result["seed"])]
    parts += ["--noise", f"{result['noise']:g}", "--threshold", f"{result['threshold']:g}"]
    return shlex.join(parts)


def run_evaluate(args) -> int:
    """The `musicvae evaluate` command: print the table, write JSON and the card when asked."""
    from .engine import Engine
    from .model.pack import CARD, read_card, write_json_atomic

    if args.songs < 1 or args.steps < 1:
        raise ValueError("--songs and --steps must be at least 1")
    t0 = time.perf_counter()
    engine = Engine.load(args.pack, args.device)
    songs = validation_songs(engine, args.data, args.cache_dir)
    result = evaluate_pack(engine, songs, args.steps, args.noise, args.threshold, args.seed, args.songs)
    result["data"] = Path(args.data).name
    result["validation_songs"] = len(songs)
    result["command"] = _command(args, result)
    print(
        f"pack '{result['pack']}' on {result['songs']} of {len(songs)} validation songs: a mid-song primer "
        f"+ {result['steps']} chunks, noise {result['noise']:g}, threshold {result['threshold']:g}, "
        f"seed {result['seed']}"
    )
    print(format_table(result))
    print(
        f"generated in {result['generation_seconds']:.1f} s on {engine.device_name}; "
        f"total {time.perf_counter() - t0:.1f} s"
    )
    if args.json:
        write_json_atomic(Path(args.json), result)
        print(f"wrote {args.json}")
    if args.update_card:
        folder = engine.pack.path
        card = read_card(folder)
        card.setdefault("metrics", {})["evaluate"] = result
        write_json_atomic(folder / CARD, card)
        print(f"stored the table in {folder / CARD}")
    return 0
