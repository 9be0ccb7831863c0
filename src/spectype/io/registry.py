"""Reader registry: formats register an `identify` function and a priority (as specutils does).

`read(path)` opens the file once into a `Probe`, asks every registered reader whether it
recognises it (highest priority first), and lets the first match read it. Identification looks
at the file's structure (HDU names, columns, header cards, text shape), never at file names
alone for FITS files and never at a data-release number.
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..errors import (
    BadRedshiftError,
    BadWavelengthError,
    CorruptFileError,
    FileTooLargeError,
    NotASpectrumError,
    NoUsablePixelsError,
    SpectrumReadError,
    TruncatedFileError,
    UnknownFormatError,
    UnsupportedLayoutError,
)
from ..once import once
from ..spectrum import Spectrum
from . import safeio
from .safeio import as_path

FITS_SUFFIXES = (".fits", ".fit", ".fts", ".fits.gz", ".fit.gz", ".fts.gz")


_INFLATE_WHOLE_FOR_HEAD = 4 * 2**20  # compressed bytes


class Probe:
    """A file opened once for identification and reading.

    Every byte comes through `safeio` (regular files only, decompression capped). FITS files
    are checked structurally once (`structure`: every header complete, declared data present,
    structural cards valid) before either FITS view is built, so a truncated or damaged file
    gets a precise error and nothing allocates what a header merely claims. Readers use
    `probe.fits()` / `probe.hdul` and `probe.text_head` rather than reopening the file.
    """

    def __init__(self, path: str | bytes | os.PathLike):
        self.path = as_path(path)
        self._hdul = None

    @property
    def name(self) -> str:
        return self.path.name

    @cached_property
    def head_bytes(self) -> bytes:
        """The first 2,880 bytes, decompressed when the file is gzipped."""
        head = safeio.read_head(self.path, 2880, raw=True)
        if safeio.is_gzip(head) and self.path.stat().st_size <= _INFLATE_WHOLE_FOR_HEAD:
            # Small .gz: inflate it once here, since reading will need all of it anyway.
            return self.data[:2880]
        return safeio.read_head(self.path, 2880) if safeio.is_gzip(head) else head

    @property
    def is_fits(self) -> bool:
        return self.head_bytes.startswith(b"SIMPLE  =")

    @cached_property
    def data(self) -> bytes:
        """The whole (decompressed) file, within the size cap."""
        return safeio.read_bytes(self.path, precheck=self._declared_size_check)

    def _declared_size_check(self, first: bytes) -> None:
        """Refuse a FITS file whose headers declare more data than the cap, before inflating."""
        if first[:9] != b"SIMPLE  =":
            return
        from .fastfits import Unsupported, scan

        try:
            hdus = scan(first, partial=True)
        except Unsupported:
            return  # reported precisely by `structure` once the data is read
        declared = max((start + size for _, start, size in hdus), default=0)
        if declared > safeio.inflate_cap():
            raise safeio.too_large(self.path, "its FITS header declares a file of", declared)

    @cached_property
    def structure(self) -> list[tuple[dict, int, int]]:
        """[(header, data offset, data bytes)] per HDU; raises Truncated/CorruptFileError."""
        if not self.is_fits:
            raise NotASpectrumError(self.path, "not a FITS file (no SIMPLE card at the start)")
        from .fastfits import BadHeader, Truncated, Unsupported, scan

        try:
            return scan(self.data)
        except Truncated as exc:
            raise TruncatedFileError(self.path, str(exc), "download it again") from exc
        except BadHeader as exc:
            raise CorruptFileError(self.path, f"invalid FITS header: {exc}", "download it again") from exc
        except Unsupported as exc:
            raise CorruptFileError(self.path, f"not a valid FITS file: {exc}") from exc

    @property
    def hdul(self):
        """The astropy HDUList (opened on first use, closed by `close`)."""
        if self._hdul is None:
            self.structure  # noqa: B018 - raises the precise error for broken files
            from astropy.io import fits

            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    # From the capped bytes: astropy never inflates or maps the file itself.
                    self._hdul = fits.open(io.BytesIO(self.data), memmap=False, lazy_load_hdus=True)
            except MemoryError as exc:
                raise safeio.too_large(self.path, "the file needs more memory than", len(self.data)) from exc
            except Exception as exc:  # astropy raises many types for broken files
                raise CorruptFileError(
                    self.path, f"FITS file could not be opened: {type(exc).__name__}: {exc}",
                    "the file may be truncated or corrupt; download it again",
                ) from exc
        return self._hdul

    @cached_property
    def fast_hdul(self):
        """A `FastHDUList` (numpy-only FITS view, ~3x faster than astropy) or None.

        None when the file uses features outside the fast subset; readers then use `hdul`
        (astropy). Structural damage raises here already (see `structure`).
        """
        if not self.is_fits:
            return None
        self.structure  # noqa: B018
        from .fastfits import FastHDUList, Unsupported

        try:
            return FastHDUList(self.data)
        except (Unsupported, KeyError, ValueError, TypeError, OverflowError):
            return None

    def fits(self):
        """The fast FITS view when it can parse the file, else astropy's HDUList."""
        return self.fast_hdul or self.hdul

    @cached_property
    def text_head(self) -> list[str]:
        """Up to 50 non-empty lines of a text file ([] for binary/FITS files)."""
        if self.is_fits:
            return []
        try:
            raw = self.head_bytes.decode("utf-8")
        except UnicodeDecodeError as exc:
            # The head is cut at a fixed size, maybe inside a multi-byte character ("Å"):
            # only a bad byte before the last 3 means the file is not UTF-8 text.
            if exc.start < len(self.head_bytes) - 3:
                return []
            raw = self.head_bytes[: exc.start].decode("utf-8")
        lines = [ln.strip() for ln in raw.splitlines()]
        return [ln for ln in lines if ln][:50]

    def text(self) -> str:
        """The whole file as UTF-8 text (gunzipped, capped)."""
        try:
            return self.data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NotASpectrumError(
                self.path, f"text file is not UTF-8 (bad byte at offset {exc.start})",
                "save it as UTF-8",
            ) from exc

    def close(self) -> None:
        if self._hdul is not None:
            try:
                self._hdul.close()
            finally:
                self._hdul = None

    def __enter__(self) -> Probe:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


