"""Balanced simulated (optionally mixed with real LAMOST) datasets, packed like build_dataset.

Every row carries `group` = source-star id (unified across libraries by star name) or, for a
real spectrum, its star (the LAMOST designation, or 'LAMOST:<obsid>' of the first of spectra
within 3″ when it has no name); the split is grouped on it (`datasets.plan_split`), so
all simulations of one star land in one split.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..datasets.split import SPLITS, plan_split, star_groups, star_name, star_position
from ..errors import ConfigError
from ..labels import CLASSES, parse_label
from ..preprocess import PreprocessConfig, preprocess
from .noise import NoiseProfile, load_noise_profiles_from
from .pipeline import RealDistributions, SimConfig, batch_spectra, shared_data_root, simulate_source
from .sources import DEFAULT_LIBRARIES, SourceStar, count_sources, load_sources

log = logging.getLogger("spectype.simulate")


@dataclass
class Rows:
    """Packed rows in memory: flux/ivar (N, n_pix) float32 and per-row metadata lists."""

    flux: list = field(default_factory=list)
    ivar: list = field(default_factory=list)
    cls: list = field(default_factory=list)
    code: list = field(default_factory=list)
    snr_i: list = field(default_factory=list)
    id: list = field(default_factory=list)
    path: list = field(default_factory=list)
    group: list = field(default_factory=list)
    index: list = field(default_factory=list)
    kind: list = field(default_factory=list)  # 'sim' | 'real'
    meta: list = field(default_factory=list)  # JSON per row

    def add(self, flux, ivar, label, snr_i, id_, path, group, index, kind, meta) -> None:
        self.flux.append(np.asarray(flux, np.float32))
        self.ivar.append(np.asarray(ivar, np.float32))
        self.cls.append(label.cls)
        self.code.append(np.nan if label.code is None else float(label.code))
        self.snr_i.append(np.nan if snr_i is None else float(snr_i))
        self.id.append(str(id_))
        self.path.append(str(path))
        self.group.append(str(group))
        self.index.append(int(index))
        self.kind.append(kind)
        self.meta.append(json.dumps(meta, default=str))

    def __len__(self) -> int:
        return len(self.id)


def allocate_draws(n_sources: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """Draw counts (n_sources,) summing to n, as even as possible (extra ones at random)."""
    if n_sources == 0:
        return np.zeros(0, np.int64)
    base, rest = divmod(n, n_sources)
    counts = np.full(n_sources, base, np.int64)
    counts[rng.choice(n_sources, size=rest, replace=False)] += 1
    return counts


def real_spectra(path: str | Path, classes) -> list[tuple]:
    """[(Spectrum, Label)] of real spectra in a folder (recursive) or catalogue file whose
    label is one of `classes`. Unreadable files are logged and skipped."""
    from ..io import read_all
    from ..io.discover import iter_spectrum_files

    path = Path(path)
    if path.is_dir():
        files = [(str(p), None) for p in iter_spectrum_files(path)]
    elif path.is_file():
        from ..catalog import read_catalog

        cat = read_catalog(path)
        cat = cat[cat["status"] == "ok"] if "status" in cat else cat
        files = list(zip(cat["path"].astype(str), cat["index"].astype(int), strict=True))
    else:
        raise ConfigError(f"--real {path}: no such folder or catalogue")
    out = []
    for file, idx in files:
        try:
            specs = read_all(file)
        except Exception as exc:
            log.warning("%s: unreadable (%s); skipped", file, exc)
            continue
        for k, spec in enumerate(specs):
            if idx is not None and k != idx:
                continue
            lab = parse_label(spec.meta.subclass, spec.meta.obj_class)
            if lab.ok and lab.cls in classes:
                spec.meta.index = k
                out.append((spec, lab))
    return out


@dataclass
class SimulateResult:
    path: Path
    class_names: list[str]
    counts: dict[str, dict[str, int]]  # class -> {'sim': n, 'real': n}
    sources: dict[str, dict[str, int]]
    split_counts: dict[str, dict[str, int]]
    n_failed: int
    notes: list[str]


def write_simulated_pack(out: str | Path, rows: Rows, class_names: list[str], plan, params: dict, notes: list[str],
               wavelength: np.ndarray) -> Path:
    """Write rows in the `datasets.pack` layout (format_version 1), plus `kind` (sim/real)
    and `sim_meta` (JSON per row) datasets that `Pack` ignores. Atomic."""
    from ..datasets.pack import write_pack

    labels = np.array([class_names.index(c) for c in rows.cls], np.int64)
    write_pack(
        out, np.stack(rows.flux), np.stack(rows.ivar), wavelength=wavelength, labels=labels,
        class_names=class_names, indices=plan.indices, ids=rows.id, paths=rows.path, groups=rows.group,
        index=rows.index, codes=rows.code, snr_i=rows.snr_i, params=params, notes=notes,
        extra_strings={"kind": rows.kind, "sim_meta": rows.meta},
    )
    return Path(out)


def build_simulated_dataset(
    out: str | Path,
    classes=CLASSES,
    per_class: int = 100,
    libraries=DEFAULT_LIBRARIES,
    real: str | Path | None = None,
    fits_dir: str | Path | None = None,
    seed: int = 0,
    sim: SimConfig | None = None,
    data_root: str | Path | None = None,
    n_profiles: int = 200,
    fractions=(0.8, 0.1, 0.1),
    workers: int | None = None,
    sources: list[SourceStar] | None = None,
    profiles: list[NoiseProfile] | None = None,
    max_real_fraction: float = 1.0,
    progress: bool = False,
) -> SimulateResult:
    """Simulate `per_class` spectra per class (less the real ones given with `real`), split
    by source star, and write one pack to `out` (and LAMOST FITS files to fits_dir).

    max_real_fraction caps real spectra at that fraction of `per_class`, so every class also
    gets simulations: otherwise "looks simulated" would itself predict the classes the real
    sample lacks, a shortcut a classifier would learn instead of the spectral types.
    """
    sim = sim or SimConfig()
    root = Path(data_root) if data_root else shared_data_root()
    classes = [c for c in CLASSES if c in set(classes)]
    rng = np.random.default_rng(seed)
    workers = workers or min(8, os.cpu_count() or 1)
    if sources is None:
        sources = load_sources(libraries, root / "libraries", classes, sim.r_target, workers)
    dists = RealDistributions.from_params_csv(root / "lamost" / "dr10_params.csv")
    if profiles is None:
        profiles = load_noise_profiles_from(root / "lamost", n_profiles, seed, workers)
    pcfg = PreprocessConfig()
    rows, notes, n_failed = Rows(), [], 0
    counts: dict[str, dict[str, int]] = {c: {"sim": 0, "real": 0} for c in classes}

    if real is not None:
        stars: list[tuple[str, float, float]] = []
        by_cls: dict[str, list] = {}
        for spec, lab in real_spectra(real, classes):
            by_cls.setdefault(lab.cls, []).append((spec, lab))
        for cls, items in by_cls.items():
            order = rng.permutation(len(items))[: int(per_class * max_real_fraction)]
            for k in order:
                spec, lab = items[k]
                try:
                    pre = preprocess(spec, pcfg)
                except Exception as exc:
                    n_failed += 1
                    log.warning("%s: %s", spec.meta.path, exc)
                    continue
                rows.add(pre.flux, pre.ivar, lab, spec.meta.snr.get("i"), spec.meta.id, spec.meta.path,
                         f"LAMOST:{spec.meta.id}", spec.meta.index or 0, "real", {"real": True})
                stars.append((star_name(spec.meta), *star_position(spec.meta)))
                counts[cls]["real"] += 1
        # Group real rows by star (name or 3" match), not by observation: the DR10 sample
        # holds stars observed twice, whose spectra must not straddle train and test.
        if stars:
            names, ra, dec = zip(*stars, strict=True)
            rows.group[:] = star_groups(names, np.array(ra), np.array(dec), rows.group).tolist()

    sim_id = 0
    fits_dir = Path(fits_dir) if fits_dir else None
    from ..progress import progress_bar

    total = sum(max(0, per_class - counts[c]["real"]) for c in classes)
    with progress_bar(progress, "spectra") as bar:
        task = bar.add_task("simulating", total=total)
        for cls in classes:
            cls_sources = [s for s in sources if s.label.cls == cls]
            need = per_class - counts[cls]["real"]
            if need <= 0:
                continue
            if not cls_sources:
                notes.append(f"class {cls}: no source star in libraries {list(libraries)}; none simulated")
                continue
            for src, k in zip(cls_sources, allocate_draws(len(cls_sources), need, rng), strict=True):
                if k == 0:
                    continue
                for spec in batch_spectra(simulate_source(src, int(k), sim, dists, profiles, rng), sim_id):
                    sim_id += 1
                    prm = spec.meta.extra["sim"]
                    try:
                        pre = preprocess(spec, pcfg)
                    except Exception as exc:
                        n_failed += 1
                        log.warning("%s from %s: %s", spec.meta.id, src.key, exc)
                        continue
                    path = ""
                    if fits_dir is not None:
                        from .fits import write_lamost_fits

                        path = str(write_lamost_fits(spec, fits_dir / f"{spec.meta.id}.fits"))
                    rows.add(pre.flux, pre.ivar, src.label, prm["snr_i"], spec.meta.id, path, src.group, 0, "sim", prm)
                    counts[cls]["sim"] += 1
                    bar.advance(task)
    if len(rows) == 0:
        raise ConfigError("nothing simulated: no source star for the requested classes")
    class_names = [c for c in classes if counts[c]["sim"] + counts[c]["real"] > 0]
    labels = np.array([class_names.index(c) for c in rows.cls], np.int64)
    plan = plan_split(labels, np.asarray(rows.group), fractions, seed)
    notes += plan.notes
    params = {
        "simulated": True, "classes": class_names, "per_class": per_class, "libraries": list(libraries),
        "real": str(real) if real else None, "seed": seed, "sim": asdict(sim), "n_profiles": len(profiles),
        "preprocess": asdict(pcfg), "fractions": list(fractions), "data_root": str(root),
    }
    write_simulated_pack(out, rows, class_names, plan, params, notes, pcfg.grid())
    split_counts = {s: {c: int(np.sum(labels[plan.indices[s]] == i)) for i, c in enumerate(class_names)} for s in SPLITS}
    return SimulateResult(Path(out), class_names, counts, count_sources(sources), split_counts, n_failed, notes)
