"""TemplateMatcher: chi2 template matching on generated templates, plus a real-data check."""

from __future__ import annotations

import glob

import numpy as np
import pytest
from astropy.io import fits

from spectype.errors import ConfigError
from spectype.labels import CLASSES, code_to_subtype, parse_label
from spectype.methods import TemplateMatcher, kesseli_folder
from spectype.preprocess import PreprocessConfig, preprocess
from spectype.spectrum import Spectrum, SpectrumMeta

N_PIX = 500
LABELS = ["B5", "A0V", "A5V", "F0V", "F5V", "G2V", "G4V", "K0III", "M2V"]


def _template_flux(x: np.ndarray, t: int) -> np.ndarray:
    """A smooth continuum with a line pattern of its own: template t has 3 + t lines placed
    by its own seed, so every pair of templates differs by several deep lines."""
    rng = np.random.default_rng(100 + t)
    cont = 1.0 + 0.4 * np.cos(0.7 * t) * x
    lines = np.ones_like(x)
    for centre in rng.uniform(-0.95, 0.95, 3 + t):
        lines *= 1.0 - 0.5 * np.exp(-0.5 * ((x - centre) / 0.01) ** 2)
    return cont * lines


def _templates(n_pix: int = N_PIX) -> np.ndarray:
    x = np.linspace(-1, 1, n_pix)
    return np.stack([_template_flux(x, t) for t in range(len(LABELS))])


def _spectra(templates, which, snr=100.0, poly=None, seed=0):
    """Spectra = template * scale (* a smooth polynomial) + Gaussian noise of 1/snr relative."""
    rng = np.random.default_rng(seed)
    x = np.linspace(-1, 1, templates.shape[1])
    flux = templates[which] * rng.uniform(0.5, 3.0, (len(which), 1))
    if poly is not None:
        flux = flux * np.polynomial.polynomial.polyval(x, poly)
    sigma = np.abs(flux).mean(axis=1, keepdims=True) / snr
    flux = flux + rng.normal(size=flux.shape) * sigma
    ivar = np.broadcast_to(1.0 / sigma**2, flux.shape).copy()
    return flux, ivar


@pytest.fixture(scope="module")
def templates():
    return _templates()


@pytest.fixture(scope="module")
def which():
    return np.tile(np.arange(len(LABELS)), 4)


def test_spectra_match_their_own_template(templates, which):
    flux, ivar = _spectra(templates, which)
    m = TemplateMatcher(templates, LABELS).predict(flux, ivar)
    np.testing.assert_array_equal(m.template_index, which)
    expected = [parse_label(LABELS[t]) for t in which]
    assert list(m.cls) == [lab.cls for lab in expected]
    # tau = 1 leaves one template with all the weight, so code is the template's own code.
    np.testing.assert_allclose(m.code, [lab.code for lab in expected])
    assert list(m.lum_class) == [lab.lum_class for lab in expected]
    assert list(m.subtype[:3]) == ["B5", "A0", "A5"]
    # Noise only: reduced chi2 ~ 1.
    assert np.all(np.abs(m.reduced_chi2 - 1) < 0.25)


def test_continuum_polynomial_absorbs_calibration_errors(templates, which):
    flux, ivar = _spectra(templates, which, poly=[1.0, 0.3, -0.25], seed=1)
    flat = TemplateMatcher(templates, LABELS, continuum_degree=0).predict(flux, ivar)
    fitted = TemplateMatcher(templates, LABELS, continuum_degree=2).predict(flux, ivar)
    np.testing.assert_array_equal(fitted.template_index, which)
    assert np.all(np.abs(fitted.reduced_chi2 - 1) < 0.25)
    # Without the polynomial the distortion leaves a large residual.
    assert np.median(flat.reduced_chi2) > 5


def test_offset_for_minmax_normalised_input(templates, which):
    flux, ivar = _spectra(templates, which, seed=2)
    lo = flux.min(axis=1, keepdims=True)
    rng = flux.max(axis=1, keepdims=True) - lo
    flux, ivar = (flux - lo) / rng, ivar * rng**2
    with_off = TemplateMatcher(templates, LABELS, offset=True).predict(flux, ivar)
    without = TemplateMatcher(templates, LABELS, offset=False).predict(flux, ivar)
    np.testing.assert_array_equal(with_off.template_index, which)
    assert np.all(np.abs(with_off.reduced_chi2 - 1) < 0.25)
    assert np.median(without.reduced_chi2) > 5


