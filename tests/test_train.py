import json
import os
import subprocess
import sys

import pytest

from band_files import write_band_folder
from musicvae_app.cli import main
from musicvae_app.engine import Engine

TINY = ["--vae-epochs", "1", "--pred-epochs", "1", "--songs-per-epoch", "4", "--batch", "8", "--no-progress"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_band_folder(tmp_path_factory.mktemp("band") / "data", songs=5, bars=24)


def card(folder):
    return json.loads((folder / "card.json").read_text())


def test_train_writes_a_pack_the_engine_loads(data, tmp_path, capsys):
    out = tmp_path / "pack"
    assert main(["train", "--data", str(data), "--out", str(out), "--validation-percent", "30", *TINY]) == 0
    c = card(out)
    assert c["data"]["usable"] == 5 and c["data"]["skipped"] == 1
    assert c["data"]["train_songs"] + c["data"]["validation_songs"] == 5
    assert set(c["metrics"]["reconstruction_f1"]) == {"piano", "guitar", "bass", "strings", "drums"}
    assert c["training"]["final"]["melody"]["epoch"] == 1
    song = Engine.load(out, device="cpu").generate(steps=2, seed=1)
    assert song.n_chunks == 3
    assert "vae epoch 1/1" in capsys.readouterr().out


def test_resume_continues_from_the_checkpoint(data, tmp_path, capsys):
    out = tmp_path / "pack"
    main(["train", "--data", str(data), "--out", str(out), *TINY])
    first = card(out)["training"]["history"]["vae"]
    assert len(first) == 1
    more = [a if a != "1" or i != 1 else "2" for i, a in enumerate(TINY)]  # --vae-epochs 2
    capsys.readouterr()
    assert main(["train", "--data", str(data), "--out", str(out), "--resume", *more]) == 0
    log = capsys.readouterr().out
    assert "resumed from" in log and "vae epoch 2/2" in log and "vae epoch 1/2" not in log
    history = card(out)["training"]["history"]["vae"]
    assert [h["epoch"] for h in history] == [1, 2]
    assert history[0] == first[0]


def test_train_on_a_missing_folder_is_a_clear_error(tmp_path, capsys):
    assert main(["train", "--data", str(tmp_path / "nope"), "--out", str(tmp_path / "p"), *TINY]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_two_process_gloo_run(data, tmp_path):
    out = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        "-m",
        "musicvae_app.training",
        "--data",
        str(data),
        "--out",
        str(out),
        "--device",
        "cpu",
        "--workers",
        "1",
        *TINY,
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    c = card(out)
    assert c["training"]["world_size"] == 2
    assert len(c["training"]["history"]["cond"]) == 1
    Engine.load(out, device="cpu").generate(steps=1, seed=1)


def test_channels_option_trains_narrower_nets_the_engine_loads(data, tmp_path, capsys):
    out = tmp_path / "narrow"
    assert main(["train", "--data", str(data), "--out", str(out), "--channels", "16,32,64", *TINY]) == 0
    assert card(out)["config"]["channels"] == [16, 32, 64]
    engine = Engine.load(out, device="cpu")
    assert engine.pack.band.vae["bass"].encoder.conv2.weight.shape == (32, 16, 4, 4)
    assert engine.generate(steps=2, seed=1).n_chunks == 3
    with pytest.raises(SystemExit) as exc:
        main(["train", "--data", str(data), "--out", str(out), "--channels", "32,64"])
    assert exc.value.code == 2
    assert "channels must be three conv widths" in capsys.readouterr().err
