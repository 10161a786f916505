"""Grooves that come back: where a lane returns to an earlier 4-bar chunk of its section, and how it plays it.

Real songs (200 training windows, evaluation/learn_arrangement.py): where an earlier chunk has the same chords bar
by bar, a lane comes back to it (Jaccard >= 0.6) in 77-90 % of chunks (strings 77, piano 81, drums 88, bass 88,
guitar 90); where the nearest shares 3 of 4 chords, with the other bar moved to its new root, in 34-75 % (strings
34, piano 50, guitar 55, bass 60, drums 75); fewer shared chords, 4-14 % (drums 57). About half of the returns
replay the chunk exactly (Jaccard >= 0.9: strings 36 %, the rest 50-54 %), the others with a variation. The
loop (`Loop._recall`) draws the returns at those shares and decodes them from the source's latents; `replay`
plays the source's finished notes again after the groove stage, whose per-bar draws (passing notes, restrikes,
voicing) would otherwise blur a return past recognition.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..sketch.song import DRUMS
from ..theory.sections import repeats
from .chording import fit_to_chart

RECALL_NOISE = 0.05  # sd on a recalled pattern's latents (the loop's noise is about 1): the same groove, a nuance
# lanes whose chunks that do not return move on, free of the pull toward the first chunk: the drums (no chords
# steer them; held by the pull, 86-91 % of their chunks were near an earlier one against real songs' 64 %)
MOVES_ON = (DRUMS,)
VARIED_BARS = 1  # a return with a variation plays the pattern's notes again but for its last bar, its own
CRASHES = [49, 57]  # crash cymbals 1 and 2 (GM): a return keeps the one on its downbeat


@dataclass
class Recall:
    """Grooves that come back (card `recall`, `recall_moved`, `recall_apart`, `recall_exact`,
    `recall_exact_changed`, `recall_moves`): at each new chunk, each lane may return to the earlier chunk of its
    section that shares most of its chords, bar by bar: all four the same at the lane's `rates`, three at `moved`,
    two or fewer at `apart` (None: no return there). Where chords changed, the bars of another chord move to their
    new roots at the lane's `shift` share (a riff moved with the chord), else keep their notes, fitted to the new
    chords (a pedal, common tones: most real returns); the drums return as they were. Of the returns, the lane's
    `exact` share (under changed chords `exact_changed`) plays the chunk again note for note, the rest with a
    variation (its last bar its own; None: every return exact). An exact return takes the source's latents plus a
    nuance of RECALL_NOISE, so the chunks after it go on from the pattern; a varied one keeps the loop's chunk,
    heard in its last bar. section: (chunks,) the section index of each chunk (-1 outside any); twin: (chunks,) for
    a chunk of a section that comes back (a second verse), the chunk at its place in the first section of its kind,
    to which it returns (-1: none); seed: its own random stream (takes without it are unchanged). free: a take
    without chords (card `recall_free`, `recall_free_exact`, learned with no chords read): a return goes back to an
    earlier chunk of its section drawn at random, and every lane of `moves_on` that does not return exactly moves
    on free of the pull toward the first chunk (but for its `kept_pull` share of it)."""

    rates: np.ndarray
    section: np.ndarray
    seed: int
    moved: np.ndarray | None = None
    apart: np.ndarray | None = None
    exact: np.ndarray | None = None
    shift: np.ndarray | None = None
    exact_changed: np.ndarray | None = None
    twin: np.ndarray | None = None  # (chunks,) the chunk of the first section of its kind it plays again, or -1
    # the lanes whose chunks that do not return move on free of the pull (a take without chords: the pitched lanes)
    moves_on: tuple = MOVES_ON
    kept_pull: np.ndarray | None = None  # (lanes,) the share of the pull a lane of moves_on keeps moving on (None: 0)
    free: bool = False  # a take without chords: a return goes back to any earlier chunk of its section, drawn
    # the drums of moves_on move on only where they keep their kit bars (engine/kit.py): False (no check), True
    # (keep_kit), a kit.DrumMoves (a take without chords: varied or new grooves at the songs' shares) or a
    # kit.HeldKit (a form take: held drums move on where held they fade off the kit)
    kit_guard: object = False
    earliest: int = 0  # a take without chords returns to no chunk before this one (1: not to a primer)
    vary: object = None  # a continuation's chunks that do not return: near or new at real songs' shares (vary.py)
    # (lanes,) a take without chords: the share of a lane's returns that go back to the chunk just before (a groove
    # held; the rest to another earlier chunk of the section, drawn), card `recall_free_last`; None: all drawn
    last: np.ndarray | None = None
    # (chunk, lane, take, source chunk, moves a bar or None, exact) of each return
    made: list = field(default_factory=list)

    def sources(self, target: int, plan, batch: int) -> list[tuple[int, list[int] | None, np.ndarray] | None]:
        """Per take of the batch, (the chunk `target` may return to, the semitones each bar moves: None for the
        same chords, the five lanes' shares of returning) or None (nothing earlier in its section shares enough).
        A chunk of a section that comes back returns to its twin in the first time of its kind (share 1)."""
        same = [c for c in range(target) if self.section[c] == self.section[target]]
        order = sorted(same, key=lambda c: (c < 1, c))  # the first after the start, else the start
        twin = int(self.twin[target]) if self.twin is not None and 0 <= self.twin[target] < target else None
        if twin is not None:
            order = [twin] + [c for c in order if c != twin]
        out = []
        if self.free and plan is None:  # no chords to match: any earlier chunk of the section, drawn per take
            pick = np.random.default_rng([int(self.seed), 30, target])
            pool = [c for c in same if c >= self.earliest]
            for _ in range(batch):
                if twin is not None:
                    out.append((twin, None, np.ones_like(self.rates)))
                else:
                    out.append((int(pick.choice(pool)), None, self.rates) if pool else None)
            return out
        for b in range(batch):
            if plan is None:
                out.append(
                    (order[0], None, self.rates if twin is None else np.ones_like(self.rates)) if order else None
                )
                continue
            bars = self._features(plan)[:, b]
            n_bars = len(bars[target])
            found, best = None, (-1 if self.apart is not None else n_bars - 2)
            for c in order:
                k = int((bars[c] == bars[target]).all(axis=1).sum())
                if k > best or c == twin:
                    found, best = c, k
                if c == twin:
                    break
            if found is None:
                out.append(None)
                continue
            moves = None if best == n_bars else chord_moves(bars[found], bars[target])
            out.append((found, moves, np.ones_like(self.rates) if found == twin else self.rate(best, n_bars)))
        return out

    def source(self, lane: int, src: int, target: int, take: int) -> int:
        """The chunk lane's return at `target` of `take` goes back to: in a take without chords, the chunk just
        before at the lane's `last` share, else another earlier chunk of the section drawn at random (a return
        drawn from `sources`, `src`, chose among them all, the one before included); a twin's stays."""
        if self.last is None or not self.free or target < 1 or self.section[target - 1] != self.section[target]:
            return src
        if self.twin is not None and 0 <= self.twin[target] < target or target - 1 < self.earliest:
            return src
        pool = [c for c in range(target - 1) if self.section[c] == self.section[target] and c >= self.earliest]
        draw = np.random.default_rng([int(self.seed), 33, target, take, lane])
        if not pool or draw.random() < float(self.last[lane]):
            return target - 1
        return int(draw.choice(pool))

    def _features(self, plan) -> np.ndarray:
        """The plan's chord features per chunk, take and bar (chunks, B, bars, 24), read from the device once."""
        if getattr(self, "_feats", None) is None or self._feats[0] is not plan:
            feats = plan.features.cpu().numpy()
            self._feats = (plan, feats.reshape(feats.shape[0], feats.shape[1], -1, 24))
        return self._feats[1]

    def returns(self, target: int, lane: int, take: int, exact: bool = False) -> bool:
        """Whether `lane` of `take` returned at chunk `target` (exact: note for note)."""
        return any(m[:3] == (target, lane, take) and (m[5] or not exact) for m in self.made)

    def drums_moved(self, target: int, take: int, revived=None) -> bool:
        """Whether the drums of `take` moved on free of the pull at chunk `target` (in moves_on, no exact return
        there, not revived)."""
        if DRUMS not in self.moves_on or self.returns(target, DRUMS, take, True):
            return False
        return revived is None or not bool(revived[DRUMS, take])

    def rate(self, shared: int, bars: int = 4) -> np.ndarray:
        """The five lanes' shares of returning to a source that shares `shared` of its `bars` bars' chords (-1:
        no chords, as the same)."""
        if shared < 0 or shared >= bars:
            return self.rates
        share = self.moved if shared == bars - 1 else self.apart
        return share if share is not None else np.zeros_like(self.rates)

    def exact_share(self, changed: bool = False) -> np.ndarray:
        """The five lanes' shares of returns played note for note (changed: under changed chords)."""
        share = self.exact_changed if changed and self.exact_changed is not None else self.exact
        return share if share is not None else np.ones_like(self.rates)

    def moved_share(self) -> np.ndarray:
        """The five lanes' shares of returns under changed chords moved to the new roots (the rest keep their
        notes, which the chords then fit)."""
        return self.shift if self.shift is not None else np.ones_like(self.rates)


