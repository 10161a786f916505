"""Edits of a song that exists: a new take of one lane, more chunks after it, new bars inside it, a morph, another
chord chart. Each plans from the take, runs the loop (or a decode) and then the post stage (post.py)."""

from __future__ import annotations

import numpy as np
import torch

from ..errors import InvalidValue
from ..lanes import DRUMS
from ..limits import check_noise, check_seed
from ..sketch.song import LANES, ChunkInfo, Song, lane_index
from ..theory.chords import BEATS_PER_BAR, Chord, ChordError, beat_bars, chart_period, fit_chart, song_texts
from ..theory.keys import transpose_roll
from . import bass_range
from .chording import STEERED, bar_item, chords_of_song, plan_args, read_chords
from .loop import LoopRun, finish_probs
from .runtime import MAX_STEPS, MAX_VARIATIONS, _check_count, new_seed


class Edits:
    """The engine's edits of a take, built from the engine's parts (each passed in: no back reference)."""

    def __init__(
        self, cfg, pack_name, card, fast, device, planner, takes, decoder, loop, steering, bank, chording, post
    ):
        self.cfg = cfg
        self.pack_name = pack_name
        self.card = card
        self.fast = fast
        self.device = device
        self.planner = planner
        self.takes = takes
        self.decoder = decoder
        self.loop = loop
        self.steering = steering
        self.bank = bank
        self.chording = chording
        self.post = post

    def regenerate_lane(
        self,
        song: Song,
        lane: str | int,
        seed: int | None = None,
        noise: float | None = None,
        revive: int | None = None,
    ) -> Song:
        """A new take of one lane for the whole song; the other four lanes stay bit-identical.

        The lane always comes back with notes: it starts from a real chunk of the pack's bank (or a
        prior draw that sounds) unless it is the primer's, and joins the lineup if it was out.
        """
        li = lane_index(lane)
        self.takes.check(song)
        song = self.takes.editable(song)  # chunk records and latents this pack can carry on
        noise = check_noise(song.settings.get("noise", self.card.noise) if noise is None else noise)
        seed = new_seed() if seed is None else check_seed(seed)
        gen = torch.Generator().manual_seed(seed)
        shift_out = int(song.settings.get("transpose", 0))
        lineup = sorted(set(self.planner.lineup(song.settings.get("lineup"))) | {li})
        others = [name for i, name in enumerate(LANES) if i != li]
        forced = self.loop.forced_from(song, others, song.n_chunks, -shift_out)
        first = transpose_roll(song.chunk(0) >= song.threshold, -shift_out).astype(np.float32)[:, None]
        from_primer = bool(song.chunks) and song.chunks[0][li].source == "primer"
        revive = self.planner.revive(song.settings.get("revive") if revive is None else revive)
        pull = self.planner.pull(song.settings.get("pull"))
        plan = self.chording.song_plan(song, 0, song.n_chunks, 1)
        with self.steering.of_song(song):
            if not from_primer:
                first[li] = 0.0
                if revive:
                    self.bank.bring_in(first, song.threshold, [li], None, gen, plan)
                else:  # the thesis's loop: a fresh draw from the prior, which may be silent
                    z = torch.randn((len(LANES), 1, self.cfg.latent), generator=gen).to(self.device)
                    first[li] = self.decoder.unblock(self.decoder.decode(z, 1, **plan_args(plan, 0)), 1)[li]
            run = LoopRun(first, None, song.n_chunks - 1, noise, song.threshold, gen, forced, revive, pull, plan=plan)
            probs, latents = self.loop.run(run)
        probs = finish_probs(probs, shift_out, lineup, None, None, self.cfg.chunk_steps)
        protect = np.ones((song.n_chunks, len(LANES)), dtype=bool)
        protect[:, li] = False
        if from_primer:
            protect[0, li] = True
        ran = self.post.run_groove(
            probs,
            song.settings.get("groove") is True,
            song.threshold,
            [li],
            seed,
            protect,
            self.chording.song_chords(song),
            scale=self.steering.lock_of(song),
        )
        grooving = song.settings.get("groove") is True
        ran += self.post.run_ghosts(probs, grooving, self.post.free_bars(protect), song.threshold)
        out = song.copy()
        out.probs[li] = probs[li, 0]
        if out.performance is not None:  # a new part: the musician's notes on this lane are gone from it
            out.performance = out.performance.without([li])
        out.latents[:, li] = latents[:, li, 0]
        for c in range(song.n_chunks):
            if c > 0 or not from_primer:
                out.chunks[c][li] = ChunkInfo("regenerated", seed, noise, self.pack_name)
        out.settings = song.settings.replace(
            **{f"{LANES[li]}_seed": seed, "lineup": ",".join(LANES[i] for i in lineup)}
        )
        free = np.zeros((out.n_bars, len(LANES)), dtype=bool)
        free[:, li] = np.repeat(~protect[:, li], self.cfg.bars)[: out.n_bars]
        ran += self.post.run_chart(out, self.chart(out), free, rest=_asked(out))
        bass_range.keep_in_range(out, free, self.cfg.bars, self.card.bass_lowest)  # as generate's
        self.post.stamp(out, ran)
        return out

    def continue_song(
        self, song: Song, steps: int, seed: int | None = None, noise: float | None = None, revive: int | None = None
    ) -> Song:
        """`steps` more chunks after the end of the song."""
        self.takes.check(song)
        song = self.takes.editable(song)  # chunk records and latents this pack can carry on
        steps = _check_count("steps", steps, 1, MAX_STEPS)
        noise = check_noise(song.settings.get("noise", self.card.noise) if noise is None else noise)
        seed = new_seed() if seed is None else check_seed(seed)
        gen = torch.Generator().manual_seed(seed)
        shift_out = int(song.settings.get("transpose", 0))
        lineup = self.planner.lineup(song.settings.get("lineup"))
        last = song.chunk(song.n_chunks - 1) >= song.threshold
        last = transpose_roll(last, -shift_out).astype(np.float32)[:, None]
        revive = self.planner.revive(song.settings.get("revive") if revive is None else revive)
        pull = self.planner.pull(song.settings.get("pull"))
        plan = self.chording.song_plan(song, song.n_chunks - 1, steps + 1, 1)
        with self.steering.of_song(song):
            probs, latents = self.loop.run(
                LoopRun(last, None, steps, noise, song.threshold, gen, None, revive, pull, plan=plan)
            )
        probs = finish_probs(probs, shift_out, lineup, None, None, self.cfg.chunk_steps)
        protect = np.zeros((steps + 1, len(LANES)), dtype=bool)
        protect[0] = True  # the song's last chunk, which the new ones follow
        chords = self.chording.song_chords(song, song.n_bars + steps * self.cfg.bars)
        start = (song.n_chunks - 1) * self.cfg.bars
        ran = self.post.run_groove(
            probs,
            song.settings.get("groove") is True,
            song.threshold,
            lineup,
            seed,
            protect,
            chords and chords[start:],
            first_bar=start,
            scale=self.steering.lock_of(song),
        )
        grooving = song.settings.get("groove") is True
        ran += self.post.run_ghosts(probs, grooving, self.post.free_bars(protect), song.threshold)
        out = song.copy()
        cs = self.cfg.chunk_steps
        out.probs = np.concatenate([song.probs, probs[:, 0, cs:]], axis=1)
        out.latents = np.concatenate([song.latents, latents[1:, :, 0]], axis=0)
        out.chunks = song.chunks + [
            [ChunkInfo("generated", seed, noise, self.pack_name)] * len(LANES) for _ in range(steps)
        ]
        out.settings = song.settings.replace(steps=song.n_chunks - 1 + steps)
        if song.chords:  # the chart goes on as it went, round and round
            out.chords = fit_chart(song.chords[: chart_period(song.chords)], out.n_bars)
        free = np.zeros((out.n_bars, len(LANES)), dtype=bool)
        free[song.n_bars :] = True  # the new bars
        ran += self.post.run_chart(out, self.chart(out), free, rest=_asked(out))
        bass_range.keep_in_range(out, free, self.cfg.bars, self.card.bass_lowest)  # as generate's
        self.post.stamp(out, ran)
        return out

    def infill(
        self,
        song: Song,
        start_bar: int,
        end_bar: int,
        lanes: list[str] | tuple[str, ...] | str | None = None,
        seed: int | None = None,
        variations: int = 1,
        candidates: int = 4,
    ) -> Song | list[Song]:
        """New material for bars start_bar..end_bar (1-based, inclusive, snapped out to whole chunks) of `lanes`.

        Every note outside the range, and of every other lane, stays bit-identical. The new chunks
        follow the chunk before the range, and of `candidates` draws per variation the ones whose last
        latent best predicts the chunk after the range are kept, so the new bars lead into what follows.
        """
        self.takes.check(song)
        song = self.takes.editable(song)  # chunk records and latents this pack can carry on
        n = song.n_chunks
        bars_per_chunk = song.chunk_steps // song.steps_per_bar
        if (
            not (isinstance(start_bar, int) and isinstance(end_bar, int))
            or not 1 <= start_bar <= end_bar <= song.n_bars
        ):
            raise InvalidValue(f"bars must run from 1 to {song.n_bars} with start <= end, got {start_bar}-{end_bar}")
        variations = _check_count("variations", variations, 1, MAX_VARIATIONS)
        candidates = _check_count("candidates", candidates, 1, 16)
        c0, c1 = (start_bar - 1) // bars_per_chunk, -(-end_bar // bars_per_chunk)  # chunks [c0, c1)
        chosen = self.planner.lineup(lanes if lanes is not None else song.settings.get("lineup"))
        seed = new_seed() if seed is None else check_seed(seed)
        gen = torch.Generator().manual_seed(seed)
        noise = check_noise(song.settings.get("noise", self.card.noise))
        revive = self.planner.revive(song.settings.get("revive"))
        pull = self.planner.pull(song.settings.get("pull"))
        shift_out = int(song.settings.get("transpose", 0))
        cs, batch = self.cfg.chunk_steps, variations * candidates
        base = max(c0 - 1, 0)  # the sub-run starts at the chunk before the range (or the range itself)
        steps = c1 - 1 - base
        sub = song.copy()
        sub.probs = song.probs[:, base * cs : c1 * cs]
        sub.chunks = song.chunks[base:c1]
        forced = self.loop.forced_from(sub, [name for name in LANES], steps + 1, -shift_out)
        for lane in chosen:
            forced.mask[c0 - base :, lane] = False
        first = transpose_roll(sub.chunk(0) >= song.threshold, -shift_out).astype(np.float32)
        first = np.repeat(first[:, None], batch, axis=1)
        plan = self.chording.song_plan(song, base, steps + 1, batch)
        with self.steering.of_song(song):
            if c0 == 0:  # the range starts the song: its first chunk is new too
                first[chosen] = 0.0
                forced.mask[0, chosen] = False
                self.bank.bring_in(first, song.threshold, chosen, forced, gen, plan)
            probs, latents = self.loop.run(
                LoopRun(first, None, steps, noise, song.threshold, gen, forced, revive, pull, plan=plan)
            )
        probs = transpose_roll(probs, shift_out) if shift_out else probs
        bars = self.cfg.bars
        chords = self.chording.song_chords(song)
        grooved = self.post.run_groove(
            probs,
            song.settings.get("groove") is True,
            song.threshold,
            chosen,
            seed,
            forced.mask,
            chords and chords[base * bars :],
            first_bar=base * bars,
            scale=self.steering.lock_of(song),
        )
        grooving = song.settings.get("groove") is True
        grooved += self.post.run_ghosts(probs, grooving, self.post.free_bars(forced.mask), song.threshold)
        order = np.arange(batch)
        if c1 < n and candidates > 1:  # keep the candidates that lead best into the chunk after the range
            after = transpose_roll(song.chunk(c1) >= song.threshold, -shift_out).astype(np.float32)[:, None]
            z_after = self.decoder.encode(after)[:, 0]  # (L, K)
            z_last = torch.as_tensor(latents[-1], device=self.device)  # (L, B, K)
            lead = self.fast.predict_lead(z_last[self.fast.lead])
            pred = torch.empty_like(z_last)
            pred[self.fast.lead] = lead
            pred[self.fast.followers] = self.fast.predict_others(z_last[self.fast.followers], lead)
            err = (pred[chosen] - z_after[chosen][:, None]).pow(2).sum(dim=(0, 2)).cpu().numpy()
            order = np.concatenate([np.argsort(err[v::variations]) * variations + v for v in range(variations)])
        takes = []
        for v in range(variations):
            b = int(order[v * candidates]) if c1 < n and candidates > 1 else v
            out = song.copy()  # a played lane's new chunks are "infilled": there it plays its grid notes
            lo, hi = c0 * cs, c1 * cs
            for lane in chosen:
                out.probs[lane, lo:hi] = probs[lane, b, (c0 - base) * cs :]
                out.latents[c0:c1, lane] = latents[c0 - base :, lane, b]
                for c in range(c0, c1):
                    out.chunks[c][lane] = ChunkInfo("infilled", seed, noise, self.pack_name)
            out.settings = song.settings.replace(
                infill=f"bars {c0 * bars_per_chunk + 1}-{c1 * bars_per_chunk}", infill_seed=seed, variation=v
            )
            free = np.zeros((out.n_bars, len(LANES)), dtype=bool)
            free[c0 * bars : c1 * bars, chosen] = True  # the new bars of the chosen lanes
            ran = grooved + self.post.run_chart(out, self.chart(out), free, rest=_asked(out))
            bass_range.keep_in_range(out, free, self.cfg.bars, self.card.bass_lowest)  # as generate's
            self.post.stamp(out, ran)
            takes.append(out)
        return takes[0] if variations == 1 else takes

    def morph(self, a: Song, b: Song, steps: int = 8, keep_lanes: tuple[str, ...] | list[str] = ()) -> Song:
        """A passage of `steps` chunks that moves from take A's first chunk to take B's, lane by lane.

        Each chunk decodes the straight line between the two takes' latents (in the pack's key space,
        so both takes are first moved to its key), ending in A's key. Lanes in keep_lanes play A's
        first chunk throughout.
        """
        self.takes.check(a)
        self.takes.check(b)
        steps = _check_count("steps", steps, 2, MAX_STEPS)
        keep = [lane_index(x) for x in keep_lanes]
        za = self.decoder.encode(
            transpose_roll(a.chunk(0) >= a.threshold, -int(a.settings.get("transpose", 0)))[:, None]
        )
        zb = self.decoder.encode(
            transpose_roll(b.chunk(0) >= b.threshold, -int(b.settings.get("transpose", 0)))[:, None]
        )
        t = torch.linspace(0, 1, steps, device=za.device)[None, :, None]
        z = torch.lerp(za.expand(-1, steps, -1), zb.expand(-1, steps, -1), t)  # (L, steps, K)
        if keep:
            z[keep] = za[keep].expand(-1, steps, -1)
        probs = self.decoder.unblock(self.fast.decode(z.contiguous()), steps).reshape(len(LANES), -1, 128)
        shift_out = int(a.settings.get("transpose", 0))
        probs = transpose_roll(probs, shift_out) if shift_out else probs
        lineup = sorted(
            set(self.planner.lineup(a.settings.get("lineup"))) | set(self.planner.lineup(b.settings.get("lineup")))
        )
        probs = finish_probs(probs[:, None], 0, lineup, None, None, self.cfg.chunk_steps)
        ran = self.post.run_groove(
            probs, a.settings.get("groove") is True, a.threshold, lineup, _seed_of(a), scale=self.steering.lock_of(a)
        )
        passage = self.post.free_bars(np.zeros((steps, len(LANES)), dtype=bool))
        ran += self.post.run_ghosts(probs, a.settings.get("groove") is True, passage, a.threshold)
        probs = probs[:, 0]
        chunks = [[ChunkInfo("morphed", None, 0.0, self.pack_name)] * len(LANES) for _ in range(steps)]
        settings = a.settings.replace(
            morph_steps=steps,
            morph_to=str(b.settings.get("seed", "")),
            steps=steps - 1,
            lineup=",".join(LANES[i] for i in lineup),
        )
        out = self.takes.song(probs, z.permute(1, 0, 2).cpu().numpy(), a.threshold, a.tempo, chunks, settings, a)
        bass_range.keep_in_range(out, passage, self.cfg.bars, self.card.bass_lowest)  # no bass note under a bass's E1
        self.post.stamp(out, ran)
        return out

    def set_chords(self, song: Song, chords) -> Song:
        """The take with another chord chart: every bar whose chord changed is re-decoded from the take's
        own latents with the new chord (no new sample), so the groove stays; every other bar, the drums
        and the musician's own parts stay bit-identical. chords: a chart ('| C Am | F G |') or a list, one
        chord (or one bar's text, 'C Am') a bar."""
        self.takes.check(song)
        new = read_chords(chords, song.n_bars)
        old = self._beats(song)
        new_bars, old_bars = beat_bars(new), beat_bars(old)
        changed = [i for i in range(song.n_bars) if new_bars[i] != old_bars[i]]
        out = song.copy()
        out.chords = song_texts(new)
        out.settings = song.settings.replace(chords="asked")
        if not changed:
            self.post.stamp(out, ())
            return out
        self.takes.need_latents(song, "changing its chords")  # the bars are re-decoded from the take's own latents
        if len(out.chunks) != song.n_chunks:  # a take that recorded no chunks: none of its parts is kept as played
            out.chunks = self.takes.editable(song).chunks
        bars, spb, cs = self.cfg.bars, 4 * self.cfg.steps_per_beat, self.cfg.chunk_steps
        chunks = sorted({i // bars for i in changed})
        shift_out = int(song.settings.get("transpose", 0))
        plan = self.chording.plan(new, -shift_out, 1, song.n_chunks)
        z = torch.as_tensor(song.latents[chunks], dtype=torch.float32, device=self.device)  # (C, L, K)
        z = z.permute(1, 0, 2).contiguous()  # (L, C, K)
        feats = plan.features[chunks, 0]
        maps = (plan.maps[chunks, 0], plan.thirds[chunks, 0])
        with self.steering.of_song(song):
            probs = self.decoder.unblock(
                self.decoder.decode(z, len(chunks), False, feats, maps, song.threshold), len(chunks)
            )
        probs = transpose_roll(probs, shift_out) if shift_out else probs  # (L, C, cs, 128)
        kept = {"primer", "part"}
        free = np.zeros((song.n_bars, len(LANES)), dtype=bool)
        for bar in changed:
            c = bar // bars
            row, lo = chunks.index(c), bar * spb
            for lane in range(len(LANES)):
                if (
                    lane == DRUMS
                    or out.chunks[c][lane].source in kept
                    or not song.probs[lane, c * cs : (c + 1) * cs].any()
                ):
                    continue
                out.probs[lane, lo : lo + spb] = probs[lane, row, lo - c * cs : lo - c * cs + spb]
                free[bar, lane] = True
        ran = self.post.run_groove(  # on the re-voiced bars, in the take's own context (its drums, the bars around)
            out.probs[:, None],
            song.settings.get("groove") is True,
            song.threshold,
            self.planner.lineup(song.settings.get("lineup")),
            _seed_of(song),
            chords=new,
            scale=self.steering.lock_of(song),
            free=free,
        )
        # the re-voiced bars heard as their new chords, as generate's are (N.C. beats rest)
        ran += self.post.run_chart(out, new, free, rest=True)
        bass_range.keep_in_range(out, free, self.cfg.bars, self.card.bass_lowest)  # as generate's
        self.post.stamp(out, ran)
        return out

    def set_chord(self, song: Song, bar: int, chord: str | Chord | None) -> Song:
        """set_chords for one bar (1-based): that bar re-voiced to `chord` from the same latents."""
        if isinstance(bar, bool) or not isinstance(bar, int) or not 1 <= bar <= song.n_bars:
            raise ChordError(f"bar must be a whole number from 1 to {song.n_bars}, got {bar!r}")
        chart = beat_bars(self._beats(song))
        chart[bar - 1] = bar_item(chord, bar)  # a symbol, a Chord, None or 'N.C.', or the bar's text 'C Am'
        return self.set_chords(song, chart)

    @staticmethod
    def _beats(song: Song) -> list[Chord | None]:
        """The take's chords a chord a beat over all its bars (none known: no chord)."""
        if not song.chords:
            return [None] * (song.n_bars * BEATS_PER_BAR)
        return fit_chart(chords_of_song(song), song.n_bars * BEATS_PER_BAR)

    @staticmethod
    def chart(song: Song) -> list[Chord | None] | None:
        """The chords a take is held to (asked, a followed part's or the bank's), a chord a beat; None where it
        has none."""
        if not song.chords or song.settings.get("chords") not in STEERED:
            return None
        return Edits._beats(song)


def _seed_of(song: Song) -> int:
    """The take's seed (for the groove's draws on an edit that draws none of its own), 0 where it has none."""
    seed = song.settings.get("seed")
    return seed if isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0 else 0


def _asked(song: Song) -> bool:
    """Whether the take's chords are a chart the musician wrote (its N.C. beats rest)."""
    return song.settings.get("chords") == "asked"
