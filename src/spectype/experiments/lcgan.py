"""The O-star recognition experiment of Yang et al. (2021), done with held-out source stars.

`run_lcgan_protocol(out_dir, profile)` runs everything (docs/lcgan_experiment.md):

1. simulate a pool of LAMOST-like O/F/G/K spectra from library stars (lcgan_data);
2. per seed, split the *stars* of each class into train / test;
3. train LCGAN and SGAN on the train-split O simulations, score every checkpoint with
   GAN-train / GAN-test (O vs F, NuSVC; test sets from held-out stars only);
4. train RAC-Net on four arms - (a) replication only, (b) + LCGAN samples, (c) + SGAN samples,
   (d) + more simulations of the train-split O stars - and test on the held-out stars;
5. also train (b)/(c) on samples of every earlier checkpoint (accuracy vs iteration, Fig. 7).

Arms and profiles live in `protocols/lcgan.yaml`. Every step - the pool, each GAN run, each
GAN evaluation, each (arm, seed) recogniser - is a folder of the step cache (`spectype.cache`,
`OUT/steps/<step>/<hash of its settings>/`), so re-running the same call resumes and a changed
setting never reuses a stale result. Summary files are rewritten from all results at the end.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ..atomic import atomic_write_text
from ..cache import step
from ..datasets.split import balance_by_replication
from ..errors import ConfigError
from ..runtime import resolve_device
from ..train.gan import list_checkpoints
from .lcgan_data import CLASSES, SpectrumPool, count_o_stars, rows_of, simulate_pool, split_stars
from .lcgan_recognise import fit_recogniser, predict, recognition_metrics
from .lcgan_report import ARM_LABELS
from .protocols import load_protocol

log = logging.getLogger("spectype.experiments.lcgan")

ARMS = tuple(ARM_LABELS)  # a_replication, b_lcgan, c_sgan, d_simulator
GAN_OF_ARM = {"b_lcgan": "lcgan", "c_sgan": "sgan"}
PROTOCOL = "lcgan"  # experiments/protocols/lcgan.yaml: arms and profiles
STEPS = "steps"  # the step cache under the output folder (spectype.cache)


def profile_settings(profile: str) -> dict:
    """One profile of lcgan.yaml as the flat settings dict the steps read: the `study` block
    plus `recogniser` (RAC-Net widths/blocks and the epochs, batch size and lr it trains with)."""
    proto = load_protocol(PROTOCOL)
    if profile not in proto.profiles:
        raise ConfigError(f"unknown lcgan profile {profile!r}; choose one of {', '.join(proto.profiles)}")
    prof = proto.profiles[profile]
    return {**copy.deepcopy(prof.study), "recogniser": {**prof.model_kwargs.get("all", {}), **prof.train}}


def resolve_profile(profile: str | dict, overrides: dict | None = None) -> dict:
    """The profile's settings with `overrides` merged in (nested dicts merge key by key)."""
    base = copy.deepcopy(profile) if isinstance(profile, dict) else profile_settings(profile)

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


# ----------------------------------------------------------------------------------------- data
POOL_KEYS = (
    "libraries", "n_profiles", "bin_pixels", "o_draws_per_star", "o_extra_draws_per_star",
    "other_per_class",
)


def pool_step(out_dir: Path, cfg: dict, data_root, sources=None, profiles=None, dists=None,
              say=print) -> tuple[Path, SpectrumPool, pd.DataFrame]:
    """The simulated pool (step 'pool': pool.npz, o_stars.csv) and the O source-star counts."""
    from ..runtime import data_root as resolve_data_root

    root = None if sources is not None and profiles is not None and dists is not None else (
        resolve_data_root(data_root))
    given = None if sources is None else sorted(s.key for s in sources)
    settings = {k: cfg[k] for k in POOL_KEYS} | {"data_root": str(root), "sources": given}

    def build(tmp: Path) -> None:
        from ..simulate import RealDistributions, load_noise_profiles_from, load_sources

        workers = min(2, os.cpu_count() or 1)
        srcs = sources
        if srcs is None:
            say(f"pool: reading O/F/G/K stars from {root / 'libraries'} ({', '.join(cfg['libraries'])})")
            srcs = load_sources(tuple(cfg["libraries"]), root / "libraries", CLASSES, 1800.0, workers)
        counts = count_o_stars(root if sources is None else None, srcs)
        profs = profiles or load_noise_profiles_from(root / "lamost", cfg["n_profiles"], 0, workers)
        ds = dists or RealDistributions.from_params_csv(root / "lamost" / "dr10_params.csv")
        t0 = time.time()
        pool = simulate_pool(
            srcs, profs, ds, o_draws_per_star=cfg["o_draws_per_star"],
            o_extra_draws_per_star=cfg["o_extra_draws_per_star"],
            other_per_class=cfg["other_per_class"], seed=0, bin_pixels=cfg["bin_pixels"],
        )
        say(f"pool: {len(pool.flux)} spectra x {pool.flux.shape[1]} px in {time.time() - t0:.0f}s")
        pool.save(tmp / "pool.npz")
        atomic_write_text(tmp / "o_stars.csv", counts.to_csv(index=False))

    folder = step(out_dir / STEPS, "pool", settings, build)
    counts = pd.read_csv(folder / "o_stars.csv", keep_default_na=False)
    return folder, SpectrumPool.load(folder / "pool.npz"), counts


