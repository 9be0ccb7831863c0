"""`spectype simulate`: LAMOST-like spectra from stellar libraries, packed (and as FITS)."""

from __future__ import annotations

from pathlib import Path

import typer

from . import _options as opt
from ._errors import fail


def register(app: typer.Typer) -> None:
    """Adds `simulate` to the app."""

    @app.command("simulate")
    def simulate(
        out: Path = opt.output(help="HDF5 pack to write"),
        classes: str = typer.Option("O,B,A,F,G,K,M,C", help="comma-separated MK classes"),
        per_class: int = typer.Option(100, "--per-class", help="spectra per class (real + simulated)"),
        fits_dir: Path | None = typer.Option(None, "--fits-dir", help="also write LAMOST FITS files here"),
        seed: int = typer.Option(0, help="random seed (draws and split)"),
        libraries: str = typer.Option("stelib,boss", help="source libraries: stelib,boss,pickles"),
        real: Path | None = typer.Option(None, "--real", help="real LAMOST folder or catalogue to mix in"),
        max_real_fraction: float = typer.Option(
            1.0, "--max-real-fraction", help="cap real spectra at this fraction of --per-class (the rest simulated)"),
        data_root: Path | None = opt.data_root(),
        noise_mode: str = typer.Option("photon", help="noise variance model: photon | scaled"),
        ebv_mean: float = typer.Option(0.1, help="mean of the exponential E(B-V) draw"),
        distortion_amplitude: float = typer.Option(0.05, help="flux-calibration distortion size"),
        interstellar_nad: bool = typer.Option(
            False, "--interstellar-nad/--no-interstellar-nad",
            help="add interstellar Na D with EW from each spectrum's E(B-V) (Poznanski et al. 2012)"),
        n_profiles: int = typer.Option(200, help="real LAMOST noise profiles to draw from"),
        workers: int | None = typer.Option(None, "-j", "--workers", help="processes for loading (default: CPUs, max 8)"),
        quiet: bool = opt.quiet(),
    ) -> None:
        """Simulate a balanced dataset of LAMOST-like spectra, split by source star."""
        from ..errors import SpectypeError
        from ..runtime import data_root as resolve_data_root
        from ..simulate import SimConfig, build_simulated_dataset

        try:
            root = resolve_data_root(data_root)
            res = build_simulated_dataset(
                out,
                classes=[c.strip().upper() for c in classes.split(",") if c.strip()],
                per_class=per_class,
                libraries=[x.strip().lower() for x in libraries.split(",") if x.strip()],
                real=real,
                max_real_fraction=max_real_fraction,
                progress=not quiet,
                fits_dir=fits_dir,
                seed=seed,
                sim=SimConfig(noise_mode=noise_mode, ebv_mean=ebv_mean, distortion_amplitude=distortion_amplitude,
                              interstellar_nad=interstellar_nad),
                data_root=root,
                n_profiles=n_profiles,
                workers=workers,
            )
        except SpectypeError as exc:
            fail(exc, code=2)
        typer.echo(f"wrote {res.path}: classes {res.class_names}")
        for cls, c in res.counts.items():
            src = res.sources.get(cls, {})
            typer.echo(f"  {cls}: {c['sim']} simulated, {c['real']} real; "
                       f"{src.get('stars', 0)} source stars ({src.get('sources', 0)} library spectra)")
        typer.echo(f"  splits: { {s: sum(v.values()) for s, v in res.split_counts.items()} }; failed: {res.n_failed}")
        for note in res.notes:
            typer.echo(f"  note: {note}")
