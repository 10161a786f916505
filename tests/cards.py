"""Takes made under a changed pack card, the engine's own card put back afterwards (shared by the arrangement tests)."""

from __future__ import annotations


def with_card(engine, takes, **changes):
    """`takes()` run with the card's keys in `changes` replaced (Engine.use_card), then the card as it was."""
    card = engine.card
    try:
        engine.use_card(**changes)
        return takes()
    finally:
        engine.use_card(card)