# ------------------------------------------------------------------------------------------ GANs
def gan_step(model: str, pool: SpectrumPool, pool_key: str, o_train: np.ndarray, cfg: dict,
             seed: int, out_dir: Path, device: str, progress: bool) -> Path:
    """The run folder of `model` trained on pool rows `o_train` (step 'gan_<model>').

    The training stars are part of the settings: a run made on another split (say after a
    change of libraries) is never reused, since its generator could have seen today's test stars.
    """
    from ..train.gan import GanConfig, train_gan

    g = cfg["gan"]
    settings = {
        "model": model, "gan": g, "seed": seed, "pool": pool_key, "n_rows": len(o_train),
        "training_groups": sorted({str(x) for x in pool.group[o_train]}),
    }

    def build(tmp: Path) -> None:
        gcfg = GanConfig(
            model=model, out=str(tmp), iters=g["iters"], batch_size=g["batch_size"],
            checkpoint_every=g["checkpoint_every"], seed=seed, noise_dim=g["noise_dim"],
            generator_kwargs=dict(g[model]["generator_kwargs"]),
            discriminator_kwargs=dict(g[model]["discriminator_kwargs"]),
            class_name="O", class_names=list(CLASSES), device=device, progress=progress, n_plot=3,
        )
        train_gan(pool.flux[o_train], gcfg, groups=pool.group[o_train],
                  wavelength=pool.wavelength, source="lcgan experiment pool")

    return step(out_dir / STEPS, f"gan_{model}", settings, build)


def gan_eval_step(run: Path, pool: SpectrumPool, cfg: dict, seed: int, out_dir: Path) -> pd.DataFrame:
    """GAN-train / GAN-test (O vs F) of every checkpoint of `run` (step 'gan_eval')."""
    from ..gan import evaluate_checkpoints

    ckpts = list_checkpoints(run)
    settings = {"gan_run": str(run.relative_to(out_dir / STEPS)), "n_generated": cfg["gan_eval_n"],
                "seed": seed}

    def build(tmp: Path) -> None:
        o = np.flatnonzero((pool.label == CLASSES.index("O")) & (pool.kind == "base"))
        f = np.flatnonzero((pool.label == CLASSES.index("F")) & (pool.kind == "base"))
        # Training groups (read from each checkpoint) stay on the SVM-train side: the test sets
        # hold only O stars the GAN never saw.
        df = evaluate_checkpoints(
            ckpts, pool.flux[o], pool.flux[f], pool.group[o], pool.group[f],
            n_generated=cfg["gan_eval_n"], seed=seed, out_dir=tmp, comparison_name="F",
        )
        errs = df["error"].fillna("").astype(str) if "error" in df else pd.Series(dtype=str)
        if errs.ne("").any():  # not cached: the next call tries again
            raise RuntimeError(f"GAN evaluation of {run}: {'; '.join(errs[errs.ne('')])}")

    return pd.read_csv(step(out_dir / STEPS, "gan_eval", settings, build) / "gan_eval.csv")


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
    arm: str, pool: SpectrumPool, split, cfg: dict, seed: int, device: str, ckpt: Path | None = None,
    history_csv: Path | None = None,
) -> dict:
    """Train and test one recogniser; returns the result record (metrics + what it trained on)."""
    t0 = time.time()
    aug = augmentation(arm, pool, split, cfg, seed, ckpt)
    x, y = _training_set(pool, split, cfg, aug, seed)
    r = cfg["recogniser"]
    test = rows_of(pool, split.test_groups(), "base")
    model = fit_recogniser(
        x, y, pool.flux[test], pool.label[test], CLASSES, seed=seed, epochs=r["epochs"],
        batch_size=r["batch_size"], lr=r["lr"], widths=r["widths"], blocks=r["blocks"],
        wavelength=pool.wavelength, device=device, history_csv=history_csv,
    )
    res = recognition_metrics(pool.label[test], predict(model, pool.flux[test]), CLASSES, "O")
    return {
        **res,
        "n_train": int(len(y)),
        "n_train_per_class": np.bincount(y, minlength=len(CLASSES)).tolist(),
        "n_augment": 0 if aug is None else int(len(aug)),
        "checkpoint": None if ckpt is None else ckpt.name,
        "seconds": time.time() - t0,
    }


