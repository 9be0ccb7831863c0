"""GAN-train / GAN-test (Shmelkov et al. 2018) with an RBF NuSVC, as in Yang et al. 2021, Table 2.

Two classes: the GAN's target class (label 1) vs a comparison class (label 0).

* GAN-test (authenticity): train on real target + real comparison, test on generated target +
  held-out real comparison.
* GAN-train (diversity): train on generated target + real comparison, test on held-out real
  target + held-out real comparison.

Real spectra are split by group (`spectype.datasets.split.holdout_rows`), so no group is in both
the SVM's training and test sets; groups the GAN was trained on (`exclude_groups`) never enter
a test set. `real_vs_real` (train and test on real) is reported as the reference.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.svm import NuSVC

from ..atomic import atomic_path, atomic_write_text
from ..datasets.split import holdout_rows
from ..errors import ConfigError
from ..evaluate.report import markdown_table
from ..preprocess import l2_normalise


def _svm_accuracy(x_train, y_train, x_test, y_test, nu: float) -> tuple[float, NuSVC]:
    # nu must not exceed 2 * min(class share), or NuSVC has no feasible solution.
    counts = np.bincount(y_train, minlength=2)
    nu = min(nu, 0.9 * 2 * counts.min() / counts.sum())
    clf = NuSVC(nu=nu, kernel="rbf", gamma="scale").fit(x_train, y_train)
    return float(np.mean(clf.predict(x_test) == y_test)), clf


def gan_train_test(
    real_target: np.ndarray,
    real_comp: np.ndarray,
    generated: np.ndarray,
    groups_target: np.ndarray,
    groups_comp: np.ndarray,
    seed: int = 0,
    *,
    test_fraction: float = 0.5,
    exclude_groups=None,
    nu: float = 0.5,
) -> dict:
    """GAN-train and GAN-test accuracies for one set of generated target spectra.

    real_target: (Nt, L), real_comp: (Nc, L), generated: (Ng, L); groups_*: (Nt,), (Nc,).
    All spectra are L2-normalised here. exclude_groups: target groups used to train the GAN.
    Returns accuracies (gan_test, gan_train, real_vs_real), gan_test_recall (share of generated
    spectra classified as target), the sizes, and the row indices of each split.
    """
    if not 0 < test_fraction < 1:
        raise ConfigError(f"test_fraction must be in (0, 1), got {test_fraction}")
    if len(generated) == 0:
        raise ConfigError("no generated spectra to evaluate")
    t, c, gen = l2_normalise(real_target), l2_normalise(real_comp), l2_normalise(generated)
    t_train, t_test = holdout_rows(groups_target, test_fraction, seed, exclude_groups)
    c_train, c_test = holdout_rows(groups_comp, test_fraction, seed + 1)
    ones, zeros = np.ones, np.zeros

    # GAN-test: real -> generated (+ held-out real comparison).
    x_tr = np.concatenate([t[t_train], c[c_train]])
    y_tr = np.concatenate([ones(len(t_train), int), zeros(len(c_train), int)])
    x_te = np.concatenate([gen, c[c_test]])
    y_te = np.concatenate([ones(len(gen), int), zeros(len(c_test), int)])
    gan_test, clf_real = _svm_accuracy(x_tr, y_tr, x_te, y_te, nu)
    recall = float(np.mean(clf_real.predict(gen) == 1))

    # Reference: real -> held-out real.
    x_real_te = np.concatenate([t[t_test], c[c_test]])
    y_real_te = np.concatenate([ones(len(t_test), int), zeros(len(c_test), int)])
    real_vs_real = float(np.mean(clf_real.predict(x_real_te) == y_real_te))

    # GAN-train: generated (+ real comparison) -> held-out real.
    x_tr = np.concatenate([gen, c[c_train]])
    y_tr = np.concatenate([ones(len(gen), int), zeros(len(c_train), int)])
    gan_train, _ = _svm_accuracy(x_tr, y_tr, x_real_te, y_real_te, nu)

    return {
        "gan_test": gan_test,
        "gan_train": gan_train,
        "real_vs_real": real_vs_real,
        "gan_test_recall": recall,
        "n_generated": len(gen),
        "n_target_train": len(t_train),
        "n_target_test": len(t_test),
        "n_comp_train": len(c_train),
        "n_comp_test": len(c_test),
        "splits": {
            "target_train": t_train,
            "target_test": t_test,
            "comp_train": c_train,
            "comp_test": c_test,
        },
    }


def evaluate_checkpoints(
    checkpoints: list[Path],
    real_target: np.ndarray,
    real_comp: np.ndarray,
    groups_target: np.ndarray,
    groups_comp: np.ndarray,
    *,
    n_generated: int | None = None,
    seed: int = 0,
    out_dir: str | os.PathLike | None = None,
    comparison_name: str = "comparison",
) -> pd.DataFrame:
    """GAN-train/GAN-test per checkpoint folder; writes gan_eval.csv and gan_eval.md to out_dir.

    Each checkpoint's `training_groups` are kept out of the test sets. The same seed gives every
    checkpoint the same real splits. n_generated defaults to the number of real target spectra.
    A checkpoint that fails is recorded with its error and the rest go on.
    """
    from .sample import load_generator, sample

    rows = []
    for folder in checkpoints:
        try:
            g = load_generator(folder)
            cfg = g.spectype_config
            n = n_generated or len(real_target)
            res = gan_train_test(
                real_target,
                real_comp,
                sample(g, n, seed),
                groups_target,
                groups_comp,
                seed,
                exclude_groups=cfg.get("training_groups"),
            )
            res.pop("splits")
            rows.append(
                {
                    "checkpoint": Path(folder).name,
                    "iteration": cfg.get("iteration"),
                    **res,
                    "error": "",
                }
            )
        except Exception as e:  # batch work: record and go on
            rows.append({"checkpoint": Path(folder).name, "error": f"{type(e).__name__}: {e}"})
    df = pd.DataFrame(rows)
    if out_dir is not None:
        out_dir = Path(out_dir)
        with atomic_path(out_dir / "gan_eval.csv") as tmp:
            df.to_csv(tmp, index=False)
        shown = [
            c
            for c in (
                "checkpoint",
                "iteration",
                "gan_train",
                "gan_test",
                "gan_test_recall",
                "real_vs_real",
                "error",
            )
            if c in df
        ]
        title = f"# GAN-train / GAN-test (NuSVC rbf, target vs {comparison_name})\n\n"
        atomic_write_text(out_dir / "gan_eval.md", title + markdown_table(df[shown]) + "\n")
    return df
