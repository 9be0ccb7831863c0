"""The O-star recognition experiment of Yang et al. (2021), done with held-out source stars.

`run_lcgan_protocol(out_dir, profile)` runs everything (docs/lcgan_experiment.md):

1. simulate a pool of LAMOST-like O/F/G/K spectra from library stars (lcgan_data);
2. per seed, split the *stars* of each class into train / test;
3. train LCGAN and SGAN on the train-split O simulations, score every checkpoint with
   GAN-train / GAN-test (O vs F, NuSVC; test sets from held-out stars only);
4. train RAC-Net on four arms - (a) replication only, (b) + LCGAN samples, (c) + SGAN samples,
   (d) + more simulations of the train-split O stars - and test on the held-out stars;
5. also train (b)/(c) on samples of every earlier checkpoint (accuracy vs iteration, Fig. 7).

Every (arm, seed) writes `runs/<arm>/seed<k>/result.json` atomically and is skipped when it
exists with the same settings, so re-running the same call resumes. GAN runs resume the same way
(a finished run folder is reused). Summary files are rewritten from all results at the end.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ..atomic import atomic_write_text
from ..datasets.split import balance_by_replication
from ..errors import ConfigError
from .lcgan_data import CLASSES, SpectrumPool, count_o_stars, rows_of, simulate_pool, split_stars
from .lcgan_recognise import fit_recogniser, predict, recognition_metrics
from .lcgan_report import ARM_LABELS

log = logging.getLogger("spectype.experiments.lcgan")

ARMS = tuple(ARM_LABELS)  # a_replication, b_lcgan, c_sgan, d_simulator
GAN_OF_ARM = {"b_lcgan": "lcgan", "c_sgan": "sgan"}

# Sizes per profile. `n_per_class` is the training size of every class in every arm: F/G/K are
# topped up by replication; O holds the train-split simulations plus (n_per_class - that many)
# augmentation rows (replicas, GAN samples or extra simulations), so only the O content differs.
PROFILES: dict[str, dict] = {
    "quick": {
        "libraries": ["stelib", "boss"],
        "n_profiles": 40,
        "bin_pixels": 4,  # 3700 -> 925 px: the CPU profile trades resolution for speed
        "o_draws_per_star": 20,  # ~7 train stars x 20 ~ the paper's 150 real O training spectra
        "o_extra_draws_per_star": 60,
        "other_per_class": 500,
        "test_fraction": 0.3,
        "n_per_class": 250,
        "gan": {
            "iters": 300,
            "checkpoint_every": 150,
            "batch_size": 32,
            "noise_dim": 100,
            "lcgan": {
                "generator_kwargs": {"channels": [8, 4]},
                "discriminator_kwargs": {"channels": [8, 16, 32]},
            },
            "sgan": {
                "generator_kwargs": {"hidden": [64, 128]},
                "discriminator_kwargs": {"hidden": [128, 64]},
            },
        },
        "gan_eval_n": 200,
        "recogniser": {
            "widths": [4, 8, 16, 32],
            "blocks": [1, 1, 1, 1],
            "epochs": 5,
            "batch_size": 64,
            "lr": 2e-3,
        },
        "sweep_seeds": None,  # None: every seed trains a recogniser at every checkpoint
        # On a shared 2-core CPU, one intra-op thread is several times faster than two.
        "torch_threads": 1,
    },
    "paper": {
        "libraries": ["stelib", "boss"],
        "n_profiles": 200,
        "bin_pixels": 1,
        "o_draws_per_star": 20,
        "o_extra_draws_per_star": 2000,  # enough for ~10,000 extra O simulations from ~7 train stars
        "other_per_class": 14500,  # ~70% in train -> ~10,000 per class without replication
        "test_fraction": 0.3,
        "n_per_class": 10000,  # ~9,860 generated O spectra + the train-split simulations
        "gan": {
            "iters": 3000,
            "checkpoint_every": 250,
            "batch_size": 64,
            "noise_dim": 900,
            "lcgan": {"generator_kwargs": {}, "discriminator_kwargs": {}},
            "sgan": {"generator_kwargs": {}, "discriminator_kwargs": {}},
        },
        "gan_eval_n": 1000,
        "recogniser": {
            "widths": [16, 32, 64, 128],
            "blocks": [2, 2, 2, 2],
            "epochs": 30,
            "batch_size": 256,
            "lr": 1e-3,
        },
        "sweep_seeds": 3,  # the Fig. 7 sweep on the first 3 seeds only (GPU time)
        "torch_threads": None,  # None: leave torch's default
    },
}


def resolve_profile(profile: str | dict, overrides: dict | None = None) -> dict:
    """The profile's settings with `overrides` merged in (nested dicts merge key by key)."""
    if isinstance(profile, dict):
        base = copy.deepcopy(profile)
    elif profile in PROFILES:
        base = copy.deepcopy(PROFILES[profile])
    else:
        raise ConfigError(f"unknown lcgan profile {profile!r}; choose one of {', '.join(PROFILES)}")

    def merge(d: dict, o: dict, where: str) -> None:
        for k, v in o.items():
            if k not in d:
                raise ConfigError(f"unknown lcgan setting {where}{k!r}; valid: {', '.join(d)}")
            if isinstance(d[k], dict) and isinstance(v, dict):
                merge(d[k], v, f"{where}{k}.")
            else:
                d[k] = v

    merge(base, overrides or {}, "")
    return base


