"""The state of one inspect session: the table, the current view, templates, the sidecar.

The web layer (`app.py`) only translates HTTP to these methods, so the whole behaviour (order,
resume, corrections, what a bad row shows) is testable without a browser.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ConfigError
from ..labels import CLASSES, parse_label
from .lines import vacuum_lines
from .loader import SpectrumLoader
from .table import View, apply_view, load_results
from .templates import TemplateLibrary, default_template_dir
from .vetting import FLAGS, VettingStore, sidecar_path

PREFETCH = 3  # rows read ahead in the current order
MAX_BAD_RUNS = 300  # shaded bad-pixel ranges sent to the page (merged beyond that)


@dataclass
class InspectConfig:
    results: Path
    catalog: Path | None = None
    templates: Path | None = None
    data_root: Path | None = None
    vetted: Path | None = None
    order: str = "table"
    cls: str | None = None
    flag: str | None = None
    disagree: bool = False
    sample: int | None = None
    seed: int = 0
    prefetch: int = PREFETCH
    extra: dict = field(default_factory=dict)

    def view(self) -> View:
        return View(order=self.order, cls=self.cls, flag=self.flag, disagree=self.disagree,
                    sample=self.sample, seed=self.seed)


class InspectSession:
    def __init__(self, cfg: InspectConfig):
        self.cfg = cfg
        self.df = load_results(cfg.results, cfg.catalog)
        self.store = VettingStore(cfg.vetted or sidecar_path(cfg.results))
        folder = default_template_dir(cfg.templates, cfg.data_root)
        if cfg.templates and not Path(cfg.templates).is_dir():
            raise ConfigError(f"--templates {cfg.templates}: folder not found")
        # Without a Kesseli folder, the small subset shipped with the package.
        self.templates = TemplateLibrary(folder) if folder else TemplateLibrary.packaged()
        self.loader = SpectrumLoader()
        self._keys = list(zip(self.df["path"], self.df["index"].astype(int), strict=True))
        self._lock = threading.Lock()
        self.view = cfg.view()
        self.positions = apply_view(self.df, self.view)

    def close(self) -> None:
        self.loader.close()

    # ------------------------------------------------------------------ view

    def set_view(self, **kw) -> dict:
        view = View(**{**self.view.__dict__, **kw})
        positions = apply_view(self.df, view)
        with self._lock:
            self.view, self.positions = view, positions
        return self.info()

    def first_unvetted(self) -> int:
        """Position in the current order of the first row without a sidecar record (0 if all
        are vetted): where a restarted session resumes."""
        vetted = self.store.keys()
        for pos, r in enumerate(self.positions):
            if self._keys[r] not in vetted:
                return pos
        return 0

    def info(self) -> dict:
        flags = [c[5:] for c in self.df.columns if c.startswith("flag_")]
        return {
            "results": str(self.cfg.results),
            "sidecar": str(self.store.path),
            "n_rows": len(self.df),
            "n_view": len(self.positions),
            "n_vetted": len(self.store),
            "start": self.first_unvetted(),
            "view": dict(self.view.__dict__),
            "classes": list(CLASSES),
            "flags": flags,
            "user_flags": list(FLAGS),
            "lines": vacuum_lines(),
            "templates": self.templates.label,
            "n_templates": len(self.templates),
        }

    # ------------------------------------------------------------------ rows

    def _row_at(self, pos: int) -> int:
        if not 0 <= pos < len(self.positions):
            raise IndexError(f"position {pos} is outside 0..{len(self.positions) - 1}")
        return int(self.positions[pos])

    def row(self, pos: int) -> dict:
        """Everything the page shows for view position `pos`. Never raises for a bad spectrum:
        the problem comes back in `errors`."""
        r = self._row_at(pos)
        rec = self.df.iloc[r]
        path, index = self._keys[r]
        # Read ahead in the current order while the page draws this one.
        ahead = self.positions[pos + 1 : pos + 1 + self.cfg.prefetch]
        self.loader.prefetch([self.df["_file"].iat[int(q)] for q in ahead])
        fields = {k: _plain(v) for k, v in rec.items() if not str(k).startswith("_")}
        out = {
            "pos": pos, "row": r, "n_view": len(self.positions), "path": path, "index": index,
            "fields": fields, "vetting": self.store.get((path, index)),
            "header_cls": _plain(rec["_header_cls"]), "disagree": bool(rec["_disagree"]),
            "errors": [], "spectrum": None, "templates": [], "template_note": None,
        }
        if str(fields.get("status") or "ok") != "ok":
            out["errors"].append(f"classify failed for this row: {fields.get('error') or 'no message'}")
        spec = self.loader.get(rec["_file"], index)
        if isinstance(spec, str):
            out["errors"].append(spec)
            return out
        out["spectrum"], wave, flux, good = _spectrum_payload(spec)
        if not good.any():
            out["errors"].append(f"{path}: no good pixels (every pixel masked or ivar 0)")
            return out
        cls, sub, runner = self._overlay_type(rec, out["vetting"])
        try:
            temps, note = self.templates.overlays(wave, flux, good, cls, sub, runner)
        except Exception as exc:  # an odd template file must not cost the row
            temps, note = [], f"templates failed: {exc}"
        out["templates"] = [{**t, "flux": _floats(t["flux"]), "flux_matched": _floats(t["flux_matched"])}
                            for t in temps]
        out["template_note"] = note
        return out

    def _overlay_type(self, rec, vetting: dict | None) -> tuple[str | None, float | None, str | None]:
        """(class, subtype, runner-up) to draw: the user's class once set, else the model's."""
        pred = _plain(rec.get("pred_class"))
        runner = _plain(rec.get("runner_up"))
        sub = pred_subtype(rec)
        if sub is None and pred is not None and rec["_header_cls"] == pred:
            sub = parse_label(_plain(rec.get("header_subclass"))).subtype
        if vetting and vetting.get("user_class"):
            user = vetting["user_class"]
            usub = vetting.get("user_subtype")
            return user, (usub if usub is not None else (sub if user == pred else None)), (pred if pred != user else runner)
        return pred, sub, runner

    # ------------------------------------------------------------------ corrections

    def vet(self, pos: int, action: str, value=None) -> dict:
        """Record one keyboard action for the row at `pos`; returns the row's sidecar record."""
        r = self._row_at(pos)
        key = self._keys[r]
        rec = self.df.iloc[r]
        pred = _plain(rec.get("pred_class"))
        current = self.store.get(key) or {}
        if action == "accept":
            if pred not in CLASSES:
                raise ValueError("nothing to accept: this row has no prediction; set a class or flag it")
            return self.store.update(key, user_class=pred, user_subtype=pred_subtype(rec), user_flag=None)
        if action == "class":
            value = str(value).upper()
            keep = current.get("user_subtype") if current.get("user_class") == value else None
            return self.store.update(key, user_class=value, user_subtype=keep, user_flag=None)
        if action == "subtype":
            cls = current.get("user_class") or pred
            if cls not in CLASSES:
                raise ValueError("set a class first (O B A F G K M C with Shift)")
            return self.store.update(key, user_class=cls, user_subtype=float(value), user_flag=None)
        if action == "flag":
            return self.store.update(key, user_flag=str(value), user_class=None, user_subtype=None)
        if action == "note":
            return self.store.update(key, user_note=(str(value) if value else None))
        if action == "clear":
            self.store.remove(key)
            return {}
        raise ValueError(f"unknown action {action!r}")


