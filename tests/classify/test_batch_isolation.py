"""Good files give the same rows whatever broken files share their batch (issue 14)."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
from classify_support import opts, write_spectra
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spectype.batch import classify_files

CORRUPTIONS = ("truncate", "flip", "zeros", "gzip_cut", "text")


def _corrupt(blob: bytes, kind: str, at: int) -> bytes:
    at = at % max(1, len(blob))
    if kind == "truncate":
        return blob[:at]
    if kind == "flip":
        b = bytearray(blob)
        b[at] ^= 0xFF
        return bytes(b)
    if kind == "zeros":
        return blob[:at] + bytes(len(blob) - at)
    if kind == "gzip_cut":
        g = gzip.compress(blob)
        return g[: max(10, at % len(g))]
    return b"not a spectrum at all\n" * (1 + at % 5)


def _rows(df: pd.DataFrame) -> pd.DataFrame:
    cols = ["index", "pred_class", "pred_prob", "status"] + [c for c in df if c.startswith("prob_")]
    return df.assign(name=df.path.str.rsplit("/", n=1).str[-1]).set_index(["name", "index"])[cols[1:]].sort_index()


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kinds=st.lists(st.sampled_from(CORRUPTIONS), min_size=1, max_size=4),
       offsets=st.lists(st.integers(0, 20000), min_size=4, max_size=4))
def test_good_rows_do_not_depend_on_broken_neighbours(tmp_path_factory, tiny_model, kinds, offsets):
    tmp = tmp_path_factory.mktemp("iso")
    good = write_spectra(tmp / "good", n=3)
    alone = classify_files([good], tmp / "alone.parquet", model=tiny_model, options=opts())
    mixed = tmp / "mixed"
    mixed.mkdir()
    for f in good.iterdir():
        (mixed / f.name).write_bytes(f.read_bytes())
    src = sorted(good.iterdir())[0].read_bytes()
    for i, (kind, at) in enumerate(zip(kinds, offsets, strict=False)):
        suffix = ".fits.gz" if kind == "gzip_cut" else ".fits"
        (mixed / f"bad{i}{suffix}").write_bytes(_corrupt(src, kind, at))
    classify_files([mixed], tmp / "mixed.parquet", model=tiny_model, options=opts())
    a = _rows(pd.read_parquet(tmp / "alone.parquet"))
    m = pd.read_parquet(tmp / "mixed.parquet")
    assert len(m) >= len(a) + len(kinds) - 0  # every broken file has (at least) its own row
    mg = _rows(m[m.path.str.rsplit("/", n=1).str[-1].str.startswith("t")])
    assert alone.n_ok == 3
    pd.testing.assert_frame_equal(a, mg)
    assert np.all(m[m.path.str.contains("/bad")].status.isin(["error", "ok"]))