def _device(device: str) -> str:
    if device == "auto":
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


# ----------------------------------------------------------------------------------------- data
def _pool_settings(cfg: dict) -> dict:
    keys = (
        "libraries",
        "n_profiles",
        "bin_pixels",
        "o_draws_per_star",
        "o_extra_draws_per_star",
        "other_per_class",
    )
    return {k: cfg[k] for k in keys}


def load_or_simulate_pool(
    out_dir: Path, cfg: dict, data_root, sources=None, profiles=None, dists=None, say=print
) -> tuple[SpectrumPool, pd.DataFrame]:
    """The pool (cached as data/pool.npz with its settings) and the O source-star counts."""
    data_dir = out_dir / "data"
    settings = _pool_settings(cfg)
    pool_path, meta_path, counts_path = (
        data_dir / "pool.npz",
        data_dir / "pool.json",
        data_dir / "o_stars.csv",
    )
    if pool_path.is_file() and meta_path.is_file() and counts_path.is_file():
        if json.loads(meta_path.read_text()) == settings:
            say(f"pool: reusing {pool_path}")
            return SpectrumPool.load(pool_path), pd.read_csv(counts_path, keep_default_na=False)
    from ..runtime import data_root as resolve_data_root
    from ..simulate import (
        RealDistributions,
        load_noise_profiles_from,
        load_sources,
    )

    root = resolve_data_root(data_root)
    workers = min(2, os.cpu_count() or 1)
    if sources is None:
        say(
            f"pool: reading O/F/G/K source stars from {root / 'libraries'} ({', '.join(cfg['libraries'])})"
        )
        sources = load_sources(
            tuple(cfg["libraries"]), root / "libraries", CLASSES, 1800.0, workers
        )
        counts = count_o_stars(root, sources)
    else:
        counts = count_o_stars(None, sources)
    if profiles is None:
        profiles = load_noise_profiles_from(root / "lamost", cfg["n_profiles"], 0, workers)
    if dists is None:
        dists = RealDistributions.from_params_csv(root / "lamost" / "dr10_params.csv")
    t0 = time.time()
    pool = simulate_pool(
        sources,
        profiles,
        dists,
        o_draws_per_star=cfg["o_draws_per_star"],
        o_extra_draws_per_star=cfg["o_extra_draws_per_star"],
        other_per_class=cfg["other_per_class"],
        seed=0,
        bin_pixels=cfg["bin_pixels"],
    )
    say(
        f"pool: {len(pool.flux)} spectra x {pool.flux.shape[1]} px simulated in {time.time() - t0:.0f}s"
    )
    data_dir.mkdir(parents=True, exist_ok=True)
    pool.save(pool_path)
    atomic_write_text(counts_path, counts.to_csv(index=False))
    atomic_write_text(meta_path, json.dumps(settings, sort_keys=True))
    return pool, counts


