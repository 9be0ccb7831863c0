"""The O-star recognition experiment of Yang et al. (2021) with held-out source stars
(docs/lcgan_experiment.md). `run_lcgan_protocol(out_dir, profile)`: simulate a pool pack of O/F/G/K
spectra (lcgan_data); per seed, split the *stars* of each class into train / test; train LCGAN and
SGAN on the train-split O simulations and score each checkpoint with GAN-train / GAN-test (O vs F,
test sets from held-out stars only); per arm write a pack with `datasets.augment.augment_pack` - (a)
nothing added, (b) LCGAN, (c) SGAN samples, (d) more simulations of train-split O stars, in train
only - train RAC-Net on it with `train.engine` and test on the held-out stars; (b)/(c) also at
every earlier checkpoint (Fig. 7). Arms and profiles: `protocols/lcgan.yaml`. Each step (pool,
GAN run, GAN evaluation, recogniser) is a `spectype.cache` folder keyed by its settings, so a
re-run resumes and a changed setting never reuses a stale result.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix

from ..atomic import atomic_write_text
from ..cache import step
from ..errors import ConfigError
from ..runtime import data_root as resolve_data_root
from ..runtime import resolve_device
from ..train.gan import list_checkpoints
from .lcgan_data import CLASSES, Pool, count_o_stars, simulate_pool, split_stars
from .protocols import load_protocol

GAN_OF_ARM = {"b_lcgan": "lcgan", "c_sgan": "sgan"}
PROTOCOL = "lcgan"  # experiments/protocols/lcgan.yaml: arms and profiles
STEPS = "steps"  # the step cache under the output folder (spectype.cache)
GAN_KEYS = ("iters", "batch_size", "checkpoint_every", "noise_dim")
POOL_KEYS = ("libraries", "n_profiles", "bin_pixels", "o_draws_per_star", "o_extra_draws_per_star",
             "other_per_class")


def resolve_profile(profile: str | dict, overrides: dict | None = None) -> dict:
    """One profile of lcgan.yaml as flat settings (the `study` block plus `recogniser`: RAC-Net
    widths/blocks, epochs, batch size, lr), with `overrides` merged in key by key."""
    profiles = load_protocol(PROTOCOL).profiles
    if not isinstance(profile, dict) and profile not in profiles:
        raise ConfigError(f"unknown lcgan profile {profile!r}; choose one of {', '.join(profiles)}")
    p = None if isinstance(profile, dict) else profiles[profile]
    base = copy.deepcopy(profile if p is None else {**p.study, "recogniser": {**p.model_kwargs.get("all", {}), **p.train}})

    def merge(d: dict, o: dict, where: str = "") -> dict:
        for k, v in o.items():
            if k not in d:
                raise ConfigError(f"unknown lcgan setting {where}{k!r}; valid: {', '.join(d)}")
            d[k] = merge(d[k], v, f"{where}{k}.") if isinstance(d[k], dict) and isinstance(v, dict) else v
        return d

    return merge(base, overrides or {})


def pool_step(out_dir: Path, cfg: dict, data_root, sources, profiles, dists, say) -> tuple[str, Pool, pd.DataFrame]:
    """(step key, the simulated pool pack, O source-star counts) of step 'pool'."""
    root = None if all(x is not None for x in (sources, profiles, dists)) else resolve_data_root(data_root)
    settings = {k: cfg[k] for k in POOL_KEYS} | {
        "data_root": str(root), "sources": None if sources is None else sorted(s.key for s in sources),
        "layout": "pack"}  # pool.h5 at RAC-Net's scale; folders of the old pool.npz are never reused

    def build(tmp: Path) -> None:
        from ..simulate import RealDistributions, load_noise_profiles_from, load_sources

        workers = min(2, os.cpu_count() or 1)
        srcs = sources or load_sources(tuple(cfg["libraries"]), root / "libraries", CLASSES, 1800.0, workers)
        atomic_write_text(tmp / "o_stars.csv", count_o_stars(srcs).to_csv(index=False))
        t0, pack = time.time(), simulate_pool(
            tmp / "pool.h5", srcs, profiles or load_noise_profiles_from(root / "lamost", cfg["n_profiles"], 0, workers),
            dists or RealDistributions.from_params_csv(root / "lamost" / "dr10_params.csv"),
            o_draws_per_star=cfg["o_draws_per_star"], o_extra_draws_per_star=cfg["o_extra_draws_per_star"],
            other_per_class=cfg["other_per_class"], seed=0, bin_pixels=cfg["bin_pixels"])
        say(f"pool: {len(pack)} spectra x {pack.n_pix} px in {time.time() - t0:.0f}s")

    folder = step(out_dir / STEPS, "pool", settings, build)
    return folder.name, Pool.read(folder / "pool.h5"), pd.read_csv(folder / "o_stars.csv", keep_default_na=False)


def gan_step(model: str, pool: Pool, pool_key: str, o_train: np.ndarray, cfg: dict, seed: int,
             out_dir: Path, device: str, progress: bool) -> Path:
    """The run folder of `model` trained on pool rows `o_train` (step 'gan_<model>'). The training
    stars are in the settings: a run on another split (whose generator could have seen today's
    test stars) is never reused."""
    from ..train.gan import GanConfig, train_gan

    g, groups = cfg["gan"], pool.pack.groups[o_train]
    settings = {"model": model, "gan": g, "seed": seed, "pool": pool_key, "n_rows": len(o_train),
                "training_groups": sorted({str(x) for x in groups})}

    def build(tmp: Path) -> None:  # train_gan L2-normalises: the pool's RAC-Net scale goes
        gcfg = GanConfig(model=model, out=str(tmp), seed=seed, class_name="O", class_names=list(CLASSES),
                         device=device, progress=progress, n_plot=3, **{k: g[k] for k in GAN_KEYS},
                         **{k: dict(v) for k, v in g[model].items()})
        train_gan(pool.flux[o_train], gcfg, groups=groups, wavelength=pool.pack.wavelength,
                  source="lcgan experiment pool")

    return step(out_dir / STEPS, f"gan_{model}", settings, build)


def gan_eval_step(run: Path, pool: Pool, cfg: dict, seed: int, out_dir: Path) -> pd.DataFrame:
    """GAN-train / GAN-test (O vs F) of every checkpoint of `run` (step 'gan_eval')."""
    from ..gan import evaluate_checkpoints

    settings = {"gan_run": str(run.relative_to(out_dir / STEPS)), "n_generated": cfg["gan_eval_n"],
                "seed": seed}

    def build(tmp: Path) -> None:
        o, f = (np.flatnonzero((pool.pack.labels == CLASSES.index(c)) & (pool.kind == "base")) for c in "OF")
        # Training groups (read from each checkpoint) stay on the SVM-train side: the test sets
        # hold only O stars the GAN never saw.
        df = evaluate_checkpoints(list_checkpoints(run), pool.flux[o], pool.flux[f], pool.pack.groups[o],
                                  pool.pack.groups[f], n_generated=cfg["gan_eval_n"], seed=seed,
                                  out_dir=tmp, comparison_name="F")
        if "error" in df and (errs := df["error"].fillna("").astype(str)).ne("").any():  # not cached: retried
            raise RuntimeError(f"GAN evaluation of {run}: {'; '.join(errs[errs.ne('')])}")

    return pd.read_csv(step(out_dir / STEPS, "gan_eval", settings, build) / "gan_eval.csv")


def arm_pack(arm: str, pool: Pool, split, cfg: dict, seed: int, ckpt: Path | None, out: Path) -> tuple[Path, int]:
    """(the arm's pack, O rows added): the pool with the seed's star split (held-out stars as val
    and test) plus, in train only, (n_per_class - train-split O simulations) O rows: none (a),
    GAN samples (b, c) or extra simulations of train-split O stars (d)."""
    from ..datasets.augment import augment_pack

    train, test = pool.rows(split.train_groups()), pool.rows(split.test_groups())
    n = 0 if arm == "a_replication" else max(cfg["n_per_class"] - len(pool.rows(split.train["O"], cls="O")), 0)
    rows, kw = np.zeros((0, pool.pack.n_pix), np.float32), {"source": "none", "kind": "none"}
    if n and arm == "d_simulator":
        extra = pool.rows(split.train["O"], "extra", "O")
        if len(extra) == 0:
            raise ConfigError("no extra O simulations in the pool; raise o_extra_draws_per_star")
        pick = np.random.default_rng(seed).choice(extra, size=n, replace=len(extra) < n)
        # Pool rows are at the pack's normalisation already; they keep their star as group.
        rows, kw = pool.flux[pick], {"source": "pool extra", "kind": "extra", "normalised": True,
                                     "groups": pool.pack.groups[pick]}
    elif n:
        from ..gan import load_generator, sample

        rows, kw = sample(load_generator(ckpt), n, seed=10_000 + seed), {"source": str(ckpt)}
    path = augment_pack(pool.pack, out, "O", rows, indices={"train": train, "val": test, "test": test}, **kw)
    return path, len(rows)


def recogniser_step(arm: str, name: str, ckpt: Path | None, pool: Pool, pool_key: str, split, cfg: dict,
                    seed: int, device: str, out_dir: Path) -> dict:
    """The result record of one (arm, seed) recogniser (step 'recogniser'), trained if new: RAC-Net
    trained by `train.engine` on the arm's pack, train replicated to n_per_class rows per class
    (`balance`). The held-out stars are the engine's val split, a monitor in metrics.csv only: the
    model tested is the LAST epoch's, never the best-on-val copy, so no test row picks the model."""
    import torch

    from ..datasets import Pack
    from ..evaluate.metrics import per_class_metrics, summary_metrics
    from ..train.config import TrainConfig
    from ..train.engine import split_indices, train

    r = cfg["recogniser"]
    settings = {k: cfg[k] for k in ("n_per_class", "recogniser", "test_fraction")} | {
        "pool": pool_key, "seed": seed, "arm": arm, "trainer": "train.engine",
        # The GAN run's step folder names its settings (and so its training stars).
        "checkpoint": None if ckpt is None else str(ckpt.relative_to(out_dir / STEPS))}

    def build(tmp: Path) -> None:
        t0 = time.time()
        with tempfile.TemporaryDirectory(prefix="lcgan_arm_") as work:
            pack, n_aug = arm_pack(arm, pool, split, cfg, seed, ckpt, Path(work) / "arm.h5")
            tcfg = TrainConfig(data=str(pack), model="racnet", model_kwargs={k: r[k] for k in ("widths", "blocks")},
                               seed=seed, device=device, balance=cfg["n_per_class"], preload=True,
                               # fp32 everywhere, as the paper's recogniser and the CPU runs: the
                               # engine's "auto" would autocast to bf16 on a GPU only, and the arms'
                               # few-point differences should not depend on the device.
                               amp="off",
                               out=str(Path(work) / "run"), **{k: r[k] for k in ("epochs", "batch_size", "lr")})
            model = train(tcfg, progress=False).model.eval()
            p = Pack(pack)  # training rows per class as the engine balanced them
            per_class = np.bincount(p.labels[split_indices(p, tcfg)["train"]], minlength=len(CLASSES))
            (tmp / "metrics.csv").write_bytes((Path(work) / "run" / "metrics.csv").read_bytes())
        test = pool.rows(split.test_groups())
        with torch.no_grad():
            x = torch.from_numpy(pool.flux[test]).to(next(model.parameters()).device)
            pred = np.concatenate([model(x[i : i + 512]).argmax(1).cpu().numpy() for i in range(0, len(x), 512)])
        y = pool.pack.labels[test]
        pc, sm = per_class_metrics(y, pred, CLASSES), summary_metrics(y, pred, CLASSES)
        res = {  # the record experiments.summary reads (as the runner writes), plus this study's
            "row": arm, "run": name, "seed": seed, "model": "racnet", "test_acc": sm["accuracy"],
            "macro_f1": sm["macro_f1"], "n_test": len(test), "train_seconds": time.time() - t0,
            "class_names": list(CLASSES), "per_class": pc.to_dict(orient="list"),
            "confusion": confusion_matrix(y, pred, labels=range(len(CLASSES))).tolist(),
            "balanced_accuracy": sm["macro_recall"], "O_recall": float(pc["recall"][0]),  # O is class 0
            "O_precision": float(pc["precision"][0]), "n_train": int(per_class.sum()),
            "n_train_per_class": per_class.tolist(), "n_augment": n_aug, "gan": GAN_OF_ARM.get(arm),
            "iteration": int(ckpt.name.split("_")[-1]) if ckpt else None}
        atomic_write_text(tmp / "result.json", json.dumps(res, indent=1))

    return json.loads((step(out_dir / STEPS, "recogniser", settings, build) / "result.json").read_text())


def run_lcgan_protocol(out_dir: str | os.PathLike, profile: str = "quick", seeds: int = 10,
                       data_root: str | os.PathLike | None = None, device: str = "auto",
                       progress: bool = True, *, overrides: dict | None = None, sources=None,
                       profiles=None, dists=None, command: str | None = None) -> dict:
    """Run (or resume) the whole experiment into `out_dir`; returns {'table', 'gan_eval', 'runs',
    'files', 'failures', 'seconds'}; seeds 0..seeds-1, each re-splits the stars. `overrides` (nested
    dict) changes profile settings; `sources` / `profiles` / `dists` replace the library stars,
    noise profiles and RV/SNR pools read from `data_root` (tests)."""
    import torch

    from .lcgan_report import write_outputs

    cfg, threads, t_start = resolve_profile(profile, overrides), torch.get_num_threads(), time.time()
    if seeds < 1:
        raise ConfigError("seeds must be >= 1")
    torch.set_num_threads(int(cfg["torch_threads"] or threads))
    out, dev, say = Path(out_dir), str(resolve_device(device)), print if progress else (lambda *a: None)
    results, gan_rows, failures, splits = [], [], [], []

    def attempt(what: str, seed: int, fn, *args):  # a failure is recorded; the other steps still run
        try:
            return fn(*args)
        except Exception as exc:
            failures.append({"arm": what, "seed": seed, "error": f"{type(exc).__name__}: {exc}"})
            say(f"seed {seed} {what}: failed {exc}")

    try:
        out.mkdir(parents=True, exist_ok=True)
        pool_key, pool, o_counts = pool_step(out, cfg, data_root, sources, profiles, dists, say)
        for seed in range(seeds):
            if (split := attempt("split", seed, split_stars, pool.pack, seed, cfg["test_fraction"])) is None:
                continue
            splits.append(split)
            atomic_write_text(out / "splits" / f"seed{seed}.json",
                              json.dumps({"train": split.train, "test": split.test}, indent=1))
            jobs: list[tuple[str, str, Path | None]] = [(a, a, None) for a in ("a_replication", "d_simulator")]
            for arm, model in GAN_OF_ARM.items():
                o_train = pool.rows(split.train["O"], cls="O")
                if (run := attempt(f"gan_{model}", seed, gan_step, model, pool, pool_key, o_train, cfg,
                                   seed, out, dev, progress)) is None:
                    continue
                ev = attempt(f"gan_eval_{model}", seed, gan_eval_step, run, pool, cfg, seed, out)
                gan_rows += [] if ev is None else [ev.assign(gan=model, seed=seed)]
                ckpts = list_checkpoints(run)
                sweep = seed < (seeds if cfg["sweep_seeds"] is None else cfg["sweep_seeds"])
                jobs += [(arm, arm, c) for c in ckpts[-1:]] + [(arm, f"sweep_{model}_{c.name}", c) for c in ckpts[:-1] if sweep]
            for arm, name, ckpt in jobs:
                res = attempt(name, seed, recogniser_step, arm, name, ckpt, pool, pool_key, split, cfg, seed, dev, out)
                if res is not None:
                    say(f"seed {seed} {name}: acc {res['test_acc']:.3f}  O recall {res['O_recall']:.3f}")
                    results.append(res)
        gan_eval = pd.concat(gan_rows, ignore_index=True) if gan_rows else pd.DataFrame()
        return write_outputs(out, cfg, profile if isinstance(profile, str) else "custom", seeds, results,
                             gan_eval, failures, splits, pool, o_counts, command, time.time() - t_start)
    finally:
        torch.set_num_threads(threads)
