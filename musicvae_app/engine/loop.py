"""The generation loop: from a first chunk, predict, add noise, decode and re-encode chunk after chunk.

One loop (`Loop.run`) serves generate, continue, lock and regenerate: lanes whose chunks are given
("forced") are taken from an existing song instead of predicted, and the lead lane's forced latent is
what the other lanes are conditioned on. The Decoder turns latents into probabilities (with the call's
steering: scale lock, chords) and back; every decoded result leaves the engine through its checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np
import torch

from ..model.pack import PackError
from ..sketch.song import DRUMS, LANES, Song, lane_index
from ..theory.keys import transpose_roll
from .chording import passing_cells
from .kit import DrumMoves, HeldKit, keep_kit
from .recall import RECALL_NOISE, VARIED_BARS, Recall
from .runtime import torch_threads

BASS = LANES.index("bass")

REVIVE_NOISE = 0.25  # share of the step's noise on a revived lane: much more decodes the piano to silence


@dataclass
class _Forced:
    """Chunks taken as given: mask (chunks, L) and their probabilities (L, steps, 128)."""

    mask: np.ndarray
    probs: np.ndarray
    threshold: float


def _moved(probs: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """Each cell's probability moved to the pitch `index` names (last axis); where two land, the larger stays."""
    index = index.expand_as(probs)
    return torch.zeros_like(probs).scatter_reduce_(-1, index, probs, "amax", include_self=True)


