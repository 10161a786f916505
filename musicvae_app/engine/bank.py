"""The start bank: real chunks of the pack that start a sketch and bring in the lanes a primer lacks."""

from __future__ import annotations

import numpy as np
import torch

from ..lanes import DRUMS
from ..sketch.song import LANES
from ..theory.chords import recognize
from ..theory.dynamics import BACKBEAT, KICKS
from ..theory.keys import estimate_key
from .chording import plan_args
from .loop import lift
from .styles import HAND

BANK_BARS = 3  # a sketch with no primer starts from a bank chunk in which every lineup lane plays this many bars


class StartBank:
    """Drawing from the pack's bank of chunks (fast.bank_z): where a sketch starts, the lanes brought in."""

    def __init__(self, fast, cfg, device: torch.device, decoder, steering):
        """decoder: the engine's Decoder; steering: its Steering (the counts are read with no scale lock)."""
        self.fast = fast
        self.cfg = cfg
        self.device = device
        self.decoder = decoder
        self.steering = steering
        self._bars_cache: dict = {}  # bars(), per threshold, density offsets and harmony
        self._keys: list | None = None  # each bank row's key (estimate_key) as decoded, in the pack's key space

    def rows(
        self, gen: torch.Generator, count: int, lanes, threshold: float | None = None, subset=None, key=None
    ) -> torch.Tensor:
        """`count` bank rows drawn with `gen` to start a sketch from (only from `subset`, a style's rows, if given).

        From the rows in which every lane of `lanes` plays in at least BANK_BARS of the chunk's bars as
        the pack decodes it now (given a threshold), else in which they all sound, else any. pull keeps a
        sketch near its first chunk, so a start whose strings play one bar in four gave sketches with
        strings empty in 80 % of bars.

        key: (tonic, mode) in the pack's key space (a key-normalised pack: (0, "major") or (9, "minor")): only
        rows heard in that key whose first bar is its tonic chord, else in that key, when there are any.
        Normalising maps a minor key onto its relative major's pitches, so a bank row in C major played in
        E minor is heard as G major (C G D, no Em): asking a key starts from a row that has that key's tonic
        (benchmarks/key_tonic.py).
        """
        lanes = list(lanes)
        sounding = self.fast.bank_sounding.cpu()
        choices = [sounding[:, lanes].all(dim=1)]
        if threshold is not None:
            choices.insert(0, torch.as_tensor(self.bars(threshold)[:, lanes] >= BANK_BARS).all(dim=1))
        if subset is not None and len(subset):
            only = torch.zeros(sounding.shape[0], dtype=torch.bool)
            only[torch.as_tensor(list(subset), dtype=torch.long)] = True
            choices = [c & only for c in choices] + [only]
        if key is not None and threshold is not None:
            self._decoded(threshold, keys=True)
            in_key = torch.as_tensor([k[0] == tuple(key) for k in self._keys])
            on_tonic = torch.as_tensor([k[0] == tuple(key) and k[1] for k in self._keys])
            choices = [c & on_tonic for c in choices] + [c & in_key for c in choices] + choices
        ok = next((c for c in choices if c.any()), torch.ones(sounding.shape[0], dtype=torch.bool))
        rows = torch.nonzero(ok).flatten()
        pick = torch.randint(len(rows), (count,), generator=gen)
        return rows[pick].to(self.fast.bank_z.device)

    def bars(self, threshold: float) -> np.ndarray:
        """(bank rows, 5) bars of each row's chunk in which the lane has notes, as decoded now (cached)."""
        return self._decoded(threshold)[0]

    def kit(self, threshold: float) -> tuple[np.ndarray, np.ndarray]:
        """((bank rows,) bars of each row's chunk whose drums play a kick and a backbeat (snare, clap or side
        stick), (bank rows,) whether the drum it hits most is hand percussion (bongos, congas, cabasa, guiro...)),
        as decoded now (cached with bars())."""
        _, kit, hand = self._decoded(threshold)
        return kit, hand

    def _decoded(self, threshold: float, keys: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """bars(), kit bars and hand-led drums of every row, from one decode of the bank (cached per threshold,
        density offsets and harmony); keys: each row's key too (`_keys`, once: estimating 512 rows' keys cost
        three times the decode, and only a sketch started in an asked key needs them)."""
        bias = getattr(self.fast, "lane_bias", None)
        harmony = (float(self.fast.harmony), bool(self.fast.harmony_halves))
        key = (float(threshold), None if bias is None else tuple(bias.tolist()), harmony)
        cache = self._bars_cache
        if key not in cache or (keys and self._keys is None):
            steps_per_bar = self.cfg.steps_per_beat * 4
            counts, kits, hands, found = [], [], [], []
            with self.steering.unlocked():  # the same rows whether or not scale lock is on
                for lo in range(0, self.fast.bank_z.shape[0], 64):
                    z = self.fast.bank_z[lo : lo + 64].permute(1, 0, 2).contiguous()  # (5, rows, K)
                    plain = self.fast.from_blocked(self.decoder.decode(z, z.shape[1]), z.shape[1])  # (5, rows, cs, 128)
                    on = plain >= threshold
                    per_bar = on.unflatten(2, (-1, steps_per_bar))  # (5, rows, bars, spb, 128)
                    bars = per_bar.any(dim=(3, 4)).sum(dim=2)
                    counts.append(bars.T.cpu().numpy())
                    drums = per_bar[DRUMS]  # (rows, bars, spb, 128)
                    kit = drums[..., list(KICKS)].any(dim=(2, 3)) & drums[..., list(BACKBEAT)].any(dim=(2, 3))
                    kits.append(kit.sum(dim=1).cpu().numpy())
                    hits = drums.sum(dim=(1, 2))  # (rows, 128)
                    top = hits.argmax(dim=1).cpu().numpy()
                    hands.append(np.isin(top, HAND) & (hits.sum(dim=1) > 0).cpu().numpy())
                    if keys and self._keys is None:
                        rolls = on.cpu().numpy()
                        found += [_row_key(rolls[:, r], steps_per_bar) for r in range(rolls.shape[1])]
            if keys and self._keys is None:
                self._keys = found  # each row's key as the pack decodes it (at the first threshold a key is asked)
            if len(cache) > 8:
                cache.clear()
            cache[key] = (np.concatenate(counts), np.concatenate(kits), np.concatenate(hands))
        return cache[key]

    def bring_in(self, first: np.ndarray, threshold: float, lineup, forced, gen, plan=None, subset=None) -> list[int]:
        """Give every lineup lane that is silent in `first` (5, B, cs, 128) a real chunk; returns those lanes.

        The chunk comes from the bank row closest (in the sounding lanes' latents) to what is there,
        one of the 8 closest at random, so a piano-only primer gets a bass that fits a piano like it.
        subset: a style's rows (a followed part or a primer with a style): only those, where one plays the lane.
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
                    probs = self.decoder.unblock(
                        self.decoder.decode(z.to(self.device), batch, **plan_args(plan, 0)), batch
                    )
                    if (probs[lane] >= threshold).any():
                        break
                quiet = ~sounding[lane]
                first[lane, quiet] = probs[lane, quiet]
            _audible(first, missing, threshold)
            return missing
        x = torch.as_tensor((first >= threshold).astype(np.float32), device=self.device)
        z_now = self.decoder.encode(x)  # (5, B, K)
        bank, bank_on = self.fast.bank_z, self.fast.bank_sounding
        full = torch.as_tensor(self.bars(threshold) >= BANK_BARS, device=bank_on.device)  # (rows, 5)
        kit_bars, hand_led = self.kit(threshold)
        kit = torch.as_tensor((kit_bars >= BANK_BARS) & ~hand_led, device=bank_on.device)  # (rows,)
        styled = None
        if subset is not None and len(subset):
            styled = torch.zeros(bank.shape[0], dtype=torch.bool, device=bank_on.device)
            styled[torch.as_tensor(list(subset), dtype=torch.long, device=bank_on.device)] = True
        for lane in missing:
            for b in np.flatnonzero(~sounding[lane]):
                present = [i for i in range(len(LANES)) if sounding[i, b]]
                # a row whose lane plays in most bars of its chunk, as rows() starts a sketch (a row that plays
                # once in four bars brought a followed part a drummer of one hit a bar), else any that sounds;
                # drums from a row that plays a kick and a backbeat in most bars, led by the kit, not by hand
                # percussion (the rows closest to a comp were often a tambourine or shaker groove, or hats alone)
                choices = [bank_on[:, lane] & full[:, lane], bank_on[:, lane]]
                if lane == DRUMS:
                    choices.insert(0, choices[0] & kit)
                if styled is not None:  # a style's rows first, each kind of row in turn
                    choices = [c & styled for c in choices] + choices
                cand = next((torch.nonzero(c).flatten() for c in choices if c.any()), choices[-1].nonzero().flatten())
                if not len(cand):
                    cand = torch.arange(bank.shape[0], device=bank.device)
                if present:
                    d = (bank[cand][:, present] - z_now[present, b].unsqueeze(0)).pow(2).sum(dim=(1, 2))
                    cand = cand[torch.argsort(d)[:8]]
                row = cand[torch.randint(len(cand), (1,), generator=gen).item()]
                z = bank[row][:, None, :]  # (5, 1, K)
                decoded = self.decoder.decode(z, 1, **plan_args(plan, 0, b))
                first[lane, b] = self.decoder.unblock(decoded, 1)[lane, 0, :cs]
        _audible(first, missing, threshold)
        return missing


def _audible(first: np.ndarray, lanes: list[int], threshold: float) -> None:
    """A brought-in chunk that decodes under the threshold (the density offsets and the harmony of the
    pack can do that) is scaled until its likeliest cells sound, in place: every lineup lane is heard
    in the first chunk, so revive keeps it playing from there on."""
    plain = torch.from_numpy(first)  # shares first's memory: the lift lands in it
    every = torch.ones((1, first.shape[1], 1), dtype=torch.bool)
    for lane in lanes:
        lift(plain[lane].view(1, first.shape[1], -1), every, threshold)


def _row_key(roll: np.ndarray, steps_per_bar: int) -> tuple:
    """(estimate_key of a bank row's decoded chunk, whether its first bar is heard as that key's tonic chord)."""
    key = estimate_key(roll)
    first = recognize(roll[:, :steps_per_bar], steps_per_bar)
    chord = first[0] if first else None
    if key is None or chord is None:
        return key, False
    minor = chord.quality.startswith("m") and not chord.quality.startswith("maj")
    return key, chord.root == key[0] and minor == (key[1] == "minor")