@pytest.mark.parametrize("degree, offset", [(0, False), (2, True)])
def test_chunked_equals_unchunked(templates, which, degree, offset):
    flux, ivar = _spectra(templates, which, snr=5.0, seed=3)
    kw = dict(continuum_degree=degree, offset=offset, tau=50.0)
    one = TemplateMatcher(templates, LABELS, chunk_size=1000, **kw)
    small = TemplateMatcher(templates, LABELS, chunk_size=5, **kw)
    np.testing.assert_allclose(small.chi2(flux, ivar)[0], one.chi2(flux, ivar)[0], rtol=1e-10)
    a, b = one.predict(flux, ivar), small.predict(flux, ivar)
    np.testing.assert_array_equal(a.template_index, b.template_index)
    np.testing.assert_allclose(a.proba, b.proba, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(a.code, b.code)


def test_masked_pixels_are_ignored(templates, which):
    flux, ivar = _spectra(templates, which, seed=4)
    good = np.ones_like(flux, dtype=bool)
    good[:, 100:180] = False
    spoiled = flux.copy()
    spoiled[:, 100:180] = 1e6  # huge spikes, and NaNs, under the mask
    spoiled[:, 150] = np.nan
    m = TemplateMatcher(templates, LABELS, continuum_degree=1)
    clean_chi2, n_clean = m.chi2(flux, ivar, good)
    spoiled_chi2, n_spoiled = m.chi2(spoiled, ivar, good)
    np.testing.assert_allclose(spoiled_chi2, clean_chi2, rtol=1e-10)
    np.testing.assert_array_equal(n_spoiled, N_PIX - 80)
    # ivar = 0 masks the same way as good = False.
    ivar0 = np.where(good, ivar, 0.0)
    np.testing.assert_allclose(m.chi2(spoiled, ivar0)[0], clean_chi2, rtol=1e-10)
    np.testing.assert_array_equal(m.predict(spoiled, ivar, good).template_index, which)
    # Unmasked, the spikes ruin the fit.
    assert np.nanmin(m.chi2(np.nan_to_num(spoiled), ivar)[0]) > 1e6 * clean_chi2.max()


def test_proba_rows_sum_to_one(templates, which):
    flux, ivar = _spectra(templates, which, snr=3.0, seed=5)
    m = TemplateMatcher(templates, LABELS, tau=30.0).predict(flux, ivar)
    assert m.proba.shape == (len(which), len(CLASSES))
    np.testing.assert_allclose(m.proba.sum(axis=1), 1.0)
    assert np.all(m.proba >= 0)
    assert np.all(m.proba[:, CLASSES.index("C")] == 0)  # no carbon template
    assert np.all(m.proba[:, CLASSES.index("O")] == 0)
    # At SNR 3 and tau 30 the probabilities are spread, not one-hot.
    assert np.mean(m.proba.max(axis=1) < 0.99) > 0.2


def test_all_masked_row_gives_empty_answer(templates):
    flux, ivar = _spectra(templates, np.array([0, 1]), seed=6)
    ivar[1] = 0.0
    m = TemplateMatcher(templates, LABELS).predict(flux, ivar)
    assert m.cls[0] == "B" and m.cls[1] == ""
    assert m.template_index[1] == -1 and np.isnan(m.code[1]) and np.isnan(m.proba[1]).all()
    assert m.n_good[1] == 0


def test_code_is_weighted_within_the_chosen_class(templates):
    # Halfway between the G2 and G4 templates: with a large tau both get weight, so code
    # lies strictly between 42 and 44; code_k = 1 gives the best template's code alone.
    g2, g4 = LABELS.index("G2V"), LABELS.index("G4V")
    mix = 0.5 * (templates[g2] + templates[g4])[None, :]
    ivar = np.full_like(mix, 1e4)
    m = TemplateMatcher(templates, LABELS, tau=1e4).predict(mix, ivar)
    assert m.cls[0] == "G" and 42.0 < m.code[0] < 44.0
    one = TemplateMatcher(templates, LABELS, tau=1e4, code_k=1).predict(mix, ivar)
    assert one.code[0] in (42.0, 44.0)
    # Over many noisy spectra, code always names the chosen class.
    flux, ivar = _spectra(templates, np.tile(np.arange(len(LABELS)), 10), snr=2.0, seed=7)
    r = TemplateMatcher(templates, LABELS, tau=100.0).predict(flux, ivar)
    assert [code_to_subtype(c)[0] for c in r.code] == list(r.cls)


def test_fit_temperature_lowers_nll_and_sklearn_api(templates):
    truth = np.tile(np.arange(len(LABELS)), 30)
    flux, ivar = _spectra(templates, truth, snr=0.7, seed=8)
    y = np.array([parse_label(LABELS[t]).cls for t in truth])
    m = TemplateMatcher(templates, LABELS)

    def nll(tau, class_tau=1.0):
        p = TemplateMatcher(templates, LABELS, tau=tau, class_tau=class_tau).predict_proba(
            flux, ivar
        )
        idx = [CLASSES.index(c) for c in y]
        return -np.mean(np.log(np.maximum(p[np.arange(len(y)), idx], 1e-300)))

    assert m.fit(flux, y, ivar) is m
    assert m.tau != 1.0 and m.class_tau != 1.0
    assert nll(m.tau) < nll(1.0) and nll(m.tau) < nll(1e5)
    assert nll(m.tau, m.class_tau) <= nll(m.tau) + 1e-12
    assert m.nll_ == pytest.approx(nll(m.tau, m.class_tau), rel=1e-6)
    # class_tau rescales confidence but never changes the chosen class.
    plain = TemplateMatcher(templates, LABELS, tau=m.tau)
    np.testing.assert_array_equal(plain.predict_class(flux, ivar), m.predict_class(flux, ivar))
    assert not np.allclose(plain.predict_proba(flux, ivar), m.predict_proba(flux, ivar))
    pred = m.predict_class(flux, ivar)
    assert m.score(flux, y, ivar) == pytest.approx(np.mean(pred == y))
    assert 0.3 < m.score(flux, y, ivar) < 1.0  # noisy enough to make mistakes
    assert list(m.classes_) == list(CLASSES)


def test_decision_template_follows_best_template(templates):
    flux, ivar = _spectra(templates, np.tile(np.arange(len(LABELS)), 10), snr=1.0, seed=9)
    m = TemplateMatcher(templates, LABELS, tau=200.0, decision="template")
    chi2, _ = m.chi2(flux, ivar)
    r = m.predict(flux, ivar)
    np.testing.assert_array_equal(r.template_index, np.nanargmin(chi2, axis=1))
    p = TemplateMatcher(templates, LABELS, tau=200.0).predict(flux, ivar)
    np.testing.assert_array_equal(p.cls, np.array(CLASSES)[p.proba.argmax(axis=1)])


def test_bad_inputs_say_what_to_do(templates):
    m = TemplateMatcher(templates, LABELS)
    with pytest.raises(ConfigError, match="expected"):
        m.predict(np.ones((2, N_PIX + 1)))
    with pytest.raises(ConfigError, match="continuum_degree"):
        TemplateMatcher(templates, LABELS, continuum_degree=4)
    with pytest.raises(ConfigError, match="drop them"):
        TemplateMatcher(templates, LABELS[:-1] + ["L3"])
    with pytest.raises(ConfigError, match="decision"):
        TemplateMatcher(templates, LABELS, decision="vote")


# A small grid for library tests: 400 px, 3981-4732 Å.
SMALL = PreprocessConfig(n_pix=400, log10_start=3.6, log10_step=2e-4, norm="l2")


def _library_spectrum(t: int, wave: np.ndarray) -> np.ndarray:
    x = (np.log10(wave) - 3.6) / (400 * 2e-4) * 2 - 1
    return _template_flux(x, t)


def test_from_library_spectra_drops_excluded_types():
    wave = np.linspace(3900, 4900, 3000)
    labels = ["A0V", "G2III", "B3", "L3"]
    specs = [
        Spectrum(wave, _library_spectrum(t, wave), meta=SpectrumMeta(id=f"s{t}", subclass=lab))
        for t, lab in enumerate(labels)
    ]
    m = TemplateMatcher.from_library(specs, SMALL)
    assert list(m.names) == ["s0", "s1", "s2"]
    assert list(m.template_cls) == ["A", "G", "B"]
    assert list(m.template_lum) == ["V", "III", None]
    assert m.dropped and m.dropped[0][0] == "s3" and "L/T dwarf" in m.dropped[0][1]
    assert m.offset is False  # l2 input has no subtracted minimum
    assert TemplateMatcher.from_library(specs[:3], PreprocessConfig(
        n_pix=400, log10_start=3.6, log10_step=2e-4)).offset is True  # min-max default
    # The library's own spectra, preprocessed like any input, find themselves.
    pre = [preprocess(s, SMALL) for s in specs[:3]]
    r = m.predict(np.stack([p.flux for p in pre]), np.stack([p.ivar for p in pre]))
    np.testing.assert_array_equal(r.template_index, [0, 1, 2])


def _write_kesseli(path, t: int) -> None:
    loglam = np.arange(np.log10(3650.0), np.log10(10200.0), 2e-5)
    flux = _library_spectrum(t, 10**loglam)
    cols = [
        fits.Column(name="LogLam", format="E", array=loglam),
        fits.Column(name="Flux", format="E", array=flux),
        fits.Column(name="PropErr", format="E", array=np.full_like(flux, 0.01)),
        fits.Column(name="Std", format="E", array=np.full_like(flux, 0.05)),
    ]
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(cols)]).writeto(path)