def _keep_cells(src: torch.Tensor, moved: torch.Tensor, kept: torch.Tensor, maps: torch.Tensor) -> None:
    """In place on moved = _moved(src, maps) (lanes, B, bars, steps, 128): the cells at flat positions `kept`
    stay where they are in src and take no part in the move. Only the rows (steps) holding a kept cell are
    moved again: every other row is what moving src without them gives. maps: (B, bars, 128)."""
    width, steps = src.shape[-1], src.shape[-2]
    rows, at = torch.unique(kept // width, return_inverse=True)
    mask = torch.zeros((len(rows), width), dtype=torch.bool, device=src.device)
    mask[at, kept % width] = True
    per_lane = src[0].numel() // width
    cells = src.reshape(src.shape[0], per_lane, width)[rows // per_lane, rows % per_lane]  # a view of a lane's rows
    index = maps.reshape(-1, width)[(rows // steps) % (maps.shape[0] * maps.shape[1])]
    again = torch.zeros_like(cells).scatter_reduce_(-1, index, cells.masked_fill(mask, 0.0), "amax", include_self=True)
    moved.view(-1, width)[rows] = torch.maximum(again, cells * mask)


THIRD_MISSING = 0.5  # a bar's third is missing when the upper lanes' likeliest third is under this x their root


def _complete_thirds(per_bar: torch.Tensor, upper: list[int], thirds: torch.Tensor) -> None:
    """In place on (lanes, B, bars, steps, 128): a bar whose upper lanes play the chord's root and fifth but
    not its third (a bare fifth reads as no chord at all) gets the third in the lane that plays the root
    most strongly, in that lane's own rhythm: its root cells, a third higher. thirds: (B, bars, 2) root
    pitch class and third (3, 4; 0 for chords without one)."""
    peak = per_bar.amax(dim=3)[upper]  # (U, B, bars, 128)
    peak = torch.nn.functional.pad(peak, (0, 4)).view(*peak.shape[:3], 11, 12).amax(dim=3)
    root, third = thirds[..., 0], thirds[..., 1]
    root_peak = peak.gather(-1, root[None, ..., None].expand(len(upper), -1, -1, 1))[..., 0]  # (U, B, bars)
    third_pc = ((root + third) % 12)[None, ..., None].expand(len(upper), -1, -1, 1)
    third_peak = peak.gather(-1, third_pc)[..., 0].amax(dim=0)  # (B, bars)
    need = (third > 0) & (third_peak < THIRD_MISSING * root_peak.amax(dim=0))
    if not need.any():
        return
    lane = torch.nn.functional.one_hot(root_peak.argmax(dim=0), len(upper)).permute(2, 0, 1).bool() & need
    u, b, bar = lane.nonzero(as_tuple=True)  # only the bars that get a third, each in one lane
    rows = torch.as_tensor(upper, device=per_bar.device)[u]
    cells = per_bar[rows, b, bar]  # (n, steps, 128), a copy
    pitch_class = torch.arange(128, device=per_bar.device) % 12
    on_root = (pitch_class == root[b, bar][:, None]).to(cells.dtype)  # (n, 128)
    roots = cells * on_root[:, None, :]
    k = third[b, bar]
    for up in (3, 4):
        shifted = torch.nn.functional.pad(roots[..., :-up], (up, 0))
        cells = torch.where((k == up)[:, None, None], torch.maximum(cells, shifted), cells)
    per_bar[rows, b, bar] = cells


def lift(cells: torch.Tensor, chosen: torch.Tensor, threshold: float) -> None:
    """cells (L, N, C) in place: each chosen (L, N, 1) chunk whose likeliest cell is under the threshold
    is scaled until that cell reaches it; the rest are untouched."""
    peak = cells.amax(dim=-1, keepdim=True).clamp_min_(1e-12)
    lift = torch.div(threshold * 1.0001, peak).clamp_min_(1.0)
    cells.mul_(lift.masked_fill_(~chosen, 1.0))


def wake(p: torch.Tensor, revived: torch.Tensor, threshold: float) -> torch.Tensor:
    """A revived lane's chunk that still decodes to silence is scaled until its likeliest cells sound.

    p: blocked probabilities (L, B*rows, 16); revived: (L, B, 1). The variation of the lane's last
    sounding part can decode under the threshold (a sparse part, a harmony that moved on); then
    its strongest cells are lifted to the threshold, so a revived lane always comes back.
    """
    lanes, batch = revived.shape[:2]
    lift(p.view(lanes, batch, -1), revived, threshold)
    return p


def finish_probs(probs: np.ndarray, shift_out: int, lineup, forced, keep, chunk_steps: int) -> np.ndarray:
    """The loop's probabilities back in the song's key, silent lanes outside the lineup, locked lanes exactly
    as they were."""
    probs = transpose_roll(probs, shift_out) if shift_out else probs
    for lane in range(len(LANES)):
        if lane not in lineup:
            probs[lane] = 0.0
    if forced is not None and keep is not None:
        for lane in np.flatnonzero(forced.mask.any(axis=0)):
            n = int(forced.mask[:, lane].sum()) * chunk_steps
            probs[lane, :, :n] = keep.probs[lane, :n]
    return probs


@dataclass
class LoopRun:
    """What one run of the loop (Loop.run) goes on from: the first chunk (5, B, cs, 128) and its latents (None:
    encoded from it), `steps` chunks after it at `noise` and `threshold`, drawn from `gen`, and:

    forced: chunks taken as given (Loop.forced_from), or None. revive > 0 brings back a lane that has been silent
    for `revive` chunks: its next chunk is decoded from the latent of its last chunk with notes plus the step's
    noise (a variation of what it last played), instead of a prediction from the silence it fell into (the thesis's
    abandoned-guitar weakness); the predictors then carry on from there. pull in [0, 1) draws every predicted
    latent that far back toward the first chunk's, so a take keeps the primer's key and feel instead of drifting
    off. revive 0 and pull 0 are the thesis's loop exactly. light: (5, B, 1) gains on each generated chunk's
    probabilities (`Steering.light`), or None. plan: the call's chords (chording.ChordPlan, chunk 0 is `first`),
    or None. recall: grooves that come back (Recall), or None.
    """

    first: np.ndarray
    first_z: torch.Tensor | None
    steps: int
    noise: float
    threshold: float
    gen: torch.Generator
    forced: _Forced | None = None
    revive: int = 0
    pull: float = 0.0
    light: np.ndarray | None = None
    plan: object = None
    recall: Recall | None = None


class Decoder:
    """Latents to note probabilities and back on the pack's fast band, with the call's steering (scale lock's
    map, read from `steering.snap`), and the finite check on everything that leaves the engine."""

    def __init__(self, fast, cfg, device: torch.device, steering, pack_name: str, chord_bias=None):
        """chord_bias: the card's per-lane density offsets (logits) for notes steered to chords, or None."""
        self.fast = fast
        self.cfg = cfg
        self.device = device
        self.steering = steering
        self.pack_name = pack_name
        self.chord_bias = None
        if chord_bias is not None and any(chord_bias):
            self.chord_bias = torch.as_tensor(list(chord_bias), dtype=torch.float32, device=device)

    def encode(self, rolls) -> torch.Tensor:
        """Binary chunks (5, N, chunk_steps, 128) -> latent means (5, N, K) on the engine's device."""
        x = torch.as_tensor(rolls, dtype=torch.float32, device=self.device)
        return self.fast.encode(self.fast.to_blocked(x), x.shape[1])

    def decode(
        self, z: torch.Tensor, batch: int, harmonise: bool = True, chords=None, steer=None, floor=None
    ) -> torch.Tensor:
        """fast.decode (with the chunk's chords on chord packs), harmonised, then (with scale lock on) each
        pitched lane's out-of-scale probabilities moved in scale, then steered to the chords when given."""
        p = self.fast.decode(z, chords)
        if harmonise:
            p = self.fast.harmonise(p, batch)
        snap = self.steering.snap
        if snap is None and steer is None:
            return p
        return self.steered(p, batch, snap, steer, floor)

    def steered(self, p: torch.Tensor, batch: int, snap=None, steer=None, floor: float | None = None) -> torch.Tensor:
        """Blocked probabilities of `batch` chunks with scale lock's map and the chords' maps applied; with a
        sounding floor (the call's threshold), passing and neighbour notes stay (chording.keep_passing).
        Only the pitched lanes leave the blocked layout; the drums (the last lane) pass through as they are."""
        plain = self.fast.from_blocked(p[:DRUMS], batch)  # (pitched lanes, B, cs, 128)
        if snap is not None:
            plain = _moved(plain, snap.expand_as(plain))
        if steer is not None:
            plain = self.steer_chords(plain, batch, steer, floor)
        return torch.cat([self.fast.to_blocked(plain), p[DRUMS:]])

    def steer_chords(self, plain: torch.Tensor, batch: int, steer, floor: float | None) -> torch.Tensor:
        """The pitched lanes' plain probabilities (lanes, B, cs, 128) of `batch` chunks moved to their chords
        (a new tensor). steer: ((B, pieces, 2, 128), (B, pieces, 2)), a piece a bar, half bar or beat (as finely
        as the chart changes): each piece's notes move to its chord's tones (chording.chord_map), passing and
        neighbour notes stay given a sounding floor, the bass takes the chord's bass note on the piece's first
        beat where the chord changes (beats 1 and 3 for two chords a bar), and a bare fifth gets its third; then
        each lane's card `chord_bias` (logits) is added: notes moved to chords rather than faded by harmony are
        denser than the calibrated density (evaluation/calibrate_chords.py learns the offsets back)."""
        maps, thirds = steer
        lanes, steps = plain.shape[0], plain.shape[2]
        bars = maps.shape[1]  # pieces of the chunk, each with its chord
        beat = steps // (self.cfg.bars * 4)
        src = plain.view(lanes, batch, bars, steps // bars, 128)
        per_bar = _moved(src, maps[None, :, :, None, 0])
        if floor is not None:  # passing and neighbour notes stay where the decoder put them
            is_tone = maps[:, :, 0] == torch.arange(128, device=maps.device)  # (B, bars, 128)
            kept = passing_cells(src, per_bar, is_tone, beat, floor)
            if len(kept):
                _keep_cells(src, per_bar, kept, maps[:, :, 0])
        # the bass plays the chord's bass note on the piece's first beat where the chord changes
        first = per_bar[BASS, :, :, :beat]
        changed = torch.ones(maps.shape[:2], dtype=torch.bool, device=maps.device)  # (B, bars); a phrase starts
        changed[:, 1:] = (maps[:, 1:, 1] != maps[:, :-1, 1]).any(dim=-1)
        rooted = _moved(first, maps[:, :, None, 1].expand_as(first))
        per_bar[BASS, :, :, :beat] = torch.where(changed[:, :, None, None], rooted, first)
        _complete_thirds(per_bar, [i for i in range(lanes) if i != BASS], thirds)
        out = per_bar.view(lanes, batch, steps, 128)
        # steered notes keep what harmony would fade: the card's learned offsets; a sketch with no primer keeps its
        # start offsets alone (a chart alone: guitar 8.0 note starts a bar against 8.6 real; with both, 5.3)
        if self.chord_bias is not None and not self.steering.start_shifted:
            p = out.clamp(1e-6, 1 - 1e-6)
            shifted = torch.sigmoid(torch.log(p / (1 - p)) + self.chord_bias[:lanes, None, None, None])
            out = torch.where(out > 0, shifted, out)
        return out

    def fold_windows(self, plain: torch.Tensor) -> None:
        """In place on the pitched lanes' plain probabilities (lanes, N, cs, 128): what a round trip through the
        blocked layout does (FastBand.to_blocked, from_blocked): a cell outside its lane's pitch window folds
        into it by octaves (the larger stays) and the outside is left silent (chords move notes past a window's
        edge), as fast.fold does but reading only the outside."""
        width = self.cfg.pitches
        if width >= 128:
            return
        for lane, lo in enumerate(self.cfg.pitch_low[: plain.shape[0]]):
            cells = plain[lane]
            hi = lo + width
            for k in range(1, -(-lo // 12) + 1):  # below the window: up k octaves, into [lo, lo + 12)
                a, b = max(lo - 12 * k, 0), lo - 12 * (k - 1)
                into = cells[..., a + 12 * k : b + 12 * k]
                into.copy_(torch.maximum(into, cells[..., a:b]))
            for k in range(1, -(-(128 - hi) // 12) + 1):  # above it: down k octaves, into [hi - 12, hi)
                a, b = hi + 12 * (k - 1), min(hi + 12 * k, 128)
                into = cells[..., a - 12 * k : b - 12 * k]
                into.copy_(torch.maximum(into, cells[..., a:b]))
            cells[..., :lo] = 0.0
            cells[..., hi:] = 0.0

    def harmonise_kept(self, p: torch.Tensor, chunks: int, threshold: float) -> None:
        """FastBand.harmonise over every generated chunk at once, in place; a lane's chunk that sounded
        before it still sounds after (its likeliest cells are lifted to the threshold), so the harmony
        fades clashes without silencing a part the loop went on from."""
        cells = p.view(p.shape[0], chunks, -1)
        sounded = cells.amax(dim=-1, keepdim=True) >= threshold
        self.fast.harmonise(p, chunks)
        lift(cells, sounded, threshold)

    def unblock(self, blocked: torch.Tensor, batch: int) -> np.ndarray:
        """Blocked probabilities -> (L, B, cs, 128) numpy; PackError when any is NaN or infinite.

        Every decoded result leaves the engine through here or _loop (both call _check_finite), so a pack whose
        weights overflow never makes a silent, empty sketch: one isfinite over the output (well under a
        millisecond a song).
        """
        self.check_finite(blocked)
        return self.fast.from_blocked(blocked, batch).cpu().numpy()

    def check_finite(self, blocked: torch.Tensor) -> None:
        """PackError naming the pack and the lanes when any blocked probability (L, ...) is NaN or infinite."""
        if not torch.isfinite(blocked).all():
            lanes = blocked.reshape(blocked.shape[0], -1).isfinite().all(dim=1).logical_not().nonzero()
            names = ", ".join(LANES[i] for i in lanes.flatten().tolist())
            raise PackError(
                f"model pack '{self.pack_name}' gave NaN or infinite note probabilities in lane {names}: its "
                "weights are damaged (they overflow); re-train the pack or choose another"
            )


class Loop:
    """The thesis's loop on the pack's fast band: predict, add noise, decode (Decoder), re-encode."""

    def __init__(self, decoder: Decoder, takes, fast, cfg, device: torch.device, one_song_threads, harmony_after: bool):
        """takes: the engine's Takes (checks a song a locked lane comes from); harmony_after: the card's
        harmony on the whole take at the end instead of chunk by chunk."""
        self.decoder = decoder
        self.takes = takes
        self.fast = fast
        self.cfg = cfg
        self.device = device
        self.one_song_threads = one_song_threads
        self.harmony_after = harmony_after
        self.last_made: list = []  # the last run's returns (Recall.made): what a measure of held chunks reads

    def threads(self, batch: int):
        """torch's threads for a call of `batch` songs: one_song_threads for a single song on the CPU."""
        one_song = self.device.type == "cpu" and batch == 1
        return torch_threads(self.one_song_threads if one_song else None)

    def run(self, run: LoopRun):
        """The thesis's loop from run.first (5, B, cs, 128): probs (5, B, (steps+1)*cs, 128), latents (see LoopRun)."""
        with self.threads(run.first.shape[1]):
            out = self._loop(run)
        self.last_made = list(run.recall.made) if run.recall is not None else []  # the returns drawn (measures read)
        return out

    def _loop(self, run: LoopRun):
        first, steps, threshold, forced, revive = run.first, run.steps, run.threshold, run.forced, run.revive
        pull, light, plan, recall = run.pull, run.light, run.plan, run.recall
        fast, dev = self.fast, self.device
        by_band = fast.band_net is not None and plan is not None  # the chord family: one predictor for the band
        lead_i, followers = fast.lead, fast.followers
        n_lanes, batch = first.shape[:2]
        after = self.harmony_after  # harmony on the whole take at the end, else chunk by chunk
        eps = (torch.randn((steps, n_lanes, batch, self.cfg.latent), generator=run.gen) * run.noise).to(dev)
        x = fast.to_blocked(torch.as_tensor(first, device=dev))
        z = fast.encode((x >= threshold).float(), batch)
        chunk_latents = [z if run.first_z is None else run.first_z.to(dev)]
        home = z
        blocks = [x]
        if forced is not None:
            fz, fmask = self.forced_latents(forced)
        rng = np.random.default_rng([int(recall.seed), 29]) if recall is not None else None
        if revive:  # which lanes sound is kept host-side: a few tiny numpy ops instead of device ops a step
            anchor, silent = z.clone(), np.zeros((n_lanes, batch), dtype=np.int64)
            heard = ((x >= threshold).reshape(n_lanes, batch, -1).amax(dim=2) > 0).cpu().numpy()
        for s in range(steps):
            chords = plan.features[s + 1] if plan is not None else None
            if by_band:
                given = (fz[s + 1], fmask[s + 1]) if forced is not None else None
                z_next = self._predict_band(z, given, chords) + eps[s]
                if pull:
                    z_next = torch.lerp(z_next, home, pull)
            else:
                lead = fast.predict_lead(z[lead_i]) + eps[s, lead_i]
                if forced is not None:
                    lead = torch.where(fmask[s + 1, lead_i], fz[s + 1, lead_i], lead)
                if pull:
                    lead = torch.lerp(lead, home[lead_i], pull)
                others = fast.predict_others(z[followers], lead) + eps[s, followers]
                if pull:
                    others = torch.lerp(others, home[followers], pull)
                z_next = torch.empty_like(z)
                z_next[lead_i] = lead
                z_next[followers] = others
            revived = None
            if revive and ((silent >= revive) & heard).any():  # a lane silent for `revive` chunks plays a
                revived = torch.as_tensor(((silent >= revive) & heard)[..., None], device=dev)  # variation of its
                z_next = torch.where(revived, anchor + REVIVE_NOISE * eps[s], z_next)  # last part
            held = z_next
            if recall is not None:
                z_next = self._recall(z_next, chunk_latents, s + 1, recall, rng, plan, revived, (home, pull))
            if forced is not None:
                z_next = torch.where(fmask[s + 1], fz[s + 1], z_next)
            p = self.decoder.decode(z_next, batch, harmonise=not after, chords=chords)
            if recall is not None and recall.kit_guard and forced is None:  # free drums keep the kit (kit.py)
                moved = [b for b in range(batch) if recall.drums_moved(s + 1, b, revived)]
                bars = self.cfg.bars
                if isinstance(recall.kit_guard, HeldKit):  # a form's drums, held, move on where they keep more kit
                    took = [b for b in range(batch) if revived is None or not bool(revived[DRUMS, b])]
                    took = [b for b in took if not recall.returns(s + 1, DRUMS, b, True)]
                    p, z_next, _ = recall.kit_guard.keep(
                        fast, p, z_next, home, pull, took, batch, threshold, bars, chords
                    )
                elif isinstance(recall.kit_guard, DrumMoves):  # and return with variation at the songs' shares
                    p, z_next, _ = recall.kit_guard.keep(
                        fast, p, z_next, held, moved, batch, threshold, bars, run.noise, chords, blocks
                    )
                else:
                    p, z_next, _ = keep_kit(fast, p, z_next, held, moved, batch, threshold, bars, chords)
            if recall is not None and recall.vary is not None and forced is None:  # held: near, new or back (vary.py)
                decode = partial(self.decoder.decode, batch=batch, harmonise=not after, chords=chords)
                chunk, returns = (p, z_next, home, pull), (recall, chunk_latents, revived)
                p, z_next = recall.vary.keep(fast, decode, chunk, returns, s + 1, threshold, run.noise, blocks)
            if light is not None:
                p.view(n_lanes, batch, -1).mul_(light)
            if revived is not None:
                p = wake(p, revived, threshold)
            blocks.append(p)
            chunk_latents.append(z_next)
            if s == steps - 1:
                break  # nothing follows the last chunk: its notes need no encoding
            x = (p >= threshold).float()
            z = fast.encode(x, batch)
            if revive:
                sounding = (x.reshape(n_lanes, batch, -1).amax(dim=2) > 0).cpu().numpy()
                heard |= sounding
                anchor = (
                    z if sounding.all() else torch.where(torch.as_tensor(sounding[..., None], device=dev), z, anchor)
                )
                silent = np.where(sounding, 0, silent + 1)
            if forced is not None:
                z = torch.where(fmask[s + 1], fz[s + 1], z)
        stacked = fast.stack_blocks(blocks)
        steered = plan is not None and plan.maps is not None and steps
        if after and steps and fast.harmony and not steered:  # given chords do its work
            self.decoder.harmonise_kept(stacked[:, blocks[0].shape[1] :], steps * batch, threshold)
        self.decoder.check_finite(stacked)  # the loop's result leaves the engine here, not through _unblock
        plain = fast.from_blocked(stacked, (steps + 1) * batch)  # (L, chunks * B, cs, 128), chunk by chunk
        if steered:  # every generated chunk to its chords, at once, in the plain layout
            steer = (plan.maps[1 : steps + 1].flatten(0, 1), plan.thirds[1 : steps + 1].flatten(0, 1))
            pitched = plain[:DRUMS, batch:]
            pitched.copy_(self.decoder.steer_chords(pitched, steps * batch, steer, threshold))
            self.decoder.fold_windows(pitched)
        if recall is not None and recall.made:  # a return plays its pattern's notes, moved to new chords
            self._replay(plain, recall.made, batch, plan if steered else None)
        probs = plain.cpu().numpy()
        probs = probs.reshape(n_lanes, steps + 1, batch, self.cfg.chunk_steps, 128).transpose(0, 2, 1, 3, 4)
        probs = np.ascontiguousarray(probs.reshape(n_lanes, batch, -1, 128))
        if forced is not None:
            step_mask = np.repeat(forced.mask, self.cfg.chunk_steps, axis=0).T  # (L, steps)
            for lane in range(n_lanes):
                probs[lane][:, step_mask[lane]] = forced.probs[lane][step_mask[lane]]
        return probs, torch.stack(chunk_latents).cpu().numpy()

    def _recall(self, z_next, chunk_latents, target: int, recall: Recall, rng, plan, revived, held) -> torch.Tensor:
        """z_next (L, B, K) with the lanes that return to their pattern exactly this chunk taken from it (plus a
        nuance; a return with a variation keeps the loop's chunk for the bars the replay leaves); the lanes of
        recall.moves_on (the drums; a take without chords, the pitched lanes) that do not return exactly move on:
        their prediction without the pull toward the first chunk, or with recall.kept_pull of it (held: (home,
        pull))."""
        lanes, batch, k = z_next.shape
        chance = rng.random((lanes, batch))
        nuance = rng.standard_normal((lanes, batch, k)).astype(np.float32) * RECALL_NOISE
        draw = rng.random((lanes, batch))
        exact = np.zeros((lanes, batch), dtype=bool)
        shift = rng.random((lanes, batch)) < recall.moved_share()[:lanes, None]
        out = None
        for b, found in enumerate(recall.sources(target, plan, batch)):
            if found is None:
                continue
            src, moves, rates = found
            exact[:, b] = draw[:, b] < recall.exact_share(moves is not None)[:lanes]
            for lane in np.flatnonzero(chance[:, b] < rates[:lanes]):
                if revived is not None and bool(revived[lane, b]):
                    continue
                src = recall.source(int(lane), found[0], target, b)  # a groove held: the chunk before (recall.py)
                if exact[lane, b]:  # a variation keeps the loop's own chunk, heard in its last bars (replay)
                    out = z_next.clone() if out is None else out
                    out[lane, b] = chunk_latents[src][lane, b] + torch.as_tensor(nuance[lane, b], device=out.device)
                lane_moves = None if lane == DRUMS or moves is None else (moves if shift[lane, b] else [0] * len(moves))
                recall.made.append((target, int(lane), b, src, lane_moves, bool(exact[lane, b])))
        home, pull = held
        if pull and 0 < pull < 1:
            lanes_on = recall.moves_on
            back = [(lane, b) for lane in lanes_on for b in range(batch) if not recall.returns(target, lane, b, True)]
            back = [(lane, b) for lane, b in back if revived is None or not bool(revived[lane, b])]
            if back:
                out = z_next.clone() if out is None else out
                for lane, b in back:  # undo the lerp toward home: the predictor's own next chunk
                    out[lane, b] = (z_next[lane, b] - pull * home[lane, b]) / (1 - pull)
                    if recall.kept_pull is not None and recall.kept_pull[lane] > 0:  # a weaker pull kept
                        out[lane, b] = torch.lerp(out[lane, b], home[lane, b], float(recall.kept_pull[lane]) * pull)
        return z_next if out is None else out

    def _replay(self, plain: torch.Tensor, made: list, batch: int, plan) -> None:
        """In place on the loop's plain probabilities (L, chunks * B, cs, 128), in the order the returns were made:
        each returning chunk plays its source's notes; moved, each bar's pitches shift by its move and (with the
        call's chord maps) move onto the new bar's chord tones, folded into the lane's window."""
        bars = self.cfg.bars
        spb = self.cfg.chunk_steps // bars
        for target, lane, b, src, moves, exact in made:
            at, source = target * batch + b, src * batch + b
            if moves is None or lane == DRUMS:
                if exact:
                    plain[lane, at] = plain[lane, source]
                else:  # a variation: the pattern's notes but for its last bars, the loop's own chunk there
                    keep = (bars - VARIED_BARS) * spb
                    plain[lane, at, :keep] = plain[lane, source, :keep]
                continue
            cells = plain[lane, source].view(bars, spb, 128)
            out = torch.zeros_like(cells)
            for j, m in enumerate(moves):
                if m > 0:
                    out[j, :, m:] = cells[j, :, :-m]
                elif m < 0:
                    out[j, :, :m] = cells[j, :, -m:]
                else:
                    out[j] = cells[j]
            if plan is not None and plan.maps is not None:
                maps = plan.maps[target, b, :, 0]  # (pieces, 128)
                per = maps.shape[0] // bars
                pieces = out.view(bars * per, spb // per, 128)
                out = _moved(pieces, maps[:, None, :]).view(bars, spb, 128)
            if not exact:  # a variation: its last bars its own
                out[bars - VARIED_BARS :] = plain[lane, at].view(bars, spb, 128)[bars - VARIED_BARS :]
            plain[lane, at] = out.view(-1, 128)
            self.decoder.fold_windows(plain[:DRUMS, at : at + 1])

    def _predict_band(self, z: torch.Tensor, forced, chords: torch.Tensor) -> torch.Tensor:
        """BandNN's next latents (L, B, K) from the band's latents, the forced lanes' next latents
        (forced: (latents (L, 1, K), mask (L, 1, 1)) or None) and the next chunk's chords (B, C)."""
        lanes, batch = z.shape[:2]
        if not forced:
            return self.fast.predict_band(z, torch.zeros_like(z), torch.zeros((lanes, batch), device=z.device), chords)
        known, mask = forced
        return self.fast.predict_band(z, known.expand_as(z), mask[..., 0].expand(lanes, batch), chords)

    def forced_latents(self, forced: _Forced):
        """Latent means of every forced chunk (chunks, L, 1, K) and the mask as a device tensor."""
        cs = self.cfg.chunk_steps
        n = forced.mask.shape[0]
        rolls = (forced.probs >= forced.threshold).reshape(len(LANES), n, cs, 128)
        z = self.decoder.encode(rolls.astype(np.float32)).permute(1, 0, 2)[:, :, None, :]
        mask = torch.as_tensor(forced.mask, device=self.device)[:, :, None, None]
        return z, mask

    def forced_from(self, song: Song | None, lanes, n_chunks: int, shift: int = 0) -> _Forced | None:
        """Chunks of `lanes` taken from `song`, moved `shift` semitones into the pack's key space."""
        if song is None or not lanes:
            return None
        self.takes.check(song)
        idx = [lane_index(lane) for lane in lanes]
        mask = np.zeros((n_chunks, len(LANES)), dtype=bool)
        mask[: min(n_chunks, song.n_chunks), idx] = True
        probs = np.zeros((len(LANES), n_chunks * self.cfg.chunk_steps, 128), dtype=np.float32)
        common = min(probs.shape[1], song.n_steps)
        probs[:, :common] = song.probs[:, :common]
        return _Forced(mask, transpose_roll(probs, shift), song.threshold)
