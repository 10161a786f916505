"""`musicvae` command: generate, train, evaluate, render. The same Engine the window uses."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
import time
from pathlib import Path

from .errors import InvalidValue, MusicVAEError
from .limits import (
    MAX_STEPS,
    MAX_VARIATIONS,
    check_channels,
    check_int,
    check_noise,
    check_seed,
    check_tempo,
    check_threshold,
)
from .sketch.song import LANES
from .sketch.spec import FIELDS, GenerationSettings
from .theory.feel import check_feel
from .theory.performance import check_quantize


def _add_generate(sub) -> None:
    p = sub.add_parser("generate", help="write a five-lane band sketch to a DAW-ready .mid file")
    p.add_argument("--out", required=True, help="the .mid file to write")
    p.add_argument(
        "--steps",
        type=int,
        default=None,
        help="chunks (4 bars each) after the first (default 8); not with --follow, whose part sets the length",
    )
    for name in ("noise", "threshold"):  # help and range from the one table (sketch/spec.py FIELDS)
        field = FIELDS[name]
        p.add_argument(f"--{name}", type=float, default=None, help=f"{field.help}, {field.kind} (default: the pack's)")
    p.add_argument("--seed", type=int, default=None, help="random seed: same seed + settings + pack = same song")
    p.add_argument("--tempo", type=float, default=None, help="beats per minute (default: the primer's, else 120)")
    start = p.add_mutually_exclusive_group()
    start.add_argument("--primer", default=None, help="a MIDI file whose first 4 bars start the sketch")
    start.add_argument(
        "--follow",
        default=None,
        metavar="PART.mid",
        help="a MIDI part to play along with: every lane it plays is kept note for note for its whole length, "
        "its chords are recognized (unless --chords is given) and the other lanes are generated around it; "
        "the sketch is as long as the part (no --steps) and in its key (no --key)",
    )
    p.add_argument(
        "--quantize",
        default=None,
        metavar="GRID",
        help="the followed part's notes on a grid: off (the default: exactly as played), 16th, 8th, '8th triplet'; "
        "each start moves to the grid, lengths and velocities stay",
    )
    p.add_argument(
        "--chords-over-part",
        action="store_true",
        help="with --follow and --chords: the band plays your chart over the part (default: the part's chords rule)",
    )
    chart = p.add_mutually_exclusive_group()
    chart.add_argument(
        "--chords",
        default=None,
        metavar="CHART",
        help="the chart, e.g. 'Am F C G' (one chord a bar) or '| C Am | F G |' (chords between bar lines share "
        "the bar: two a bar; '| C Am F G |' one a beat; '.' holds a beat, %% repeats the bar, N.C. none, C/E a "
        "slash chord), repeated to the sketch's length; without --key or a primer the sketch is in the chart's key",
    )
    chart.add_argument(
        "--chords-file",
        default=None,
        metavar="PATH",
        help="a text file holding a chord chart (as --chords; a BOM, CRLF and tabs are fine)",
    )
    p.add_argument(
        "--lanes",
        default=None,
        help="the lineup: lanes that play, e.g. piano,bass,drums (default: all five); the rest stay silent",
    )
    p.add_argument(
        "--key", default=None, help="key of the sketch, e.g. 'E minor' (default: the primer's, else C major/A minor)"
    )
    p.add_argument("--scale-lock", action="store_true", help="keep every pitched note in the key's scale")
    p.add_argument(
        "--style",
        default=None,
        help="a style the pack learnt from its training songs, e.g. rock, shuffle, funk (`musicvae styles` lists "
        "them; default Auto: none)",
    )
    p.add_argument(
        "--form",
        default=None,
        help="the song form, e.g. 'intro 4 verse 8 chorus 8 @5 outro 4' (bars each; '@N' an energy 1-5, default "
        "by name: intro 2, verse 3, chorus 4, outro 2): repeated sections come back varied, a chorus lifts, an "
        "outro ends",
    )
    p.add_argument("--density", default=None, help="per-lane density, e.g. bass=1.3,strings=0.7 (1: as generated)")
    p.add_argument("--swing", default=None, help="swing, 50-75 percent (50: straight, the default), e.g. 60")
    p.add_argument("--swing-grid", default=None, help="what swings: 8th (the default) or 16th")
    p.add_argument("--humanize", default=None, help="timing spread in milliseconds, 0-30 (default 0: on the grid)")
    p.add_argument("--humanize-velocity", default=None, help="velocity spread, 0-30 (default 0)")
    p.add_argument("--variations", type=int, default=1, help="takes to make; files get -1, -2, ... suffixes")
    p.add_argument("--stems", action="store_true", help="also write one .mid per lane beside --out")
    _add_pack_device(p)


def _add_pack_device(p) -> None:
    p.add_argument("--pack", default=None, help="model pack folder (default: the shipped default pack)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))


def _add_infill(sub) -> None:
    p = sub.add_parser("infill", help="regenerate a bar range of some lanes of a .mid; everything else stays")
    p.add_argument("midi", help="the sketch (.mid) to change")
    p.add_argument(
        "--bars", required=True, help="bar range, 1-based and inclusive, e.g. 9-16 (snapped to 4-bar chunks)"
    )
    p.add_argument("--lanes", default=None, help="lanes to regenerate, e.g. guitar,bass (default: every lane)")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--variations", type=int, default=1, help="takes to write (-1, -2, ... suffixes)")
    p.add_argument("--out", required=True, help="the .mid file to write")
    _add_pack_device(p)


def _add_morph(sub) -> None:
    p = sub.add_parser("morph", help="a passage that moves from one sketch's opening chunk to another's")
    p.add_argument("--from", dest="source", required=True, help="the .mid to start from")
    p.add_argument("--to", dest="target", required=True, help="the .mid to arrive at")
    p.add_argument("--steps", type=int, default=8, help="chunks (4 bars each) in the passage, at least 2")
    p.add_argument("--out", required=True, help="the .mid file to write")
    _add_pack_device(p)


def _add_calibrate(sub) -> None:
    p = sub.add_parser("calibrate", help="set a trained pack's generation defaults by measurement on training songs")
    p.add_argument("--pack", required=True, help="the pack folder to calibrate (its card.json is rewritten)")
    p.add_argument("--data", required=True, help="the folder the pack was trained on (training songs are used)")
    p.add_argument("--songs", type=int, default=100, help="training songs to measure on")
    p.add_argument("--steps", type=int, default=23, help="chunks generated after each primer")
    p.add_argument("--cache-dir", default=None)
    p.add_argument(
        "--start-only",
        action="store_true",
        help="refit only the start offsets (sketches with no primer) against --songs training songs' empty bars",
    )
    when = p.add_mutually_exclusive_group()
    when.add_argument(
        "--harmony-after",
        dest="harmony_after",
        action="store_true",
        default=None,
        help="harmonise each take once, after the loop (faster; the shipped pack's way)",
    )
    when.add_argument(
        "--harmony-in-loop", dest="harmony_after", action="store_false", help="harmonise chunk by chunk in the loop"
    )


def _channels(text: str) -> tuple[int, ...]:
    try:
        return check_channels(text.split(","))
    except InvalidValue as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


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
        "pitches",
        "bank",
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
    p.add_argument(
        "--lr", type=float, default=None, help="Adam learning rate (default 1e-3; with --resume, the checkpoint's)"
    )
    for name in ("lr_decay", "kl_weight"):
        p.add_argument("--" + name.replace("_", "-"), type=float, default=getattr(defaults, name))
    p.add_argument("--recon", choices=("bce", "mse"), default=defaults.recon)
    p.add_argument(
        "--channels",
        type=_channels,
        default=defaults.channels,
        help="the VAEs' three conv widths, e.g. 32,64,256 (default: the thesis's 64,128,256)",
    )
    p.add_argument("--lead", choices=LANES, default=defaults.lead, help="the lane the others follow")
    p.add_argument(
        "--no-key-normalise", dest="key_normalise", action="store_false", help="train on songs in their own keys"
    )
    p.add_argument(
        "--chords", action="store_true", help="the chord-conditioned family: decoders and a band predictor read chords"
    )
    p.add_argument("--init-from", default=None, help="a pack to start from (tensors of the same name and shape)")
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
    p.add_argument("--random", type=int, default=30, help="random-start sketches for the lineup figures (0: none)")
    p.add_argument("--json", default=None, help="also write the table as JSON here")
    p.add_argument("--update-card", action="store_true", help="store the table in the pack's card.json")
    p.add_argument("--cache-dir", default=None)
    p.add_argument(
        "--harmony-data",
        default=None,
        help="POP909 folder: also measure the harmony model and a band over a followed part",
    )
    p.add_argument("--harmony-songs", type=int, default=32, help="songs (and windows) for the followed-part rows")
    from .evaluation.playing import add_playing_options

    add_playing_options(p)
    _add_pack_device(p)


def _add_render(sub) -> None:
    p = sub.add_parser("render", help="render a .mid sketch to a WAV file through FluidSynth")
    p.add_argument("midi", help="the .mid file to render")
    p.add_argument("--out", required=True, help="the .wav file to write")
    p.add_argument("--soundfont", default=None, help="a General MIDI .sf2/.sf3 (default: the system's)")
    p.add_argument("--stems", action="store_true", help="also write one WAV per track beside --out (X-piano.wav ...)")


def _add_leadsheet(sub) -> None:
    p = sub.add_parser("leadsheet", help="a lead sheet (MusicXML: tune, chord symbols, key, tempo, sections)")
    p.add_argument("sketch", help="the sketch's .mid (an export of the app)")
    p.add_argument("--out", required=True, help="the .musicxml file to write")
    p.add_argument("--lane", default=None, help="the lane that carries the tune (default: your part)")


def _add_harmonize(sub) -> None:
    p = sub.add_parser("harmonize", help="chord charts for a part (a melody, riff, bass line or comp), best first")
    p.add_argument("part", help="the .mid file of the part")
    p.add_argument("--alternatives", type=int, default=3, help="how many charts to print (1-20)")
    _add_pack_device(p)


def _add_play(sub) -> None:
    p = sub.add_parser("play", help="play a sketch to a MIDI port, in time with your DAW (clock, Link)")
    p.add_argument("sketch", help="the .mid sketch to play")
    p.add_argument("--port", required=True, help="the MIDI output (its name, or a unique part of it)")
    p.add_argument("--clock-out", action="store_true", help="send MIDI clock, Start/Stop/Continue, Song Position")
    p.add_argument("--sync", default="internal", choices=("internal", "midi-clock", "link"), help="whose beat")
    p.add_argument("--clock-in", default=None, help="the MIDI input whose clock --sync midi-clock follows")
    p.add_argument("--loop", action="store_true", help="play the sketch again and again (Ctrl+C stops)")


def _add_live(sub) -> None:
    p = sub.add_parser("live", help="a band that follows the chords (or tune) you play on a MIDI keyboard")
    p.add_argument("--in", dest="in_port", required=True, help="the MIDI input of your keyboard")
    p.add_argument("--out", dest="out_port", required=True, help="the MIDI output the band plays to")
    p.add_argument("--follow", default="chords", choices=("chords", "melody"), help="what the band follows")
    p.add_argument("--style", default=None, help="the band's style (see `musicvae styles`)")
    p.add_argument("--change", default="bar", choices=("beat", "bar"), help="the band changes chord at the next")
    p.add_argument("--tempo", type=float, default=120.0, help="beats per minute (20-400)")
    p.add_argument("--take", default=None, help="write what you and the band played to this .mid when you stop")
    _add_pack_device(p)


def _add_styles(sub) -> None:
    p = sub.add_parser("styles", help="list the styles of a pack (--style NAME of generate), with a line on each")
    _add_pack_device(p)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="musicvae", description="musicvae-app: band sketches from small neural nets")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_generate(sub)
    _add_train(sub)
    _add_evaluate(sub)
    _add_infill(sub)
    _add_morph(sub)
    _add_calibrate(sub)
    _add_render(sub)
    _add_harmonize(sub)
    _add_play(sub)
    _add_live(sub)
    _add_leadsheet(sub)
    _add_styles(sub)
    return parser


def check_generate_args(args) -> None:
    """Every flag checked before any work: bounds from musicvae_app.limits, and the output folder exists."""
    args.tempo = None if args.tempo is None else check_tempo(args.tempo)  # None: the primer's tempo, else 120
    args.seed = None if args.seed is None else check_seed(args.seed)
    args.noise = None if args.noise is None else check_noise(args.noise)
    args.threshold = None if args.threshold is None else check_threshold(args.threshold)
    if args.follow is not None:  # the part is the sketch's length and key
        for flag, value in (("--steps", args.steps), ("--key", args.key)):
            if value is not None:
                what = "length" if flag == "--steps" else "key"
                raise InvalidValue(f"{flag} cannot be used with --follow: the followed part sets the sketch's {what}")
        if not Path(args.follow).is_file():
            raise InvalidValue(f"--follow '{args.follow}' does not exist or is not a file")
    if args.quantize is not None:
        if args.follow is None:
            raise InvalidValue("--quantize moves the notes of a part you follow: give --follow PART.mid too")
        args.quantize = check_quantize(args.quantize)
    args.steps = check_int("steps", 8 if args.steps is None else args.steps, 0, MAX_STEPS)
    args.variations = check_int("variations", args.variations, 1, MAX_VARIATIONS)
    flags = {"swing": "--swing", "swing_grid": "--swing-grid", "humanize_ms": "--humanize"}
    try:
        args.feel = check_feel(args.swing, args.swing_grid, args.humanize, args.humanize_velocity)
    except InvalidValue as exc:
        flag = next((f for name, f in flags.items() if str(exc).startswith(name + " ")), "--humanize-velocity")
        raise InvalidValue(f"{flag}: {exc}") from None
    out = Path(args.out)
    if not out.parent.is_dir():
        raise InvalidValue(f"folder '{out.parent}' does not exist: create it or choose another --out")
    if out.is_dir():
        raise InvalidValue(f"--out '{out}' is a folder: give a .mid file name")
    if args.primer is not None and not Path(args.primer).is_file():
        raise InvalidValue(f"--primer '{args.primer}' does not exist or is not a file")
    args.chart = read_chart_flag(args.chords, args.chords_file)


def read_chart_flag(chords: str | None, chords_file: str | None) -> str | None:
    """The chart text of --chords or --chords-file, checked (ChordError names a bad symbol and its bar).

    The file is read through userfiles: a regular file only (a pipe or /dev/zero is refused at once), at most
    MAX_CHART_CHARS bytes (the longest chart the app takes: a chord or four a bar for the longest sketch)."""
    from .theory.chords import MAX_CHART_CHARS, parse_bars
    from .userfiles import read_user_file

    if chords_file is not None:
        hint = "give a text file with a chord chart"
        data = read_user_file(chords_file, MAX_CHART_CHARS, "--chords-file", InvalidValue, hint)
        try:
            chords = data.decode("utf-8-sig")  # a byte-order mark is not part of the chart
        except UnicodeDecodeError:
            raise InvalidValue(f"--chords-file '{chords_file}' cannot be read (it is not UTF-8 text): {hint}") from None
    if chords is None:
        return None
    parse_bars(chords)  # the one chart syntax of the window, the CLI and generate(chords=...)
    return chords


def generate_settings(args, engine) -> GenerationSettings:
    """The flags over the pack's defaults as one GenerationSettings, validated once (steps x variations by memory)."""
    flags = dict(
        noise=args.noise,
        threshold=args.threshold,
        steps=args.steps,
        variations=args.variations,
        lineup=args.lanes,
        key=args.key,
    )
    settings = GenerationSettings.from_card(engine.pack.card).replace(
        **{name: value for name, value in flags.items() if value is not None}
    )
    return settings.validated(engine.pack.config.chunk_steps)


