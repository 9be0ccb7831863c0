"""`spectype inspect`: check and correct classifications in the browser."""

from __future__ import annotations

from pathlib import Path

import typer

from ._errors import fail


def register(app: typer.Typer) -> None:
    @app.command("inspect")
    def inspect_cmd(
        results: Path = typer.Argument(..., help="classify result table (.parquet or .csv)"),
        catalog: Path | None = typer.Option(None, "--catalog", help="catalogue whose extra columns to show (joined on path, index)"),
        port: int = typer.Option(8765, "--port", help="port on 127.0.0.1 (0 = any free port)"),
        host: str = typer.Option("127.0.0.1", "--host", help="address to serve on (keep it local)"),
        open_browser: bool = typer.Option(False, "--open", help="open the page in the default browser"),
        templates: Path | None = typer.Option(None, "--templates", help="folder of Kesseli templates (*.fits.gz); default DATA_ROOT/libraries/kesseli"),
        data_root: Path | None = typer.Option(None, "--data-root", help="shared data root holding libraries/kesseli"),
        vetted: Path | None = typer.Option(None, "--vetted", help="sidecar of corrections (default RESULTS.vetted.parquet)"),
        order: str = typer.Option("table", "--order", help="table, confidence (low first), class, flag, disagreement, random"),
        cls: str | None = typer.Option(None, "--class", help="only rows predicted as this class"),
        flag: str | None = typer.Option(None, "--flag", help="only rows with this flag (low_snr, ..., or any)"),
        disagree: bool = typer.Option(False, "--disagree", help="only rows whose header type disagrees with the prediction"),
        sample: int | None = typer.Option(None, "--sample", help="a random sample of N rows (unbiased spot-check)"),
        seed: int = typer.Option(0, "--seed", help="seed for --sample and --order random"),
        summary: bool = typer.Option(False, "--summary", help="print model-vs-user agreement and a confusion matrix, then exit"),
    ) -> None:
        """Serve a page to step through a result table, overlay templates and record corrections."""
        from ..errors import SpectypeError
        from ..inspect import InspectConfig, serve, vetting_summary

        try:
            cfg = InspectConfig(
                results=results, catalog=catalog, templates=templates, data_root=data_root,
                vetted=vetted, order=order, cls=cls, flag=flag, disagree=disagree,
                sample=sample, seed=seed,
            )
            if summary:
                typer.echo(vetting_summary(cfg).text())
                return
            serve(cfg, host=host, port=port, open_browser=open_browser, echo=typer.echo)
        except SpectypeError as exc:
            fail(str(exc))
