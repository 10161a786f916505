"""`musicvae` command: generate, train, evaluate, render. The same Engine the window uses."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .errors import InvalidValue, MusicVAEError
from .limits import (
    MAX_STEPS,
    MAX_VARIATIONS,
    check_chunk_steps,
    check_int,
    check_latent,
    check_noise,
    check_seed,
    check_steps_per_beat,
    check_steps_variations,
    check_tempo,
    check_threshold,
)
from .song import LANES


def _add_generate(sub) -> None:
    p = sub.add_parser("generate", help="write a five-lane band sketch to a DAW-ready .mid file")
    p.add_argument("--out", required=True, help="the .mid file to write")
    p.add_argument("--steps", type=int, default=8, help="chunks (4 bars each) after the first (default 8)")
    p.add_argument("--noise", type=float, default=None, help="latent noise, 0-3 (default: the pack's)")
    p.add_argument("--threshold", type=float, default=None, help="note threshold, 0.05-0.95 (default: the pack's)")
    p.add_argument("--seed", type=int, default=None, help="random seed: same seed + settings + pack = same song")
    p.add_argument("--tempo", type=float, default=120.0, help="beats per minute (default 120)")
    p.add_argument("--primer", default=None, help="a MIDI file whose first 4 bars start the sketch")
    p.add_argument("--variations", type=int, default=1, help="takes to make; files get -1, -2, ... suffixes")
    p.add_argument("--stems", action="store_true", help="also write one .mid per lane beside --out")
    _add_pack_device(p)


def _add_pack_device(p) -> None:
    p.add_argument("--pack", default=None, help="model pack folder (default: the shipped default pack)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))


def _add_train(sub) -> None:
    from .training.train import TrainConfig

    p = sub.add_parser("train", help="train a model pack on a folder of MIDI (or LPD-5 .npz) files")
    p.add_argument("--data", required=True, help="folder of .mid/.midi/.npz files; sub-folders are genres")
    p.add_argument("--out", required=True, help="pack folder to write (checkpoints go there too)")
    p.add_argument("--genres", nargs="*", default=[], help="keep only these sub-folders, e.g. rock")
    defaults = TrainConfig(data="", out="")
    for name in (
        "steps_per_beat",
        "chunk_steps",
        "latent",
        "vae_epochs",
        "pred_epochs",
        "songs_per_epoch",
        "batch",
        "seed",
        "validation_percent",
        "max_val_chunks",
        "workers",
    ):
        p.add_argument("--" + name.replace("_", "-"), type=int, default=getattr(defaults, name))
    for name in ("lr", "lr_decay", "kl_weight"):
        p.add_argument("--" + name.replace("_", "-"), type=float, default=getattr(defaults, name))
    p.add_argument("--recon", choices=("bce", "mse"), default=defaults.recon)
    p.add_argument("--cache-dir", default=None, help="where parsed songs are cached")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--resume", action="store_true", help="continue from <out>/checkpoint.pt")
    p.add_argument("--no-progress", action="store_true", help="no progress bars (for logs)")


def _add_evaluate(sub) -> None:
    p = sub.add_parser("evaluate", help="measure how close a pack's continuations are to real music")
    p.add_argument("--data", required=True, help="folder of MIDI files (validation songs are used)")
    p.add_argument("--songs", type=int, default=100, help="validation songs to take primers from")
    p.add_argument("--steps", type=int, default=23, help="chunks generated after each primer")
    p.add_argument("--noise", type=float, default=None)
    p.add_argument("--threshold", type=float, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", default=None, help="also write the table as JSON here")
    p.add_argument("--update-card", action="store_true", help="store the table in the pack's card.json")
    p.add_argument("--cache-dir", default=None)
    _add_pack_device(p)


def _add_render(sub) -> None:
    p = sub.add_parser("render", help="render a .mid sketch to a WAV file through FluidSynth")
    p.add_argument("midi", help="the .mid file to render")
    p.add_argument("--out", required=True, help="the .wav file to write")
    p.add_argument("--soundfont", default=None, help="a General MIDI .sf2/.sf3 (default: the system's)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="musicvae", description="musicvae-app: band sketches from small neural nets")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_generate(sub)
    _add_train(sub)
    _add_evaluate(sub)
    _add_render(sub)
    return parser


def check_generate_args(args) -> None:
    """Every flag checked before any work: bounds from musicvae_app.limits, and the output folder exists."""
    args.tempo = check_tempo(args.tempo)
    args.seed = None if args.seed is None else check_seed(args.seed)
    args.noise = None if args.noise is None else check_noise(args.noise)
    args.threshold = None if args.threshold is None else check_threshold(args.threshold)
    args.steps = check_int("steps", args.steps, 0, MAX_STEPS)
    args.variations = check_int("variations", args.variations, 1, MAX_VARIATIONS)
    out = Path(args.out)
    if not out.parent.is_dir():
        raise InvalidValue(f"folder '{out.parent}' does not exist: create it or choose another --out")
    if out.is_dir():
        raise InvalidValue(f"--out '{out}' is a folder: give a .mid file name")
    if args.primer is not None and not Path(args.primer).is_file():
        raise InvalidValue(f"--primer '{args.primer}' does not exist or is not a file")


def cmd_generate(args) -> int:
    from .atomic import atomic_write
    from .engine import Engine
    from .midi import read_notes, song_to_midifile

    check_generate_args(args)
    if args.primer is not None:  # a bad primer is said before the pack loads; what the reader changed is said too
        for warning in read_notes(args.primer).warnings:
            print(f"musicvae generate: note: primer '{Path(args.primer).name}': {warning}", file=sys.stderr)
    t0 = time.perf_counter()
    engine = Engine.load(args.pack, args.device)
    check_steps_variations(args.steps, args.variations, engine.pack.config.chunk_steps)
    gen = engine.pack.card.get("generation", {})
    noise = gen.get("noise", 1.0) if args.noise is None else args.noise
    threshold = gen.get("threshold", 0.3) if args.threshold is None else args.threshold
    t1 = time.perf_counter()
    songs = engine.generate(
        steps=args.steps,
        noise=noise,
        threshold=threshold,
        seed=args.seed,
        primer=args.primer,
        variations=args.variations,
        tempo=args.tempo,
    )
    ms = (time.perf_counter() - t1) * 1000
    songs = songs if isinstance(songs, list) else [songs]
    out = Path(args.out)
    for i, song in enumerate(songs):
        path = out if len(songs) == 1 else out.with_name(f"{out.stem}-{i + 1}{out.suffix}")
        atomic_write(path, lambda f, song=song: song_to_midifile(song).save(file=f))  # the user's file mode
        if args.stems:
            write_stem_set(song, path.parent, path.stem)
        counts = song.note_counts()
        print(f"{path}: {song.n_bars} bars, {song.seconds:.0f} s at {song.tempo:g} BPM, seed {song.settings['seed']}")
        print("  notes: " + ", ".join(f"{lane} {counts[lane]}" for lane in LANES))
    print(
        f"device {engine.device_name}, pack '{engine.pack.name}', generated in {ms:.1f} ms "
        f"(load {1000 * (t1 - t0):.0f} ms)"
    )
    return 0


def write_stem_set(song, folder: Path, stem: str) -> list[Path]:
    """One .mid per non-empty lane (folder/stem-piano.mid ...), written as a set: all of them or, on failure, none."""
    from .atomic import atomic_write_set
    from .midi import lane_notes, song_to_midifile

    items = [
        (folder / f"{stem}-{LANES[lane]}.mid", lambda f, lane=lane: song_to_midifile(song, [lane]).save(file=f))
        for lane in range(len(LANES))
        if lane_notes(song, lane)
    ]
    return atomic_write_set(items)


def cmd_train(args) -> int:
    from .training.train import TrainConfig, train

    check_steps_per_beat(args.steps_per_beat)
    check_chunk_steps(args.chunk_steps)
    check_latent(args.latent)
    check_seed(args.seed)

    fields = {k: v for k, v in vars(args).items() if k in TrainConfig.__dataclass_fields__}
    cfg = TrainConfig(**fields, progress=not args.no_progress)
    train(cfg)
    return 0


def cmd_evaluate(args) -> int:
    from .evaluate import run_evaluate

    check_seed(args.seed)
    check_int("songs", args.songs, 1, 100_000)
    check_int("steps", args.steps, 1, MAX_STEPS)
    args.noise = None if args.noise is None else check_noise(args.noise)
    args.threshold = None if args.threshold is None else check_threshold(args.threshold)

    return run_evaluate(args)


def cmd_render(args) -> int:
    from .midi import MidiImportError, read_notes
    from .playback.synth import render_midi_file

    notes = read_notes(args.midi)  # a clear MidiImportError before FluidSynth sees a bad file
    if notes.warnings:  # an hours-long or absurd-tempo file would render hours of audio: refuse it
        raise MidiImportError(f"'{Path(args.midi).name}' cannot be rendered: " + "; ".join(notes.warnings))
    path = render_midi_file(args.midi, args.out, args.soundfont)
    print(f"wrote {path}")
    return 0


COMMANDS = {"generate": cmd_generate, "train": cmd_train, "evaluate": cmd_evaluate, "render": cmd_render}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (MusicVAEError, ValueError, OSError, MemoryError) as exc:
        if isinstance(exc, MemoryError):
            exc = MusicVAEError("not enough memory for this: choose fewer steps or variations")
        elif isinstance(exc, OSError) and exc.filename is not None:
            exc = MusicVAEError(f"{exc.strerror or exc}: '{exc.filename}'")
        hint = ""
        if type(exc).__name__ == "PackError" and "does not exist" in str(exc):
            hint = " (the default pack ships in resources/models/default; `musicvae train` makes your own)"
        print(f"musicvae {args.command}: error: {exc}{hint}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"musicvae {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
