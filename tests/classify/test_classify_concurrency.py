"""Issue 14 item 6: two runs on one output never lose or mix rows."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pandas as pd
import pytest
from classify_support import opts, write_spectra

from spectype.batch import classify_files
from spectype.batch.writer import OutputBusyError, output_lock


def test_second_run_on_a_locked_output_refuses(spectra, tmp_path, tiny_model):
    out = tmp_path / "o.parquet"
    with output_lock(out):
        with pytest.raises(OutputBusyError, match="another spectype classify is writing this output"):
            classify_files([spectra], out, tiny_model, opts())
    assert not out.exists()
    assert classify_files([spectra], out, tiny_model, opts()).n_ok == 4  # the lock was released


def test_waiting_run_gets_the_lock_when_the_first_finishes(spectra, tmp_path, tiny_model):
    out = tmp_path / "o.parquet"
    lock = output_lock(out)
    lock.__enter__()
    timer = threading.Timer(1.0, lock.__exit__, args=(None, None, None))
    timer.start()
    s = classify_files([spectra], out, tiny_model, opts(wait_for_lock=60))
    timer.join()
    assert s.n_ok == 4 and len(pd.read_parquet(out)) == 4


def test_forced_interleaving_loses_nothing(tmp_path, tiny_model, monkeypatch):
    """Run B starts on the same -o while run A is mid-way (A has written part files): B is
    refused with a clear message and touches nothing; A's rows are all there at the end."""
    import spectype.batch.items as mod

    data = write_spectra(tmp_path / "in", n=6)
    out = tmp_path / "o.parquet"
    real, seen = mod.read_and_preprocess, {}

    def start_b_on_third_chunk(args):
        if len(seen) == 2 and "b" not in seen:
            assert list((tmp_path / "o.parquet.parts").glob("part-*.parquet"))  # A is mid-way
            seen["b"] = subprocess.run(
                [sys.executable, "-m", "spectype", "classify", str(data), "-o", str(out),
                 "--model", str(tiny_model), "-j", "1", "-q"],
                capture_output=True, text=True, cwd=tmp_path, env={**os.environ, "COLUMNS": "200"})
        seen[len(seen)] = True
        return real(args)

    monkeypatch.setattr(mod, "read_and_preprocess", start_b_on_third_chunk)
    a = classify_files([data], out, tiny_model, opts(flush_seconds=0.0))
    b = seen["b"]
    assert b.returncode == 2 and "another spectype classify is writing this output" in " ".join(b.stderr.split())
    df = pd.read_parquet(out)
    assert a.n_ok == 6 and len(df) == 6 and not df.duplicated(["path", "index"]).any()
    assert not (tmp_path / "o.parquet.parts").exists()


def test_two_writers_at_once_lose_nothing(tmp_path, tiny_model):
    """Two real processes on one -o, the second waiting for the lock: both succeed, and the
    output has exactly one row per spectrum."""
    data = write_spectra(tmp_path / "in", n=8)
    out = tmp_path / "o.parquet"
    cmd = [sys.executable, "-m", "spectype", "classify", str(data), "-o", str(out),
           "--model", str(tiny_model), "-j", "1", "-q", "--wait", "300", "--flush-seconds", "0"]
    procs = [subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = [(p.wait(timeout=280), p.stderr.read()) for p in procs]
    assert [code for code, _ in results] == [0, 0], results
    df = pd.read_parquet(out)
    assert len(df) == 8 and not df.duplicated(["path", "index"]).any() and (df.status == "ok").all()
    said = " ".join(" ".join(err.split()) for _, err in results)
    assert "classified 8 spectra" in said and "8 files already done" in said  # one did it all


def test_a_part_file_merged_away_during_the_check_is_not_unreadable(tmp_path, monkeypatch):
    """The check before the lock lists part files while another run may be finalising: a part
    removed between the listing and the read is skipped (that run's output is read instead);
    a part that is there but not Parquet still makes the output foreign."""
    import spectype.batch.writer as w

    parts = tmp_path / "o.parquet.parts"
    parts.mkdir()
    gone = parts / "part-1-1.parquet"
    monkeypatch.setattr(w, "_part_files", lambda d: [gone])
    assert w._part_hashes(parts) == set()
    gone.write_text("half a parquet file")
    assert w._part_hashes(parts) == {"unreadable part file"}
