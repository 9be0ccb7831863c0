"""`fetch_spectra`: download every target of a list into one folder that `classify` reads,
with a manifest of what was fetched and what failed."""

from __future__ import annotations

import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ..atomic import atomic_write_text
from ..errors import ConfigError
from .http import FetchError, HttpOptions, RateLimiter, download, file_digest, redact
from .targets import DEFAULT_URLS, Target, read_targets

TOKEN_ENV = "SPECTYPE_LAMOST_TOKEN"
MANIFEST = "fetch_manifest.json"


@dataclass
class FetchOptions:
    """Where from and how politely. `urls` maps survey -> URL template (targets.DEFAULT_URLS)."""

    urls: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_URLS))
    token: str | None = None  # None: $SPECTYPE_LAMOST_TOKEN when set
    rate: float = 2.0  # request starts per second, all threads together (0 = no limit)
    workers: int = 4  # parallel downloads
    http: HttpOptions = field(default_factory=HttpOptions)
    checksums: str | None = None  # optional md5sum/sha256sum-style file
    limit: int | None = None  # only the first N targets
    progress: bool = True


@dataclass
class FetchResult:
    out_dir: Path
    manifest: Path
    items: list[dict]
    seconds: float

    def count(self, status: str) -> int:
        return sum(1 for i in self.items if i["status"] == status)

    @property
    def failed(self) -> list[dict]:
        return [i for i in self.items if i["status"] == "failed"]


def parse_base_urls(values: list[str] | None) -> dict[str, str]:
    """`--base-url` values: 'TEMPLATE' (for every survey in the list) or 'lamost=TEMPLATE' /
    'sdss=TEMPLATE'. Returns the full survey -> template map."""
    urls = dict(DEFAULT_URLS)
    for value in values or []:
        survey, sep, template = value.partition("=")
        if sep and survey.strip().lower() in DEFAULT_URLS and "://" not in survey:
            urls[survey.strip().lower()] = template.strip()
        else:
            urls = {k: value.strip() for k in urls}
    return urls


def _existing(out_dir: Path, t: Target) -> Path | None:
    for suffix in (".fits.gz", ".fits"):
        p = out_dir / (t.stem + suffix)
        if p.is_file():
            return p
    return None


def _write_manifest(path: Path, source, out_dir: Path, options: FetchOptions, items: list[dict],
                    started: str, done: bool) -> None:
    counts = {s: sum(1 for i in items if i["status"] == s) for s in ("fetched", "present", "failed")}
    doc = {
        "source": str(source), "out": str(out_dir), "started": started,
        "finished": datetime.now(UTC).isoformat(timespec="seconds") if done else None,
        "complete": done, "counts": counts,
        "url_templates": options.urls, "items": items,
    }
    atomic_write_text(path, json.dumps(doc, indent=1) + "\n")


def fetch_spectra(source: str | os.PathLike, out_dir: str | os.PathLike,
                  options: FetchOptions | None = None) -> FetchResult:
    """Download the targets listed in `source` into `out_dir` (module doc, targets.py).

    Files already complete in `out_dir` are kept (checked against a known checksum); partial
    ones resume. Every target gets a manifest row: fetched, present or failed with the reason.
    """
    options = options or FetchOptions()
    out_dir = Path(out_dir)
    targets = read_targets(source, options.checksums)
    if options.limit is not None:
        targets = targets[: options.limit]
    if not targets:
        raise ConfigError(f"{source}: no targets listed")
    token = options.token if options.token is not None else os.environ.get(TOKEN_ENV) or None
    urls = {t: t.resolve_url(options.urls, token) for t in targets}  # template errors before any I/O
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = out_dir / MANIFEST
    started = datetime.now(UTC).isoformat(timespec="seconds")
    limiter = RateLimiter(options.rate)
    lock = threading.Lock()
    t0 = time.perf_counter()

    def one(t: Target) -> dict:
        row = {"id": t.key, "survey": t.survey, "url": redact(urls[t]), "file": None,
               "status": "failed", "bytes": None, "attempts": 0, "error": None}
        have = _existing(out_dir, t)
        if have is not None:
            ok = True
            if t.checksum:
                algo, _, want = t.checksum.partition(":")
                ok = file_digest(have, algo) == want
            if ok:
                row.update(file=have.name, status="present", bytes=have.stat().st_size)
                return row
            have.unlink()  # a wrong file under the final name: fetch it again
        try:
            path, info = download(urls[t], out_dir / t.stem, options.http, limiter, t.checksum)
        except FetchError as exc:
            row.update(error=str(exc).replace(urls[t], row["url"]), attempts=exc.attempts)
            return row
        row.update(file=path.name, status="fetched", bytes=info.size, attempts=info.attempts)
        return row

    from ..progress import progress_bar

    items: dict[Target, dict] = {}
    try:
        with progress_bar(options.progress, "spectra") as bar:
            task = bar.add_task("fetch", total=len(targets))
            with ThreadPoolExecutor(max(1, options.workers)) as pool:
                futures = {pool.submit(one, t): t for t in targets}
                for fut in as_completed(futures):
                    row = fut.result()
                    with lock:
                        items[futures[fut]] = row
                    bar.advance(task)
    finally:  # also on Ctrl-C: record what got done
        rows = [items[t] for t in targets if t in items]
        _write_manifest(manifest, source, out_dir, options, rows, started, done=len(rows) == len(targets))
    return FetchResult(out_dir, manifest, rows, time.perf_counter() - t0)
