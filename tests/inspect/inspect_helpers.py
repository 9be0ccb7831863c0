"""Generated inputs for the inspect tests: LAMOST-like files with absorption lines, a small
fake Kesseli template folder, and a classify-style result table written directly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from astropy.io import fits

from spectype.labels import CLASSES
from spectype.testing import write_lamost_table

N = 1500
W0, W1 = 3700.0, 9000.0
LINES = (6564.6, 4862.7, 4341.7, 4102.9, 3971.2, 3934.8, 3969.6, 5891.6, 5897.6)


def lamost_like(path: Path, seed: int, subclass: str = "G2", n: int = N, bad: int = 20) -> Path:
    """A DR9-layout file: smooth continuum, Gaussian absorption lines, a few masked pixels."""
    rng = np.random.default_rng(seed)
    c1 = np.log10(W1 / W0) / (n - 1)
    wave = 10 ** (np.log10(W0) + c1 * np.arange(n))
    flux = 100.0 * (wave / 5000.0) ** -1.5 * (1 + 0.02 * seed)
    for w in LINES:
        flux *= 1 - 0.4 * np.exp(-0.5 * ((wave - w) / 4.0) ** 2)
    flux += rng.normal(0, 0.5, n)
    andmask = np.zeros(n)
    andmask[100 : 100 + bad] = 1  # a masked stretch the page must shade
    ivar = np.where(andmask > 0, 0.0, 4.0)
    cols = {"WAVELENGTH": wave, "FLUX": flux, "IVAR": ivar, "ANDMASK": andmask, "ORMASK": andmask,
            "NORMALIZATION": np.ones(n)}
    return write_lamost_table(path, n=n, columns=cols, OBSID=1000 + seed, SUBCLASS=subclass,
                              COEFF0=np.log10(W0), COEFF1=c1)


def kesseli_like(folder: Path, names=("F8_+0.0_Dwarf", "F9_+0.0_Dwarf", "G0_+0.0_Dwarf",
                                      "G1_+0.0_Dwarf", "G2_+0.0_Dwarf", "G3_+0.0_Dwarf",
                                      "G4_+0.0_Giant", "K2_+0.0_Dwarf", "A0")) -> Path:
    """Kesseli-layout templates (HDU 1: LogLam, Flux), 3,000 log-spaced pixels each."""
    folder.mkdir(parents=True, exist_ok=True)
    loglam = np.linspace(np.log10(3600), np.log10(10000), 3000)
    wave = 10**loglam
    for k, name in enumerate(names):
        flux = (wave / 5000.0) ** (-1.0 - 0.1 * k)
        for w in LINES:
            flux = flux * (1 - 0.3 * np.exp(-0.5 * ((wave - w) / 4.0) ** 2))
        cols = [fits.Column(name="LogLam", format="E", array=loglam.astype(np.float32)),
                fits.Column(name="Flux", format="E", array=flux.astype(np.float32))]
        fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(cols)]).writeto(
            folder / f"{name}.fits.gz", overwrite=True)
    return folder


def result_table(rows: list[dict], path: Path) -> Path:
    """A classify-style table with the columns `spectype classify` writes."""
    out = []
    for r in rows:
        probs = {c: 0.01 for c in CLASSES}
        pred = r.get("pred_class", "G")
        if pred is not None:
            probs[pred] = r.get("pred_prob", 0.8)
            probs[r.get("runner_up", "F")] = 0.1
        out.append({
            "path": str(r["path"]), "index": r.get("index", 0), "id": r.get("id", ""),
            "survey": "LAMOST", "header_class": "STAR", "header_subclass": r.get("header_subclass", "G2"),
            "pred_class": pred, "pred_prob": r.get("pred_prob", 0.8) if pred else np.nan,
            "runner_up": r.get("runner_up", "F") if pred else None,
            "runner_up_prob": 0.1 if pred else np.nan,
            **{f"prob_{c}": (p if pred else np.nan) for c, p in probs.items()},
            "snr": r.get("snr", 30.0), "z": 0.0, "coverage": 1.0,
            "flag_low_snr": r.get("snr", 30.0) < 10, "flag_window_not_covered": False,
            "flag_non_stellar_header": False,
            "status": r.get("status", "ok"), "error": r.get("error"),
            **{k: r[k] for k in ("pred_subtype", "pred_code") if k in r},
        })
    pd.DataFrame(out).to_parquet(path, index=False)
    return path


@pytest.fixture
def small_session_files(tmp_path):
    """Six rows: five good spectra (G, G, F, K, G) and one missing file, plus templates."""
    spec = tmp_path / "spectra"
    spec.mkdir()
    files = [lamost_like(spec / f"s{i}.fits", seed=i) for i in range(5)]
    rows = [
        {"path": files[0], "pred_class": "G", "pred_prob": 0.9, "header_subclass": "G2"},
        {"path": files[1], "pred_class": "G", "pred_prob": 0.5, "header_subclass": "K1"},
        {"path": files[2], "pred_class": "F", "pred_prob": 0.7, "runner_up": "G", "header_subclass": "F5", "snr": 5.0},
        {"path": spec / "missing.fits", "pred_class": None, "status": "error",
         "error": f"{spec / 'missing.fits'}: file not found"},
        {"path": files[3], "pred_class": "K", "pred_prob": 0.6, "runner_up": "G", "header_subclass": "K3",
         "pred_subtype": "K4"},
        {"path": files[4], "pred_class": "G", "pred_prob": 0.95, "header_subclass": "G8"},
    ]
    table = result_table(rows, tmp_path / "results.parquet")
    return {"table": table, "templates": kesseli_like(tmp_path / "kesseli"), "files": files}
