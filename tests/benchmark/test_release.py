"""A released MKNet folder: trained by the benchmark recipe, loaded, and its extra outputs."""

from __future__ import annotations

import numpy as np
import torch

import spectype.benchmark.release as release
from spectype.benchmark.accuracy import AccuracyConfig
from spectype.benchmark.data import from_rows
from spectype.models.predict import extra_columns, predict_outputs
from spectype.models.release import load_model
from spectype.train.mknet import MKNetConfig

from .test_accuracy import L, _rows

TINY = {"channels": (4, 8), "kernels": (5, 3), "pool_strides": (8, 8), "hidden": 16}


def test_release_folder_round_trip_and_outputs(tmp_path, monkeypatch):
    data = from_rows(_rows(13, "DR10", 0) + _rows(13, "DR8", 1), L)
    monkeypatch.setattr(release, "assemble", lambda *a, **k: (data, []))
    cfg = AccuracyConfig(libraries=(), native=(), mknet=MKNetConfig(epochs=2, model_kwargs=TINY))
    folder = release.train_release_model(["unused"], tmp_path / "model", cfg, progress=False, say=lambda s: None)
    m = load_model(folder)
    assert m.config["arch"]["name"] == "mknet" and m.preprocess["norm"] == "robust"
    # partial coverage is accepted by classify: the mask channel carries it
    assert m.preprocess["min_coverage"] < 0.95
    assert float(m.model.temperature) != 1.0  # fitted on the validation stars and saved
    assert np.isfinite(float(m.model.ood_threshold))
    flux = data.flux[:5]
    good = data.good[:5].copy()
    out = predict_outputs(m.model, flux, good, batch_size=2)
    assert out["proba"].shape == (5, 8) and np.allclose(out["proba"].sum(1), 1, atol=1e-5)
    assert out["code"].shape == (5,) and np.all(out["code_err"] > 0)
    # masking pixels changes the input the model sees
    good[:, :1000] = False
    assert not np.allclose(predict_outputs(m.model, flux, good, 5)["proba"], out["proba"])
    cols = extra_columns(out, 0, "G")
    assert cols["pred_subtype"].startswith("G") and cols["pred_lum_class"] in ("I", "II", "III", "IV", "V")
    assert extra_columns(out, 0, "C")["pred_subtype"] is None
    # a model without heads gives the same schema with empty values
    plain = torch.nn.Sequential(torch.nn.Linear(L, 8))
    o2 = predict_outputs(plain, flux, None, 4)
    assert set(o2) == {"proba"} and np.isnan(extra_columns(o2, 0, "G")["pred_code"])
    # classify fills the multitask columns from the folder's heads (and keeps them empty for
    # spectra it could not classify)
    import spectype
    from spectype.testing import write_lamost_table

    f = write_lamost_table(tmp_path / "spec.fits", n=3800, SUBCLASS="G2")
    (tmp_path / "junk.fits").write_bytes(b"not a spectrum")
    df = spectype.classify([str(f), str(tmp_path / "junk.fits")], model=str(folder))
    ok = df[df.status == "ok"].iloc[0]
    assert np.isfinite(ok.pred_code) and ok.pred_code_err > 0
    assert ok.pred_subtype[0] == ok.pred_class and ok.pred_lum_class in ("I", "II", "III", "IV", "V")
    bad = df[df.status != "ok"].iloc[0]
    assert np.isnan(bad.pred_code) and bad.pred_subtype in (None, "") or bad.pred_subtype != bad.pred_subtype
