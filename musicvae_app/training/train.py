"""The thesis's three training stages: lane VAEs, then MelodyNN, then the ConditionalNNs on frozen VAEs.

Knobs live in TrainConfig, each with a comment. Checkpoints after every epoch; --resume continues
from the last one. Under torchrun the same code runs data-parallel (DistributedDataParallel).
"""

from __future__ import annotations

import json
import math
import os
import platform
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from ..atomic import atomic_write
from ..limits import (
    MAX_LEARNING_RATE,
)
from ..model.nets import Band, PackConfig
from ..model.pack import PackError, load_pack, probe_finite, save_pack
from ..sketch.song import LANES
from .config import (
    CHECKPOINT_KEYS,
    DEFAULT_LR,
    EXPLODED,
    SHAPE_FIELDS,
    STAGES,
    DivergedError,
    TrainConfig,
    TrainingError,
    check_config,
    flag_name,
    shown_value,
)
from .data import (
    SongRolls,
    choose_windows,
    chunk_pairs,
    find_files,
    fold_songs,
    load_corpus,
    normalise_keys,
    recognize_chords,
    sample_chunks_chords,
    song_chunk_chords,
    song_chunks,
    window_coverage,
)
from .losses import BandLoss, PredictorLoss, VAELoss, vae_loss


