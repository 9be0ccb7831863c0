"""The training loop: one readable file, nanoGPT style.

    result = train(load_config("configs/cnn1d_quick.yaml", ["data=pack.h5"]))

A run folder holds:
    config.yaml   the resolved TrainConfig
    metrics.csv   one row per epoch (epoch, train_loss, train_acc, val_loss, val_acc, lr, seconds)
    best/         released model folder (models.release) of the best epoch on val accuracy
    last/         resumable checkpoint, replaced atomically after every epoch

Calling `train` again on a folder with the same config (epochs may grow) resumes from last/.
Every epoch reseeds the RNGs from (seed, epoch), so a resumed run replays exactly what an
uninterrupted one would have done, and two CPU runs with one seed give identical weights.
Under `torchrun` the same code trains with DDP (see distributed.py).
"""

from __future__ import annotations

import contextlib
import csv
import logging
import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import BatchSampler, DistributedSampler, RandomSampler

from ..datasets import SPLITS, Pack, training_indices
from ..errors import ConfigError
from ..models import create_model
from ..models.release import save_model, wavelength_grid_spec
from ..runtime import resolve_device, seed_everything
from . import distributed as D
from .checkpoint import TrainState, has_checkpoint, load_checkpoint, save_checkpoint
from .config import RESUMABLE_CHANGES, TrainConfig, config_to_dict, save_config
from .loader import loader as _loader
from .loader import rows_source as _rows_source

log = logging.getLogger("spectype.train")
METRIC_COLUMNS = ["epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds"]


@dataclass
class TrainResult:
    run_dir: Path
    best_dir: Path
    best_val_acc: float
    best_epoch: int
    history: pd.DataFrame  # metrics.csv
    stopped_early: bool = False
    model: nn.Module | None = None  # final weights (last epoch, not best), unwrapped from DDP


# ----------------------------------------------------------------------------- data


def split_indices(pack: Pack, cfg: TrainConfig) -> dict[str, np.ndarray]:
    """Pack row indices for 'train', 'val', 'test' as this config trains on them.

    Stored split (split_seed None) or a fresh grouped split of the pack's rows; then the
    seeded max_per_class cap (every split); then replication of train only (balance); the
    rules are `datasets.split.training_indices`. Evaluation calls this too, so it sees the same test rows the run held out.
    """
    if cfg.split_seed is not None and pack.params.get("augment"):
        # Added rows (GAN samples...) were made from the stored train split: a fresh split could
        # put them, or the stars they were made from, in val/test.
        raise ConfigError(
            f"{pack.path} holds augmentation rows made from its stored train split "
            "(datasets/augment.py); train it with that split (split_seed=null), or augment "
            "a pack re-split the way you want"
        )
    return training_indices(
        pack.labels, pack.groups, {s: pack.indices(s) for s in SPLITS}, split_seed=cfg.split_seed,
        fractions=tuple(cfg.split_fractions), max_per_class=cfg.max_per_class, balance=cfg.balance,
        seed=cfg.seed,
    )


# ----------------------------------------------------------------------------- run folder


def default_run_dir(cfg: TrainConfig) -> Path:
    return Path("runs") / f"{cfg.model}_seed{cfg.seed}"


def _check_resume(run_dir: Path, cfg: TrainConfig) -> bool:
    """True when run_dir holds a checkpoint of this config (epochs etc. may differ)."""
    import yaml

    if not has_checkpoint(run_dir / "last"):
        if run_dir.exists() and any(run_dir.iterdir()) and not (run_dir / "config.yaml").exists():
            raise ConfigError(
                f"{run_dir}: folder exists and is not a training run; choose another --out"
            )
        return False
    old = yaml.safe_load((run_dir / "config.yaml").read_text()) or {}
    new = config_to_dict(cfg)
    diff = sorted(k for k in new if k not in RESUMABLE_CHANGES and old.get(k) != new[k])
    if diff:
        details = ", ".join(f"{k}: {old.get(k)!r} -> {new[k]!r}" for k in diff)
        raise ConfigError(
            f"{run_dir} holds a run with a different config ({details}); resume with the same "
            "settings, or train into a new --out folder"
        )
    return True


