"""Opening spectrum files safely: regular files only, decompression through a size cap.

Why: a folder of downloads can hold anything. A FIFO blocks `open()` forever, a symlink loop
or a dangling link raises a misleading "not found", and a 2 MB `.gz` can inflate to 2 GB
(a gzip bomb, or a header declaring a huge NAXIS). Every byte a reader sees goes through
here, so each of those becomes a per-file `SpectrumReadError` subclass naming the file.

The cap: `max_inflate` (this module's setting, bytes) if set, else the environment variable
`SPECTYPE_MAX_INFLATE` (bytes, or with a K/M/G suffix: `1G`), else 256 MiB — ~20x the
largest single-spectrum survey file here (a 12 MB LAMOST DR8 image). It bounds what a `.gz`
may inflate to, the size of an uncompressed file read into memory, and the data size a FITS
header may declare. Decompression stops as soon as the cap is passed, so memory stays bounded
by the cap whatever the file claims.
"""

from __future__ import annotations

import errno
import gzip
import os
import stat
import zlib
from pathlib import Path

from ..errors import (
    ConfigError,
    CorruptFileError,
    FileTooLargeError,
    MissingFileError,
    NotASpectrumError,
    SpecialFileError,
    SpectrumReadError,
    TruncatedFileError,
)

DEFAULT_MAX_INFLATE = 256 * 2**20
ENV_VAR = "SPECTYPE_MAX_INFLATE"
max_inflate: int | None = None  # set spectype.io.safeio.max_inflate = N to override the env var
_CHUNK = 1 << 20
_SUFFIX = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def inflate_cap() -> int:
    """The size cap in bytes (module setting, else $SPECTYPE_MAX_INFLATE, else 256 MiB)."""
    if max_inflate is not None:
        return int(max_inflate)
    raw = os.environ.get(ENV_VAR, "").strip()
    if not raw:
        return DEFAULT_MAX_INFLATE
    text = raw.upper().removesuffix("IB").removesuffix("B")
    unit = text[-1] if text and text[-1] in _SUFFIX else ""
    try:
        value = float(text[: len(text) - len(unit)] if unit else text) * _SUFFIX[unit]
    except ValueError:
        raise ConfigError(
            f"{ENV_VAR}={raw!r} is not a size; give bytes or a number with K/M/G (e.g. 1G)"
        ) from None
    if value <= 0:
        raise ConfigError(f"{ENV_VAR}={raw!r} must be positive")
    return int(value)


def _mib(n: int) -> str:
    if n < 2**20:
        return f"{n:,} bytes"
    return f"{n / 2**20:,.1f}".rstrip("0").rstrip(".") + " MiB"


def _raise_cap_hint() -> str:
    return (
        f"if the file is genuine, raise the cap: {ENV_VAR}=2G (environment) or "
        "spectype.io.safeio.max_inflate = 2 * 2**30"
    )


def too_large(path, what: str, size: int) -> FileTooLargeError:
    return FileTooLargeError(
        path, f"{what} {_mib(size)}, beyond the {_mib(inflate_cap())} cap", _raise_cap_hint()
    )


_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def _special(path, mode: int) -> SpecialFileError | None:
    for test, what in _KINDS:
        if test(mode):
            return SpecialFileError(path, f"not a regular file: {what}; it was not opened")
    return None


def check_regular_file(path: str | os.PathLike) -> os.stat_result:
    """stat() `path` without opening it; raise the matching error unless it is a non-empty
    regular file (links to one are fine)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            target = os.readlink(path)
            raise SpecialFileError(
                path, f"dangling symlink: it points to {target!r}, which does not exist"
            ) from None
        raise MissingFileError(path, "file not found") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SpecialFileError(path, "symlink loop: the link resolves to itself") from None
        if exc.errno == errno.EACCES:
            raise SpectrumReadError(path, "permission denied", "check the file's permissions") from None
        raise SpectrumReadError(path, f"cannot stat the file: {exc.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        raise NotASpectrumError(
            path, "is a directory", "use spectype.io.discover.iter_spectrum_files for directories"
        )
    special = _special(path, st.st_mode)
    if special:
        raise special
    if st.st_size == 0:
        raise TruncatedFileError(path, "file is empty (0 bytes)", "download it again")
    return st


def open_regular(path: str | os.PathLike):
    """A binary file object for `path`, opened without ever blocking (O_NONBLOCK) and only if
    it is still a regular file once opened (it may have been swapped since `stat`)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SpecialFileError(path, "symlink loop: the link resolves to itself") from None
        if exc.errno == errno.ENOENT:
            raise MissingFileError(path, "file not found") from None
        raise SpectrumReadError(path, f"cannot open the file: {exc.strerror}") from None
    st = os.fstat(fd)
    special = _special(path, st.st_mode)
    if special or not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise special or SpecialFileError(path, "not a regular file; it was not opened")
    return os.fdopen(fd, "rb")