Identify = Callable[[Probe], bool]
ReadFn = Callable[[Probe], "Spectrum | list[Spectrum]"]


@dataclass(frozen=True)
class Reader:
    name: str
    identify: Identify
    read: ReadFn
    priority: int = 0
    description: str = ""


_READERS: dict[str, Reader] = {}


def register_reader(name: str, identify: Identify, priority: int = 0, description: str = ""):
    """Decorator: register `fn(probe) -> Spectrum | list[Spectrum]` as format `name`."""

    def deco(fn: ReadFn) -> ReadFn:
        if name in _READERS:
            raise ValueError(f"reader {name!r} is already registered")
        _READERS[name] = Reader(name, identify, fn, priority, description or (fn.__doc__ or "").strip().split("\n")[0])
        return fn

    return deco


def list_readers() -> list[Reader]:
    _load_builtin_readers()
    return sorted(_READERS.values(), key=lambda r: -r.priority)


def identify_format(probe: Probe) -> str:
    """Name of the highest-priority reader that recognises the file."""
    for reader in list_readers():
        try:
            ok = reader.identify(probe)
        except SpectrumReadError:
            raise
        except Exception:
            # An identify function that trips on an unexpected structure means "not mine".
            ok = False
        if ok:
            return reader.name
    raise UnknownFormatError(
        probe.path,
        "no reader recognises this file",
        "supported: " + ", ".join(r.name for r in list_readers()),
    )


def read(path: str | bytes | os.PathLike, format: str | None = None) -> Spectrum | list[Spectrum]:
    """Read a spectrum file.

    Returns a `Spectrum`, or a list of them for files that hold several (library tables).
    Raises `SpectrumReadError` naming the file and the problem for anything unreadable.
    """
    _, spectra, several = _read(path, format)
    return spectra if several else spectra[0]


def read_with_format(path: str | os.PathLike, format: str | None = None) -> tuple[str, list[Spectrum]]:
    """Read every spectrum in `path`; return (reader name, spectra). Same checks as `read`."""
    name, spectra, _ = _read(path, format)
    return name, spectra


def _read(path, format) -> tuple[str, list[Spectrum], bool]:
    path = as_path(path)  # bytes names that are not UTF-8 work too
    safeio.check_regular_file(path)  # missing, directory, FIFO, loops, dangling links, empty
    _load_builtin_readers()
    try:
        with Probe(path) as probe:
            name = format or identify_format(probe)
            if name not in _READERS:
                raise UnknownFormatError(path, f"unknown format {name!r}", "see spectype.io.list_readers()")
            try:
                out = _READERS[name].read(probe)
            except SpectrumReadError:
                raise
            except MemoryError as exc:
                raise FileTooLargeError(
                    path, f"reading it as {name} ran out of memory", "the file is too large or corrupt"
                ) from exc
            except Exception as exc:
                # Anything else escaping a reader is a broken/odd file: say which and why.
                raise CorruptFileError(
                    path, f"could not read as {name}: {type(exc).__name__}: {exc}",
                    "the file may be damaged or a variant this reader does not handle",
                ) from exc
    except MemoryError as exc:
        raise FileTooLargeError(path, "reading it ran out of memory", "the file is too large or corrupt") from exc
    several = isinstance(out, list)
    spectra = out if several else [out]
    for spec in spectra:
        check_usable(path, spec)
    return name, spectra, several


