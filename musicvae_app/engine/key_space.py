"""The pack's key space: how far a request's notes move into it, and back out to the key the musician hears.

A key-normalised pack learned every song moved to C major / A minor: a primer goes in by its own key's
shift and the take comes out in the asked-for key (or the primer's). The pure key functions are
musicvae_app/theory/keys.py; this module decides which shifts one generate call uses.
"""

from __future__ import annotations

from ..limits import check_transpose
from ..sketch.song import Song
from ..theory.keys import estimate_key, key_name, normalising_shift, parse_key, relative_major


def key_shifts(primer_roll, keep: Song | None, key: str | None, key_normalised: bool) -> tuple[int, int, str]:
    """(shift into the pack's key space, shift back out, the output key's name)."""
    target = parse_key(key) if key else None
    source = None
    if primer_roll is not None:
        source = estimate_key(primer_roll)
    elif keep is not None:
        out = check_transpose(keep.settings.get("transpose", 0))
        if target is None:
            return -out, out, str(keep.settings.get("key", ""))
    if key_normalised:
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
