"""The plain thesis loop now lives in the package (musicvae_app.model.reference); kept here for old scripts."""

from musicvae_app.model.reference import generate_plain

__all__ = ["generate_plain"]
