"""`musicvae evaluate`: how close a pack's continuations of real mid-song primers are to the real songs.

Each validation song gives one window: a 4-bar primer from its middle (never its first chunk, the
intro) and the song's own next `steps` 4-bar chunks. The pack continues the same primer for `steps`
chunks, and every metric in `metrics.py` is measured on both continuations, pooled over the songs.

Everything is scored at 16th notes (SCORE_STEPS_PER_BEAT) whatever the pack's own grid: the real
songs are read at 16ths, the primer goes to the engine as a .mid file, and each generated song is
written with midi.write_midi and read back at 16ths, as an outside user would hear it. Besides the
MuseGAN set, notes per bar and polyphony are held against the real songs' so that note soup
(a dense, untrained pack) cannot pass for music, and random-start sketches are checked for
lanes that never play (the lineup figures).
"""

from __future__ import annotations

import math
import shlex
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ..errors import InvalidValue
from ..sketch.song import LANES
from . import metrics, report
from .windows import (
    CHUNK_BARS,
    SCORE_CHUNK,
    SCORE_STEPS_PER_BEAT,
    Window,
    export_back,
    roll_to_midi,
    windows,
)

LABELS = {
    "EB": "EB %",
    "UPC": "UPC",
    "QN": "QN %",
    "DP": "DP %",
    "polyphony": "polyphony",
    "notes_per_bar": "notes per bar",
    "lane_dropout": "lane dropout %",
    "primer_similarity": "primer similarity",
}


def continuations(engine, primers: list[Window], steps: int, seed: int, noise=None, threshold=None):
    """Yield the pack's continuation (a Song) of each window's primer, the primer passed as a .mid file.

    noise and threshold None: the pack's.
    """
    import tempfile

    from ..engine import torch_threads

    # One thread: song-by-song generation on a busy 2-core machine took 1.7 s a song with 2 threads, 0.06 s with 1.
    with tempfile.TemporaryDirectory() as tmp, torch_threads(1 if engine.device == "cpu" else None):
        for i, window in enumerate(primers):
            primer = roll_to_midi(window.roll[:, :SCORE_CHUNK], Path(tmp) / "primer.mid")
            yield engine.generate(steps=steps, noise=noise, threshold=threshold, seed=seed + i, primer=primer)


def generate_continuations(
    engine, primers: list[Window], steps: int, noise: float, threshold: float, seed: int, velocities=None
):
    """The pack's continuation of every window's primer, as exported and read back at 16ths:
    bool (songs, 5, (steps + 1) * SCORE_CHUNK, 128). velocities: a list that gets each exported take's notes with
    their velocities (dynamics_rows.read), when given."""
    import tempfile

    from .dynamics_rows import read

    total = (steps + 1) * SCORE_CHUNK
    out = np.zeros((len(primers), len(LANES), total, 128), dtype=bool)
    with tempfile.TemporaryDirectory() as tmp:
        for i, song in enumerate(continuations(engine, primers, steps, seed, noise, threshold)):
            out[i] = export_back(song, Path(tmp) / "take.mid", total)
            if velocities is not None:
                velocities.append(read(Path(tmp) / "take.mid"))
    return out


def random_starts(engine, songs: int, steps: int, seed: int, noise=None, threshold=None) -> np.ndarray:
    """Sketches from a random start (no primer) with the pack's defaults, read back at 16ths."""
    import tempfile

    from ..engine import torch_threads

    total = (steps + 1) * SCORE_CHUNK
    out = np.zeros((songs, len(LANES), total, 128), dtype=bool)
    with tempfile.TemporaryDirectory() as tmp, torch_threads(1 if engine.device == "cpu" else None):
        for i in range(songs):
            song = engine.generate(steps=steps, seed=seed + i, noise=noise, threshold=threshold)
            out[i] = export_back(song, Path(tmp) / "take.mid", total)
    return out


def lineup_figures(generated: np.ndarray, real: np.ndarray, lineup: list[str]) -> dict:
    """Per lane: % of sketches where it plays at all, and its % of empty bars against real songs' where it plays."""
    out = {}
    for i, lane in enumerate(LANES):
        gen_bars = metrics.bars(generated[:, i], SCORE_STEPS_PER_BEAT).any(axis=(-2, -1))  # (songs, n_bars)
        real_bars = metrics.bars(real[:, i], SCORE_STEPS_PER_BEAT).any(axis=(-2, -1))
        playing = real_bars.any(axis=1)
        real_eb = 100.0 * float((~real_bars[playing]).mean()) if playing.any() else math.nan
        plays = 100.0 * float(gen_bars.any(axis=1).mean())
        gen_eb = 100.0 * float((~gen_bars).mean())
        row = {
            "in_lineup": lane in lineup,
            "plays_in_pct": round(plays, 1),
            "empty_bars": report.row("EB", real_eb, gen_eb),
        }
        row["empty_bars"]["goal"] = "|gap| <= 10"
        row["empty_bars"]["met"] = bool(abs(gen_eb - real_eb) <= 10) if math.isfinite(real_eb) else None
        row["plays_met"] = (plays == 100.0) if lane in lineup else (plays == 0.0)
        out[lane] = row
    return out


