"""Real vs simulated A/F/G at matched SNR: cross-validated ROC AUC of a logistic regression.

python -m studies.simulator.two_sample [--variants v0,v1,v2]
  v0  library tellurics left in (STELIB uncorrected), no telluric step  (the old simulator)
  v1  STELIB telluric bands divided out (load_sources default), no telluric step
  v2  v1 + the real-data telluric residual step (SimConfig.telluric, the default)
  v3  v2, and each simulation's source is the one nearest the real spectrum's subtype
      (v0-v2 draw any source of the class, so subtype mix differs from the real sample)
  v4  v2, with the real spectra blurred to STELIB's 3 A FWHM where that is coarser than
      R = 1800 (below ~5400 A): tests how much of the gap is the libraries' resolution, which
      the simulator cannot sharpen
  v5  v2 + interstellar Na D from each simulation's E(B-V) (SimConfig.interstellar_nad)
-> out/simulator/two_sample.json, coef_<variant>.npy
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold, cross_val_predict

from spectype.preprocess import PreprocessConfig, preprocess
from spectype.simulate import (
    RealDistributions,
    SimConfig,
    batch_spectra,
    load_noise_profiles_from,
    load_sources,
    shared_data_root,
    simulate_source,
)

from .common import OUT, real_lamost

VARIANTS = {  # (STELIB telluric-corrected, config, match subtype)
    "v0": (False, SimConfig(telluric=False), False),
    "v1": (True, SimConfig(telluric=False), False),
    "v2": (True, SimConfig(telluric=True), False),
    "v3": (True, SimConfig(telluric=True), True),
    "v4": (True, SimConfig(telluric=True), False),
    "v5": (True, SimConfig(telluric=True, interstellar_nad=True), False),
}
BLUR_REAL = {"v4"}
STELIB_FWHM = 3.0  # Angstrom
R_LAMOST = 1800.0


def blur_to_stelib(flux: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Gaussian blur of a (n, L) batch on the log-lambda grid, sigma^2 = s_stelib^2 - s_R^2
    (in Angstrom) where positive."""
    from spectype.simulate.resolution import gaussian_smooth_variable

    fwhm = 2 * np.sqrt(2 * np.log(2))
    s_lib, s_r = STELIB_FWHM / fwhm, grid / R_LAMOST / fwhm
    sig_a = np.sqrt(np.clip(s_lib**2 - s_r**2, 0, None))
    sig_px = sig_a / (grid * np.log(10) * np.diff(np.log10(grid)).mean())
    return np.stack([gaussian_smooth_variable(row, sig_px) for row in flux])


def simulate_matched(real, sources, cfg, profiles, dists, seed, match_subtype=False):
    """One simulation per real spectrum: same class (and, with match_subtype, a source among
    the nearest in subtype code), target SNR = its SNRG."""
    from spectype.labels import parse_label

    rng = np.random.default_rng(seed)
    X, groups = [], []
    for _flux, cls, sub, snr, _ in real:
        cand = [s for s in sources if s.label.cls == cls]
        code = parse_label(sub).code
        if match_subtype and code is not None:
            d = np.array([abs((s.label.code if s.label.code is not None else 99) - code) for s in cand])
            cand = [s for s, di in zip(cand, d, strict=True) if di <= d.min() + 0.5]
        src = cand[rng.integers(len(cand))]
        snr = snr if np.isfinite(snr) and snr > 5 else 30.0
        spec = batch_spectra(simulate_source(src, 1, cfg, dists, profiles, rng, snr=np.array([snr])))[0]
        X.append(preprocess(spec, PreprocessConfig()).flux)
        groups.append("sim:" + src.group)
    return np.array(X), groups


def auc(real, Xs, gs, seed=0):
    """Grouped 5-fold CV AUC of real (0) vs sim (1), and the full-data coefficients."""
    Xr = np.array([r[0] for r in real])
    X = np.vstack([Xr, Xs])
    y = np.r_[np.zeros(len(Xr)), np.ones(len(Xs))]
    g = [f"real:{r[4]}" for r in real] + gs
    clf = LogisticRegression(C=0.01, max_iter=2000)
    p = cross_val_predict(clf, X, y, groups=g, cv=StratifiedGroupKFold(5, shuffle=True, random_state=seed),
                          method="predict_proba")[:, 1]
    clf.fit(X, y)
    return float(roc_auc_score(y, p)), clf.coef_[0]


def top_regions(grid, coef, n_pix=40, merge=15.0):
    """The n_pix largest-|coef| pixels merged into wavelength ranges [(lo, hi, sign)]."""
    idx = np.sort(np.argsort(-np.abs(coef))[:n_pix])
    out = []
    for i in idx:
        w = float(grid[i])
        if out and w - out[-1][1] <= merge:
            out[-1][1] = w
        else:
            out.append([w, w, "+" if coef[i] > 0 else "-"])
    return [(round(a), round(b), s) for a, b, s in out]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--variants", default="v0,v1,v2,v3")
    a = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    root = shared_data_root()
    real = real_lamost(("A", "F", "G"), max_per_class=300)
    profiles = load_noise_profiles_from(root / "lamost", 200, 0)
    dists = RealDistributions.from_params_csv(root / "lamost" / "dr10_params.csv")
    grid = PreprocessConfig().grid()
    path = OUT / "two_sample.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    results = {k: v for k, v in results.items() if k in VARIANTS}
    src_cache = {}
    for name in a.variants.split(","):
        correct, cfg, match = VARIANTS[name]
        if correct not in src_cache:
            src_cache[correct] = load_sources(("stelib", "boss"), root / "libraries", ("A", "F", "G"),
                                              telluric_correct=correct)
        Xs, gs = simulate_matched(real, src_cache[correct], cfg, profiles, dists, 1, match)
        real_used = real
        if name in BLUR_REAL:
            blurred = blur_to_stelib(np.array([r[0] for r in real]), grid)
            real_used = [(b, *r[1:]) for b, r in zip(blurred, real, strict=True)]
        auc_, coef = auc(real_used, Xs, gs)
        top = grid[np.argsort(-np.abs(coef))[:10]].round(0).tolist()
        results[name] = {"auc": auc_, "stelib_telluric_corrected": correct, "telluric_step": cfg.telluric, "match_subtype": match,
                         "interstellar_nad": cfg.interstellar_nad,
                         "real_blurred_to_stelib": name in BLUR_REAL,
                         "top_wavelengths": top, "top_regions": top_regions(grid, coef),
                         "n_real": len(real), "n_sim": len(Xs)}
        print(name, json.dumps(results[name]), flush=True)
        np.save(OUT / f"coef_{name}.npy", coef)
        path.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