def _truncate_metrics(path: Path, epoch: int) -> None:
    """Drop rows after the checkpoint's epoch (written before a crash, replayed on resume)."""
    from ..atomic import atomic_path

    if not path.exists():
        return
    df = pd.read_csv(path)
    if len(df) and df["epoch"].max() > epoch:
        with atomic_path(path) as tmp:
            df[df["epoch"] <= epoch].to_csv(tmp, index=False)


def _append_metrics(path: Path, row: dict) -> None:
    new = not path.exists()
    with open(path, "a", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=METRIC_COLUMNS)
        if new:
            w.writeheader()
        w.writerow(row)
        fh.flush()


# ----------------------------------------------------------------------------- devices, seeds


def _resolve_device(cfg: TrainConfig, info: D.DistInfo) -> torch.device:
    device = resolve_device(cfg.device)
    if device.type == "cuda" and info.enabled:
        device = torch.device(f"cuda:{info.local_rank}")  # under torchrun each rank owns one GPU
    return device


def _epoch_seed(cfg: TrainConfig, epoch: int, rank: int) -> int:
    # Distinct per epoch and per rank (dropout masks differ across ranks), fixed per (seed, epoch).
    return (cfg.seed * 1_000_003 + epoch * 7_919 + rank) % 2**63


# ----------------------------------------------------------------------------- one epoch


def _run_epoch(model, loader, device, amp_dtype, optimizer=None, cfg=None, bar=None) -> tuple[float, float, float]:
    """One pass; trains when an optimizer is given. Returns (loss sum, correct, count)."""
    training = optimizer is not None
    model.train(training)
    loss_sum = correct = count = 0.0
    ctx = torch.enable_grad() if training else torch.no_grad()
    with ctx:
        for x, y in loader:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            with torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
                logits = model(x)
            # Loss in float32: bf16 logits lose precision in the log-softmax.
            loss = F.cross_entropy(logits.float(), y, label_smoothing=cfg.label_smoothing if training else 0.0)
            if training:
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
            n = y.numel()
            loss_sum += loss.item() * n
            correct += (logits.argmax(1) == y).sum().item()
            count += n
            if bar is not None:
                bar()
    return loss_sum, correct, count


# ----------------------------------------------------------------------------- train


def train(cfg: TrainConfig, progress: bool = True) -> TrainResult:
    """Train `cfg.model` on `cfg.data`; resume from `cfg.out`/last/ when it holds this run."""
    if not cfg.data:
        raise ConfigError("no training data: set `data` (an HDF5 pack) in the config or pass --data")
    info = D.env_info()
    device = _resolve_device(cfg, info)
    info = D.setup(device.type)
    prev_det = torch.are_deterministic_algorithms_enabled()
    prev_bench = torch.backends.cudnn.benchmark
    try:
        if cfg.deterministic:
            if device.type == "cuda":
                os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
            torch.use_deterministic_algorithms(True, warn_only=True)
            torch.backends.cudnn.benchmark = False
        return _train(cfg, info, device, progress)
    finally:
        torch.use_deterministic_algorithms(prev_det)
        torch.backends.cudnn.benchmark = prev_bench
        D.teardown(info)