def reconstruction_f1(engine, primers: list[Window]) -> dict[str, float]:
    """Note-cell F1 at 16ths of each primer against the pack's reconstruction of it (exported, read back).

    This measures the VAEs: density offsets, harmony, fill and sustain (the decoding defaults) are off here.
    """
    import tempfile

    tp, fp, fn = np.zeros(len(LANES)), np.zeros(len(LANES)), np.zeros(len(LANES))
    bias = getattr(engine.fast, "lane_bias", None)
    engine.fast.set_lane_bias([0.0] * len(LANES))  # the VAEs alone: no density offsets, no harmony
    try:
        with tempfile.TemporaryDirectory() as tmp, engine.steering.during(None, 0.0):
            for window in primers:
                real = window.roll[:, :SCORE_CHUNK]
                path = roll_to_midi(real, Path(tmp) / "primer.mid")
                primer = engine.generate(steps=0, primer=path, seed=0, revive=0, harmony=0.0)
                rebuilt = engine.reconstruct(primer)
                rebuilt.settings = rebuilt.settings.without("fill", "sustain")
                got = export_back(rebuilt, Path(tmp) / "rebuilt.mid", SCORE_CHUNK)
                tp += (got & real).sum(axis=(1, 2))
                fp += (got & ~real).sum(axis=(1, 2))
                fn += (~got & real).sum(axis=(1, 2))
    finally:
        if bias is not None:
            engine.fast.set_lane_bias(bias)
    f1 = 2 * tp / np.maximum(2 * tp + fp + fn, 1)
    return {lane: round(float(f1[i]), 4) for i, lane in enumerate(LANES)}


def compare(real: np.ndarray, generated: np.ndarray, steps_per_beat: int, chunk_steps: int) -> dict:
    """Every metric of real and generated windows (songs, 5, steps, 128), chunk 0 the primer, side by side."""
    cont_real, cont_gen = real[..., chunk_steps:, :], generated[..., chunk_steps:, :]
    m_real = metrics.band_metrics(cont_real, steps_per_beat)
    m_gen = metrics.band_metrics(cont_gen, steps_per_beat)
    drop_real, drop_gen = metrics.lane_dropout(real, chunk_steps), metrics.lane_dropout(generated, chunk_steps)
    sim_real, sim_gen = metrics.primer_similarity(real, chunk_steps), metrics.primer_similarity(generated, chunk_steps)
    lanes = {}
    for lane in LANES:
        rows = {k: report.row(k, v, m_gen["lanes"][lane][k]) for k, v in m_real["lanes"][lane].items()}
        rows["lane_dropout"] = report.row("lane_dropout", drop_real[lane], drop_gen[lane])
        rows["primer_similarity"] = report.row("primer_similarity", sim_real[lane], sim_gen[lane])
        lanes[lane] = rows
    return {
        "lanes": lanes,
        "TD": {pair: report.row("TD", v, m_gen["TD"][pair]) for pair, v in m_real["TD"].items()},
        "all": {
            "lane_dropout": report.row("lane_dropout", drop_real["all"], drop_gen["all"]),
            "primer_similarity": report.row("primer_similarity", sim_real["all"], sim_gen["all"]),
        },
    }


