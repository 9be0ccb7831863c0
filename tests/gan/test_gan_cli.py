"""CLI smoke test: `spectype gan train` -> `gan sample` -> `gan evaluate` on a tiny pack."""

import h5py
import typer
from typer.testing import CliRunner

from spectype.cli.gan_cmds import register


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """test root"""

    register(app)
    return app


def test_train_sample_evaluate(tiny_pack, tmp_path):
    app, runner, run = _app(), CliRunner(), tmp_path / "run"
    res = runner.invoke(
        app,
        [
            "gan",
            "train",
            "--class",
            "O",
            "--data",
            str(tiny_pack),
            "--model",
            "lcgan",
            "--iters",
            "2",
            "--checkpoint-every",
            "1",
            "--batch-size",
            "4",
            "--out",
            str(run),
            "--noise-dim",
            "16",
            "--quiet",
            "--device",
            "cpu",
            "--generator-kwargs",
            '{"channels": [2], "kernel_size": 3}',
            "--discriminator-kwargs",
            '{"channels": [4]}',
        ],
    )
    assert res.exit_code == 0, res.output
    ckpt = run / "checkpoints" / "iter_000002"
    assert (ckpt / "model.safetensors").is_file()

    res = runner.invoke(
        app,
        [
            "gan",
            "sample",
            "--model",
            str(ckpt),
            "-n",
            "5",
            "-o",
            str(tmp_path / "gen.h5"),
            "--seed",
            "1",
        ],
    )
    assert res.exit_code == 0, res.output
    with h5py.File(tmp_path / "gen.h5", "r") as f:
        assert f["flux"].shape == (5, 64)
        assert list(f.attrs["class_names"]) == ["O", "F"] and set(f["label"][:]) == {0}

    res = runner.invoke(
        app,
        [
            "gan",
            "evaluate",
            "--run",
            str(run),
            "--data",
            str(tiny_pack),
            "--comparison",
            "F",
            "-n",
            "10",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "iter_000002" in (run / "gan_eval.md").read_text()


def test_unknown_class_is_a_clear_error(tiny_pack, tmp_path):
    res = CliRunner().invoke(
        _app(),
        ["gan", "train", "--class", "Q", "--data", str(tiny_pack), "--out", str(tmp_path / "r")],
    )
    assert res.exit_code == 1
    assert "class 'Q' not in the pack" in res.output


def test_bad_kwargs_json(tiny_pack, tmp_path):
    res = CliRunner().invoke(
        _app(),
        [
            "gan",
            "train",
            "--class",
            "O",
            "--data",
            str(tiny_pack),
            "--out",
            str(tmp_path / "r"),
            "--generator-kwargs",
            "[1]",
        ],
    )
    assert res.exit_code == 1 and "JSON object" in res.output
