"""Styles found by measurement on the training songs: what a drummer plays, how fast, how swung, how loud.

Every training song's drum part is measured (per bar: where the kick, the backbeat, the hats and the ride
fall on the 16 sixteenths, four on the floor, half time, 16th hats, a syncopated kick), with its tempo (the
file's first set_tempo), its swing (where the off-beat 8ths fall inside the beat: 0.5 straight, 0.67 a
triplet shuffle) and every note's velocity by lane and 16th position. Songs are then put into labelled
subsets by those measured features (`label`, the rules in order: first match wins), each style keeps:

- its feel and tempo range (the members' median swing, the 10th-90th percentile of their tempos),
- its drum template (the members' mean hit rate per 16th of kick, backbeat, hats and ride),
- its fills (cut from its own songs as training/fills.py cuts them, with its own fill and crash rates),
- the start-bank rows whose decoded drums are nearest its template and play a kit (a kick and a backbeat
  in at least 3 of 4 bars),
- velocity by lane and 16th position (all training songs: dynamics), and how much louder busy bars are.

The result is a small JSON beside the pack (`styles.json`), read by engine/styles.py. Run it on a pack:

    python -m musicvae_app.training.styles --pack resources/models/default --data ../shared/data/band-midi
"""

from __future__ import annotations

import argparse
import json
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from ..lanes import DRUMS, LANES

STEPS = 16  # 16ths a bar
KICKS = (35, 36)
BACKBEAT = (37, 38, 39, 40)  # side stick, snares, clap
HATS = (42, 44, 46)
RIDES = (51, 53, 59)
KIT_BARS = 0.6  # a song (or style) plays a kit where this share of its drum bars has a kick and a backbeat
STYLES_FILE = "styles.json"

# the styles, each a rule on a song's measured features (first match wins) and the words a user reads
RULES: list[tuple[str, str]] = [
    ("shuffle", "swung 8ths or a triplet feel, backbeat on 2 and 4 (blues, shuffle rock)"),
    ("four-on-the-floor", "a kick on every beat, off-beat hats, dance tempo (disco, dance pop)"),
    ("half-time", "the snare on beat 3 only: a slow, heavy feel at a fast tempo"),
    ("ballad", "slow, straight, sparse: a soft backbeat and long notes"),
    ("funk", "16th hats and a syncopated kick at a mid tempo"),
    ("fast rock", "driving 8ths above 150 BPM (punk, up-tempo rock)"),
    ("rock", "straight 8th hats or ride, kick on 1 and 3, snare on 2 and 4"),
    ("pop", "a steady mid-tempo backbeat"),
]


def _lane_of_program(program: int) -> int | None:
    if program < 8:
        return LANES.index("piano")
    if 24 <= program < 32:
        return LANES.index("guitar")
    if 32 <= program < 40:
        return LANES.index("bass")
    if program < 96 or 104 <= program < 112:
        return LANES.index("strings")
    return None


def read_song(path: str) -> dict | None:
    """A song's notes: (lane, pitch, start beat, velocity) rows and its first tempo, or None if unreadable."""
    import mido

    try:
        mid = mido.MidiFile(path)
    except Exception:
        return None
    tpb = mid.ticks_per_beat or 480
    tempo = None
    rows = []
    for track in mid.tracks:
        tick, programs = 0, [0] * 16
        for msg in track:
            tick += msg.time
            if msg.type == "set_tempo" and tempo is None:
                tempo = 60e6 / max(msg.tempo, 1)
            elif msg.type == "program_change":
                programs[msg.channel] = msg.program
            elif msg.type == "note_on" and msg.velocity > 0:
                lane = DRUMS if msg.channel == 9 else _lane_of_program(programs[msg.channel])
                if lane is not None:
                    rows.append((lane, msg.note, tick / tpb, msg.velocity))
    if not rows:
        return None
    return {"notes": np.array(rows, dtype=np.float64), "tempo": float(tempo or 120.0)}


def drum_bars(drums: np.ndarray, n_bars: int) -> np.ndarray:
    """(n_bars, 16, 128) bool: drum hits (pitch, start beat) on the 16th grid, bar by bar."""
    out = np.zeros((n_bars, STEPS, 128), dtype=bool)
    step = np.rint(drums[:, 1] * 4).astype(int)
    ok = (step >= 0) & (step < n_bars * STEPS)
    out.reshape(-1, 128)[step[ok], drums[ok, 0].astype(int)] = True
    return out