def _gzip_error(path, exc: Exception) -> SpectrumReadError:
    if isinstance(exc, EOFError):
        return TruncatedFileError(
            path, "gzip stream is truncated (it ends before its end-of-stream marker)",
            "the download was cut; download it again",
        )
    return CorruptFileError(path, f"gzip data is corrupt: {exc}", "download it again")


def is_gzip(head: bytes) -> bool:
    return head[:2] == b"\x1f\x8b"


def read_head(path: str | os.PathLike, n: int, raw: bool = False) -> bytes:
    """The first `n` bytes, decompressed when the file is gzipped (never more than `n`);
    raw=True: the first `n` bytes as stored."""
    with open_regular(path) as fh:
        magic = fh.read(2)
        fh.seek(0)
        if raw or not is_gzip(magic):
            return fh.read(n)
        try:
            with gzip.GzipFile(fileobj=fh) as gz:
                return gz.read(n)
        except (OSError, EOFError, zlib.error) as exc:
            raise _gzip_error(path, exc) from exc


def read_bytes(path: str | os.PathLike, cap: int | None = None, precheck=None) -> bytes:
    """The whole file, decompressed when gzipped, refusing anything above `cap` bytes.

    precheck(first_chunk) is called on the first inflated chunk of a gzipped file and may
    raise early (a FITS header declaring more data than the cap), so that a bomb fails after
    1 MiB instead of after `cap` bytes.
    """
    cap = inflate_cap() if cap is None else cap
    with open_regular(path) as fh:
        magic = fh.read(2)
        fh.seek(0)
        if not is_gzip(magic):
            size = os.fstat(fh.fileno()).st_size
            if size > cap:
                raise too_large(path, "the file is", size)
            # No precheck: a plain file that declares more than it holds is truncated, which
            # the FITS structure check reports; nothing here allocates what a header claims.
            return fh.read()
        size = os.fstat(fh.fileno()).st_size
        if size > cap:  # gzip never shrinks data to less than its compressed size
            raise too_large(path, "the compressed file is", size)
        return _inflate(path, fh.read(), cap, precheck)


def _inflate(path, raw: bytes, cap: int, precheck) -> bytes:
    """Gunzip `raw` (all members) in bounded steps, stopping once past `cap`.

    zlib (wbits=31: gzip framing, CRC-32 and length checked) is ~2x faster here than
    gzip.GzipFile's buffered reader; `max_length` keeps each step's output bounded.
    """
    out = bytearray()
    data = raw
    step = _CHUNK  # the first step is small so that `precheck` runs early
    try:
        while True:
            inflater = zlib.decompressobj(wbits=31)
            while True:
                chunk = inflater.decompress(data, min(step, cap + 1 - len(out)))
                if not out and chunk and precheck is not None:
                    precheck(chunk)
                out += chunk
                step = 16 * _CHUNK
                if len(out) > cap:
                    raise too_large(path, "it inflates to more than", cap)
                data = inflater.unconsumed_tail
                if inflater.eof:
                    break
                if not data and not chunk:
                    raise EOFError("compressed stream ended before the end-of-stream marker")
            data = inflater.unused_data
            # Another gzip member may follow (concatenated .gz); anything else is ignored,
            # as gzip tools do with trailing zero padding.
            if data[:2] != b"\x1f\x8b":
                break
    except (EOFError, zlib.error) as exc:
        raise _gzip_error(path, exc) from exc
    return bytes(out)


def read_text(path: str | os.PathLike) -> str:
    """The file as UTF-8 text (gunzipped when gzipped), through the same cap."""
    data = read_bytes(path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotASpectrumError(
            path, f"text file is not UTF-8 (byte {exc.start}: {data[exc.start:exc.start + 1]!r})",
            "save it as UTF-8",
        ) from exc


def as_path(path: str | bytes | os.PathLike) -> Path:
    """A Path for any file name, bytes that are not UTF-8 included (kept as surrogate escapes)."""
    return Path(os.fsdecode(path))
