"""Lanes with roles in a take with a song form: of piano and guitar, one comps while the other lays out or sits the
song out (roles.py), with the sections' repeats kept.

Without it a chart with a form kept every piano and guitar bar the loop left (48 validation charts, verse / chorus /
verse / chorus: piano in 82 % of bars against 29.8 % real). The roles run as under a chart alone, at the same
learned shares (card role_rest, role_absent, solo_rest), a role per take; what a repeated section plays follows its
first time (engine/sections.py: a section that comes back plays its first time's music): only the first time of a
section (and bars in no repeated section) may lay out or bring the guitar back, and `mirror` then plays each
repeated bar of piano and guitar that the roles changed again from the bar it repeats, moved to its own chord's root
(recall.chord_moves). A piano that lays out in the first verse lays out in the second; a chorus keeps its lanes.
A form's first section (an intro, a first verse) may lay out too (`balance`'s first chunk 0), where a take without
a form leaves its start as it is. Over a followed part (`follow`) roles.follow runs the same way.

Training songs give no role per section (8-bar blocks of 197 windows with a guitar and a piano that plays part of
the time: the piano plays 62.7 % of the lighter half's bars, 61.8 % of the fuller half's), so the role stays the
take's, laid out phrase by phrase.
"""

from __future__ import annotations

import numpy as np

from . import roles
from .recall import chord_moves, shift_pitches, twin_chunks
from .sections import repeat_map

LANES_WITH_ROLES = (roles.PIANO, roles.GUITAR)


def copies_of(sections, chunks: int, chunk_bars: int) -> dict[int, list[int]]:
    """{chunk: the later chunks that play it again whole} (recall.twin_chunks turned round)."""
    out: dict[int, list[int]] = {}
    for c, first in enumerate(twin_chunks(sections, chunks, chunk_bars)):
        if first >= 0:
            out.setdefault(int(first), []).append(c)
    return out


def first_times(free: np.ndarray, mapping: dict[int, int]) -> np.ndarray:
    """(bars, 5) free less the bars of repeated sections (mapping: sections.repeat_map)."""
    out = free.copy()
    out[[bar for bar in mapping if bar < len(out)]] = False
    return out


def mirror(probs, before, mapping, features, chunk_bars: int, bar_steps: int) -> int:
    """In place on probs (5, B, steps, 128): each repeated bar (mapping {bar: the bar it plays again}) of piano and
    guitar whose source bar the roles changed (before: probs's piano and guitar as the loop left them, (2, B, steps,
    128)) plays the source bar again, moved from the source's chord to its own (features: the plan's, or None).
    Returns how many bars."""
    done = 0
    for b in range(probs.shape[1]):
        for k, lane in enumerate(LANES_WITH_ROLES):
            for target, source in sorted(mapping.items()):
                lo, to = source * bar_steps, target * bar_steps
                if to + bar_steps > probs.shape[2]:
                    continue
                now = probs[lane, b, lo : lo + bar_steps]
                if np.array_equal(now, before[k, b, lo : lo + bar_steps]):
                    continue
                move = 0
                if features is not None:
                    feats = features[:, b].reshape(features.shape[0], chunk_bars, -1)
                    sc, sj, tc, tj = *divmod(source, chunk_bars), *divmod(target, chunk_bars)
                    if max(sc, tc) < len(feats):
                        move = chord_moves(feats[sc, sj : sj + 1], feats[tc, tj : tj + 1])[0]
                probs[lane, b, to : to + bar_steps] = shift_pitches(now, move)
                done += 1
    return done


def play(probs, card, sections, free, threshold: float, chunk_bars: int, bar_steps: int, seed: int, features, alone):
    """The roles in place on a form take's probs (5, B, steps, 128), the sections' repeats kept. card: the pack's
    generation card (role_rest, role_absent, solo_rest); free: (bars, 5) what the take may change; features: the
    plan's chord features (chunks, B, bars * 24); alone: a chart alone (the piano may sit the take out,
    roles.sit_out). Returns {"sat_out", "laid_out", "came_back", "mirrored"}."""
    n_bars = probs.shape[2] // bar_steps
    mapping = repeat_map(list(sections), n_bars)
    first = first_times(free, mapping)
    start = 0 if any(s.start == 1 for s in sections) else 1  # an intro (the form's first section) is a section too
    before = probs[list(LANES_WITH_ROLES)].copy()
    done = {"sat_out": 0}
    if alone:
        # the piano's logit shift is the whole take's (repeats too: they stay alike); the guitar's comeback only the
        # first times
        done["sat_out"] = roles.sit_out(
            probs, card.role_absent, free, threshold, chunk_bars, bar_steps, seed, card.solo_rest, features, first
        )
        before[0] = probs[roles.PIANO]  # the shift is not a change to mirror
    copies = copies_of(sections, n_bars // chunk_bars, chunk_bars)
    done.update(
        roles.balance(probs, card.role_rest, first, threshold, chunk_bars, bar_steps, seed, features, copies, start)
    )
    done["mirrored"] = mirror(probs, before, mapping, features, chunk_bars, bar_steps)
    return done


def follow(probs, given, card, sections, free, threshold: float, chunk_bars: int, bar_steps: int, seed: int, features):
    """roles.follow over a followed part (given: its lanes) in a take with a form, the repeats kept as `play`
    keeps them: the other lane sits out or lays out in first times, and the repeats follow (`mirror`)."""
    n_bars = probs.shape[2] // bar_steps
    mapping = repeat_map(list(sections), n_bars)
    before = probs[list(LANES_WITH_ROLES)].copy()
    copies = copies_of(sections, n_bars // chunk_bars, chunk_bars)
    first = first_times(free, mapping)
    done = roles.follow(
        probs, given, card.role_rest, card.role_absent, first, threshold, chunk_bars, bar_steps, seed, copies
    )
    done["mirrored"] = mirror(probs, before, mapping, features, chunk_bars, bar_steps)
    return done
