"""Template overlays: the Kesseli et al. (2017) empirical SDSS templates, read on demand.

A folder of `{type}[_{[Fe/H]}][_{Dwarf|Giant}].fits.gz` files (HDU 1 table with `LogLam`
(log10 vacuum Å) and `Flux`), e.g. `G2_+0.0_Dwarf.fits.gz`. For a prediction we overlay the
template of the predicted type, its neighbours (±1 subtype, across class borders: G0's lower
neighbour is F9) and the runner-up class at the same subtype, each scaled to the spectrum by
least squares over its good pixels. Only the index of names is built up front; a template's
file is read (and kept, a few dozen at most) the first time it is drawn.

Kesseli has no carbon-star templates: a C prediction gets no overlay and says so.
"""

from __future__ import annotations

import os
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_NAME_RE = re.compile(
    r"^(?P<cls>[OBAFGKM])(?P<sub>\d(?:\.\d)?)(?:_(?P<feh>[+-]\d\.\d))?(?:_(?P<lum>Dwarf|Giant))?\.fits(?:\.gz)?$"
)
_TEMP = "OBAFGKM"
# The coarse subset `python -m spectype.inspect.template_subset` builds (not committed).
SUBSET = Path(__file__).parent / "static" / "kesseli_subset.npz"
_TEMP_SET = frozenset(_TEMP)  # membership tests: None or "" must not match a string


@dataclass(frozen=True)
class TemplateEntry:
    name: str  # e.g. 'G2 V' for display
    path: Path | None  # the file; None for a row of the packaged subset
    code: float  # 10 * class index + subtype
    lum: str  # 'Dwarf', 'Giant' or '' (the early types carry no luminosity in their names)
    feh: float
    row: int | None = None  # row in the packaged subset

    @property
    def file(self) -> str:
        return self.path.name if self.path is not None else f"packaged subset row {self.row}"

    @property
    def rank(self) -> tuple:
        """Lower is preferred when a type has several files: dwarfs, then unlabelled, then
        giants; solar metallicity first."""
        return ({"Dwarf": 0, "": 1, "Giant": 2}[self.lum], abs(self.feh))


def index_templates(folder: str | os.PathLike) -> list[TemplateEntry]:
    """Every recognised template file in `folder` (names only; nothing is read)."""
    out = []
    for p in sorted(Path(folder).glob("*.fits*")):
        m = _NAME_RE.match(p.name)
        if not m:
            continue
        code = 10.0 * _TEMP.index(m["cls"]) + float(m["sub"])
        lum = m["lum"] or ""
        label = f"{m['cls']}{m['sub']}" + {"Dwarf": " V", "Giant": " III", "": ""}[lum]
        out.append(TemplateEntry(label, p, code, lum, float(m["feh"] or 0.0)))
    return out


