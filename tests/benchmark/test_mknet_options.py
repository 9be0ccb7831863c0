"""MKNet's options (subtype head, continuum channel, linear path), the zoo method and the
benchmark's split filter."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from spectype.benchmark.accuracy import AccuracyConfig, run_accuracy
from spectype.benchmark.data import LabelledSet, from_rows
from spectype.benchmark.methods import build_method
from spectype.errors import ConfigError
from spectype.models.registry import create_model
from spectype.train.augment import AugmentConfig
from spectype.train.mknet import MKNetConfig, predict_heads, train_mknet

L = 600
TINY = {"channels": (4, 8), "kernels": (5, 3), "pool_strides": (4, 4), "hidden": 16}
CENTRE = {"A": 60, "F": 200, "G": 340, "K": 480}


def _set(n: int = 12, seed: int = 0) -> LabelledSet:
    rng = np.random.default_rng(seed)
    x = np.arange(L)
    rows = []
    for cls, centre in CENTRE.items():
        for i in range(n):
            sub = i % 4  # subtype 0-3: the line moves with it, so subtypes are learnable
            f = 1.0 - 0.6 * np.exp(-0.5 * ((x - centre - 25 * sub) / 5.0) ** 2) + rng.normal(0, 0.01, L)
            rows.append({"path": f"{cls}{i}", "index": 0, "flux": f.astype(np.float32), "good": np.ones(L, bool),
                         "ivar": np.full(L, 1e4, np.float32), "cls": cls, "code": 10.0 * "OBAFGKM".index(cls) + sub,
                         "lum": "V", "snr": 50.0, "release": "DR10", "name": f"DESIG:{cls}{i}",
                         "ra": np.nan, "dec": np.nan, "survey": "LAMOST"})
    return from_rows(rows, L)


def test_fine_head_class_logit_is_logsumexp_of_its_subtypes():
    m = create_model("mknet", n_classes=8, input_len=L, fine=True, **TINY).eval()
    h = m.heads(torch.rand(3, 2, L))
    assert h["fine_logits"].shape == (3, 80)
    assert torch.allclose(h["logits_raw"], h["fine_logits"].view(3, 8, 10).logsumexp(-1), atol=1e-5)


def test_continuum_channel_ignores_a_smooth_calibration_tilt():
    m = create_model("mknet", n_classes=8, input_len=L, continuum=41, **TINY)
    x = torch.ones(1, L)
    x[0, 480:500] = 0.4  # one absorption line, where the tilt below is ~1.26
    tilt = torch.linspace(0.6, 1.4, L)[None]
    line_a = m.channels(x)[0, 2, 475:505]
    line_b = m.channels(x * tilt)[0, 2, 475:505]
    assert m.channels(x).shape == (1, 3, L)
    # the raw flux there changes by ~26 %; relative to the pseudo-continuum by a few %
    assert torch.allclose(line_a, line_b, atol=0.06)
    assert float(line_a.min()) == pytest.approx(0.4, abs=0.01)


def test_fine_model_reports_the_subtype_distributions_median_as_its_code():
    train, val = _set(12, 0), _set(4, 1)
    cfg = MKNetConfig(epochs=60, batch_size=16, lr=5e-3, code_loss="huber", augment=AugmentConfig(p=0.0),
                      model_kwargs={**TINY, "fine": True, "continuum": 41, "linear": True})
    model, hist = train_mknet(train, val, cfg)
    x = torch.from_numpy(np.stack([val.flux, val.good.astype(np.float32)], 1))
    h = predict_heads(model, x)
    assert (h["logits"].argmax(1) == np.array(["OBAFGKMC".index(c) for c in val.cls])).mean() >= 0.9
    # the subtype distribution's median is within two subtypes of the truth for most rows
    assert np.mean(np.abs(h["code"] - val.code) <= 2) >= 0.8
    assert (h["code_err"] > 0).all() and np.isfinite(h["code_err"]).all()


def _logits_of(p: np.ndarray) -> torch.Tensor:
    return torch.log(torch.from_numpy(np.asarray(p, np.float64)).clamp_min(1e-12)).float()[None]


def test_subtype_code_is_the_median_within_ten_subtypes_of_the_peak():
    from spectype.models.mknet import subtype_code

    # split between F7 (37, 0.55) and G3 (43, 0.45): the mean (39.7) is a subtype neither
    # favours; the median is F7
    p = np.full(80, 1e-9)
    p[37], p[43] = 0.55, 0.45
    code, logvar = subtype_code(_logits_of(p))
    assert float(code) * 10 == pytest.approx(37.0)
    rms = np.sqrt(0.45 * 6**2 + 1 / 12)  # distance from the median, plus the bin's width
    assert float(np.exp(0.5 * logvar)) * 10 == pytest.approx(rms, rel=1e-3)
    # mass more than 10 subtypes from the peak (here K8 = 58 vs the peak A5 = 25) is ignored
    p = np.full(80, 1e-9)
    p[25], p[26], p[58] = 0.4, 0.25, 0.35
    code, _ = subtype_code(_logits_of(p))
    assert float(code) * 10 == pytest.approx(25.0)
    # one sharp subtype: its code, with the bin's width as the error
    p = np.full(80, 1e-9)
    p[42] = 1.0
    code, logvar = subtype_code(_logits_of(p))
    assert float(code) * 10 == pytest.approx(42.0)
    assert float(np.exp(0.5 * logvar)) * 10 == pytest.approx(np.sqrt(1 / 12), rel=1e-3)


def test_zoo_method_fits_any_registered_classifier():
    train, val, test = _set(8, 0), _set(3, 1), _set(3, 2)
    m = build_method("zoo:cnn1d_compact", seed=0)
    m.cfg.epochs = 2
    out = m.fit(train, val).predict(test)
    assert out.proba.shape == (len(test), 8)
    assert np.allclose(out.proba.sum(1), 1, atol=1e-5) and out.code is None
    with pytest.raises(ValueError, match="unknown model"):
        build_method("zoo:nope")


def test_split_filter_runs_only_named_splits(tmp_path, monkeypatch):
    import spectype.benchmark.accuracy as acc

    d = _set(10, 0)
    monkeypatch.setattr(acc, "load_labelled", lambda *a, **k: (d, []))
    cfg = AccuracyConfig(folds=2, methods=("logreg",), libraries=(), native=(), splits=("heldout/1",))
    run_accuracy(["unused"], tmp_path / "out", cfg, progress=False)
    import pandas as pd

    pred = pd.read_parquet(tmp_path / "out" / "predictions.parquet")
    assert set(pred.fold) == {"heldout/1"}
    with pytest.raises(ConfigError, match="no split matches"):
        run_accuracy(["unused"], tmp_path / "out2", AccuracyConfig(folds=2, methods=("logreg",), libraries=(),
                                                                  native=(), splits=("xrel/DR99",)), progress=False)


def test_soft_subtype_targets_stay_in_the_true_class_and_peak_at_the_code():
    from spectype.train.mknet import soft_subtype_target

    code = torch.tensor([39.0, 40.0, 25.5, 49.0])
    y = torch.tensor([3, 4, 2, 3])  # F9, G0, A5.5, and a code outside its class (F, 49)
    t = soft_subtype_target(code, y, 80, 1.0)
    assert torch.allclose(t.sum(1), torch.ones(4))
    cls_of = torch.arange(80) // 10
    assert all(float(t[i, cls_of != y[i]].sum()) == 0.0 for i in range(4))  # no mass outside the class
    assert t[0].argmax() == 39 and t[1].argmax() == 40 and t[3].argmax() == 39  # clamped into F
    assert float(t[2, 25]) == pytest.approx(float(t[2, 26]))  # half-subtype codes split evenly
    assert float(t[0, 38]) == pytest.approx(np.exp(-0.5) * float(t[0, 39]), rel=1e-5)  # Gaussian, sigma 1


def test_auxiliary_targets_train_an_aux_head_on_the_rows_that_have_them(tmp_path):
    from spectype.models.release import load_model, save_model

    train, val = _set(12, 0), _set(4, 1)
    # target: the line's position (standardised), known for every other row only
    pos = np.array([(CENTRE[c] + 25 * (k % 4) - 270) / 150 for c in CENTRE for k in range(12)], np.float32)
    aux = np.where(np.arange(len(pos)) % 2 == 0, pos, np.nan)[:, None]
    cfg = MKNetConfig(epochs=40, batch_size=16, lr=5e-3, augment=AugmentConfig(p=0.0), model_kwargs=dict(TINY))
    model, _ = train_mknet(train, val, cfg, aux=aux)
    assert model.aux_head is not None and model.aux_head.out_features == 1
    x = torch.from_numpy(np.stack([val.flux, val.good.astype(np.float32)], 1))
    h = predict_heads(model, x)
    truth = np.array([(CENTRE[c] + 25 * (k % 4) - 270) / 150 for c in CENTRE for k in range(4)])
    assert np.corrcoef(h["aux"][:, 0], truth)[0, 1] > 0.9
    # saved and loaded with its head; a model trained without aux has none
    save_model(model, tmp_path / "m", class_names=list("OBAFGKMC"), preprocess={"norm": "robust"})
    again = load_model(tmp_path / "m").model
    assert np.allclose(predict_heads(again, x)["aux"], h["aux"], atol=1e-5)
    plain, _ = train_mknet(train, val, MKNetConfig(epochs=1, batch_size=16, model_kwargs=dict(TINY)))
    assert plain.aux_head is None and "aux" not in predict_heads(plain, x)


def test_outlier_head_is_fitted_after_training_and_joins_the_flag_without_changing_predictions():
    from spectype.preprocess import PreprocessConfig
    from spectype.simulate.outliers import outlier_set

    train, val = _set(12, 0), _set(4, 1)
    kw = dict(epochs=15, batch_size=16, lr=5e-3, augment=AugmentConfig(p=0.0), model_kwargs=dict(TINY))
    model, _ = train_mknet(train, val, MKNetConfig(outliers=64, **kw))
    plain, _ = train_mknet(train, val, MKNetConfig(outliers=0, **kw))
    assert model.other_head is not None and plain.other_head is None
    x = torch.from_numpy(np.stack([val.flux, val.good.astype(np.float32)], 1))
    stars, stars_plain = predict_heads(model, x), predict_heads(plain, x)
    # the network trains exactly as without the head: same logits, codes, distances
    for key in ("logits", "code", "code_err", "ood_distance"):
        assert np.array_equal(stars[key], stars_plain[key]), key
    # unseen outliers (another seed) on the same grid are told from the stars
    out, _ = outlier_set(32, np.asarray(PreprocessConfig(n_pix=L).grid()), seed=99)
    odd = predict_heads(model, torch.from_numpy(np.stack([out, np.ones_like(out)], 1)))
    thr = float(model.other_threshold)
    assert np.mean(stars["other_logit"] <= thr) >= 0.9 and np.mean(odd["other_logit"] > thr) >= 0.6
    # its threshold flags the same quantile of training stars as the distance's
    xt = torch.from_numpy(np.stack([train.flux, train.good.astype(np.float32)], 1))
    tr_logit = predict_heads(model, xt)["other_logit"]
    assert thr == pytest.approx(float(np.quantile(tr_logit, 0.995)), abs=1e-3)
    # the flag is the Mahalanobis test OR the outlier logit over its threshold
    expect = (odd["ood_distance"] > float(model.ood_threshold)) | (odd["other_logit"] > thr)
    assert np.array_equal(odd["unlike"].astype(bool), expect)
    h = predict_heads(plain, x)
    assert "other_logit" not in h
    assert np.array_equal(h["unlike"].astype(bool), h["ood_distance"] > float(plain.ood_threshold))
