"""The multi-seed runner behind `spectype reproduce table3|table4`.

For every (row, seed) of a protocol: train the row's model with `seed` (initialisation) and
`split_seed = seed` (a fresh grouped train/val/test split), evaluate the best epoch on that
split's test rows, and write `result.json` atomically in the run folder. A (row, seed) whose
result.json exists with the same settings is skipped, so an interrupted reproduction picks
up where it stopped (and an interrupted training resumes from its last/ checkpoint).

Output folder:
    <row>/seed<k>/          training run (config.yaml, metrics.csv, best/, last/),
                            eval-test/ (metrics.json, per_class.csv, ...), result.json
    runs.csv                one line per (row, seed): test accuracy, val accuracy, timings
    table.md / table.csv    mean ± std test accuracy per row (sample std, ddof=1), paper value
    per_class.md / .csv     per-class precision / recall / F1 averaged over seeds (Tables 5/6)
    significance.md / .csv  pairwise Cohen's d, runs needed for 80% power at alpha=0.05, Welch p
    confusion_<row>.png/csv confusion counts summed over seeds (the paper's Figure 5)
    failures.csv            (row, seed, error) for runs that raised; the others go on
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..atomic import atomic_write_text
from ..errors import ConfigError
from .protocols import Protocol, load_protocol
from .summary import write_summary

log = logging.getLogger("spectype.experiments")

RESULT = "result.json"
# Settings that do not change what a run computes; a finished run is reused across them.
_IGNORED_FOR_REUSE = {"device", "num_workers", "out", "preload", "amp"}


@dataclass
class ReproduceResult:
    """Everything a reproduction produced; DataFrames mirror the CSV files."""

    out_dir: Path
    runs: pd.DataFrame
    table: pd.DataFrame
    per_class: pd.DataFrame
    significance: pd.DataFrame
    failures: list[dict] = field(default_factory=list)
    trained: list[tuple[str, int]] = field(default_factory=list)  # (row, seed) trained this call
    files: dict[str, Path] = field(default_factory=dict)
    title: str = ""  # 'table4: <the protocol's title>'


def run_config(
    protocol: Protocol, row: str, seed: int, profile: str, data: str | os.PathLike,
    run_dir: Path, epochs: int | None = None, device: str = "auto",
    overrides: Sequence[str] = (),
):
    """The TrainConfig of one (row, seed): profile settings, then seeds, then `overrides`.

    overrides: `key=value` strings as for `spectype train` (applied last, so they win).
    """
    from ..train import load_config

    model, kwargs, train_fields = protocol.resolve(row, profile)
    fields = {
        **train_fields,
        "data": str(Path(data).resolve()),  # absolute, so reuse checks survive a cd
        "model": model,
        "model_kwargs": kwargs,
        "seed": int(seed),
        "split_seed": int(seed),
        "device": device,
        "out": str(run_dir),
    }
    if epochs is not None:
        fields["epochs"] = int(epochs)
    # JSON is valid YAML, so every value round-trips through load_config's parser and checks.
    items = [f"{k}={json.dumps(v)}" for k, v in fields.items()] + list(overrides)
    return load_config(None, items)


def _comparable(cfg: dict) -> dict:
    return {k: v for k, v in cfg.items() if k not in _IGNORED_FOR_REUSE}


def pack_fingerprint(pack) -> str:
    """What identifies a pack's content for reuse (`data` in the config is only a path): its
    build parameters, classes, per-row ids, groups, labels and stored split, and the flux of
    up to 64 rows spread over it. Cheap to compute; a rebuild from another catalogue, seed or
    cut changes it."""
    import hashlib

    h = hashlib.sha256()
    h.update(json.dumps({"params": pack.params, "classes": list(pack.class_names)},
                        sort_keys=True, default=str).encode())
    for arr in (pack.ids, pack.groups, pack.labels, pack.split):
        h.update(np.asarray(arr).astype(str).tobytes())
    rows = np.unique(np.linspace(0, len(pack) - 1, min(64, len(pack))).astype(int))
    h.update(np.ascontiguousarray(pack.read_flux(rows)).tobytes())
    return h.hexdigest()


def load_result(run_dir: Path, cfg_dict: dict | None = None, pack_id: str | None = None) -> dict | None:
    """The run's result.json, or None when absent, unreadable, made with other settings or,
    given `pack_id`, on another pack (rebuilt at the same path, say)."""
    path = Path(run_dir) / RESULT
    if not path.is_file():
        return None
    try:
        res = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    if cfg_dict is not None and _comparable(res.get("config", {})) != _comparable(cfg_dict):
        return None
    if pack_id is not None and res.get("pack") != pack_id:
        return None
    return res


def final_model(tr) -> Path:
    """The weights training ended with, as a model folder `<run>/final/` (best/'s config, so it
    loads and evaluates like best/): what the authors' code tests (profile `test_epoch: last`)."""
    from ..models.release import read_model_config, save_model

    best = read_model_config(tr.best_dir)
    return save_model(
        tr.model, Path(tr.run_dir) / "final", class_names=best["class_names"],
        preprocess=best["preprocess"], training={**best.get("training", {}), "tested": "last epoch"},
        metrics={"epoch": int(len(tr.history))},
    )


