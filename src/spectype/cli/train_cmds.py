"""`spectype train` (and, added by their owners, evaluate / reproduce): thin commands over train/.

`register(app)` calls one `_register_<command>(app)` per command so each can be added
separately.
"""

from __future__ import annotations

from pathlib import Path

import typer

from . import _options as opt
from ._errors import fail


def train_cmd(
    config: str = typer.Option(
        None, "--config", "-c",
        help="Run config: a YAML path, or a packaged config by name (cnn1d_quick, cnn1d_paper, "
             "mm_all_paper, default_model; `configs/NAME.yaml` finds it too).",
    ),
    set_: list[str] = typer.Option(
        [], "--set", "-s", help="Override a config key: key=value (YAML value; dotted keys for model_kwargs.x)."
    ),
    data: Path = typer.Option(None, "--data", help="HDF5 pack to train on (overrides the config's data)."),
    out: Path = opt.output(None, help="Run folder (overrides the config's out). Resumes if it holds this run."),
    device: str = typer.Option(None, "--device", help="Overrides the config's device (default auto: " + opt.DEVICE_HELP + ")"),
    workers: int = typer.Option(None, "-j", "--workers", help="DataLoader workers (overrides the config's num_workers)."),
    quiet: bool = opt.quiet(),
    progress: bool = opt.legacy_progress(),
) -> None:
    """Train a model on a pack; writes config.yaml, metrics.csv, best/ and last/ in the run folder.

    Multi-GPU: torchrun --nproc_per_node=N -m spectype train --config run.yaml
    """
    from dataclasses import replace

    from ..errors import SpectypeError
    from ..runtime import resolve_config
    from ..train import load_config, train
    from ..train.distributed import env_info

    try:
        cfg = load_config(resolve_config(config) if config else None, list(set_))
        # Set paths directly rather than as overrides: YAML would mangle some path strings.
        if data is not None:
            cfg = replace(cfg, data=str(data))
        if out is not None:
            cfg = replace(cfg, out=str(out))
        if device is not None:
            cfg = replace(cfg, device=device)
        if workers is not None:
            cfg = replace(cfg, num_workers=workers)
        result = train(cfg, progress=progress and not quiet)
    except SpectypeError as exc:
        fail(str(exc))
    if env_info().is_main:
        typer.echo(f"run folder: {result.run_dir}")
        typer.echo(f"best model: {result.best_dir} (val accuracy {result.best_val_acc:.4f} at epoch {result.best_epoch})")
        if result.stopped_early:
            typer.echo("stopped early: no val improvement within the early_stopping patience")


def _register_train(app: typer.Typer) -> None:
    app.command("train")(train_cmd)


def register(app: typer.Typer) -> None:
    """Adds this module's commands to the app."""
    _register_train(app)
