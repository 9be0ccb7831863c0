"""Library source stars: read, label, unify star names into group ids, convolve once.

Policy (docs/simulator.md):
* STELIB (3 Å FWHM, air -> converted to vacuum) and BOSS spEigenStar rows (R ≈ 2000) are the
  default libraries.
* Pickles (R ≈ 500) is coarser than LAMOST and cannot be sharpened: only used when asked for
  (`--libraries ...,pickles`), never convolved, and flagged `resolution_below_target`.
* MKCLASS standards cover 3800-5600 Å only, not the 3700-8672 Å model window: refused.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError
from ..labels import Label, parse_label
from ..preprocess import air_to_vacuum
from .rebin import CumulativeSpectrum
from .resolution import convolve_to_resolution

log = logging.getLogger("spectype.simulate")

LIBRARIES = ("stelib", "boss", "pickles", "miles")
DEFAULT_LIBRARIES = ("stelib", "boss")
LIBRARY_DIRS = {"stelib": "stelib", "boss": "boss", "pickles": "pickles", "miles": "miles",
                "mkclass": "mkclass_libnor36"}
# The source must cover this rest-frame range; output pixels it misses get ivar 0 and a mask
# bit, as LAMOST marks its own gaps (the model pipeline interpolates over them).
REQUIRED_RANGE = (3850.0, 7800.0)
# MILES stops at 7410 Å: its stars are worth having (real K, M and B stars) with the red end
# left as a masked gap, so models must take partial coverage (a good-pixel mask channel).
REQUIRED_RANGES = {"miles": (3850.0, 7300.0)}


@dataclass
class SourceStar:
    """One library spectrum, ready to simulate from.

    key: unique source id ('STELIB:HD002857', 'BOSS:spEigenStar-55734:19').
    group: star id shared by every library that holds the star ('HD2857'), used for splits.
    conv: the spectrum convolved to the target resolution, rest frame, vacuum, as a
    cumulative integral (see rebin.CumulativeSpectrum).
    """

    key: str
    group: str
    library: str
    subclass: str
    label: Label
    resolution: float | None
    flags: list[str] = field(default_factory=list)
    conv: CumulativeSpectrum | None = None
    path: str = ""


_HD_RE = re.compile(r"^HD_?0*(\d+)$", re.I)


def normalise_star_name(name: str) -> str:
    """'HD002857' / 'HD 2857' / '2857' (BOSS cards give bare HD numbers) -> 'HD2857';
    'G_165-39' -> 'G165-39'; anything else upper-cased without spaces or underscores."""
    s = name.strip().replace(" ", "")
    if s.isdigit():
        return f"HD{int(s)}"
    m = _HD_RE.match(s)
    if m:
        return f"HD{int(m[1])}"
    return s.replace("_", "").upper()


def star_group_id(spec, library: str) -> str:
    """Group id of a library spectrum: the star's normalised name where the library names a
    star, so that one star in STELIB and BOSS is one group; else a library-specific id."""
    meta = spec.meta
    if library == "stelib":
        stem = Path(meta.path or "").stem.removeprefix("STELIB_v3.2_")
        name = stem if _HD_RE.match(stem) else (meta.id or stem)
        return normalise_star_name(name)
    if library == "boss":
        star = meta.extra.get("star")
        if star:
            return normalise_star_name(star)
        return f"BOSS:{Path(meta.path or '').stem}:{meta.index}"
    return f"{library.upper()}:{meta.id}"


def _library_spectra(library: str, root: Path) -> list:
    from ..io import read_all
    from ..io.discover import iter_spectrum_files

    folder = root / LIBRARY_DIRS[library]
    if not folder.is_dir():
        raise ConfigError(
            f"library folder {folder} not found; pass --data-root DIR (the folder holding "
            "libraries/) or set SPECTYPE_DATA=DIR"
        )
    out = []
    for path in iter_spectrum_files(folder):
        try:
            out.extend(read_all(path))
        except Exception as exc:  # ReadMe / photometry tables in the Pickles folder, ...
            log.debug("skipping %s: %s", path, exc)
    return out


def prepare_source(spec, library: str, r_target: float = 1800.0) -> SourceStar | None:
    """Spectrum -> SourceStar convolved to r_target, or None (with a debug log) when the
    label is not one of the 8 classes or the spectrum does not cover REQUIRED_RANGE."""
    label = parse_label(spec.meta.subclass)
    if not label.ok:
        log.debug("%s: label %r excluded (%s)", spec.meta.id, spec.meta.subclass, label.excluded)
        return None
    wave = air_to_vacuum(spec.wavelength) if spec.medium == "air" else spec.wavelength
    # Some STELIB files hold runs of exact zeros (e.g. HD037828 at 7580-7640 Å) that are
    # not masked: treat them as gaps, which the convolution interpolates over.
    good = spec.good & (spec.flux != 0)
    need = REQUIRED_RANGES.get(library, REQUIRED_RANGE)
    if not good.any() or wave[good][0] > need[0] or wave[good][-1] < need[1]:
        log.debug("%s: does not cover %s Å", spec.meta.id, need)
        return None
    flags: list[str] = []
    fwhm = spec.meta.extra.get("fwhm_A")
    res = spec.meta.resolution
    if fwhm is None and res is not None and res < r_target:
        flags.append("resolution_below_target")
    grid, flux = convolve_to_resolution(wave, spec.flux, r_target, resolution=res, fwhm_A=fwhm, good=good)
    key = f"{library.upper()}:{spec.meta.id}" if library != "boss" else (
        f"BOSS:{Path(spec.meta.path or '').stem}:{spec.meta.index}"
    )
    return SourceStar(
        key=key,
        group=star_group_id(spec, library),
        library=library,
        subclass=str(spec.meta.subclass),
        label=label,
        resolution=res,
        flags=flags,
        conv=CumulativeSpectrum.from_pixels(grid, flux),
        path=str(spec.meta.path or ""),
    )


def _prepare_one(args) -> SourceStar | None:
    spec, library, r_target = args
    try:
        return prepare_source(spec, library, r_target)
    except Exception as exc:  # one bad spectrum must not stop a library
        log.warning("%s: cannot prepare source (%s); skipped", spec.meta.id, exc)
        return None


def load_sources(
    libraries=DEFAULT_LIBRARIES,
    root: str | Path | None = None,
    classes=None,
    r_target: float = 1800.0,
    workers: int = 1,
    telluric_correct: bool = True,
) -> list[SourceStar]:
    """Every usable source star of the given libraries (and classes, when given). With
    telluric_correct, STELIB's uncorrected O₂/H₂O bands are divided out
    (telluric.correct_library_tellurics), as LAMOST's pipeline removes them from real data."""
    if root is None:  # DATA_ROOT/libraries, never a machine path
        from ..runtime import data_root

        root = data_root() / "libraries"
    root = Path(root)
    items = []
    for lib in libraries:
        if lib == "mkclass":
            raise ConfigError(
                "MKCLASS standards cover only 3800-5600 Å, not the 3700-8672 Å model window; "
                f"use {', '.join(LIBRARIES)}"
            )
        if lib not in LIBRARIES:
            raise ConfigError(f"unknown library {lib!r}; use some of {', '.join(LIBRARIES)}")
        for spec in _library_spectra(lib, root):
            lab = parse_label(spec.meta.subclass)
            if lab.ok and (classes is None or lab.cls in classes):
                items.append((spec, lib, r_target))
    if workers > 1 and len(items) > 8:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(workers) as ex:
            results = list(ex.map(_prepare_one, items, chunksize=8))
    else:
        results = [_prepare_one(it) for it in items]
    sources = [s for s in results if s is not None]
    if telluric_correct and "stelib" in libraries:
        from .telluric import correct_library_tellurics

        if correct_library_tellurics(sources, "stelib") is None:
            log.warning("fewer than 5 STELIB sources: their telluric bands are left in")
    return sources


def count_sources(sources: list[SourceStar]) -> dict[str, dict[str, int]]:
    """class -> {'sources': n spectra, 'stars': n distinct groups, per library counts}."""
    out: dict[str, dict[str, int]] = {}
    for s in sources:
        d = out.setdefault(s.label.cls, {"sources": 0, "stars": 0})
        d["sources"] += 1
        d[s.library] = d.get(s.library, 0) + 1
    for cls in out:
        out[cls]["stars"] = len({s.group for s in sources if s.label.cls == cls})
    return out
