"""Peak memory of `musicvae render` for a long song (issue 22): the WAV is streamed, so it stays flat.

    .venv/bin/python -m benchmarks.bench_render_memory SONG.mid --minutes 59 [--code /path/to/other/checkout]

SONG.mid (a real song, e.g. from /work/shared/data/band-midi) is looped to `--minutes` (merged to one
track, repeated end to end), rendered once by `musicvae render` in a child process, and the child's peak
RSS (resource.getrusage RUSAGE_CHILDREN) is printed with the WAV's size and the time taken. `--code`
renders with another checkout's musicvae_app (the code before a change) for a before/after figure.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import mido

ROOT = Path(__file__).resolve().parents[1]


def looped(song: Path, minutes: float, out: Path) -> Path:
    src = mido.MidiFile(str(song))
    track = mido.merge_tracks(src.tracks)
    body = [m for m in track if not (m.is_meta and m.type == "end_of_track")]
    mid = mido.MidiFile(type=0, ticks_per_beat=src.ticks_per_beat)
    merged = mido.MidiTrack()
    mid.tracks.append(merged)
    copies = max(1, int(minutes * 60 // max(src.length, 1.0)))  # whole copies that fit in `minutes`
    for _ in range(copies):
        merged.extend(m.copy() for m in body)
    mid.save(str(out))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("song")
    p.add_argument("--minutes", type=float, default=59.0)
    p.add_argument("--code", default=str(ROOT), help="the checkout whose musicvae_app renders")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        mid = looped(Path(args.song), args.minutes, Path(tmp) / "long.mid")
        wav = Path(tmp) / "long.wav"
        env = {**os.environ, "PYTHONPATH": args.code}
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "musicvae_app.cli", "render", str(mid), "--out", str(wav)],
            check=True,
            env=env,
            cwd=tmp,
            stdout=subprocess.DEVNULL,
        )
        took = time.perf_counter() - start
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(
            f"{mido.MidiFile(str(mid)).length / 60:.1f} min song, WAV {wav.stat().st_size / 1e6:.0f} MB, "
            f"{took:.1f} s, peak RSS {peak_mb:.0f} MB ({args.code})"
        )


if __name__ == "__main__":
    main()
