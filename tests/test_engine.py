import numpy as np
import pytest

from musicvae_app.engine import Engine
from musicvae_app.model.pack import load_pack
from musicvae_app.model.reference import generate_plain
from musicvae_app.sketch.song import LANES, Song


def test_generate_makes_a_five_lane_song(engine):
    song = engine.generate(steps=3, seed=5)
    assert isinstance(song, Song)
    assert song.probs.shape == (5, 4 * 32, 128)
    assert song.n_chunks == 4 and song.n_bars == 16
    assert song.latents.shape == (4, 5, 16)
    assert song.settings["seed"] == 5 and song.settings["pack"] == "tiny-32"
    assert sum(song.note_counts().values()) > 0


def test_same_seed_same_song_other_seed_other_song(engine):
    a = engine.generate(steps=4, seed=11, noise=1.0, threshold=0.3)
    b = engine.generate(steps=4, seed=11, noise=1.0, threshold=0.3)
    c = engine.generate(steps=4, seed=12, noise=1.0, threshold=0.3)
    assert np.array_equal(a.probs, b.probs)
    assert not np.array_equal(a.probs, c.probs)


def test_fast_engine_matches_the_plain_port(engine):
    for seed in (1, 2, 3):
        song = engine.generate(steps=6, seed=seed, noise=1.0, threshold=0.3)
        plain = generate_plain(engine.pack.band, 6, 1.0, 0.3, seed)
        assert np.abs(song.probs - plain).max() < 1e-4
        assert np.array_equal(song.notes(), plain >= 0.3)


def test_a_narrow_pack_loads_and_its_fast_engine_matches_the_plain_port(tmp_path):
    from conftest import make_pack

    pack = load_pack(make_pack(tmp_path / "narrow", chunk_steps=64, steps_per_beat=4, channels=(32, 64, 256)))
    assert pack.band.cfg.channels == (32, 64, 256)
    assert pack.card["config"]["channels"] == [32, 64, 256]
    narrow = Engine.load(pack, device="cpu")
    for seed in (1, 2):
        song = narrow.generate(steps=4, seed=seed, noise=1.0, threshold=0.3)
        plain = generate_plain(pack.band, 4, 1.0, 0.3, seed)
        assert np.abs(song.probs - plain).max() < 1e-4
        assert np.array_equal(song.notes(), plain >= 0.3)


def test_variations_are_distinct_takes(engine):
    songs = engine.generate(steps=2, seed=3, variations=4)
    assert len(songs) == 4
    assert len({s.probs.tobytes() for s in songs}) == 4
    assert [s.settings["variation"] for s in songs] == [0, 1, 2, 3]


def test_regenerate_lane_changes_only_that_lane(engine):
    song = engine.generate(steps=4, seed=21)
    new = engine.regenerate_lane(song, "guitar", seed=99)
    g = LANES.index("guitar")
    for i in range(5):
        if i == g:
            assert not np.array_equal(new.probs[i], song.probs[i])
        else:
            assert np.array_equal(new.probs[i], song.probs[i])  # bit-identical
    assert all(c[g].source == "regenerated" for c in new.chunks)
    assert engine.regenerate_lane(song, "guitar", seed=99).equal_notes(new)


def test_regenerate_piano_keeps_the_band(engine):
    song = engine.generate(steps=3, seed=8)
    new = engine.regenerate_lane(song, 0, seed=1)
    assert np.array_equal(new.probs[1:], song.probs[1:])


def test_locked_lane_survives_generate(engine):
    song = engine.generate(steps=3, seed=4)
    new = engine.generate(steps=3, seed=40, keep=song, keep_lanes=["bass", "piano"])
    assert np.array_equal(new.probs[2], song.probs[2]) and np.array_equal(new.probs[0], song.probs[0])
    assert not np.array_equal(new.probs[1], song.probs[1])
    longer = engine.generate(steps=5, seed=40, keep=song, keep_lanes=["bass"])
    assert np.array_equal(longer.probs[2, : song.n_steps], song.probs[2])


def test_continue_song_appends_chunks(engine):
    song = engine.generate(steps=2, seed=6)
    longer = engine.continue_song(song, 3, seed=7)
    assert longer.n_chunks == 6
    assert np.array_equal(longer.probs[:, : song.n_steps], song.probs)
    assert longer.latents.shape[0] == 6


