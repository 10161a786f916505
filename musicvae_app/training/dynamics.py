"""Dynamics learned from the training songs' velocities: the table theory/dynamics.py plays from.

Every note of the training songs (band-midi's training split, by file hash as the pack was trained; never the
validation songs) is put in a *group* (piano, guitar, bass, strings; the drums split into kick, backbeat
(snare, clap, side stick), hats and ride, and the other drums) and heard against its song's median velocity
for that group: ratio = velocity / the song's median. A song's own loudness is its business (a file at 80
and one at 110 play the same groove); what is learned is how a note stands against its song's usual:

- ``quantiles[group][16th]``: 21 quantiles (2 % to 95 %, evenly) of that ratio at each 16th of the bar, so a
  downbeat is accented, an off-beat hat is softer, and the snare's low tail off the backbeat is its ghost
  notes (real drummers' snares below 0.6 x the song's median: ``real.snare_ghost_share``);
- ``level_gain[group][energy 1-5]``: the mean ratio of the notes in each fifth of a song's 4-bar phrases
  ranked by how many notes the band plays in them (1 the lightest fifth, 5 the fullest), over the group's
  mean: how much louder a full chorus is than a light verse in real songs;
- ``typical[group]``: the median over songs of the song's median velocity.

A generated note's velocity is typical x level_gain[its section's energy] x the quantile of its position at
the rank of the model's confidence in it among the usual notes of its group at its position (``confidence``:
quantiles over the shipped pack's takes at a verse's energy, measured by the same command). A note as sure as
the lane's median plays its position's median ratio; the less sure tail of snare hits off the backbeat plays
the real ghost notes; a chorus, which the engine makes surer, plays higher in the real spread. Written beside
the pack as ``dynamics.json``:

    python -m musicvae_app.training.dynamics --pack resources/models/default --data ../shared/data/band-midi
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from ..lanes import DRUMS, LANES
from ..theory.dynamics import DYNAMICS_FILE, GROUPS, QUANTILES, group_of
from .styles import read_song

STEPS = 16
PHRASE_BEATS = 16  # 4 bars of 4/4
LEVELS = 5
CONFIDENCE_POINTS = 21  # quantiles of the model's confidence, 0, 5, ..., 100 %
FEW = 30  # notes a group needs at a position (or place) for its own confidence quantiles
QUIET = 30  # a song's group whose median velocity is below this (a muted or mistyped track) is left out
LOW, HIGH = 2.0, 95.0  # the velocity ratios' quantiles kept: a file's odd 1 or 127 (mostly its loud end: one
# song's accents, a fill's toms at 127) is no dynamics to copy; the low end holds the ghost notes


def song_groups(notes: np.ndarray) -> np.ndarray:
    """The group (GROUPS index) of each (lane, pitch, beat, velocity) row."""
    return np.array([group_of(int(lane), int(pitch)) for lane, pitch in notes[:, :2]], dtype=int)


def phrase_levels(beats: np.ndarray) -> np.ndarray:
    """Each note's energy 1-5: the fifth of the song's 4-bar phrases (ranked by their note count) it falls in."""
    phrase = (beats // PHRASE_BEATS).astype(int)
    counts = np.bincount(phrase)
    played = np.flatnonzero(counts)
    if len(played) < LEVELS:
        return np.full(len(beats), 3)
    order = played[np.argsort(counts[played], kind="stable")]
    rank = np.empty(counts.size, dtype=float)
    rank[order] = np.arange(len(order)) / len(order)
    return 1 + np.minimum((rank[phrase] * LEVELS).astype(int), LEVELS - 1)


def fit(songs: list[dict]) -> dict:
    """The table (see the module doc) from songs as training/styles.read_song gives them."""
    ratios: list[list[list[np.ndarray]]] = [[[] for _ in range(STEPS)] for _ in GROUPS]
    by_level = np.zeros((len(GROUPS), LEVELS))
    level_count = np.zeros((len(GROUPS), LEVELS))
    medians: list[list[float]] = [[] for _ in GROUPS]
    ghosts = [0, 0]
    for song in songs:
        n = song["notes"]
        group = song_groups(n)
        step = np.rint(n[:, 2] * 4).astype(int) % STEPS
        level = phrase_levels(n[:, 2])
        for g in range(len(GROUPS)):
            mine = group == g
            if mine.sum() < 16:
                continue
            med = float(np.median(n[mine, 3]))
            if med < QUIET:
                continue
            medians[g].append(med)
            ratio = n[mine, 3] / med
            for s in range(STEPS):
                ratios[g][s].append(ratio[step[mine] == s])
            np.add.at(by_level[g], level[mine] - 1, ratio)
            np.add.at(level_count[g], level[mine] - 1, 1)
        snares = n[(n[:, 0] == DRUMS) & np.isin(n[:, 1], (38, 40)), 3]
        if len(snares) >= 16:
            ghosts[0] += int((snares < 0.6 * np.median(snares)).sum())
            ghosts[1] += len(snares)
    points = np.linspace(LOW, HIGH, QUANTILES)
    quantiles, counts = [], []
    for g in range(len(GROUPS)):
        rows, row_counts = [], []
        every = np.concatenate([r for s in range(STEPS) for r in ratios[g][s]] or [np.ones(1)])
        for s in range(STEPS):
            got = np.concatenate(ratios[g][s]) if ratios[g][s] else np.zeros(0)
            row_counts.append(int(got.size))
            rows.append(np.round(np.percentile(got if got.size >= 50 else every, points), 3).tolist())
        quantiles.append(rows)
        counts.append(row_counts)
    mean = by_level.sum(axis=1, keepdims=True) / np.maximum(level_count.sum(axis=1, keepdims=True), 1)
    gain = np.where(level_count > 0, by_level / np.maximum(level_count, 1), mean) / np.maximum(mean, 1e-9)
    return {
        "groups": list(GROUPS),
        "typical": [round(float(np.median(m)), 1) if m else 90.0 for m in medians],
        "quantiles": quantiles,
        "notes": counts,
        "level_gain": np.round(gain, 3).tolist(),
        "real": {"snare_ghost_share": round(ghosts[0] / max(ghosts[1], 1), 4), "songs": len(songs)},
    }


def _place(position: int) -> int:
    """0 on the beat, 1 the off-beat 8th, 2 another 16th."""
    return 0 if position % 4 == 0 else 1 if position % 4 == 2 else 2


GHOST_FORM = [("verse", 1, 8), ("chorus", 9, 8), ("verse", 17, 8), ("chorus", 25, 8)]


def _half_heard(song, first_bar: int = 0) -> list[float]:
    """The ghost candidates' probabilities over the threshold (engine/ghosts.candidates) of a take's bars from
    `first_bar` on."""
    from ..engine.ghosts import candidates

    free = np.ones((song.n_bars, len(LANES)), dtype=bool)
    free[:first_bar] = False
    cand = candidates(song.probs[:, None], free, song.threshold, song.steps_per_bar)
    return (cand[cand > 0] / song.threshold).tolist()


def mid_primers(paths: list[str], folder: Path) -> list[Path]:
    """A 4-bar primer (.mid) from the middle of each song (as `musicvae evaluate` primes its continuations), for
    songs with notes there."""
    from ..sketch.midi import read_roll, write_midi
    from ..sketch.song import Song

    out = []
    for i, path in enumerate(paths):
        try:
            roll, tempo = read_roll(path, 4)
        except Exception:  # an unreadable song gives no primer
            continue
        chunk = roll.shape[1] // 64 // 2 * 64
        part = roll[:, chunk : chunk + 64]
        if part.shape[1] < 64 or not part.any():
            continue
        song = Song(part.astype(np.float32), 4, 64, threshold=0.5, tempo=tempo)
        out.append(write_midi(song, folder / f"primer{i}.mid"))
    return out


def calibrate(engine, seeds: int = 8, ghost_share: float = 0.0, primers=()) -> tuple[list, float | None]:
    """The model's confidence quantiles (CONFIDENCE_POINTS) per group and 16th of the bar over the pack's usual
    takes: 36 bars from a random start, with and without a chart, and continuing a real song's primer, no
    sections (a verse's energy), the notes as the export reads them; a group's position with fewer than FEW
    notes takes its place's (the beats, the off-beat 8ths, the other 16ths), and failing that the group's over
    every position. A section the engine lifts (a chorus) is surer than this usual, so its notes sit higher in
    the real spread.

    And the ghost floor (engine/ghosts.py): the share of the threshold over which the half-heard snare cells
    between the 8ths become ghost notes, so that they are `ghost_share` of the snare hits (real songs' share),
    over the same takes and as many with a verse / chorus form. The takes are made with no ghost notes.

    primers: .mid files (mid_primers of training songs): each primes one more take, so that continuations of a
    real song's groove (surer than a random start) spread over the real spread as well."""
    from ..sketch.pins import note_confidences
    from ..theory.dynamics import SNARES

    per = [[[] for _ in range(STEPS)] for _ in GROUPS]
    half_heard: list[tuple[list[float], int]] = []  # per take: its ghost candidates, its snare hits
    with engine.post.no_ghosts():  # measured without ghost notes
        for seed in range(seeds):
            takes = [(engine.generate(steps=8, seed=seed, **extra), 0) for extra in ({}, {"chords": "Am F C G"})]
            if seed < len(primers):  # the primer's own 4 bars (the real song's notes) are not the model's
                primed = engine.generate(steps=8, seed=seed, primer=primers[seed])
                takes.append((primed, primed.steps_per_bar * 4))
            for song, first in takes:
                spb = song.steps_per_beat
                hits = 0
                for lane in range(len(LANES)):
                    for pitch, start, _, conf in note_confidences(song, lane):
                        if start >= first:
                            per[group_of(lane, pitch)][(start * 4 // spb) % STEPS].append(conf)
                            hits += lane == DRUMS and pitch in SNARES
                half_heard.append((_half_heard(song, first // song.steps_per_bar), hits))
            form = engine.generate(steps=8, seed=seed, sections=GHOST_FORM)  # a verse and a chorus count as well
            hits = sum(1 for pitch, *_ in note_confidences(form, DRUMS) if pitch in SNARES)
            half_heard.append((_half_heard(form), hits))
    points = np.linspace(0, 100, CONFIDENCE_POINTS)
    out = []
    for rows in per:
        every = [c for row in rows for c in row] or [0.5]
        place = [[c for q, row in enumerate(rows) if _place(q) == k for c in row] for k in range(3)]
        out.append(
            [
                np.round(
                    np.percentile(next(r for r in (row, place[_place(q)], every) if len(r) >= FEW), points), 4
                ).tolist()
                for q, row in enumerate(rows)
            ]
        )
    return out, ghost_floor(half_heard, ghost_share)


def ghost_floor(takes: list[tuple[list[float], int]], share: float, cap: float | None = None) -> float | None:
    """The lowest floor at which the ghost notes engine/ghosts.lift makes (each take's candidates at or over it,
    at most `cap` ghost notes per snare hit of the take: default MOST x `share`'s) are at most `share` of all snare
    hits."""
    from ..engine.ghosts import MOST

    per_hit = share / max(1 - share, 1e-9)
    cap = MOST * per_hit if cap is None else cap
    wanted = per_hit * sum(hits for _, hits in takes)
    values = sorted({v for cand, _ in takes for v in cand}, reverse=True)
    if not wanted or not values:
        return None

    def made(floor: float) -> int:
        return ghosts_made(takes, floor, cap)

    lo, hi = 0, len(values) - 1  # values[lo] makes few; find the last index that stays within `wanted`
    if made(values[0]) > wanted:
        return round(float(values[0]), 4)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if made(values[mid]) <= wanted:
            lo = mid
        else:
            hi = mid - 1
    return round(float(values[lo]), 4)


def ghosts_made(takes: list[tuple[list[float], int]], floor: float, cap: float) -> int:
    """How many ghost notes engine/ghosts.lift makes over `takes` ((candidates over the threshold, snare hits) each)
    at `floor`, each take at most `cap` per snare hit."""
    return sum(min(sum(v >= floor for v in cand), int(cap * hits)) for cand, hits in takes)


def split_paths(pack: str, data: str) -> tuple[list[str], list[str]]:
    """The pack's (training, validation) song files under data, by file hash as it was trained, each by hash."""
    from ..model.pack import read_card
    from .data import find_files, split_files, validation_percent

    return split_files(find_files(data), validation_percent(read_card(pack)))


def main(argv: list[str] | None = None) -> int:
    from ..engine import Engine

    p = argparse.ArgumentParser(prog="python -m musicvae_app.training.dynamics", description=__doc__.split("\n")[0])
    p.add_argument("--pack", required=True, help="the pack folder that gets dynamics.json")
    p.add_argument("--data", required=True, help="the folder the pack was trained on (training songs are used)")
    p.add_argument("--songs", type=int, default=1200, help="training songs to measure")
    p.add_argument("--seeds", type=int, default=12, help="takes (x2: with and without a chart) for the calibration")
    p.add_argument("--calibrate-only", action="store_true", help="keep the fitted table, measure the pack again")
    args = p.parse_args(argv)
    target = Path(args.pack) / DYNAMICS_FILE
    training = split_paths(args.pack, args.data)[0]  # every file hashed once
    if args.calibrate_only:
        table = json.loads(target.read_text())
    else:
        paths = training[: args.songs]
        table = fit([s for s in (read_song(path) for path in paths) if s is not None])
        table["why"] = (
            f"{table['real']['songs']} of {len(paths)} training songs' velocities, each over its song's median "
            "for its group, by 16th of the bar and the energy of its 4-bar phrase (training/dynamics.py)"
        )
        # the takes being measured may read velocities (a chart's harmonizing): a flat rank until measured
        flat = np.round(np.linspace(0, 1, CONFIDENCE_POINTS), 4).tolist()
        table["confidence"] = [[flat] * STEPS for _ in GROUPS]
    from ..theory.dynamics import table as shipped

    table.pop("ghost_floor", None)  # the takes measured play no ghost notes
    target.write_text(json.dumps(table, separators=(",", ":")))
    shipped.cache_clear()
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        # primers from training songs past the ones fitted above (never the validation songs)
        primers = mid_primers(training[-args.seeds * 2 :], Path(tmp))[: args.seeds]
        table["confidence"], table["ghost_floor"] = calibrate(
            Engine.load(args.pack), args.seeds, table["real"]["snare_ghost_share"], primers
        )
    target.write_text(json.dumps(table, separators=(",", ":")))
    shipped.cache_clear()
    print(f"typical velocity by group: {dict(zip(GROUPS, table['typical']))}")
    print(f"level gain (energy 1-5): {dict(zip(GROUPS, table['level_gain']))}")
    print(f"real snare ghost share: {table['real']['snare_ghost_share']}; ghost floor {table['ghost_floor']}")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
