"""MKNet: a compact multitask 1D CNN for real survey spectra (class, numeric type, luminosity).

Why a second compact model: the shipped `cnn1d_compact` sees min-max flux only and answers only
the class. Users also want the subtype and the luminosity class, probabilities they can trust,
and a warning when a spectrum is unlike every training class. MKNet keeps the paper's
Conv -> BatchNorm -> LeakyReLU -> MaxPool block (pooling early, as `cnn1d_compact` does, for
laptop throughput) and adds:

- a second input channel, the good-pixel mask, so spectra with gaps or partial coverage
  (MILES stops at 7410 Å; LAMOST masks bad columns) are read, not rejected;
- heads for the class (logits), the numeric type code (O0=0 ... M9=69) with a log-variance
  (so `pred_code_err` comes from the model), and the luminosity class;
- buffers, saved with the weights, for the calibration temperature (fitted on validation data)
  and an out-of-distribution test in the embedding (class means, shared precision matrix and a
  threshold on the Mahalanobis distance, fitted on training data).

`forward(x)` returns calibrated class logits, so every caller that takes logits (classify,
evaluate) works unchanged; `heads(x)` returns everything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..layers.attention import create_attn1d
from .cnn1d import output_shape
from .registry import as_kwargs, register_model

LUM_CLASSES = ("I", "II", "III", "IV", "V")
# Whose labelling a training row follows: LAMOST/SDSS pipelines' SUBCLASS ("survey") or the MK
# spectral libraries' types ("library"); they disagree at the F/G boundary (docs/accuracy.md).
CONVENTIONS = ("survey", "library")


def convention_of(release: str) -> int:
    """A LabelledSet release -> index in CONVENTIONS: simulated ('sim') and native library rows
    ('native-*') follow the library's types, every real survey release the survey's."""
    return 1 if release == "sim" or str(release).startswith("native-") else 0


def lum_index(lum: str | None) -> int:
    """Roman luminosity class (or a range such as 'III-IV', 'Iab') -> index in LUM_CLASSES by
    its first class; -1 when unknown ('' / None / 'VI' subdwarfs are not a head class)."""
    if not lum:
        return -1
    head = lum.replace("/", "-").split("-")[0].rstrip("ab").strip()
    return LUM_CLASSES.index(head) if head in LUM_CLASSES else -1


def subtype_code(fine: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, K * 10) subtype logits -> type code (in classes: 4.2 = G2) and its log-variance.

    The code is the median of the subtype distribution, restricted to the 10 subtypes either
    side of the most likely one (label smoothing spreads a little mass over all of them, and
    those far tails would pull every code toward the middle of the range). The median, not the
    mean: LAMOST's SUBCLASS uses a sparse set of subtypes (F7, F9, G0, G2 ...), and the mean of
    a distribution split between two of them lands between both. On the benchmark's held-out
    real spectra the median agreed with LAMOST within 2 subtypes for 0.787 of spectra, the mean
    for 0.733 (`python -m studies.subtype.estimators`, docs/accuracy.md). The variance is the
    distribution's mean squared distance from the median plus the subtype bin's own width.
    """
    p = torch.softmax(fine.float(), 1)
    k = torch.arange(p.shape[1], device=p.device, dtype=p.dtype)
    near = ((k[None, :] - p.argmax(1, keepdim=True)).abs() <= 10).to(p.dtype)
    p = p * near / (p * near).sum(1, keepdim=True)
    # the first subtype whose cumulative probability reaches 1/2 (a tiny tolerance for rounding)
    median = (p.cumsum(1) >= 0.5 - 1e-6).to(torch.uint8).argmax(1).to(p.dtype)
    var = (p * (k[None, :] - median[:, None]) ** 2).sum(1) / 100 + 1 / 1200
    return median / 10, var.log()