# ------------------------------------------------------------------------------------------ GANs
def train_or_reuse_gan(
    model: str,
    pool: SpectrumPool,
    o_train: np.ndarray,
    cfg: dict,
    seed: int,
    run_dir: Path,
    device: str,
    progress: bool,
) -> list[Path]:
    """Checkpoint folders of `model` trained on pool rows `o_train` (reused when complete).

    A run is reused or resumed only if it was made with the same GAN settings on the same
    training stars; otherwise it is deleted first. (Changing, say, the libraries changes the
    star split, and a stale generator could then have seen stars that are now test stars.)
    """
    from ..gan import GanConfig, list_checkpoints, train_gan

    g = cfg["gan"]
    settings = json.loads(json.dumps({
        "model": model, "gan": g, "seed": seed, "n_rows": len(o_train),
        "training_groups": sorted({str(x) for x in pool.group[o_train]}),
    }))
    marker = run_dir / "settings.json"
    if run_dir.exists() and (not marker.is_file() or json.loads(marker.read_text()) != settings):
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(marker, json.dumps(settings, indent=1))
    ckpts = list_checkpoints(run_dir)
    if ckpts and ckpts[-1].name == f"iter_{g['iters']:06d}":
        return ckpts
    gcfg = GanConfig(
        model=model,
        out=str(run_dir),
        iters=g["iters"],
        batch_size=g["batch_size"],
        checkpoint_every=g["checkpoint_every"],
        seed=seed,
        noise_dim=g["noise_dim"],
        generator_kwargs=dict(g[model]["generator_kwargs"]),
        discriminator_kwargs=dict(g[model]["discriminator_kwargs"]),
        class_name="O",
        class_names=list(CLASSES),
        device=device,
        progress=progress,
        n_plot=3,
    )
    return train_gan(
        pool.flux[o_train],
        gcfg,
        groups=pool.group[o_train],
        wavelength=pool.wavelength,
        source="lcgan experiment pool",
    ).checkpoints


def evaluate_gan(
    ckpts: list[Path], pool: SpectrumPool, cfg: dict, seed: int, run_dir: Path
) -> pd.DataFrame:
    """GAN-train / GAN-test (O vs F) per checkpoint; cached in run_dir/gan_eval.csv."""
    from ..gan import evaluate_checkpoints

    path = run_dir / "gan_eval.csv"
    marker = run_dir / "gan_eval_settings.json"
    settings = {"n_generated": cfg["gan_eval_n"], "seed": seed, "checkpoints": [c.name for c in ckpts]}
    if path.is_file() and marker.is_file() and json.loads(marker.read_text()) == settings:
        df = pd.read_csv(path)
        errs = df["error"] if "error" in df else pd.Series(dtype=object)
        if len(df) == len(ckpts) and (errs.isna() | errs.astype(str).eq("")).all():
            return df
    o = np.flatnonzero((pool.label == CLASSES.index("O")) & (pool.kind == "base"))
    f = np.flatnonzero((pool.label == CLASSES.index("F")) & (pool.kind == "base"))
    # Training groups (read from each checkpoint) stay on the SVM-train side: the test sets hold
    # only O stars the GAN never saw.
    df = evaluate_checkpoints(
        ckpts,
        pool.flux[o],
        pool.flux[f],
        pool.group[o],
        pool.group[f],
        n_generated=cfg["gan_eval_n"],
        seed=seed,
        out_dir=run_dir,
        comparison_name="F",
    )
    atomic_write_text(marker, json.dumps(settings))
    return df


# ------------------------------------------------------------------------------------ recogniser
def _training_set(pool: SpectrumPool, split, cfg: dict, augment: np.ndarray | None, seed: int):
    """(x, y) of one arm: train-split stars of every class, O plus `augment` rows, balanced."""
    xs, ys = [], []
    for i, cls in enumerate(CLASSES):
        rows = rows_of(pool, split.train[cls], "base", cls)
        xs.append(pool.flux[rows])
        ys.append(np.full(len(rows), i))
    if augment is not None and len(augment):
        xs.append(np.asarray(augment, np.float32))
        ys.append(np.zeros(len(augment), np.int64))
    x, y = np.concatenate(xs), np.concatenate(ys).astype(np.int64)
    idx = balance_by_replication(np.arange(len(x)), y, cfg["n_per_class"], seed)
    return x[idx], y[idx]


