from typer.testing import CliRunner

from spectype.cli import app
from spectype.datasets import Pack


def test_simulate_cli_tiny(tmp_path, shared_data):
    out = tmp_path / "sims.h5"
    res = CliRunner().invoke(app, [
        "simulate", "--classes", "A,C", "--per-class", "3", "--libraries", "boss", "--n-profiles", "4",
        "--workers", "1", "-o", str(out), "--fits-dir", str(tmp_path / "fits"), "--data-root", str(shared_data),
    ])
    assert res.exit_code == 0, res.output
    pack = Pack(out)
    assert pack.class_names == ["A", "C"] and len(pack) == 6
    assert len(list((tmp_path / "fits").glob("*.fits"))) == 6
