"""Your part as you played it (issue 33): how much of a real part comes back from the app unchanged?

Each real song's pitched lanes (band-midi: piano, guitar, bass, strings) are followed as a part, one lane at a
time (written as a one-track .mid at 480 ticks a beat, the song's velocities and times), and the lane the app
would export is compared note by note with what went in: before, the grid notes of the roll (`lane_notes`: a
grid, velocities from the roll); after, `lane_ticks` (the notes as played). Compared as a DAW reads a file:
note-ons (pitch, tick, velocity) and note-offs (pitch, tick) as multisets (where one pitch overlaps itself,
which note-off ends which note-on is a reader's choice, so notes are not paired), and how many notes come back
(re-struck notes merged on the grid: the issue's "184 of 756").

    .venv/bin/python benchmarks/played_parts.py --data ../shared/data/band-midi --songs 30
"""

from __future__ import annotations

import argparse
import random
import tempfile
from collections import Counter
from pathlib import Path

import mido

from musicvae_app.engine import Engine
from musicvae_app.sketch.midi import lane_notes, lane_ticks, read_notes
from musicvae_app.sketch.midi.format import LANE_CHANNELS
from musicvae_app.sketch.song import LANES

PITCHED = (0, 1, 2, 3)


def one_lane_file(notes, lane: int, path: Path) -> list[tuple[int, int, int, int]] | None:
    """The song's notes on `lane` as a one-track file at 480 ticks a beat; the notes written, or None."""
    keep = notes.lane == lane
    if keep.sum() < 8:
        return None
    rows = sorted(
        (int(p), round(s * 480), max(round(e * 480), round(s * 480) + 1), int(v))
        for p, s, e, v in zip(notes.pitch[keep], notes.start[keep], notes.end[keep], notes.velocity[keep])
    )
    if rows[-1][1] > 480 * 4 * 200:  # a sketch holds a part this long easily; keep the run short
        rows = [r for r in rows if r[1] < 480 * 4 * 200]
    ch = LANE_CHANNELS[lane]
    program = {0: 0, 1: 25, 2: 33, 3: 48}[lane]
    events = [(0, 0, mido.Message("program_change", channel=ch, program=program))]
    for p, s, e, v in rows:
        events += [(s, 2, mido.Message("note_on", channel=ch, note=p, velocity=v))]
        events += [(e, 1, mido.Message("note_off", channel=ch, note=p, velocity=0))]
    track, last = mido.MidiTrack(), 0
    for tick, _, msg in sorted(events, key=lambda x: (x[0], x[1])):
        track.append(msg.copy(time=tick - last))
        last = tick
    mid = mido.MidiFile(type=1, ticks_per_beat=480)
    mid.tracks.append(track)
    mid.save(str(path))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="../shared/data/band-midi")
    parser.add_argument("--songs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    files = sorted(Path(args.data).rglob("*.mid"))
    random.Random(args.seed).shuffle(files)
    engine = Engine.load(device="cpu")
    per = 480 // engine.cfg.steps_per_beat
    total = Counter()
    parts = 0
    with tempfile.TemporaryDirectory() as tmp:
        for path in files:
            if parts >= args.songs:
                break
            try:
                notes = read_notes(path)
            except Exception:  # noqa: BLE001 - a damaged file in the collection: skip it
                continue
            for lane in PITCHED:
                part_path = Path(tmp) / f"{path.stem}-{LANES[lane]}.mid"
                rows = one_lane_file(notes, lane, part_path)
                if rows is None:
                    continue
                try:
                    part = engine.read_part(part_path)
                except Exception:  # noqa: BLE001 - too long for a sketch: skip it
                    continue
                ons = Counter((p, s, v) for p, s, _, v in rows)
                offs = Counter((p, e) for p, _, e, _ in rows)
                starts = Counter((p, s) for p, s, _, _ in rows)
                for name, got in (
                    ("before", [(p, s * per, e * per, v) for p, s, e, v in lane_notes(part, lane)]),
                    ("after", lane_ticks(part, lane)),
                ):
                    total[f"on_{name}"] += sum((ons & Counter((p, s, v) for p, s, _, v in got)).values())
                    total[f"off_{name}"] += sum((offs & Counter((p, e) for p, _, e, _ in got)).values())
                    total[f"start_{name}"] += sum((starts & Counter((p, s) for p, s, _, _ in got)).values())
                    total[f"count_{name}"] += len(got)
                total["notes"] += len(rows)
            parts += 1
    n = total["notes"]
    print(f"{parts} songs, {n} notes of their pitched parts followed one lane at a time")
    for name in ("before", "after"):
        print(
            f"{name:6s}: {total[f'count_{name}'] / n:.1%} as many notes, starts at the tick "
            f"{total[f'start_{name}'] / n:.1%}, note-ons exact (tick and velocity) {total[f'on_{name}'] / n:.1%}, "
            f"note-offs exact {total[f'off_{name}'] / n:.1%}"
        )


if __name__ == "__main__":
    main()
