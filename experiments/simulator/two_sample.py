"""Real vs simulated A/F/G at matched SNR: cross-validated ROC AUC of a logistic regression.

python experiments/simulator/two_sample.py   (prints AUC per noise model, top wavelengths)
"""

from __future__ import annotations

import json

import numpy as np
from common import OUT, real_lamost
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


def simulate_matched(real, sources, cfg, profiles, dists, seed):
    rng = np.random.default_rng(seed)
    X, groups = [], []
    for _flux, cls, _sub, snr, _ in real:
        cand = [s for s in sources if s.label.cls == cls]
        src = cand[rng.integers(len(cand))]
        snr = snr if np.isfinite(snr) and snr > 5 else 30.0
        spec = batch_spectra(simulate_source(src, 1, cfg, dists, profiles, rng, snr=np.array([snr])))[0]
        X.append(preprocess(spec, PreprocessConfig()).flux)
        groups.append("sim:" + src.group)
    return np.array(X), groups


def auc(real, Xs, gs, seed=0):
    Xr = np.array([r[0] for r in real])
    X = np.vstack([Xr, Xs])
    y = np.r_[np.zeros(len(Xr)), np.ones(len(Xs))]
    g = [f"real:{r[4]}" for r in real] + gs
    clf = LogisticRegression(C=0.01, max_iter=2000)
    p = cross_val_predict(clf, X, y, groups=g, cv=StratifiedGroupKFold(5, shuffle=True, random_state=seed),
                          method="predict_proba")[:, 1]
    clf.fit(X, y)
    return float(roc_auc_score(y, p)), clf.coef_[0]


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    root = shared_data_root()
    real = real_lamost(("A", "F", "G"), max_per_class=300)
    sources = load_sources(("stelib", "boss"), root / "libraries", ("A", "F", "G"))
    profiles = load_noise_profiles_from(root / "lamost", 200, 0)
    dists = RealDistributions.from_params_csv(root / "lamost" / "dr10_params.csv")
    grid = PreprocessConfig().grid()
    results = {}
    for name, cfg in {
        "before (scaled noise)": SimConfig(noise_mode="scaled"),
        "after (photon noise)": SimConfig(noise_mode="photon"),
    }.items():
        Xs, gs = simulate_matched(real, sources, cfg, profiles, dists, 1)
        a, coef = auc(real, Xs, gs)
        top = grid[np.argsort(-np.abs(coef))[:10]].round(0).tolist()
        results[name] = {"auc": a, "top_wavelengths": top, "n_real": len(real), "n_sim": len(Xs)}
        print(name, json.dumps(results[name]))
        np.save(OUT / f"coef_{name.split()[0]}.npy", coef)
    (OUT / "two_sample.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