def cmd_generate(args) -> int:
    from .atomic import atomic_write
    from .engine import Engine
    from .sketch.midi import read_notes, song_to_midifile
    from .theory.chords import chart_cut

    check_generate_args(args)
    read: dict[str, object] = {}  # each file is read once: its notes go on to the engine
    for what, given in (("primer", args.primer), ("part", args.follow)):
        if given is not None:  # a bad file is said before the pack loads; what the reader changed is said too
            read[what] = notes = read_notes(given)
            for warning in notes.warnings:
                print(f"musicvae generate: note: {what} '{Path(given).name}': {warning}", file=sys.stderr)
    t0 = time.perf_counter()
    out = Path(args.out)
    engine = Engine.load(args.pack, args.device)
    settings = generate_settings(args, engine)
    call = settings.engine_args()
    call["tempo"] = args.tempo  # None: the primer's tempo, else 120
    call["scale_lock"] = True if args.scale_lock else None  # off the flag: the pack's default
    t1 = time.perf_counter()
    form = None
    if args.form is not None:
        from .theory.sections import parse_form

        form = parse_form(args.form)
    songs = engine.generate_takes(
        seed=args.seed,
        primer=read.get("primer"),
        follow=read.pop("part", None),
        chords=args.chart,
        style=args.style,
        sections=form,
        chords_over_part=args.chords_over_part,
        **call,
    )
    read.clear()  # the part's notes are in the takes now
    if args.follow and args.chart and not args.chords_over_part:
        print(
            "musicvae generate: note: the part's own chords rule over --chords; add --chords-over-part to play "
            "your chart over it",
            file=sys.stderr,
        )
    ms = (time.perf_counter() - t1) * 1000
    cut = chart_cut(args.chart, songs[0].n_bars) if args.chart is not None and songs else None
    if cut:
        print(f"musicvae generate: note: {cut}", file=sys.stderr)
    if args.density:
        songs = [song.with_density(args.density) for song in songs]
    if args.feel:
        songs = [song.with_feel(**args.feel) for song in songs]
    if args.quantize:
        songs = [song.with_quantize(args.quantize) for song in songs]
    for i, song in enumerate(songs):
        path = out if len(songs) == 1 else out.with_name(f"{out.stem}-{i + 1}{out.suffix}")
        atomic_write(path, lambda f, song=song: song_to_midifile(song).save(file=f))  # the user's file mode
        if args.stems:
            write_stem_set(song, path.parent, path.stem)
        counts = song.note_counts()
        whose = " (from your part)" if args.follow is not None else ""
        style = f", style {song.settings['style']}" if song.settings.get("style") else ""
        print(
            f"{path}: {song.n_bars} bars, {song.seconds:.0f} s at {song.tempo:g} BPM, seed {song.settings['seed']}, "
            f"key {song.settings.get('key') or '?'}{whose}{style}, lineup {song.settings.get('lineup')}"
        )
        print("  notes: " + ", ".join(f"{lane} {counts[lane]}" for lane in LANES))
        if song.settings.get("part_lanes"):
            print(f"  following '{Path(args.follow).name}': {song.settings['part_lanes']} kept as played")
        if song.chords:
            shown = " | ".join("N.C." if c is None else c for c in song.chords[:8])
            more = f" ... ({song.n_bars} bars)" if song.n_bars > 8 else ""
            label = {"part": "chords heard in the part", "bank": "chords of the start"}.get(song.settings.get("chords"))
            print(f"  {label or 'chords'}: | {shown} |{more}")
        if not song.feel.off:
            feel = song.feel
            print(
                f"  feel: swing {feel.swing:g}% on {feel.swing_grid}s, humanize {feel.humanize_ms:g} ms, "
                f"velocity spread {feel.humanize_velocity:g}"
            )
    print(
        f"device {engine.device_name}, pack '{engine.pack.name}', generated in {ms:.1f} ms "
        f"(load {1000 * (t1 - t0):.0f} ms)"
    )
    return 0