def pattern_features(bars: np.ndarray) -> dict:
    """A drum part's pattern figures over its playing bars (n, 16, 128): per-16th rates and bar shares."""
    playing = bars.any(axis=(1, 2))
    bars = bars[playing]
    if not len(bars):
        return {}
    kick = bars[..., list(KICKS)].any(axis=-1)
    back = bars[..., list(BACKBEAT)].any(axis=-1)
    hats = bars[..., list(HATS)].any(axis=-1)
    ride = bars[..., list(RIDES)].any(axis=-1)
    return {
        "kick": kick.mean(axis=0),
        "backbeat": back.mean(axis=0),
        "hats": hats.mean(axis=0),
        "ride": ride.mean(axis=0),
        "kit": float((kick.any(axis=1) & back.any(axis=1)).mean()),
        "four_floor": float(kick[:, ::4].all(axis=1).mean()),
        "half_time": float((back[:, 8] & ~back[:, 4] & ~back[:, 12]).mean()),
        "hats16": float(((hats | ride)[:, 1::2].sum(axis=1) >= 6).mean()),
        "kick_sync": float(kick[:, 1::2].sum() / max(kick.sum(), 1)),
        "hits": float(bars.sum() / len(bars)),
    }


def song_features(song: dict) -> dict | None:
    """Tempo, swing, triplets and the drum pattern figures of one read song (None without drums)."""
    notes = song["notes"]
    drums = notes[notes[:, 0] == DRUMS][:, 1:3]
    if len(drums) < 64:
        return None
    n_bars = int(drums[:, 1].max() // 4) + 1
    feats = pattern_features(drum_bars(drums, n_bars))
    if not feats:
        return None
    frac = np.mod(notes[:, 2], 1.0)
    off = frac[(frac > 0.4) & (frac < 0.8)]  # the off-beat 8th, wherever the player put it
    feats["swing"] = float(np.median(off)) if len(off) >= 32 else 0.5
    third = np.minimum(np.abs(frac - 1 / 3), np.abs(frac - 2 / 3)) < 0.04
    feats["triplets"] = float(third.mean())
    feats["tempo"] = song["tempo"]
    return feats


def label(f: dict) -> str:
    """The style a song's measured features put it in (RULES, first match wins)."""
    if f["swing"] >= 0.6 or f["triplets"] >= 0.3:
        return "shuffle"
    if f["four_floor"] >= 0.5 and f["tempo"] >= 100:
        return "four-on-the-floor"
    if f["half_time"] >= 0.5:
        return "half-time"
    if f["tempo"] < 84:
        return "ballad"
    if (f["hats16"] >= 0.4 or f["kick_sync"] >= 0.3) and f["tempo"] < 125:
        return "funk"
    if f["tempo"] >= 150:
        return "fast rock"
    if f["tempo"] >= 100 and (f["hats"][::2].mean() + f["ride"][::2].mean()) >= 0.6:
        return "rock"
    return "pop"


def velocity_table(songs: list[dict]) -> dict:
    """Mean velocity by lane and 16th position, and per lane the spread: what dynamics follow."""
    total = np.zeros((len(LANES), STEPS))
    count = np.zeros((len(LANES), STEPS))
    groups = (KICKS, BACKBEAT, HATS + RIDES)
    drum_total = np.zeros((len(groups), STEPS))
    drum_count = np.zeros((len(groups), STEPS))
    snare_ghost = [0, 0]
    for song in songs:
        n = song["notes"]
        step = np.rint(n[:, 2] * 4).astype(int) % STEPS
        lane = n[:, 0].astype(int)
        np.add.at(total, (lane, step), n[:, 3])
        np.add.at(count, (lane, step), 1)
        for g, pitches in enumerate(groups):
            hit = (lane == DRUMS) & np.isin(n[:, 1], pitches)
            np.add.at(drum_total[g], step[hit], n[hit, 3])
            np.add.at(drum_count[g], step[hit], 1)
        snares = n[(lane == DRUMS) & np.isin(n[:, 1], (38, 40))]
        if len(snares) >= 16:
            med = np.median(snares[:, 3])
            snare_ghost[0] += int((snares[:, 3] < 0.6 * med).sum())
            snare_ghost[1] += len(snares)
    mean = total / np.maximum(count, 1)
    return {
        "by_position": np.round(mean, 1).tolist(),
        "drums_by_position": np.round(drum_total / np.maximum(drum_count, 1), 1).tolist(),  # kick, backbeat, hats
        "lane_mean": np.round(total.sum(axis=1) / np.maximum(count.sum(axis=1), 1), 1).tolist(),
        "snare_ghost_share": round(snare_ghost[0] / max(snare_ghost[1], 1), 3),
    }


def _measure(path: str):
    song = read_song(path)
    if song is None:
        return None
    feats = song_features(song)
    if feats is None:
        return None
    return path, feats, song


def derive(paths: list[str], workers: int = 1) -> tuple[dict, list, dict, dict]:
    """({style: summary}, [(path, style, features)], velocity table, {style: members}) over the given songs."""
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            results = list(pool.map(_measure, paths, chunksize=8))
    else:
        results = [_measure(p) for p in paths]
    results = [r for r in results if r is not None]
    members: dict[str, list] = {name: [] for name, _ in RULES}
    labelled = []
    for path, feats, song in results:
        name = label(feats)
        members[name].append((path, feats, song))
        labelled.append((path, name, feats))
    styles = {}
    for name, text in RULES:
        got = members[name]
        if not got:
            continue
        feats = [f for _, f, _ in got]
        tempos = np.array([f["tempo"] for f in feats])
        styles[name] = {
            "description": text,
            "songs": len(got),
            "tempo": [round(float(np.percentile(tempos, 10))), round(float(np.percentile(tempos, 90)))],
            "tempo_median": round(float(np.median(tempos))),
            "swing": round(float(np.median([f["swing"] for f in feats])), 3),
            "template": {
                part: np.round(np.mean([f[part] for f in feats], axis=0), 3).tolist()
                for part in ("kick", "backbeat", "hats", "ride")
            },
            "kit": round(float(np.mean([f["kit"] for f in feats])), 3),
            "hits": round(float(np.mean([f["hits"] for f in feats])), 2),
            "measured": {
                k: round(float(np.median([f[k] for f in feats])), 3)
                for k in ("four_floor", "half_time", "hats16", "kick_sync", "triplets")
            },
        }
    return styles, labelled, velocity_table([s for _, _, s in results]), members


def style_fills(member_songs: list[dict], count: int = 48) -> dict:
    """A style's own fills and rates (training/fills.fill_bank on its songs' drums at 16ths)."""
    from .fills import fill_bank

    rolls = []
    for song in member_songs:
        n = song["notes"]
        drums = n[n[:, 0] == DRUMS]
        steps = int(drums[:, 2].max() * 4) + 17
        roll = np.zeros((len(LANES), steps, 128), dtype=bool)
        step = np.rint(drums[:, 2] * 4).astype(int)
        roll[DRUMS, step, drums[:, 1].astype(int)] = True
        rolls.append(roll)
    return fill_bank(rolls, 4, count=count)


def bank_drums(engine) -> np.ndarray:
    """(rows, 4, 16, 128) bool: every bank row's drums as the pack decodes them now, bar by bar."""
    import torch

    fast, spb = engine.fast, 4 * engine.cfg.steps_per_beat
    threshold = engine.card.threshold
    out = []
    with torch.inference_mode():
        for lo in range(0, fast.bank_z.shape[0], 64):
            z = fast.bank_z[lo : lo + 64].permute(1, 0, 2).contiguous()
            plain = fast.from_blocked(engine.decoder.decode(z, z.shape[1]), z.shape[1])[DRUMS].cpu().numpy()
            out.append(plain >= threshold)
    drums = np.concatenate(out)
    return drums.reshape(drums.shape[0], -1, spb, 128)


def assign_bank(styles: dict, drums: np.ndarray, sounding: np.ndarray, least: int = 12) -> dict:
    """{style: bank rows}. A row whose decoded drums play a kit (a kick and a backbeat in 3 of 4 bars) and in
    which every lane sounds goes to the style whose template (kick, backbeat, hats, ride per 16th) is nearest;
    a style with fewer than `least` such rows takes the next nearest kit rows (every lane sounding first)."""
    profiles, kit = [], []
    for row in drums:
        f = pattern_features(row)
        if not f:
            profiles.append(np.full(4 * STEPS, np.nan))
            kit.append(False)
            continue
        profiles.append(np.concatenate([f["kick"], f["backbeat"], f["hats"], f["ride"]]))
        k = row[..., list(KICKS)].any(axis=(1, 2)) & row[..., list(BACKBEAT)].any(axis=(1, 2))
        kit.append(int(k.sum()) >= 3)
    profiles, kit = np.array(profiles), np.array(kit)
    names = list(styles)
    templates = np.array(
        [np.concatenate([styles[n]["template"][p] for p in ("kick", "backbeat", "hats", "ride")]) for n in names]
    )
    dist = np.array([[np.nansum((p - t) ** 2) for t in templates] for p in profiles])  # (rows, styles)
    dist[~kit] = np.inf
    full = sounding.all(axis=1)
    nearest = np.argmin(np.where(full[:, None], dist, np.inf), axis=1)
    out = {}
    for j, name in enumerate(names):
        rows = [int(i) for i in np.flatnonzero(full & kit & (nearest == j))]
        if len(rows) < least:
            rank = dist[:, j] + np.where(full, 0.0, 100.0)
            extra = [int(i) for i in np.argsort(rank) if np.isfinite(rank[i]) and int(i) not in rows]
            rows += extra[: least - len(rows)]
        out[name] = sorted(rows)
    return out


def bank_only(pack: str) -> None:
    """styles.json's bank rows assigned again on the pack's bank (the songs are not read again)."""
    from ..engine import Engine

    target = Path(pack) / STYLES_FILE
    data = json.loads(target.read_text())
    engine = Engine.load(pack)
    rows = assign_bank(data["styles"], bank_drums(engine), engine.fast.bank_sounding.cpu().numpy())
    for name, s in data["styles"].items():
        s["bank_rows"] = rows[name]
        print(f"{name:18s} bank rows {len(rows[name])}")
    target.write_text(json.dumps(data, separators=(",", ":")))


def main(argv: list[str] | None = None) -> int:
    from ..engine import Engine
    from ..model.pack import read_card
    from .data import find_files, split_files, validation_percent

    p = argparse.ArgumentParser(prog="python -m musicvae_app.training.styles", description=__doc__.split("\n")[0])
    p.add_argument("--pack", required=True, help="the pack folder that gets styles.json")
    p.add_argument("--data", required=True, help="the folder the pack was trained on (training songs are used)")
    p.add_argument("--songs", type=int, default=1200, help="training songs to measure")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--bank-only", action="store_true", help="only assign the bank rows again (styles.json exists)")
    args = p.parse_args(argv)
    if args.bank_only:
        bank_only(args.pack)
        return 0
    train, _ = split_files(find_files(args.data), validation_percent(read_card(args.pack)))
    styles, labelled, velocity, members = derive(train[: args.songs], args.workers)
    engine = Engine.load(args.pack)
    rows = assign_bank(styles, bank_drums(engine), engine.fast.bank_sounding.cpu().numpy())
    for name, s in styles.items():
        s["bank_rows"] = rows[name]
        s.update(style_fills([song for _, _, song in members[name]]))
    out = {
        "why": (
            f"{len(labelled)} of {len(train)} training songs measured (drum pattern per 16th, tempo, swing, "
            "triplets) and put into labelled subsets by training/styles.py's rules; each style's bank rows "
            "are the pack's start-bank rows whose decoded drums play a kit nearest the style's template, its "
            "fills are cut from its own songs"
        ),
        "styles": styles,
        "velocity": velocity,
    }
    target = Path(args.pack) / STYLES_FILE
    target.write_text(json.dumps(out, separators=(",", ":")))
    for name, s in styles.items():
        print(
            f"{name:18s} {s['songs']:4d} songs  tempo {s['tempo'][0]}-{s['tempo'][1]} (median {s['tempo_median']})  "
            f"swing {s['swing']:.2f}  kit {s['kit']:.2f}  hits/bar {s['hits']:.1f}  bank rows {len(s['bank_rows'])}  "
            f"fills {len(s['fills'])} rate {s['fill_rate']} crash {s['crash_rate']}"
        )
    print(f"velocity lane means {velocity['lane_mean']}, snare ghost share {velocity['snare_ghost_share']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
