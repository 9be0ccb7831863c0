"""`spectype benchmark accuracy`: every method on the same splits of real spectra.

Splits (all grouped by star, so two spectra of one star never straddle train and test):
- `heldout`: k-fold cross-validation, stratified by class, over every row (real survey
  spectra, simulated library stars, native library spectra); each row is predicted once, by
  the fold that held its star out.
- `xrel/<release>`: train on every other release (and the simulated library stars), test on
  that release's real spectra; stars that also appear in another release leave training.
  Releases with fewer than `min_release` spectra are left out together (`xrel/A+B`).
Native library spectra are scored, never trained on. In every split a validation part (whole
stars, `val_fraction` of the training stars) is held back from fitting, for early stopping and
for the calibration temperature.

The output folder holds predictions.parquet (one row per test row, split and method), the
tables (summary.md, metrics.json) and figures (confusion matrices, reliability diagram).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..errors import ConfigError
from ..labels import CLASSES
from ..preprocess import PreprocessConfig
from ..train.mknet import MKNetConfig
from .data import LabelledSet, load_labelled
from .library import concat, native_set, simulated_set
from .methods import EnsembleMethod, build_method
from .zoo_method import ZooConfig

log = logging.getLogger("spectype.benchmark")


@dataclass
class AccuracyConfig:
    folds: int = 5
    cross_release: bool = True
    min_release: int = 100  # smaller releases are left out (and tested) together
    val_fraction: float = 0.12
    methods: tuple[str, ...] = ("logreg", "pca_svm", "hgb", "template", "mknet", "ensemble")
    libraries: tuple[str, ...] = ("miles", "stelib", "boss")  # simulated into training
    native: tuple[str, ...] = ("miles", "boss")  # scored as unseen real library stars
    sim_per_source: int = 3
    seed: int = 0
    splits: tuple[str, ...] = ()  # run only splits named so or under these (e.g. "heldout/0", "xrel")
    preprocess: PreprocessConfig = field(default_factory=lambda: PreprocessConfig(norm="robust"))
    mknet: MKNetConfig = field(default_factory=MKNetConfig)
    zoo: ZooConfig = field(default_factory=ZooConfig)  # training of every zoo:<model> method
    zoo_kwargs: dict = field(default_factory=dict)  # zoo model name -> builder overrides


def assemble(paths, cfg: AccuracyConfig, data_root, cache_dir, progress=True) -> tuple[LabelledSet, list]:
    """Real labelled spectra under `paths`, plus simulated and native library stars."""
    real, skipped = load_labelled(paths, cfg.preprocess, cache_dir=cache_dir, progress=progress)
    parts = [real]
    if data_root is not None and cfg.libraries:
        cache = Path(cache_dir) / f"sim-{'-'.join(cfg.libraries)}-{cfg.sim_per_source}-{cfg.seed}-{cfg.preprocess.norm}.npz"
        if cache.exists():
            parts.append(LabelledSet.load(cache))
        else:
            sims = simulated_set(data_root, cfg.preprocess, cfg.libraries, cfg.sim_per_source, cfg.seed)
            sims.save(cache)
            parts.append(sims)
    if data_root is not None and cfg.native:
        parts.append(native_set(data_root, cfg.preprocess, cfg.native))
    return concat(*parts), skipped


def _val_split(data: LabelledSet, rows: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Training rows -> (fit rows, validation rows), by whole stars."""
    from sklearn.model_selection import GroupShuffleSplit

    if len(np.unique(data.group[rows])) < 3:
        return rows, rows[:0]
    gss = GroupShuffleSplit(1, test_size=fraction, random_state=seed)
    a, b = next(gss.split(rows, groups=data.group[rows]))
    return rows[a], rows[b]


def plan_splits(data: LabelledSet, cfg: AccuracyConfig) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """[(split name, training rows, test rows)]; training rows exclude native library rows."""
    from sklearn.model_selection import StratifiedGroupKFold

    native = np.char.startswith(data.release.astype(str), "native-")
    trainable = ~native
    out = []
    skf = StratifiedGroupKFold(cfg.folds, shuffle=True, random_state=cfg.seed)
    for k, (tr, te) in enumerate(skf.split(data.flux[:, :1], data.cls, data.group)):
        out.append((f"heldout/{k}", tr[trainable[tr]], te))
    if cfg.cross_release:
        real = ~native & (data.release != "sim")
        rels, counts = np.unique(data.release[real], return_counts=True)
        # Releases too small for a fit of their own are left out together in one split.
        tests = [(r, [r]) for r, n in zip(rels, counts, strict=True) if n >= cfg.min_release]
        small = [r for r, n in zip(rels, counts, strict=True) if n < cfg.min_release]
        if small:
            tests.append(("+".join(small), small))
        for rel, members in tests:
            te = np.flatnonzero(real & np.isin(data.release, members))
            test_groups = set(data.group[te])
            tr = np.flatnonzero(trainable & ~np.isin(data.release, members) & ~np.isin(data.group, list(test_groups)))
            out.append((f"xrel/{rel}", tr, te))
    return out