def evaluate_pack(
    engine,
    songs: Iterable,
    steps: int = 23,
    noise: float | None = None,
    threshold: float | None = None,
    seed: int = 0,
    count: int | None = None,
    random_songs: int = 0,
    reconstruction: bool = True,
    chords: str | None = None,
    follow: str | None = None,
) -> dict:
    """Continue a mid-song primer of up to `count` songs and compare the metrics with the songs' own continuations.

    songs: SongRolls or bool (5, steps, 128) rolls at 16ths (validation_songs reads them so); noise and
    threshold default to the pack's. random_songs > 0 adds the lineup figures of that many random-start
    sketches of 8 chunks. chords ('real') and follow (lanes, 'bass,drums') add the asked-chord and
    kept-part rows of the playing table (evaluate_playing), where the engine takes them.
    """
    from .playing import playing_section, playing_table

    defaults = engine.defaults
    noise = float(defaults["noise"] if noise is None else noise)
    threshold = float(defaults["threshold"] if threshold is None else threshold)
    chosen = windows(songs, SCORE_CHUNK, steps, count)
    if not chosen:
        raise InvalidValue(
            f"no song is long enough for a mid-song primer and {steps} chunks after it "
            f"({steps + 2} chunks of {CHUNK_BARS} bars): use fewer --steps or longer songs"
        )
    t0 = time.perf_counter()
    ours: list = []
    generated = generate_continuations(engine, chosen, steps, noise, threshold, seed, ours)
    seconds = time.perf_counter() - t0
    real = np.stack([w.roll for w in chosen])
    table = compare(real, generated, SCORE_STEPS_PER_BEAT, SCORE_CHUNK)
    rows = list(report.all_rows(table))
    met = [row["met"] for _, _, row in rows if row.get("met") is not None]
    music = [row["met"] for _, metric, row in rows if metric in report.MUSIC_GOALS and row.get("met") is not None]
    sanity = [row["met"] for _, metric, row in rows if metric in report.SANITY_GOALS and row.get("met") is not None]
    result = {
        "pack": engine.pack.name,
        "songs": len(chosen),
        "steps": steps,
        "noise": noise,
        "threshold": threshold,
        "seed": seed,
        "scored_at": f"{SCORE_STEPS_PER_BEAT} steps per beat (16ths), exported and read back as MIDI",
        "pack_grid": f"{engine.cfg.steps_per_beat} steps per beat, {engine.cfg.chunk_steps}-step chunks",
        "primer_chunks": {
            "min": int(min(w.primer_chunk for w in chosen)),
            "median": float(np.median([w.primer_chunk for w in chosen])),
            "max": int(max(w.primer_chunk for w in chosen)),
        },
        **table,
        "playing": playing_section(engine, chosen, real, generated, steps, seed, noise, threshold, chords, follow),
        "dynamics": dynamics_figures(engine, chosen, [o for o in ours if o is not None], seed),
        "music_goals_met": int(sum(music)),
        "music_goals": len(music),
        "sane": bool(all(sanity)),
        "goals_met": int(sum(met)),
        "goals": len(met),
        "reconstruction_f1": reconstruction_f1(engine, chosen[:50]) if reconstruction else None,
        "generation_seconds": round(seconds, 2),
        "device": engine.device,
    }
    if random_songs:
        lineup = engine.lineup(None)
        rand_steps = min(8, steps)
        rand = random_starts(engine, random_songs, rand_steps, seed, noise, threshold)
        real_long = np.stack([w.roll[:, : rand.shape[2]] for w in chosen])
        result["random_start"] = {
            "songs": random_songs,
            "steps": rand_steps,
            "lineup": [LANES[i] for i in lineup],
            "lanes": lineup_figures(rand, real_long, [LANES[i] for i in lineup]),
            "playing": playing_table(real_long, rand),
        }
    return result


def dynamics_figures(engine, chosen: list[Window], ours: list[dict], seed: int, form_takes: int = 8) -> dict:
    """Velocity by beat position and full / light sections, real validation songs (their files) beside ours."""
    import tempfile

    from .dynamics_rows import dynamics_section
    from .dynamics_rows import form_takes as with_form

    with tempfile.TemporaryDirectory() as tmp:
        form = with_form(engine, min(form_takes, len(chosen)), seed, Path(tmp))
    return dynamics_section([w.name for w in chosen], ours, form)


