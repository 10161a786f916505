"""Engine: the thesis's generation loop on a loaded pack, fast, reproducible, Qt-free.

One loop (`_run`) serves generate, continue, lock and regenerate: lanes whose chunks are given
("forced") are taken from an existing song instead of predicted, and the lead lane's forced latent
is what the other lanes are conditioned on.
"""

from __future__ import annotations

import secrets
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .keys import (
    estimate_key,
    key_name,
    normalising_shift,
    parse_key,
    relative_major,
    scale_pitch_classes,
    transpose_roll,
)
from .limits import check_float, check_noise, check_seed, check_steps_variations, check_tempo, check_threshold
from .model.fast import FastBand
from .model.pack import Pack, load_pack
from .song import DEFAULT_PROGRAMS, DRUMS, LANE_SETTINGS, LANES, ChunkInfo, Song, lane_index, lane_value

MAX_STEPS = 1024
REVIVE_NOISE = 0.25  # share of the step's noise on a revived lane: much more decodes the piano to silence
MAX_VARIATIONS = 64


def pick_device(device: str = "auto") -> torch.device:
    """'auto' picks CUDA when torch sees it, else the CPU."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device not in ("cpu", "cuda"):
        raise ValueError(f"unknown device {device!r}: use auto, cpu or cuda")
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for but torch sees no CUDA GPU: use --device cpu or auto")
    return torch.device(device)


def new_seed() -> int:
    return secrets.randbelow(2**31)


@contextmanager
def torch_threads(threads: int | None):
    """Run the block with `threads` intra-op threads (None: leave torch's setting alone)."""
    if not threads:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@dataclass
class _Forced:
    """Chunks taken as given: mask (chunks, L) and their probabilities (L, steps, 128)."""

    mask: np.ndarray
    probs: np.ndarray
    threshold: float


BANK_BARS = 3  # a sketch with no primer starts from a bank chunk in which every lineup lane plays this many bars


class Engine:
    """Generate, continue, regenerate and reconstruct Songs with one pack on one device."""

    def __init__(self, pack: Pack, device: str = "auto", one_song_threads: int | None = None):
        """one_song_threads: torch threads for a single song on the CPU (None: torch's default).

        A single song is a chain of small multiplies. Split over every core it is fastest on an idle
        machine (25 ms a song here with 2 threads, 37 ms with 1) but stalls whenever another process
        holds a core (one busy process beside it: median 164 ms with 2 threads, 37 ms with 1). The
        window, which shares the machine with a DAW, asks for 1.
        """
        self.one_song_threads = one_song_threads
        self._snap: torch.Tensor | None = None  # scale lock's pitch map for the generate call in progress
        self._bank_bars_cache: dict = {}  # Engine._bank_bars, per threshold, density offsets and harmony
        self.pack = pack
        self.cfg = pack.config
        self.torch_device = pick_device(device)
        self.fast = FastBand(pack.band, self.torch_device)
        bias = self.defaults.get("lane_bias")
        if bias is not None:
            self.fast.set_lane_bias(bias)
        self.fast.set_harmony(self.defaults["harmony"])

    @classmethod
    def load(
        cls, pack: str | Path | Pack | None = None, device: str = "auto", one_song_threads: int | None = None
    ) -> Engine:
        return cls(pack if isinstance(pack, Pack) else load_pack(pack), device, one_song_threads)

    @property
    def device(self) -> str:
        return self.torch_device.type

    @property
    def device_name(self) -> str:
        if self.torch_device.type == "cuda":
            return f"CUDA ({torch.cuda.get_device_name(self.torch_device)})"
        return "CPU"

    # --- public API ---------------------------------------------------------------------------
    @torch.inference_mode()
    def generate(
        self,
        steps: int = 8,
        noise: float | None = None,
        threshold: float | None = None,
        seed: int | None = None,
        primer: np.ndarray | Song | str | Path | None = None,
        variations: int = 1,
        tempo: float | None = None,
        keep: Song | None = None,
        keep_lanes: tuple[str, ...] | list[str] = (),
        revive: int | None = None,
        pull: float | None = None,
        lineup: tuple[str, ...] | list[str] | str | None = None,
        key: str | None = None,
        start: str | None = None,
        scale_lock: bool | None = None,
        harmony: float | None = None,
    ) -> Song | list[Song]:
        """A new sketch: the primer (or a starting chunk) and `steps` chunks after it.

        Every setting left as None comes from the pack's card (its "generation" defaults).
        keep/keep_lanes lock lanes: their chunks come from `keep`, and a locked lead lane is what
        the other lanes are conditioned on. revive: chunks of silence after which a lane is
        re-anchored; pull: how far each prediction is drawn back toward the first chunk.
        lineup: the lanes that play (the rest stay silent); every lineup lane the primer lacks is
        brought in from the pack's bank of real chunks and then follows the lead. key: 'E minor'
        etc. (None: the primer's key, or C major / A minor from a random start) on key-normalised
        packs. start: 'bank' (a real chunk from the pack) or 'prior' (z ~ N(0, I), the thesis).
        scale_lock: every generated pitched note stays in the key's scale (major or natural minor):
        each decoded chunk's probability on an out-of-scale pitch moves to its in-scale neighbour
        before the threshold, inside the loop, so the next chunk follows the steered notes. Drums
        and the primer's own notes are untouched.
        harmony: how strongly the pitched lanes are drawn to the pitch classes the band plays in each
        bar (FastBand.harmonise; 0 off), inside the loop like scale lock.
        revive 0, pull 0, harmony 0, start 'prior' on a piano-lead pack is the thesis's loop exactly.
        """
        g = self.defaults
        steps, variations = check_steps_variations(steps, variations, self.cfg.chunk_steps)
        tempo = None if tempo is None else check_tempo(tempo)
        noise = check_noise(g["noise"] if noise is None else noise)
        threshold = check_threshold(g["threshold"] if threshold is None else threshold)
        revive, pull = self._revive(revive), self._pull(pull)
        lineup = self._lineup(lineup)
        start = self._start(start)
        seed = new_seed() if seed is None else check_seed(seed)
        gen = torch.Generator().manual_seed(seed)
        primer_roll, primer_tempo = (None, None) if primer is None else self._primer(primer)
        shift_in, shift_out, key_used = self._key_shifts(primer_roll, keep, key)
        scale_lock = bool(g["scale_lock"] if scale_lock is None else scale_lock)
        harmony = check_float("harmony", g["harmony"] if harmony is None else harmony, 0.0, 8.0)
        start_bias = self._start_bias(g["start_bias"]) if primer_roll is None and start == "bank" else None
        with self._steering(self._scale_map(key_used, shift_out) if scale_lock else None, harmony, start_bias):
            cs, n_lanes = self.cfg.chunk_steps, len(LANES)
            forced = self._forced_from(keep, keep_lanes, steps + 1, -shift_out if keep is not None else 0)
            if primer_roll is not None:
                first = transpose_roll(primer_roll, shift_in).astype(np.float32)
                first = np.repeat(first[:, None], variations, axis=1)
                first_z = None
                source = "primer"
            elif start == "bank":
                bank_pick = self._bank_rows(gen, variations, lineup, threshold)
                first_z = self.fast.bank_z[bank_pick].permute(1, 0, 2).contiguous()  # (L, B, K)
                first = self._unblock(self._decode(first_z, variations), variations)
                source = "bank"
            else:
                first_z = torch.randn((n_lanes, variations, self.cfg.latent), generator=gen)
                first = self._unblock(self._decode(first_z.to(self.torch_device), variations), variations)
                source = "random"
            silent = ~(first >= threshold).any(axis=(2, 3))  # (5, B): lanes the first chunk lacks
            brought_in = self._bring_in(first, threshold, lineup, forced, gen) if revive else []
            light = self._light(brought_in, silent, g["bring_in"]) if source == "primer" else None
            if forced is not None:
                first[forced.mask[0]] = forced.probs[forced.mask[0], None, :cs]
            probs, latents = self._run(
                first, first_z, steps, noise, threshold, gen, forced, revive, pull, lineup, light=light
            )
            probs = self._finish_probs(probs, shift_out, lineup, forced, keep)
            songs = []
            for b in range(variations):
                chunks = [[ChunkInfo(source, seed, None, self.pack.name)] * n_lanes] + [
                    [ChunkInfo("generated", seed, noise, self.pack.name)] * n_lanes for _ in range(steps)
                ]
                for lane in brought_in:
                    chunks[0][lane] = ChunkInfo("generated", seed, noise, self.pack.name)
                if forced is not None:
                    for c, row in enumerate(forced.mask):
                        for lane in np.flatnonzero(row):
                            chunks[c][lane] = keep.chunks[c][lane]  # the mask only covers chunks `keep` has
                settings = dict(
                    pack=self.pack.name,
                    seed=seed,
                    noise=noise,
                    threshold=threshold,
                    steps=steps,
                    variation=b,
                    variations=variations,
                    revive=revive,
                    pull=pull,
                    lineup=",".join(LANES[i] for i in lineup),
                    start=source,
                    key=key_used,
                    transpose=shift_out,
                    scale_lock=bool(scale_lock),
                    **{name: g[name] for name in LANE_SETTINGS},
                    harmony=float(self.fast.harmony),
                    start_bias=list(start_bias) if start_bias is not None else [0.0] * n_lanes,
                    device=self.device,
                )
                song_tempo = tempo if tempo is not None else (primer_tempo or 120.0)
                songs.append(self._song(probs[:, b], latents[:, :, b], threshold, song_tempo, chunks, settings, keep))
            return songs[0] if variations == 1 else songs

    @contextmanager
    def _steering(self, snap: torch.Tensor | None, harmony: float, start_bias=None):
        """Scale lock's pitch map, the harmony strength and a start's extra density offsets for one call.

        start_bias (five floats or None) is added to the density offsets in force (card lane_bias) while
        the call runs; everything is as before after it.
        """
        self._snap = snap
        self.fast.set_harmony(harmony)
        shifted = start_bias is not None and any(start_bias)
        if shifted:
            bias = getattr(self.fast, "lane_bias", None)
            base = bias.tolist() if bias is not None else [0.0] * len(LANES)
            self.fast.set_lane_bias([b + x for b, x in zip(base, start_bias)])
        try:
            yield
        finally:
            self._snap = None
            self.fast.set_harmony(self.defaults["harmony"])
            if shifted:
                self.fast.set_lane_bias(base)

    def _steering_of(self, song: Song):
        """`_steering` as the song was made: its scale lock, harmony and start offsets."""
        harmony = song.settings.get("harmony", self.defaults["harmony"])
        try:
            harmony = check_float("harmony", harmony, 0.0, 8.0)
        except ValueError:
            harmony = self.defaults["harmony"]
        return self._steering(self._song_scale(song), harmony, self._start_bias(song.settings.get("start_bias")))

    def generate_takes(self, **settings) -> list[Song]:
        """Like generate, always a list of takes (one per variation)."""
        out = self.generate(**settings)
        return out if isinstance(out, list) else [out]

    @torch.inference_mode()
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
        self._check_song(song)
        noise = check_noise(song.settings.get("noise", self.defaults["noise"]) if noise is None else noise)
        seed = new_seed() if seed is None else check_seed(seed)
        gen = torch.Generator().manual_seed(seed)
        shift_out = int(song.settings.get("transpose", 0))
        lineup = sorted(set(self._lineup(song.settings.get("lineup"))) | {li})
        others = [name for i, name in enumerate(LANES) if i != li]
        forced = self._forced_from(song, others, song.n_chunks, -shift_out)
        first = transpose_roll(song.chunk(0) >= song.threshold, -shift_out).astype(np.float32)[:, None]
        from_primer = bool(song.chunks) and song.chunks[0][li].source == "primer"
        revive = self._revive(song.settings.get("revive") if revive is None else revive)
        pull = self._pull(song.settings.get("pull"))
        with self._steering_of(song):
            if not from_primer:
                first[li] = 0.0
                if revive:
                    self._bring_in(first, song.threshold, [li], None, gen)
                else:  # the thesis's loop: a fresh draw from the prior, which may be silent
                    z = torch.randn((len(LANES), 1, self.cfg.latent), generator=gen)
                    first[li] = self._unblock(self._decode(z.to(self.torch_device), 1), 1)[li]
            probs, latents = self._run(
                first, None, song.n_chunks - 1, noise, song.threshold, gen, forced, revive, pull, lineup
            )
        probs = self._finish_probs(probs, shift_out, lineup, None, None)
        out = song.copy()
        out.probs[li] = probs[li, 0]
        out.latents[:, li] = latents[:, li, 0]
        for c in range(song.n_chunks):
            if c > 0 or not from_primer:
                out.chunks[c][li] = ChunkInfo("regenerated", seed, noise, self.pack.name)
        out.settings = {**song.settings, f"{LANES[li]}_seed": seed, "lineup": ",".join(LANES[i] for i in lineup)}
        return out

    @torch.inference_mode()
    def continue_song(
        self, song: Song, steps: int, seed: int | None = None, noise: float | None = None, revive: int | None = None
    ) -> Song:
        """`steps` more chunks after the end of the song."""
        self._check_song(song)
        steps = _check_count("steps", steps, 1, MAX_STEPS)
        noise = check_noise(song.settings.get("noise", self.defaults["noise"]) if noise is None else noise)
        seed = new_seed() if seed is None else check_seed(seed)
        gen = torch.Generator().manual_seed(seed)
        shift_out = int(song.settings.get("transpose", 0))
        lineup = self._lineup(song.settings.get("lineup"))
        last = song.chunk(song.n_chunks - 1) >= song.threshold
        last = transpose_roll(last, -shift_out).astype(np.float32)[:, None]
        revive = self._revive(song.settings.get("revive") if revive is None else revive)
        pull = self._pull(song.settings.get("pull"))
        with self._steering_of(song):
            probs, latents = self._run(last, None, steps, noise, song.threshold, gen, None, revive, pull, lineup)
        probs = self._finish_probs(probs, shift_out, lineup, None, None)
        out = song.copy()
        cs = self.cfg.chunk_steps
        out.probs = np.concatenate([song.probs, probs[:, 0, cs:]], axis=1)
        out.latents = np.concatenate([song.latents, latents[1:, :, 0]], axis=0)
        out.chunks = song.chunks + [
            [ChunkInfo("generated", seed, noise, self.pack.name)] * len(LANES) for _ in range(steps)
        ]
        out.settings = {**song.settings, "steps": song.n_chunks - 1 + steps}
        return out

    @torch.inference_mode()
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
        self._check_song(song)
        n = song.n_chunks
        bars_per_chunk = song.chunk_steps // song.steps_per_bar
        if (
            not (isinstance(start_bar, int) and isinstance(end_bar, int))
            or not 1 <= start_bar <= end_bar <= song.n_bars
        ):
            raise ValueError(f"bars must run from 1 to {song.n_bars} with start <= end, got {start_bar}-{end_bar}")
        variations = _check_count("variations", variations, 1, MAX_VARIATIONS)
        candidates = _check_count("candidates", candidates, 1, 16)
        c0, c1 = (start_bar - 1) // bars_per_chunk, -(-end_bar // bars_per_chunk)  # chunks [c0, c1)
        chosen = self._lineup(lanes if lanes is not None else song.settings.get("lineup"))
        seed = new_seed() if seed is None else check_seed(seed)
        gen = torch.Generator().manual_seed(seed)
        noise = check_noise(song.settings.get("noise", self.defaults["noise"]))
        revive = self._revive(song.settings.get("revive"))
        pull = self._pull(song.settings.get("pull"))
        shift_out = int(song.settings.get("transpose", 0))
        cs, batch = self.cfg.chunk_steps, variations * candidates
        base = max(c0 - 1, 0)  # the sub-run starts at the chunk before the range (or the range itself)
        steps = c1 - 1 - base
        sub = song.copy()
        sub.probs = song.probs[:, base * cs : c1 * cs]
        sub.chunks = song.chunks[base:c1]
        forced = self._forced_from(sub, [name for name in LANES], steps + 1, -shift_out)
        for lane in chosen:
            forced.mask[c0 - base :, lane] = False
        first = transpose_roll(sub.chunk(0) >= song.threshold, -shift_out).astype(np.float32)
        first = np.repeat(first[:, None], batch, axis=1)
        with self._steering_of(song):
            if c0 == 0:  # the range starts the song: its first chunk is new too
                first[chosen] = 0.0
                forced.mask[0, chosen] = False
                self._bring_in(first, song.threshold, chosen, forced, gen)
            probs, latents = self._run(first, None, steps, noise, song.threshold, gen, forced, revive, pull)
        probs = transpose_roll(probs, shift_out) if shift_out else probs
        order = np.arange(batch)
        if c1 < n and candidates > 1:  # keep the candidates that lead best into the chunk after the range
            after = transpose_roll(song.chunk(c1) >= song.threshold, -shift_out).astype(np.float32)[:, None]
            z_after = self.encode(after)[:, 0]  # (L, K)
            z_last = torch.as_tensor(latents[-1], device=self.torch_device)  # (L, B, K)
            lead = self.fast.predict_lead(z_last[self.fast.lead])
            pred = torch.empty_like(z_last)
            pred[self.fast.lead] = lead
            pred[self.fast.followers] = self.fast.predict_others(z_last[self.fast.followers], lead)
            err = (pred[chosen] - z_after[chosen][:, None]).pow(2).sum(dim=(0, 2)).cpu().numpy()
            order = np.concatenate([np.argsort(err[v::variations]) * variations + v for v in range(variations)])
        takes = []
        for v in range(variations):
            b = int(order[v * candidates]) if c1 < n and candidates > 1 else v
            out = song.copy()
            lo, hi = c0 * cs, c1 * cs
            for lane in chosen:
                out.probs[lane, lo:hi] = probs[lane, b, (c0 - base) * cs :]
                out.latents[c0:c1, lane] = latents[c0 - base :, lane, b]
                for c in range(c0, c1):
                    out.chunks[c][lane] = ChunkInfo("infilled", seed, noise, self.pack.name)
            out.settings = {
                **song.settings,
                "infill": f"bars {c0 * bars_per_chunk + 1}-{c1 * bars_per_chunk}",
                "infill_seed": seed,
                "variation": v,
            }
            takes.append(out)
        return takes[0] if variations == 1 else takes

    @torch.inference_mode()
    def morph(self, a: Song, b: Song, steps: int = 8, keep_lanes: tuple[str, ...] | list[str] = ()) -> Song:
        """A passage of `steps` chunks that moves from take A's first chunk to take B's, lane by lane.

        Each chunk decodes the straight line between the two takes' latents (in the pack's key space,
        so both takes are first moved to its key), ending in A's key. Lanes in keep_lanes play A's
        first chunk throughout.
        """
        self._check_song(a)
        self._check_song(b)
        steps = _check_count("steps", steps, 2, MAX_STEPS)
        keep = [lane_index(x) for x in keep_lanes]
        za = self.encode(transpose_roll(a.chunk(0) >= a.threshold, -int(a.settings.get("transpose", 0)))[:, None])
        zb = self.encode(transpose_roll(b.chunk(0) >= b.threshold, -int(b.settings.get("transpose", 0)))[:, None])
        t = torch.linspace(0, 1, steps, device=za.device)[None, :, None]
        z = torch.lerp(za.expand(-1, steps, -1), zb.expand(-1, steps, -1), t)  # (L, steps, K)
        if keep:
            z[keep] = za[keep].expand(-1, steps, -1)
        probs = self._unblock(self.fast.decode(z.contiguous()), steps).reshape(len(LANES), -1, 128)
        shift_out = int(a.settings.get("transpose", 0))
        probs = transpose_roll(probs, shift_out) if shift_out else probs
        lineup = sorted(set(self._lineup(a.settings.get("lineup"))) | set(self._lineup(b.settings.get("lineup"))))
        probs = self._finish_probs(probs[:, None], 0, lineup, None, None)[:, 0]
        chunks = [[ChunkInfo("morphed", None, 0.0, self.pack.name)] * len(LANES) for _ in range(steps)]
        settings = {
            **a.settings,
            "morph_steps": steps,
            "morph_to": str(b.settings.get("seed", "")),
            "steps": steps - 1,
            "lineup": ",".join(LANES[i] for i in lineup),
        }
        return self._song(probs, z.permute(1, 0, 2).cpu().numpy(), a.threshold, a.tempo, chunks, settings, a)

    def song_from_midi(self, path: str | Path) -> Song:
        """A whole MIDI file as a Song on the pack's grid (notes as certain cells), with its key and tempo."""
        from .midi import read_roll

        roll, tempo = read_roll(path, self.cfg.steps_per_beat)
        cs = self.cfg.chunk_steps
        n = max(1, min(-(-roll.shape[1] // cs), MAX_STEPS + 1))
        probs = np.zeros((len(LANES), n * cs, 128), dtype=np.float32)
        probs[:, : min(roll.shape[1], n * cs)] = roll[:, : n * cs]
        key = estimate_key(roll)
        shift = -normalising_shift(key) if self.key_normalised else 0
        lineup = [LANES[i] for i in range(len(LANES)) if roll[i].any()] or list(LANES)
        settings = dict(
            pack=self.pack.name,
            source=str(Path(path).name),
            key=key_name(key) if key else "",
            transpose=shift,
            lineup=",".join(lineup),
            threshold=0.5,
            steps=n - 1,
        )
        chunks = [[ChunkInfo("primer", None, None, self.pack.name)] * len(LANES) for _ in range(n)]
        return self._song(
            probs, np.zeros((n, len(LANES), self.cfg.latent), np.float32), 0.5, float(tempo), chunks, settings, None
        )

    @torch.inference_mode()
    def reconstruct(self, song: Song) -> Song:
        """Encode and decode every chunk with no noise: a tidy of a primer, and how we measure the VAEs."""
        self._check_song(song)
        n = song.n_chunks
        shift_out = int(song.settings.get("transpose", 0))
        notes = transpose_roll(song.notes(), -shift_out)
        rolls = notes.reshape(len(LANES), n, self.cfg.chunk_steps, 128).astype(np.float32)
        z = self.encode(rolls)
        probs = self._unblock(self.fast.decode(z), n).reshape(len(LANES), -1, 128)
        out = song.copy()
        out.probs = transpose_roll(probs, shift_out) if shift_out else probs
        out.latents = z.permute(1, 0, 2).cpu().numpy()
        out.chunks = [[ChunkInfo("reconstructed", None, 0.0, self.pack.name)] * len(LANES) for _ in range(n)]
        return out

    def encode(self, rolls: np.ndarray) -> torch.Tensor:
        """Binary chunks (5, N, chunk_steps, 128) -> latent means (5, N, K) on the engine's device."""
        x = torch.as_tensor(rolls, dtype=torch.float32, device=self.torch_device)
        return self.fast.encode(self.fast.to_blocked(x), x.shape[1])

    # --- the loop -----------------------------------------------------------------------------
    def _run(self, first, first_z, steps, noise, threshold, gen, forced, revive=0, pull=0.0, lineup=None, light=None):
        """The thesis's loop from a first chunk (5, B, cs, 128): probs (5, B, (steps+1)*cs, 128), latents.

        revive > 0 brings back a lane that has been silent for `revive` chunks: its next chunk is
        decoded from the latent of its last chunk with notes plus the step's noise (a variation of
        what it last played), instead of a prediction from the silence it fell into (the thesis's
        abandoned-guitar weakness); the predictors then carry on from there. pull in [0, 1) draws every predicted
        latent that far back toward the first chunk's, so a take keeps the primer's key and feel
        instead of drifting off. revive 0 and pull 0 are the thesis's loop exactly. light: (5, B, 1)
        gains on each generated chunk's probabilities (`_light`), or None.
        """
        one_song = self.torch_device.type == "cpu" and first.shape[1] == 1
        with torch_threads(self.one_song_threads if one_song else None):
            return self._loop(first, first_z, steps, noise, threshold, gen, forced, revive, pull, lineup, light)

    def _loop(self, first, first_z, steps, noise, threshold, gen, forced, revive, pull, lineup=None, light=None):
        fast, dev = self.fast, self.torch_device
        lead_i, followers = fast.lead, fast.followers
        n_lanes, batch = first.shape[:2]
        after = self.defaults["harmony_after"]  # harmony on the whole take at the end, else chunk by chunk
        eps = (torch.randn((steps, n_lanes, batch, self.cfg.latent), generator=gen) * noise).to(dev)
        x = fast.to_blocked(torch.as_tensor(first, device=dev))
        z = fast.encode((x >= threshold).float(), batch)
        chunk_latents = [z if first_z is None else first_z.to(dev)]
        home = z
        blocks = [x]
        if forced is not None:
            fz, fmask = self._forced_latents(forced)
        if revive:  # which lanes sound is kept host-side: a few tiny numpy ops instead of device ops a step
            anchor, silent = z.clone(), np.zeros((n_lanes, batch), dtype=np.int64)
            heard = ((x >= threshold).reshape(n_lanes, batch, -1).amax(dim=2) > 0).cpu().numpy()
        for s in range(steps):
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
            if forced is not None:
                z_next = torch.where(fmask[s + 1], fz[s + 1], z_next)
            p = self._decode(z_next, batch, harmonise=not after)
            if light is not None:
                p.view(n_lanes, batch, -1).mul_(light)
            if revived is not None:
                p = self._wake(p, revived, threshold)
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
        if after and steps and fast.harmony:
            self._harmonise_kept(stacked[:, blocks[0].shape[1] :], steps * batch, threshold)
        probs = self._unblock(stacked, (steps + 1) * batch)
        probs = probs.reshape(n_lanes, steps + 1, batch, self.cfg.chunk_steps, 128).transpose(0, 2, 1, 3, 4)
        probs = np.ascontiguousarray(probs.reshape(n_lanes, batch, -1, 128))
        if forced is not None:
            step_mask = np.repeat(forced.mask, self.cfg.chunk_steps, axis=0).T  # (L, steps)
            for lane in range(n_lanes):
                probs[lane][:, step_mask[lane]] = forced.probs[lane][step_mask[lane]]
        return probs, torch.stack(chunk_latents).cpu().numpy()

    def _harmonise_kept(self, p: torch.Tensor, chunks: int, threshold: float) -> None:
        """FastBand.harmonise over every generated chunk at once, in place; a lane's chunk that sounded
        before it still sounds after (its likeliest cells are lifted to the threshold), so the harmony
        fades clashes without silencing a part the loop went on from."""
        cells = p.view(p.shape[0], chunks, -1)
        sounded = cells.amax(dim=-1, keepdim=True) >= threshold
        self.fast.harmonise(p, chunks)
        self._lift(cells, sounded, threshold)

    @staticmethod
    def _wake(p: torch.Tensor, revived: torch.Tensor, threshold: float) -> torch.Tensor:
        """A revived lane's chunk that still decodes to silence is scaled until its likeliest cells sound.

        p: blocked probabilities (L, B*rows, 16); revived: (L, B, 1). The variation of the lane's last
        sounding part can decode under the threshold (a sparse part, a harmony that moved on); then
        its strongest cells are lifted to the threshold, so a revived lane always comes back.
        """
        lanes, batch = revived.shape[:2]
        Engine._lift(p.view(lanes, batch, -1), revived, threshold)
        return p

    @staticmethod
    def _lift(cells: torch.Tensor, chosen: torch.Tensor, threshold: float) -> None:
        """cells (L, N, C) in place: each chosen (L, N, 1) chunk whose likeliest cell is under the threshold
        is scaled until that cell reaches it; the rest are untouched."""
        peak = cells.amax(dim=-1, keepdim=True).clamp_min_(1e-12)
        lift = torch.div(threshold * 1.0001, peak).clamp_min_(1.0)
        cells.mul_(lift.masked_fill_(~chosen, 1.0))

    def _decode(self, z: torch.Tensor, batch: int, harmonise: bool = True) -> torch.Tensor:
        """fast.decode, then (with scale lock on) each pitched lane's out-of-scale probabilities moved in scale."""
        p = self.fast.decode(z)
        if harmonise:
            p = self.fast.harmonise(p, batch)
        snap = getattr(self, "_snap", None)
        if snap is None:
            return p
        plain = self.fast.from_blocked(p, batch)  # (L, B, cs, 128)
        pitched = [i for i in range(len(LANES)) if i != DRUMS]
        moved = torch.zeros_like(plain[pitched]).scatter_reduce_(
            -1, snap.expand_as(plain[pitched]), plain[pitched], "amax", include_self=True
        )
        plain[pitched] = moved
        return self.fast.to_blocked(plain)

    def _song_scale(self, song: Song) -> torch.Tensor | None:
        if not song.settings.get("scale_lock"):
            return None
        return self._scale_map(str(song.settings.get("key") or ""), int(song.settings.get("transpose", 0)))

    def _scale_map(self, key_text: str, shift_out: int) -> torch.Tensor:
        """For each of the 128 pitches in the pack's key space, the in-scale pitch its probability goes to."""
        try:
            tonic, mode = parse_key(key_text.split(" / ")[0]) if key_text else (0, "major")
        except ValueError:
            tonic, mode = 0, "major"
        scale = {(pc - shift_out) % 12 for pc in scale_pitch_classes((tonic, mode))}
        target = []
        for p in range(128):
            if p % 12 in scale:
                target.append(p)
            elif (p + 1) % 12 in scale and p + 1 < 128:
                target.append(p + 1)
            else:
                target.append(p - 1)
        return torch.tensor(target, device=self.torch_device)

    def _forced_latents(self, forced: _Forced):
        """Latent means of every forced chunk (chunks, L, 1, K) and the mask as a device tensor."""
        cs = self.cfg.chunk_steps
        n = forced.mask.shape[0]
        rolls = (forced.probs >= forced.threshold).reshape(len(LANES), n, cs, 128)
        z = self.encode(rolls.astype(np.float32)).permute(1, 0, 2)[:, :, None, :]
        mask = torch.as_tensor(forced.mask, device=self.torch_device)[:, :, None, None]
        return z, mask

    def _forced_from(self, song: Song | None, lanes, n_chunks: int, shift: int = 0) -> _Forced | None:
        """Chunks of `lanes` taken from `song`, moved `shift` semitones into the pack's key space."""
        if song is None or not lanes:
            return None
        self._check_song(song)
        idx = [lane_index(lane) for lane in lanes]
        mask = np.zeros((n_chunks, len(LANES)), dtype=bool)
        mask[: min(n_chunks, song.n_chunks), idx] = True
        probs = np.zeros((len(LANES), n_chunks * self.cfg.chunk_steps, 128), dtype=np.float32)
        common = min(probs.shape[1], song.n_steps)
        probs[:, :common] = song.probs[:, :common]
        return _Forced(mask, transpose_roll(probs, shift), song.threshold)

    # --- helpers ------------------------------------------------------------------------------
    @property
    def defaults(self) -> dict:
        """The pack's generation defaults (card "generation"), with the thesis's values where it has none."""
        g = self.pack.card.get("generation")
        g = g if isinstance(g, dict) else {}
        return {
            "noise": g.get("noise", 1.0),
            "threshold": g.get("threshold", 0.3),
            "revive": g.get("revive", 0),
            "pull": g.get("pull", 0.0),
            "lineup": g.get("lineup", list(LANES)),
            "start": g.get("start", "bank" if self.fast.bank_z is not None else "prior"),
            "lane_bias": g.get("lane_bias"),
            "scale_lock": bool(g.get("scale_lock", False)),
            **{name: lane_value(name, g.get(name, off)) for name, (_, _, off) in LANE_SETTINGS.items()},
            "harmony": float(g.get("harmony", 0.0)),
            "start_bias": g.get("start_bias"),
            "harmony_after": bool(g.get("harmony_after", False)),
        }

    @staticmethod
    def _start_bias(value) -> list[float] | None:
        """Five finite density offsets for a sketch with no primer (card generation.start_bias), else None."""
        try:
            out = [check_float("start_bias", v, -8.0, 8.0) for v in value]
        except (TypeError, ValueError):
            return None
        return out if len(out) == len(LANES) else None

    @property
    def key_normalised(self) -> bool:
        rep = self.pack.card.get("representation")
        return bool(isinstance(rep, dict) and rep.get("key_normalised"))

    def _lineup(self, lineup) -> list[int]:
        """Lane indices that play, from names (list or 'piano,bass' text); None: the pack's default."""
        if lineup is None:
            lineup = self.defaults["lineup"]
        if isinstance(lineup, str):
            lineup = [part for part in lineup.replace(" ", "").split(",") if part]
        idx = sorted({lane_index(lane) for lane in lineup})
        if not idx:
            raise ValueError("the lineup is empty: choose at least one of " + ", ".join(LANES))
        return idx

    def _start(self, start) -> str:
        start = self.defaults["start"] if start is None else start
        if start not in ("bank", "prior"):
            raise ValueError(f"start must be 'bank' or 'prior', got {start!r}")
        if start == "bank" and self.fast.bank_z is None:
            start = "prior"  # packs from before the bank start as the thesis did
        return start

    def _key_shifts(self, primer_roll, keep: Song | None, key: str | None) -> tuple[int, int, str]:
        """(shift into the pack's key space, shift back out, the output key's name)."""
        target = parse_key(key) if key else None
        source = None
        if primer_roll is not None:
            source = estimate_key(primer_roll)
        elif keep is not None:
            out = int(keep.settings.get("transpose", 0))
            if target is None:
                return -out, out, str(keep.settings.get("key", ""))
        if self.key_normalised:
            shift_in = normalising_shift(source)
            if target is not None:
                return shift_in, -normalising_shift(target), key_name(target)
            if source is not None:
                return shift_in, -shift_in, key_name(source)
            return 0, 0, "C major / A minor"
        if target is not None:  # a pack that knows no keys: move the primer's key to the target, if any
            d = (relative_major(target) - relative_major(source)) % 12 if source is not None else 0
            return 0, d - 12 if d > 6 else d, key_name(target)
        return 0, 0, key_name(source) if source is not None else ""

    def _bank_rows(self, gen: torch.Generator, count: int, lanes, threshold: float | None = None) -> torch.Tensor:
        """`count` bank rows drawn with `gen` to start a sketch from.

        From the rows in which every lane of `lanes` plays in at least BANK_BARS of the chunk's bars as
        the pack decodes it now (given a threshold), else in which they all sound, else any. pull keeps a
        sketch near its first chunk, so a start whose strings play one bar in four gave sketches with
        strings empty in 80 % of bars.
        """
        lanes = list(lanes)
        sounding = self.fast.bank_sounding.cpu()
        choices = [sounding[:, lanes].all(dim=1)]
        if threshold is not None:
            choices.insert(0, torch.as_tensor(self._bank_bars(threshold)[:, lanes] >= BANK_BARS).all(dim=1))
        ok = next((c for c in choices if c.any()), torch.ones(sounding.shape[0], dtype=torch.bool))
        rows = torch.nonzero(ok).flatten()
        pick = torch.randint(len(rows), (count,), generator=gen)
        return rows[pick].to(self.fast.bank_z.device)

    def _bank_bars(self, threshold: float) -> np.ndarray:
        """(bank rows, 5) bars of each row's chunk in which the lane has notes, as decoded now (cached)."""
        bias = getattr(self.fast, "lane_bias", None)
        key = (float(threshold), None if bias is None else tuple(bias.tolist()), float(self.fast.harmony))
        cache = self._bank_bars_cache
        if key not in cache:
            snap, self._snap = self._snap, None  # the same rows whether or not scale lock is on
            steps_per_bar = self.cfg.steps_per_beat * 4
            counts = []
            try:
                for lo in range(0, self.fast.bank_z.shape[0], 64):
                    z = self.fast.bank_z[lo : lo + 64].permute(1, 0, 2).contiguous()  # (5, rows, K)
                    plain = self.fast.from_blocked(self._decode(z, z.shape[1]), z.shape[1])  # (5, rows, cs, 128)
                    bars = (plain >= threshold).unflatten(2, (-1, steps_per_bar)).any(dim=(3, 4)).sum(dim=2)
                    counts.append(bars.T.cpu().numpy())
            finally:
                self._snap = snap
            if len(cache) > 8:
                cache.clear()
            cache[key] = np.concatenate(counts)
        return cache[key]

    def _light(self, brought_in: list[int], silent: np.ndarray, gain) -> torch.Tensor | None:
        """Gains (5, B, 1) for the lanes brought in where the first chunk lacked them, or None.

        A lane the primer does not play comes in lighter when the pack says so (card
        generation.bring_in, per lane): in real songs such a lane is often simply absent, so a part
        added to them is closer to them when it comments rather than leads. 1 keeps it as full as the rest.
        """
        gain = np.broadcast_to(np.asarray(gain, dtype=np.float32), (len(LANES),))
        if not brought_in or (gain[brought_in] == 1.0).all():
            return None
        out = np.ones((len(LANES), silent.shape[1], 1), dtype=np.float32)
        for lane in brought_in:
            out[lane, silent[lane], 0] = gain[lane]
        return torch.as_tensor(out, device=self.torch_device)

    def _bring_in(self, first: np.ndarray, threshold: float, lineup, forced, gen) -> list[int]:
        """Give every lineup lane that is silent in `first` (5, B, cs, 128) a real chunk; returns those lanes.

        The chunk comes from the bank row closest (in the sounding lanes' latents) to what is there,
        one of the 8 closest at random, so a piano-only primer gets a bass that fits a piano like it.
        """
        cs = self.cfg.chunk_steps
        sounding = (first >= threshold).any(axis=(2, 3))  # (5, B)
        missing = [
            lane for lane in lineup if not sounding[lane].all() and not (forced is not None and forced.mask[0, lane])
        ]
        if not missing:
            return []
        batch = first.shape[1]
        if self.fast.bank_z is None:
            for lane in missing:
                for _ in range(16):  # a prior draw that sounds
                    z = torch.randn((len(LANES), batch, self.cfg.latent), generator=gen)
                    probs = self._unblock(self._decode(z.to(self.torch_device), batch), batch)
                    if (probs[lane] >= threshold).any():
                        break
                quiet = ~sounding[lane]
                first[lane, quiet] = probs[lane, quiet]
            self._audible(first, missing, threshold)
            return missing
        x = torch.as_tensor((first >= threshold).astype(np.float32), device=self.torch_device)
        z_now = self.encode(x)  # (5, B, K)
        bank, bank_on = self.fast.bank_z, self.fast.bank_sounding
        for lane in missing:
            for b in np.flatnonzero(~sounding[lane]):
                present = [i for i in range(len(LANES)) if sounding[i, b]]
                cand = torch.nonzero(bank_on[:, lane]).flatten()
                if not len(cand):
                    cand = torch.arange(bank.shape[0], device=bank.device)
                if present:
                    d = (bank[cand][:, present] - z_now[present, b].unsqueeze(0)).pow(2).sum(dim=(1, 2))
                    cand = cand[torch.argsort(d)[:8]]
                row = cand[torch.randint(len(cand), (1,), generator=gen).item()]
                z = bank[row][:, None, :]  # (5, 1, K)
                first[lane, b] = self._unblock(self._decode(z, 1), 1)[lane, 0, :cs]
        self._audible(first, missing, threshold)
        return missing

    @staticmethod
    def _audible(first: np.ndarray, lanes: list[int], threshold: float) -> None:
        """A brought-in chunk that decodes under the threshold (the density offsets and the harmony of the
        pack can do that) is scaled until its likeliest cells sound, in place: every lineup lane is heard
        in the first chunk, so revive keeps it playing from there on."""
        plain = torch.from_numpy(first)  # shares first's memory: the lift lands in it
        every = torch.ones((1, first.shape[1], 1), dtype=torch.bool)
        for lane in lanes:
            Engine._lift(plain[lane].view(1, first.shape[1], -1), every, threshold)

    def _finish_probs(self, probs: np.ndarray, shift_out: int, lineup, forced, keep) -> np.ndarray:
        """Back to the song's key, silent lanes outside the lineup, locked lanes exactly as they were."""
        probs = transpose_roll(probs, shift_out) if shift_out else probs
        for lane in range(len(LANES)):
            if lane not in lineup:
                probs[lane] = 0.0
        if forced is not None and keep is not None:
            cs = self.cfg.chunk_steps
            for lane in np.flatnonzero(forced.mask.any(axis=0)):
                n = int(forced.mask[:, lane].sum()) * cs
                probs[lane, :, :n] = keep.probs[lane, :n]
        return probs

    def _revive(self, revive) -> int:
        if revive is None:
            revive = self.defaults["revive"]
        return _check_count("revive", revive, 0, MAX_STEPS)

    def _pull(self, pull) -> float:
        if pull is None:
            pull = self.defaults["pull"]
        pull = float(pull)
        if not 0.0 <= pull < 1.0:
            raise ValueError(f"pull must be at least 0 and below 1, got {pull}")
        return pull

    def _unblock(self, blocked: torch.Tensor, batch: int) -> np.ndarray:
        return self.fast.from_blocked(blocked, batch).cpu().numpy()

    def _primer(self, primer) -> tuple[np.ndarray, float | None]:
        """The primer's first chunk (5, chunk_steps, 128) and its tempo (None for a bare roll); a file is read once."""
        if isinstance(primer, Song):
            self._check_song(primer)
            return primer.notes()[:, : self.cfg.chunk_steps], float(primer.tempo)
        if isinstance(primer, (str, Path)):
            from .midi import primer_from_notes, read_notes

            notes = read_notes(primer)
            roll = primer_from_notes(notes, Path(primer).name, self.cfg.steps_per_beat, self.cfg.chunk_steps)
            return roll, float(notes.tempo) if notes.tempo_given else None
        roll = np.asarray(primer)
        if (
            roll.ndim != 3
            or roll.shape[0] != len(LANES)
            or roll.shape[2] != 128
            or roll.shape[1] < self.cfg.chunk_steps
        ):
            raise ValueError(f"a primer must be (5, >= {self.cfg.chunk_steps}, 128), got {roll.shape}")
        return roll[:, : self.cfg.chunk_steps] > 0, None

    def _check_song(self, song: Song) -> None:
        if (song.steps_per_beat, song.chunk_steps) != (self.cfg.steps_per_beat, self.cfg.chunk_steps):
            raise ValueError(
                f"this song is on a {song.steps_per_beat}-steps-per-beat, {song.chunk_steps}-step grid but pack "
                f"'{self.pack.name}' works on {self.cfg.steps_per_beat} / {self.cfg.chunk_steps}: "
                "load the pack that made it"
            )

    def _song(self, probs, latents, threshold, tempo, chunks, settings, keep) -> Song:
        return Song(
            probs=probs,
            steps_per_beat=self.cfg.steps_per_beat,
            chunk_steps=self.cfg.chunk_steps,
            threshold=threshold,
            tempo=float(tempo),
            programs=list(keep.programs if keep is not None else DEFAULT_PROGRAMS),
            latents=latents,
            chunks=chunks,
            settings=settings,
        )


def _check_count(name: str, value, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high}, got {value!r}")
    return int(value)
