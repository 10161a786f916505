"""What the window remembers between runs (its QSettings): the generation bar's values, the seed and its
lock, and the window's geometry. Loading puts the values on the bar and into the window's session."""

from __future__ import annotations

from ..sketch.spec import DEFAULT_NOISE, DEFAULT_STEPS, DEFAULT_TEMPO, DEFAULT_THRESHOLD, DEFAULT_VARIATIONS


def load(window, gen: dict) -> None:
    """Put the remembered values (else the pack card's `gen` defaults) on the bar and into the session."""
    s, bar, session = window.settings, window.bar, window.session
    bar.noise.set_value(float(s.value("noise", gen.get("noise", DEFAULT_NOISE))))
    bar.threshold.set_value(float(s.value("threshold", gen.get("threshold", DEFAULT_THRESHOLD))))
    bar.steps.set_value(int(s.value("steps", DEFAULT_STEPS)))
    bar.tempo.setValue(int(s.value("tempo", DEFAULT_TEMPO)))
    bar.variations.setValue(int(s.value("variations", DEFAULT_VARIATIONS)))
    bar.seed.setText(str(s.value("seed", "")))
    bar.seed_lock.setChecked(str(s.value("seed_lock", "false")).lower() == "true")
    session.update_settings(
        noise=bar.noise.value(),
        threshold=bar.threshold.value(),
        steps=int(bar.steps.value()),
        tempo=float(bar.tempo.value()),
        variations=int(bar.variations.value()),
    )
    session.set_seed(bar.seed_value(), typed=False)
    session.lock_seed(bar.seed_lock.isChecked())
    geometry = s.value("geometry")
    if geometry is not None:
        window.restoreGeometry(geometry)


def save(window) -> None:
    s, bar = window.settings, window.bar
    for key, value in (
        ("noise", bar.noise.value()),
        ("threshold", bar.threshold.value()),
        ("steps", int(bar.steps.value())),
        ("tempo", bar.tempo.value()),
        ("variations", bar.variations.value()),
        ("seed", bar.seed.text()),
        ("seed_lock", bar.seed_lock.isChecked()),
        ("geometry", window.saveGeometry()),
    ):
        s.setValue(key, value)
    s.sync()