def test_from_kesseli_folder(tmp_path):
    folder = tmp_path / "libraries" / "kesseli"
    folder.mkdir(parents=True)
    names = ["A0.fits.gz", "G2_+0.0_Dwarf.fits.gz", "K7_Giant.fits.gz", "L2.fits.gz"]
    for t, name in enumerate(names):
        _write_kesseli(folder / name, t)
    assert kesseli_folder(tmp_path) == folder
    m = TemplateMatcher.from_kesseli(tmp_path, SMALL, continuum_degree=1)
    assert list(m.names) == ["A0", "G2_+0.0_Dwarf", "K7_Giant"]
    assert list(m.template_code) == [20.0, 42.0, 57.0]
    assert list(m.template_lum) == [None, "V", "III"]
    assert [d[0] for d in m.dropped] == ["L2"]
    x = np.linspace(-1, 1, SMALL.n_pix)
    flux = np.stack([_template_flux(x, t) for t in range(3)]) * [[2.0], [0.5], [7.0]]
    r = m.predict(flux)
    np.testing.assert_array_equal(r.template_index, [0, 1, 2])
    with pytest.raises(ConfigError, match="no Kesseli templates"):
        kesseli_folder(tmp_path / "nowhere")


# ---------------------------------------------------------------------- real data
def _dr10_set(shared_data, files, cfg):
    import spectype

    flux, ivar, cls, code = [], [], [], []
    for path in files:
        spec = spectype.read(path)
        label = parse_label(spec.meta.subclass, spec.meta.obj_class)
        if not label.ok:
            continue
        pre = preprocess(spec, cfg)
        flux.append(pre.flux)
        ivar.append(pre.ivar)
        cls.append(label.cls)
        code.append(label.code)
    return np.stack(flux), np.stack(ivar), np.array(cls), np.array(code, dtype=float)