def _train(cfg: TrainConfig, info: D.DistInfo, device: torch.device, progress: bool) -> TrainResult:
    run_dir = Path(cfg.out) if cfg.out else default_run_dir(cfg)
    last_dir, best_dir, metrics_path = run_dir / "last", run_dir / "best", run_dir / "metrics.csv"
    if cfg.batch_size % info.world_size:
        raise ConfigError(
            f"batch_size {cfg.batch_size} is the global batch and must divide evenly over "
            f"{info.world_size} processes"
        )
    amp_dtype = torch.bfloat16 if cfg.amp == "bf16" or (cfg.amp == "auto" and device.type == "cuda") else None

    # --- data
    pack = Pack(cfg.data)
    parts = split_indices(pack, cfg)
    if len(parts["train"]) == 0 or len(parts["val"]) == 0:
        raise ConfigError(
            f"{pack.path}: train ({len(parts['train'])}) and val ({len(parts['val'])}) rows are "
            "both needed; rebuild the pack with a val fraction or set split_seed"
        )
    if pack.leaky and cfg.split_seed is None and info.is_main:
        warnings.warn(
            f"{pack.path} is a LEAKY pack (replicate-then-split): val accuracy, and so the best "
            "epoch, is inflated; set split_seed to re-split it by group",
            stacklevel=2,
        )
    train_src = _rows_source(pack, parts["train"], cfg.preload)
    val_src = _rows_source(pack, parts["val"], cfg.preload)
    per_rank_batch = cfg.batch_size // info.world_size
    # The shuffle has its own generator, reseeded every epoch. The DataLoader gets another:
    # it draws worker seeds from it at different times with persistent workers, which must
    # not shift the shuffle (nor the global RNG that drives dropout).
    shuffle_gen, loader_gen = torch.Generator(), torch.Generator().manual_seed(cfg.seed)
    if info.enabled:
        base_sampler = DistributedSampler(
            range(len(train_src)), num_replicas=info.world_size, rank=info.rank, shuffle=True, seed=cfg.seed
        )
    else:
        base_sampler = RandomSampler(range(len(train_src)), generator=shuffle_gen)
    # A last training batch of one spectrum breaks BatchNorm over (B, C) features (BAM's gate);
    # drop just that one rather than every incomplete last batch.
    lone_last = len(base_sampler) > 1 and len(base_sampler) % per_rank_batch == 1
    train_loader = _loader(train_src, BatchSampler(base_sampler, per_rank_batch, drop_last=lone_last), cfg, loader_gen)
    val_pos = np.arange(len(val_src))[info.rank :: info.world_size]  # exact shards, no padding
    val_batches = [val_pos[i : i + cfg.batch_size] for i in range(0, len(val_pos), cfg.batch_size)]
    val_loader = _loader(val_src, val_batches, cfg, torch.Generator().manual_seed(cfg.seed))

    # --- model and optimiser
    kwargs = dict(cfg.model_kwargs)
    for key, value in (("n_classes", len(pack.class_names)), ("input_len", pack.n_pix)):
        if kwargs.setdefault(key, value) != value:
            raise ConfigError(f"model_kwargs.{key}={kwargs[key]} but the pack {pack.path} has {value}")
    seed_everything(cfg.seed)
    try:
        model = create_model(cfg.model, **kwargs).to(device)
    except (KeyError, TypeError, ValueError) as e:
        raise ConfigError(f"cannot build model {cfg.model!r} with {kwargs}: {e}") from None
    opt_cls = torch.optim.AdamW if cfg.optimizer == "adamw" else torch.optim.Adam
    optimizer = opt_cls(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)

    # --- run folder (every rank checks; rank 0 writes)
    resuming = _check_resume(run_dir, cfg)
    state = TrainState()
    if info.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        if not resuming:
            metrics_path.unlink(missing_ok=True)
        save_config(cfg, run_dir / "config.yaml")
    D.barrier(info)
    if resuming:
        state = load_checkpoint(last_dir, model, optimizer)
        if info.is_main:
            _truncate_metrics(metrics_path, state.epoch)
            log.info("resuming %s from epoch %d", run_dir, state.epoch)
    D.barrier(info)
    net: nn.Module = model
    if info.enabled:
        net = nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None
        )

    training_summary = {
        "data": str(pack.path),
        "leaky_pack": pack.leaky,
        "split_seed": cfg.split_seed,
        "balance": cfg.balance,
        "max_per_class": cfg.max_per_class,
        "rows": {s: int(len(v)) for s, v in parts.items()},
        "train_per_class": {
            c: int(np.sum(pack.labels[parts["train"]] == i)) for i, c in enumerate(pack.class_names)
        },
        "model": cfg.model,
        "epochs": cfg.epochs,
        "batch_size": cfg.batch_size,
        "lr": cfg.lr,
        "optimizer": cfg.optimizer,
        "seed": cfg.seed,
        "world_size": info.world_size,
    }
    preprocess = {**pack.params.get("preprocess", {}), "wavelength_grid": wavelength_grid_spec(pack.wavelength)}

    # --- loop
    done = state.stopped_early or state.epoch >= cfg.epochs
    bar_ctx = _progress(progress and info.is_main and not done)
    with bar_ctx as prog:
        ep_task = prog.add_task("epochs", total=cfg.epochs, completed=state.epoch) if prog else None
        b_task = prog.add_task("batches", total=len(train_loader)) if prog else None
        for epoch in range(state.epoch + 1, cfg.epochs + 1):
            if state.stopped_early:
                break
            t0 = time.perf_counter()
            seed_everything(_epoch_seed(cfg, epoch, info.rank))
            shuffle_gen.manual_seed(_epoch_seed(cfg, epoch, 0))
            if info.enabled:
                base_sampler.set_epoch(epoch)
            if prog:
                prog.reset(b_task, total=len(train_loader))
            bar = (lambda: prog.advance(b_task)) if prog else None
            tr = D.all_reduce_sum(list(_run_epoch(net, train_loader, device, amp_dtype, optimizer, cfg, bar)), info, device)
            va = D.all_reduce_sum(list(_run_epoch(net, val_loader, device, amp_dtype, cfg=cfg)), info, device)
            row = {
                "epoch": epoch,
                "train_loss": tr[0] / tr[2], "train_acc": tr[1] / tr[2],
                "val_loss": va[0] / va[2], "val_acc": va[1] / va[2],
                "lr": optimizer.param_groups[0]["lr"],
                "seconds": round(time.perf_counter() - t0, 3),
            }
            improved = row["val_acc"] > state.best_val_acc
            state.epoch = epoch
            if improved:
                state.best_val_acc, state.best_epoch, state.epochs_since_best = row["val_acc"], epoch, 0
            else:
                state.epochs_since_best += 1
            if cfg.early_stopping is not None and state.epochs_since_best >= cfg.early_stopping:
                state.stopped_early = True
            if info.is_main:
                if improved:
                    save_model(
                        model, best_dir, class_names=pack.class_names, preprocess=preprocess,
                        training={**training_summary, "best_epoch": epoch},
                        metrics={k: row[k] for k in ("epoch", "val_acc", "val_loss", "train_acc", "train_loss")},
                    )
                _append_metrics(metrics_path, row)
                save_checkpoint(last_dir, model, optimizer, state)
            D.barrier(info)  # no rank runs ahead of a checkpoint it might resume from
            log.debug("epoch %d: %s", epoch, row)  # the bar shows it; the CLI logs INFO
            if prog:
                prog.update(ep_task, advance=1, description=(
                    f"epoch {epoch}/{cfg.epochs} val_acc {row['val_acc']:.3f} "
                    f"(best {state.best_val_acc:.3f} @ {state.best_epoch})"
                ))
    if state.stopped_early and info.is_main:
        log.info("early stopping after epoch %d (best %d)", state.epoch, state.best_epoch)
    history = pd.read_csv(metrics_path) if metrics_path.exists() else pd.DataFrame(columns=METRIC_COLUMNS)
    return TrainResult(
        run_dir, best_dir, state.best_val_acc, state.best_epoch, history, state.stopped_early, model.eval()
    )


@contextlib.contextmanager
def _progress(enabled: bool):
    """A rich progress bar (epochs x batches), or None when quiet."""
    if not enabled:
        yield None
        return
    from ..progress import progress_bar

    with progress_bar(True) as prog:
        yield prog
