"""A small subset of the Kesseli et al. (2017) templates shipped with the package.

Without it, the page only has overlays where the Kesseli folder is present (`--templates`,
`--data-root`). The subset has one template per type, O5 to M9 (the dwarf at solar
metallicity when there is one). Each is binned onto a coarse log-wavelength grid
(3e-4 dex, about 3.5 Å at 5000 Å; 3650-9400 Å), normalised to median 1 and stored as
float16. That makes about 180 kB, enough to judge a type by eye, not to fit one.
The templates are MIT-licensed (fkiwy/Spec_tools; KESSELI_LICENSE.txt beside the file).

Rebuild it from the original files with
`python -m spectype.inspect.template_subset ../shared/data/libraries/kesseli`.
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

import numpy as np

from ..atomic import atomic_path
from .templates import SUBSET, TemplateLibrary, read_template

log = logging.getLogger("spectype.inspect")

LOG_START, LOG_STEP, WAVE_END = np.log10(3650.0), 3e-4, 9400.0


def subset_grid() -> np.ndarray:
    n = int(np.floor((np.log10(WAVE_END) - LOG_START) / LOG_STEP)) + 1
    return 10 ** (LOG_START + LOG_STEP * np.arange(n))


def build_subset(folder: str | os.PathLike, out: str | os.PathLike = SUBSET) -> Path:
    """Bin the preferred template of every O-M type in `folder` onto the subset grid."""
    from ..preprocess import resample_flux_conserving

    lib = TemplateLibrary(folder)
    grid = subset_grid()
    names, codes, rows = [], [], []
    for code, entry in lib.by_code.items():
        wave, flux = read_template(entry.path)
        ivar = np.where(np.isfinite(flux), 1.0, 0.0)
        f, _, covered = resample_flux_conserving(wave, np.nan_to_num(flux), ivar, grid)
        f = np.where(covered, f, np.nan)
        f /= np.nanmedian(f)
        names.append(entry.name)
        codes.append(code)
        rows.append(f.astype(np.float16))
    with atomic_path(out) as tmp:
        np.savez_compressed(tmp, names=np.array(names), codes=np.array(codes, dtype=np.float32),
                            flux=np.stack(rows), log_start=LOG_START, log_step=LOG_STEP)
    return Path(out)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", help="folder of Kesseli *.fits.gz templates")
    ap.add_argument("-o", "--output", default=str(SUBSET))
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")  # this module is its own command
    out = build_subset(args.folder, args.output)
    log.info("%s: %.0f kB", out, out.stat().st_size / 1024)


if __name__ == "__main__":
    main()
