"""The generation settings' one table (sketch/spec.py FIELDS): the typed classes agree with it, a card is parsed
and checked by it once, and the engine takes a GenerationSpec."""

from __future__ import annotations

import dataclasses
import inspect
import json
import shutil

import pytest

from musicvae_app.engine.core import Engine
from musicvae_app.engine.generate import GenerateRequest
from musicvae_app.errors import InvalidValue
from musicvae_app.model.pack import PackError, load_pack
from musicvae_app.sketch.spec import (
    DEFAULT_NOISE,
    FIELDS,
    CardDefaults,
    GenerationSettings,
    GenerationSpec,
    GrooveSettings,
)


def _names(cls) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def test_the_typed_classes_are_the_table():
    """Every field of GenerationSpec, CardDefaults and GrooveSettings is one row of FIELDS with its default."""
    assert GenerationSettings is GenerationSpec
    assert _names(GenerationSpec) == {f.name for f in FIELDS.values() if f.spec}
    assert _names(CardDefaults) - {"rules"} == {f.name for f in FIELDS.values() if f.card == "generation"}
    assert _names(GrooveSettings) == {f.name for f in FIELDS.values() if f.card == "groove"}
    for cls in (CardDefaults, GrooveSettings):
        for f in dataclasses.fields(cls):
            if f.name != "rules":
                assert f.default == FIELDS[f.name].default, f.name
    for f in dataclasses.fields(GenerationSpec):
        expected = None if FIELDS[f.name].spec == "card" else FIELDS[f.name].default
        assert f.default == expected, f.name
    for f in FIELDS.values():
        assert f.help and f.kind and (f.card or f.spec), f.name
        if f.default is not None:
            assert f.validate(f.default) == f.default, f.name  # every default passes its own check
    assert DEFAULT_NOISE == FIELDS["noise"].default == CardDefaults().noise == GenerationSpec().noise


def test_a_card_block_is_typed_once_and_a_bad_key_is_named():
    card = CardDefaults.from_block(
        {"noise": 1, "sustain": [1, 0.5, 1, 1, 1], "fill": 0.5, "passing": 0.5, "voicing": [True] * 5, "why": "x"}
    )
    assert card.noise == 1.0 and isinstance(card.noise, float)
    assert card.sustain == (1.0, 0.5, 1.0, 1.0, 1.0) and card.fill == 0.5
    assert card.rules.passing == (0.5,) * 5 and card.rules.voicing == (True,) * 5
    assert card.engine_defaults(has_bank=False)["sustain"] == [1.0, 0.5, 1.0, 1.0, 1.0]
    assert card.engine_defaults(has_bank=False)["start"] == "prior"
    assert card.engine_defaults(has_bank=True)["start"] == "bank"
    with pytest.raises(InvalidValue, match="crash_rate"):
        CardDefaults.from_block({"crash_rate": 2})
    assert CardDefaults.from_block({"crash_rate": 2}, strict=False).rules.crash_rate == 0.0
    with pytest.raises(InvalidValue, match="approach"):
        card.replace(approach=-1)
    assert card.replace(approach=0.5).rules.approach == 0.5


def test_the_shipped_cards_load_typed(tiny_pack):
    from musicvae_app.resources import resources_dir

    for folder in sorted((resources_dir() / "models").iterdir()):
        if (folder / "weights.safetensors").is_file():  # a model pack (resources/models/harmony is not one)
            pack = load_pack(folder)
            assert isinstance(pack.generation, CardDefaults)
            assert pack.generation == CardDefaults.from_card(pack.card)


def test_a_bad_card_is_refused_naming_its_key(tiny_pack, tmp_path):
    for key, value in (("voicing_add", 2.0), ("start", "random"), ("fills", [[[0, 300]]]), ("lineup", ["kazoo"])):
        folder = tmp_path / key
        shutil.copytree(tiny_pack, folder)
        data = json.loads((folder / "card.json").read_text())
        data["generation"][key] = value
        (folder / "card.json").write_text(json.dumps(data))
        with pytest.raises(PackError, match="generation default"):
            load_pack(folder)


def test_engine_generate_takes_a_spec(engine):
    spec = GenerationSpec(steps=1, noise=0.5, threshold=0.4, tempo=100.0, lineup=("piano", "bass"))
    by_spec = engine.generate(spec=spec, seed=3)
    by_keywords = engine.generate(**spec.engine_args(), seed=3)
    assert by_spec.notes().tobytes() == by_keywords.notes().tobytes()
    assert by_spec.settings["noise"] == 0.5 and by_spec.tempo == 100.0
    with pytest.raises(InvalidValue, match="noise"):
        engine.generate(spec=spec, noise=0.7, seed=3)


def test_engine_generate_keywords_are_the_requests_fields():
    """Engine.generate hands its keywords on as one GenerateRequest: the same names and defaults (spec aside)."""
    params = inspect.signature(Engine.generate).parameters
    given = {name: p.default for name, p in params.items() if name not in ("self", "spec")}
    fields = {f.name: f.default for f in dataclasses.fields(GenerateRequest)}
    assert given == fields


def test_use_card_rebuilds_the_parts_and_hands_back_the_old(engine):
    before = engine.use_card(fill=0.5, crash_rate=0.2)
    try:
        assert engine.card.fill == 0.5 and engine.groove.settings.crash_rate == 0.2
        assert engine.defaults["fill"] == 0.5
    finally:
        engine.use_card(before)
    assert engine.card == before
