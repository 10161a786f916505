"""What the readings of a followed part cost (issue 33: the chord lane's alternatives, sketch/choices.py).

A Generate that follows a part also asks the harmony model for three readings of the new take's part (in the same
job). This times, with the shipped pack and real POP909 songs followed whole (their first 64 bars: melody, bridge
and piano, as a user's MIDI file would be): the followed Generate (readings included), the readings alone
(Engine.harmonize of the take's part, 3 alternatives), and a flip to reading 2 (Engine.set_chords re-voicing the
bars whose chord changes). Medians over the songs; the share of the readings in a Generate is the figure to keep.

    .venv/bin/python benchmarks/bench_readings.py --data /work/shared/data/pop909 --songs 5
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import mido

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's musicvae_app, not an installed one

from musicvae_app.engine import Engine  # noqa: E402
from musicvae_app.model.pack import load_pack  # noqa: E402
from musicvae_app.resources import resources_dir  # noqa: E402
from musicvae_app.sketch.choices import READINGS  # noqa: E402
from musicvae_app.sketch.session import Session  # noqa: E402


def first_bars(src: Path, out: Path, bars: int = 64) -> Path:
    """The song cut to its first `bars` bars of 4/4 (at its own ticks per beat)."""
    mid = mido.MidiFile(str(src))
    end = bars * 4 * mid.ticks_per_beat
    cut = mido.MidiFile(type=mid.type, ticks_per_beat=mid.ticks_per_beat)
    for track in mid.tracks:
        new, tick, last = mido.MidiTrack(), 0, 0
        for msg in track:
            tick += msg.time
            if tick > end and not msg.is_meta:
                continue
            new.append(msg.copy(time=tick - last) if tick <= end else msg.copy(time=0))
            last = min(tick, end) if tick <= end else last
        cut.tracks.append(new)
    cut.save(str(out))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="the POP909 folder (one folder per song: NNN/NNN.mid)")
    ap.add_argument("--songs", type=int, default=5)
    args = ap.parse_args()
    engine = Engine.load(load_pack(resources_dir() / "models" / "default"), device="cpu")
    folders = sorted(p for p in Path(args.data).iterdir() if p.is_dir() and (p / f"{p.name}.mid").exists())
    folders = [p for p in folders if int(p.name) % 5 == 0][: args.songs]  # validation songs
    gen, alone, flip = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        engine.harmonize(first_bars(folders[0] / f"{folders[0].name}.mid", Path(tmp) / "warm.mid", 8))  # loaded once
        for folder in folders:
            part = first_bars(folder / f"{folder.name}.mid", Path(tmp) / f"{folder.name}.mid")
            session = Session(engine)
            assert session.follow_part(part), session.last_error
            start = time.perf_counter()
            assert session.generate()
            gen.append(time.perf_counter() - start)
            take = session.song
            start = time.perf_counter()
            engine.harmonize(session.choices.part_of(take), alternatives=READINGS)
            alone.append(time.perf_counter() - start)
            start = time.perf_counter()
            session.use_alternative(1)
            flip.append(time.perf_counter() - start)
            print(
                f"{folder.name}: {take.n_bars} bars, Generate {gen[-1] * 1000:.0f} ms, "
                f"readings {alone[-1] * 1000:.0f} ms, flip {flip[-1] * 1000:.0f} ms, "
                f"readings offered {len(session.chord_alternatives())}"
            )
    g, a, f = (statistics.median(x) * 1000 for x in (gen, alone, flip))
    print(
        f"median over {len(gen)} songs: followed Generate {g:.0f} ms (readings included), readings {a:.0f} ms "
        f"({a / g:.1%} of the Generate), flip to reading 2 {f:.0f} ms"
    )


if __name__ == "__main__":
    main()
