"""MKNet's label-convention input (survey vs library labels): builds, trains, round-trips
through a model folder, changes the map per convention, and old folders without it still load."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from scipy.special import softmax

from spectype.benchmark.data import from_rows
from spectype.benchmark.methods import build_method
from spectype.models.mknet import CONVENTIONS, convention_of
from spectype.models.registry import create_model
from spectype.models.release import load_model, save_model
from spectype.train.augment import AugmentConfig
from spectype.train.mknet import (
    MKNetConfig,
    conventions_of,
    predict_heads,
    train_mknet,
    unseen_by_survey,
)

L = 256
TINY = {"channels": (4, 8), "kernels": (5, 3), "pool_strides": (4, 4), "hidden": 16, "fine": True, "continuum": 21}


def _rows(n: int, seed: int) -> list[dict]:
    """Two classes of survey rows."""
    rng = np.random.default_rng(seed)
    x, rows = np.arange(L), []
    for cls, centre in (("F", 60), ("G", 180)):
        for i in range(n):
            f = 1.0 - 0.5 * np.exp(-0.5 * ((x - centre) / 4.0) ** 2) + rng.normal(0, 0.01, L)
            rows.append({"path": f"{cls}{seed}-{i}", "index": 0, "flux": f.astype(np.float32),
                         "good": np.ones(L, bool), "ivar": np.full(L, 1e4, np.float32), "cls": cls,
                         "code": 10.0 * "OBAFGKM".index(cls) + i % 10, "lum": "V", "snr": 50.0,
                         "release": "DR10", "name": f"DESIG:{cls}{seed}-{i}",
                         "ra": np.nan, "dec": np.nan, "survey": "LAMOST"})
    return rows


def _set(n: int, seed: int):
    data = from_rows(_rows(n, seed), L)
    data.release[1::2] = "sim"  # set after from_rows, which pools small releases
    return data


def _model(**kw):
    torch.manual_seed(0)
    return create_model("mknet", n_classes=8, input_len=L, **{**TINY, **kw}).eval()


def test_convention_of_release():
    assert [convention_of(r) for r in ("DR10", "DR8", "SDSS", "LAMOST-DR9", "sim", "native-miles")] == [0, 0, 0, 0, 1, 1]
    assert CONVENTIONS[0] == "survey"


def test_predictions_differ_by_convention_only_when_the_embedding_differs():
    m = _model(conventions=2)
    x = torch.rand(4, 2, L)
    # zero at initialisation: both conventions start from one shared map
    assert torch.equal(m(x), m(x, "library"))
    with torch.no_grad():
        m.film.weight[1].normal_(0, 0.5)
    survey, library = m.heads(x), m.heads(x, "library")
    assert torch.equal(survey["logits"], m(x, "survey")) and torch.equal(survey["logits"], m(x))
    assert not torch.allclose(survey["logits"], library["logits"])
    assert not torch.allclose(survey["code"], library["code"])
    # per-row indices pick each row's own map
    mixed = m.heads(x, torch.tensor([0, 1, 0, 1]))["logits"]
    assert torch.equal(mixed[0::2], survey["logits"][0::2]) and torch.allclose(mixed[1::2], library["logits"][1::2])
    with pytest.raises(ValueError, match="unknown convention"):
        m(x, "mk")


def test_model_without_conventions_refuses_a_library_prediction():
    m = _model()
    x = torch.rand(2, 2, L)
    assert m.film is None and torch.equal(m(x), m(x, "survey"))
    with pytest.raises(ValueError, match="built without conventions"):
        m(x, "library")
    with pytest.raises(ValueError, match="conventions must be 0"):
        _model(conventions=3)


def test_convention_model_trains_and_round_trips_through_a_folder(tmp_path):
    train, val = _set(8, 0), _set(3, 1)
    assert conventions_of(train).tolist().count(1) == len(train) // 2
    cfg = MKNetConfig(epochs=2, batch_size=8, augment=AugmentConfig(p=0.0), model_kwargs={**TINY, "conventions": 2})
    model, hist = train_mknet(train, val, cfg)
    assert len(hist) == 2 and np.isfinite(hist[-1]["loss"])
    # the library convention's FiLM row was trained (it starts at zero)
    assert float(model.film.weight[1].abs().sum()) > 0
    folder = save_model(model, tmp_path / "m", class_names=list("OBAFGKMC"), preprocess={"norm": "robust"})
    assert json.loads((folder / "config.json").read_text())["arch"]["kwargs"]["conventions"] == 2
    loaded = load_model(folder).model
    x = torch.from_numpy(np.stack([val.flux, val.good.astype(np.float32)], 1))
    for conv in ("survey", "library"):
        a, b = predict_heads(model, x, convention=conv), predict_heads(loaded, x, convention=conv)
        assert np.allclose(a["logits"], b["logits"], atol=1e-5)
        assert np.allclose(a["code"], b["code"], atol=1e-4)


def test_library_rows_of_classes_the_survey_never_labels_are_shared():
    y = torch.tensor([1, 2, 2, 3, 1, 7])  # B, A, A, F, B, C
    conv = torch.tensor([1, 0, 1, 0, 0, 1])
    # the library A is disputed (the survey labels A); the library C is not; the first B is
    # not shared because a survey row is B
    assert unseen_by_survey(y, conv).tolist() == [False, False, False, False, False, True]
    train, val = _set(6, 0), _set(2, 1)
    train.cls[1::2] = "B"  # the library rows are all of a class the survey rows lack
    cfg = MKNetConfig(epochs=1, batch_size=8, augment=AugmentConfig(p=0.0), share_unseen=True,
                      model_kwargs={**TINY, "conventions": 2})
    model, hist = train_mknet(train, val, cfg)
    assert np.isfinite(hist[0]["loss"]) and float(model.film.weight[0].abs().sum()) > 0


def test_old_folder_without_the_key_still_loads(tmp_path):
    m = _model()
    m.ood_threshold.fill_(1.0)  # an untrained model's is inf, which the loader refuses
    folder = save_model(m, tmp_path / "old", class_names=list("OBAFGKMC"), preprocess={"norm": "robust"})
    cfg = json.loads((folder / "config.json").read_text())
    del cfg["arch"]["kwargs"]["conventions"]  # as written before the option existed
    (folder / "config.json").write_text(json.dumps(cfg))
    loaded = load_model(folder).model
    x = torch.rand(3, 2, L)
    assert loaded.conventions == 0 and torch.allclose(loaded(x), m(x), atol=1e-6)


def test_benchmark_method_mknet_conv_predicts_each_row_in_its_own_convention():
    train, val, test = _set(6, 0), _set(2, 1), _set(2, 2)
    meth = build_method("mknet_conv", mknet_cfg=MKNetConfig(epochs=1, batch_size=8, augment=AugmentConfig(p=0.0),
                                                            model_kwargs=TINY))
    assert meth.cfg.model_kwargs["conventions"] == 2 and "conventions" not in TINY
    meth.fit(train, val)
    with torch.no_grad():
        meth.model.film.weight[1].add_(1.0)  # make the library map clearly different
    out = meth.predict(test)
    x = torch.from_numpy(np.stack([test.flux, test.good.astype(np.float32)], 1))
    # survey rows as a user's spectra ("auto", the default), library rows in the library map
    auto, library = predict_heads(meth.model, x), predict_heads(meth.model, x, convention="library")
    survey = predict_heads(meth.model, x, convention="survey")
    lib = conventions_of(test).numpy() == 1
    assert np.allclose(out.proba[~lib], softmax(auto["logits"][~lib], axis=1), atol=1e-5)
    assert np.allclose(out.proba[lib], softmax(library["logits"][lib], axis=1), atol=1e-5)
    assert not np.allclose(library["logits"][lib], survey["logits"][lib])
    only_lib = meth.predict(test.take(np.flatnonzero(lib)))  # a set of library rows only
    assert np.allclose(only_lib.proba, softmax(library["logits"][lib], axis=1), atol=1e-5)
    # every row in the survey convention, as a user's spectrum is
    assert np.allclose(meth.predict(test, convention="survey").proba, softmax(survey["logits"], axis=1), atol=1e-5)


def test_auto_gives_classes_the_survey_never_saw_the_library_maps_probability():
    train, val, test = _set(6, 0), _set(2, 1), _set(3, 2)
    model, _ = train_mknet(train, val, MKNetConfig(epochs=1, batch_size=8, augment=AugmentConfig(p=0.0),
                                                   model_kwargs={**TINY, "conventions": 2}))
    # survey rows are F and G only: every other class is left to the library map
    assert model.survey_classes.tolist() == [c in "FG" for c in "OBAFGKMC"]
    unseen = ~model.survey_classes.numpy()
    x = torch.from_numpy(np.stack([test.flux, test.good.astype(np.float32)], 1))
    cases = set()
    for push in (0.0, 6.0):  # then B's subtypes pushed up in the library map only: rows land on B
        with torch.no_grad():
            model.film.weight[1].add_(0.5)
            model.class_head.bias[10:20] += push
        auto, surv, lib = (predict_heads(model, x, convention=c) for c in ("auto", "survey", "library"))
        assert np.allclose(predict_heads(model, x)["logits"], auto["logits"])  # auto is the default
        pa, ps, pl = (softmax(h["logits"], axis=1) for h in (auto, surv, lib))
        assert np.allclose(pa.sum(1), 1, atol=1e-5)
        assert np.allclose(pa[:, unseen], pl[:, unseen], atol=1e-5)
        # over the survey's own classes, the survey's relative probabilities
        assert np.allclose(pa[:, ~unseen] / pa[:, ~unseen].sum(1, keepdims=True),
                           ps[:, ~unseen] / ps[:, ~unseen].sum(1, keepdims=True), atol=1e-5)
        on_unseen = unseen[pa.argmax(1)]
        cases |= set(on_unseen.tolist())
        # a row called an unseen class takes its type code from the library map, others the survey's
        assert np.allclose(auto["code"][on_unseen], lib["code"][on_unseen])
        assert np.allclose(auto["code"][~on_unseen], surv["code"][~on_unseen])
        with torch.no_grad():  # forward (what classify calls) gives the same probabilities
            assert np.allclose(torch.softmax(model(x), 1).numpy(), pa, atol=1e-5)
    assert cases == {True, False}
