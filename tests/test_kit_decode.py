"""The free drums' kit check (engine/kit.py) decodes only the drums it compares: a free take is note for note what
the check made when it decoded all five lanes of the held latents (a reference copy of that check here), read back
from the exported .mid with mido; and the one-lane decode is the five-lane decode's drums."""

from __future__ import annotations

import mido
import pytest
import torch

from musicvae_app.engine import Engine, kit
from musicvae_app.engine import loop as loop_module
from musicvae_app.engine.kit import keep_kit, kit_bars
from musicvae_app.sketch.midi import write_midi
from musicvae_app.sketch.song import DRUMS


def _all_lanes_check(fast, p, z_next, held, moved, batch, threshold, bars, chords=None):
    """The check as it was: every lane of the held latents decoded and unblocked, the drums read from them."""
    if not moved:
        return p, z_next, []
    now = kit_bars(fast.from_blocked(p, batch)[DRUMS], threshold, bars)
    held_p = fast.decode(held, chords)
    then = kit_bars(fast.from_blocked(held_p, batch)[DRUMS], threshold, bars)
    back = [b for b in moved if now[b] < then[b]]
    if not back:
        return p, z_next, []
    rows = p.shape[1] // batch
    p, z_next = p.clone(), z_next.clone()
    for b in back:
        p[DRUMS, b * rows : (b + 1) * rows] = held_p[DRUMS, b * rows : (b + 1) * rows]
        z_next[DRUMS, b] = held[DRUMS, b]
    return p, z_next, back


@pytest.fixture(scope="module")
def shipped():
    return Engine.load(device="cpu")


def _notes(path) -> list[tuple]:
    """Every note of a .mid read back with mido: (track, channel, pitch, velocity, absolute tick)."""
    out = []
    for t, track in enumerate(mido.MidiFile(str(path)).tracks):
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type == "note_on" and msg.velocity:
                out.append((t, msg.channel, msg.note, msg.velocity, tick))
    return out


def test_one_lane_decode_is_the_band_decodes_drums(shipped):
    fast = shipped.fast
    z = torch.randn((5, 6, shipped.cfg.latent), generator=torch.Generator().manual_seed(3))
    assert torch.allclose(fast.decode_lane(z[DRUMS:], DRUMS), fast.decode(z)[DRUMS:], atol=1e-6)
    drums = fast.from_blocked(fast.decode(z)[DRUMS:], 6, DRUMS)[0]
    assert torch.equal(drums, fast.from_blocked(fast.decode(z), 6)[DRUMS])


def test_free_takes_are_the_all_lane_checks_takes(shipped, tmp_path, monkeypatch):
    """Eight free takes (the check holds some drums back: counted) exported and read back: the same notes."""
    held_back = []

    def counting(*args, **kwargs):
        out = _all_lanes_check(*args, **kwargs)
        held_back.extend(out[2])
        return out

    # the kit check alone, as a take runs it with no drum choice (kit.DrumMoves decodes the drums alone as well)
    monkeypatch.setattr(kit.DrumMoves, "from_card", classmethod(lambda cls, g, seed: None))
    ours = [_notes(write_midi(shipped.generate(steps=7, seed=s), tmp_path / f"ours{s}.mid")) for s in range(8)]
    monkeypatch.setattr(loop_module, "keep_kit", counting)
    theirs = [_notes(write_midi(shipped.generate(steps=7, seed=s), tmp_path / f"all{s}.mid")) for s in range(8)]
    monkeypatch.setattr(loop_module, "keep_kit", keep_kit)
    assert held_back, "the check held no drums back in these takes: nothing compared"
    assert all(len(n) > 100 for n in ours)
    assert ours == theirs