def run_one(
    protocol: Protocol, row: str, seed: int, profile: str, data: str | os.PathLike,
    run_dir: Path, epochs: int | None = None, device: str = "auto",
    overrides: Sequence[str] = (), progress: bool = False, eval_batch_size: int = 256,
    split_order: str = "split-then-replicate",
) -> tuple[dict, bool]:
    """Train and evaluate one (row, seed) unless its result.json is already there.

    split_order 'replicate-then-split' trains on a copy of the pack split the paper's leaky
    way (experiments.split_order) instead of the grouped split `split_seed = seed`.
    Returns (result dict, trained?) where trained is False for a reused result.
    """
    from ..datasets import Pack
    from ..evaluate.run import evaluate_model
    from ..runtime import jsonable
    from ..train import split_indices, train
    from ..train.config import config_to_dict

    cfg = run_config(protocol, row, seed, profile, data, run_dir, epochs, device, overrides)
    if split_order == "replicate-then-split":
        from .split_order import replicate_then_split_pack

        data = replicate_then_split_pack(
            data, pack_fingerprint(Pack(data)), cfg.balance, cfg.split_fractions, seed,
            Path(run_dir).parent.parent / "steps",
        )
        # The stored (leaky) split, already replicated: no re-split, no second replication.
        cfg = run_config(protocol, row, seed, profile, data, run_dir, epochs, device,
                         [*overrides, "split_seed=null", "balance=null"])
    elif split_order != "split-then-replicate":
        raise ConfigError(
            f"unknown split order {split_order!r}; use split-then-replicate or replicate-then-split"
        )
    cfg_dict = config_to_dict(cfg)
    pack = Pack(data)
    pack_id = pack_fingerprint(pack)
    test_epoch = protocol.profiles[profile].test_epoch
    done = load_result(run_dir, cfg_dict)
    if done is not None and done.get("test_epoch", "best") != test_epoch:
        done = None  # the training is reused (it resumes as finished); only the test reruns
    if done is not None:
        if done.get("pack") != pack_id:
            # Training would only resume the finished run (fit on the old pack's rows) and
            # score it on this pack's test rows, which may hold its training stars.
            raise ConfigError(
                f"{run_dir} was made on another pack (rebuilt at {data}?); use a new --out"
            )
        return done, False
    t0 = time.perf_counter()
    tr = train(cfg, progress=progress)
    t_train = time.perf_counter() - t0
    test_rows = split_indices(pack, cfg)["test"]
    t1 = time.perf_counter()
    tested = tr.run_dir if test_epoch == "best" else final_model(tr)
    ev = evaluate_model(
        tested, data, split="test", indices=test_rows, out_dir=Path(tr.run_dir) / "eval-test",
        batch_size=eval_batch_size, device=device, plots=False,
        command=f"spectype reproduce {protocol.name} (row {row}, seed {seed})",
    )
    result = {
        "protocol": protocol.name,
        "profile": profile,
        "row": row,
        "seed": int(seed),
        "model": cfg.model,
        "split_order": split_order,
        "test_epoch": test_epoch,
        "test_acc": ev.accuracy,
        "macro_f1": ev.metrics.get("macro_f1"),
        "best_val_acc": float(tr.best_val_acc),
        "best_epoch": int(tr.best_epoch),
        "epochs_run": int(len(tr.history)),
        "n_test": int(len(test_rows)),
        "train_seconds": round(t_train, 2),
        "eval_seconds": round(time.perf_counter() - t1, 2),
        "class_names": ev.predictions.class_names,
        "per_class": ev.per_class.to_dict(orient="list"),
        "confusion": ev.confusion.tolist(),
        "boundary": ev.metrics.get("boundary"),
        "config": cfg_dict,
        "pack": pack_id,
    }
    # Written last and atomically: its presence means the (row, seed) is complete.
    atomic_write_text(Path(run_dir) / RESULT, json.dumps(jsonable(result), indent=2))
    return result, True