@pytest.mark.shared
def test_kesseli_templates_and_lamost_dr10(shared_data):
    folder = shared_data / "libraries" / "kesseli"
    dr10 = sorted(glob.glob(str(shared_data / "lamost" / "dr10" / "*.fits.gz")))
    if not folder.is_dir() or len(dr10) < 400:
        pytest.skip(f"needs {folder} and >= 400 files in {shared_data / 'lamost' / 'dr10'}")
    cfg = PreprocessConfig(norm="l2")
    m = TemplateMatcher.from_kesseli(shared_data, cfg, continuum_degree=2)
    assert m.n_templates == 74 and len(m.dropped) == 5  # L0-L6 dropped

    # Templates against themselves (degree 0, unit weights): each finds itself. Leaving itself
    # out, the nearest template is the next one in the sequence (rank among the distinct codes
    # differs by <= 1; the set has gaps: O6, B7, K6, K8-9) for 0.73 of them and within two
    # steps for 0.93: co-adds of different stars are not a smooth sequence.
    flat = TemplateMatcher(m.templates, m.labels, m.names)
    chi2, _ = flat.chi2(m.templates)
    np.testing.assert_array_equal(np.argmin(chi2, axis=1), np.arange(m.n_templates))
    np.fill_diagonal(chi2, np.inf)
    nearest = np.argmin(chi2, axis=1)
    codes = np.unique(m.template_code)
    rank = np.searchsorted(codes, m.template_code)
    step = np.abs(rank[nearest] - rank)
    within1 = np.mean(np.abs(m.template_code[nearest] - m.template_code) <= 1)
    print(
        f"\nKesseli leave-one-out nearest template: within 1 subtype {within1:.3f}, "
        f"next in sequence {np.mean(step <= 1):.3f}, within 2 steps {np.mean(step <= 2):.3f}"
    )
    assert np.mean(step <= 1) >= 0.65 and np.mean(step <= 2) >= 0.9

    # ~200 LAMOST DR10 spectra (every 8th file), tau fitted on 200 others.
    x_val, iv_val, y_val, _ = _dr10_set(shared_data, dr10[4::8], cfg)
    x, iv, y, code = _dr10_set(shared_data, dr10[::8], cfg)
    m.fit_temperature(x_val, iv_val, y_val)
    r = m.predict(x, iv)
    acc = float(np.mean(r.cls == y))
    d = np.abs(r.code - code)
    print(
        f"LAMOST DR10: {len(y)} spectra, accuracy {acc:.3f}, tau {m.tau:.3g}, "
        f"mean confidence {np.max(r.proba, axis=1).mean():.3f}, "
        f"|code - truth| <= 1: {np.mean(d <= 1):.3f}, <= 2: {np.mean(d <= 2):.3f}, "
        f"mean code - truth {np.mean(r.code - code):+.2f}"
    )
    assert acc > 0.5
