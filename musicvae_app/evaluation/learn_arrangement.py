"""The card's arrangement shares measured on training songs: how often a lane comes back, and who lays out.

    python -m musicvae_app.evaluation.learn_arrangement --pack resources/models/default --data ../shared/data/band-midi
        [--songs 400] [--write]

Training songs only (the validation songs `musicvae evaluate` reports are never read), in 32-bar windows as
`evaluate` takes them, their chords recognized bar by bar from the band (`playing_metrics.band_chords`):

- `recall`: per lane, of the sounding 4-bar chunks that have an earlier chunk with the same chords, the share
  that replay one of them (`groove_metrics.returns`, Jaccard >= 0.9);
- `recall_moved`: of those whose nearest earlier chunk shares 3 of their 4 chords, the share that replay it with
  the other bar moved to its new root (a riff held through a changed chord). Fewer shared chords: real lanes
  come back in under 6 % (bass 5.5 % at 2 bars, 3 % at 1 or 0 with the same chord rhythm), left to chance;
- `role_rest`: piano, of the bars (after the first chunk) of windows whose piano and guitar both play, in which
  the guitar plays, the share where the piano is silent; guitar, the same the other way round (0 for the rest);
- `role_absent`: piano, of the windows whose guitar plays (after the first chunk), the share where the piano is
  silent throughout; guitar, the other way round (a followed guitar part: whether the piano sits out the song);
- `beat_restrike`: piano, guitar, bass, of the notes held into a drum hit the groove strikes on (kicks; the
  guitar kicks and snares), the share struck again there (`groove_metrics.beat_restrikes`).

`--write` puts them into the pack's card.json ("generation"), with how they were measured.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from ..sketch.song import LANES
from . import groove_metrics as gm
from . import playing_metrics as pm
from .windows import BAR_STEPS, CHUNK_BARS, SCORE_CHUNK, SCORE_STEPS_PER_BEAT, windows

PIANO, GUITAR = gm.PIANO, gm.GUITAR
KEYS = ("recall", "recall_moved", "role_rest", "role_absent", "beat_restrike")


def measure(rolls: list[np.ndarray]) -> dict:
    """The shares from (5, steps, 128) band rolls (each a whole number of 4-bar chunks)."""
    same = np.zeros((len(LANES), 2))  # chunks whose best earlier chunk has all 4 chords the same; of them replayed
    moved = np.zeros((len(LANES), 2))  # ... 3 of 4 the same (the fourth moved to its root)
    plays = np.zeros((2, 2))  # per comping lane: (bars the other plays in, of them this one silent)
    absent = np.zeros((2, 2))  # per comping lane: (windows the other plays in, of them this one silent throughout)
    strikes = np.zeros((len(LANES), 2))  # per lane: (notes held into a drum hit, of them struck again)
    for roll in rolls:
        chords = pm.band_chords(roll, SCORE_STEPS_PER_BEAT)
        for lane in range(len(LANES)):
            for k, back in gm.returns(roll[lane], chords, CHUNK_BARS):
                if k == CHUNK_BARS:
                    same[lane] += (1, back)
                elif k == CHUNK_BARS - 1:
                    moved[lane] += (1, back)
        strikes += gm.beat_restrikes(roll[:, CHUNK_BARS * BAR_STEPS :], BAR_STEPS)
        bars = roll[[PIANO, GUITAR]].reshape(2, -1, BAR_STEPS * 128).any(axis=2)[:, CHUNK_BARS:]
        for i in range(2):
            if bars[1 - i].any():
                absent[i] += (1, int(not bars[i].any()))
        if bars[0].any() and bars[1].any():
            for i in range(2):
                other = bars[1 - i]
                plays[i] += (int(other.sum()), int((other & ~bars[i]).sum()))
    share = lambda a: [round(float(k / n), 3) if n else 0.0 for n, k in a]  # noqa: E731
    rest = share(plays) + [0.0] * (len(LANES) - 2)
    counts = {
        "same": same[:, 0].astype(int).tolist(),
        "moved": moved[:, 0].astype(int).tolist(),
        "comping bars": plays[:, 0].astype(int).tolist(),
        "comping windows": absent[:, 0].astype(int).tolist(),
        "held into a hit": strikes[:, 0].astype(int).tolist(),
    }
    no_drums = lambda a: share(a)[: len(LANES) - 1] + [0.0]  # noqa: E731  drums: 0, `pull` holds them already
    return {
        "recall": no_drums(same),
        "recall_moved": no_drums(moved),
        "role_rest": rest,
        "role_absent": share(absent) + [0.0] * (len(LANES) - 2),
        "beat_restrike": share(strikes),
        "counts": counts,
    }


def main(argv=None) -> int:
    from ..engine import Engine
    from .calibrate import training_songs

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pack", default="resources/models/default")
    parser.add_argument("--data", required=True)
    parser.add_argument("--songs", type=int, default=400)
    parser.add_argument("--steps", type=int, default=7, help="chunks after the first in each window")
    parser.add_argument("--cache-dir", default=None)
    parser.add_argument("--write", action="store_true", help="write the shares into the pack's card.json")
    args = parser.parse_args(argv)
    engine = Engine.load(args.pack)
    pool = training_songs(engine, args.data, args.songs, args.cache_dir)
    chosen = windows(pool, SCORE_CHUNK, args.steps, args.songs)
    found = measure([w.roll for w in chosen])
    print(f"{len(chosen)} training windows of {(args.steps + 1) * CHUNK_BARS} bars ({BAR_STEPS} steps a bar)")
    for key in KEYS:
        print(f"  {key:13s} " + " ".join(f"{v:5.3f}" for v in found[key]))
    print(f"  counted chunks {found['counts']}")
    if args.write:
        path = Path(args.pack) / "card.json"
        card = json.loads(path.read_text())
        gen = card.setdefault("generation", {})
        for key in KEYS:
            gen[key] = found[key]
        gen["recall_why"] = (
            f"measured on {len(chosen)} training windows of {(args.steps + 1) * CHUNK_BARS} bars (their chords "
            "recognized bar by bar; evaluation/learn_arrangement.py): recall, per lane, the share of 4-bar chunks "
            "with an earlier chunk of the same chords that replay one (Jaccard >= 0.9); recall_moved, of those whose "
            "nearest earlier chunk shares 3 of 4 chords, the share that replay it, the other bar moved to its root; "
            "role_rest, piano and guitar, where the other plays a bar, the share this one is silent (windows "
            "with both); role_absent, of windows where the other plays, the share this one is silent throughout; "
            "beat_restrike, piano, guitar, bass, of notes held into a kick (guitar: kick or snare), the share "
            f"struck again there; counted {found['counts']}; the validation songs were not used"
        )
        from ..model.pack import write_json_atomic  # the one card writer (it imports torch: only to write)

        write_json_atomic(path, card)
        print(f"written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
