import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support
from typer.testing import CliRunner

from spectype.datasets import Pack
from spectype.errors import ModelLoadError
from spectype.evaluate.run import evaluate_model, resolve_model_dir

ARTEFACTS = [
    "metrics.json", "per_class.csv", "confusion.csv", "confusion.png", "errors_by_subtype.csv",
    "errors_by_subtype.png", "predictions.csv", "report.md",
]


@pytest.fixture(scope="module")
def evaluated(trained_run, eval_pack, tmp_path_factory):
    out = tmp_path_factory.mktemp("eval")
    return evaluate_model(trained_run, eval_pack, split="test", out_dir=out, batch_size=7,
                          device="cpu", command="spectype evaluate RUN --data tiny.h5")


def test_writes_every_artefact(evaluated):
    for name in ARTEFACTS:
        assert (evaluated.out_dir / name).stat().st_size > 0, name
    report = (evaluated.out_dir / "report.md").read_text()
    assert "spectype evaluate RUN --data tiny.h5" in report
    assert "confusion.png" in report and "Are errors at class boundaries" in report


def test_numbers_match_sklearn_on_the_same_predictions(evaluated, eval_pack):
    pred = pd.read_csv(evaluated.out_dir / "predictions.csv")
    names = evaluated.predictions.class_names
    assert len(pred) == len(Pack(eval_pack).indices("test"))
    y_true = pred["true"].map(names.index).to_numpy()
    y_pred = pred["pred"].map(names.index).to_numpy()
    metrics = json.loads((evaluated.out_dir / "metrics.json").read_text())
    assert metrics["accuracy"] == pytest.approx(accuracy_score(y_true, y_pred))
    assert 0.0 <= metrics["accuracy"] <= 1.0
    per_class = pd.read_csv(evaluated.out_dir / "per_class.csv")
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=range(len(names)), zero_division=0)
    np.testing.assert_allclose(per_class[["precision", "recall", "f1"]].to_numpy(), np.c_[p, r, f])
    assert per_class["support"].tolist() == s.tolist()
    cm = pd.read_csv(evaluated.out_dir / "confusion.csv", index_col=0).to_numpy()
    assert cm.tolist() == confusion_matrix(y_true, y_pred, labels=range(len(names))).tolist()
    sub = pd.read_csv(evaluated.out_dir / "errors_by_subtype.csv")
    assert sub["n"].sum() == len(pred)  # every synthetic row has a code
    assert sub["n_correct"].sum() == (y_true == y_pred).sum()
    # Probabilities are a softmax: rows sum to one and argmax is the prediction.
    probs = pred[[f"p_{c}" for c in names]].to_numpy()
    np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-5)
    assert (probs.argmax(1) == y_pred).all()


def test_batch_size_does_not_change_predictions(evaluated, trained_run, eval_pack, tmp_path):
    again = evaluate_model(trained_run / "best", eval_pack, out_dir=tmp_path, batch_size=256,
                           device="cpu", plots=False)
    np.testing.assert_array_equal(again.predictions.y_pred, evaluated.predictions.y_pred)
    np.testing.assert_allclose(again.predictions.probs, evaluated.predictions.probs, atol=1e-5)
    assert not (tmp_path / "confusion.png").exists()


def test_explicit_indices_and_default_out(trained_run, eval_pack):
    rows = Pack(eval_pack).indices("val")[:5]
    res = evaluate_model(trained_run, eval_pack, split="val", indices=rows, device="cpu", plots=False)
    assert res.out_dir == trained_run / "eval-val"
    assert res.metrics["n"] == 5 and res.metrics["explicit_indices"] is True
    assert res.predictions.rows.tolist() == rows.tolist()


def test_bad_folder_says_what_to_pass(tmp_path):
    with pytest.raises(ModelLoadError, match="run folder"):
        resolve_model_dir(tmp_path)


def test_cli_evaluate(trained_run, eval_pack, tmp_path):
    import typer

    from spectype.cli import eval_cmds

    app = typer.Typer()
    eval_cmds.register(app)
    out = tmp_path / "cli"
    res = CliRunner().invoke(app, ["evaluate", str(trained_run), "--data", str(eval_pack),
                                   "-o", str(out), "--device", "cpu", "--no-plots"])
    assert res.exit_code == 0, res.output
    assert "accuracy" in res.output and (out / "metrics.json").is_file()
    bad = CliRunner().invoke(app, ["evaluate", str(tmp_path), "--data", str(eval_pack)])
    assert bad.exit_code == 1 and "run folder" in bad.output
