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


# --- issue 22: flags, data and checkpoints checked before any work -------------------------------------------------
@pytest.mark.parametrize(
    "flags, message",
    [
        (["--batch", "0"], "--batch must be a whole number from 1 to 4096, got 0"),
        (["--songs-per-epoch", "0"], "--songs-per-epoch must be a whole number from 1"),
        (["--kl-weight", "inf"], "--kl-weight must be a number above 0 to 100, got inf"),
        (["--lr", "nan"], "--lr must be a number above 0 to 1, got nan"),
        (["--lr-decay", "0"], "--lr-decay must be a number above 0 to 1"),
        (["--vae-epochs", "0"], "--vae-epochs 0 trains nothing"),
        (["--pitches", "40"], "--pitches must be a multiple of 16"),
        (["--steps-per-beat", "7"], "--steps-per-beat must divide 480"),
        (["--validation-percent", "100"], "--validation-percent must be a whole number from 0 to 90"),
    ],
)
def test_bad_flags_are_one_line_before_any_work(data, tmp_path, capsys, flags, message):
    out = tmp_path / "pack"
    assert main(["train", "--data", str(data), "--out", str(out), *TINY, *flags]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and message in err
    assert not out.exists()  # nothing was started


def drums_only_folder(root, songs: int = 3, bars: int = 16):
    import mido

    for i in range(songs):
        mid = mido.MidiFile(type=1, ticks_per_beat=96)
        track = mido.MidiTrack()
        for beat in range(bars * 4):
            pitch = 36 if beat % 2 == 0 else 38
            track.append(mido.Message("note_on", channel=9, note=pitch, velocity=90, time=0 if beat == 0 else 48))
            track.append(mido.Message("note_off", channel=9, note=pitch, velocity=0, time=48))
        mid.tracks.append(track)
        (root / f"d{i}.mid").parent.mkdir(parents=True, exist_ok=True)
        mid.save(str(root / f"d{i}.mid"))
    return root


def test_a_lane_with_no_data_is_a_warning_on_screen_and_in_the_card(tmp_path, capsys):
    folder = drums_only_folder(tmp_path / "drums")
    out = tmp_path / "pack"
    assert main(["train", "--data", str(folder), "--out", str(out), "--lead", "drums", *TINY]) == 0
    log = capsys.readouterr().out
    warnings = card(out)["data"]["warnings"]
    assert len(warnings) == 4 and all(lane in " ".join(warnings) for lane in ("piano", "guitar", "bass", "strings"))
    assert "drums" not in " ".join(warnings)
    for text in warnings:
        assert f"warning: {text}" in log


def test_data_that_cannot_train_is_refused_before_training(tmp_path, capsys):
    from band_files import write_band_midi

    short = tmp_path / "short"
    for i in range(2):
        write_band_midi(short / f"s{i}.mid", bars=4, seed=i)
    assert main(["train", "--data", str(short), "--out", str(tmp_path / "p"), *TINY]) == 2
    assert "two chunks (8 bars) long" in capsys.readouterr().err
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "a.mid").write_text("not midi")
    assert main(["train", "--data", str(broken), "--out", str(tmp_path / "p"), *TINY]) == 2
    err = capsys.readouterr().err
    assert "none of the 1 files" in err and "a.mid" in err and not (tmp_path / "p" / "card.json").exists()


