import numpy as np

from band_files import write_band_folder, write_band_midi
from musicvae_app.training.data import chunk_pairs, find_files, load_corpus, load_song, sample_chunks, song_chunks


def test_reads_a_band_file_into_five_lanes(tmp_path):
    song = load_song(write_band_midi(tmp_path / "a.mid", bars=8), 2)
    assert song.roll.shape[0] == 5 and song.roll.shape[1] >= 8 * 8 - 1
    assert all(song.roll[lane].any() for lane in range(5))
    assert set(np.flatnonzero(song.roll[4].any(axis=0))) == {36, 38, 42}


def test_cache_is_used_on_the_second_read(tmp_path):
    path = write_band_midi(tmp_path / "a.mid", bars=8)
    first = load_song(path, 2, tmp_path / "cache")
    cached = list((tmp_path / "cache").iterdir())
    assert len(cached) == 1 and cached[0].name.startswith(first.key)
    path.write_bytes(path.read_bytes())  # same bytes, same key: served from the cache
    assert np.array_equal(load_song(path, 2, tmp_path / "cache").roll, first.roll)


def test_genre_and_id_filters(tmp_path):
    root = write_band_folder(tmp_path / "data", songs=4)
    assert len(find_files(root)) == 5
    assert {p.parent.name for p in find_files(root, ["pop"])} == {"pop"}
    assert [p.stem for p in find_files(root, ids=["song2"])] == ["song2"]


def test_broken_files_are_skipped_and_counted(tmp_path):
    root = write_band_folder(tmp_path / "data", songs=4)
    corpus = load_corpus(find_files(root), 2, tmp_path / "cache", workers=1)
    assert len(corpus.songs) == 4
    assert list(corpus.skipped) == [str(root / "rock" / "broken.mid")]
    assert "not a readable MIDI file" in next(iter(corpus.skipped.values()))


def test_split_is_deterministic_and_disjoint(tmp_path):
    root = write_band_folder(tmp_path / "data", songs=6)
    corpus = load_corpus(find_files(root), 2, None, workers=1)
    train, val = corpus.split(50)
    train2, val2 = corpus.split(50)
    assert [s.key for s in train] == [s.key for s in train2] and [s.key for s in val] == [s.key for s in val2]
    assert not {s.key for s in train} & {s.key for s in val}
    assert len(train) + len(val) == 6


def test_chunks_and_pairs(tmp_path):
    song = load_song(write_band_midi(tmp_path / "a.mid", bars=16), 2)
    chunks = song_chunks(song.roll, 32)
    assert chunks.shape[1:] == (5, 32, 128) and len(chunks) == song.roll.shape[1] // 32
    now, nxt = chunk_pairs([song], 32)
    assert np.array_equal(now[1], nxt[0])
    picked = sample_chunks([song], 32, 5, np.random.default_rng(0))
    assert len(picked) == len(chunks)


def test_lpd5_npz_files_are_read(tmp_path):
    import pypianoroll

    roll = np.zeros((96, 128), dtype=bool)
    roll[0:48, 60] = True
    drums = np.zeros((96, 128), dtype=bool)
    drums[::24, 36] = True
    tracks = [
        pypianoroll.BinaryTrack(name="Drums", program=0, is_drum=True, pianoroll=drums),
        pypianoroll.BinaryTrack(name="Piano", program=0, is_drum=False, pianoroll=roll),
    ]
    multi = pypianoroll.Multitrack(resolution=24, tempo=np.full(96, 100.0), tracks=tracks)
    path = tmp_path / "lpd.npz"
    multi.save(str(path))
    song = load_song(path, 2)
    assert song.roll[0, 0:4, 60].all() and not song.roll[0, 4:, 60].any()
    assert song.roll[4, ::2, 36].sum() == 4
