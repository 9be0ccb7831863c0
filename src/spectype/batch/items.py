"""Reader side: files -> preprocessed spectra (`Item`s), run in worker processes by
`spectype.parallel.map_files` (task `ReadItems`).

Readers never raise: every file or spectrum that fails becomes an Item with `error` set, so a
bad file is a row, never a lost batch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..errors import CoverageError, SpectypeError
from .quality import flux_problem, model_input_problem


@dataclass
class Item:
    """One spectrum's outcome (small: flux only when ok)."""

    path: str | None
    index: int
    id: str = ""
    survey: str | None = None
    obj_class: str | None = None
    header_subclass: str | None = None
    obsid: str | None = None
    designation: str | None = None
    ra: float = float("nan")
    dec: float = float("nan")
    snr_g: float = float("nan")
    snr_i: float = float("nan")
    z: float = float("nan")
    coverage: float = float("nan")
    flux: np.ndarray | None = None
    good: np.ndarray | None = None  # bool mask of real (not interpolated) pixels; None = all
    error: str | None = None
    window_not_covered: bool = False
    excluded: str | None = None  # why the input catalogue excluded this spectrum
    extra: dict = field(default_factory=dict)  # catalogue columns passed through


@dataclass
class FileTask:
    """A file and which of its spectra to classify (None: all)."""

    path: str
    indices: tuple[int, ...] | None = None


def item_from_spectrum(spec, path: str | None, k: int, cfg) -> Item:
    """Preprocess one Spectrum onto the model grid; failures go into `Item.error`."""
    from ..preprocess import preprocess

    m = spec.meta
    item = Item(path=path, index=m.index if m.index is not None else k, id=str(m.id or ""),
                survey=m.survey, obj_class=m.obj_class, header_subclass=m.subclass,
                snr_g=_num(m.snr.get("g")), snr_i=_num(m.snr.get("i")), z=_num(m.z))
    pos = m.sky_position()
    item.ra, item.dec = _num(pos[0]), _num(pos[1])
    item.obsid, item.designation = m.obsid_text(), m.designation_text()
    where = f"{path}: " if path else ""
    problem = flux_problem(spec.flux, spec.good)
    if problem:
        item.error = f"{where}{problem}"
        return item
    try:
        pre = preprocess(spec, cfg)
    except CoverageError as exc:
        item.error, item.window_not_covered = str(exc), True
        return item
    except SpectypeError as exc:
        item.error = str(exc)
        return item
    except Exception as exc:  # a preprocessing bug must not lose the batch
        item.error = f"{where}unexpected {type(exc).__name__}: {exc}"
        return item
    problem = model_input_problem(pre.flux)
    if problem:
        item.error = f"{where}{problem}"
        return item
    item.flux = pre.flux.astype(np.float32, copy=False)
    item.good = ~pre.bad
    item.coverage = float(pre.coverage)
    return item


def _num(v) -> float:
    try:
        return float(v) if v is not None else float("nan")
    except (TypeError, ValueError):
        return float("nan")


def read_and_preprocess(args: tuple[list[FileTask], dict]) -> list[Item]:
    """Worker: read files and preprocess the wanted spectra in them. Never raises."""
    tasks, cfg_dict = args
    from ..io import read_all
    from ..preprocess import PreprocessConfig

    cfg = PreprocessConfig(**cfg_dict)
    items: list[Item] = []
    for task in tasks:
        path = task.path
        try:
            spectra = read_all(path)
        except SpectypeError as exc:
            items.append(Item(path=path, index=0, error=str(exc)))
            continue
        except Exception as exc:  # a reader bug (or MemoryError) must not lose the batch
            items.append(Item(path=path, index=0, error=f"{path}: unexpected {type(exc).__name__}: {exc}"))
            continue
        wanted = None if task.indices is None else set(task.indices)
        seen = set()
        for k, spec in enumerate(spectra):
            index = spec.meta.index if spec.meta.index is not None else k
            if wanted is not None and index not in wanted:
                continue
            seen.add(index)
            items.append(item_from_spectrum(spec, path, k, cfg))
        for index in sorted((wanted or set()) - seen):  # the catalogue lists a spectrum the file lacks
            items.append(Item(path=path, index=index,
                              error=f"{path}: the catalogue lists spectrum index {index}, the file holds {len(spectra)}"))
    return items


# ---------------------------------------------------------------- the task for map_files


@dataclass(frozen=True)
class ReadItems:
    """`spectype.parallel.map_files` task of classify: a FileTask -> the Items of its spectra.

    `read` is looked up when the task is made, in the parent, and travels to the workers by
    reference: a replacement of `read_and_preprocess` (a test's slow or dying reader) reaches them.
    """

    cfg: dict
    read: Callable | None = None

    def __post_init__(self) -> None:
        if self.read is None:
            object.__setattr__(self, "read", read_and_preprocess)

    def run_chunk(self, tasks: list[FileTask]) -> list[list[Item]]:
        by_path: dict[str, list[Item]] = {t.path: [] for t in tasks}
        for it in self.read((list(tasks), self.cfg)):
            by_path[it.path].append(it)
        return [by_path[t.path] for t in tasks]

    def __call__(self, task: FileTask) -> list[Item]:
        return self.run_chunk([task])[0]

    def failed(self, task: FileTask, message: str) -> list[Item]:
        return [Item(path=task.path, index=0, error=f"{task.path}: {message}")]
