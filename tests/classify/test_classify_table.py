"""Issue 11 item 2: the result table carries position, ids and the model; catalogues are
honoured (index, status, their own columns); --min-coverage; CLI conventions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from classify_support import cli, opts

from spectype.batch import classify_files
from spectype.errors import ConfigError
from spectype.testing import write_lamost_table


def test_position_ids_and_model_columns(spectra, tmp_path, tiny_model):
    out = tmp_path / "o.parquet"
    classify_files([spectra], out, tiny_model, opts())
    df = pd.read_parquet(out).sort_values("path").reset_index(drop=True)
    np.testing.assert_allclose(df.ra, [10.0, 11.0, 12.0, 13.0])
    np.testing.assert_allclose(df.dec, [-5.0, -6.0, -7.0, -8.0])
    assert list(df.obsid) == ["100", "101", "102", "103"]
    assert list(df.designation) == [f"LAMOST J0000{i}" for i in range(4)]
    assert {"model_name", "model_version", "model_hash", "path_hex", "snr", "coverage"} <= set(df.columns)


@pytest.fixture
def catalogue(spectra, tmp_path):
    files = sorted(str(p) for p in spectra.glob("*.fits"))
    cat = pd.DataFrame({
        "path": files,
        "index": [0, 0, 0, 0],
        "status": ["ok", "ok", "excluded", "error"],
        "excluded": [None, None, "white dwarf (DA)", None],
        "error": [None, None, None, "truncated file"],
        "note": ["a", "b", "c", "d"],
        "snr": [1.0, 2.0, 3.0, 4.0],  # clashes with the output's own snr
    })
    path = tmp_path / "cat.parquet"
    cat.to_parquet(path)
    return path


def test_catalogue_status_and_columns_are_honoured(catalogue, tmp_path, tiny_model):
    out = tmp_path / "o.parquet"
    s = classify_files([catalogue], out, tiny_model, opts())
    df = pd.read_parquet(out).sort_values("path").reset_index(drop=True)
    assert len(df) == 4 and s.n_ok == 2 and s.n_excluded == 2 and s.n_errors == 0
    assert list(df.status) == ["ok", "ok", "excluded", "excluded"]
    assert df.pred_class[2:].isna().all() and df.pred_prob[2:].isna().all()  # not classified
    assert "white dwarf (DA)" in df.error[2] and "truncated file" in df.error[3]
    assert list(df.note) == ["a", "b", "c", "d"]
    assert list(df.cat_snr) == [1.0, 2.0, 3.0, 4.0] and df.snr[0] != 1.0
    # resuming classifies nothing twice and keeps the excluded rows once
    again = classify_files([catalogue], out, tiny_model, opts())
    assert again.n_spectra == 0 and len(pd.read_parquet(out)) == 4


def test_only_listed_pairs_are_classified(spectra, tmp_path, tiny_model):
    files = sorted(str(p) for p in spectra.glob("*.fits"))
    cat = tmp_path / "cat.csv"
    pd.DataFrame({"path": [files[0], files[1]], "index": [0, 3]}).to_csv(cat, index=False)
    classify_files([cat], tmp_path / "o.parquet", tiny_model, opts())
    df = pd.read_parquet(tmp_path / "o.parquet").sort_values("path")
    assert len(df) == 2  # files[2:] are in the folder but not listed
    assert list(df.status) == ["ok", "error"] and "lists spectrum index 3" in df.error.iloc[1]


def test_keep_columns_choice(catalogue, tmp_path, tiny_model):
    classify_files([catalogue], tmp_path / "a.parquet", tiny_model, opts(keep_columns="note"))
    cols = set(pd.read_parquet(tmp_path / "a.parquet").columns)
    assert "note" in cols and "cat_snr" not in cols
    classify_files([catalogue], tmp_path / "b.parquet", tiny_model, opts(keep_columns="none"))
    assert "note" not in set(pd.read_parquet(tmp_path / "b.parquet").columns)
    with pytest.raises(ConfigError, match="--keep-columns names \\['nope'\\]"):
        classify_files([catalogue], tmp_path / "c.parquet", tiny_model, opts(keep_columns="note,nope"))


def test_min_coverage_option_and_cli_conventions(tmp_path, tiny_model):
    d = tmp_path / "d"
    d.mkdir()
    write_lamost_table(d / "short.fits", n=150)  # covers ~60% of the model's window
    write_lamost_table(d / "full.fits", n=400)
    code, out = cli(d, "-o", tmp_path / "a.csv", "--model", tiny_model, "-j", "1", "--quiet")
    assert code == 0 and "1 errors" in out
    code, out = cli(d, "--output", tmp_path / "b.csv", "--model", tiny_model, "--workers", "1",
                    "--no-progress", "--min-coverage", "0.5")
    assert code == 0 and "classified 2 spectra" in out and "0 errors" in out
    assert (pd.read_csv(tmp_path / "b.csv").status == "ok").all()


def test_device_defaults_to_auto():
    import inspect

    from spectype.cli.classify_cmds import classify

    assert inspect.signature(classify).parameters["device"].default.default == "auto"
