"""Engine: the thesis's generation loop on a loaded pack, fast, reproducible, Qt-free.

The Engine is made of parts, each in its own module: Loop (loop.py, the loop and its decoding),
Steering (steering.py, scale lock, harmony, start offsets), StartBank (bank.py, real chunks to start
from) and Edits (edits.py, regenerate a lane, continue, infill, morph). This module holds what every
part shares (the pack, the device, the card's defaults, the checks on a request) and the calls that
make a new song: generate, song_from_midi, reconstruct.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..errors import InvalidValue
from ..limits import (
    check_float,
    check_noise,
    check_seed,
    check_steps_variations,
    check_tempo,
    check_threshold,
    check_transpose,
)
from ..model.fast import FastBand
from ..model.pack import Pack, load_pack
from ..sketch.song import DEFAULT_PROGRAMS, LANE_SETTINGS, LANES, ChunkInfo, Song, lane_index, lane_value
from ..theory.chords import chart_period, chords_key, fit_chart, recognize
from ..theory.keys import key_name, transpose_roll
from .bank import StartBank
from .chording import Chording, read_chords
from .edits import Edits
from .groove import Groove
from .key_space import key_shifts
from .loop import Loop
from .parts import Parts
from .runtime import MAX_STEPS, _check_count, new_seed, pick_device
from .sections import Sections, fill_bars
from .steering import Steering


class Engine(Edits, Loop, StartBank, Steering, Chording, Groove, Parts, Sections):
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
        self.fast.set_harmony(self.defaults["harmony"], halves=self.defaults["harmony_halves"])

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
        chords: str | list | None = None,
        follow: str | Path | Song | None = None,
        groove: bool | None = None,
        sections: list | None = None,
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
        chords: the chord of each bar, a chart ('Am F C G', '| Am | F |', one chord a bar) or a list
        of symbols (None: no chord), repeated to the song's length: every pitched lane plays them and
        the bass their roots. With no primer and no key, the key is the chart's.
        follow: a part (a MIDI file or a Song): every lane it plays is kept note for note for its whole
        length, its chords are recognized (unless `chords` is given) and the other lineup lanes are
        generated around it for the same length (steps is the part's length).
        groove: fills at phrase ends, a bass that keeps playing, held notes struck again on the drums'
        beat (engine/groove.py); the card's default, off on packs whose card does not ask for it.
        sections: (name, start bar, bars) or sections.Section, inside the song: a section whose name came
        before ("chorus" again, "verse 2") plays its first time's music with a variation (engine/sections.py),
        and with groove the drums fill the bar before every section; the takes carry them (Song.sections).
        revive 0, pull 0, harmony 0, start 'prior', groove off on a piano-lead pack is the thesis's loop exactly.
        """
        g = self.defaults
        groove = bool(g["groove"] if groove is None else groove)
        part = None
        if follow is not None:
            if keep is not None or primer is not None:
                raise InvalidValue("follow a part, or give a primer or locked lanes, not both")
            if key is not None:
                raise InvalidValue(f"a followed part plays in its own key: leave the key unset (asked {key!r})")
            part = self._follow_part(follow)
            keep, keep_lanes = part, [LANES[i] for i in range(len(LANES)) if part.notes()[i].any()]
            steps = part.n_chunks - 1
        steps, variations = check_steps_variations(steps, variations, self.cfg.chunk_steps)
        n_bars = (steps + 1) * self.cfg.bars
        asked = read_chords(chords, n_bars) if chords is not None else None
        sections = self._sections(sections, n_bars)
        tempo = None if tempo is None else check_tempo(tempo)
        noise = check_noise(g["noise"] if noise is None else noise)
        threshold = check_threshold(g["threshold"] if threshold is None else threshold)
        revive, pull = self._revive(revive), self._pull(pull)
        lineup = self._lineup(lineup)
        start = self._start(start)
        seed = new_seed() if seed is None else check_seed(seed)
        gen = torch.Generator().manual_seed(seed)
        primer_roll, primer_tempo = (None, None) if primer is None else self._primer(primer)
        if part is not None:
            primer_roll, primer_tempo = part.notes()[:, : self.cfg.chunk_steps], float(part.tempo)
            if asked is None:
                asked = fit_chart(recognize(part.notes(), 4 * self.cfg.steps_per_beat), n_bars)
        if asked is not None and key is None and primer_roll is None and keep is None:
            key = key_name(chords_key(asked[: chart_period(asked)]))  # a chart alone: its own key
        key_roll = part.notes() if part is not None else primer_roll  # a followed part's key is the whole part's
        shift_in, shift_out, key_used = key_shifts(key_roll, keep, key, self.key_normalised)
        scale_lock = bool(g["scale_lock"] if scale_lock is None else scale_lock)
        harmony = check_float("harmony", g["harmony"] if harmony is None else harmony, 0.0, 8.0)
        start_bias = self._start_bias(g["start_bias"]) if primer_roll is None and start == "bank" else None
        with self._steering(self._scale_map(key_used, shift_out) if scale_lock else None, harmony, start_bias):
            cs, n_lanes = self.cfg.chunk_steps, len(LANES)
            forced = self._forced_from(keep, keep_lanes, steps + 1, -shift_out if keep is not None else 0)
            chord_source = "asked" if chords is not None else ("part" if part is not None else None)
            plan = self._chord_plan(asked, -shift_out, variations, steps + 1)
            if primer_roll is not None:
                first = transpose_roll(primer_roll, shift_in).astype(np.float32)
                if asked is None and self.cfg.chords:  # chord packs decode with the primer's chords, unsteered
                    heard = fit_chart(recognize(first, 4 * self.cfg.steps_per_beat), n_bars)
                    plan = self._chord_plan(heard, 0, variations, steps + 1, steer=False)
                first = np.repeat(first[:, None], variations, axis=1)
                first_z = None
                source = "primer"
            elif start == "bank":
                bank_pick = self._bank_rows(gen, variations, lineup, threshold)
                first_z = self.fast.bank_z[bank_pick].permute(1, 0, 2).contiguous()  # (L, B, K)
                if asked is None:  # chord packs: the progression the bank chunk played, round and round
                    asked = self._bank_chords(bank_pick, shift_out)
                    chord_source = "bank" if asked is not None else None
                    asked = fit_chart(asked, n_bars) if asked is not None else None
                    plan = self._chord_plan(asked, -shift_out, variations, steps + 1)
                first = self._unblock(self._decode(first_z, variations, **self._plan_args(plan, 0)), variations)
                source = "bank"
            else:
                first_z = torch.randn((n_lanes, variations, self.cfg.latent), generator=gen).to(self.torch_device)
                first = self._unblock(self._decode(first_z, variations, **self._plan_args(plan, 0)), variations)
                source = "random"
            silent = ~(first >= threshold).any(axis=(2, 3))  # (5, B): lanes the first chunk lacks
            brought_in = self._bring_in(first, threshold, lineup, forced, gen, plan) if revive else []
            light = self._light(brought_in, silent, g["bring_in"]) if source == "primer" and part is None else None
            if forced is not None:
                first[forced.mask[0]] = forced.probs[forced.mask[0], None, :cs]
            probs, latents = self._run(
                first, first_z, steps, noise, threshold, gen, forced, revive, pull, lineup, light=light, plan=plan
            )
            protect = np.zeros((steps + 1, n_lanes), dtype=bool) if forced is None else forced.mask.copy()
            if source == "primer" and part is None:
                protect[0] = primer_roll.any(axis=(1, 2))  # the primer's own lanes; brought-in ones are new
            if sections:
                self._repeat_sections(probs, latents, sections, plan, threshold, seed, protect)
            probs = self._finish_probs(probs, shift_out, lineup, forced, keep)
            if groove:
                self._groove(
                    probs,
                    threshold,
                    lineup,
                    seed,
                    protect,
                    asked,
                    fill_bars=fill_bars(sections),
                    scale=self._key_scale(key_used) if scale_lock else None,
                )
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
                settings["groove"] = groove
                if chord_source is not None:
                    settings["chords"] = chord_source
                if part is not None:
                    settings["follow"] = str(part.settings.get("source", ""))
                    settings["part_lanes"] = ",".join(keep_lanes)
                song_tempo = tempo if tempo is not None else (primer_tempo or 120.0)
                song = self._song(probs[:, b], latents[:, :, b], threshold, song_tempo, chunks, settings, keep)
                if chord_source is not None:
                    song.chords = [None if c is None else c.symbol for c in asked]
                    self._fit_chart(song, asked, np.repeat(~protect, self.cfg.bars, axis=0))
                song.sections = list(sections)
                songs.append(song)
            return songs[0] if variations == 1 else songs

    def generate_takes(self, **settings) -> list[Song]:
        """Like generate, always a list of takes (one per variation)."""
        out = self.generate(**settings)
        return out if isinstance(out, list) else [out]

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
            "harmony_halves": bool(g.get("harmony_halves", False)),
            "groove": bool(g.get("groove", False)),
        }

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

    def _primer(self, primer) -> tuple[np.ndarray, float | None]:
        """The primer's first chunk (5, chunk_steps, 128) and its tempo (None for a bare roll); a file is read once."""
        if isinstance(primer, Song):
            self._check_song(primer)
            return primer.notes()[:, : self.cfg.chunk_steps], float(primer.tempo)
        if isinstance(primer, (str, Path)):
            from ..sketch.midi import primer_from_notes, read_notes

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
            raise InvalidValue(
                f"this song is on a {song.steps_per_beat}-steps-per-beat, {song.chunk_steps}-step grid but pack "
                f"'{self.pack.name}' works on {self.cfg.steps_per_beat} / {self.cfg.chunk_steps}: "
                "load the pack that made it"
            )
        check_transpose(song.settings.get("transpose", 0))  # every edit moves the notes by it

    def _fits_latents(self, song: Song) -> bool:
        """True when the take carries one latent per chunk and lane of this pack's size."""
        return song.latents is not None and song.latents.shape == (song.n_chunks, len(LANES), self.cfg.latent)

    def _latents_problem(self, song: Song) -> str:
        """Why the take's latents are not this pack's (for a message): none kept, or another pack's size."""
        if song.latents is None:
            return "this take keeps no latents (it was saved without them)"
        made = song.settings.get("pack") or next((c.pack for row in song.chunks for c in row if c.pack), None)
        by = f"model pack '{made}'" if made and made != self.pack.name else "another model pack"
        return (
            f"this take was made with {by}: its latents hold {song.latents.shape[-1]} numbers a lane, "
            f"pack '{self.pack.name}' uses {self.cfg.latent}"
        )

    def _editable(self, song: Song) -> Song:
        """The take an edit goes on from: as it is when it records every chunk and carries this pack's latents.

        A take that records no chunks gets rows of 'unknown' provenance (as the sketch reader gives one);
        one whose latents are missing or another pack's gets its notes encoded by this pack (each chunk in
        the pack's key space), as a locked lane's are: the notes are what an edit goes on from, and the
        latents kept beside them must be this pack's. A chunk record per chunk that does not add up is
        InvalidValue."""
        if song.chunks and (len(song.chunks) != song.n_chunks or any(len(row) != len(LANES) for row in song.chunks)):
            raise InvalidValue(
                f"this take records how {len(song.chunks)} chunks were made but holds {song.n_chunks} "
                f"(each of {len(LANES)} lanes): the take is damaged and cannot be edited"
            )
        if song.chunks and self._fits_latents(song):
            return song
        out = song.copy()
        if not song.chunks:
            out.chunks = [[ChunkInfo("unknown")] * len(LANES) for _ in range(song.n_chunks)]
        if not self._fits_latents(song):
            shift_out = int(song.settings.get("transpose", 0))
            notes = transpose_roll(song.notes(), -shift_out)
            rolls = notes.reshape(len(LANES), song.n_chunks, self.cfg.chunk_steps, 128).astype(np.float32)
            out.latents = self.encode(rolls).permute(1, 0, 2).cpu().numpy()
        return out

    def _need_latents(self, song: Song, what: str) -> None:
        """InvalidValue, saying what the user can do, when `what` must decode the take's own latents and they
        are missing or another pack's."""
        if not self._fits_latents(song):
            raise InvalidValue(
                f"{self._latents_problem(song)}, so {what} cannot decode them. Load the pack that made the "
                "sketch to do this, or Regenerate a lane (or bars) first: this pack then reads the notes and "
                "keeps its own latents."
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
