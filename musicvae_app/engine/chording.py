"""Chords for one call: what the band plays each bar, as the chord packs' decoder input and as steering.

A musician's chart (or the chords recognized in a followed part, or the progression of the bank chunk
a sketch starts from) is moved into the pack's key space and split into chunks. Every pack steers its
pitched lanes toward the bar's chord tones (the bass toward the root); chord packs also decode each
chunk with its chords and predict with them (BandNN).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from ..chords import (
    CHORD_FEATURES,
    Chord,
    ChordError,
    chart_period,
    chord_features,
    chord_of_features,
    fit_chart,
    parse_chart,
    parse_chord,
    third_of,
)
from ..keys import transpose_roll
from ..lanes import DRUMS, LANES
from ..song import Song


@lru_cache(maxsize=512)
def chord_map(chord: Chord | None, root: bool = False) -> np.ndarray:
    """For each of the 128 pitches, the chord tone it plays under `chord`: itself or the nearest (down on a tie).

    This is how arranger keyboards fit a pattern to a chord: the rhythm stays, pitches move to chord tones.
    root: only the chord's bass note (root or slash bass) counts, as for the bass on beat 1. No chord:
    every pitch stays. Cached: a chart has few chords.
    """
    pitches = np.arange(128)
    if chord is None:
        return pitches
    tones = np.zeros(12, dtype=bool)
    tones[[chord.lowest] if root else list(chord.tones)] = True
    targets = np.flatnonzero(tones[np.arange(128) % 12])  # every pitch that is a chord tone
    distance = pitches[:, None] - targets[None, :]  # > 0: the tone is below
    rank = np.abs(distance) * 2 - (distance > 0)  # nearest first; on a tie, the one below
    return targets[np.argmin(rank, axis=1)]


def _maps(chord: Chord | None) -> np.ndarray:
    return np.stack([chord_map(chord), chord_map(chord, root=True)])  # (2, 128)


STEERED = ("asked", "part", "bank")  # where a take's chords came from, when the band is held to them


@dataclass
class ChordPlan:
    """The chords of one call in the pack's key space: per chunk, decoder input and steering factors."""

    features: torch.Tensor  # (chunks, B, bars * 24); zeros for a bar with no chord
    # (chunks, B, bars, 2, 128): per bar, the chord tone each pitch plays (chord_map) and, for the bass on
    # beat 1, the chord's bass note it plays; None: unsteered
    maps: torch.Tensor | None
    thirds: torch.Tensor | None = None  # (chunks, B, bars, 2): each bar's root pitch class and third (0: none)

    def chunk(self, c: int) -> tuple[torch.Tensor, tuple | None]:
        """(features (B, bars * 24), (pitch maps (B, bars, 2, 128), thirds (B, bars, 2)) or None) of chunk c."""
        return self.features[c], ((self.maps[c], self.thirds[c]) if self.maps is not None else None)


def read_chords(chords, n_bars: int) -> list[Chord | None]:
    """A chart ('Am F C G', bar lines allowed) or a list of symbols / Chords / None, fitted to n_bars bars.

    ChordError names an unknown symbol, its bar and the accepted forms.
    """
    if isinstance(chords, str):
        return parse_chart(chords, bars=n_bars)
    if not isinstance(chords, (list, tuple)) or not chords:
        raise ChordError("chords must be a chart like 'Am F C G' or a list of chord symbols, one a bar")
    out: list[Chord | None] = []
    for bar, item in enumerate(chords):
        if item is None or isinstance(item, Chord):
            out.append(item)
        else:
            out.append(parse_chord(item, bar=bar + 1))
    return fit_chart(out, n_bars)


def chords_of_song(song: Song) -> list[Chord | None]:
    """A take's chords (Song.chords, symbols in the song's key) as Chords; unreadable symbols as None."""
    out = []
    for symbol in song.chords:
        try:
            out.append(None if symbol is None else parse_chord(symbol))
        except ChordError:
            out.append(None)
    return out


