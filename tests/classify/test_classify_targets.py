"""Issue 14 items 1, 4, 9: file names, output targets, resume identity, exit codes."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from classify_support import cli, opts, write_spectra

from spectype.batch import classify_files
from spectype.errors import ConfigError
from spectype.testing import write_lamost_table


def _sha(p: Path) -> str:
    return hashlib.sha1(p.read_bytes()).hexdigest()


def test_non_utf8_file_name_gets_a_row_and_resumes(tmp_path, tiny_model):
    d = tmp_path / "d"
    d.mkdir()
    write_lamost_table(d / "ok.fits", n=400)
    bad = os.fsdecode(bytes(d) + b"/bad\xe9.fits")  # not valid UTF-8
    write_lamost_table(Path(bad), n=400)
    for out in (tmp_path / "o.parquet", tmp_path / "o.csv"):
        s = classify_files([d], out, tiny_model, opts())
        assert s.n_ok == 2
        df = pd.read_parquet(out) if out.suffix == ".parquet" else pd.read_csv(out)
        assert len(df) == 2 and (df.status == "ok").all()
        row = df[df.path.str.contains("bad")].iloc[0]
        assert row.path.endswith("bad\\xe9.fits")  # readable form
        assert os.fsdecode(bytes.fromhex(row.path_hex)) == bad  # exact bytes, lossless
        again = classify_files([d], out, tiny_model, opts())
        assert again.n_skipped == 2 and again.n_spectra == 0


def test_catalog_to_frame_keeps_a_non_utf8_name(tmp_path):
    from spectype.catalog import scan

    d = tmp_path / "d"
    d.mkdir()
    write_lamost_table(Path(os.fsdecode(bytes(d) + b"/bad\xe9.fits")), n=400)
    df = scan([d], workers=1)
    df.to_parquet(tmp_path / "cat.parquet")
    assert df.path.iloc[0].endswith("bad\\xe9.fits")
    assert os.fsdecode(bytes.fromhex(df.path_hex.iloc[0])).endswith("bad\udce9.fits")


def test_every_input_failing_exits_non_zero(tmp_path, tiny_model):
    (tmp_path / "x.fits").write_text("not a spectrum")
    code, out = cli(tmp_path / "x.fits", "-o", tmp_path / "x.parquet", "--model", tiny_model, "-j", "1", "-q")
    assert code == 1 and "every one of the 1 spectra failed" in out
    empty = tmp_path / "empty"
    empty.mkdir()
    code, out = cli(empty, "-o", tmp_path / "e.parquet", "--model", tiny_model, "-q")
    assert code == 1 and "no spectrum files found" in out
    write_lamost_table(tmp_path / "good.fits", n=400)
    code, _ = cli(tmp_path / "good.fits", tmp_path / "x.fits", "-o", tmp_path / "m.parquet", "--model", tiny_model, "-q")
    assert code == 0  # some failed, not all


def test_catalogue_as_its_own_output_is_refused_and_unchanged(spectra, tmp_path, tiny_model):
    cat = tmp_path / "cat.parquet"
    pd.DataFrame({"path": sorted(map(str, spectra.glob("*.fits"))), "index": 0}).to_parquet(cat)
    before = _sha(cat)
    code, out = cli(cat, "-o", cat, "--model", tiny_model, "-q")
    assert code == 2 and "is one of the inputs" in out
    code, out = cli(cat, "-o", cat, "--model", tiny_model, "-q", "--fresh")
    assert code == 2 and _sha(cat) == before


@pytest.mark.parametrize("kind", ["user-csv", "text", "directory", "parquet-table"])
def test_unrelated_target_is_refused_untouched(spectra, tmp_path, tiny_model, kind):
    target = {"user-csv": tmp_path / "mine.csv", "text": tmp_path / "notes.parquet",
              "directory": tmp_path / "dir.parquet", "parquet-table": tmp_path / "t.parquet"}[kind]
    if kind == "user-csv":  # a user's own table that happens to have path/index columns
        pd.DataFrame({"path": ["a.fits"], "index": [0], "note": ["keep me"]}).to_csv(target, index=False)
    elif kind == "text":
        target.write_text("hello\n")
    elif kind == "directory":
        target.mkdir()
    else:
        pd.DataFrame({"x": [1, 2]}).to_parquet(target)
    before = None if target.is_dir() else _sha(target)
    for extra in ([], ["--fresh"]):
        code, out = cli(spectra, "-o", target, "--model", tiny_model, "-q", *extra)
        assert code == 2, out
        assert ("is a directory" in out) if kind == "directory" else ("not a spectype classify output" in out)
        assert "Traceback" not in out
    if before:
        assert _sha(target) == before


def test_unwritable_suffix_is_refused_up_front(spectra, tmp_path):
    code, out = cli(spectra, "-o", tmp_path / "a.xlsx", "--model", tmp_path / "no-such-model", "-q")
    assert code == 2 and "cannot write a .xlsx file" in out  # before the model is even loaded
    assert not (tmp_path / "a.xlsx").exists()


def test_identity_is_recorded_per_row_and_in_metadata(spectra, tmp_path, tiny_model):
    out = tmp_path / "o.parquet"
    classify_files([spectra], out, tiny_model, opts())
    df = pd.read_parquet(out)
    meta = json.loads(pq.read_schema(out).metadata[b"spectype"])
    assert meta["kind"] == "spectype-classify" and meta["inputs"] == [str(spectra)]
    assert meta["model"]["name"] == "cnn1d_none" and len(meta["model"]["hash"]) == 64
    assert (df.model_hash == meta["model"]["hash"]).all() and (df.model_name == "cnn1d_none").all()
    assert (df.model_version != "").all()


def test_resume_with_another_model_is_refused(spectra, tmp_path, tiny_model, other_model):
    out = tmp_path / "o.parquet"
    classify_files([spectra], out, tiny_model, opts())
    before = _sha(out)
    with pytest.raises(ConfigError, match="different model"):
        classify_files([spectra], out, other_model, opts())
    assert _sha(out) == before
    # also when the earlier run only left part files
    parts = tmp_path / "p.parquet"
    classify_files([spectra], parts, tiny_model, opts())
    part_dir = tmp_path / "p.parquet.parts"
    part_dir.mkdir()
    pd.read_parquet(parts).to_parquet(part_dir / "part-1.parquet")
    parts.unlink()
    with pytest.raises(ConfigError, match="different model"):
        classify_files([spectra], parts, other_model, opts())
    # --fresh replaces a classify output made by another model
    s = classify_files([spectra], out, other_model, opts(resume=False))
    assert s.n_ok == 4 and pd.read_parquet(out).model_hash.nunique() == 1


def test_absolute_then_relative_input_gives_no_duplicates(tmp_path, tiny_model, monkeypatch):
    write_spectra(tmp_path / "in")
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "o.parquet"
    classify_files([tmp_path / "in"], out, tiny_model, opts())
    s = classify_files(["in", "./in/../in"], "o.parquet", tiny_model, opts())
    assert s.n_skipped == 4 and s.n_spectra == 0
    assert len(pd.read_parquet(out)) == 4
    assert all(Path(p).is_absolute() for p in pd.read_parquet(out).path)


def test_a_non_pack_h5_given_directly_is_an_error_row(spectra, tmp_path, tiny_model):
    bogus = tmp_path / "x.h5"
    bogus.write_bytes(b"not hdf5 at all")
    s = classify_files([spectra, bogus], tmp_path / "o.parquet", tiny_model, opts())
    df = pd.read_parquet(tmp_path / "o.parquet")
    assert s.n_ok == 4 and len(df) == 5
    row = df[df.path == str(bogus)].iloc[0]
    assert row.status == "error" and "not a spectype pack" in row.error


def test_output_inside_the_input_folder_resumes(spectra, tmp_path, tiny_model):
    """-o in the scanned folder: the scan does not take the run's own output (a CSV is a
    readable format) for an input, so the rerun resumes instead of refusing."""
    out = spectra / "results.csv"
    classify_files([spectra], out, tiny_model, opts())
    again = classify_files([spectra], out, tiny_model, opts())
    assert again.n_skipped == 4 and again.n_spectra == 0 and len(pd.read_csv(out)) == 4
    with pytest.raises(ConfigError, match="is one of the inputs"):  # named explicitly: refused
        classify_files([spectra, out], out, tiny_model, opts())