def test_damaged_checkpoints_are_one_line_naming_the_file(data, tmp_path, capsys):
    out = tmp_path / "pack"
    assert main(["train", "--data", str(data), "--out", str(out), *TINY]) == 0
    good = (out / "checkpoint.pt").read_bytes()
    midi = next(data.rglob("song0.mid")).read_bytes()
    cases = {
        "cut short": good[: len(good) // 3],
        "not a training checkpoint": b"hello, not a checkpoint\n",
        "a MIDI file": midi,
        "empty": b"",
    }
    for what, content in cases.items():
        (out / "checkpoint.pt").write_bytes(content)
        capsys.readouterr()
        assert main(["train", "--data", str(data), "--out", str(out), "--resume", *TINY]) == 2, what
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and str(out / "checkpoint.pt") in err and what in err, err
    (out / "checkpoint.pt").write_bytes(good)
    flags = ["--resume", "--latent", "16", *TINY]
    assert main(["train", "--data", str(data), "--out", str(out), *flags]) == 2
    assert "is of another run (--latent 32; this run asks --latent 16)" in capsys.readouterr().err


def test_init_from_something_that_is_no_pack_is_one_line(data, tmp_path, capsys):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    args = ["train", "--data", str(data), "--out", str(tmp_path / "p"), *TINY, "--init-from"]
    assert main([*args, str(text)]) == 2
    assert "--init-from" in capsys.readouterr().err
    bad = tmp_path / "bad-pack"
    bad.mkdir()
    (bad / "card.json").write_text("{")
    assert main([*args, str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "not valid JSON" in err


# --- issue 22: a run whose loss or weights go non-finite never writes a pack -----------------------------------------
def test_a_diverging_run_stops_in_one_line_and_keeps_the_last_good_checkpoint(data, tmp_path, capsys):
    """The largest --lr and --kl-weight the flags allow, one batch an epoch: epoch 1 ends with finite weights (its
    checkpoint is written), epoch 2's loss is NaN: the run stops there, says so in one line, writes no pack."""
    import torch

    out = tmp_path / "pack"
    flags = ["--vae-epochs", "3", "--pred-epochs", "1", "--songs-per-epoch", "1", "--batch", "64", "--no-progress"]
    assert main(["train", "--data", str(data), "--out", str(out), *flags, "--lr", "1", "--kl-weight", "100"]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err, err
    assert err.startswith("musicvae train: error: training diverged in vae epoch 2 (loss "), err
    assert err.split("(loss ")[1].split(")")[0] in ("nan", "inf", "-inf"), err
    assert "lower --lr (now 1) or --kl-weight (now 100)" in err
    assert "vae epoch 1/3" in captured.out and "vae epoch 2/3" not in captured.out
    assert not (out / "card.json").exists() and not (out / "weights.safetensors").exists()
    state = torch.load(out / "checkpoint.pt", map_location="cpu", weights_only=True)  # epoch 1's, as it was saved
    assert json.loads(state["done_epochs"])["vae"] == 1
    assert all(torch.isfinite(t).all() for t in state["band"].values() if t.is_floating_point())


def test_a_pack_that_would_give_nan_is_refused_before_it_is_saved(data, tmp_path, capsys):
    """A finished run resumed from a checkpoint whose guitar decoder overflows (finite weights x 1e30, as a last
    optimizer step that blew up would leave them): every epoch is done, so the run goes straight to writing the
    pack; the probe refuses it in one line and the good pack already in --out is left as it was."""
    import torch

    from musicvae_app.model.pack import load_pack

    out = tmp_path / "pack"
    assert main(["train", "--data", str(data), "--out", str(out), *TINY]) == 0
    before = {name: (out / name).read_bytes() for name in ("card.json", "weights.safetensors")}
    state = torch.load(out / "checkpoint.pt", map_location="cpu", weights_only=True)
    for name, tensor in state["band"].items():
        if name.startswith("vae.guitar.decoder.") and tensor.is_floating_point():
            tensor.mul_(1e30)
    assert all(torch.isfinite(t).all() for t in state["band"].values() if t.is_floating_point())
    torch.save(state, out / "checkpoint.pt")
    checkpoint = (out / "checkpoint.pt").read_bytes()
    capsys.readouterr()
    assert main(["train", "--data", str(data), "--out", str(out), "--resume", *TINY]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err, err
    assert f"the trained pack for '{out}': the guitar lane's VAE gives NaN" in err
    assert "nothing was written" in err and "piano" not in err
    assert {name: (out / name).read_bytes() for name in before} == before  # the earlier pack is untouched
    assert (out / "checkpoint.pt").read_bytes() == checkpoint
    assert load_pack(out).card["name"] == "pack"


def test_an_exploding_but_finite_loss_stops_the_run(data, tmp_path, capsys):
    """--lr 0.02 --kl-weight 100 never gives NaN: the guitar VAE's loss reaches ~1e26 in the first epoch and,
    unguarded, a pack of noise was written. The run stops at the batch that is over 1e6 x the first batch's loss."""
    out = tmp_path / "pack"
    flags = ["--vae-epochs", "4", "--pred-epochs", "2", "--songs-per-epoch", "4", "--batch", "8", "--no-progress"]
    assert main(["train", "--data", str(data), "--out", str(out), *flags, "--lr", "0.02", "--kl-weight", "100"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err, err
    assert err.startswith("musicvae train: error: training diverged in vae epoch 1 (loss "), err
    assert "over 1e+06 times the first batch's" in err
    assert "lower --lr (now 0.02) or --kl-weight (now 100) and train again" in err
    assert not (out / "card.json").exists() and not (out / "checkpoint.pt").exists()


def _damage_adam(checkpoint):
    """Negative second moments in the checkpoint's (cond) Adam state: its next step takes a square root of them."""
    import torch

    state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    assert state["stage"] == "cond"
    for moments in state["optimizer"]["state"].values():
        moments["exp_avg_sq"].fill_(-1.0)
    torch.save(state, checkpoint)


def test_weights_left_non_finite_by_an_epochs_last_step_are_never_checkpointed(data, tmp_path, capsys):
    """The cond stage runs one batch an epoch here. Resumed with an Adam state whose step turns the weights NaN,
    cond epoch 2's loss (taken before the step) is finite, but its weights are not: the run stops before saving,
    in one line, and the checkpoint of melody epoch 2 (good weights) and the earlier pack stay as they were."""
    import torch

    out = tmp_path / "pack"
    assert main(["train", "--data", str(data), "--out", str(out), *TINY]) == 0
    before = {name: (out / name).read_bytes() for name in ("card.json", "weights.safetensors")}
    saved = out / "checkpoint.pt"
    finished = saved.read_bytes()
    more = [a if a != "1" or i != 3 else "2" for i, a in enumerate(TINY)]  # --pred-epochs 2
    for lr, advice in (
        ([], "this epoch ran at 0.00095, the checkpoint's: --lr on --resume sets another"),
        (
            ["--lr", "5e-4"],
            "this epoch ran at 0.0005, from --lr",
        ),
    ):
        saved.write_bytes(finished)  # the finished run's checkpoint, its Adam state then damaged
        _damage_adam(saved)
        capsys.readouterr()
        assert main(["train", "--data", str(data), "--out", str(out), "--resume", *more, *lr]) == 2
        captured = capsys.readouterr()
        err = captured.err.strip()
        assert err.count("\n") == 0 and "Traceback" not in err, err
        assert err.startswith(
            "musicvae train: error: training diverged in cond epoch 2 (its last step left non-finite weights: cond."
        ), err
        assert f"--resume again with a lower --lr ({advice}) or a lower --kl-weight (now 0.5)" in err, err
        assert err.endswith("from the checkpoint kept (melody epoch 2)"), err
        assert "melody epoch 2/2" in captured.out and "cond epoch 2/2" not in captured.out
        state = torch.load(saved, map_location="cpu", weights_only=True)
        assert json.loads(state["done_epochs"]) | {"band": 0} == {"vae": 1, "melody": 2, "cond": 1, "band": 0}
        assert all(torch.isfinite(t).all() for t in state["band"].values() if t.is_floating_point())
        assert {name: (out / name).read_bytes() for name in before} == before


def test_resume_honours_a_given_lr_and_otherwise_keeps_the_checkpoints(data, tmp_path, capsys):
    """--lr 2e-3, one epoch a stage; resumed for a second predictor epoch. Without --lr: melody (not begun in the
    checkpoint's optimizer) starts at the run's own 2e-3, cond continues the checkpoint's decayed 0.0019. With
    --lr 5e-4: both run at 5e-4, and the log line says where each rate comes from."""
    import shutil

    first = tmp_path / "first"
    assert main(["train", "--data", str(data), "--out", str(first), *TINY, "--lr", "2e-3"]) == 0
    assert [h["lr"] for h in card(first)["training"]["history"]["cond"]] == [0.002]
    more = [a if a != "1" or i != 3 else "2" for i, a in enumerate(TINY)]  # --pred-epochs 2
    runs = {}
    for name, lr in (("kept", []), ("given", ["--lr", "5e-4"])):
        out = tmp_path / name
        shutil.copytree(first, out)
        capsys.readouterr()
        assert main(["train", "--data", str(data), "--out", str(out), "--resume", *more, *lr]) == 0
        history = card(out)["training"]["history"]
        runs[name] = (capsys.readouterr().out, [h["lr"] for h in history["melody"]], [h["lr"] for h in history["cond"]])
    log, melody, cond = runs["kept"]
    assert "learning rate as the checkpoint left it (the checkpoint's cond optimizer was at 0.0019" in log
    assert melody == [0.002, 0.002] and cond == [0.002, 0.0019]
    assert card(tmp_path / "kept")["training"]["config"]["lr"] == 0.002
    log, melody, cond = runs["given"]
    assert "learning rate 0.0005 from --lr (the checkpoint's cond optimizer was at 0.0019), decaying" in log
    assert melody == [0.002, 0.0005] and cond == [0.002, 0.0005]


def test_a_two_process_run_that_diverges_stops_both_processes(data, tmp_path):
    """Two gloo processes started by hand (no torchrun to kill a straggler): both stop at the same batch (they agree
    on every batch's verdict) and exit 2; the message is printed once, by rank 0."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "ddp"
    args = [sys.executable, "-m", "musicvae_app.training", "--data", str(data), "--out", str(out), "--device", "cpu"]
    args += ["--workers", "1", *TINY, "--vae-epochs", "2", "--lr", "0.02", "--kl-weight", "100"]
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "WORLD_SIZE": "2",
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(port),
    }
    procs = [
        subprocess.Popen(
            args,
            env={**env, "RANK": str(r), "LOCAL_RANK": str(r)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for r in range(2)
    ]
    errs = []
    try:
        for proc in procs:
            errs.append(proc.communicate(timeout=120)[1])
    finally:
        for proc in procs:
            if proc.poll() is None:  # a process left waiting on the other: the bug this test is for
                proc.kill()
    assert [proc.returncode for proc in procs] == [2, 2], errs
    assert "training diverged in vae epoch" in errs[0] and "diverged" not in errs[1]
    assert not (out / "card.json").exists()
