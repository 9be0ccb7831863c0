"""Download one file over HTTP(S), safely: into a hidden `.NAME.part` beside the target, resumed
with a Range request where the server honours it, checked against Content-Length (and a
checksum when one is known), and renamed into place only when complete. Transient failures
(timeouts, dropped connections, truncated bodies, 429/5xx) are retried with exponential
backoff; permanent ones (404, 401/403, not a FITS file) are not.

Plain urllib: it is in the standard library, follows redirects and honours proxy settings,
and this needs nothing more.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import netrc
import random
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from base64 import b64encode
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .._version import __version__

RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}
CHUNK = 1 << 16


class FetchError(Exception):
    """A download failed; `retryable` says whether trying again may help."""

    def __init__(self, message: str, retryable: bool, retry_after: float | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after
        self.attempts = 0


@dataclass
class HttpOptions:
    timeout: float = 60.0  # seconds without data before a read gives up
    retries: int = 4  # further attempts after the first
    backoff: float = 1.0  # first wait; doubles each retry (with jitter)
    max_backoff: float = 60.0
    netrc_file: str | None = None  # None: ~/.netrc when it exists
    verify_fits: bool = True  # reject HTML error pages served with status 200


class RateLimiter:
    """At most `rate` request starts per second across all threads (0 = no limit)."""

    def __init__(self, rate: float):
        self.interval = 1.0 / rate if rate and rate > 0 else 0.0
        self._lock = threading.Lock()
        self._next = time.monotonic()

    def wait(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            time.sleep(start - now)


def redact(url: str) -> str:
    """The URL with any token/password query value hidden (for manifests and messages)."""
    parts = urllib.parse.urlsplit(url)
    if not parts.query:
        return url
    q = [(k, "***" if k.lower() in ("token", "password", "key") else v)
         for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(q, safe="*")))


def _auth_header(url: str, netrc_file: str | None) -> dict[str, str]:
    host = urllib.parse.urlsplit(url).hostname or ""
    try:
        entry = netrc.netrc(netrc_file).authenticators(host)
    except (FileNotFoundError, netrc.NetrcParseError, OSError):
        return {}
    if not entry:
        return {}
    login, _, password = entry
    token = b64encode(f"{login}:{password or ''}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def _retry_after(exc: urllib.error.HTTPError) -> float | None:
    value = exc.headers.get("Retry-After") if exc.headers else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _looks_like_fits(path: Path) -> bool:
    with open(path, "rb") as f:
        head = f.read(2)
    if head == b"\x1f\x8b":
        try:
            with gzip.open(path, "rb") as g:
                return g.read(9) == b"SIMPLE  ="
        except (OSError, EOFError):
            return False
    with open(path, "rb") as f:
        return f.read(9) == b"SIMPLE  ="


def is_gzip(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


def file_digest(path: Path, algo: str) -> str:
    h = hashlib.new(algo)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")


def _attempt(url: str, part: Path, opts: HttpOptions, limiter: RateLimiter,
             on_bytes: Callable[[int], None] | None) -> int:
    """One request: append to (or restart) `part`; returns its size when complete."""
    offset = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": f"spectype/{__version__} (spectype fetch)", **_auth_header(url, opts.netrc_file)}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    limiter.wait()
    try:
        resp = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=opts.timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:  # our partial file is no prefix of theirs: start over
            part.unlink(missing_ok=True)
            raise FetchError("server refused to resume (HTTP 416); restarting", True, 0.0) from None
        if exc.code in RETRY_STATUS:
            raise FetchError(f"HTTP {exc.code} {exc.reason}", True, _retry_after(exc)) from None
        if exc.code in (401, 403):
            raise FetchError(
                f"HTTP {exc.code} {exc.reason}: the server wants credentials; pass --token "
                "(or set SPECTYPE_LAMOST_TOKEN), or add the host to ~/.netrc (--netrc FILE)", False
            ) from None
        raise FetchError(f"HTTP {exc.code} {exc.reason}", False) from None
    except (http.client.HTTPException, OSError) as exc:  # URLError, timeouts, resets
        reason = getattr(exc, "reason", exc)
        raise FetchError(f"connection failed: {reason}", True) from None
    with resp:
        length = resp.headers.get("Content-Length")
        length = int(length) if length and length.isdigit() else None
        if resp.status == 206 and offset:
            m = _CONTENT_RANGE.match(resp.headers.get("Content-Range", ""))
            if not m or int(m.group(1)) != offset:
                part.unlink(missing_ok=True)
                raise FetchError("server resumed at another offset; restarting", True, 0.0)
            total = int(m.group(3)) if m.group(3) != "*" else (offset + length if length is not None else None)
            mode = "ab"
        else:  # 200: the whole file (a server without Range support lands here too)
            offset, total, mode = 0, length, "wb"
        got = offset
        try:
            with open(part, mode) as f:
                while True:
                    try:
                        block = resp.read(CHUNK)
                    except http.client.IncompleteRead as exc:
                        f.write(exc.partial)
                        got += len(exc.partial)
                        raise
                    if not block:
                        break
                    f.write(block)
                    got += len(block)
                    if on_bytes:
                        on_bytes(len(block))
        except (http.client.HTTPException, OSError) as exc:  # timeouts, resets, IncompleteRead
            # Keep the partial file: the next attempt asks for the rest.
            raise FetchError(f"transfer broke off after {got} bytes ({type(exc).__name__})", True) from None
    if total is not None and got < total:
        raise FetchError(f"truncated: {got} of {total} bytes", True)
    if total is not None and got > total:
        part.unlink(missing_ok=True)
        raise FetchError(f"received {got} bytes, more than the announced {total}; restarting", True, 0.0)
    return got


@dataclass
class Download:
    size: int
    attempts: int
    gzip: bool


def download(url: str, dest_stem: Path, opts: HttpOptions, limiter: RateLimiter,
             checksum: str | None = None, on_bytes: Callable[[int], None] | None = None,
             sleep: Callable[[float], None] = time.sleep) -> tuple[Path, Download]:
    """Fetch `url` to DEST_STEM.fits.gz (gzip content) or DEST_STEM.fits; returns the path.

    Raises FetchError (retryable False, or after the last retry) naming the reason.
    """
    part = dest_stem.with_name(f".{dest_stem.name}.part")
    attempts = 0
    while True:
        attempts += 1
        try:
            size = _attempt(url, part, opts, limiter, on_bytes)
            if checksum:
                algo, _, want = checksum.partition(":")
                have = file_digest(part, algo)
                if have != want:
                    part.unlink(missing_ok=True)
                    raise FetchError(f"{algo} mismatch: got {have}, expected {want}", True)
            if opts.verify_fits and not _looks_like_fits(part):
                part.unlink(missing_ok=True)
                raise FetchError(
                    "the server answered with something that is not a FITS file (an error or "
                    "login page?); check the URL template and credentials", False)
            gz = is_gzip(part)
            final = dest_stem.with_name(dest_stem.name + (".fits.gz" if gz else ".fits"))
            part.replace(final)  # same folder, so atomic: never a partial file under the final name
            return final, Download(size, attempts, gz)
        except FetchError as exc:
            if not exc.retryable or attempts > opts.retries:
                exc.attempts = attempts
                raise
            wait = exc.retry_after
            if wait is None:
                wait = min(opts.max_backoff, opts.backoff * 2 ** (attempts - 1)) * (0.5 + random.random())
            sleep(min(wait, opts.max_backoff))
