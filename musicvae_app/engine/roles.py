"""Lanes with roles under a chart: of piano and guitar, one comps while the other lays out, as often as real bands.

Real songs whose piano and guitar both play (200 training windows, evaluation/learn_arrangement.py, card
`role_rest`): in the bars the guitar plays the piano is silent in 20.3 %; in the piano's bars the guitar in 18.5 %.
Left alone, under a chart our guitar drops out of a quarter of the piano's bars (the decoder lets a sparse guitar
fall under the threshold) and the piano plays over the guitar more than real pianos do. `balance` brings each take
to the learned shares (a count drawn per take): a guitar chunk with silent bars where the piano plays comes back
as the guitar's nearest fully playing chunk, moved bar by bar to the new chords (recall.shift_pitches; the chart
check re-voices it), while the guitar is silent in more of the piano's bars than its share; then piano chunks over
a playing guitar lay out while the piano is silent in fewer of the guitar's bars than its share. The first chunk
(the start) is left as it is; only chunks the take may change.

Over a followed part that plays one of them (`follow`), the other sits the take out at the learned share of
windows (card `role_absent`: where a real guitar plays, the piano is silent throughout in 51 % of training windows;
where a real piano plays, the guitar in 21 %), and otherwise lays out chunk by chunk until it is silent in its
`role_rest` share of the part's bars, as `balance` does for the piano under a chart (replacing a fixed rule that
laid the other out in 64 % of its 4-bar phrases).
"""

from __future__ import annotations

import numpy as np

from ..sketch.song import LANES
from . import solo
from .recall import chord_moves, shift_pitches

PIANO, GUITAR = LANES.index("piano"), LANES.index("guitar")


def balance(
    probs: np.ndarray,
    rest,
    free: np.ndarray,
    threshold: float,
    chunk_bars: int,
    bar_steps: int,
    seed: int,
    features: np.ndarray | None = None,
    copies: dict | None = None,
    first: int = 1,
    returns: dict | None = None,
) -> dict:
    """In place on probs (5, B, steps, 128) after the loop; rest: the card's role_rest (piano, guitar first);
    free: (bars, 5) what the take may change; features: (chunks, B, bars * 24) the plan's chord features, or None
    (a guitar chunk comes back unmoved); copies: {chunk: the chunks of a form's repeated sections that play it
    again} (form_roles.py), counted as doing what their first time does (form_roles.mirror makes them do it);
    first: the first chunk measured and changed (1: the start is left as it is; a form's intro is a section, 0);
    returns: {(take, chunk): chunks} the piano's returns (`returns_of`), laid out together where the share allows.
    Returns how many chunks laid out and came back."""
    copies = copies or {}
    chunk = chunk_bars * bar_steps
    n = probs.shape[2] // chunk
    rng = np.random.default_rng([int(seed), 29, 2])
    done = {"laid_out": 0, "came_back": 0}
    if n < 2 or rest is None:
        return done
    for b in range(probs.shape[1]):
        bars = (probs[[PIANO, GUITAR], b, : n * chunk] >= threshold).reshape(2, n, chunk_bars, -1).any(axis=3)
        if not bars[0, first:].any() or not bars[1, first:].any():
            continue  # a take without one of them has no roles to share
        movable = np.array(
            [[free[c * chunk_bars : (c + 1) * chunk_bars, lane].all() for c in range(n)] for lane in (PIANO, GUITAR)]
        )
        # the guitar comes back (chunk by chunk) while it is silent in more of the piano's bars than its share
        keep_silent = rng.binomial(int(bars[0, first:].sum()), float(rest[GUITAR]))
        full = bars[1].all(axis=1)
        for c in rng.permutation(np.flatnonzero((bars[0] & ~bars[1]).any(axis=1)[first:] & movable[1, first:]) + first):
            if int((bars[0, first:] & ~bars[1, first:]).sum()) <= keep_silent:
                break
            src = _nearest_sounding(full, c)
            if src is None:
                continue
            _replay_chunk(probs, GUITAR, b, src, c, chunk, chunk_bars, bar_steps, features)
            bars[1, [c, *copies.get(int(c), ())]] = bars[1, src]
            done["came_back"] += 1
        # the piano lays out (chunk by chunk) over the guitar until it is silent in its share of the guitar's bars;
        # chunks no return joins first; a chunk the piano returns to (or from) lays out with its returns while
        # that keeps to the share, so a pattern that comes back is heard each time or not at all; the others one
        # by one after (the count laid out is the share's either way)
        want = rng.binomial(int(bars[1, first:].sum()), float(rest[PIANO]))
        both = np.flatnonzero((bars[0] & bars[1]).all(axis=1)[first:] & movable[0, first:]) + first
        order = [int(c) for c in rng.permutation(both)]
        kin = _families(returns or {}, b, set(order))
        order = [c for c in order if len(kin.get(c, [c])) == 1] + [c for c in order if len(kin.get(c, [c])) > 1]
        alone = []
        for c in order:
            silent = int((bars[1, first:] & ~bars[0, first:]).sum())
            if silent + chunk_bars // 2 > want:
                break
            group = [e for e in kin.get(c, [c]) if bars[0, e].all()]
            if not group:
                continue  # laid out with its family already
            if silent + int(bars[1, group].sum()) > want + chunk_bars // 2:
                alone.append(c)  # its family would pass the share: one by one after
                continue
            for e in group:
                _lay_out(probs, bars, b, e, chunk, copies)
                done["laid_out"] += 1
        for c in alone:
            if int((bars[1, first:] & ~bars[0, first:]).sum()) + chunk_bars // 2 > want:
                break
            if bars[0, c].all():
                _lay_out(probs, bars, b, c, chunk, copies)
                done["laid_out"] += 1
    return done


