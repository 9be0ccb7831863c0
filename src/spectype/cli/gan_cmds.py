"""`spectype gan ...`: train a GAN on one class, sample from a checkpoint, GAN-train/GAN-test."""

from __future__ import annotations

from pathlib import Path

import typer

from ..errors import SpectypeError
from . import _options as opt
from ._errors import fail

gan_app = typer.Typer(
    help="GAN augmentation of rare classes (LCGAN, SGAN baseline).", no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@gan_app.command("train")
def train_cmd(
    class_name: str = typer.Option(..., "--class", help="Class to learn, e.g. O."),
    data: Path = typer.Option(..., "--data", help="Packed dataset (HDF5)."),
    out: Path = opt.output(help="Run folder (checkpoints/, losses.csv)."),
    model: str = typer.Option("lcgan", "--model", help="lcgan or sgan."),
    iters: int = typer.Option(2000, "--iters", help="Iterations (one D step + one G step each)."),
    checkpoint_every: int = typer.Option(500, "--checkpoint-every"),
    batch_size: int = typer.Option(64, "--batch-size"),
    split: str | None = typer.Option(
        "train", "--split", help="Pack split to train on; 'all' for every row."
    ),
    seed: int = typer.Option(0, "--seed"),
    device: str = opt.device(),
    noise_dim: int = typer.Option(900, "--noise-dim"),
    generator_kwargs: str = typer.Option(
        "{}", "--generator-kwargs", help="Builder overrides, JSON, e.g. '{\"channels\": [32, 16]}'."
    ),
    discriminator_kwargs: str = typer.Option(
        "{}", "--discriminator-kwargs", help="Builder overrides, JSON."
    ),
    quiet: bool = opt.quiet(),
) -> None:
    """Train a GAN on the spectra of one class of a pack."""
    from ..gan import read_class
    from ..train.gan import GanConfig, train_gan

    try:
        g_kw, d_kw = (
            opt.json_object("--generator-kwargs", generator_kwargs),
            opt.json_object("--discriminator-kwargs", discriminator_kwargs),
        )
        rows = read_class(data, class_name, None if split == "all" else split)
        cfg = GanConfig(
            model=model,
            out=str(out),
            iters=iters,
            batch_size=batch_size,
            checkpoint_every=checkpoint_every,
            seed=seed,
            noise_dim=noise_dim,
            class_name=class_name,
            class_names=rows.class_names,
            device=device,
            progress=not quiet,
            generator_kwargs=g_kw,
            discriminator_kwargs=d_kw,
        )
        result = train_gan(
            rows.flux, cfg, groups=rows.groups, wavelength=rows.wavelength, source=str(data)
        )
    except SpectypeError as e:
        fail(e)
    typer.echo(
        f"trained {model} on {len(rows.flux)} {class_name} spectra; {len(result.checkpoints)} checkpoint(s) in {out}"
    )


@gan_app.command("sample")
def sample_cmd(
    model: Path = typer.Option(
        ..., "--model", help="Checkpoint folder, e.g. RUN/checkpoints/iter_002000."
    ),
    n: int = typer.Option(..., "-n", help="Number of spectra."),
    out: Path = opt.output(help="Output HDF5 file."),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Sample spectra from a generator checkpoint into an HDF5 file."""
    from ..gan import sample_to_file

    try:
        path = sample_to_file(model, n, out, seed)
    except SpectypeError as e:
        fail(e)
    typer.echo(f"wrote {n} generated spectra to {path}")


@gan_app.command("augment")
def augment_cmd(
    data: Path = typer.Option(..., "--data", help="Packed dataset (HDF5) to augment."),
    model: Path = typer.Option(
        ..., "--model", help="Checkpoint folder of a GAN of that class, e.g. RUN/checkpoints/iter_002000."
    ),
    class_name: str = typer.Option(..., "--class", help="Class the GAN generates, e.g. O."),
    n: int = typer.Option(..., "-n", help="Generated spectra to add to the train split."),
    out: Path = opt.output(help="The new, augmented pack (HDF5)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the generator's noise."),
) -> None:
    """Write a new pack with n generated spectra of a class added to its train split only."""
    from ..gan import augment_with_samples

    try:
        path = augment_with_samples(data, model, class_name, n, out, seed)
    except SpectypeError as e:
        fail(e)
    typer.echo(f"wrote {path}: {data} plus {n} generated {class_name} spectra in train "
               f"(val/test unchanged); train on it with `spectype train --data {path}`")


@gan_app.command("evaluate")
def evaluate_cmd(
    run: Path = typer.Option(..., "--run", help="Run folder written by `spectype gan train`."),
    data: Path = typer.Option(..., "--data", help="Packed dataset with real spectra."),
    comparison: str = typer.Option("F", "--comparison", help="Comparison class."),
    target: str | None = typer.Option(None, "--target", help="Target class (default: the GAN's)."),
    n_generated: int | None = typer.Option(None, "-n", help="Generated spectra per checkpoint."),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """GAN-train / GAN-test (NuSVC) for every checkpoint of a run: gan_eval.csv and gan_eval.md."""
    from ..gan import evaluate_checkpoints, read_class
    from ..gan.folder import read_gan_config
    from ..train.gan import list_checkpoints

    try:
        checkpoints = list_checkpoints(run)
        if not checkpoints:
            raise SpectypeError(
                f"{run}: no checkpoints found under checkpoints/; run `spectype gan train` first"
            )
        target = target or read_gan_config(checkpoints[0])["class_name"]
        t = read_class(data, target)
        c = read_class(data, comparison)
        df = evaluate_checkpoints(
            checkpoints,
            t.flux,
            c.flux,
            t.groups,
            c.groups,
            n_generated=n_generated,
            seed=seed,
            out_dir=run,
            comparison_name=comparison,
        )
    except SpectypeError as e:
        fail(e)
    typer.echo((run / "gan_eval.md").read_text())
    if df["error"].astype(bool).any():
        typer.echo("some checkpoints failed; see the error column", err=True)


def register(app: typer.Typer) -> None:
    """Adds the `gan` sub-app to the app."""
    app.add_typer(gan_app, name="gan")
