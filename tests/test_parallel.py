"""The batch engine `map_files` (local backend): order, one record per file, isolation of a
file that raises or that kills its worker process. The Ray backend: tests/test_ray.py."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

from spectype.errors import ConfigError
from spectype.parallel import Failed, map_files, run_chunk
from spectype.parallel.mapping import WORKER_DIED, chunk_size


def square(x: int) -> int:
    if x == 13:
        raise ValueError("unlucky")
    return x * x


@dataclass(frozen=True)
class Record:
    """A task with its own failure record and a whole-chunk path (like classify's)."""

    kill_on: int | None = None  # this file ends the worker process (as the OOM killer would)
    chunks_seen: list | None = None

    def run_chunk(self, files):
        if self.chunks_seen is not None:
            self.chunks_seen.append(list(files))
        if 13 in files:
            raise ValueError("a chunk with 13 in it")
        return [self(f) for f in files]

    def __call__(self, f):
        if f == self.kill_on:
            os._exit(9)
        if f == 13:
            raise ValueError("unlucky")
        return ("ok", f, os.getpid())

    def failed(self, f, message):
        return ("error", f, message)


def test_results_in_input_order_and_a_raising_file_costs_its_own_record():
    got = list(map_files(square, [3, 13, 1, 2], workers=1, chunk=2))
    assert [f for f, _ in got] == [3, 13, 1, 2]
    assert [r for _, r in got[:1] + got[2:]] == [9, 1, 4]
    bad = got[1][1]
    assert isinstance(bad, Failed) and bad.file == 13 and "ValueError: unlucky" in bad.error


def test_a_chunk_that_raises_is_rerun_file_by_file_with_the_tasks_own_record():
    seen: list = []
    got = dict(map_files(Record(chunks_seen=seen), [1, 13, 2, 3], workers=1, chunk=3))
    assert seen == [[1, 13, 2], [3]]  # whole chunks first
    assert got[1][:2] == ("ok", 1) and got[2][:2] == ("ok", 2) and got[3][:2] == ("ok", 3)
    assert got[13][:2] == ("error", 13) and "unlucky" in got[13][2]


def test_process_pool_gives_the_same_results_in_order():
    files = list(range(40))
    local = list(map_files(square, files, workers=1))
    pooled = list(map_files(square, files, workers=2, chunk=3))
    assert [f for f, _ in pooled] == files
    assert [(f, r if not isinstance(r, Failed) else "failed") for f, r in pooled] == \
           [(f, r if not isinstance(r, Failed) else "failed") for f, r in local]
    pids = {r[2] for _, r in map_files(Record(), files, workers=2, chunk=4)}
    assert os.getpid() not in pids  # the work ran in worker processes


def test_a_file_that_kills_its_worker_costs_one_record_not_the_batch():
    files = list(range(8))
    got = list(map_files(Record(kill_on=5), files, workers=2, chunk=3))
    assert [f for f, _ in got] == files
    status = {f: r[0] for f, r in got}
    assert status == {f: "error" if f == 5 else "ok" for f in files}
    assert WORKER_DIED in dict(got)[5][2]


def test_run_chunk_with_a_miscounting_chunk_falls_back_to_one_by_one():
    class Short(Record):
        def run_chunk(self, files):
            return [("ok", files[0], 0)]

    assert [r[1] for r in run_chunk(Short(), [1, 2, 3])] == [1, 2, 3]


def test_chunk_sizes_and_refusals():
    assert chunk_size(10, 2) == 2 and chunk_size(10_000, 2) == 64 and chunk_size(0, 2) == 1
    assert chunk_size(10, 2, chunk=5) == 5
    with pytest.raises(ConfigError, match="unknown backend 'dask'"):
        list(map_files(square, [1], backend="dask"))
    with pytest.raises(ConfigError, match="chunk must be at least 1"):
        list(map_files(square, [1], chunk=0))
    with pytest.raises(ConfigError, match="workers must be at least 1"):
        list(map_files(square, [1], workers=0))
    assert list(map_files(square, [], backend="ray")) == []  # no files: no cluster is joined


def test_workers_that_cannot_start_are_an_error_not_a_failed_record_per_file(tmp_path):
    """A script without a __main__ guard makes every spawned worker die at start-up: the run
    stops with a message saying so, instead of blaming (slowly) every file in turn."""
    import subprocess
    import sys

    script = tmp_path / "unguarded.py"
    script.write_text(
        "import os\n"
        "from spectype.parallel import map_files\n"
        "if os.environ.get('SPECTYPE_TEST_CHILD'):\n"
        "    os._exit(3)  # what a worker re-running an unguarded script amounts to\n"
        "os.environ['SPECTYPE_TEST_CHILD'] = '1'\n"
        "print(list(map_files(abs, [-1, -2, -3], workers=2, chunk=1)))\n"
    )
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=240)
    assert r.returncode != 0
    assert "worker processes die before doing any work" in r.stderr, r.stderr[-2000:]