def pred_subtype(rec) -> float | None:
    """The model's numeric subtype when the table has one (`pred_code` 42 or `pred_subtype`
    'G2' / 2.0); None otherwise."""
    code = _plain(rec.get("pred_code"))
    if isinstance(code, int | float) and math.isfinite(code):
        return round(float(code) % 10, 1)
    sub = _plain(rec.get("pred_subtype"))
    if isinstance(sub, int | float):
        return float(sub) if math.isfinite(sub) else None
    if isinstance(sub, str) and sub:
        lab = parse_label(sub)
        return lab.subtype
    return None


def _spectrum_payload(spec) -> tuple[dict, np.ndarray, np.ndarray, np.ndarray]:
    from ..preprocess import air_to_vacuum, to_rest_frame

    wave = spec.wavelength
    if spec.medium == "air":
        wave = air_to_vacuum(wave)
    v = spec.meta.velocity_kms
    shifted = v is not None and math.isfinite(v) and abs(v) < 3000  # a star; sentinel values aside
    if shifted:
        wave = to_rest_frame(wave, rv_kms=v)
    flux = spec.flux
    good = spec.good
    runs = _bad_runs(wave, ~good)
    fg = flux[good]
    lo, hi = (np.percentile(fg, [0.5, 99.5]) if fg.size else (0.0, 1.0))
    pad = 0.08 * (hi - lo if hi > lo else abs(hi) + 1.0)
    payload = {
        "wave": _floats(wave, 2), "flux": _floats(flux), "bad": runs, "n_bad": int((~good).sum()),
        "yrange": [float(lo - pad), float(hi + pad)], "rest_frame": bool(shifted),
        "velocity_kms": float(v) if shifted else None, "medium": "vacuum",
        "medium_in_file": spec.medium, "id": str(spec.meta.id), "survey": spec.meta.survey,
        "snr": {k: _plain(x) for k, x in spec.meta.snr.items()},
    }
    return payload, wave, flux, good


def _bad_runs(wave: np.ndarray, bad: np.ndarray) -> list[list[float]]:
    """[start, end] wavelength ranges of consecutive bad pixels, merged to MAX_BAD_RUNS."""
    if not bad.any():
        return []
    edges = np.diff(np.concatenate([[0], bad.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    while len(starts) > MAX_BAD_RUNS:  # merge neighbours: keep the page light on noisy masks
        starts, ends = starts[::2], np.maximum(ends[::2], np.append(ends[1::2], ends[-1])[: len(starts[::2])])
    half = np.gradient(wave) / 2
    return [[round(float(wave[a] - half[a]), 2), round(float(wave[b] + half[b]), 2)]
            for a, b in zip(starts, ends, strict=True)]


def _floats(a: np.ndarray, digits: int | None = None) -> list:
    a = np.asarray(a, dtype=np.float64)
    if digits is None:  # 5 significant digits of the largest value: plenty for a plot, small JSON
        top = np.nanmax(np.abs(a[np.isfinite(a)])) if np.isfinite(a).any() else 1.0
        digits = max(0, 4 - int(np.floor(np.log10(top)))) if top > 0 else 0
    vals = np.round(a, digits).tolist()
    return [x if math.isfinite(x) else None for x in vals]


def _plain(v):
    """A JSON-ready scalar: numpy -> Python, NaN/NA -> None."""
    if v is None:
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, str | bool | int | float):
        return v
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return str(v)