def reproduce(
    protocol: str | os.PathLike | Protocol,
    data: str | os.PathLike,
    seeds: int | Sequence[int] = 10,
    profile: str = "quick",
    out: str | os.PathLike | None = None,
    rows: Sequence[str] | None = None,
    epochs: int | None = None,
    device: str = "auto",
    overrides: Sequence[str] = (),
    progress: bool = False,
    command: str | None = None,
    split_order: str = "split-then-replicate",
) -> ReproduceResult:
    """Run `rows` (default all) of a protocol over `seeds` (an int N means seeds 0..N-1).

    Failed (row, seed) runs are recorded in failures.csv and left out of the tables; a later
    call retries them. Summary files are rewritten from every result.json found for the
    requested rows and seeds. See the module docstring for the folder layout.
    """
    proto = protocol if isinstance(protocol, Protocol) else load_protocol(protocol)
    if any(r.augment for r in proto.rows.values()):
        raise ConfigError(
            f"protocol {proto.name} builds its own training sets (rows with `augment`); run it "
            f"with `spectype reproduce {proto.name}` (experiments.lcgan), not on a pack"
        )
    if profile not in proto.profiles:
        raise ConfigError(
            f"protocol {proto.name}: unknown profile {profile!r}; profiles: {list(proto.profiles)}"
        )
    seed_list = list(range(seeds)) if isinstance(seeds, int) else [int(s) for s in seeds]
    if not seed_list:
        raise ConfigError("no seeds to run: pass --seeds N with N >= 1")
    row_names = proto.row_names(list(rows) if rows else None)
    out_dir = Path(out) if out is not None else Path("runs") / "reproduce" / f"{proto.name}-{profile}"
    out_dir.mkdir(parents=True, exist_ok=True)
    command = command or " ".join(shlex.quote(a) for a in sys.argv)

    results: list[dict] = []
    failures: list[dict] = []
    trained: list[tuple[str, int]] = []
    total = len(row_names) * len(seed_list)
    k = 0
    for row in row_names:
        for seed in seed_list:
            k += 1
            run_dir = out_dir / row / f"seed{seed}"
            tag = f"[{k}/{total}] {row} seed {seed}"
            try:
                res, did_train = run_one(
                    proto, row, seed, profile, data, run_dir, epochs, device, overrides, progress,
                    split_order=split_order,
                )
            except KeyboardInterrupt:
                raise
            except Exception as exc:  # record and go on: one bad run must not sink the table
                msg = f"{type(exc).__name__}: {exc}"
                failures.append({"row": row, "seed": seed, "error": msg})
                log.warning("%s: failed %s", tag, msg)
                continue
            results.append(res)
            if did_train:
                trained.append((row, seed))
            how = f"trained in {res['train_seconds']:.0f}s" if did_train else "done before, reused"
            log.info("%s: test acc %.4f (%s)", tag, res["test_acc"], how)

    summary = write_summary(
        proto, results, failures, out_dir, profile=profile, data=str(data), seeds=seed_list,
        command=command, rows=row_names, split_order=split_order,
    )
    return ReproduceResult(
        out_dir=out_dir, runs=summary["runs"], table=summary["table"],
        per_class=summary["per_class"], significance=summary["significance"],
        failures=failures, trained=trained, files=summary["files"], title=f"{proto.name}: {proto.title}",
    )


__all__ = ["ReproduceResult", "load_result", "reproduce", "run_config", "run_one"]