class MKNet(nn.Module):
    """(B, L) flux or (B, 2, L) [flux, good mask] -> (B, n_classes) calibrated logits.

    Args:
        n_classes: class-head size (the folder's class_names).
        input_len: spectrum length L.
        channels, kernels, pool_strides: one entry per conv block.
        attn: `create_attn1d` name applied after the last block.
        hidden: width of the shared embedding.
        dropout: before the heads, during training.
        continuum: width in pixels of a pseudo-continuum (smoothed upper envelope); when > 0
            the flux divided by it is a third input channel, so line depths are seen apart
            from the flux calibration's slope.
        fine: the class head scores the 10 subtypes of each class (O0 ... M9; C0-C9 unused but
            kept for shape) and a class's logit is the log-sum-exp of its subtypes'. A class is
            then a union of subtype prototypes, not one (meant for LAMOST's G-like "F9"; on the
            benchmark it did not fix that, docs/accuracy.md), and the subtype distribution gives
            the type code and its error.
        linear: add a linear map of the flux to the class logits (a "wide" path beside the
            deep one). Tried because averaging a logistic regression with the CNN beat both on
            one benchmark fold; the joint path did not (off in the shipped recipe).
        conventions: 0 (off) or len(CONVENTIONS). When on, a learnt per-convention scale and
            shift (FiLM) of the embedding's pre-activation lets one network learn a different
            map from spectrum to label for survey rows and for library rows, rather than one
            compromise between them; every head (class, subtype, code, luminosity) sees it. Zero
            at initialisation, so both conventions start from one shared map. Inference
            defaults to "auto" (`heads`): the survey map, with classes no survey row had taken
            from the library map.
        other: add a "not a star of any class" logit on the embedding, a linear classifier
            fitted after training between the training stars and synthetic outliers (white
            dwarfs, quasars, galaxies, junk: `MKNetConfig.outliers`); it joins the Mahalanobis
            test in flag_unlike_training. It never changes the class, code or probabilities.
        aux: number of auxiliary regression outputs (e.g. standardised Teff, log g, [Fe/H]) on
            the embedding, trained on the rows that have them (`train_mknet(aux=...)`): a way
            to make the embedding carry what the labels depend on. 0 = none.
    """

    def __init__(
        self,
        n_classes: int = 8,
        input_len: int = 3700,
        channels: Sequence[int] = (8, 16, 32, 48, 64),
        kernels: Sequence[int] = (7, 5, 5, 5, 3),
        pool_strides: Sequence[int] = (4, 2, 2, 2, 2),
        attn: str = "se",
        hidden: int = 128,
        dropout: float = 0.2,
        continuum: int = 0,
        linear: bool = False,
        fine: bool = False,
        conventions: int = 0,
        aux: int = 0,
        other: bool = False,
    ) -> None:
        super().__init__()
        if conventions not in (0, len(CONVENTIONS)):
            raise ValueError(f"conventions must be 0 (off) or {len(CONVENTIONS)} ({', '.join(CONVENTIONS)}), "
                             f"got {conventions}")
        self.continuum = int(continuum)
        if not len(channels) == len(kernels) == len(pool_strides):
            raise ValueError("channels, kernels and pool_strides need one entry per conv block")
        layers: list[nn.Module] = []
        n_in = c_in = 3 if self.continuum else 2
        for i, (c, k, s) in enumerate(zip(channels, kernels, pool_strides, strict=True)):
            # The first block strides its conv by 2 (half the pool): a LAMOST resolution element
            # spans ~2.5 pixels, and full-resolution activations dominate CPU time.
            conv_stride = 2 if i == 0 and s % 2 == 0 else 1
            layers += [nn.Conv1d(c_in, c, k, stride=conv_stride, padding=k // 2), nn.BatchNorm1d(c),
                       nn.LeakyReLU(), nn.MaxPool1d(s // conv_stride, s // conv_stride)]
            c_in = c
        self.features = nn.Sequential(*layers)
        c_out, length = output_shape(self.features, (n_in, input_len))
        self.attn = create_attn1d(attn, c_out)
        self.embed = nn.Sequential(nn.Flatten(), nn.Linear(c_out * length, hidden), nn.LeakyReLU())
        self.drop = nn.Dropout(dropout)
        self.conventions = int(conventions)
        self.film = nn.Embedding(self.conventions, 2 * hidden) if self.conventions else None
        if self.film is not None:
            nn.init.zeros_(self.film.weight)
        self.n_classes, self.fine = n_classes, bool(fine)
        self.class_head = nn.Linear(hidden, n_classes * (10 if fine else 1))
        # With `fine`, the linear path scores subtypes too, so class and subtype never disagree.
        self.wide = nn.Sequential(nn.Dropout(0.5), nn.Linear(input_len, self.class_head.out_features)) if linear else None
        self.code_head = nn.Linear(hidden, 2)  # mean, log-variance of the type code
        self.lum_head = nn.Linear(hidden, len(LUM_CLASSES))
        # Auxiliary regression outputs (stellar parameters), trained where rows have them.
        self.aux_head = nn.Linear(hidden, aux) if aux else None
        # "Not a star of any class" logit on the embedding, fitted after training on synthetic
        # outliers (simulate/outliers.py; train/mknet.py: fit_other). skip_init: it draws no
        # random numbers, so the rest of the network trains exactly as without it.
        self.other_head = nn.utils.skip_init(nn.Linear, hidden, 1) if other else None
        if self.other_head is not None:
            nn.init.zeros_(self.other_head.weight)
            nn.init.zeros_(self.other_head.bias)
        self.register_buffer("temperature", torch.ones(()))
        self.register_buffer("ood_means", torch.zeros(n_classes, hidden))
        self.register_buffer("ood_precision", torch.eye(hidden))
        self.register_buffer("ood_threshold", torch.tensor(float("inf")))
        if other:  # the outlier logit's threshold, fitted like ood_threshold (train/mknet.py)
            self.register_buffer("other_threshold", torch.zeros(()))
        if self.conventions:
            # Classes the survey convention was trained on (train/mknet.py sets it). The survey
            # map knows nothing of the others (O, B, C: no real survey spectra of them here), so
            # "auto" takes their probability from the library map.
            self.register_buffer("survey_classes", torch.ones(n_classes, dtype=torch.bool))

    @staticmethod
    def as_input(x: torch.Tensor) -> torch.Tensor:
        """(B, L) flux -> (B, 2, L) with an all-good mask; (B, 2, L) passes through."""
        if x.dim() == 2:
            return torch.stack([x, torch.ones_like(x)], dim=1)
        return x

    def channels(self, x: torch.Tensor) -> torch.Tensor:
        """(B, L) or (B, 2, L) -> the conv input: [flux, good] (+ flux / pseudo-continuum)."""
        x = self.as_input(x)
        if not self.continuum:
            return x
        # Maxima of blocks of continuum/4 pixels, then a sliding max and a mean over 5 blocks,
        # interpolated back: a sliding max at full resolution cost as much as the network. The
        # max over ~continuum pixels keeps the envelope above lines narrower than that.
        flux, L = x[:, :1], x.shape[-1]
        block = max(1, self.continuum // 4)
        pad = (-L) % block
        env = F.max_pool1d(F.pad(flux, (0, pad), mode="replicate"), block, block)
        env = F.max_pool1d(F.pad(env, (2, 2), mode="replicate"), 5, 1)
        env = F.avg_pool1d(F.pad(env, (2, 2), mode="replicate"), 5, 1)
        env = F.interpolate(env, size=L, mode="linear", align_corners=False)
        return torch.cat([x, flux / env.clamp_min(1e-3)], dim=1)

    def convention_index(self, convention, n: int, device) -> torch.Tensor | None:
        """None / a name / an index / per-row indices -> (n,) long indices; None for a model
        without conventions (which accepts only None or the survey convention)."""
        if convention is None:
            convention = 0
        if isinstance(convention, str):
            if convention not in CONVENTIONS:
                raise ValueError(f"unknown convention {convention!r}; choose from {', '.join(CONVENTIONS)}")
            convention = CONVENTIONS.index(convention)
        idx = torch.as_tensor(convention, dtype=torch.long, device=device).expand(n) if not torch.is_tensor(
            convention) or convention.dim() == 0 else convention.to(device=device, dtype=torch.long)
        if self.film is None:
            if bool((idx != 0).any()):
                raise ValueError("this MKNet was built without conventions (conventions=0): it predicts the "
                                 "survey convention only; train one with conventions=2 for library labels")
            return None
        return idx

    def embedding(self, x: torch.Tensor, convention=None) -> torch.Tensor:
        """(B, hidden) embedding; `convention` (default survey) as in `heads`."""
        z = self.embed[1](self.embed[0](self.attn(self.features(self.channels(x)))))
        c = self.convention_index(convention, len(z), z.device)
        if c is not None:
            scale, shift = self.film(c).chunk(2, dim=1)
            z = z * (1 + scale) + shift
        return self.embed[2](z)

    def heads(self, x: torch.Tensor, convention=None) -> dict[str, torch.Tensor]:
        """Raw logits, calibrated logits, code mean/log-variance, luminosity logits, OOD distance.

        convention: whose labels to predict, for models built with `conventions`: "survey"
        (LAMOST/SDSS SUBCLASS), "library" (MK library types), "auto" (the survey's for the
        classes it was trained on, the library's for the others; the default, None, when some
        class had no survey rows) or a (B,) tensor of CONVENTIONS indices, one per row."""
        if convention is None and self.film is not None and not bool(self.survey_classes.all()):
            convention = "auto"
        if isinstance(convention, str) and convention == "auto":
            if self.film is None:
                return self._heads(x, None)
            return self._defer_unseen(self._heads(x, "survey"), self._heads(x, "library"))
        return self._heads(x, convention)

    def _defer_unseen(self, survey: dict, library: dict) -> dict[str, torch.Tensor]:
        """Survey heads, except: classes the survey never saw get the library map's probability
        (the survey's distribution over its own classes fills the rest), and a row whose class
        is one of those takes its subtype, code and luminosity from the library map too."""
        unseen = ~self.survey_classes
        out = dict(survey)
        for key in ("logits_raw", "logits"):
            ps, pl = F.log_softmax(survey[key].float(), 1), F.log_softmax(library[key].float(), 1)
            rest = torch.log1p(-pl[:, unseen].logsumexp(1, keepdim=True).exp().clamp(max=1 - 1e-6))
            out[key] = torch.where(unseen, pl, ps - ps[:, ~unseen].logsumexp(1, keepdim=True) + rest)
        lib_row = unseen[out["logits"].argmax(1)]
        for key in ("fine_logits", "code", "code_logvar", "code_reg", "code_logvar_reg", "lum_logits"):
            if survey[key] is not None:
                pick = lib_row.view(-1, *([1] * (survey[key].dim() - 1)))
                out[key] = torch.where(pick, library[key], survey[key])
        return out

    def _heads(self, x: torch.Tensor, convention) -> dict[str, torch.Tensor]:
        e = self.embedding(x, convention)
        dist = self.ood_distance(e)
        other = self.other_head(e)[:, 0] if self.other_head is not None else None
        h = self.drop(e)
        logits, fine = self._logits(x, h)
        reg = self.code_head(h)
        code, code_logvar = reg[:, 0], reg[:, 1].clamp(-10, 10)
        if fine is not None:
            code, code_logvar = subtype_code(fine)
        return {
            "logits_raw": logits,
            "fine_logits": fine,
            "logits": logits / self.temperature,
            "code": code,
            "code_logvar": code_logvar,
            "code_reg": reg[:, 0],
            "code_logvar_reg": reg[:, 1].clamp(-10, 10),
            "lum_logits": self.lum_head(h),
            "aux": self.aux_head(h) if self.aux_head is not None else None,
            "other_logit": other,
            "ood_distance": dist,
            "unlike": self._unlike(dist, other),
            "embedding": e,
        }

    def _unlike(self, dist: torch.Tensor, other: torch.Tensor | None) -> torch.Tensor:
        """(B,) bool flag_unlike_training: the embedding is farther from every class mean than
        the threshold, or (models built with `other`) the outlier logit is above its threshold
        (both thresholds: the same quantile of training stars, so each flags ~0.5 % of them)."""
        flag = dist > self.ood_threshold
        return flag if other is None else flag | (other > self.other_threshold)

    def ood_distance(self, e: torch.Tensor) -> torch.Tensor:
        """Smallest squared Mahalanobis distance of embeddings (B, H) to a class mean."""
        d = e[:, None, :] - self.ood_means[None, :, :]  # (B, K, H)
        m = torch.einsum("bkh,hg,bkg->bk", d, self.ood_precision, d)
        return m.min(dim=1).values

    def _logits(self, x: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(class logits, subtype logits (B, K * 10) or None)."""
        out = self.class_head(h)
        if self.wide is not None:
            out = out + self.wide(self.as_input(x)[:, 0])
        if not self.fine:
            return out, None
        return out.view(len(out), self.n_classes, 10).logsumexp(-1), out

    def forward(self, x: torch.Tensor, convention=None) -> torch.Tensor:
        if self.film is not None and convention in (None, "auto"):
            return self.heads(x, convention)["logits"]  # log-probabilities: softmax gives them back
        return self._logits(x, self.drop(self.embedding(x, convention)))[0] / self.temperature


@dataclass(frozen=True, kw_only=True)
class MKNetModelConfig:
    """Arguments of MKNet; what a model folder saves (train/mknet.py's MKNetConfig is training's)."""

    n_classes: int = 8
    input_len: int = 3700
    channels: Sequence[int] = (8, 16, 32, 48, 64)
    kernels: Sequence[int] = (7, 5, 5, 5, 3)
    pool_strides: Sequence[int] = (4, 2, 2, 2, 2)
    attn: str = "se"
    hidden: int = 128
    dropout: float = 0.2
    continuum: int = 0
    linear: bool = False
    fine: bool = False
    conventions: int = 0  # 0 = off; a folder saved before this option has no key and loads as 0
    aux: int = 0  # auxiliary regression outputs (0 = none; older folders load as 0)
    other: bool = False  # outlier ("not a star") logit; older folders load without it


@register_model(config=MKNetModelConfig)
def mknet(config: MKNetModelConfig) -> MKNet:
    """Multitask compact 1D CNN: flux + good mask -> class, type code, luminosity class."""
    return MKNet(**as_kwargs(config))
