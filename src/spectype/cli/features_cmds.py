"""`spectype features`: a figure of the modalities the multimodal model sees for a spectrum."""

from __future__ import annotations

from pathlib import Path

import typer

from . import _options as opt
from ._errors import fail


def features_cmd(
    path: Path = typer.Argument(..., help="a spectrum file (any format `spectype catalog` reads)"),
    out: Path = opt.output(help="PNG to write"),
    index: int = typer.Option(0, help="which spectrum, for files that hold several"),
    preset: str = typer.Option("paper", help="audio preset: paper | authors-code"),
    reference: bool = typer.Option(
        False, "--reference/--no-reference", help="also draw the matplotlib reference image"
    ),
) -> None:
    """Plot a spectrum's modalities: flux, plotted image, Mel spectrogram, MFCC and LFCC."""
    import torch

    from ..errors import SpectypeError
    from ..features import AudioFeatures, SpectrumImage, reference_image_batch
    from ..io import read_all
    from ..plots import plot_modalities
    from ..preprocess import PreprocessConfig, preprocess

    try:
        spectra = read_all(path)
        if not 0 <= index < len(spectra):
            raise ValueError(
                f"{path} holds {len(spectra)} spectra; --index {index} is out of range "
                f"(0..{len(spectra) - 1})"
            )
        cfg = PreprocessConfig()
        flux = preprocess(spectra[index], cfg).flux
        batch = torch.as_tensor(flux, dtype=torch.float32)[None]
        with torch.inference_mode():
            image = SpectrumImage()(batch)[0, 0].numpy()
            audio = {k: v[0, 0].numpy() for k, v in AudioFeatures(preset=preset)(batch).items()}
            ref = reference_image_batch(batch)[0, 0].numpy() if reference else None
    except (SpectypeError, ValueError) as exc:
        fail(exc, code=2)
    title = f"{path.name}  [{spectra[index].meta.subclass or 'no header class'}]"
    written = plot_modalities(flux, image, audio, out, wavelength=cfg.grid(), reference=ref, title=title)
    typer.echo(f"wrote {written}")


def register(app: typer.Typer) -> None:
    """Adds this module's commands to the app."""
    app.command("features")(features_cmd)
