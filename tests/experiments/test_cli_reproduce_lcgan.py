"""`spectype reproduce lcgan` reaches the protocol with the CLI's arguments (wiring only: the
protocol itself is exercised end to end in test_lcgan_protocol.py)."""

from __future__ import annotations

from typer.testing import CliRunner

from spectype.cli import app


def test_reproduce_lcgan_wires_profile_seeds_and_out(tmp_path, monkeypatch):
    import spectype.experiments.lcgan as lcgan

    seen = {}

    def fake(out_dir, profile, seeds, data_root, device, progress, command=None):
        seen.update(out_dir=out_dir, profile=profile, seeds=seeds, data_root=data_root)
        return {"files": {"table_md": str(tmp_path / "table.md")}, "failures": []}

    monkeypatch.setattr(lcgan, "run_lcgan_protocol", fake)
    r = CliRunner().invoke(app, ["reproduce", "lcgan", "--profile", "quick", "--seeds", "2", "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert seen == {"out_dir": tmp_path, "profile": "quick", "seeds": 2, "data_root": None}
    assert "table.md" in r.output


def test_reproduce_table_without_data_says_what_to_do():
    r = CliRunner().invoke(app, ["reproduce", "table4", "--profile", "quick"])
    assert r.exit_code != 0 and "--data" in " ".join(r.output.split())
