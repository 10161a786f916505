"""The engine: generate, continue, regenerate and reconstruct Songs with one pack on one device.

core.py       Engine: builds its parts below with explicit arguments; its public methods hand a request to one
generate.py   Generation: a new sketch, plan -> loop -> post
edits.py      Edits: regenerate_lane, continue_song, infill, morph, set_chord(s), each plan -> loop -> post
plan.py       Planner: a request's lineup, start, revive, pull, harmony and primer checked against the card
loop.py       Loop (the generation loop) and Decoder (latents to probabilities and back, steered)
post.py       Post: the post-processing stage every entry point runs (groove, then the chart check)
groove.py     Groove: fills, a bass that keeps playing, restrikes, voicing, colour, passing notes
cells.py      the groove rules' note-level helpers: a bar's cells, chord tones, the take's scale
ties.py       held notes tied over to the learned share of restrikes (the strings under chords)
chording.py   Chording: chords for one call; fit_to_chart, the chart check
steering.py   Steering: scale lock, harmony and a start's density offsets for one call
bank.py       StartBank: the pack's bank of real chunks: where a sketch starts, the lanes brought in
sections.py   Sections: a form's repeated sections played again with a variation
parts.py      Parts: a MIDI file as a Song, a part to follow
harmonizing.py Harmonizer: a part's key and chord charts from the learned harmony model (theory/harmony.py)
takes.py      Takes: a new Song on the pack's grid, the checks on a take an edit goes on from
key_space.py  the shifts into and out of the pack's key space
runtime.py    device choice, torch threads, seeds, the limits on a request
remote.py     RemoteEngine: the window's Engine in a second process (serve.py), torch-free on the window's side

The names below load on first use (PEP 562), so a torch-free module of the package (remote.py, styles.py) can be
imported without paying for torch: the window imports torch only if it runs the engine itself.
"""

from __future__ import annotations

_EXPORTS = (
    "BANK_BARS",
    "Engine",
    "MAX_STEPS",
    "MAX_VARIATIONS",
    "REVIVE_NOISE",
    "new_seed",
    "pick_device",
    "torch_threads",
)

__all__ = list(_EXPORTS)


def __getattr__(name: str):
    """The package's names, imported (with torch) the first time one is read."""
    if name == "BANK_BARS":
        from .bank import BANK_BARS as value
    elif name == "Engine":
        from .core import Engine as value
    elif name == "REVIVE_NOISE":
        from .loop import REVIVE_NOISE as value
    elif name in ("MAX_STEPS", "MAX_VARIATIONS", "new_seed", "pick_device", "torch_threads"):
        from . import runtime

        value = getattr(runtime, name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