class SplitSets(NamedTuple):
    """One split's parts: LabelledSets and the row numbers (into the assembled set) behind them."""

    name: str
    train: LabelledSet
    val: LabelledSet
    test: LabelledSet
    train_rows: np.ndarray
    test_rows: np.ndarray


def split_sets(data: LabelledSet, cfg: AccuracyConfig) -> Iterator[SplitSets]:
    """The splits `cfg.splits` selects (all when empty; a name or a prefix such as "xrel"),
    each with its validation stars held back, as every method and study sees them."""
    plan = [p for p in plan_splits(data, cfg)
            if not cfg.splits or any(p[0] == s or p[0].startswith(s.rstrip("/") + "/") for s in cfg.splits)]
    if not plan:
        raise ConfigError(f"no split matches {', '.join(cfg.splits)}; splits are "
                          + ", ".join(p[0] for p in plan_splits(data, cfg)))
    for split, tr, te in plan:
        fit_rows, val_rows = _val_split(data, tr, cfg.val_fraction, cfg.seed)
        yield SplitSets(split, data.take(fit_rows), data.take(val_rows), data.take(te), fit_rows, te)


def run_accuracy(paths, out: str | Path, cfg: AccuracyConfig | None = None, data_root=None,
                 progress: bool = True, say=log.info) -> dict:
    """Fit every method on every split and write predictions, tables and figures to `out`."""
    from .report import write_report

    cfg = cfg or AccuracyConfig()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    data, skipped = assemble(paths, cfg, data_root, out / "cache", progress)
    say(f"{len(data)} rows: " + ", ".join(f"{r} {n}" for r, n in zip(*np.unique(data.release, return_counts=True), strict=True)))
    preds = []
    timing: dict[str, float] = {}
    for split, train, val, test, _, te in split_sets(data, cfg):
        fitted = {}
        for name in cfg.methods:
            if name == "ensemble":
                members = [fitted[m] for m in ("mknet", "logreg", "pca_svm") if m in fitted]
                if len(members) < 2:
                    continue
                method = EnsembleMethod(members)
            else:
                method = build_method(name, data_root=data_root, cfg=cfg.preprocess, seed=cfg.seed, mknet_cfg=cfg.mknet,
                                      zoo_cfg=cfg.zoo, zoo_kwargs=cfg.zoo_kwargs)
            t = time.perf_counter()
            method.fit(train, val)
            o = method.predict(test)
            timing[name] = timing.get(name, 0.0) + time.perf_counter() - t
            fitted[name] = method
            preds.append(_frame(split, name, test, te, o))
            acc = float(np.mean(np.array(CLASSES)[o.proba.argmax(1)] == test.cls))
            say(f"{split:>16} {name:>9}: acc {acc:.3f} on {len(te)} (train {len(train)}, val {len(val)})")
    pred = pd.concat(preds, ignore_index=True)
    pred.to_parquet(out / "predictions.parquet")
    meta = {"config": asdict(cfg), "n_rows": len(data), "skipped": skipped[:200], "n_skipped": len(skipped),
            "seconds": time.perf_counter() - t0, "fit_predict_seconds": timing}
    (out / "run.json").write_text(json.dumps(meta, indent=2, default=str))
    return write_report(pred, out, meta)


def _frame(split: str, method: str, test: LabelledSet, rows: np.ndarray, o) -> pd.DataFrame:
    cls = np.array(CLASSES)
    p = o.proba
    order = np.argsort(-p, axis=1)
    df = pd.DataFrame({
        "split": split.split("/")[0], "fold": split, "method": method, "row": rows,
        "path": test.path, "index": test.index, "release": test.release, "survey": test.survey,
        "group": test.group, "snr": test.snr, "true_class": test.cls, "true_code": test.code,
        "true_lum": test.lum, "pred_class": cls[order[:, 0]], "pred_prob": p[np.arange(len(p)), order[:, 0]],
        "runner_up": cls[order[:, 1]],
        "pred_code": o.code if o.code is not None else np.nan,
        "pred_code_err": o.code_err if o.code_err is not None else np.nan,
        "pred_lum": o.lum if o.lum is not None else None,
        "ood": o.ood if o.ood is not None else False,
    })
    for k, c in enumerate(CLASSES):
        df[f"prob_{c}"] = p[:, k]
    return df