def test_primer_is_the_first_chunk(engine):
    primer = np.zeros((5, 32, 128), dtype=bool)
    primer[0, ::4, 60] = True
    primer[4, ::2, 36] = True
    song = engine.generate(steps=2, seed=1, primer=primer)
    assert np.array_equal(song.notes()[:, :32], primer)
    assert song.chunks[0][0].source == "primer"


def test_reconstruct_keeps_length_and_uses_no_noise(engine):
    song = engine.generate(steps=2, seed=2)
    a, b = engine.reconstruct(song), engine.reconstruct(song)
    assert a.probs.shape == song.probs.shape and np.array_equal(a.probs, b.probs)


def test_threshold_changes_notes_without_the_model(engine):
    song = engine.generate(steps=2, seed=2)
    loose, tight = song.with_threshold(0.1), song.with_threshold(0.9)
    assert loose.notes().sum() > song.notes().sum() > tight.notes().sum()
    assert np.array_equal(loose.probs, song.probs)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"steps": -1}, "steps"),
        ({"steps": 2.5}, "steps"),
        ({"variations": 0}, "variations"),
        ({"noise": float("nan")}, "noise"),
        ({"threshold": 1.5}, "threshold"),
    ],
)
def test_impossible_settings_say_what_is_wrong(engine, kwargs, message):
    with pytest.raises(ValueError, match=message):
        engine.generate(**kwargs)


def test_unknown_lane_and_foreign_grid_are_refused(engine, tmp_path):
    song = engine.generate(steps=1, seed=1)
    with pytest.raises(ValueError, match="unknown lane"):
        engine.regenerate_lane(song, "kazoo")
    from conftest import make_pack

    other = Engine.load(make_pack(tmp_path / "wide", chunk_steps=64, steps_per_beat=4), device="cpu")
    with pytest.raises(ValueError, match="grid"):
        other.regenerate_lane(song, "bass")


def test_cuda_request_without_cuda_is_a_clear_error(tiny_pack):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ValueError, match="CUDA"):
        Engine.load(tiny_pack, device="cuda")


def test_64_step_pack_generates(tmp_path):
    from conftest import make_pack

    engine = Engine.load(make_pack(tmp_path / "wide", chunk_steps=64, steps_per_beat=4), device="cpu")
    song = engine.generate(steps=2, seed=3)
    assert song.probs.shape == (5, 192, 128) and song.n_bars == 12
    plain = generate_plain(engine.pack.band, 2, 1.0, 0.3, 3)
    assert np.array_equal(song.notes(), plain >= 0.3)


def test_pull_out_of_range_is_refused(engine):
    with pytest.raises(ValueError, match="pull"):
        engine.generate(steps=1, pull=1.5)
    with pytest.raises(ValueError, match="revive"):
        engine.generate(steps=1, revive=-1)


def test_shipped_pack_keeps_lanes_alive_better_than_the_thesis_loop(tmp_path):
    """The thesis's weakness (a lane abandoned after a few chunks) measured on the shipped pack."""
    from band_files import write_band_midi
    from musicvae_app.evaluation.metrics import lane_dropout

    engine = Engine.load(device="cpu")  # the default pack in resources/models/default
    primer = write_band_midi(tmp_path / "primer.mid", bars=8, seed=3)
    thesis = dict(noise=1.0, threshold=0.3, revive=0, pull=0.0, harmony=0.0, start="prior", groove=False)
    defaults = {}  # every setting from the pack's card
    assert engine.pack.card["generation"]["revive"] >= 1

    def dropout(settings):
        songs = engine.generate(steps=12, seed=5, primer=primer, variations=12, **settings)
        rolls = np.stack([s.notes() for s in songs])
        return lane_dropout(rolls, engine.cfg.chunk_steps)["all"]

    assert dropout(defaults) < dropout(thesis)


def test_one_song_threads_apply_to_single_songs_only(tiny_pack):
    import torch

    engine = Engine.load(tiny_pack, "cpu", one_song_threads=1)
    before = torch.get_num_threads()
    seen = []
    loop = engine.loop._loop
    engine.loop._loop = lambda *args, **kw: (seen.append(torch.get_num_threads()), loop(*args, **kw))[1]
    engine.generate(steps=1, seed=1)
    engine.generate(steps=1, seed=1, variations=2)
    assert seen == [1, before]
    assert torch.get_num_threads() == before