def recogniser_step(arm: str, name: str, ckpt: Path | None, pool: SpectrumPool, pool_key: str,
                    split, cfg: dict, seed: int, device: str, out_dir: Path) -> dict:
    """The result record of one (arm, seed) recogniser (step 'recogniser'), trained if new."""
    settings = {k: cfg[k] for k in ("n_per_class", "recogniser", "test_fraction")} | {
        "pool": pool_key, "seed": seed, "arm": arm, "trainer": "train.engine",
        # The GAN run's step folder names its settings (and so its training stars).
        "checkpoint": None if ckpt is None else str(ckpt.relative_to(out_dir / STEPS)),
    }

    def build(tmp: Path) -> None:
        res = run_arm(arm, pool, split, cfg, seed, device, ckpt, tmp / "metrics.csv") | {
            "arm": arm, "run": name, "seed": seed, "gan": GAN_OF_ARM.get(arm),
            "iteration": int(ckpt.name.split("_")[-1]) if ckpt else None,
        }
        atomic_write_text(tmp / "result.json", json.dumps(res, indent=1))

    folder = step(out_dir / STEPS, "recogniser", settings, build)
    return json.loads((folder / "result.json").read_text())


# ----------------------------------------------------------------------------------- the protocol
def run_lcgan_protocol(out_dir: str | os.PathLike, profile: str = "quick", seeds: int = 10,
                       data_root: str | os.PathLike | None = None, device: str = "auto",
                       progress: bool = True, *, overrides: dict | None = None, sources=None,
                       profiles=None, dists=None, command: str | None = None) -> dict:
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
        return _run(out_dir, cfg, profile, seeds, data_root, device, progress, sources, profiles,
                    dists, command)
    finally:
        torch.set_num_threads(threads)


def _run(out_dir, cfg: dict, profile, seeds: int, data_root, device: str, progress: bool,
         sources, profiles, dists, command) -> dict:
    from .lcgan_report import write_outputs

    t_start = time.time()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    dev = str(resolve_device(device))
    say = print if progress else (lambda *a, **k: None)
    pool_dir, pool, o_counts = pool_step(out, cfg, data_root, sources, profiles, dists, say)
    pool_key = pool_dir.name

    results: list[dict] = []
    gan_rows: list[pd.DataFrame] = []
    failures: list[dict] = []
    splits: list = []
    sweep_n = cfg["sweep_seeds"] if cfg["sweep_seeds"] is not None else seeds

    def failed(arm: str, seed: int, exc: Exception) -> None:
        failures.append({"arm": arm, "seed": seed, "error": f"{type(exc).__name__}: {exc}"})
        say(f"seed {seed} {arm}: failed {exc}")

    for seed in range(seeds):
        try:
            split = split_stars(pool, seed, cfg["test_fraction"])
        except ConfigError as exc:
            failures.append({"arm": "split", "seed": seed, "error": str(exc)})
            continue
        splits.append(split)
        atomic_write_text(out / "splits" / f"seed{seed}.json",
                          json.dumps({"train": split.train, "test": split.test}, indent=1))
        o_train = rows_of(pool, split.train["O"], "base", "O")
        ckpts: dict[str, list[Path]] = {}
        for model in ("lcgan", "sgan"):
            try:
                run = gan_step(model, pool, pool_key, o_train, cfg, seed, out, dev, progress)
                ckpts[model] = list_checkpoints(run)
            except Exception as exc:  # record and go on: the other arms still run
                failed(f"gan_{model}", seed, exc)
                continue
            try:
                gan_rows.append(gan_eval_step(run, pool, cfg, seed, out).assign(gan=model, seed=seed))
            except Exception as exc:
                failed(f"gan_eval_{model}", seed, exc)

        jobs: list[tuple[str, str, Path | None]] = [(a, a, None) for a in ("a_replication", "d_simulator")]
        for arm, model in GAN_OF_ARM.items():
            if model not in ckpts:
                continue
            jobs.append((arm, arm, ckpts[model][-1]))
            if seed < sweep_n:
                jobs += [(arm, f"sweep_{model}_{c.name}", c) for c in ckpts[model][:-1]]
        for arm, name, ckpt in jobs:
            try:
                res = recogniser_step(arm, name, ckpt, pool, pool_key, split, cfg, seed, dev, out)
            except Exception as exc:
                failed(name, seed, exc)
                continue
            say(f"seed {seed} {name}: acc {res['accuracy']:.3f}  O recall {res['O_recall']:.3f}")
            results.append(res)

    gan_eval = pd.concat(gan_rows, ignore_index=True) if gan_rows else pd.DataFrame()
    summary = write_outputs(out, cfg, profile if isinstance(profile, str) else "custom", seeds,
                            results, gan_eval, failures, splits, pool, o_counts, command,
                            time.time() - t_start)
    say(f"table: {summary['files']['table_md']}")
    return summary
