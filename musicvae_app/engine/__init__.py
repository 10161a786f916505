"""The engine: generate, continue, regenerate and reconstruct Songs with one pack on one device.

core.py       Engine: builds its parts below with explicit arguments; its public methods hand a request to one
generate.py   Generation: a new sketch, plan -> loop -> post
edits.py      Edits: regenerate_lane, continue_song, infill, morph, set_chord(s), each plan -> loop -> post
plan.py       Planner: a request's lineup, start, revive, pull, harmony and primer checked against the card
loop.py       Loop (the generation loop) and Decoder (latents to probabilities and back, steered)
post.py       Post: the post-processing stage every entry point runs (groove, then the chart check)
groove.py     Groove: fills, a bass that keeps playing, restrikes, voicing, colour, passing notes
cells.py      the groove rules' note-level helpers: a bar's cells, chord tones, the take's scale
chording.py   Chording: chords for one call; fit_to_chart, the chart check
steering.py   Steering: scale lock, harmony and a start's density offsets for one call
bank.py       StartBank: the pack's bank of real chunks: where a sketch starts, the lanes brought in
sections.py   Sections: a form's repeated sections played again with a variation
parts.py      Parts: a MIDI file as a Song, a part to follow
harmonizing.py Harmonizer: a part's key and chord charts from the learned harmony model (theory/harmony.py)
takes.py      Takes: a new Song on the pack's grid, the checks on a take an edit goes on from
key_space.py  the shifts into and out of the pack's key space
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
