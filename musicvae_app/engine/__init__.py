"""The engine: generate, continue, regenerate and reconstruct Songs with one pack on one device.

core.py       Engine: the pack, the device, the card's defaults, generate, reconstruct
edits.py      regenerate_lane, continue_song, infill, morph
loop.py       the generation loop and its decoding
steering.py   scale lock, harmony and a start's density offsets for one call
bank.py       the pack's bank of real chunks: where a sketch starts, the lanes brought in
key_space.py  the shifts into and out of the pack's key space
chording.py   chords for one call: decoder input, steering to each bar's chord, re-voicing a bar
groove.py     fills at phrase ends, a bass that keeps playing, restrikes on the beat
parts.py      a MIDI file as a Song, a part to follow
runtime.py    device choice, torch threads, seeds, the limits on a request
"""

from .bank import BANK_BARS
from .core import Engine
from .loop import REVIVE_NOISE
from .runtime import MAX_STEPS, MAX_VARIATIONS, new_seed, pick_device, torch_threads

__all__ = [
    "BANK_BARS",
    "MAX_STEPS",
    "MAX_VARIATIONS",
    "REVIVE_NOISE",
    "Engine",
    "new_seed",
    "pick_device",
    "torch_threads",
]