class Run:
    """One training run: data, nets, checkpoint, history."""

    def __init__(self, cfg: TrainConfig):
        self.cfg = cfg
        self.lr_given = cfg.lr is not None  # an --lr given on --resume replaces the checkpoint's learning rate
        if cfg.lr is None:
            cfg.lr = DEFAULT_LR
        self.resumed = False
        self.kept: str | None = None  # which good checkpoint is on disk for this run ("vae epoch 1")
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        if cfg.device == "auto":
            self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        else:
            self.device = torch.device(cfg.device)
        if self.world > 1 and not dist.is_initialized():
            dist.init_process_group("nccl" if self.device.type == "cuda" else "gloo")
            if self.device.type == "cuda":
                self.device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        self.out = Path(cfg.out)
        self.ckpt_path = self.out / "checkpoint.pt"
        self.pack_cfg: PackConfig | None = None  # set by load_data: the pitch windows come from the data
        self.band: Band | None = None
        self.history: dict[str, list] = {s: [] for s in STAGES}
        self.done_epochs = {s: 0 for s in STAGES}
        self.opt_state: dict | None = None
        self.seconds = 0.0
        self.log_lines: list[str] = []
        self.warnings: list[str] = []  # what the card and the log say about the data (a lane with no notes)

    @property
    def main(self) -> bool:
        return self.rank == 0

    def log(self, text: str) -> None:
        if self.main:
            print(text, flush=True)
            self.log_lines.append(text)

    def load_data(self) -> None:
        cfg = self.cfg
        cache = cfg.cache_dir or str(self.out.parent / ".cache" / "songs")
        init = self.read_init_pack()  # a bad --init-from is said before the data is read
        files = find_files(cfg.data, cfg.genres or None)
        if not files:
            genres = f" in the genres {', '.join(cfg.genres)}" if cfg.genres else ""
            raise TrainingError(f"no .mid, .midi or .npz files under '{cfg.data}'{genres}: nothing to train on")
        corpus = load_corpus(files, cfg.steps_per_beat, cache, cfg.chunk_steps, cfg.workers, cfg.progress and self.main)
        self.check_corpus(corpus, files)
        self.key_shifts = normalise_keys(corpus.songs) if cfg.key_normalise else {}
        if cfg.chords:  # on the key-normalised 128-pitch rolls, before the pitch windows fold them
            recognize_chords(corpus.songs, 4 * cfg.steps_per_beat)
        train, _ = corpus.split(cfg.validation_percent)
        if init is not None:  # the pack we start from fixes the pitch windows its VAEs were trained on
            lows = tuple(init.config.pitch_low)
        elif cfg.pitches < 128:
            lows = choose_windows(train, cfg.pitches)
        else:
            lows = (0,) * len(LANES)
        self.windows_kept = window_coverage(train, lows, cfg.pitches)
        fold_songs(corpus.songs, lows, cfg.pitches)
        self.pack_cfg = PackConfig(
            latent=cfg.latent,
            steps_per_beat=cfg.steps_per_beat,
            chunk_steps=cfg.chunk_steps,
            pitches=cfg.pitches,
            pitch_low=lows,
            lead=cfg.lead,
            bank=cfg.bank,
            channels=tuple(cfg.channels),
            chords=cfg.chords,
        )
        torch.manual_seed(cfg.seed)
        self.band = Band(self.pack_cfg)
        if init is not None:
            copied = self._copy_from(init.band)
            if not copied:
                raise TrainingError(
                    f"--init-from pack '{cfg.init_from}' shares no tensor with this run's nets (another --latent, "
                    "--channels or --chords): give the same sizes, or start without it"
                )
            self.log(f"starting from pack '{cfg.init_from}': {copied} tensors copied")
        self.band = self.band.to(self.device)
        self.log(f"pitch windows {dict(zip(LANES, lows))}, onsets kept {self.windows_kept}")
        self.train, self.val = corpus.split(cfg.validation_percent)
        self.check_lanes()
        self.counts = dict(
            files=len(files),
            usable=len(corpus.songs),
            skipped=len(corpus.skipped),
            train_songs=len(self.train),
            validation_songs=len(self.val),
        )
        self.log(f"data: {self.counts}")
        val_songs = self.val or self.train[:1]
        val = np.concatenate([song_chunks(s.roll, cfg.chunk_steps) for s in val_songs])
        rng = np.random.default_rng(cfg.seed)
        order = rng.permutation(len(val))[: cfg.max_val_chunks]
        self.val_chunks = val[order]
        self.val_chords = None
        if cfg.chords:
            bars = self.pack_cfg.bars
            self.val_chords = np.concatenate([song_chunk_chords(s, cfg.chunk_steps, bars) for s in val_songs])[order]

    def read_init_pack(self):
        """The --init-from pack, checked: a readable pack on this run's grid and pitch windows (or None)."""
        cfg = self.cfg
        if not cfg.init_from:
            return None
        try:
            init = load_pack(cfg.init_from)
        except PackError as exc:
            raise TrainingError(f"--init-from: {exc}") from None
        theirs = (init.config.steps_per_beat, init.config.chunk_steps, init.config.pitches)
        if theirs != (cfg.steps_per_beat, cfg.chunk_steps, cfg.pitches):
            raise TrainingError(
                f"--init-from pack '{cfg.init_from}' works on {theirs[0]} steps per beat, {theirs[1]}-step chunks "
                f"and {theirs[2]}-pitch windows; this run asks {cfg.steps_per_beat}, {cfg.chunk_steps} and "
                f"{cfg.pitches}: give --steps-per-beat {theirs[0]} --chunk-steps {theirs[1]} --pitches {theirs[2]}"
            )
        return init

    def check_corpus(self, corpus, files) -> None:
        """Songs to train on, before any work: some usable, some in the training share, some long enough."""
        cfg = self.cfg
        if not corpus.songs:
            path, why = next(iter(corpus.skipped.items()), (str(files[0]), "unusable"))
            why = why if Path(path).name in why else f"'{Path(path).name}': {why}"
            raise TrainingError(
                f"none of the {len(files)} files under '{cfg.data}' can be trained on (e.g. {why}); a song needs "
                f"notes and at least one chunk ({cfg.chunk_steps / cfg.steps_per_beat / 4:g} bars)"
            )
        train, _ = corpus.split(cfg.validation_percent)
        if not train:
            raise TrainingError(
                f"all {len(corpus.songs)} usable songs fall in the validation share (--validation-percent "
                f"{cfg.validation_percent}): add songs or lower --validation-percent"
            )
        if cfg.pred_epochs and not any(s.roll.shape[1] >= 2 * cfg.chunk_steps for s in train):
            raise TrainingError(
                f"no training song under '{cfg.data}' is two chunks ({2 * cfg.chunk_steps / cfg.steps_per_beat / 4:g} "
                "bars) long: the predictors learn from consecutive chunks; add longer songs"
            )

    def check_lanes(self) -> None:
        """A warning (on screen, and in the card) for every lane the training songs never play."""
        played = np.zeros(len(LANES), dtype=bool)
        for song in self.train:
            played |= song.roll.reshape(len(LANES), -1).any(axis=1)
            if played.all():
                break
        self.warnings = []
        for i in np.flatnonzero(~played):
            lane = LANES[i]
            lead = "; it is the lead the other lanes follow: choose another --lead" if lane == self.cfg.lead else ""
            self.warnings.append(
                f"the training songs have no {lane} notes: the {lane} lane learns nothing and stays silent{lead}"
            )
        for text in self.warnings:
            self.log(f"warning: {text}")

    def _copy_from(self, other: Band) -> int:
        """Copy every tensor of `other` whose name and shape match this run's nets; returns how many."""
        mine = self.band.state_dict()
        same = {k: v for k, v in other.state_dict().items() if k in mine and mine[k].shape == v.shape}
        self.band.load_state_dict(same, strict=False)
        return len(same)

    # --- checkpoints ----------------------------------------------------------------------------
    def save_checkpoint(self, stage: str, optimizer: torch.optim.Optimizer) -> None:
        if not self.main:
            return
        state = dict(
            config=json.dumps(asdict(self.cfg)),
            band=self.band.state_dict(),
            optimizer=optimizer.state_dict(),
            stage=stage,
            done_epochs=json.dumps(self.done_epochs),
            history=json.dumps(self.history),
            seconds=self.seconds,
        )
        atomic_write(self.ckpt_path, lambda f: torch.save(state, f))
        self.kept = f"{stage} epoch {self.done_epochs[stage]}"

    def read_checkpoint(self) -> dict | None:
        """<out>/checkpoint.pt, checked before any work: None when there is none; TrainingError (one line naming
        the file and what is wrong) for a damaged file, a file that is no checkpoint, or one of another config."""
        path = self.ckpt_path
        where = f"checkpoint '{path}'"
        fix = "delete it to start fresh, or train without --resume"
        if not path.exists():
            return None
        try:
            with open(path, "rb") as f:
                head = f.read(4)
        except OSError as exc:
            raise TrainingError(f"{where} cannot be read ({exc.strerror or exc}): {fix}") from None
        if not head:
            raise TrainingError(f"{where} is empty (an interrupted copy?): {fix}")
        if head != b"PK\x03\x04":  # torch.save writes a zip archive
            kind = "a MIDI file" if head == b"MThd" else "not a training checkpoint"
            raise TrainingError(f"{where} is {kind}: {fix}")
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)  # tensors and plain data only
        except Exception:  # torch.load raises many kinds on damaged bytes (RuntimeError, OSError, UnpicklingError...)
            raise TrainingError(f"{where} is damaged or cut short (an interrupted copy?): {fix}") from None
        try:
            if not isinstance(state, dict) or any(key not in state for key in CHECKPOINT_KEYS):
                raise ValueError("it lacks a checkpoint's parts")
            saved = json.loads(state["config"])
            done = json.loads(state["done_epochs"])
            history = json.loads(state["history"])
            ok = isinstance(saved, dict) and isinstance(done, dict) and isinstance(history, dict)
            ok = ok and isinstance(state["band"], dict) and state["stage"] in STAGES
            if not ok or not all(isinstance(v, int) and v >= 0 for v in done.values()):
                raise ValueError("its parts are not what a checkpoint holds")
            state["seconds"] = float(state["seconds"])
        except (ValueError, TypeError) as exc:
            raise TrainingError(f"{where} is not a training checkpoint ({exc}): {fix}") from None
        mine = json.loads(json.dumps(asdict(self.cfg)))
        differ = [name for name in SHAPE_FIELDS if saved.get(name, mine[name]) != mine[name]]
        if differ:

            def shown(config):
                return ", ".join(f"{flag_name(n)} {shown_value(config.get(n))}" for n in differ)

            raise TrainingError(
                f"{where} is of another run ({shown(saved)}; this run asks {shown(mine)}): "
                f"resume with the same settings, or {fix}"
            )
        state["config"], state["done_epochs"], state["history"] = saved, done, history
        return state

    def load_checkpoint(self, state: dict | None) -> None:
        """Continue from a checkpoint read_checkpoint vouched for (None: start fresh)."""
        if state is None:
            self.log(f"no checkpoint at {self.ckpt_path}: starting fresh")
            return
        try:
            self.band.load_state_dict(state["band"])
        except (RuntimeError, KeyError, TypeError) as exc:
            first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
            raise TrainingError(
                f"checkpoint '{self.ckpt_path}' does not fit this run's nets ({first}): resume with the same "
                "settings and data, or delete it to start fresh"
            ) from None
        self.done_epochs = {s: 0 for s in STAGES} | state["done_epochs"]
        self.history = {s: [] for s in STAGES} | state["history"]
        self.opt_state = {"stage": state["stage"], "state": state["optimizer"]}
        self.seconds = state["seconds"]
        self.resumed = True
        done = [s for s in STAGES if self.done_epochs[s]]
        self.kept = f"{done[-1]} epoch {self.done_epochs[done[-1]]}" if done else "the checkpoint resumed from"
        saved_lr = state["config"].get("lr")
        if not self.lr_given and isinstance(saved_lr, (int, float)) and 0 < saved_lr <= MAX_LEARNING_RATE:
            self.cfg.lr = float(saved_lr)  # stages the checkpoint has not begun start at the run's own --lr
        try:
            at = f"{float(state['optimizer']['param_groups'][0]['lr']):g}"
        except (KeyError, IndexError, TypeError, ValueError):
            at = "unknown"
        where = f"the checkpoint's {state['stage']} optimizer was at {at}"
        if self.lr_given:
            rate = f"learning rate {self.cfg.lr:g} from --lr ({where}), decaying from there"
        else:
            rate = (
                f"learning rate as the checkpoint left it ({where}; --lr {self.cfg.lr:g} for stages not begun): "
                "give --lr to set another"
            )
        self.log(f"resumed from {self.ckpt_path}: epochs done {self.done_epochs}; {rate}")

    # --- stages ---------------------------------------------------------------------------------
    def fit(self, stage: str, model: nn.Module, params, epochs: int, batches, validate) -> None:
        """Epoch loop shared by the three stages: shard batches, step, validate, checkpoint."""
        if self.done_epochs[stage] >= epochs:
            return
        wrapped = model
        if self.world > 1:
            wrapped = nn.parallel.DistributedDataParallel(model, find_unused_parameters=stage != "vae")
        optimizer = torch.optim.Adam(params, lr=self.cfg.lr)
        if self.opt_state and self.opt_state["stage"] == stage:
            try:
                optimizer.load_state_dict(self.opt_state["state"])
            except (ValueError, KeyError, TypeError, RuntimeError):
                raise TrainingError(
                    f"checkpoint '{self.ckpt_path}': its {stage} optimizer does not fit this run's nets: resume "
                    "with the same settings, or delete it to start fresh"
                ) from None
        if self.lr_given and self.opt_state and self.opt_state["stage"] == stage:
            for group in optimizer.param_groups:  # --lr given on --resume: it replaces the checkpoint's rate
                group["lr"] = group["initial_lr"] = self.cfg.lr
        # Otherwise a resumed optimizer carries its decayed learning rate; the schedule continues from it.
        scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, self.cfg.lr_decay)
        first = None  # the stage's first batch loss in this process: the scale an exploded loss is measured by
        for epoch in range(self.done_epochs[stage], epochs):
            started = time.time()
            rate = optimizer.param_groups[0]["lr"]
            rng = np.random.default_rng([self.cfg.seed, STAGES.index(stage), epoch])
            torch.manual_seed(self.cfg.seed * 1000 + epoch)
            model.train()
            all_batches = batches(rng)
            usable = len(all_batches) - len(all_batches) % self.world
            mine = all_batches[self.rank : usable : self.world]
            total, parts, n = 0.0, None, 0
            bar = self._bar(mine, f"{stage} {epoch + 1}/{epochs}")
            for batch in bar:
                loss, terms = wrapped(*[t.to(self.device) for t in batch])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                value = float(loss.detach())
                broken, worst = self._agree(not math.isfinite(value), value if math.isfinite(value) else 0.0)
                if broken:  # a diverged run would write a pack of NaN: stop and say so
                    shown = value if not math.isfinite(value) else float("nan")
                    self._diverged(stage, epoch, rate, f"loss {shown}")
                first = worst if first is None else first
                if worst > EXPLODED * max(first, 1.0):  # finite, but blown up: its pack would be noise
                    self._diverged(
                        stage, epoch, rate, f"loss {worst:.3g}, over {EXPLODED:g} times the first batch's {first:.3g}"
                    )
                total += value
                parts = terms.cpu() if parts is None else parts + terms.cpu()
                n += 1
                if self.main and hasattr(bar, "set_postfix") and n % 20 == 0:
                    bar.set_postfix(loss=f"{total / n:.3f}")
            # The last step can leave non-finite weights after a finite loss: never checkpoint them.
            weights = self.band.state_dict().items()
            bad = [name for name, t in weights if t.is_floating_point() and not t.isfinite().all()]
            if self._agree(bool(bad), 0.0)[0]:
                what = (": " + bad[0] + (f" and {len(bad) - 1} more" if len(bad) > 1 else "")) if bad else " elsewhere"
                self._diverged(stage, epoch, rate, f"its last step left non-finite weights{what}")
            scheduler.step()
            model.eval()
            val = validate()
            self.seconds += time.time() - started
            record = dict(epoch=epoch + 1, train=total / max(n, 1), val=val, seconds=round(time.time() - started, 1))
            record["lr"] = float(f"{rate:.6g}")
            if parts is not None:
                record["train_terms"] = [round(float(p) / n, 4) for p in parts]
            self.history[stage].append(record)
            self.done_epochs[stage] = epoch + 1
            self.log(f"{stage} epoch {epoch + 1}/{epochs}: train {record['train']:.4f} val {json.dumps(val)}")
            self.save_checkpoint(stage, optimizer)

    def _agree(self, broken: bool, value: float) -> tuple[bool, float]:
        """(any process broken, the largest value): every process of a data-parallel run takes the same
        decision at the same batch, so none raises while another waits in its next all-reduce."""
        if self.world == 1:
            return broken, value
        flags = torch.tensor([float(broken), value], dtype=torch.float64, device=self.device)
        dist.all_reduce(flags, op=dist.ReduceOp.MAX)
        return bool(flags[0] > 0), float(flags[1])

    def _diverged(self, stage: str, epoch: int, rate: float, what: str):
        """Raise the one-line divergence message; its advice fits a fresh and a resumed run alike."""
        cfg = self.cfg
        kl = f"--kl-weight (now {cfg.kl_weight:g})"
        if not self.resumed:
            text = f"lower --lr (now {cfg.lr:g}) or {kl} and train again"
            if self.kept:
                text += f", or --resume with them from the checkpoint kept ({self.kept})"
        else:
            given = "from --lr" if self.lr_given else "the checkpoint's: --lr on --resume sets another"
            text = f"--resume again with a lower --lr (this epoch ran at {rate:g}, {given}) or a lower {kl}"
            text += f" from the checkpoint kept ({self.kept})"
        raise DivergedError(f"training diverged in {stage} epoch {epoch + 1} ({what}): {text}")

    def _bar(self, items, desc: str):
        if not (self.cfg.progress and self.main):
            return items
        from tqdm import tqdm

        return tqdm(items, desc=desc, unit="batch", leave=False)

    def train_vaes(self) -> None:
        cfg = self.cfg
        model = VAELoss(self.band, cfg.kl_weight, cfg.recon).to(self.device)

        bars = self.pack_cfg.bars if cfg.chords else 0

        def batches(rng):
            chunks, chords = sample_chunks_chords(self.train, cfg.chunk_steps, cfg.songs_per_epoch, rng, bars)
            order = rng.permutation(len(chunks))
            if chords is None:
                return [
                    (torch.from_numpy(chunks[order[i : i + cfg.batch]]).float(),)
                    for i in range(0, len(order), cfg.batch)
                ]
            chords = chords * (rng.random((len(chords), 1)) >= cfg.chord_dropout)  # some chunks with no chords
            return [
                (torch.from_numpy(chunks[idx]).float(), torch.from_numpy(chords[idx]).float())
                for idx in (order[i : i + cfg.batch] for i in range(0, len(order), cfg.batch))
            ]

        self.fit("vae", model, model.parameters(), cfg.vae_epochs, batches, self.validate_vaes)

    @torch.no_grad()
    def validate_vaes(self) -> dict:
        """Per-lane validation ELBO and note F1 of mean reconstructions at threshold 0.3."""
        losses = np.zeros(len(LANES))
        tp, fp, fn = np.zeros(len(LANES)), np.zeros(len(LANES)), np.zeros(len(LANES))
        for i in range(0, len(self.val_chunks), 256):
            x = torch.from_numpy(self.val_chunks[i : i + 256]).float().to(self.device)
            c = None if self.val_chords is None else torch.from_numpy(self.val_chords[i : i + 256]).to(self.device)
            for li, lane in enumerate(LANES):
                vae = self.band.vae[lane]
                mu, logvar = vae.encode(x[:, li])
                logits = vae.decode_logits(mu, c)
                losses[li] += float(vae_loss(logits, x[:, li], mu, logvar, self.cfg.kl_weight, self.cfg.recon)) * len(x)
                pred, true = logits >= float(np.log(0.3 / 0.7)), x[:, li] > 0
                tp[li] += float((pred & true).sum())
                fp[li] += float((pred & ~true).sum())
                fn[li] += float((~pred & true).sum())
        f1 = 2 * tp / np.maximum(2 * tp + fp + fn, 1)
        n = max(len(self.val_chunks), 1)
        return {lane: {"loss": round(losses[i] / n, 3), "f1": round(float(f1[i]), 4)} for i, lane in enumerate(LANES)}

    @torch.no_grad()
    def latent_pairs(self, songs: list[SongRolls]) -> tuple[torch.Tensor, torch.Tensor]:
        """Latent means (N, 5, K) of consecutive chunk pairs under the frozen VAEs."""
        now, nxt = chunk_pairs(songs, self.cfg.chunk_steps)
        return self._encode(now), self._encode(nxt)

    def _encode(self, chunks: np.ndarray) -> torch.Tensor:
        out = []
        for i in range(0, len(chunks), 512):
            x = torch.from_numpy(chunks[i : i + 512]).float().to(self.device)
            out.append(torch.stack([self.band.vae[lane].encode(x[:, li])[0] for li, lane in enumerate(LANES)], 1))
        return torch.cat(out).cpu() if out else torch.zeros(0, len(LANES), self.cfg.latent)

    def train_predictors(self) -> None:
        cfg = self.cfg
        self.band.vae.eval()
        z_now, z_next = self.latent_pairs(self.train)
        v_now, v_next = self.latent_pairs(self.val or self.train[:1])
        self.log(f"latent pairs: {len(z_now)} train, {len(v_now)} validation")
        for stage in ("melody", "cond"):
            model = PredictorLoss(self.band, stage).to(self.device)
            params = self.band.melody.parameters() if stage == "melody" else self.band.cond.parameters()
            batch = max(cfg.batch, 256)

            def batches(rng, n=len(z_now), batch=batch):
                order = torch.from_numpy(rng.permutation(n))
                return [(z_now[order[i : i + batch]], z_next[order[i : i + batch]]) for i in range(0, n, batch)]

            def validate(model=model):
                with torch.no_grad():
                    _, terms = model(v_now.to(self.device), v_next.to(self.device))
                names = [self.pack_cfg.lead] if model.stage == "melody" else list(self.pack_cfg.followers)
                return {name: round(float(t), 4) for name, t in zip(names, terms)}

            self.fit(stage, model, params, cfg.pred_epochs, batches, validate)
        if cfg.chords:
            self.train_band(z_now, z_next, v_now, v_next)

    def _next_chords(self, songs: list[SongRolls]) -> torch.Tensor:
        """Chord features of the second chunk of every pair chunk_pairs makes, (N, bars * 24), in its order."""
        rows = []
        for song in songs:
            chords = song_chunk_chords(song, self.cfg.chunk_steps, self.pack_cfg.bars)
            if len(chords) >= 2:
                rows.append(chords[1:])
        return torch.from_numpy(np.concatenate(rows)) if rows else torch.zeros(0, self.pack_cfg.chord_inputs)

    def train_band(self, z_now, z_next, v_now, v_next) -> None:
        """The chord family's band predictor, with random lanes known (so any lane can be the given part)."""
        cfg = self.cfg
        c_next = self._next_chords(self.train)
        v_chords = self._next_chords(self.val or self.train[:1])
        model = BandLoss(self.band, cfg.known_p).to(self.device)
        batch = max(cfg.batch, 256)

        def batches(rng, n=len(z_now)):
            order = torch.from_numpy(rng.permutation(n))
            return [
                (z_now[idx], z_next[idx], c_next[idx]) for idx in (order[i : i + batch] for i in range(0, n, batch))
            ]

        def validate():
            with torch.no_grad():
                torch.manual_seed(cfg.seed + 11)  # the same masks every epoch
                _, terms = model(v_now.to(self.device), v_next.to(self.device), v_chords.to(self.device))
            return {lane: round(float(t), 4) for lane, t in zip(LANES, terms)}

        self.fit("band", model, self.band.band.parameters(), cfg.pred_epochs, batches, validate)

    @torch.no_grad()
    def fill_bank(self) -> None:
        """Store latent means of real training chunks (and which lanes sound in them) as start points."""
        if not self.pack_cfg.bank:
            return
        rng = np.random.default_rng(self.cfg.seed + 7)
        picks, sounding, bank_chords = [], [], []
        order = rng.permutation(len(self.train))
        for i in order:
            chunks = song_chunks(self.train[i].roll, self.cfg.chunk_steps)
            if not len(chunks):
                continue
            lanes_on = chunks.any(axis=(2, 3))  # (N, 5)
            full = np.flatnonzero(lanes_on.sum(1) >= 4)  # prefer a band that is playing
            pool = full if len(full) else np.arange(len(chunks))
            c = int(rng.choice(pool))
            picks.append(chunks[c])
            sounding.append(lanes_on[c])
            if self.pack_cfg.chords:
                bank_chords.append(song_chunk_chords(self.train[i], self.cfg.chunk_steps, self.pack_cfg.bars)[c])
            if len(picks) == self.pack_cfg.bank:
                break
        while len(picks) < self.pack_cfg.bank:  # tiny corpora: repeat
            picks.append(picks[len(picks) % max(len(sounding), 1)])
            sounding.append(sounding[len(sounding) % max(len(sounding), 1)])
            if bank_chords:
                bank_chords.append(bank_chords[len(bank_chords) % len(bank_chords)])
        z = self._encode(np.stack(picks))
        self.band.bank_z.copy_(z.to(self.band.bank_z.device))
        self.band.bank_sounding.copy_(torch.from_numpy(np.stack(sounding).astype(np.float32)))
        if bank_chords:  # the chords each bank chunk played: a real progression to start a sketch from
            self.band.bank_chords.copy_(torch.from_numpy(np.stack(bank_chords)))
        self.log(f"bank: {len(picks)} chunks, lanes sounding {np.stack(sounding).mean(0).round(2).tolist()}")

    def finish(self) -> Path | None:
        if not self.main:
            return None
        self.fill_bank()
        vae_last = self.history["vae"][-1]["val"] if self.history["vae"] else {}
        card = dict(
            name=self.out.name,
            description="Per-lane convolutional VAEs glued by latent predictors (docs/model.md).",
            data=dict(
                description=f"multi-track MIDI under '{Path(self.cfg.data).name}'"
                + (f", genres {', '.join(self.cfg.genres)}" if self.cfg.genres else ""),
                **self.counts,
                split=f"{self.cfg.validation_percent}% of songs held out for validation, chosen by file SHA-1",
                warnings=list(self.warnings),
            ),
            training=dict(
                config=asdict(self.cfg)
                | {
                    "data": Path(self.cfg.data).name,
                    "out": self.out.name,
                    "cache_dir": None,  # machine-local; the card keeps no paths of the training machine
                },
                seconds=round(self.seconds),
                hardware=f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores"
                + (f", {torch.cuda.get_device_name(self.device)}" if self.device.type == "cuda" else ""),
                world_size=self.world,
                final=dict(
                    vae=self.history["vae"][-1] if self.history["vae"] else None,
                    melody=self.history["melody"][-1] if self.history["melody"] else None,
                    cond=self.history["cond"][-1] if self.history["cond"] else None,
                    band=self.history["band"][-1] if self.history["band"] else None,
                ),
                history=self.history,
            ),
            metrics=dict(reconstruction_f1={lane: v["f1"] for lane, v in vae_last.items()}),
            representation=dict(
                grid=f"{self.cfg.steps_per_beat} steps per beat, {self.cfg.chunk_steps}-step chunks",
                pitch_windows={
                    lane: [lo, lo + self.cfg.pitches - 1] for lane, lo in zip(LANES, self.pack_cfg.pitch_low)
                },
                onsets_in_window=self.windows_kept,
                drums="hits: every drum note is one step at its onset",
                repeated_notes="a note re-struck right after itself keeps a one-step gap",
                key_normalised=self.cfg.key_normalise,
                lead=self.cfg.lead,
            ),
            generation=dict(noise=1.0, threshold=0.3),
        )
        try:
            probe_finite(self.band.cpu(), f"the trained pack for '{self.out}'")
        except PackError as exc:
            raise TrainingError(f"{exc}; nothing was written: lower --lr or --kl-weight") from None
        path = save_pack(self.band.cpu(), self.out, card)
        self.log(f"pack written to {path}")
        for text in self.warnings:  # said again where the run ends, so a long log does not hide it
            self.log(f"warning: {text}")
        return path


def train(cfg: TrainConfig) -> Path | None:
    """Run (or resume) all three stages and write the pack; returns its folder on the main process."""
    cfg = check_config(cfg)
    run = Run(cfg)
    state = run.read_checkpoint() if cfg.resume else None  # a damaged checkpoint is said before any work
    run.out.mkdir(parents=True, exist_ok=True)
    run.load_data()
    if cfg.resume:
        run.load_checkpoint(state)
    try:
        run.train_vaes()
        run.train_predictors()
    except DivergedError:
        if run.world > 1:  # every process stopped at the same batch (Run._agree): leave together, say it once
            dist.destroy_process_group()
            if not run.main:
                raise SystemExit(2) from None
        raise
    path = run.finish()
    if run.world > 1:
        dist.barrier()
        dist.destroy_process_group()
    return path
