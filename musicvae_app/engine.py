"""Engine: the thesis's generation loop on a loaded pack, fast, reproducible, Qt-free.

One loop (`_run`) serves generate, continue, lock and regenerate: lanes whose chunks are given
("forced") are taken from an existing song instead of predicted, and the lead lane's forced latent
is what the other lanes are conditioned on.
"""

from __future__ import annotations

import math
import secrets
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .model.fast import FastBand
from .model.pack import Pack, load_pack
from .song import DEFAULT_PROGRAMS, LANES, ChunkInfo, Song, lane_index

MAX_STEPS = 1024
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
        self.pack = pack
        self.cfg = pack.config
        self.torch_device = pick_device(device)
        self.fast = FastBand(pack.band, self.torch_device)

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
        noise: float = 1.0,
        threshold: float = 0.3,
        seed: int | None = None,
        primer: np.ndarray | Song | str | Path | None = None,
        variations: int = 1,
        tempo: float = 120.0,
        keep: Song | None = None,
        keep_lanes: tuple[str, ...] | list[str] = (),
        revive: int | None = None,
        pull: float | None = None,
    ) -> Song | list[Song]:
        """A new sketch: the primer (or a random chunk) and `steps` chunks after it.

        keep/keep_lanes lock lanes: their chunks come from `keep`, and a locked lead lane is what
        the other lanes are conditioned on. revive: chunks of silence after which a lane is
        re-anchored; pull: how far each prediction is drawn back toward the first chunk (None: the
        pack's defaults; 0 and 0: the thesis's loop).
        """
        steps, variations = (
            _check_count("steps", steps, 0, MAX_STEPS),
            _check_count("variations", variations, 1, MAX_VARIATIONS),
        )
        noise, threshold = _check_noise(noise), _check_threshold(threshold)
        revive, pull = self._revive(revive), self._pull(pull)
        seed = new_seed() if seed is None else int(seed)
        gen = torch.Generator().manual_seed(seed)
        cs, n_lanes = self.cfg.chunk_steps, len(LANES)
        forced = self._forced_from(keep, keep_lanes, steps + 1)
        if primer is not None:
            first = np.repeat(self._primer_roll(primer)[:, None].astype(np.float32), variations, axis=1)
            first_z = None
            source = "primer"
        else:
            first_z = torch.randn((n_lanes, variations, self.cfg.latent), generator=gen)
            first = self._unblock(self.fast.decode(first_z.to(self.torch_device)), variations)
            source = "random"
        if forced is not None:
            first[forced.mask[0]] = forced.probs[forced.mask[0], None, :cs]
        probs, latents = self._run(first, first_z, steps, noise, threshold, gen, forced, revive, pull)
        songs = []
        for b in range(variations):
            chunks = [[ChunkInfo(source, seed, None, self.pack.name)] * n_lanes] + [
                [ChunkInfo("generated", seed, noise, self.pack.name)] * n_lanes for _ in range(steps)
            ]
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
                device=self.device,
            )
            songs.append(self._song(probs[:, b], latents[:, :, b], threshold, tempo, chunks, settings, keep))
        return songs[0] if variations == 1 else songs

    @torch.inference_mode()
    def regenerate_lane(
        self,
        song: Song,
        lane: str | int,
        seed: int | None = None,
        noise: float | None = None,
        revive: int | None = None,
    ) -> Song:
        """A new take of one lane for the whole song; the other four lanes stay bit-identical."""
        li = lane_index(lane)
        self._check_song(song)
        noise = _check_noise(song.settings.get("noise", 1.0) if noise is None else noise)
        seed = new_seed() if seed is None else int(seed)
        gen = torch.Generator().manual_seed(seed)
        others = [name for i, name in enumerate(LANES) if i != li]
        forced = self._forced_from(song, others, song.n_chunks)
        first = (song.chunk(0) >= song.threshold).astype(np.float32)[:, None]
        first_z = None
        if song.chunks and song.chunks[0][li].source != "primer":
            z = torch.randn((len(LANES), 1, self.cfg.latent), generator=gen)
            first[li] = self._unblock(self.fast.decode(z.to(self.torch_device)), 1)[li]
        revive = self._revive(song.settings.get("revive") if revive is None else revive)
        pull = self._pull(song.settings.get("pull"))
        probs, latents = self._run(first, first_z, song.n_chunks - 1, noise, song.threshold, gen, forced, revive, pull)
        out = song.copy()
        out.probs[li] = probs[li, 0]
        out.latents[:, li] = latents[:, li, 0]
        for c in range(song.n_chunks):
            if c > 0 or song.chunks[0][li].source != "primer":
                out.chunks[c][li] = ChunkInfo("regenerated", seed, noise, self.pack.name)
        out.settings = {**song.settings, f"{LANES[li]}_seed": seed}
        return out

    @torch.inference_mode()
    def continue_song(
        self, song: Song, steps: int, seed: int | None = None, noise: float | None = None, revive: int | None = None
    ) -> Song:
        """`steps` more chunks after the end of the song."""
        self._check_song(song)
        steps = _check_count("steps", steps, 1, MAX_STEPS)
        noise = _check_noise(song.settings.get("noise", 1.0) if noise is None else noise)
        seed = new_seed() if seed is None else int(seed)
        gen = torch.Generator().manual_seed(seed)
        last = (song.chunk(song.n_chunks - 1) >= song.threshold).astype(np.float32)[:, None]
        revive = self._revive(song.settings.get("revive") if revive is None else revive)
        pull = self._pull(song.settings.get("pull"))
        probs, latents = self._run(last, None, steps, noise, song.threshold, gen, None, revive, pull)
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
    def reconstruct(self, song: Song) -> Song:
        """Encode and decode every chunk with no noise: a tidy of a primer, and how we measure the VAEs."""
        self._check_song(song)
        n = song.n_chunks
        rolls = song.notes().reshape(len(LANES), n, self.cfg.chunk_steps, 128).astype(np.float32)
        z = self.encode(rolls)
        probs = self._unblock(self.fast.decode(z), n)
        out = song.copy()
        out.probs = probs.reshape(len(LANES), -1, 128)
        out.latents = z.permute(1, 0, 2).cpu().numpy()
        out.chunks = [[ChunkInfo("reconstructed", None, 0.0, self.pack.name)] * len(LANES) for _ in range(n)]
        return out

    def encode(self, rolls: np.ndarray) -> torch.Tensor:
        """Binary chunks (5, N, chunk_steps, 128) -> latent means (5, N, K) on the engine's device."""
        x = torch.as_tensor(rolls, dtype=torch.float32, device=self.torch_device)
        return self.fast.encode(self.fast.to_blocked(x), x.shape[1])

    # --- the loop -----------------------------------------------------------------------------
    def _run(self, first, first_z, steps, noise, threshold, gen, forced, revive=0, pull=0.0):
        """The thesis's loop from a first chunk (5, B, cs, 128): probs (5, B, (steps+1)*cs, 128), latents.

        revive > 0 re-anchors a lane that has been silent for `revive` chunks: its next prediction
        starts again from the latent of its last chunk with notes, instead of from the silence it
        fell into (the thesis's abandoned-guitar weakness). pull in [0, 1) draws every predicted
        latent that far back toward the first chunk's, so a take keeps the primer's key and feel
        instead of drifting off. revive 0 and pull 0 are the thesis's loop exactly.
        """
        one_song = self.torch_device.type == "cpu" and first.shape[1] == 1
        with torch_threads(self.one_song_threads if one_song else None):
            return self._loop(first, first_z, steps, noise, threshold, gen, forced, revive, pull)

    def _loop(self, first, first_z, steps, noise, threshold, gen, forced, revive, pull):
        fast, dev = self.fast, self.torch_device
        n_lanes, batch = first.shape[:2]
        eps = (torch.randn((steps, n_lanes, batch, self.cfg.latent), generator=gen) * noise).to(dev)
        x = fast.to_blocked(torch.as_tensor(first, device=dev))
        z = fast.encode((x >= threshold).float(), batch)
        chunk_latents = [z if first_z is None else first_z.to(dev)]
        home = z
        blocks = [x]
        if forced is not None:
            fz, fmask = self._forced_latents(forced)
        if revive:
            anchor, silent = z.clone(), torch.zeros((n_lanes, batch, 1), device=dev)
            heard = (x >= threshold).reshape(n_lanes, batch, -1).amax(dim=2, keepdim=True) > 0
        for s in range(steps):
            lead = fast.predict_lead(z[0]) + eps[s, 0]
            if forced is not None:
                lead = torch.where(fmask[s + 1, 0], fz[s + 1, 0], lead)
            if pull:
                lead = torch.lerp(lead, home[0], pull)
            others = fast.predict_others(z[1:], lead) + eps[s, 1:]
            if pull:
                others = torch.lerp(others, home[1:], pull)
            z_next = torch.cat([lead[None], others])
            if forced is not None:
                z_next = torch.where(fmask[s + 1], fz[s + 1], z_next)
            p = fast.decode(z_next)
            blocks.append(p)
            chunk_latents.append(z_next)
            x = (p >= threshold).float()
            z = fast.encode(x, batch)
            if revive:
                sounding = x.reshape(n_lanes, batch, -1).amax(dim=2, keepdim=True) > 0
                heard |= sounding
                anchor = torch.where(sounding, z, anchor)
                silent = torch.where(sounding, 0.0, silent + 1)
                z = torch.where((silent >= revive) & heard, anchor, z)
            if forced is not None:
                z = torch.where(fmask[s + 1], fz[s + 1], z)
        probs = self._unblock(torch.stack(blocks, dim=1).reshape(n_lanes, -1, 16), (steps + 1) * batch)
        probs = probs.reshape(n_lanes, steps + 1, batch, self.cfg.chunk_steps, 128).transpose(0, 2, 1, 3, 4)
        probs = np.ascontiguousarray(probs.reshape(n_lanes, batch, -1, 128))
        if forced is not None:
            step_mask = np.repeat(forced.mask, self.cfg.chunk_steps, axis=0).T  # (L, steps)
            for lane in range(n_lanes):
                probs[lane][:, step_mask[lane]] = forced.probs[lane][step_mask[lane]]
        return probs, torch.stack(chunk_latents).cpu().numpy()

    def _forced_latents(self, forced: _Forced):
        """Latent means of every forced chunk (chunks, L, 1, K) and the mask as a device tensor."""
        cs = self.cfg.chunk_steps
        n = forced.mask.shape[0]
        rolls = (forced.probs >= forced.threshold).reshape(len(LANES), n, cs, 128)
        z = self.encode(rolls.astype(np.float32)).permute(1, 0, 2)[:, :, None, :]
        mask = torch.as_tensor(forced.mask, device=self.torch_device)[:, :, None, None]
        return z, mask

    def _forced_from(self, song: Song | None, lanes, n_chunks: int) -> _Forced | None:
        if song is None or not lanes:
            return None
        self._check_song(song)
        idx = [lane_index(lane) for lane in lanes]
        mask = np.zeros((n_chunks, len(LANES)), dtype=bool)
        mask[: min(n_chunks, song.n_chunks), idx] = True
        probs = np.zeros((len(LANES), n_chunks * self.cfg.chunk_steps, 128), dtype=np.float32)
        common = min(probs.shape[1], song.n_steps)
        probs[:, :common] = song.probs[:, :common]
        return _Forced(mask, probs, song.threshold)

    # --- helpers ------------------------------------------------------------------------------
    def _revive(self, revive) -> int:
        if revive is None:
            revive = self.pack.card.get("generation", {}).get("revive", 0)
        return _check_count("revive", revive, 0, MAX_STEPS)

    def _pull(self, pull) -> float:
        if pull is None:
            pull = self.pack.card.get("generation", {}).get("pull", 0.0)
        pull = float(pull)
        if not 0.0 <= pull < 1.0:
            raise ValueError(f"pull must be at least 0 and below 1, got {pull}")
        return pull

    def _unblock(self, blocked: torch.Tensor, batch: int) -> np.ndarray:
        return self.fast.from_blocked(blocked, batch).cpu().numpy()

    def _primer_roll(self, primer) -> np.ndarray:
        if isinstance(primer, Song):
            self._check_song(primer)
            return primer.notes()[:, : self.cfg.chunk_steps]
        if isinstance(primer, (str, Path)):
            from .midi import read_primer

            return read_primer(primer, self.cfg.steps_per_beat, self.cfg.chunk_steps)
        roll = np.asarray(primer)
        if (
            roll.ndim != 3
            or roll.shape[0] != len(LANES)
            or roll.shape[2] != 128
            or roll.shape[1] < self.cfg.chunk_steps
        ):
            raise ValueError(f"a primer must be (5, >= {self.cfg.chunk_steps}, 128), got {roll.shape}")
        return roll[:, : self.cfg.chunk_steps] > 0

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


def _check_noise(noise) -> float:
    noise = float(noise)
    if not math.isfinite(noise) or not 0.0 <= noise <= 10.0:
        raise ValueError(f"noise must be between 0 and 10, got {noise}")
    return noise


def _check_threshold(threshold) -> float:
    threshold = float(threshold)
    if not math.isfinite(threshold) or not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be between 0 and 1 (exclusive), got {threshold}")
    return threshold
