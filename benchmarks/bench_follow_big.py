"""Following a big part (issue 32): `musicvae generate --follow PART.mid` on an 11 MB, 4,000-bar part.

    .venv/bin/python -m benchmarks.bench_follow_big [--bars 4000] [--code OTHER_CHECKOUT] [--runs 1] [--part KEEP.mid]

The part is made here with mido (nothing downloaded): all five lanes on every 16th at 300 BPM (4,000 bars
are 53 minutes, inside the reader's 60-minute cap, so the whole part is legal; 11 MB), each step with a
mod-wheel, expression, pitch-wheel and aftertouch move, the way a played-in part carries controller data.
Each run is `musicvae generate --follow part.mid --out x.mid --seed 1` in a child process (the checkout's
`musicvae_app` from `--code`, default this one), which reports its wall time, its CPU time (steadier than wall
time on a shared machine), its peak RSS, and how many times the part file was opened (an audit hook counts the
opens of that path).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import mido

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time
part = sys.argv[1]
opens = [0]
def hook(event, args):
    if event == "open" and args and str(args[0]) == part:
        opens[0] += 1
sys.addaudithook(hook)
from musicvae_app.cli import main
t = time.perf_counter()
rc = main(["generate", "--follow", part, "--out", sys.argv[2], "--seed", "1"])
took = time.perf_counter() - t
use = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"rc": rc, "seconds": took, "cpu": use.ru_utime + use.ru_stime, "peak_mb": use.ru_maxrss / 1024,
                  "opens": opens[0]}))
"""


def make_part(path: Path, bars: int, tempo_bpm: float = 300.0) -> Path:
    """A dense five-lane part of `bars` bars (type 1, 480 ticks a beat), written with mido: every lane on every
    16th (piano in six-note voicings, guitar strums, bass, strings, a kick or snare with a hi-hat), each step
    with mod-wheel, expression, pitch-wheel and aftertouch messages. Four bars (Am F C G) are built once and
    repeated."""
    tpb, sixteenth = 480, 120
    mid = mido.MidiFile(type=1, ticks_per_beat=tpb)
    mid.tracks.append(mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(tempo_bpm), time=0)]))
    roots = (45, 41, 48, 43)  # Am F C G
    lanes = (  # channel, program, the notes of a step from the chord's root (None: drums)
        (0, 0, (12, 15, 19, 24, 27, 31)),
        (1, 25, (0, 7, 12)),
        (2, 33, (-12,)),
        (3, 48, (12, 16, 19, 24)),
        (9, 0, None),
    )
    for channel, program, shape in lanes:
        cycle, now = [], 0  # four bars of messages; each carries the ticks since the one before
        for bar in range(4):
            for s in range(16):
                at = (bar * 16 + s) * sixteenth
                pitches = [36 if s % 4 == 0 else 38, 42] if shape is None else [roots[bar] + o for o in shape]
                cycle.append(mido.Message("control_change", channel=channel, control=1, value=s * 8, time=at - now))
                cycle.append(mido.Message("pitchwheel", channel=channel, pitch=s * 64, time=0))
                cycle.append(mido.Message("control_change", channel=channel, control=11, value=127 - s, time=0))
                cycle.append(mido.Message("aftertouch", channel=channel, value=s * 4, time=0))
                cycle += [mido.Message("note_on", channel=channel, note=n, velocity=90, time=0) for n in pitches]
                offs = [mido.Message("note_off", channel=channel, note=n, velocity=0, time=0) for n in pitches]
                offs[0].time = sixteenth - 10  # each note ends just before the next step
                cycle += offs
                now = at + sixteenth - 10
        first = cycle[0].copy(time=0)
        track = mido.MidiTrack([mido.Message("program_change", channel=channel, program=program, time=0), first])
        repeated = cycle[1:] + [cycle[0].copy(time=10)]  # the next cycle's first step, 10 ticks after the last off
        for _ in range(bars // 4):
            track.extend(repeated)
        mid.tracks.append(track)
    mid.save(str(path))
    return path


def run(code: str, part: Path, out: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": code}
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(part), str(out)], env=env, capture_output=True, text=True, cwd=out.parent
    )
    if proc.returncode != 0:
        raise SystemExit(f"the child failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bars", type=int, default=4000)
    p.add_argument("--code", default=str(ROOT), help="the checkout whose musicvae_app runs")
    p.add_argument("--runs", type=int, default=1)
    p.add_argument("--part", default=None, help="keep the made part here (made only if missing), for another run")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        part = Path(args.part) if args.part else Path(tmp) / "part.mid"
        if not part.exists():
            make_part(part, args.bars)
        print(f"part: {args.bars} bars, {part.stat().st_size / 2**20:.1f} MB; code: {args.code}")
        for i in range(args.runs):
            got = run(args.code, part, Path(tmp) / "band.mid")
            print(
                f"run {i + 1}: {got['seconds']:.1f} s wall, {got['cpu']:.1f} s CPU (all threads, the pack's load too), "
                f"peak RSS {got['peak_mb']:.0f} MB, "
                f"part file opened {got['opens']} times"
            )


if __name__ == "__main__":
    main()
