import json

import pandas as pd
import pytest
from typer.testing import CliRunner

import spectype.train
from spectype.experiments.runner import RESULT, reproduce


@pytest.fixture(scope="module")
def first_run(repro_pack, tiny_protocol, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    res = reproduce(tiny_protocol, repro_pack, seeds=2, profile="tiny", out=out,
                    rows=["none", "se"], device="cpu", command="test")
    return res


def test_tables_have_rows_and_fractions(first_run, repro_pack):
    out = first_run.out_dir
    assert sorted(first_run.trained) == [("none", 0), ("none", 1), ("se", 0), ("se", 1)]
    table = pd.read_csv(out / "table.csv")
    assert table["row"].tolist() == ["none", "se"]
    assert table["n_runs"].tolist() == [2, 2]
    assert table["mean_acc"].between(0, 1).all() and (table["std_acc"] >= 0).all()
    runs = pd.read_csv(out / "runs.csv")
    assert len(runs) == 4 and runs["test_acc"].between(0, 1).all()
    assert sorted(runs["seed"].unique()) == [0, 1]
    md = (out / "table.md").read_text()
    assert "| none |" in md and "87.17" in md and "±" in md
    sig = pd.read_csv(out / "significance.csv")
    assert sig[["row_a", "row_b"]].values.tolist() == [["none", "se"]]
    pc = pd.read_csv(out / "per_class.csv")
    assert set(pc["row"]) == {"none", "se"} and set(pc["class"]) == {"A", "F", "G", "K"}
    assert pc["f1"].between(0, 1).all() and (pc["n_runs"] == 2).all()
    for name in ("per_class.md", "significance.md", "confusion_none.png", "confusion_se.csv"):
        assert (out / name).is_file()
    # Each seed is its own split: test rows differ between seed 0 and seed 1.
    r0 = json.loads((out / "none" / "seed0" / RESULT).read_text())
    r1 = json.loads((out / "none" / "seed1" / RESULT).read_text())
    assert r0["config"]["split_seed"] == 0 and r1["config"]["split_seed"] == 1
    assert (out / "none" / "seed0" / "eval-test" / "metrics.json").is_file()
    test0, test1 = (set(pd.read_csv(out / "none" / f"seed{k}" / "eval-test" / "predictions.csv")["row"])
                    for k in (0, 1))
    assert test0 != test1
    # The test rows a run was scored on share no star with the rows it trained on.
    from spectype.datasets import Pack
    from spectype.train import load_config, split_indices

    pack = Pack(repro_pack)
    for k, test in ((0, test0), (1, test1)):
        stored = json.loads((out / "none" / f"seed{k}" / RESULT).read_text())["config"]
        cfg = load_config(None, [f"{key}={json.dumps(v)}" for key, v in stored.items()])
        train_rows = split_indices(pack, cfg)["train"]
        assert len(train_rows) and not set(pack.groups[sorted(test)]) & set(pack.groups[train_rows])


def test_rerun_skips_finished_runs(first_run, repro_pack, tiny_protocol, monkeypatch):
    calls = []
    real_train = spectype.train.train
    monkeypatch.setattr(spectype.train, "train", lambda cfg, **kw: calls.append(cfg) or real_train(cfg, **kw))
    mtime = (first_run.out_dir / "se" / "seed1" / RESULT).stat().st_mtime_ns
    again = reproduce(tiny_protocol, repro_pack, seeds=2, profile="tiny", out=first_run.out_dir,
                      rows=["none", "se"], device="cpu", command="test")
    assert calls == [] and again.trained == []
    assert (first_run.out_dir / "se" / "seed1" / RESULT).stat().st_mtime_ns == mtime
    pd.testing.assert_frame_equal(again.table, first_run.table)


def test_failed_run_is_recorded_and_others_go_on(first_run, repro_pack, tiny_protocol, monkeypatch):
    calls = []
    real_train = spectype.train.train
    monkeypatch.setattr(spectype.train, "train", lambda cfg, **kw: calls.append(cfg) or real_train(cfg, **kw))
    res = reproduce(tiny_protocol, repro_pack, seeds=1, profile="tiny", out=first_run.out_dir,
                    rows=["broken", "none"], device="cpu", command="test")
    assert [f["row"] for f in res.failures] == ["broken"]
    assert "no_such_argument" in res.failures[0]["error"]
    # Only the broken row trains (and fails); the finished "none" seed 0 is reused.
    assert len(calls) == 1 and "no_such_argument" in calls[0].model_kwargs
    assert res.table.set_index("row").loc["none", "n_runs"] == 1
    assert res.table.set_index("row").loc["broken", "n_runs"] == 0
    assert pd.read_csv(res.files["failures"])["row"].tolist() == ["broken"]


def test_cli_reproduce_reuses_runs(first_run, repro_pack, tiny_protocol):
    import typer

    from spectype.cli import eval_cmds

    app = typer.Typer()
    eval_cmds.register(app)
    res = CliRunner().invoke(app, ["reproduce", str(tiny_protocol), "--data", str(repro_pack),
                                   "--seeds", "2", "--profile", "tiny", "--rows", "none,se",
                                   "--out", str(first_run.out_dir), "--device", "cpu"])
    assert res.exit_code == 0, res.output
    assert "table.md" in res.output
    bad = CliRunner().invoke(app, ["reproduce", "table4", "--data", str(repro_pack), "--profile", "fast"])
    assert bad.exit_code == 1 and "unknown profile" in bad.output


def test_rebuilt_pack_at_the_same_path_is_not_reused(repro_pack, tiny_protocol, tmp_path):
    # A finished run must not be reused (or resumed and rescored) on a pack rebuilt with other
    # content at the same path: its old training stars could be in the new test split.
    from .conftest import synthetic

    pack_path = tmp_path / "p.h5"
    synthetic.write_tiny_pack(pack_path, n_pix=256, n_per_class=16, seed=0)
    kw = dict(seeds=1, profile="tiny", out=tmp_path / "o", rows=["none"], device="cpu", command="test")
    assert reproduce(tiny_protocol, pack_path, **kw).trained == [("none", 0)]
    assert reproduce(tiny_protocol, pack_path, **kw).trained == []  # same pack: reused
    synthetic.write_tiny_pack(pack_path, n_pix=256, n_per_class=16, seed=1)
    again = reproduce(tiny_protocol, pack_path, **kw)
    assert again.trained == [] and any("another pack" in str(f) for f in again.failures)