def write_stem_set(song, folder: Path, stem: str) -> list[Path]:
    """One .mid per non-empty lane (folder/stem-piano.mid ...), written as a set: all of them or, on failure, none."""
    from .atomic import atomic_write_set
    from .sketch.midi import lane_notes, song_to_midifile

    items = [
        (folder / f"{stem}-{LANES[lane]}.mid", lambda f, lane=lane: song_to_midifile(song, [lane]).save(file=f))
        for lane in range(len(LANES))
        if lane_notes(song, lane)
    ]
    return atomic_write_set(items)


def cmd_train(args) -> int:
    from .training.train import TrainConfig, check_config, train

    fields = {k: v for k, v in vars(args).items() if k in TrainConfig.__dataclass_fields__}
    cfg = check_config(TrainConfig(**fields, progress=not args.no_progress))  # every flag, before any work
    train(cfg)
    return 0


def cmd_evaluate(args) -> int:
    from .evaluation.evaluate import run_evaluate

    check_seed(args.seed)
    check_int("songs", args.songs, 1, 100_000)
    check_int("steps", args.steps, 1, MAX_STEPS)
    check_int("harmony-songs", args.harmony_songs, 1, 100_000)
    args.noise = None if args.noise is None else check_noise(args.noise)
    args.threshold = None if args.threshold is None else check_threshold(args.threshold)

    return run_evaluate(args)