def n_augment(pool: SpectrumPool, split, cfg: dict) -> int:
    """O augmentation rows for this split: n_per_class minus the train-split O simulations."""
    return max(cfg["n_per_class"] - len(rows_of(pool, split.train["O"], "base", "O")), 0)


def augmentation(
    arm: str, pool: SpectrumPool, split, cfg: dict, seed: int, ckpt: Path | None
) -> np.ndarray | None:
    """The O rows an arm adds: None (replication), GAN samples, or extra simulations."""
    n = n_augment(pool, split, cfg)
    if arm == "a_replication" or n == 0:
        return None
    if arm == "d_simulator":
        extra = rows_of(pool, split.train["O"], "extra", "O")
        if len(extra) == 0:
            raise ConfigError("no extra O simulations in the pool; raise o_extra_draws_per_star")
        rng = np.random.default_rng(seed)
        pick = rng.choice(extra, size=n, replace=len(extra) < n)
        return pool.flux[pick]
    from ..gan import load_generator, sample

    return sample(load_generator(ckpt), n, seed=10_000 + seed)


def run_arm(
    arm: str, pool: SpectrumPool, split, cfg: dict, seed: int, device: str, ckpt: Path | None = None
) -> dict:
    """Train and test one recogniser; returns the result record (metrics + what it trained on)."""
    t0 = time.time()
    aug = augmentation(arm, pool, split, cfg, seed, ckpt)
    x, y = _training_set(pool, split, cfg, aug, seed)
    r = cfg["recogniser"]
    model = fit_recogniser(
        x,
        y,
        len(CLASSES),
        seed=seed,
        epochs=r["epochs"],
        batch_size=r["batch_size"],
        lr=r["lr"],
        widths=r["widths"],
        blocks=r["blocks"],
        device=device,
    )
    test = rows_of(pool, split.test_groups(), "base")
    res = recognition_metrics(pool.label[test], predict(model, pool.flux[test]), CLASSES, "O")
    return {
        **res,
        "n_train": int(len(y)),
        "n_train_per_class": np.bincount(y, minlength=len(CLASSES)).tolist(),
        "n_augment": 0 if aug is None else int(len(aug)),
        "checkpoint": None if ckpt is None else ckpt.name,
        "seconds": time.time() - t0,
    }


def _load_result(path: Path, settings: dict) -> dict | None:
    if not path.is_file():
        return None
    try:
        res = json.loads(path.read_text())
    except ValueError:
        return None
    return res if res.get("settings") == settings else None


# ----------------------------------------------------------------------------------- the protocol
def run_lcgan_protocol(
    out_dir: str | os.PathLike,
    profile: str = "quick",
    seeds: int = 10,
    data_root: str | os.PathLike | None = None,
    device: str = "auto",
    progress: bool = True,
    *,
    overrides: dict | None = None,
    sources=None,
    profiles=None,
    dists=None,
    command: str | None = None,
) -> dict:
    """Run (or resume) the whole experiment into `out_dir`; returns {'table', 'gan_eval', 'runs',
    'files', 'failures', 'seconds'}. `seeds` N runs seeds 0..N-1 (each re-splits the stars).

    `overrides` (nested dict) changes profile settings; `sources` / `profiles` / `dists` replace
    the library stars, noise profiles and RV/SNR pools read from `data_root` (tests).
    """
    import torch

    cfg = resolve_profile(profile, overrides)
    if seeds < 1:
        raise ConfigError("seeds must be >= 1")
    threads = torch.get_num_threads()
    if cfg["torch_threads"]:
        torch.set_num_threads(int(cfg["torch_threads"]))
    try:
        return _run(
            out_dir,
            cfg,
            profile,
            seeds,
            data_root,
            device,
            progress,
            sources,
            profiles,
            dists,
            command,
        )
    finally:
        torch.set_num_threads(threads)


