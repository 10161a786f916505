"""Steering: what bends the decoded notes for one call (scale lock, harmony, a start's density offsets).

The Engine holds one Steering; the Decoder (loop.py) reads its `snap` while a call runs inside `during`.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import torch

from ..limits import check_float
from ..sketch.song import LANES, Song
from ..theory.keys import parse_key, scale_pitch_classes


class Steering:
    """Scale lock, harmony and density offsets for the call in progress: `snap` (scale lock's pitch map, read by
    the Decoder) and the harmony and lane offsets of the fast band, set for one call by `during`."""

    def __init__(self, fast, device: torch.device, harmony: float):
        """harmony: the pack's default strength, in force between calls."""
        self.fast = fast
        self.device = device
        self.start_shifted = False  # a start's density offsets in force (the call has no primer)
        self.harmony = harmony
        self.snap: torch.Tensor | None = None  # scale lock's pitch map for the call in progress

    @contextmanager
    def unlocked(self):
        """The block runs with no scale lock (the bank's counts are the same whether or not it is on)."""
        snap, self.snap = self.snap, None
        try:
            yield
        finally:
            self.snap = snap

    @contextmanager
    def during(self, snap: torch.Tensor | None, harmony: float, start_bias=None):
        """Scale lock's pitch map, the harmony strength and a start's extra density offsets for one call.

        start_bias (five floats or None) is added to the density offsets in force (card lane_bias) while
        the call runs; everything is as before after it.
        """
        self.snap = snap
        self.fast.set_harmony(harmony)
        shifted = start_bias is not None and any(start_bias)
        self.start_shifted = shifted
        if shifted:
            bias = getattr(self.fast, "lane_bias", None)
            base = bias.tolist() if bias is not None else [0.0] * len(LANES)
            self.fast.set_lane_bias([b + x for b, x in zip(base, start_bias)])
        try:
            yield
        finally:
            self.snap = None
            self.start_shifted = False
            self.fast.set_harmony(self.harmony)
            if shifted:
                self.fast.set_lane_bias(base)

    def of_song(self, song: Song):
        """`during` as the song was made: its scale lock, harmony and start offsets."""
        harmony = song.settings.get("harmony", self.harmony)
        try:
            harmony = check_float("harmony", harmony, 0.0, 8.0)
        except ValueError:
            harmony = self.harmony
        return self.during(self.song_scale(song), harmony, self.start_bias(song.settings.get("start_bias")))

    def song_scale(self, song: Song) -> torch.Tensor | None:
        """Scale lock's pitch map for a take made with it, else None."""
        if not song.settings.get("scale_lock"):
            return None
        return self.scale_map(str(song.settings.get("key") or ""), int(song.settings.get("transpose", 0)))

    def lock_of(self, song: Song) -> np.ndarray | None:
        """`key_scale` of a song made with scale lock, else None."""
        return self.key_scale(song.settings.get("key")) if song.settings.get("scale_lock") else None

    def scale_map(self, key_text: str, shift_out: int) -> torch.Tensor:
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
        return torch.tensor(target, device=self.device)

    @staticmethod
    def key_scale(key_text) -> np.ndarray:
        """The key's scale in the song's own pitches (bool, 12), for the groove's notes under scale lock."""
        try:
            tonic, mode = parse_key(str(key_text).split(" / ")[0]) if key_text else (0, "major")
        except ValueError:
            tonic, mode = 0, "major"
        scale = np.zeros(12, dtype=bool)
        scale[list(scale_pitch_classes((tonic, mode)))] = True
        return scale

    @staticmethod
    def start_bias(value) -> list[float] | None:
        """Five finite density offsets for a sketch with no primer (card generation.start_bias), else None."""
        try:
            out = [check_float("start_bias", v, -8.0, 8.0) for v in value]
        except (TypeError, ValueError):
            return None
        return out if len(out) == len(LANES) else None

    def light(self, brought_in: list[int], silent: np.ndarray, gain) -> torch.Tensor | None:
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
        return torch.as_tensor(out, device=self.device)