def format_table(result: dict) -> str:
    """The result as a plain-text table: one line per lane and metric, then tonal distances, then all lanes."""
    from .playing import format_playing

    head = f"{'lane':<16}{'metric':<19}{'real':>9}{'generated':>11}{'gap':>9}  goal"
    lines = [head, "-" * (len(head) + 20)]
    last = None
    for where, metric, row in report.all_rows(result):
        label = "TD" if metric == "TD" else LABELS[metric]
        goal = ""
        if "goal" in row:
            verdict = {True: "ok", False: "MISS", None: "n/a"}[row["met"]]
            goal = f"{row['goal']:<14}{verdict}"
        shown = where if where != last else ""
        last = where
        lines.append(
            f"{shown:<16}{label:<19}{report.fmt(row['real'], 9)}{report.fmt(row['generated'], 11)}"
            f"{report.fmt(row['gap'], 9, sign=True)}  {goal}".rstrip()
        )
    lines.append(
        f"music goals met (EB, UPC, QN, DP, TD): {result['music_goals_met']} of {result['music_goals']}; "
        f"all goals {result['goals_met']} of {result['goals']}"
    )
    if not result.get("sane", True):
        lines.append("NOT MUSIC: notes per bar or polyphony far from the real songs' (note soup or near silence)")
    if result.get("reconstruction_f1"):
        f1 = result["reconstruction_f1"]
        lines.append("reconstruction F1 at 16ths: " + ", ".join(f"{k} {v:.2f}" for k, v in f1.items()))
    if result.get("playing"):
        lines.append(format_playing(result["playing"]))
    if result.get("dynamics"):
        from .dynamics_rows import format_dynamics

        lines.append(format_dynamics(result["dynamics"]))
    rand = result.get("random_start")
    if rand:
        lines.append(
            f"random starts ({rand['songs']} sketches of {rand['steps'] + 1} chunks, "
            f"lineup {', '.join(rand['lineup'])}):"
        )
        for lane, row in rand["lanes"].items():
            eb = row["empty_bars"]
            lines.append(
                f"  {lane:<8} plays in {row['plays_in_pct']:5.1f}% of sketches; "
                f"empty bars {report.fmt(eb['generated'], 6)}%"
                f" (real {report.fmt(eb['real'], 6)}%)  {'ok' if eb['met'] and row['plays_met'] else 'MISS'}"
            )
        if rand.get("playing"):
            lines.append(format_playing(rand["playing"], "random starts"))
    return "\n".join(lines)


def validation_songs(engine, data: str | Path, cache_dir: str | Path | None = None) -> list:
    """The pack's validation songs under data (its training split and genres), ordered by file hash."""
    from ..training.data import find_files, load_corpus, split_files, validation_percent

    training = engine.pack.card.get("training", {}).get("config", {})
    files = find_files(data, training.get("genres") or None)
    if not files and training.get("genres"):
        files = find_files(data)  # another collection, without the genre folders the pack trained on
    _, held_out = split_files(files, validation_percent(engine.pack.card))  # only validation songs are read
    corpus = load_corpus([Path(p) for p in held_out], SCORE_STEPS_PER_BEAT, cache_dir)
    return sorted(corpus.songs, key=lambda s: s.key)


def _command(args, result: dict) -> str:
    parts = ["musicvae", "evaluate", "--pack", str(args.pack or "resources/models/default"), "--data", str(args.data)]
    parts += ["--songs", str(args.songs), "--steps", str(result["steps"]), "--seed", str(result["seed"])]
    parts += ["--noise", f"{result['noise']:g}", "--threshold", f"{result['threshold']:g}"]
    if getattr(args, "random", 0):
        parts += ["--random", str(args.random)]
    for flag in ("chords", "follow", "harmony_data"):
        if getattr(args, flag, None):
            parts += [f"--{flag.replace('_', '-')}", str(getattr(args, flag))]
    if getattr(args, "harmony_data", None):
        parts += ["--harmony-songs", str(args.harmony_songs)]
    return shlex.join(parts)


def run_evaluate(args) -> int:
    """The `musicvae evaluate` command: print the table, write JSON and the card when asked."""
    from ..engine import Engine
    from ..model.pack import CARD, read_card, write_json_atomic

    if args.songs < 1 or args.steps < 1:
        raise InvalidValue("--songs and --steps must be at least 1")
    t0 = time.perf_counter()
    engine = Engine.load(args.pack, args.device)
    songs = validation_songs(engine, args.data, args.cache_dir)
    result = evaluate_pack(
        engine,
        songs,
        args.steps,
        args.noise,
        args.threshold,
        args.seed,
        args.songs,
        getattr(args, "random", 0),
        chords=getattr(args, "chords", None),
        follow=getattr(args, "follow", None),
    )
    result["data"] = Path(args.data).name
    result["validation_songs"] = len(songs)
    result["command"] = _command(args, result)
    print(
        f"pack '{result['pack']}' on {result['songs']} of {len(songs)} validation songs: a mid-song primer "
        f"+ {result['steps']} chunks, noise {result['noise']:g}, threshold {result['threshold']:g}, "
        f"seed {result['seed']}"
    )
    print(format_table(result))
    from .harmony import format_harmony, harmony_section

    result["harmony"] = harmony_section(
        engine, getattr(args, "harmony_data", None), songs, getattr(args, "harmony_songs", 32), args.seed
    )
    print(format_harmony(result["harmony"]))
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