def cmd_render(args) -> int:
    from .playback.stems import render_midi_stems
    from .playback.synth import render_midi_file
    from .sketch.midi import MidiImportError, read_notes

    if Path(args.out).resolve() == Path(args.midi).resolve():
        raise InvalidValue(f"--out '{args.out}' is the MIDI file being rendered: give the WAV another name")
    notes = read_notes(args.midi)  # a clear MidiImportError before FluidSynth sees a bad file
    if notes.warnings:  # an hours-long or absurd-tempo file would render hours of audio: refuse it
        raise MidiImportError(f"'{Path(args.midi).name}' cannot be rendered: " + "; ".join(notes.warnings))
    with _terminate_as_interrupt():  # a terminated render removes its temp; the old WAV at --out stays
        path = render_midi_file(args.midi, args.out, args.soundfont)
        stems = render_midi_stems(args.midi, args.out, args.soundfont) if args.stems else []
    print(f"wrote {path}")
    for stem in stems:
        print(f"wrote {stem}")
    return 0


def cmd_leadsheet(args) -> int:
    from .sketch.leadsheet import lead_sheet_of_midi, write_lead_sheet

    sheet = lead_sheet_of_midi(args.sketch, args.lane)
    path = write_lead_sheet(sheet, args.out)
    chords = sum(c is not None for c in sheet.chords)
    print(f"wrote {path}: {sheet.n_bars} bars, the tune from {sheet.tune_name}, {chords} bars with a chord")
    return 0


