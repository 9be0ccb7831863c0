"""`spectype catalog` and `spectype build-dataset`: thin commands over catalog and datasets."""

from __future__ import annotations

from pathlib import Path

import typer

from . import _options as opt
from ._errors import fail
from ._logging import silenced


def print_catalog_summary(df, elapsed_s: float | None = None) -> dict:
    """Print the scan summary as rich tables; returns `catalog.summarize(df)`."""
    from rich.console import Console
    from rich.table import Table

    from ..catalog import summarize

    console = Console()
    s = summarize(df)
    t = Table(title="catalogue")
    t.add_column("what")
    t.add_column("count", justify="right")
    t.add_row("files", str(s["files"]))
    t.add_row("spectra", str(s["spectra"]))
    for k, v in s["status"].items():
        t.add_row(f"status {k}", str(v))
    if elapsed_s is not None:
        t.add_row("time", f"{elapsed_s:.1f} s")
    console.print(t)
    c = Table(title="usable spectra per class (status ok)")
    c.add_column("class")
    c.add_column("spectra", justify="right")
    for k, v in s["classes_ok"].items():
        c.add_row(k, str(v))
    console.print(c)
    excl = df.loc[df["status"] == "excluded", "excluded"].value_counts()
    if len(excl):
        e = Table(title="excluded (reason)")
        e.add_column("reason")
        e.add_column("spectra", justify="right")
        for k, v in excl.head(10).items():
            e.add_row(str(k), str(int(v)))
        console.print(e)
    errors = df[df["status"] == "error"]
    if len(errors):
        console.print(f"[red]{len(errors)} file(s) could not be read; first ones:[/red]")
        for msg in errors["error"].head(5):
            console.print(f"  {msg}")
    return s


def catalog_cmd(
    paths: list[Path] = typer.Argument(..., help="Spectrum files and/or directories (scanned recursively)."),
    out: Path = opt.output(help="Catalogue to write: .parquet, or .csv by suffix."),
    workers: int = opt.workers(),
    ray: bool = typer.Option(False, "--ray", help="Scan with Ray tasks (joins RAY_ADDRESS if set)."),
    no_recursive: bool = typer.Option(False, "--no-recursive", help="Do not descend into sub-folders."),
    quiet: bool = opt.quiet(),
    progress: bool = opt.legacy_progress(),
) -> None:
    """Scan spectra into a catalogue: one row per spectrum with labels, SNR, coverage and status."""
    import time

    from ..catalog import scan, write_catalog
    from ..errors import SpectypeError

    t0 = time.perf_counter()
    try:
        df = scan(paths, workers=workers or None, use_ray=ray, progress=progress and not quiet,
                  recursive=not no_recursive)
        write_catalog(df, out)
    except SpectypeError as exc:
        fail(str(exc))
    print_catalog_summary(df, time.perf_counter() - t0)
    typer.echo(f"catalogue: {out}")


def build_dataset_cmd(
    catalog: Path = typer.Argument(..., help="Catalogue from `spectype catalog`."),
    out: Path = opt.output(help="HDF5 pack to write (e.g. data.h5)."),
    classes: str = typer.Option("", help="Comma-separated classes, e.g. O,B,A,F,G,K,M,C (default: all present)."),
    snr_band: str = typer.Option("i", help="Band of the SNR cut (u,g,r,i,z)."),
    min_snr: float = typer.Option(10.0, help="Keep SNR > this (the paper: SNR_i > 10). Negative = no cut."),
    keep_no_snr: bool = typer.Option(False, help="Let rows without an SNR (libraries) pass the SNR cut."),
    min_coverage: float = typer.Option(0.95, help="Minimum fraction of the model grid covered."),
    max_per_class: int = typer.Option(0, help="Cap rows per class, seeded random choice (0 = no cap)."),
    min_per_class: int = typer.Option(1, help="Drop classes with fewer selected rows than this."),
    group_by: str = typer.Option("", help="Catalogue column whose equal values share a split (default: 'group' if present, else the star: same name or within 3 arcsec)."),
    fractions: str = typer.Option("0.8,0.1,0.1", help="train,val,test fractions."),
    balance: int = typer.Option(0, help="Replicate training rows to N per class (the paper: 6000; 0 = off)."),
    split_order: str = typer.Option(
        "split-then-replicate",
        help="split-then-replicate (honest) or replicate-then-split (the paper's order; LEAKS test copies into train).",
    ),
    seed: int = typer.Option(0, help="Seed for caps, split and replication."),
    n_pix: int = typer.Option(3700, help="Model grid pixels."),
    norm: str = typer.Option("minmax", help="Normalisation: minmax, l2 or none."),
    median_filter: int = typer.Option(0, help="Median filter width (0 = off)."),
    workers: int = opt.workers(),
    compression: str = typer.Option("", help="HDF5 compression for flux/ivar: '', lzf or gzip."),
    quiet: bool = opt.quiet(),
    progress: bool = opt.legacy_progress(),
) -> None:
    """Select, preprocess, split (grouped, stratified) and pack spectra into one HDF5 file."""
    from rich.console import Console
    from rich.table import Table

    from ..datasets import DatasetConfig, build_dataset
    from ..errors import SpectypeError

    try:
        fr = tuple(float(x) for x in fractions.split(","))
        config = DatasetConfig(
            classes=[c.strip() for c in classes.split(",") if c.strip()] or None,
            snr_band=snr_band,
            min_snr=None if min_snr < 0 else min_snr,
            keep_no_snr=keep_no_snr,
            min_coverage=min_coverage,
            max_per_class=max_per_class or None,
            min_per_class=min_per_class,
            group_by=group_by or None,
            fractions=fr,
            balance=balance,
            split_order=split_order,
            seed=seed,
            preprocess={"n_pix": n_pix, "norm": norm, "median_filter": median_filter},
        )
        import warnings

        # The leak is reported below, once, in red; so are the notes.
        with warnings.catch_warnings(), silenced("spectype.datasets"):
            warnings.simplefilter("ignore")
            res = build_dataset(catalog, out, config, workers=workers or None, progress=progress and not quiet,
                                compression=compression or None)
    except (SpectypeError, ValueError) as exc:
        fail(str(exc))
    console = Console()
    console.print(f"pack {res.path}: {res.n_rows} spectra stored, {res.n_dropped} dropped in preprocessing")
    t = Table(title="rows per split (train includes replicas)")
    t.add_column("class")
    for s in ("train", "val", "test"):
        t.add_column(s, justify="right")
    for c in res.class_names:
        t.add_row(c, *(str(res.split_counts[s][c]) for s in ("train", "val", "test")))
    console.print(t)
    console.print("selection cuts (rows removed): " + ", ".join(f"{k}={v}" for k, v in res.cuts.items()))
    for note in res.notes:
        console.print(f"[yellow]note:[/yellow] {note}")
    if res.leaky:
        console.print(
            "[bold red]WARNING: LEAKY EVALUATION. replicate-then-split put copies of the same "
            "spectrum in train and test; test scores are inflated.[/bold red]"
        )


def register(app: typer.Typer) -> None:
    """Adds `catalog` and `build-dataset` to the app."""
    app.command("catalog")(catalog_cmd)
    app.command("build-dataset")(build_dataset_cmd)
