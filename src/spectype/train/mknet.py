"""Training MKNet (models/mknet.py) in memory from a LabelledSet: class + type code + luminosity.

One readable loop, like train/engine.py, but multitask and on arrays (the benchmark fits it once
per fold, next to sklearn baselines on the same rows). After training:
1. the calibration temperature is fitted on the validation rows (minimum NLL, Guo et al. 2017),
   each in its own label convention when the model has conventions (models/mknet.py);
2. the out-of-distribution test is fitted on the training rows' embeddings (class means, shared
   covariance, threshold = the `ood_quantile` of training distances).
Both are buffers of the model, so they are saved in model.safetensors with the weights.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from ..labels import CLASSES
from ..models.mknet import LUM_CLASSES, MKNet, convention_of, lum_index
from ..models.registry import create_model
from .augment import AugmentConfig, SpectrumAugment


@dataclass
class MKNetConfig:
    epochs: int = 30
    batch_size: int = 128
    lr: float = 2e-3
    weight_decay: float = 1e-4
    label_smoothing: float = 0.05
    code_weight: float = 1.0
    # "nll": Gaussian NLL with a learnt variance on mean and variance together; "huber": a
    # smooth-L1 fit of the mean, the variance fitted by NLL on the detached mean (the NLL alone
    # lets the variance absorb errors and under-fits the mean).
    code_loss: str = "huber"
    lum_weight: float = 0.2
    fine_weight: float = 0.5  # subtype cross-entropy, for models built with fine=True
    # > 0: the subtype target is a Gaussian of this width (in subtypes) around the true code,
    # within the true class, instead of one subtype with label smoothing: neighbouring subtypes
    # are near misses, not errors (an experiment: docs/accuracy.md). 0 = one-hot + smoothing.
    fine_sigma: float = 0.0
    aux_weight: float = 0.5  # weight of the auxiliary regression (train_mknet(aux=...)), if given
    # > 0: after training, a linear "not a star" classifier on the embedding (MKNet(other=True))
    # is fitted between the training stars and this many synthetic non-stellar spectra
    # (simulate/outliers.py). On by default: without it no real white dwarf was flagged
    # (docs/accuracy.md). The network itself trains exactly as with 0 (off).
    outliers: int = 2000
    balance_power: float = 0.5  # sample weight = class count ** -balance_power (1 = fully balanced)
    ood_quantile: float = 0.995
    # With conventions: library rows of a class no survey training row has (O, B, C here) are
    # fitted in a convention drawn at random each time, so the survey map still knows those
    # classes (the survey cannot disagree about a class it never labels).
    share_unseen: bool = False
    seed: int = 0
    # The benchmark's pick (docs/accuracy.md): subtype head + pseudo-continuum channel.
    # {"conventions": 2} adds the survey/library label-convention input (off: docs/accuracy.md).
    model_kwargs: dict = field(default_factory=lambda: {"continuum": 101, "fine": True})
    augment: AugmentConfig = field(default_factory=AugmentConfig)


def _tensors(data, classes):
    x = torch.from_numpy(np.stack([data.flux, data.good.astype(np.float32)], 1))
    ivar = torch.from_numpy(data.ivar.astype(np.float32))
    y = torch.tensor([classes.index(c) for c in data.cls], dtype=torch.long)
    code = torch.from_numpy(np.asarray(data.code, np.float32))
    lum = torch.tensor([lum_index(s) for s in data.lum], dtype=torch.long)
    return x, ivar, y, code, lum


def conventions_of(data) -> torch.Tensor:
    """(N,) CONVENTIONS index of each row of a LabelledSet, from its release."""
    return torch.tensor([convention_of(r) for r in data.release], dtype=torch.long)


def unseen_by_survey(y: torch.Tensor, conv: torch.Tensor) -> torch.Tensor:
    """(N,) bool: library rows whose class no survey row has (MKNetConfig.share_unseen)."""
    return (conv == 1) & ~torch.isin(y, y[conv == 0].unique())


def soft_subtype_target(code: torch.Tensor, y: torch.Tensor, n: int, sigma: float) -> torch.Tensor:
    """(N, n) probabilities: a Gaussian of width `sigma` subtypes around each code, on the 10
    subtypes of its class only (so the class the target implies is always the true one)."""
    k = torch.arange(n, device=code.device, dtype=torch.float32)
    lo = 10 * y[:, None].float()
    centre = torch.minimum(torch.maximum(code[:, None].float(), lo), lo + 9)  # inside its class
    w = torch.exp(-0.5 * ((k[None, :] - centre) / sigma) ** 2) * ((k[None, :] // 10) == y[:, None]).float()
    return w / w.sum(1, keepdim=True)


def _loss(out, y, code, lum, cfg: MKNetConfig) -> torch.Tensor:
    loss = F.cross_entropy(out["logits_raw"], y, label_smoothing=cfg.label_smoothing)
    have = torch.isfinite(code)
    if have.any():  # Gaussian NLL on code/10 (one class = 1 unit), learnt variance
        mu, lv, t = out["code_reg"][have], out["code_logvar_reg"][have], code[have] / 10
        if cfg.code_loss == "huber":
            loss = loss + cfg.code_weight * F.smooth_l1_loss(mu, t, beta=0.1)
            mu = mu.detach()
        loss = loss + cfg.code_weight * 0.5 * (lv + (t - mu) ** 2 / lv.exp()).mean()
    if out.get("fine_logits") is not None and have.any():
        # The subtype within the true class (so the fine target always agrees with the class).
        sub = (code[have] - 10 * y[have]).floor().clamp(0, 9).long()
        fine = out["fine_logits"][have]
        if cfg.fine_sigma > 0:
            loss = loss + cfg.fine_weight * F.cross_entropy(fine, soft_subtype_target(
                code[have], y[have], fine.shape[1], cfg.fine_sigma))
        else:
            loss = loss + cfg.fine_weight * F.cross_entropy(fine, 10 * y[have] + sub,
                                                            label_smoothing=cfg.label_smoothing)
    if (lum >= 0).any():
        loss = loss + cfg.lum_weight * F.cross_entropy(out["lum_logits"], lum, ignore_index=-1)
    return loss


@torch.no_grad()
def predict_heads(model: MKNet, x: torch.Tensor, batch_size: int = 512, convention=None) -> dict[str, np.ndarray]:
    """Eval-mode heads over (N, 2, L) in batches -> numpy arrays (code in code units).
    convention: as in MKNet.heads (None = the model's default; a name; or (N,) per-row indices)."""
    model.eval()
    parts: dict[str, list] = {}
    per_row = torch.is_tensor(convention) and convention.dim() == 1
    for i in range(0, len(x), batch_size):
        out = model.heads(x[i : i + batch_size], convention[i : i + batch_size] if per_row else convention)
        for k, v in out.items():
            if v is None:
                continue
            parts.setdefault(k, []).append(v.float().cpu())
    res = {k: torch.cat(v).numpy() for k, v in parts.items()}
    for k in ("code_reg", "code_logvar_reg"):  # training-only: "code" is what the model reports
        res.pop(k, None)
    if "code" in res:
        res["code"] = res["code"] * 10
        res["code_err"] = np.exp(0.5 * res.pop("code_logvar")) * 10
    return res


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The T > 0 that minimises the NLL of softmax(logits / T) on (logits, y)."""
    z = torch.from_numpy(np.asarray(logits, np.float64))
    t = torch.from_numpy(np.asarray(y, np.int64))
    log_t = torch.zeros((), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([log_t], lr=0.1, max_iter=200)

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(z / log_t.exp(), t)
        loss.backward()
        return loss

    opt.step(closure)
    return float(log_t.detach().exp().clamp(0.05, 20.0))


@torch.no_grad()
def fit_ood(model: MKNet, x: torch.Tensor, y: torch.Tensor, quantile: float) -> None:
    """Class means and shared precision of training embeddings; threshold at `quantile`.
    Embeddings are taken in the survey convention (the OOD test reads the survey map)."""
    e = _embeddings(model, x)
    k, h = model.ood_means.shape
    means = torch.zeros(k, h, dtype=torch.float64)
    for c in range(k):
        if (y == c).any():
            means[c] = e[y == c].mean(0)
        else:  # a class with no training rows: a mean nothing is near
            means[c] = float("inf")
    resid = e - means[y]
    cov = resid.T @ resid / max(1, len(e) - k) + 1e-3 * torch.eye(h, dtype=torch.float64)
    model.ood_means.copy_(torch.nan_to_num(means, posinf=1e6).float())
    model.ood_precision.copy_(torch.linalg.inv(cov).float())
    d = model.ood_distance(e.float())
    model.ood_threshold.fill_(float(torch.quantile(d, quantile)))


def _embeddings(model: MKNet, x: torch.Tensor) -> torch.Tensor:
    """(N, hidden) float64 eval-mode embeddings (survey convention), in batches of 512."""
    model.eval()
    return torch.cat([model.embedding(x[i : i + 512]) for i in range(0, len(x), 512)]).double()


@torch.no_grad()
def fit_other(model: MKNet, x_stars: torch.Tensor, x_outliers: torch.Tensor, quantile: float) -> None:
    """Fit the model's "not a star" logit: a class-balanced logistic regression (standardised
    inputs, folded into the linear head) on the frozen embeddings of the training stars (0) and
    of synthetic outliers (1); its threshold is the `quantile` of the stars' logits, as the
    Mahalanobis test's is. Fitted after training, so the class, code and probabilities are those
    of the same network without it. Real white dwarfs and L/T dwarfs are kept for testing it
    (studies/ood)."""
    from sklearn.linear_model import LogisticRegression

    es, eo = _embeddings(model, x_stars).numpy(), _embeddings(model, x_outliers).numpy()
    e = np.concatenate([es, eo])
    mean, scale = e.mean(0), e.std(0) + 1e-6
    clf = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000)
    clf.fit((e - mean) / scale, np.r_[np.zeros(len(es)), np.ones(len(eo))])
    w = clf.coef_[0] / scale
    model.other_head.weight.copy_(torch.from_numpy(w[None]).float())
    model.other_head.bias.fill_(float(clf.intercept_[0] - (w * mean).sum()))
    logits = torch.from_numpy(es).float() @ model.other_head.weight[0] + model.other_head.bias
    model.other_threshold.fill_(float(torch.quantile(logits, quantile)))


def train_mknet(train, val, cfg: MKNetConfig | None = None, classes=CLASSES, progress=None,
                aux: np.ndarray | None = None) -> tuple[MKNet, list[dict]]:
    """Fit MKNet on LabelledSet `train`, pick the epoch with the best validation accuracy, then
    fit its temperature on `val` and its OOD test on `train`. Returns (model, history).

    aux: optional (len(train), P) regression targets (NaN where a row has none), e.g.
    standardised stellar parameters; the model gets an `aux` head of P outputs, trained by a
    smooth-L1 loss on the finite entries with weight `cfg.aux_weight`."""
    cfg = cfg or MKNetConfig()
    classes = list(classes)
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    L = train.flux.shape[1]
    kwargs = dict(cfg.model_kwargs)
    if aux is not None:
        aux = torch.from_numpy(np.asarray(aux, np.float32).reshape(len(train), -1))
        kwargs["aux"] = aux.shape[1]
    if cfg.outliers:
        kwargs["other"] = True
    model: MKNet = create_model("mknet", n_classes=len(classes), input_len=L, **kwargs)
    aug = SpectrumAugment(cfg.augment)
    x, ivar, y, code, lum = _tensors(train, classes)
    xv, _, yv, _, _ = _tensors(val, classes)
    # Each row is fitted (and validated) in its own label convention; a model without
    # conventions gets None, its only (survey) map.
    conv, conv_v = (conventions_of(train), conventions_of(val)) if model.conventions else (None, None)
    shared = unseen_by_survey(y, conv) if conv is not None and cfg.share_unseen else None
    counts = torch.bincount(y, minlength=len(classes)).double().clamp_min(1)
    w = counts[y] ** -cfg.balance_power
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps = max(1, math.ceil(len(y) / cfg.batch_size))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, cfg.lr, total_steps=cfg.epochs * steps)
    best, best_acc, history = None, -1.0, []
    for epoch in range(cfg.epochs):
        model.train()
        aug.train()
        order = torch.multinomial(w, len(y), replacement=True, generator=gen)
        total = 0.0
        for i in range(steps):
            b = order[i * cfg.batch_size : (i + 1) * cfg.batch_size]
            if len(b) < 2:  # BatchNorm needs two
                continue
            xb = aug(x[b], ivar[b], gen)
            cb = None if conv is None else conv[b]
            if shared is not None and bool(shared[b].any()):
                cb = torch.where(shared[b], torch.randint(0, 2, (len(b),), generator=gen), cb)
            out = model.heads(xb, cb)
            loss = _loss(out, y[b], code[b], lum[b], cfg)
            if aux is not None:
                t = aux[b]
                have = torch.isfinite(t)
                if have.any():
                    loss = loss + cfg.aux_weight * F.smooth_l1_loss(out["aux"][have], t[have])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(b)
        pv = predict_heads(model, xv, convention=conv_v)
        acc = float((pv["logits"].argmax(1) == yv.numpy()).mean()) if len(yv) else float("nan")
        history.append({"epoch": epoch, "loss": total / len(y), "val_acc": acc})
        if progress is not None:
            progress(history[-1])
        if not acc < best_acc:  # ties go to the later (more annealed) epoch; NaN (no val rows) keeps the last
            best, best_acc = copy.deepcopy(model.state_dict()), acc
    model.load_state_dict(best)
    if len(yv):
        pv = predict_heads(model, xv, convention=conv_v)
        model.temperature.fill_(fit_temperature(pv["logits_raw"], yv.numpy()))
    if conv is not None:  # what "auto" defers to the library map (models/mknet.py)
        model.survey_classes.copy_(torch.isin(torch.arange(len(classes)), y[conv == 0]))
    fit_ood(model, x, y, cfg.ood_quantile)
    if cfg.outliers:
        from ..preprocess import PreprocessConfig
        from ..simulate.outliers import outlier_set

        # LabelledSets carry no wavelengths: the outliers are drawn on the default model grid
        # of L pixels, the grid every LabelledSet in spectype is built on.
        pool = torch.from_numpy(outlier_set(cfg.outliers, np.asarray(PreprocessConfig(n_pix=L).grid()), cfg.seed)[0])
        fit_other(model, x, torch.stack([pool, torch.ones_like(pool)], 1), cfg.ood_quantile)
    model.eval()
    return model, history


__all__ = ["LUM_CLASSES", "MKNetConfig", "conventions_of", "unseen_by_survey", "fit_other", "fit_temperature", "predict_heads", "train_mknet"]