def _lay_out(probs, bars, b, c, chunk, copies) -> None:
    """The piano's chunk c of take b silent (and counted so in bars, with the form's copies of it)."""
    probs[PIANO, b, c * chunk : (c + 1) * chunk] = 0.0
    bars[0, [c, *copies.get(int(c), ())]] = False


def returns_of(made: list, lane: int = PIANO) -> dict:
    """{(take, chunk): the chunks linked to it by the lane's returns (recall.Recall.made: source and return)}."""
    out: dict = {}
    for target, which, b, src, _, _ in made:
        if which == lane:
            out.setdefault((b, int(target)), set()).add(int(src))
            out.setdefault((b, int(src)), set()).add(int(target))
    return out


def _families(returns: dict, b: int, chunks: set) -> dict:
    """{chunk: its family} over `chunks`: the chunks joined to it by returns of take b, one step or more, kept
    to those in `chunks` (the piano's chunks that may lay out), in order."""
    out = {}
    for c in chunks:
        if c in out:
            continue
        seen, todo = {c}, [c]
        while todo:
            for e in returns.get((b, todo.pop()), ()):
                if e not in seen:
                    seen.add(e)
                    todo.append(e)
        family = sorted(seen & chunks)
        for e in family:
            out[e] = family
    return out


def _nearest_sounding(plays: np.ndarray, c: int) -> int | None:
    """The chunk (index into plays, True where the lane plays all of it) nearest before c, else after; or None."""
    before = [e for e in range(c - 1, -1, -1) if plays[e]]
    after = [e for e in range(c + 1, len(plays)) if plays[e]]
    return before[0] if before else (after[0] if after else None)


def _replay_chunk(probs, lane, b, src, target, chunk, chunk_bars, bar_steps, features) -> None:
    """The lane's chunk `src` played again at `target`, each bar moved to the target bar's chord root."""
    moves = [0] * chunk_bars
    if features is not None:
        bars = features[:, b].reshape(features.shape[0], chunk_bars, -1)
        if target < len(bars):
            moves = chord_moves(bars[src], bars[target])
    for j in range(chunk_bars):
        cells = probs[lane, b, src * chunk + j * bar_steps : src * chunk + (j + 1) * bar_steps]
        probs[lane, b, target * chunk + j * bar_steps : target * chunk + (j + 1) * bar_steps] = shift_pitches(
            cells, moves[j]
        )


def follow(
    probs: np.ndarray,
    given,
    rest,
    absent,
    free: np.ndarray,
    threshold: float,
    chunk_bars: int,
    bar_steps: int,
    seed: int,
    copies: dict | None = None,
) -> dict:
    """In place on probs (5, B, steps, 128) after the loop, when the musician's part plays one of piano and guitar
    (given: its lanes): the other sits the take out at its `absent` share (drawn per take), else lays out in chunks
    over the part until silent in its `rest` share of the part's bars (from chunk 1 on, as measured). rest, absent:
    the card's role_rest and role_absent (piano, guitar first; absent None: never). free: (bars, 5) what the take
    may change; copies: as `balance`'s. Returns how many takes sat out and chunks laid out."""
    copies = copies or {}
    done = {"sat_out": 0, "laid_out": 0}
    comping = [lane for lane in (PIANO, GUITAR) if lane in given]
    if len(comping) != 1 or rest is None:
        return done
    part, other = comping[0], GUITAR if comping[0] == PIANO else PIANO
    chunk = chunk_bars * bar_steps
    n = probs.shape[2] // chunk
    rng = np.random.default_rng([int(seed), 29, 3])
    movable = np.array([free[c * chunk_bars : (c + 1) * chunk_bars, other].all() for c in range(n)])
    for b in range(probs.shape[1]):
        bars = (probs[[other, part], b, : n * chunk] >= threshold).reshape(2, n, chunk_bars, -1).any(axis=3)
        if not bars[1, 1:].any() or not bars[0, 1:].any():
            continue  # the part rests, or the other already does
        if absent is not None and rng.random() < float(absent[other]):
            for c in np.flatnonzero(movable[1:]) + 1:
                probs[other, b, c * chunk : (c + 1) * chunk] = 0.0
            done["sat_out"] += 1
            continue
        want = rng.binomial(int(bars[1, 1:].sum()), float(rest[other]))
        for c in rng.permutation(np.flatnonzero((bars[0] & bars[1]).any(axis=1)[1:] & movable[1:]) + 1):
            if int((bars[1, 1:] & ~bars[0, 1:]).sum()) + chunk_bars // 2 > want:
                break
            probs[other, b, c * chunk : (c + 1) * chunk] = 0.0
            bars[0, [c, *copies.get(int(c), ())]] = False
            done["laid_out"] += 1
    return done


