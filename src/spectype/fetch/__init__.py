"""Download LAMOST (by obsid) and SDSS (by plate-mjd-fiber) spectra into a folder that
`spectype classify` reads: resumable, verified, retried with backoff, rate limited."""

from .http import FetchError, HttpOptions, RateLimiter
from .run import MANIFEST, TOKEN_ENV, FetchOptions, FetchResult, fetch_spectra, parse_base_urls
from .targets import DEFAULT_URLS, LAMOST_URL, SDSS_URL, Target, read_targets

__all__ = [
    "DEFAULT_URLS", "LAMOST_URL", "MANIFEST", "SDSS_URL", "TOKEN_ENV", "FetchError", "FetchOptions",
    "FetchResult", "HttpOptions", "RateLimiter", "Target", "fetch_spectra", "parse_base_urls",
    "read_targets",
]