def _run(
    out_dir,
    cfg: dict,
    profile,
    seeds: int,
    data_root,
    device: str,
    progress: bool,
    sources,
    profiles,
    dists,
    command,
) -> dict:
    from .lcgan_report import write_outputs

    t_start = time.time()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    dev = _device(device)
    say = print if progress else (lambda *a, **k: None)
    pool, o_counts = load_or_simulate_pool(out, cfg, data_root, sources, profiles, dists, say)

    results: list[dict] = []
    gan_rows: list[pd.DataFrame] = []
    failures: list[dict] = []
    splits: list = []
    sweep_n = cfg["sweep_seeds"] if cfg["sweep_seeds"] is not None else seeds
    rec_settings = {k: cfg[k] for k in ("n_per_class", "recogniser", "test_fraction", "gan")} | {
        "pool": _pool_settings(cfg)
    }

    for seed in range(seeds):
        try:
            split = split_stars(pool, seed, cfg["test_fraction"])
        except ConfigError as exc:
            failures.append({"arm": "split", "seed": seed, "error": str(exc)})
            continue
        splits.append(split)
        atomic_write_text(
            out / "splits" / f"seed{seed}.json",
            json.dumps({"train": split.train, "test": split.test}, indent=1),
        )
        o_train = rows_of(pool, split.train["O"], "base", "O")
        ckpts: dict[str, list[Path]] = {}
        for model in ("lcgan", "sgan"):
            run_dir = out / "gan" / model / f"seed{seed}"
            try:
                ckpts[model] = train_or_reuse_gan(
                    model, pool, o_train, cfg, seed, run_dir, dev, progress
                )
                ge = evaluate_gan(ckpts[model], pool, cfg, seed, run_dir)
                gan_rows.append(ge.assign(gan=model, seed=seed))
            except Exception as exc:  # record and go on: the other arms still run
                failures.append(
                    {"arm": f"gan_{model}", "seed": seed, "error": f"{type(exc).__name__}: {exc}"}
                )
                say(f"seed {seed} {model}: failed {exc}")

        jobs: list[tuple[str, str, Path | None]] = [
            ("a_replication", "a_replication", None),
            ("d_simulator", "d_simulator", None),
        ]
        for arm, model in GAN_OF_ARM.items():
            if model not in ckpts:
                continue
            jobs.append((arm, arm, ckpts[model][-1]))
            if seed < sweep_n:
                jobs += [(arm, f"sweep_{model}_{c.name}", c) for c in ckpts[model][:-1]]
        for arm, name, ckpt in jobs:
            path = out / "runs" / name / f"seed{seed}" / "result.json"
            settings = rec_settings | {
                "arm": arm,
                "checkpoint": None if ckpt is None else ckpt.name,
            }
            res = _load_result(path, settings)
            if res is None:
                try:
                    res = run_arm(arm, pool, split, cfg, seed, dev, ckpt)
                except Exception as exc:
                    failures.append(
                        {"arm": name, "seed": seed, "error": f"{type(exc).__name__}: {exc}"}
                    )
                    say(f"seed {seed} {name}: failed {exc}")
                    continue
                res |= {
                    "arm": arm,
                    "run": name,
                    "seed": seed,
                    "settings": settings,
                    "iteration": int(ckpt.name.split("_")[-1]) if ckpt else None,
                    "gan": GAN_OF_ARM.get(arm),
                }
                atomic_write_text(path, json.dumps(res, indent=1))
            say(f"seed {seed} {name}: acc {res['accuracy']:.3f}  O recall {res['O_recall']:.3f}")
            results.append(res)

    gan_eval = pd.concat(gan_rows, ignore_index=True) if gan_rows else pd.DataFrame()
    summary = write_outputs(
        out,
        cfg,
        profile if isinstance(profile, str) else "custom",
        seeds,
        results,
        gan_eval,
        failures,
        splits,
        pool,
        o_counts,
        command,
        time.time() - t_start,
    )
    say(f"table: {summary['files']['table_md']}")
    return summary
