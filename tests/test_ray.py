"""The Ray backend of `map_files`, and through it cluster ingest and batch classification,
give the same records and rows as local runs.

One local Ray (1 CPU) serves every test in this file: starting Ray costs ~20 s on 2 cores.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from spectype.batch import ClassifyOptions, classify_files
from spectype.catalog import scan
from spectype.parallel import map_files
from spectype.parallel.mapping import WORKER_DIED
from spectype.testing import write_lamost_table

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def ray_session():
    # Ray workers cannot import this test module: send its tasks by value.
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    try:
        ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    except Exception as exc:  # e.g. no shared memory in a container
        pytest.skip(f"a local Ray cannot start here: {type(exc).__name__}: {exc}")
    yield
    ray.shutdown()


@pytest.fixture
def files(tmp_path: Path) -> Path:
    d = tmp_path / "in"
    d.mkdir()
    for i in range(4):
        write_lamost_table(d / f"s{i}.fits.gz", n=3909, gz=True, OBSID=i, SUBCLASS=["A2", "F5", "G8", "K3"][i])
    (d / "broken.fits").write_bytes(b"SIMPLE  =                    T")
    return d


def test_ray_catalog_matches_local(ray_session, files):
    pd.testing.assert_frame_equal(scan([files], workers=1), scan([files], use_ray=True))


def test_ray_classify_matches_local(ray_session, files, tmp_path):
    from spectype.distributed.ray_classify import classify_files_ray

    opts = ClassifyOptions(workers=1, progress=False, files_per_task=2)
    local = classify_files([files], tmp_path / "local.parquet", options=opts)
    remote = classify_files_ray([files], tmp_path / "ray.parquet", options=opts)
    assert (local.n_ok, local.n_errors) == (remote.n_ok, remote.n_errors) == (4, 1)
    a = pd.read_parquet(tmp_path / "local.parquet").sort_values("path").reset_index(drop=True)
    b = pd.read_parquet(tmp_path / "ray.parquet").sort_values("path").reset_index(drop=True)
    pd.testing.assert_series_equal(a.pred_class, b.pred_class)
    pd.testing.assert_series_equal(a.prob_A, b.prob_A, rtol=1e-5)
    # Resume: a second Ray run finds everything done.
    again = classify_files_ray([files], tmp_path / "ray.parquet", options=opts)
    assert again.n_spectra == 0 and again.n_skipped == 5


def test_ray_fresh_run_replaces_an_earlier_output(ray_session, files, tmp_path):
    from spectype.distributed.ray_classify import classify_files_ray

    out = tmp_path / "ray.parquet"
    opts = ClassifyOptions(workers=1, progress=False, files_per_task=2)
    classify_files_ray([files], out, options=opts)
    stale = pd.read_parquet(out).assign(pred_class="Z")  # an earlier run's rows, marked
    stale.to_parquet(out)
    fresh = classify_files_ray([files], out, options=ClassifyOptions(
        workers=1, progress=False, files_per_task=2, resume=False))
    assert fresh.n_skipped == 0 and fresh.n_spectra == 5
    rows = pd.read_parquet(out)
    assert len(rows) == 5 and "Z" not in set(rows.pred_class)


@dataclass(frozen=True)
class Squares:
    kill_on: int | None = None  # this file ends its Ray worker process

    def __call__(self, x: int):
        if x == self.kill_on:
            os._exit(9)
        if x == 13:
            raise ValueError("unlucky")
        return ("ok", x * x)

    def failed(self, x, message):
        return ("error", message)


def test_ray_map_files_order_and_isolation(ray_session):
    files = [3, 13, 1, 7, 2]
    local = list(map_files(Squares(), files, workers=1, chunk=2))
    remote = list(map_files(Squares(), files, backend="ray", workers=1, chunk=2))
    assert remote == local and [f for f, _ in remote] == files
    assert remote[1][1][0] == "error" and "ValueError: unlucky" in remote[1][1][1]
    # A file that kills its Ray worker costs its own record; the rest of its chunk is re-run.
    died = dict(map_files(Squares(kill_on=7), files, backend="ray", workers=1, chunk=2))
    assert died[7] == ("error", WORKER_DIED)
    assert {f: r for f, r in died.items() if f not in (7, 13)} == {3: ("ok", 9), 1: ("ok", 1), 2: ("ok", 4)}
