"""The ghost floor for continuations of a real song's primer (dynamics.json `ghost_floor_primer`).

    python -m musicvae_app.evaluation.learn_primer_ghosts --pack resources/models/default \
        --data ../shared/data/band-midi [--primers 40]

engine/ghosts.py lifts the half-heard snare cells between the 8ths over the pack's `ghost_floor` x the threshold
into ghost notes; that floor is measured (training/dynamics.calibrate) over the pack's usual takes, most of them
random starts, so that their ghost notes are real songs' share of the snare hits. A continuation of a real song's
primer leaves many more half-heard snares over it: `musicvae evaluate`'s continuations played 6.1 % of their snare
hits as ghost notes against 2.5 % in real songs (40 continuations of training songs: 5.4 % with the lift, 0.9 %
without; most takes reached the lift's cap, MOST x real songs' share). So continuations get a floor of their own,
measured the same way (training/dynamics.ghost_floor) over continuations of training songs' primers (their
windows' first chunks, written as `musicvae evaluate` writes its primers; never the validation songs), made with no
ghost notes: the snare hits the dynamics already
play soft there (under 0.6 x the take's snare median) count toward real songs' share, the ghost notes make up the
rest.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from ..lanes import DRUMS
from ..theory.dynamics import DYNAMICS_FILE, SNARES
from ..training.dynamics import _half_heard, ghost_floor, ghosts_made
from .windows import SCORE_CHUNK, roll_to_midi, windows

PRIMER_CHUNK_BARS = 4  # a primer is one 4-bar chunk: its own notes are the song's, not the model's


def soft_snares(path: Path, first_beat: float) -> tuple[int, int]:
    """(snare hits under 0.6 x the take's snare median, snare hits) from `first_beat` on, of an exported .mid read
    with mido (training/styles.read_song, as `musicvae evaluate` counts ghost notes)."""
    import numpy as np

    from ..training.styles import read_song

    song = read_song(str(path))
    if song is None:
        return 0, 0
    n = song["notes"]
    snares = n[(n[:, 0] == DRUMS) & np.isin(n[:, 1], SNARES)]
    if not len(snares):
        return 0, 0
    after = snares[snares[:, 2] >= first_beat, 3]
    return int((after < 0.6 * np.median(snares[:, 3])).sum()), len(after)


CAPS = (1.0, 1.25, 1.5, 1.75, 2.0)  # the lift's cap per take, in real songs' ghosts per snare hit, tightest first


def primer_floor(engine, primers: list[Path], share: float, steps: int = 7) -> tuple[float | None, float, float]:
    """The ghost floor at which continuations of `primers` (no ghost notes while measured) play `share` of their
    snare hits after the primer soft (under 0.6 x the median): the snare hits the dynamics already play soft
    count, the ghost notes make up the rest; at the tightest cap per take (CAPS) at which a floor still makes
    them. Why the cap: primers differ in how many half-heard snares they leave (validation primers lifted 145 ghost
    notes where training primers lifted 65 at one floor, reaching the usual cap, 2 x real songs' share, in most
    takes: 5.2 % against 2.5): the tighter the cap, the less a take's share rests on its primer's count. Returns
    (the floor, the share already soft, the cap)."""
    from ..sketch.midi import write_midi
    from ..sketch.pins import note_confidences

    takes, soft = [], [0, 0]
    with engine.post.no_ghosts(), tempfile.TemporaryDirectory() as tmp:  # measured with no ghost notes
        for seed, primer in enumerate(primers):
            song = engine.generate(steps=steps, seed=seed, primer=str(primer))
            first = PRIMER_CHUNK_BARS * song.steps_per_bar
            hits = sum(1 for p, start, *_ in note_confidences(song, DRUMS) if p in SNARES and start >= first)
            takes.append((_half_heard(song, PRIMER_CHUNK_BARS), hits))
            own = soft_snares(write_midi(song, Path(tmp) / "t.mid"), PRIMER_CHUNK_BARS * 4)
            soft = [soft[0] + own[0], soft[1] + own[1]]
    already = soft[0] / soft[1] if soft[1] else 0.0
    rest = max(share - already, 0.0)
    per_hit = share / max(1.0 - share, 1e-9)  # the lift caps each take at cap x real songs' ghosts per snare hit
    wanted = rest / max(1.0 - rest, 1e-9) * sum(hits for _, hits in takes)
    lowest = min((v for cand, _ in takes for v in cand), default=None)
    for cap in CAPS:
        if lowest is not None and ghosts_made(takes, lowest, cap * per_hit) >= wanted:
            return ghost_floor(takes, rest, cap * per_hit), already, cap
    return ghost_floor(takes, rest, CAPS[-1] * per_hit), already, CAPS[-1]


def main(argv: list[str] | None = None) -> int:
    from ..engine import Engine
    from ..theory.dynamics import table as shipped

    p = argparse.ArgumentParser(
        prog="python -m musicvae_app.evaluation.learn_primer_ghosts", description=__doc__.split("\n")[0]
    )
    p.add_argument("--pack", required=True, help="the pack folder whose dynamics.json gets ghost_floor_primer")
    p.add_argument("--data", required=True, help="the folder the pack was trained on (training songs are used)")
    p.add_argument("--primers", type=int, default=200, help="continuations measured")
    args = p.parse_args(argv)
    from .calibrate import training_songs

    target = Path(args.pack) / DYNAMICS_FILE
    table = json.loads(target.read_text())
    engine = Engine.load(args.pack)
    chosen = windows(training_songs(engine, args.data, args.primers), SCORE_CHUNK, 7, args.primers)
    with tempfile.TemporaryDirectory() as tmp:
        primers = [roll_to_midi(w.roll[:, :SCORE_CHUNK], Path(tmp) / f"primer{i}.mid") for i, w in enumerate(chosen)]
        floor, already, cap = primer_floor(engine, primers, table["real"]["snare_ghost_share"])
    if floor is None:
        table.pop("ghost_floor_primer", None)
        table.pop("ghost_most_primer", None)
    else:
        table["ghost_floor_primer"] = floor
        table["ghost_most_primer"] = cap
    target.write_text(json.dumps(table, separators=(",", ":")))
    shipped.cache_clear()
    print(
        f"{len(primers)} continuations of training songs' primers ({100 * already:.2f} % of snare hits soft with "
        f"no ghost notes): ghost floor {floor}, at most {cap} x real songs' ghosts per snare hit (usual takes: "
        f"{table.get('ghost_floor')})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
