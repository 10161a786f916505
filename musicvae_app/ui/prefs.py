"""What the window remembers between runs (its QSettings): the session's generation settings (a
GenerationSettings: noise, threshold, steps, tempo, variations), the seed and its lock, and the window's
geometry. What is saved is the session's, not the widgets'; what is loaded goes through the spec's own
validation (sketch/spec.py, limits.py) into the session, and the bar shows it."""

from __future__ import annotations

import dataclasses

from ..sketch.spec import FIELDS, GenerationSettings

# The fields remembered, under their spec names: the per-Generate numbers the bar shows (spec.FIELDS with
# spec="value"; the scale lock is the sketch's, saved in it, not the window's).
GENERATION_KEYS = tuple(n for n, f in FIELDS.items() if f.spec == "value" and n != "scale_lock")


def settings_from_dict(values: dict, base: GenerationSettings | None = None) -> GenerationSettings:
    """`base` (default: the spec's defaults) with each remembered value the spec accepts; a field it does not
    know or a bad value (InvalidValue) keeps `base`'s."""
    out = (base or GenerationSettings()).validated()
    known = {f.name for f in dataclasses.fields(GenerationSettings)} & set(FIELDS)
    for name, value in values.items():
        if name in known:
            try:
                out = GenerationSettings(**{**dataclasses.asdict(out), name: value}).validated()
            except (TypeError, ValueError):  # InvalidValue is a ValueError
                pass
    return out


def check_setting(name: str, value) -> None:
    """Raise InvalidValue when the spec would not take `value` for generation setting `name` (its FIELDS check)."""
    FIELDS[name].validate(value)


def load(window, gen: dict) -> None:
    """Put the remembered settings (else the pack card's `gen` defaults) into the window's session, and on the bar."""
    s, bar, session = window.settings, window.bar, window.session
    stored = {key: s.value(key) for key in GENERATION_KEYS if s.contains(key)}
    settings = settings_from_dict(stored, GenerationSettings.from_card({"generation": gen}))
    bar.noise.set_value(settings.noise)
    bar.threshold.set_value(settings.threshold)
    bar.steps.set_value(settings.steps)
    bar.tempo.setValue(round(settings.tempo))
    bar.variations.setValue(settings.variations)
    bar.seed.setText(str(s.value("seed", "")))
    bar.seed_lock.setChecked(str(s.value("seed_lock", "false")).lower() == "true")
    # the bar's controls may reach less far than the spec (Steps stops at 15): what they show is what runs
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
    """Remember the session's generation settings, its seed and lock, and the window's geometry."""
    s, session = window.settings, window.session
    remembered = session.settings.to_dict()
    for key in GENERATION_KEYS:
        s.setValue(key, remembered[key])
    s.setValue("seed", "" if session.seed is None else str(session.seed))
    s.setValue("seed_lock", session.seed_locked)
    s.setValue("geometry", window.saveGeometry())
    s.sync()
