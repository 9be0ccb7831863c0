"""`spectype benchmark accuracy`: the classifier and its peers on the same splits of real spectra."""

from __future__ import annotations

from pathlib import Path

import typer

from ..errors import SpectypeError
from . import _options as opt
from ._errors import fail

bench_app = typer.Typer(
    help="Measure accuracy on labelled real spectra.", no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@bench_app.command("accuracy")
def accuracy_cmd(
    inputs: list[Path] = typer.Argument(..., help="Labelled spectra: files, folders, or a catalogue "
                                        "(path [, index] [, label] columns; else the header type is the truth)."),
    out: Path = opt.output(help="Folder for predictions.parquet, summary.md, metrics.json and figures."),
    folds: int = typer.Option(5, "--folds", help="Cross-validation folds for the held-out split."),
    cross_release: bool = typer.Option(True, "--cross-release/--no-cross-release",
                                       help="Also train without each data release and test on it."),
    methods: str = typer.Option("logreg,pca_svm,hgb,template,mknet,ensemble", "--methods",
                                help="Comma-separated methods (logreg, pca_svm, hgb, template, mknet, mknet_conv, ensemble, "
                                "zoo:<model> for any registered classifier, e.g. zoo:cnn1d_coordatt)."),
    splits: str = typer.Option("", "--splits", help="Run only these splits (e.g. heldout/0,xrel/DR10 or xrel); "
                               "default all."),
    libraries: str = typer.Option("miles,stelib,boss", "--libraries",
                                  help="Library stars simulated into training ('' for none)."),
    native: str = typer.Option("miles,boss", "--native", help="Library spectra scored as unseen stars ('' for none)."),
    sim_per_source: int = typer.Option(3, "--sim-per-source", help="Simulations per library star."),
    epochs: int = typer.Option(30, "--epochs", help="MKNet training epochs per split."),
    zoo_epochs: int = typer.Option(10, "--zoo-epochs", help="Training epochs of each zoo:<model> method per split."),
    zoo_kwargs: str = typer.Option(
        "{}", "--zoo-kwargs",
        help="Builder overrides per zoo model, JSON, e.g. a fusion row at CPU size: "
             "'{\"mm_1d_2d\": {\"image_size\": 64, \"image_canvas\": 128, \"epsanet_layers\": [1, 1, 1, 1]}}'."),
    seed: int = typer.Option(0, "--seed"),
    data_root: Path | None = opt.data_root(),
    quiet: bool = opt.quiet(),
) -> None:
    """Held-out (grouped by star) and cross-release accuracy of MKNet and baselines fitted in the
    same run on the same rows, with per-class, per-subtype and per-SNR tables, subtype agreement
    and calibration. Minutes on 2 cores for the sklearn baselines; MKNet adds about a minute per
    epoch per split on 2 cores for ~4,000 training rows."""
    import logging

    from ..benchmark.accuracy import AccuracyConfig, run_accuracy
    from ..benchmark.zoo_method import ZooConfig
    from ..runtime import data_root as resolve_root
    from ..train.mknet import MKNetConfig

    split = lambda s: tuple(x for x in s.split(",") if x)  # noqa: E731
    try:
        root = resolve_root(data_root) if (split(libraries) or split(native) or "template" in methods) else None
        cfg = AccuracyConfig(folds=folds, cross_release=cross_release, methods=split(methods),
                             libraries=split(libraries), native=split(native), sim_per_source=sim_per_source,
                             seed=seed, splits=split(splits), mknet=MKNetConfig(epochs=epochs, seed=seed),
                             zoo=ZooConfig(epochs=zoo_epochs, seed=seed),
                             zoo_kwargs=opt.json_object("--zoo-kwargs", zoo_kwargs))
        if quiet:  # the progress messages are INFO logs (cli/_logging.py shows INFO otherwise)
            logging.getLogger("spectype").setLevel(logging.WARNING)
        run_accuracy(inputs, out, cfg, data_root=root, progress=not quiet, say=typer.echo)
    except SpectypeError as e:
        fail(e)
    typer.echo(f"wrote {out / 'summary.md'}")


@bench_app.command("report")
def report_cmd(
    runs: list[Path] = typer.Argument(..., help="Output folders of `spectype benchmark accuracy`."),
    out: Path = opt.output(help="Folder for the merged predictions.parquet, summary.md and figures."),
) -> None:
    """One report from several runs, e.g. held-out and cross-release splits run in parallel."""
    from ..benchmark.report import merge_runs

    try:
        merge_runs(runs, out)
    except SpectypeError as e:
        fail(e)
    typer.echo(f"wrote {out / 'summary.md'}")


@bench_app.command("train-release")
def train_release_cmd(
    inputs: list[Path] = typer.Argument(..., help="Labelled spectra: files, folders or a catalogue."),
    out: Path = opt.output(help="Model folder to write (model.safetensors + config.json)."),
    libraries: str = typer.Option("miles,stelib,boss", "--libraries", help="Library stars simulated into training."),
    sim_per_source: int = typer.Option(3, "--sim-per-source"),
    epochs: int = typer.Option(30, "--epochs"),
    seed: int = typer.Option(0, "--seed"),
    data_root: Path | None = opt.data_root(),
    quiet: bool = opt.quiet(),
) -> None:
    """Train the benchmark's MKNet recipe on every given spectrum and save a model folder
    (`make default-model` uses this for the shipped model)."""
    from ..benchmark.accuracy import AccuracyConfig
    from ..benchmark.release import train_release_model
    from ..runtime import data_root as resolve_root
    from ..train.mknet import MKNetConfig

    libs = tuple(x for x in libraries.split(",") if x)
    try:
        cfg = AccuracyConfig(libraries=libs, native=(), sim_per_source=sim_per_source, seed=seed,
                             mknet=MKNetConfig(epochs=epochs, seed=seed))
        train_release_model(inputs, out, cfg, data_root=resolve_root(data_root) if libs else None,
                            progress=not quiet, say=typer.echo)
    except SpectypeError as e:
        fail(e)
    typer.echo(f"wrote {out}")


def register(app: typer.Typer) -> None:
    """Adds the `benchmark` sub-app to the app."""
    app.add_typer(bench_app, name="benchmark")