def sit_out(
    probs: np.ndarray,
    absent,
    free: np.ndarray,
    threshold: float,
    chunk_bars: int,
    bar_steps: int,
    seed: int,
    solo=None,
    features: np.ndarray | None = None,
    solo_free: np.ndarray | None = None,
) -> int:
    """In place on probs (5, B, steps, 128), under a chart alone (the musician typed chords, no primer, no part, no
    lineup asked): where the guitar plays the take (after its first chunk), the piano sits the whole take out at
    its `absent` share (card role_absent, learned on training songs: where a real guitar plays, the piano is silent
    throughout in 51 % of windows), drawn per take; every chunk the take may change. Without it the piano played
    68.6 % of the bars of 48 validation songs' charts against 29.8 % real. The piano is not erased: its cells move
    down by one logit shift until its surest cell is just under the threshold, so the take is silent there at the
    piano's density 1 and a density turned up brings its surest notes back first (Song.lane_thresholds: density d
    lowers the lane's threshold by 2 ln d logits). solo: the card's `solo_rest` (the guitar's share of bars at rest
    where a real piano is absent throughout: 0.10 of 2,548 bars of training windows; ours, under a chart, about a
    quarter): in a take the piano sat out, guitar chunks with silent bars come back as its nearest fully playing
    chunk moved to the new chords (as `balance` brings it back) until it rests in about that share of the
    changeable bars (drawn per take), so the chart keeps a comping instrument. features: as `balance`'s; solo_free:
    the bars the guitar's comeback may change (a form's repeats left to form_roles.mirror), else free. Returns how
    many takes sat out."""
    done = 0
    if absent is None or float(absent[PIANO]) <= 0.0:
        return done
    chunk = chunk_bars * bar_steps
    n = probs.shape[2] // chunk
    rng = np.random.default_rng([int(seed), 29, 4])
    movable = [c for c in range(n) if free[c * chunk_bars : (c + 1) * chunk_bars, PIANO].all()]
    for b in range(probs.shape[1]):
        draw = rng.random()  # drawn for every take, so a take's draw does not hang on the others'
        guitar = (probs[GUITAR, b, chunk : n * chunk] >= threshold).any()
        piano = (probs[PIANO, b, : n * chunk] >= threshold).any()
        if guitar and piano and movable and draw < float(absent[PIANO]):  # (a locked piano: none movable)
            cells = np.concatenate([probs[PIANO, b, c * chunk : (c + 1) * chunk] for c in movable])
            top = float(cells.max()) if cells.size else 0.0
            if top >= threshold:
                shift = _logit(threshold * 0.999) - _logit(top)
                for c in movable:
                    part = probs[PIANO, b, c * chunk : (c + 1) * chunk]
                    part[...] = np.where(part > 0, 1.0 / (1.0 + np.exp(-(_logit(part) + shift))), 0.0)
            if solo is not None:
                back = np.random.default_rng([int(seed), 29, 5, b])  # its own draws: the next take's stay as they were
                back_free = free if solo_free is None else solo_free
                _guitar_back(probs, b, back_free, threshold, chunk_bars, bar_steps, float(solo[GUITAR]), back, features)
            done += 1
    return done


def _guitar_back(probs, b, free, threshold, chunk_bars, bar_steps, share, rng, features) -> None:
    """The guitar's chunks with silent bars come back (nearest fully playing chunk) until it rests in about
    `share` of the changeable chunks' bars; then its silent bars (solo.bars_back), or a phrase lays out
    (solo.lay_out), to that share."""
    chunk = chunk_bars * bar_steps
    n = probs.shape[2] // chunk
    movable = [c for c in range(n) if free[c * chunk_bars : (c + 1) * chunk_bars, GUITAR].all()]
    bars = (probs[GUITAR, b, : n * chunk] >= threshold).reshape(n, chunk_bars, -1).any(axis=2)
    keep_silent = rng.binomial(len(movable) * chunk_bars, share)
    for c in rng.permutation([c for c in movable if not bars[c].all()]):
        if int((~bars[movable]).sum()) <= keep_silent:
            break
        src = _nearest_sounding(bars.all(axis=1), int(c))
        if src is None:
            break
        _replay_chunk(probs, GUITAR, b, src, int(c), chunk, chunk_bars, bar_steps, features)
        bars[c] = bars[src]
    heard = bars & solo.marked(features, b, n, chunk_bars)  # a bar the chart marks N.C. rests (the chart check)
    solo.bars_back(probs, b, heard, movable, keep_silent, chunk_bars, bar_steps, rng, features)  # no full chunk
    solo.lay_out(probs, b, heard, movable, keep_silent, chunk, rng)  # a guitar that never rested lays a phrase out


def _logit(p):
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))
