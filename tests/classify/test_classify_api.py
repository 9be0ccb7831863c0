"""Issue 11 item 1: spectype.classify / LoadedModel.predict in memory, the CLI's columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from classify_support import opts

import spectype
from spectype.batch import classify_files
from spectype.errors import ConfigError

N = 400
WAVE = 10 ** (3.5682 + 1e-4 * np.arange(N))
FLUX = 1.0 + 0.1 * np.sin(np.arange(N) / 7.0)


def test_same_columns_and_numbers_as_the_file_job(spectra, tmp_path, tiny_model):
    classify_files([spectra], tmp_path / "o.parquet", tiny_model, opts())
    from_files = pd.read_parquet(tmp_path / "o.parquet").sort_values("path").reset_index(drop=True)
    from_api = spectype.classify(spectra, model=tiny_model).sort_values("path").reset_index(drop=True)
    assert list(from_api.columns) == list(from_files.columns)
    np.testing.assert_allclose(from_api.prob_A, from_files.prob_A, rtol=1e-6)
    spec = spectype.read(sorted(spectra.glob("*.fits"))[0])
    spec = spec[0] if isinstance(spec, list) else spec
    mem = spectype.classify(spec, model=tiny_model)
    assert list(mem.columns) == list(from_files.columns)
    assert mem.path.iloc[0] is None and mem["index"].iloc[0] == 0
    np.testing.assert_allclose(mem.prob_A.iloc[0], from_files.prob_A.iloc[0], rtol=1e-5)


def test_every_input_form(tiny_model):
    model = spectype.load_model(tiny_model)
    one = model.predict((WAVE, FLUX)).prob_A.iloc[0]
    forms = {
        "spectrum": spectype.Spectrum(WAVE, FLUX),
        "list": [spectype.Spectrum(WAVE, FLUX), (WAVE, FLUX)],
        "with ivar": (WAVE, FLUX, np.full(N, 4.0)),
        "2-D": (WAVE, np.stack([FLUX, FLUX * 3])),
        "2-D with ivar": (WAVE, np.stack([FLUX, FLUX]), np.ones((2, N))),
    }
    for name, x in forms.items():
        df = model.predict(x)
        assert (df.status == "ok").all(), name
        assert list(df["index"]) == list(range(len(df))), name
        np.testing.assert_allclose(df.prob_A, one, rtol=1e-5, err_msg=name)  # min-max: scale-free
    assert model(spectype.Spectrum(WAVE, FLUX)).pred_class.iloc[0] == model.predict((WAVE, FLUX)).pred_class.iloc[0]


def test_specutils_input_keeps_units(tiny_model):
    pytest.importorskip("specutils")
    import astropy.units as u

    from spectype.io.specutils_adapter import from_specutils, to_specutils

    spec = spectype.Spectrum(WAVE, FLUX)
    spec.meta.flux_unit = "erg / (s cm2 Angstrom)"
    s1d = to_specutils(spec)
    assert s1d.flux.unit == u.Unit("erg / (s cm2 Angstrom)")
    back = from_specutils(s1d)
    assert u.Unit(back.meta.flux_unit) == s1d.flux.unit and to_specutils(back).flux.unit == s1d.flux.unit
    df = spectype.classify(s1d, model=tiny_model)
    assert df.status.iloc[0] == "ok"


def test_bad_arguments_raise_clearly(tiny_model):
    with pytest.raises(TypeError, match="unknown option"):
        spectype.classify((WAVE, FLUX), model=tiny_model, batchsize=3)
    with pytest.raises(ConfigError, match="1-D or 2-D"):
        spectype.classify((WAVE, np.ones((2, 2, N))), model=tiny_model)
    with pytest.raises(ConfigError, match="cannot classify a dict"):
        spectype.classify({"wave": WAVE}, model=tiny_model)


def test_spectrum_without_ivar_or_mask():
    s = spectype.Spectrum(WAVE, FLUX)
    assert (s.ivar == 1).all() and not s.mask.any() and s.good.all()