def twin_chunks(sections, chunks: int, bars: int) -> np.ndarray:
    """(chunks,) for each chunk whose first bar lies in a section that comes back (theory.sections.repeats), the
    chunk at the same place in the first section of its kind, where that place starts a chunk; else -1."""
    out = np.full(chunks, -1)
    for again, first in repeats(list(sections)):
        for c in range(chunks):
            bar = c * bars  # 0-based first bar of the chunk
            if again.start - 1 <= bar < again.start - 1 + again.bars:
                source = first.start - 1 + (bar - (again.start - 1)) % first.bars
                if source % bars == 0 and source // bars < c:
                    out[c] = source // bars
    return out


def chord_moves(source: np.ndarray, target: np.ndarray) -> list[int]:
    """Per bar, the semitones (-6..5) that move the source chunk's bar chord features (bars, 24) onto the target's:
    0 for the same chord (or none), else the shift that maps its tones onto the target's, else its lowest note
    onto the target's."""
    moves = []
    for s, t in zip(source, target):
        if not s.any() or not t.any() or np.array_equal(s, t):
            moves.append(0)
            continue
        shift = next((k for k in range(12) if np.array_equal(np.roll(s[:12], k), t[:12])), None)
        if shift is None:
            shift = int(np.argmax(t[12:])) - int(np.argmax(s[12:]))
        moves.append((shift + 6) % 12 - 6)
    return moves