def cmd_play(args) -> int:
    from .playback.headless import play

    with _terminate_as_interrupt():  # Ctrl+C or kill: Stop to the DAW, every note released
        return play(args.sketch, args.port, args.clock_out, args.sync, args.clock_in, args.loop)


def cmd_live(args) -> int:
    from .playback.live import run

    with _terminate_as_interrupt():  # Ctrl+C or kill: the band stops cleanly and the take is written
        return run(args.in_port, args.out_port, args.follow, args.style, args.change, args.tempo, args.take, args.pack)


@contextlib.contextmanager
def _terminate_as_interrupt():
    """SIGTERM (kill, a closing terminal's session manager) unwinds like Ctrl+C, so cleanups run."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if old is None else old)


def _out_folder(out: Path) -> Path:
    if not out.parent.is_dir():
        raise InvalidValue(f"folder '{out.parent}' does not exist: create it or choose another --out")
    return out


def cmd_infill(args) -> int:
    from .engine import Engine
    from .sketch.midi import write_midi

    out = _out_folder(Path(args.out))
    try:
        start, end = (int(x) for x in str(args.bars).split("-"))
    except ValueError:
        raise InvalidValue(f"--bars {args.bars!r} is not a range like 9-16") from None
    engine = Engine.load(args.pack, args.device)
    song = engine.song_from_midi(args.midi)
    takes = engine.infill(song, start, end, args.lanes, seed=args.seed, variations=args.variations)
    takes = takes if isinstance(takes, list) else [takes]
    for i, take in enumerate(takes):
        path = out if len(takes) == 1 else out.with_name(f"{out.stem}-{i + 1}{out.suffix}")
        write_midi(take, path)
        print(f"{path}: {take.settings['infill']} of {args.lanes or 'every lane'} new, the rest as in {args.midi}")
    return 0


def cmd_morph(args) -> int:
    from .engine import Engine
    from .sketch.midi import write_midi

    out = _out_folder(Path(args.out))
    engine = Engine.load(args.pack, args.device)
    song = engine.morph(engine.song_from_midi(args.source), engine.song_from_midi(args.target), args.steps)
    write_midi(song, out)
    print(f"{out}: {song.n_bars} bars from '{args.source}' to '{args.target}'")
    return 0


def cmd_harmonize(args) -> int:
    from .engine import Engine

    alternatives = check_int("--alternatives", args.alternatives, 1, 20)
    if not Path(args.part).is_file():
        raise InvalidValue(f"part '{args.part}' is not a file: give the .mid file of a melody, riff or part")
    engine = Engine.load(args.pack, args.device)
    harmony = engine.harmony(args.part, alternatives)
    print(f"key: {harmony.key}")
    for i, chart in enumerate(harmony.charts):
        print(f"{i + 1}. {chart}")
    return 0


def cmd_calibrate(args) -> int:
    from .evaluation.calibrate import run_calibrate

    return run_calibrate(args)


def cmd_styles(args) -> int:
    from .engine import Engine

    engine = Engine.load(args.pack, args.device)
    styles = engine.styles()
    width = max(len(name) for name, _ in styles)
    for name, text in styles:
        print(f"{name:{width}s}  {text}")
    return 0


COMMANDS = {
    "generate": cmd_generate,
    "train": cmd_train,
    "evaluate": cmd_evaluate,
    "calibrate": cmd_calibrate,
    "infill": cmd_infill,
    "morph": cmd_morph,
    "render": cmd_render,
    "harmonize": cmd_harmonize,
    "play": cmd_play,
    "live": cmd_live,
    "leadsheet": cmd_leadsheet,
    "styles": cmd_styles,
}


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
        packs = sys.modules.get("musicvae_app.model.pack")  # loaded whenever a PackError can have been raised
        if packs is not None and isinstance(exc, packs.PackError) and "does not exist" in str(exc):
            hint = " (the default pack ships in resources/models/default; `musicvae train` makes your own)"
        print(f"musicvae {args.command}: error: {exc}{hint}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"musicvae {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
