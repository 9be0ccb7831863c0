"""`spectype fetch`: download LAMOST/SDSS spectra listed by id into a folder for `classify`."""

from __future__ import annotations

from pathlib import Path

import typer

from . import _options as opt
from ._errors import fail


def fetch_cmd(
    source: Path = typer.Argument(
        ..., help="Target list: a .txt of obsids or plate-mjd-fiber lines, or a CSV/Parquet "
                  "catalogue with an 'obsid' column (LAMOST) or 'plate','mjd','fiber' (SDSS)."),
    output: Path = opt.output(help="Folder to download into (then: spectype classify FOLDER -o ...)."),
    base_url: list[str] = typer.Option(
        [], "--base-url",
        help="URL template, for every survey or as lamost=TEMPLATE / sdss=TEMPLATE (repeatable). "
             "Fields: {obsid}; {plate} {mjd} {fiber} {run2d} {sas_dir}; {token}. Defaults: "
             "https://www.lamost.org/dr10/v2.0/spectrum/fits/{obsid} and the SDSS DR17 SAS "
             "lite spectra."),
    token: str | None = typer.Option(
        None, "--token", envvar="SPECTYPE_LAMOST_TOKEN",
        help="Access token for releases that need one (sent as ?token=, or where {token} "
             "stands in the template). Env: SPECTYPE_LAMOST_TOKEN."),
    netrc_file: Path | None = typer.Option(
        None, "--netrc", help="netrc file with login/password per host (default ~/.netrc)."),
    checksums: Path | None = typer.Option(
        None, "--checksums", help="md5sum/sha256sum-style file to verify downloads against."),
    workers: int = opt.workers(4, "Parallel downloads."),
    rate: float = typer.Option(2.0, "--rate", help="At most this many requests per second (0 = no limit)."),
    retries: int = typer.Option(4, "--retries", help="Retries per file after the first try."),
    backoff: float = typer.Option(1.0, "--backoff", help="First retry wait in seconds; doubles each retry."),
    timeout: float = typer.Option(60.0, "--timeout", help="Seconds without data before a try gives up."),
    limit: int | None = typer.Option(None, "--limit", help="Only the first N targets."),
    quiet: bool = opt.quiet(),
) -> None:
    """Download spectra by id: resumes, verifies size/checksum, retries with backoff, rate limited.

    Writes OUTPUT/fetch_manifest.json: fetched, present, or failed with the reason.
    Exits 1 when any target failed; running it again fetches only what is missing.
    """
    from ..errors import SpectypeError
    from ..fetch import FetchOptions, HttpOptions, fetch_spectra, parse_base_urls

    options = FetchOptions(
        urls=parse_base_urls(base_url), token=token or None, rate=rate, workers=workers,
        http=HttpOptions(timeout=timeout, retries=retries, backoff=backoff,
                         netrc_file=str(netrc_file) if netrc_file else None),
        checksums=str(checksums) if checksums else None, limit=limit, progress=not quiet,
    )
    try:
        res = fetch_spectra(source, output, options)
    except SpectypeError as exc:
        fail(exc, code=2)
    typer.echo(f"fetched {res.count('fetched')}, already present {res.count('present')}, "
               f"failed {res.count('failed')} in {res.seconds:.1f} s -> {res.out_dir} "
               f"(manifest {res.manifest.name})")
    for row in res.failed[:10]:
        typer.secho(f"  failed {row['id']}: {row['error']}", fg=typer.colors.YELLOW, err=True)
    if len(res.failed) > 10:
        typer.secho(f"  ... and {len(res.failed) - 10} more (see {res.manifest})", err=True)
    if res.failed:
        raise typer.Exit(code=1)


def register(app: typer.Typer) -> None:
    """Adds `fetch` to the app."""
    app.command("fetch")(fetch_cmd)