def shift_pitches(cells: np.ndarray, move: int) -> np.ndarray:
    """(steps, 128) cells moved `move` semitones (what passes 0-127 is dropped)."""
    out = np.zeros_like(cells)
    if move > 0:
        out[:, move:] = cells[:, :-move]
    elif move < 0:
        out[:, :move] = cells[:, -move:]
    else:
        out[:] = cells
    return out


def replay(probs: np.ndarray, made: list, free: np.ndarray, chunk_bars: int, bar_steps: int, lead_ins=None) -> int:
    """In place on a take's finished probabilities (5, B, steps, 128), after the groove stage: each return of
    `made` plays its source chunk's notes again (moved bar by bar to its new roots where it moved; the chart check
    that follows re-voices them to the new chords), but for its last beat, where the band leads into whatever
    comes next (a bass approach note, a pickup), and, a return with a variation, for its last VARIED_BARS bars,
    its own (decoded from the pattern, then the groove's draws). lead_ins: the 0-based bars that lead into a
    section (sections.fill_bars), or None: the drums' exact returns play their last beat again too, as a drummer
    repeats a groove, but where they lead into a section (the fill's two beats stay: `replayed_steps`). Only bars
    the take may change (free: (bars, 5)). How many returns were replayed."""
    chunk = chunk_bars * bar_steps
    done = 0
    for target, lane, b, src, moves, exact in made:
        t0, s0 = target * chunk, src * chunk
        if t0 + chunk > probs.shape[2] or not free[target * chunk_bars : (target + 1) * chunk_bars, lane].all():
            continue
        end = replayed_steps(lane, target, exact, chunk_bars, bar_steps, lead_ins)
        for j in range(-(-end // bar_steps)):
            rows = slice(j * bar_steps, min((j + 1) * bar_steps, end))
            cells = probs[lane, b, s0 : s0 + chunk][rows]
            if moves is not None:
                cells = shift_pitches(cells, moves[j])
            if lane == DRUMS and j == 0:  # a crash the groove put on the chunk's downbeat (a new phrase) stays
                cells = cells.copy()
                cells[0, CRASHES] = np.maximum(cells[0, CRASHES], probs[lane, b, t0, CRASHES])
            probs[lane, b, t0 : t0 + chunk][rows] = cells
        done += 1
    return done


def replayed_steps(lane: int, target: int, exact: bool, chunk_bars: int, bar_steps: int, lead_ins) -> int:
    """The steps of a return at chunk `target` that play its source again: an exact one all but its last beat (a
    bass's approach note, a pickup into what comes next), the drums' all of it (a drummer repeats the 4 bars, a fill
    at their end or none as the source played it) but where its last bar leads into a new section (`lead_ins`, the
    0-based bars before a section, sections.fill_bars; None: unknown, the last beat left as the others'), whose
    fill's two beats stay; a return with a variation all but its last VARIED_BARS bars."""
    beat = bar_steps // 4
    if not exact:
        return (chunk_bars - VARIED_BARS) * bar_steps
    whole = chunk_bars * bar_steps
    if lane != DRUMS or lead_ins is None:
        return whole - beat
    return whole - 2 * beat if (target + 1) * chunk_bars - 1 in set(lead_ins) else whole


def settle(
    song, made: list, take: int, chords, free: np.ndarray, chunk_bars: int, lead_ins=None, whole: tuple = ()
) -> int:
    """In place on a finished take (Song) of the batch, after the chart check: each return of `made` to the same
    chords, beat for beat (`chords`: a Chord or None a beat, or None; the drums always), plays its source's
    finished notes again, which the check fitted to those chords already; the check mends a bar by what the
    whole band plays there, so it would otherwise mend a returning lane's bar as it did not its source's. As
    `replay`: but for its last beat (a return with a variation, its last VARIED_BARS bars; the drums' as
    `replayed_steps` with `lead_ins`). Only bars the take may change (free: (bars, 5)). The bars of the settled
    returns are checked again (chording.fit_to_chart: only a bar no longer heard as its chord is mended, the band
    around the returning lane being another than its source's). whole: the pitched lanes whose exact return plays
    its last beat again too where what follows it starts on the chord that followed its source (`leads_alike`: its
    lead-in leads where the source's led). How many returns were settled."""
    bar = song.steps_per_bar
    chunk = chunk_bars * bar
    done = 0
    touched = np.zeros_like(free)
    for target, lane, b, src, moves, exact in made:
        t0, s0 = target * chunk, src * chunk
        if b != take or moves is not None or t0 + chunk > song.n_steps:
            continue
        if not free[target * chunk_bars : (target + 1) * chunk_bars, lane].all():
            continue
        if lane != DRUMS:
            if chords is None:
                continue
            beats = chunk_bars * 4
            if list(chords[target * beats : (target + 1) * beats]) != list(chords[src * beats : (src + 1) * beats]):
                continue
        end = replayed_steps(lane, target, exact, chunk_bars, bar, lead_ins) if lane == DRUMS else None
        if exact and lane in whole and leads_alike(chords, target, src, chunk_bars):
            end = chunk
        rows = returned_rows(song, lane, t0, s0, chunk_bars, exact, end)
        if rows is None:
            continue  # a bar laid out since (roles) stays out
        crash = song.probs[lane, t0, CRASHES].copy() if lane == DRUMS else None
        song.probs[lane, t0 : t0 + rows] = song.probs[lane, s0 : s0 + rows]
        if crash is not None:  # as `replay`: the downbeat's crash stays
            song.probs[lane, t0, CRASHES] = np.maximum(song.probs[lane, t0, CRASHES], crash)
        touched[target * chunk_bars : (target + 1) * chunk_bars, lane] = lane != DRUMS
        done += 1
    if chords is not None and touched.any():  # the band around a settled lane differs from its source's: a bar
        # no longer heard as its chord mends, by the lanes around the settled one (its notes fit these chords)
        fit_to_chart(song, chords, free & touched.any(axis=1, keepdims=True) & ~touched)
    return done


def leads_alike(chords, target: int, src: int, chunk_bars: int) -> bool:
    """Whether the chunk after `target` starts on the chord the chunk after `src` started on (`chords`: a Chord or
    None a beat; False where either chunk is the take's last), so a return's last beat leads in as its source's."""
    if chords is None:
        return False
    beats = chunk_bars * 4
    a, b = (target + 1) * beats, (src + 1) * beats
    return max(a, b) < len(chords) and chords[a] is not None and chords[a] == chords[b]


def returned_rows(
    song, lane: int, t0: int, s0: int, chunk_bars: int, exact: bool, end: int | None = None
) -> int | None:
    """The steps of a return at t0 (its source at s0) that play the source again: all but the chunk's last beat
    (exact), else all but its last VARIED_BARS bars (a return with a variation), or `end` where given; None where a
    bar of them was laid out since (roles) in the return or its source but not in both: that bar stays as it is."""
    bar = song.steps_per_bar
    rows = end if end is not None else chunk_bars * bar - bar // 4 if exact else (chunk_bars - VARIED_BARS) * bar
    now, then = song.probs[lane, t0 : t0 + rows], song.probs[lane, s0 : s0 + rows]
    if not np.array_equal(_bars_heard(now, bar, song.threshold), _bars_heard(then, bar, song.threshold)):
        return None
    return rows


def _bars_heard(probs: np.ndarray, bar: int, threshold: float) -> np.ndarray:
    """Per bar (or part of one) of (steps, 128) probabilities, whether any cell sounds."""
    loud = probs.max(axis=1) >= threshold
    pad = np.zeros(-(-len(loud) // bar) * bar, dtype=bool)
    pad[: len(loud)] = loud
    return pad.reshape(-1, bar).any(axis=1)
