"""Issue 14 items 5 and 7: a killed run leaves no workers behind, loses at most seconds of
work, and a rerun ends with exactly the rows of an uninterrupted run."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from classify_support import opts, write_spectra

from spectype.batch import classify_files

N_FILES = 24

SLOW_READ = '''
import time
from spectype.batch import items

_real = items.read_and_preprocess

def slow_read(args):
    time.sleep(0.15)  # a slow disk: the run lasts long enough to be killed mid-way
    return _real(args)
'''

DRIVER = '''
import sys
import slowread
from spectype.batch import ClassifyOptions, classify_files, items
from spectype.cli.classify_cmds import _sigterm_as_interrupt

if __name__ == "__main__":  # spawned workers import this file too
    items.read_and_preprocess = slowread.slow_read
    opts = ClassifyOptions(workers=2, files_per_task=1, batch_size=4, part_rows=10**6,
                           flush_seconds=0.0, progress=False)
    with _sigterm_as_interrupt():
        classify_files([sys.argv[1]], sys.argv[2], sys.argv[3], opts)
'''


def _children(pid: int) -> set[int]:
    out = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.add(int(entry))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to find worker processes")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_kill_leaves_no_workers_and_rerun_matches(tmp_path, tiny_model, sig):
    data = write_spectra(tmp_path / "in", n=N_FILES)
    want = tmp_path / "want.parquet"
    classify_files([data], want, tiny_model, opts())

    (tmp_path / "slowread.py").write_text(SLOW_READ)
    (tmp_path / "driver.py").write_text(textwrap.dedent(DRIVER))
    out = tmp_path / "got.parquet"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, str(tmp_path / "driver.py"), str(data), str(out), str(tiny_model)],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seed = random.randrange(10**6)
    rng = random.Random(seed)
    workers: set[int] = set()
    deadline = time.monotonic() + 120
    parts_dir = tmp_path / "got.parquet.parts"
    while time.monotonic() < deadline and proc.poll() is None:  # wait until rows are coming out
        workers |= _children(proc.pid)
        if any(parts_dir.glob("part-*.parquet")):
            break
        time.sleep(0.05)
    time.sleep(rng.uniform(0.0, 2.0))  # a random point in the run (each file takes >= 0.15 s)
    workers |= _children(proc.pid)
    finished_first = proc.poll() is not None
    proc.send_signal(sig)
    proc.wait(timeout=120)
    left = set(workers)
    deadline = time.monotonic() + 30
    while left and time.monotonic() < deadline:
        left = {p for p in left if _alive(p)}
        time.sleep(0.1)
    assert not left, f"workers still alive after {sig.name} (seed {seed}): {left}"
    if not finished_first:
        assert workers, "the pool never started"

    parts = sorted((tmp_path / "got.parquet.parts").glob("part-*.parquet"))
    if sig != signal.SIGKILL and not out.exists():
        assert parts, "an interrupted run wrote none of its finished rows"
    rerun = classify_files([data], out, tiny_model, opts())
    got = pd.read_parquet(out).sort_values(["path", "index"]).reset_index(drop=True)
    ref = pd.read_parquet(want).sort_values(["path", "index"]).reset_index(drop=True)
    assert len(got) == N_FILES and not got.duplicated(["path", "index"]).any(), f"seed {seed}"
    assert rerun.n_skipped + rerun.n_spectra == N_FILES
    assert list(got.path) == list(ref.path) and list(got.pred_class) == list(ref.pred_class)
    np.testing.assert_allclose(got[["prob_A", "prob_F", "prob_K"]], ref[["prob_A", "prob_F", "prob_K"]], rtol=1e-5)
    assert not (tmp_path / "got.parquet.parts").exists()


def test_parts_are_written_by_time_not_only_rows(tmp_path):
    """A small run (far fewer rows than part_rows) still writes its finished rows every
    flush_seconds, so a kill loses seconds of work, not the whole run (issue 14 item 7)."""
    from spectype.batch import ResultWriter

    out = tmp_path / "o.parquet"
    w = ResultWriter(out, part_rows=4096, flush_seconds=3600)
    w.add({"path": "/a.fits", "path_hex": None, "index": 0, "model_hash": "h"}, "/a.fits")
    w.add({"path": "/b.fits", "path_hex": None, "index": 0, "model_hash": "h"}, "/b.fits")
    w.maybe_flush(set())
    assert not list(w.parts_dir.glob("part-*.parquet"))  # neither enough rows nor time
    w.flush_seconds = 0.0
    w.maybe_flush({"/b.fits"})  # b still has spectra in the model's batch: held back
    parts = list(w.parts_dir.glob("part-*.parquet"))
    assert len(parts) == 1 and list(pd.read_parquet(parts[0]).path) == ["/a.fits"]
    w.maybe_flush(set())
    assert len(list(w.parts_dir.glob("part-*.parquet"))) == 2
    assert w.done_keys() == {(b"/a.fits", 0), (b"/b.fits", 0)}


def test_a_reader_process_that_dies_costs_one_error_row(tmp_path, tiny_model):
    """A file that kills its reader process (the kernel's OOM killer on a decompression bomb
    looks like this) is an error row; the other files in its chunk and after it get rows."""
    data = write_spectra(tmp_path / "in", n=5)
    killer = data / "t2.fits"
    (tmp_path / "dying.py").write_text(textwrap.dedent(f'''
        import os
        from spectype.batch import items

        _real = items.read_and_preprocess

        def read(args):
            if any(t.path == {str(killer)!r} for t in args[0]):
                os._exit(9)  # the process vanishes, as under SIGKILL
            return _real(args)
        '''))
    (tmp_path / "run.py").write_text(textwrap.dedent('''
        import sys
        import dying
        from spectype.batch import ClassifyOptions, classify_files, items

        if __name__ == "__main__":
            items.read_and_preprocess = dying.read
            classify_files([sys.argv[1]], sys.argv[2], sys.argv[3],
                           ClassifyOptions(workers=2, files_per_task=2, progress=False))
        '''))
    out = tmp_path / "o.parquet"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    r = subprocess.run([sys.executable, str(tmp_path / "run.py"), str(data), str(out), str(tiny_model)],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=280)
    assert r.returncode == 0, r.stderr[-2000:]
    df = pd.read_parquet(out).set_index("path")
    assert len(df) == 5
    assert df.loc[str(killer), "status"] == "error" and "reader process died" in df.loc[str(killer), "error"]
    assert (df.drop(index=str(killer)).status == "ok").all()
