"""Chi-squared template matching over empirical templates: a PyHammer-like peer.

Spectra already on the model grid, (N, L), are compared with every template, (T, L):

    chi2[n, t] = sum_l w[n, l] * (f[n, l] - model[n, t, l])**2,
    model      = T_t * sum_j c_j P_j(x)  (+ c_off when `offset`),

w = ivar (0 on masked pixels), P_j the Legendre polynomials of degree 0..continuum_degree over
the grid (x in [-1, 1], linear in log wavelength), c solved per (spectrum, template) by
weighted least squares. Degree 0 is the analytic best scale; degrees 1-3 absorb smooth
flux-calibration errors (PyHammer's reason for fitting a continuum). Every sum is a matrix
product (N, L) x (L, T), chunked over N, so there is no Python loop over spectra.

Why each choice is made, and the real-data figures, are in docs/template_match.md.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence

import numpy as np
from numpy.polynomial import legendre
from scipy.optimize import minimize_scalar

from ..errors import ConfigError
from ..labels import CLASSES
from ..preprocess import PreprocessConfig
from ..spectrum import Spectrum
from .templates import (
    TemplateMatch,
    _class_indices,
    check_templates,
    kesseli_folder,
    load_templates,
)

# log(0) guard for the temperature fit's NLL: a true class with no template mass.
_TINY = 1e-300


class TemplateMatcher:
    """Best-fitting template per spectrum by chi2, with class probabilities.

    templates: (T, L) template flux on the model grid (any scale: the fit solves for it).
    labels: T MK strings ('G2V', 'A0'); each must parse to a usable class (parse_label).
    names: T template names (default 'template<i>').
    continuum_degree: 0 (scale only) .. 3: Legendre multiplicative polynomial degree.
    offset: also fit an additive constant. Needed for min-max-normalised input, whose minimum
        was subtracted (from_library turns it on when cfg.norm == 'minmax').
    tau: softmax temperature over templates; fit it with `fit_temperature` on labelled
        validation spectra.
    class_tau: temperature on the class log-probabilities (plain temperature scaling, Guo et al.
        2017), fitted after tau by `fit_temperature`; it changes confidence, never the argmax.
    rescale_errors: divide chi2 differences by max(1, best reduced chi2) before the softmax,
        i.e. inflate the errors until the best template fits (template mismatch, not noise,
        dominates chi2 for high-SNR spectra).
    code_k: average `code` over this many best templates of the chosen class.
    decision: 'proba' (default): cls = the most probable class (template probabilities summed
        per class); 'template': cls = the best single template's class (PyHammer's rule). They
        agree while tau is small (the default 1 makes proba nearly one-hot); after
        fit_temperature 'proba' was 0.10 more accurate on LAMOST DR10 (docs/template_match.md).
    chunk_size: spectra per block (memory ~ chunk_size * (L + T * K^2) * 8 bytes * a few).
    """

    def __init__(
        self,
        templates: np.ndarray,
        labels: Sequence[str],
        names: Sequence[str] | None = None,
        *,
        continuum_degree: int = 0,
        offset: bool = False,
        tau: float = 1.0,
        class_tau: float = 1.0,
        rescale_errors: bool = True,
        code_k: int = 5,
        decision: str = "proba",
        chunk_size: int = 512,
        cfg: PreprocessConfig | None = None,
    ):
        templates = np.asarray(templates, dtype=np.float64)
        parsed = check_templates(templates, labels, continuum_degree, decision, tau, class_tau, code_k, chunk_size, cfg)
        self.names = np.array(
            list(names) if names is not None else [f"template{i}" for i in range(len(labels))],
            dtype=object,
        )
        self.labels = list(labels)
        self.template_cls = np.array([lab.cls for lab in parsed], dtype="<U1")
        self.template_code = np.array(
            [np.nan if lab.code is None else lab.code for lab in parsed], dtype=np.float64
        )
        self.template_lum = np.array([lab.lum_class for lab in parsed], dtype=object)
        # Unit mean |flux| per template keeps the normal equations well scaled.
        scale = np.abs(templates).mean(axis=1, keepdims=True)
        self.templates = templates / np.where(scale > 0, scale, 1.0)
        self.continuum_degree = int(continuum_degree)
        self.offset = bool(offset)
        self.tau = float(tau)
        self.class_tau = float(class_tau)
        self.rescale_errors = bool(rescale_errors)
        self.code_k = int(code_k)
        self.decision = decision
        self.chunk_size = int(chunk_size)
        self.cfg = cfg
        self.dropped: list[tuple[str, str]] = []
        self.classes_ = np.array(CLASSES)
        # (T, n_classes) one-hot: template probabilities -> class probabilities.
        self._onehot = np.zeros((len(labels), len(CLASSES)))
        self._onehot[np.arange(len(labels)), [CLASSES.index(c) for c in self.template_cls]] = 1.0
        self._precompute()

    @classmethod
    def from_library(
        cls,
        path_or_spectra: str | os.PathLike | Iterable[Spectrum | str | os.PathLike],
        cfg: PreprocessConfig | None = None,
        **options,
    ) -> TemplateMatcher:
        """Templates from a folder of files (every *.fits[.gz]), a list of files, or a list of
        Spectrum objects whose meta.subclass holds the MK type.

        Each template is preprocessed onto cfg's grid with rest_frame off (templates must be
        rest-frame; Kesseli's are: H-alpha at 6564.5-6565.1 Å and Ca II 8542 at 8544.2-8544.7 Å,
        vacuum, in the G2, K5 and M3 dwarf templates) and norm 'none' (the fit solves the
        scale). Templates whose type parse_label excludes (Kesseli's L0-L6 dwarfs) are dropped
        and listed in `.dropped`: an L template that wins would still need a class among
        CLASSES, and no real L dwarf is at hand to show that keeping them flags one; the
        reduced chi2 is the out-of-distribution score instead (docs/template_match.md).
        `options` go to TemplateMatcher; offset defaults to cfg.norm == 'minmax'.
        """
        cfg = cfg or PreprocessConfig()
        fluxes, labels, names, dropped = load_templates(path_or_spectra, cfg)
        options.setdefault("offset", cfg.norm == "minmax")
        matcher = cls(np.stack(fluxes), labels, names, cfg=cfg, **options)
        matcher.dropped = dropped
        return matcher

    @classmethod
    def from_kesseli(
        cls, data_root: str | os.PathLike, cfg: PreprocessConfig | None = None, **options
    ) -> TemplateMatcher:
        """The Kesseli et al. (2017) templates under `<data_root>/libraries/kesseli`."""
        return cls.from_library(kesseli_folder(data_root), cfg, **options)

    def _precompute(self) -> None:
        n_pix = self.templates.shape[1]
        x = np.linspace(-1.0, 1.0, n_pix)
        self._poly = legendre.legvander(x, self.continuum_degree).T.copy()  # (d+1, L)
        self._t = np.ascontiguousarray(self.templates.T)  # (L, T)
        self._t2 = np.ascontiguousarray((self.templates**2).T)

    @property
    def n_params(self) -> int:
        """Linear parameters fitted per (spectrum, template)."""
        return self.continuum_degree + 1 + int(self.offset)

    @property
    def n_templates(self) -> int:
        return self.templates.shape[0]

    def _weights(
        self, flux: np.ndarray, ivar: np.ndarray | None, good: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        f = np.asarray(flux, dtype=np.float64)
        w = np.ones_like(f) if ivar is None else np.asarray(ivar, dtype=np.float64)
        ok = np.isfinite(f) & np.isfinite(w) & (w > 0)
        if good is not None:
            ok &= np.asarray(good, dtype=bool)
        return np.where(ok, f, 0.0), np.where(ok, w, 0.0)

    def _check_shapes(self, flux, ivar, good) -> np.ndarray:
        flux = np.asarray(flux)
        if flux.ndim == 1:
            flux = flux[None, :]
        n_pix = self.templates.shape[1]
        if flux.ndim != 2 or flux.shape[1] != n_pix:
            raise ConfigError(
                f"flux has shape {flux.shape}; expected (N, {n_pix}) on the templates' grid "
                "(preprocess the spectra with the PreprocessConfig the matcher was built with)"
            )
        for name, arr in (("ivar", ivar), ("good", good)):
            if arr is not None and np.shape(arr) != flux.shape and np.shape(arr) != flux.shape[1:]:
                raise ConfigError(f"{name} has shape {np.shape(arr)}, expected {flux.shape}")
        return flux

    def _chi2_block(self, f: np.ndarray, w: np.ndarray) -> np.ndarray:
        """chi2 (n, T) for one block of spectra: normal equations from matrix products."""
        n, n_t, k = f.shape[0], self.n_templates, self.n_params
        deg = self.continuum_degree
        wf = w * f
        sff = np.einsum("nl,nl->n", wf, f)
        b = np.empty((n, n_t, k))
        g = np.empty((n, n_t, k, k))
        for i in range(deg + 1):
            b[:, :, i] = (wf * self._poly[i]) @ self._t
            for j in range(i, deg + 1):
                gij = (w * (self._poly[i] * self._poly[j])) @ self._t2
                g[:, :, i, j] = gij
                g[:, :, j, i] = gij
        if self.offset:
            c = deg + 1
            b[:, :, c] = wf.sum(axis=1)[:, None]
            for i in range(deg + 1):
                gic = (w * self._poly[i]) @ self._t
                g[:, :, i, c] = gic
                g[:, :, c, i] = gic
            g[:, :, c, c] = w.sum(axis=1)[:, None]
        if k == 1:
            g00 = g[:, :, 0, 0]
            coef = np.divide(b[:, :, 0], g00, out=np.zeros_like(g00), where=g00 > 0)
            chi2 = sff[:, None] - coef * b[:, :, 0]
        else:
            # A tiny ridge keeps all-masked rows and templates that vanish on the good pixels
            # solvable; chi2 is then evaluated exactly for whatever coefficients come out.
            diag = np.einsum("ntkk->ntk", g)
            ridge = 1e-12 * diag.max(axis=-1)
            ridge = np.where(ridge > 0, ridge, 1.0)
            coef = np.linalg.solve(g + ridge[..., None, None] * np.eye(k), b[..., None])[..., 0]
            chi2 = (
                sff[:, None]
                - 2.0 * np.einsum("ntk,ntk->nt", coef, b)
                + np.einsum("ntk,ntkl,ntl->nt", coef, g, coef)
            )
        return np.maximum(chi2, 0.0)

    def chi2(
        self, flux: np.ndarray, ivar: np.ndarray | None = None, good: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(chi2 (N, T), n_good (N,)) for every spectrum against every template.

        flux, ivar, good: (N, L) on the templates' grid (ivar None: unit weights; good None:
        all pixels with finite flux and ivar > 0). Rows with no more good pixels than fitted
        parameters get NaN chi2.
        """
        flux = self._check_shapes(flux, ivar, good)
        n = flux.shape[0]
        out = np.empty((n, self.n_templates))
        n_good = np.empty(n, dtype=int)
        ivar_b = None if ivar is None else np.broadcast_to(np.asarray(ivar), flux.shape)
        good_b = None if good is None else np.broadcast_to(np.asarray(good), flux.shape)
        for start in range(0, n, self.chunk_size):
            sl = slice(start, start + self.chunk_size)
            f, w = self._weights(
                flux[sl],
                None if ivar_b is None else ivar_b[sl],
                None if good_b is None else good_b[sl],
            )
            out[sl] = self._chi2_block(f, w)
            n_good[sl] = (w > 0).sum(axis=1)
        out[n_good <= self.n_params] = np.nan
        return out, n_good

    def template_proba(
        self, chi2: np.ndarray, n_good: np.ndarray, tau: float | None = None
    ) -> np.ndarray:
        """(N, T) softmax of -(chi2 - chi2_min) / (2 tau s) over templates, s = max(1, best
        reduced chi2) when rescale_errors else 1. Rows with no finite chi2 are NaN."""
        tau = self.tau if tau is None else float(tau)
        valid = np.isfinite(chi2).any(axis=1)
        safe = np.where(np.isfinite(chi2), chi2, np.inf)
        best = np.where(valid, safe.min(axis=1), 0.0)
        scale = np.ones_like(best)
        if self.rescale_errors:
            dof = np.maximum(n_good - self.n_params, 1)
            scale = np.maximum(best / dof, 1.0)
        z = -(safe - best[:, None]) / (2.0 * tau * scale[:, None])
        p = np.exp(z)  # exp(-inf) = 0; the best template has z = 0, so sums are >= 1
        with np.errstate(invalid="ignore"):
            p /= p.sum(axis=1, keepdims=True)
        p[~valid] = np.nan
        return p

    def class_proba(self, p_t: np.ndarray, class_tau: float | None = None) -> np.ndarray:
        """(N, T) template probabilities -> (N, len(CLASSES)): summed per class, then
        softmax(log p / class_tau). Classes without a template stay at 0."""
        class_tau = self.class_tau if class_tau is None else float(class_tau)
        p = p_t @ self._onehot
        if class_tau == 1.0:
            return p
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.log(p) / class_tau
            z -= np.max(z, axis=1, keepdims=True)
            q = np.exp(z)
            return q / q.sum(axis=1, keepdims=True)

    def _result(self, chi2: np.ndarray, n_good: np.ndarray) -> TemplateMatch:
        n = chi2.shape[0]
        rows = np.arange(n)
        valid = np.isfinite(chi2).any(axis=1)
        safe = np.where(np.isfinite(chi2), chi2, np.inf)
        p_t = self.template_proba(chi2, n_good)
        proba = self.class_proba(p_t)
        if self.decision == "proba":
            chosen = np.where(valid, self.classes_[np.nan_to_num(proba).argmax(axis=1)], "")
        else:
            chosen = np.where(valid, self.template_cls[safe.argmin(axis=1)], "")
        # Everything else comes from the chosen class's templates, so cls, code, subtype,
        # lum_class and template agree with each other.
        in_cls = np.where(self.template_cls[None, :] == chosen[:, None], safe, np.inf)
        ranked = np.argsort(in_cls, axis=1, kind="stable")[:, : self.code_k]
        idx = np.where(valid, ranked[:, 0], -1)
        # code: the best code_k templates of the chosen class weighted by their probabilities.
        take = np.isfinite(np.take_along_axis(in_cls, ranked, axis=1))
        wts = np.where(take, np.take_along_axis(np.nan_to_num(p_t), ranked, axis=1), 0.0)
        codes = self.template_code[ranked]
        wts = np.where(np.isfinite(codes), wts, 0.0)
        wsum = wts.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            code = np.where(wsum > 0, (wts * np.nan_to_num(codes)).sum(axis=1) / wsum, np.nan)
        # Underflowed weights (one template far better than the rest) -> its own code.
        best_code = self.template_code[np.maximum(idx, 0)]
        code = np.where(valid & ~np.isfinite(code), best_code, code)
        chi2_min = np.where(valid, safe[rows, np.maximum(idx, 0)], np.nan)
        dof = n_good - self.n_params
        reduced = np.where(valid & (dof > 0), chi2_min / np.maximum(dof, 1), np.nan)
        return TemplateMatch(
            cls=chosen,
            code=code,
            lum_class=np.where(valid, self.template_lum[np.maximum(idx, 0)], None),
            template_index=idx,
            template_name=np.where(valid, self.names[np.maximum(idx, 0)], ""),
            chi2_min=chi2_min,
            reduced_chi2=reduced,
            proba=proba,
            n_good=n_good,
        )

    def predict(
        self, flux: np.ndarray, ivar: np.ndarray | None = None, good: np.ndarray | None = None
    ) -> TemplateMatch:
        """Best template, class, code, luminosity class and class probabilities per spectrum."""
        chi2, n_good = self.chi2(flux, ivar, good)
        return self._result(chi2, n_good)

    def predict_proba(self, flux, ivar=None, good=None) -> np.ndarray:
        """(N, len(CLASSES)) class probabilities (sklearn style; columns = classes_)."""
        return self.predict(flux, ivar, good).proba

    def predict_class(self, flux, ivar=None, good=None) -> np.ndarray:
        """Class letters of the best templates, like a sklearn classifier's predict."""
        return self.predict(flux, ivar, good).cls

    def score(self, flux, y, ivar=None, good=None) -> float:
        """Accuracy of predict_class against class letters y (sklearn style)."""
        y = np.asarray(y).astype(str)
        return float(np.mean(self.predict_class(flux, ivar, good) == y))

    def fit_temperature(
        self,
        flux: np.ndarray,
        ivar: np.ndarray | None,
        y: Sequence | np.ndarray,
        good: np.ndarray | None = None,
        bounds: tuple[float, float] = (1e-4, 1e6),
    ) -> TemplateMatcher:
        """Set `tau`, then `class_tau`, to the values minimising the NLL of the true classes y
        (letters or indices into CLASSES) on these (validation) spectra. Rows whose class has
        no template, or without a finite chi2, are left out (they carry no information)."""
        chi2, n_good = self.chi2(flux, ivar, good)
        yi = _class_indices(y)
        if yi.shape[0] != chi2.shape[0]:
            raise ConfigError(f"{yi.shape[0]} labels for {chi2.shape[0]} spectra")
        has_template = np.isin(yi, [CLASSES.index(c) for c in set(self.template_cls)])
        keep = has_template & np.isfinite(chi2).any(axis=1)
        if not keep.any():
            raise ConfigError(
                "no spectrum with a finite chi2 and a class the templates cover; "
                f"template classes: {sorted(set(self.template_cls))}"
            )
        chi2, n_good, yi = chi2[keep], n_good[keep], yi[keep]

        rows = np.arange(len(yi))

        def nll(p: np.ndarray) -> float:
            return float(-np.mean(np.log(np.maximum(p[rows, yi], _TINY))))

        # Two one-dimensional fits: tau shapes the template softmax (and so which class wins
        # under decision='proba'); class_tau then only rescales confidence.
        res = minimize_scalar(
            lambda lt: nll(self.class_proba(self.template_proba(chi2, n_good, math.exp(lt)), 1.0)),
            bounds=(math.log(bounds[0]), math.log(bounds[1])),
            method="bounded",
        )
        self.tau = float(math.exp(res.x))
        p_t = self.template_proba(chi2, n_good)
        res = minimize_scalar(
            lambda lt: nll(self.class_proba(p_t, math.exp(lt))),
            bounds=(math.log(0.01), math.log(100.0)),
            method="bounded",
        )
        self.class_tau = float(math.exp(res.x))
        self.nll_ = float(res.fun)
        return self

    def fit(self, flux, y, ivar=None, good=None) -> TemplateMatcher:
        """sklearn-style fit: the templates are fixed, so this only fits the temperatures on (flux, y)."""
        return self.fit_temperature(flux, ivar, y, good)