class Chording:
    """Chord plans for the call in progress; a part of Engine (it reads cfg, fast and torch_device)."""

    def _chord_plan(self, chords: list[Chord | None] | None, shift: int, batch: int, chunks: int, steer: bool = True):
        """A ChordPlan for `chunks` chunks from chords per bar in the song's key (None: no chords), moved
        `shift` semitones into the pack's key space; None where the pack neither reads nor is steered by chords."""
        bars = self.cfg.bars
        if chords is None and not self.cfg.chords:
            return None
        given = fit_chart(list(chords or []), chunks * bars)
        rows = chord_features(given, shift)
        feats = torch.as_tensor(rows, device=self.torch_device).view(chunks, 1, bars * CHORD_FEATURES)
        feats = feats.expand(chunks, batch, -1).contiguous()
        maps = None
        if steer and chords:
            rows = [_maps(c.transposed(shift) if c else None) for c in given]
            maps = torch.as_tensor(np.stack(rows), device=self.torch_device).view(chunks, 1, bars, 2, 128)
            maps = maps.expand(chunks, batch, bars, 2, 128).contiguous()
            roots = [(c.transposed(shift).root, third_of(c)) if c is not None else (0, 0) for c in given]
            thirds = torch.as_tensor(roots, device=self.torch_device).view(chunks, 1, bars, 2)
            return ChordPlan(feats, maps, thirds.expand(chunks, batch, bars, 2).contiguous())
        return ChordPlan(feats, maps)

    @staticmethod
    def _plan_args(plan: ChordPlan | None, c: int, b: int | None = None) -> dict:
        """Loop._decode's chords and steer arguments for chunk c of a plan (only take b's when given)."""
        if plan is None:
            return {}
        chords, steer = plan.chunk(c)
        if b is not None:
            chords, steer = chords[b : b + 1], (tuple(t[b : b + 1] for t in steer) if steer is not None else None)
        return {"chords": chords, "steer": steer}

    @torch.inference_mode()
    def set_chords(self, song: Song, chords) -> Song:
        """The take with another chord chart: every bar whose chord changed is re-decoded from the take's
        own latents with the new chord (no new sample), so the groove stays; every other bar, the drums
        and the musician's own parts stay bit-identical. chords: a chart or a list, one chord a bar."""
        self._check_song(song)
        new = read_chords(chords, song.n_bars)
        old = fit_chart(chords_of_song(song), song.n_bars) if song.chords else [None] * song.n_bars
        changed = [i for i in range(song.n_bars) if new[i] != old[i]]
        out = song.copy()
        out.chords = [None if c is None else c.symbol for c in new]
        out.settings = {**song.settings, "chords": "asked"}
        if not changed:
            return out
        self._need_latents(song, "changing its chords")  # the bars are re-decoded from the take's own latents
        if len(out.chunks) != song.n_chunks:  # a take that recorded no chunks: none of its parts is kept as played
            out.chunks = self._editable(song).chunks
        bars, spb, cs = self.cfg.bars, 4 * self.cfg.steps_per_beat, self.cfg.chunk_steps
        chunks = sorted({i // bars for i in changed})
        shift_out = int(song.settings.get("transpose", 0))
        plan = self._chord_plan(new, -shift_out, 1, song.n_chunks)
        z = torch.as_tensor(song.latents[chunks], dtype=torch.float32, device=self.torch_device)  # (C, L, K)
        z = z.permute(1, 0, 2).contiguous()  # (L, C, K)
        feats = plan.features[chunks, 0]
        maps = (plan.maps[chunks, 0], plan.thirds[chunks, 0])
        with self._steering_of(song):
            probs = self._unblock(self._decode(z, len(chunks), harmonise=False, chords=feats, steer=maps), len(chunks))
        probs = transpose_roll(probs, shift_out) if shift_out else probs  # (L, C, cs, 128)
        kept = {"primer", "part"}
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
        return out

    def set_chord(self, song: Song, bar: int, chord: str | Chord | None) -> Song:
        """set_chords for one bar (1-based): that bar re-voiced to `chord` from the same latents."""
        if isinstance(bar, bool) or not isinstance(bar, int) or not 1 <= bar <= song.n_bars:
            raise ChordError(f"bar must be a whole number from 1 to {song.n_bars}, got {bar!r}")
        chart = fit_chart(chords_of_song(song), song.n_bars) if song.chords else [None] * song.n_bars
        chart[bar - 1] = chord if chord is None or isinstance(chord, Chord) else parse_chord(chord, bar=bar)
        return self.set_chords(song, chart)

    def _song_chords(self, song: Song, bars: int | None = None) -> list[Chord | None] | None:
        """The take's chords (repeated to `bars` bars when given), or None when it has none."""
        if not song.chords:
            return None
        chords = chords_of_song(song)
        return fit_chart(chords[: chart_period(chords)], song.n_bars if bars is None else bars)

    def _song_plan(self, song: Song, start_chunk: int, chunks: int, batch: int) -> ChordPlan | None:
        """The plan for `chunks` chunks of a take from chunk `start_chunk` on, from the take's own chords
        (repeated past its end, for Continue); steered when they were asked for, a followed part's or the bank's."""
        bars = self.cfg.bars
        chords = self._song_chords(song, (start_chunk + chunks) * bars)  # round and round past the end
        if chords:
            chords = chords[start_chunk * bars :]
        steer = song.settings.get("chords") in STEERED
        return self._chord_plan(chords, -int(song.settings.get("transpose", 0)), batch, chunks, steer=steer)

    def _bank_chords(self, rows: torch.Tensor, shift_out: int) -> list[Chord | None] | None:
        """The chords the bank chunk `rows[0]` played (chord packs), in the song's key, per bar of a chunk."""
        bank = getattr(self.pack.band, "bank_chords", None)
        if bank is None:
            return None
        feats = bank[int(rows[0])].view(self.cfg.bars, CHORD_FEATURES).cpu().numpy()
        out = [chord_of_features(row) for row in feats]
        if not any(out):
            return None
        return [c.transposed(shift_out) if c is not None else None for c in out]
