"""Issue 14 item 10: garbage flux is an error row, never a confident class."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from classify_support import opts

from spectype.batch import classify_files
from spectype.testing import write_lamost_table

N = 400
WAVE = 10 ** (3.5682 + 1e-4 * np.arange(N))
GOOD = 1.0 + 0.1 * np.sin(np.arange(N) / 7.0)

BAD = {
    "all-zero": (np.zeros(N), "all zero"),
    "constant": (np.full(N, 5.0), "constant"),
    "negative": (-GOOD, "negative in"),
    "absurd": (np.full(N, 3e38) * GOOD, "not physical"),
    "non-finite": (np.full(N, np.nan), "no finite"),
}


@pytest.mark.parametrize("name", list(BAD))
def test_garbage_flux_is_an_error_in_memory(name, tiny_model):
    import spectype

    flux, message = BAD[name]
    df = spectype.classify([(WAVE, GOOD), (WAVE, flux)], model=tiny_model)
    assert list(df.status) == ["ok", "error"]
    assert pd.isna(df.pred_class.iloc[1]) and np.isnan(df.pred_prob.iloc[1])
    assert message in df.error.iloc[1]


def test_garbage_flux_is_an_error_row_from_files(tmp_path, tiny_model):
    d = tmp_path / "d"
    d.mkdir()
    write_lamost_table(d / "good.fits", n=N)
    for name, (flux, _) in BAD.items():
        write_lamost_table(d / f"{name}.fits", n=N, columns={"FLUX": flux.astype(np.float32)})
    classify_files([d], tmp_path / "o.parquet", tiny_model, opts())
    df = pd.read_parquet(tmp_path / "o.parquet")
    by = df.set_index(df.path.str.rsplit("/", n=1).str[1])
    assert by.loc["good.fits", "status"] == "ok"
    for name, (_, message) in BAD.items():
        assert by.loc[f"{name}.fits", "status"] == "error", name
        assert pd.isna(by.loc[f"{name}.fits", "pred_class"])
        error = by.loc[f"{name}.fits", "error"]
        assert f"{name}.fits" in error
        assert message in error or name == "non-finite"  # the reader refuses that one itself