def check_usable(path: str | os.PathLike, spec: Spectrum) -> None:
    """Raise a `SpectrumReadError` subclass unless `spec` has increasing wavelengths, a usable
    pixel and (if any) a physical redshift.

    A spectrum whose flux is all NaN, or whose ivar is zero everywhere, carries no
    information: it is refused at read time rather than failing later in preprocessing.
    """
    where = "" if spec.meta.index is None else f" (row {spec.meta.index})"
    if len(spec) == 0:
        raise NoUsablePixelsError(path, f"spectrum{where} has no pixels")
    wave = spec.wavelength
    if not np.all(np.isfinite(wave)) or np.any(np.diff(wave) <= 0):
        raise BadWavelengthError(
            path, f"wavelengths{where} are not finite and strictly increasing",
            "the wavelength array or its header coefficients are corrupt",
        )
    if not np.any(np.isfinite(spec.flux)):
        raise NoUsablePixelsError(path, f"flux{where} is NaN/inf everywhere: no usable pixel")
    if not np.any(spec.ivar > 0):
        raise NoUsablePixelsError(
            path, f"inverse variance{where} is zero everywhere: no usable pixel",
            "the survey marks this spectrum as having no valid data",
        )
    if not np.any(spec.good):
        raise NoUsablePixelsError(path, f"every pixel{where} is masked: no usable pixel")
    z = spec.meta.z
    if z is not None and not (np.isfinite(z) and z > -1.0):
        raise BadRedshiftError(
            path, f"bad redshift{where}: Z = {z:g} is not physical (1 + z must be > 0)",
            "the survey pipeline failed on this spectrum; fix or remove the Z card",
        )


def table_columns(probe: Probe, hdu, required: tuple[str, ...], what: str):
    """(rows, {UPPER name: real name}) of a binary-table HDU, or a `SpectrumReadError` saying
    which required columns are missing or that the table is empty. `what` names the table."""
    names = {c.upper(): c for c in hdu.columns.names}
    missing = [c for c in required if c.upper() not in names]
    if missing:
        raise UnsupportedLayoutError(
            probe.path,
            f"{what} table lacks column(s) {', '.join(missing)}",
            "the file is incomplete or not the format it looks like",
        )
    data = hdu.data
    if data is None or len(data) == 0:
        raise NoUsablePixelsError(probe.path, f"{what} table has no rows")
    return data, names


def survey_mask_and_ivar(flux: np.ndarray, ivar: np.ndarray, andmask) -> tuple[np.ndarray, np.ndarray]:
    """Bad-pixel mask (survey AND-mask bits, ivar <= 0, non-finite flux) and ivar with every
    non-finite or negative value set to 0, as the survey readers return them."""
    mask = (np.asarray(andmask) != 0) | ~(ivar > 0) | ~np.isfinite(flux)
    return mask, np.where(np.isfinite(ivar) & (ivar > 0), ivar, 0.0)


def header_to_dict(header) -> dict:
    """An astropy Header as a plain dict (no COMMENT/HISTORY/blank cards; bad cards skipped)."""
    if isinstance(header, dict):  # fastfits headers already are
        return dict(header)
    out: dict = {}
    with warnings.catch_warnings():
        # Non-standard cards (STELIB's APNUM1, ...) make astropy warn on every access.
        warnings.simplefilter("ignore")
        for card in header.cards:
            key = card.keyword
            if not key or key in ("COMMENT", "HISTORY"):
                continue
            try:
                value = card.value
            except Exception:  # a malformed card must not make the whole file unreadable
                continue
            if isinstance(value, str):
                value = value.strip()
            elif not isinstance(value, bool | int | float):
                value = str(value)
            out[key] = value
    return out


def number_or_none(value) -> float | None:
    """A header/table value as float; None for missing, non-numeric, NaN or a -9999-like sentinel."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    # Survey pipelines write -9999 / -999 (LAMOST) for "not measured".
    if not np.isfinite(x) or x <= -999:
        return None
    return x


def read_all(path: str | os.PathLike, format: str | None = None) -> list[Spectrum]:
    """Like `read`, always returning a list."""
    out = read(path, format)
    return out if isinstance(out, list) else [out]


@once
def _load_builtin_readers() -> None:
    # Import for the side effect of registration; deferred so importing spectype stays cheap.
    from . import formats  # noqa: F401
