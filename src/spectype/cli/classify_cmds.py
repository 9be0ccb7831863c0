"""`spectype classify`: the main job."""

from __future__ import annotations

from pathlib import Path

import typer

# Exit codes (docs/outputs.md): 0 done (some spectra may have error rows), 1 every spectrum
# this run looked at failed or no spectrum file was found, 2 refused (bad option, model folder,
# output target, another run holds the output).
EXIT_ALL_FAILED = 1
EXIT_REFUSED = 2


def register(app: typer.Typer) -> None:
    app.command("classify")(classify)


def classify(
    paths: list[Path] = typer.Argument(..., help="Spectrum files, directories (recursive), HDF5 packs or a catalogue (.parquet/.csv with a 'path' column; its 'index' and 'status' are honoured)."),
    output: Path = typer.Option(..., "-o", "--output", help="Results table: .parquet or .csv (docs/outputs.md lists the columns)."),
    model: Path | None = typer.Option(None, "--model", "-m", help="Model folder (model.safetensors + config.json). Default: the shipped model."),
    batch_size: int = typer.Option(128, help="Spectra per forward pass (CPU: 64-128 is fastest; GPU: try 1024)."),
    workers: int | None = typer.Option(None, "-j", "--workers", help="Reader processes (default: all cores)."),
    device: str = typer.Option("auto", help="auto (cuda when available), cpu, cuda or cuda:N."),
    plot: int = typer.Option(0, "--plot", help="Write a figure for the first N spectra."),
    fresh: bool = typer.Option(False, "--fresh", help="Replace an earlier classify output at -o instead of resuming it (anything else at -o is never replaced)."),
    backend: str = typer.Option("local", help="local (process pool) or ray (a Ray cluster; `ray start` first)."),
    min_coverage: float | None = typer.Option(None, "--min-coverage", help="Fraction of the model's wavelength window a spectrum must cover (default: the model's own, 0.95 for the shipped one)."),
    keep_columns: str = typer.Option("all", "--keep-columns", help="Catalogue columns copied to the output: all, none, or a comma list (a clash with an output column becomes cat_<name>)."),
    flush_seconds: float = typer.Option(10.0, "--flush-seconds", help="Write finished rows at least this often, so an interrupted run loses at most this much work."),
    wait: float = typer.Option(0.0, "--wait", help="Seconds to wait when another run is writing the same -o (default: refuse at once)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    progress: bool = typer.Option(True, "--progress/--no-progress", hidden=True),
) -> None:
    """Classify spectra with a released model; resumable, a bad file is recorded and skipped.

    Exit code 0: done (bad files are rows with status error); 1: every spectrum failed, or no
    spectrum file was found; 2: refused before any work (the message says why).
    """
    from rich.console import Console

    from ..batch import ClassifyOptions, classify_files
    from ..batch.paths import display_text
    from ..errors import SpectypeError

    console = Console(stderr=True)
    opts = ClassifyOptions(batch_size=batch_size, workers=workers, device=device, plot=plot,
                           resume=not fresh, progress=progress and not quiet,
                           min_coverage=min_coverage, keep_columns=keep_columns,
                           flush_seconds=flush_seconds, wait_for_lock=wait)
    if backend not in ("local", "ray"):
        console.print(f"[red]error:[/red] unknown backend {backend!r}: use local or ray")
        raise typer.Exit(EXIT_REFUSED)
    try:
        with _sigterm_as_interrupt():
            if backend == "ray":
                from ..distributed.ray_classify import classify_files_ray

                summary = classify_files_ray(paths, output, model, opts)
            else:
                summary = classify_files(paths, output, model, opts)
    except SpectypeError as exc:
        console.print(f"[red]error:[/red] {display_text(str(exc))}", highlight=False)
        raise typer.Exit(EXIT_REFUSED) from exc
    excluded = f", {summary.n_excluded} excluded by the catalogue" if summary.n_excluded else ""
    console.print(
        f"classified {summary.n_ok} spectra from {summary.n_files} files "
        f"({summary.n_errors} errors{excluded}, {summary.n_skipped} files already done) in "
        f"{summary.seconds:.1f} s = {summary.spectra_per_second:.0f} spectra/s -> "
        f"{display_text(str(summary.output))}", highlight=False
    )
    for _path, err in summary.errors[:10]:
        console.print(f"  [yellow]skipped[/yellow] {display_text(err)}", highlight=False)
    if len(summary.errors) > 10:
        console.print(f"  ... and {len(summary.errors) - 10} more (see the status/error columns)")
    if summary.n_files == 0:
        console.print("[red]error:[/red] no spectrum files found in the inputs")
        raise typer.Exit(EXIT_ALL_FAILED)
    if summary.all_failed:
        console.print(f"[red]error:[/red] every one of the {summary.n_spectra} spectra failed")
        raise typer.Exit(EXIT_ALL_FAILED)


class _sigterm_as_interrupt:
    """SIGTERM (kill, a batch scheduler) unwinds like Ctrl-C: finished rows are written, the
    lock is released, worker processes are shut down."""

    def __enter__(self):
        import signal

        self._old = signal.getsignal(signal.SIGTERM)
        try:
            signal.signal(signal.SIGTERM, self._raise)
        except ValueError:  # not the main thread (e.g. called from a test runner thread)
            self._old = None
        return self

    @staticmethod
    def _raise(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    def __exit__(self, *exc):
        import signal

        if self._old is not None:
            signal.signal(signal.SIGTERM, self._old)
        return False