def read_template(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """(vacuum wavelength Å, flux) of one Kesseli file. Raises ValueError naming the file."""
    from astropy.io import fits

    try:
        with fits.open(path, memmap=False) as hdul:
            data = hdul[1].data
            wave = 10 ** np.asarray(data["LogLam"], dtype=np.float64)
            flux = np.asarray(data["Flux"], dtype=np.float64)
    except Exception as exc:
        raise ValueError(f"{path}: not a Kesseli template (HDU 1 with LogLam, Flux): {exc}") from exc
    order = np.argsort(wave)
    return wave[order], flux[order]


class TemplateLibrary:
    """Picks and scales overlays. `folder=None` gives an empty library (no overlays)."""

    def __init__(self, folder: str | os.PathLike | None, cache_size: int = 24,
                 entries: list[TemplateEntry] | None = None, label: str | None = None):
        self.folder = Path(folder) if folder else None
        self.label = label or (str(self.folder) if self.folder else None)
        self._packed: tuple[np.ndarray, np.ndarray] | None = None
        if entries is None:
            entries = index_templates(self.folder) if self.folder and self.folder.is_dir() else []
        # One file per type code: the preferred luminosity / metallicity.
        best: dict[float, TemplateEntry] = {}
        for e in entries:
            if e.code not in best or e.rank < best[e.code].rank:
                best[e.code] = e
        self.by_code = dict(sorted(best.items()))
        self.codes = np.array(list(self.by_code), dtype=float)
        self._cache: OrderedDict[Path, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    @classmethod
    def packaged(cls) -> TemplateLibrary:
        """The subset shipped in the package (built by template_subset.py); empty if missing."""
        if not SUBSET.is_file():
            return cls(None)
        with np.load(SUBSET) as z:
            names, codes, flux = z["names"], z["codes"], z["flux"].astype(np.float64)
            wave = 10 ** (float(z["log_start"]) + float(z["log_step"]) * np.arange(flux.shape[1]))
        entries = [TemplateEntry(str(n), None, float(c), "", 0.0, row=i)
                   for i, (n, c) in enumerate(zip(names, codes, strict=True))]
        lib = cls(SUBSET.parent, entries=entries, label="packaged Kesseli subset (coarse, 3.5 Å/px)")
        lib._packed = (wave, flux)
        return lib

    def __len__(self) -> int:
        return len(self.by_code)

    def _load(self, entry: TemplateEntry) -> tuple[np.ndarray, np.ndarray]:
        if entry.row is not None and self._packed is not None:
            return self._packed[0], self._packed[1][entry.row]
        with self._lock:
            if entry.path in self._cache:
                self._cache.move_to_end(entry.path)
                return self._cache[entry.path]
        arrays = read_template(entry.path)
        with self._lock:
            self._cache[entry.path] = arrays
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return arrays

    def nearest(self, code: float) -> float | None:
        if not len(self.codes):
            return None
        return float(self.codes[np.argmin(np.abs(self.codes - code))])

    def choose(self, pred_class: str | None, subtype: float | None,
               runner_up: str | None) -> list[tuple[str, TemplateEntry]]:
        """[(role, entry)]: role 'pred', 'lower', 'upper' or 'runner_up'. Missing ones are left out."""
        out: list[tuple[str, TemplateEntry]] = []
        if not len(self.codes) or pred_class not in _TEMP_SET:
            return out
        sub = 5.0 if subtype is None or not np.isfinite(subtype) else float(subtype)
        centre = self.nearest(10.0 * _TEMP.index(pred_class) + sub)
        i = int(np.flatnonzero(self.codes == centre)[0])
        out.append(("pred", self.by_code[centre]))
        if i > 0:
            out.append(("lower", self.by_code[float(self.codes[i - 1])]))
        if i + 1 < len(self.codes):
            out.append(("upper", self.by_code[float(self.codes[i + 1])]))
        if runner_up in _TEMP_SET and runner_up != pred_class:
            c = self.nearest(10.0 * _TEMP.index(runner_up) + sub)
            if c is not None and int(c // 10) == _TEMP.index(runner_up):
                out.append(("runner_up", self.by_code[c]))
        return out

    def overlays(self, wave: np.ndarray, flux: np.ndarray, good: np.ndarray,
                 pred_class: str | None, subtype: float | None,
                 runner_up: str | None) -> tuple[list[dict], str | None]:
        """Scaled templates on the spectrum's rest-frame vacuum grid, and a note when there are
        none (no library, a carbon prediction, ...)."""
        if self.folder is None or not len(self):
            return [], "no template library: pass --templates DIR (Kesseli *.fits.gz) or --data-root"
        picks = self.choose(pred_class, subtype, runner_up)
        note = None
        if pred_class not in _TEMP_SET:
            note = f"no {pred_class or 'predicted'} template in {self.label} (Kesseli has no carbon stars)"
        out = []
        for role, entry in picks:
            try:
                t_wave, t_flux = self._load(entry)
            except ValueError as exc:
                note = str(exc)
                continue
            t = resample_template(t_wave, t_flux, wave)
            scale = lsq_scale(flux, t, good)
            if scale is None:
                continue
            matched = lsq_tilt(wave, flux, t, good)
            out.append({"role": role, "name": entry.name, "file": entry.file,
                        "scale": scale, "flux": np.where(np.isfinite(t), t * scale, np.nan),
                        "flux_matched": matched if matched is not None else t * scale})
        return out, note


def resample_template(t_wave: np.ndarray, t_flux: np.ndarray, wave: np.ndarray) -> np.ndarray:
    """Template flux on `wave` (bin-integral means, so the 1-Å Kesseli sampling is degraded to
    the spectrum's pixels); NaN outside the template's range."""
    from ..preprocess import resample_flux_conserving

    if np.median(np.diff(np.log(t_wave))) > np.median(np.diff(np.log(wave))):
        # A template coarser than the spectrum (the packaged subset): interpolate, since bin
        # means would draw a staircase.
        inside = (wave >= t_wave[0]) & (wave <= t_wave[-1])
        return np.where(inside, np.interp(wave, t_wave, t_flux), np.nan)
    ivar = np.where(np.isfinite(t_flux), 1.0, 0.0)
    f, _, covered = resample_flux_conserving(t_wave, np.nan_to_num(t_flux), ivar, wave)
    return np.where(covered, f, np.nan)


def lsq_scale(flux: np.ndarray, template: np.ndarray, good: np.ndarray) -> float | None:
    """s minimising sum over good pixels of (flux - s * template)^2; None with < 10 pixels."""
    ok = good & np.isfinite(template) & np.isfinite(flux)
    if ok.sum() < 10:
        return None
    t, f = template[ok], flux[ok]
    den = float(np.dot(t, t))
    return float(np.dot(f, t) / den) if den > 0 else None


def lsq_tilt(wave: np.ndarray, flux: np.ndarray, template: np.ndarray, good: np.ndarray,
             degree: int = 2) -> np.ndarray | None:
    """The template times the polynomial in wavelength (degree 2) that best fits the spectrum
    over good pixels: takes out flux-calibration and reddening slopes (LAMOST fluxes are only
    relatively calibrated) so line depths can be compared. None with too few pixels."""
    ok = good & np.isfinite(template) & np.isfinite(flux)
    if ok.sum() < 10 * (degree + 1):
        return None
    lo, hi = float(wave[ok].min()), float(wave[ok].max())
    x = (wave - 0.5 * (lo + hi)) / max(0.5 * (hi - lo), 1e-9)
    basis = np.stack([x**k for k in range(degree + 1)], axis=1)  # (n, degree+1)
    design = basis[ok] * template[ok, None]
    coef, *_ = np.linalg.lstsq(design, flux[ok], rcond=None)
    return np.where(np.isfinite(template), template * (basis @ coef), np.nan)


def default_template_dir(templates: str | os.PathLike | None,
                         data_root: str | os.PathLike | None) -> Path | None:
    """--templates wins; else DATA_ROOT/libraries/kesseli when it exists; else None."""
    if templates:
        return Path(templates)
    # Same order as the other commands' --data-root: flag, $SPECTYPE_DATA (or the older
    # $SPECTYPE_SHARED_DATA), then ../shared/data from a checkout.
    candidates = [data_root, os.environ.get("SPECTYPE_DATA"), os.environ.get("SPECTYPE_SHARED_DATA"),
                  Path.cwd() / ".." / "shared" / "data"]
    for root in candidates:
        if root:
            folder = Path(root).expanduser() / "libraries" / "kesseli"
            if folder.is_dir():
                return folder.resolve()
    return None
