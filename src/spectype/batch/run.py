"""Batch classification of spectrum files with a released model: the product's main job.

files / folders / catalogues / packs
  -> `spectype.parallel.map_files`: read + preprocess in worker processes (I/O and gzip bound,
     so every core is used), or in Ray tasks across a cluster (`backend="ray"`)
  -> batches of flux on the model's device -> probabilities -> one row per spectrum
  -> atomic part files beside the output, merged into it at the end.

Resumable and safe to interrupt: spectra already in the output or a part file are skipped;
a part is only ever renamed into place whole; the output is locked while a run writes it and
checked before it is touched (see writer.py); resuming with another model is refused.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from contextlib import closing
from pathlib import Path

import numpy as np

from ..runtime import resolve_device
from .engine import Classifier, preprocess_config
from .identity import model_identity, run_metadata
from .inputs import expand_inputs
from .items import Item, ReadItems
from .options import ClassifyOptions, ClassifySummary
from .paths import path_key
from .writer import ResultWriter, check_suffix, check_target, output_lock


def classify_files(
    paths: Iterable[str | os.PathLike],
    output: str | os.PathLike,
    model=None,
    options: ClassifyOptions | None = None,
) -> ClassifySummary:
    """Classify every spectrum in `paths` and write one row each to `output` (.parquet/.csv).

    `model`: a model folder, a LoadedModel, or None for the shipped model.
    """
    from ..models.release import LoadedModel, load_model

    opts = options or ClassifyOptions()
    t0 = time.perf_counter()
    output = Path(os.path.abspath(output))
    check_suffix(output)  # before minutes of work, not after
    device = str(resolve_device(opts.device))
    loaded = model if isinstance(model, LoadedModel) else load_model(model, device=device)
    identity = model_identity(loaded)
    pre_cfg = preprocess_config(loaded, opts.min_coverage)
    inputs = expand_inputs(list(paths), opts.keep_columns)
    named = inputs.resolved + inputs.listed  # what the user named: never an output
    check_target(output, named, inputs.packs, opts.resume, identity.hash, identity.name)
    inputs.drop_own_files(output)

    with output_lock(output, opts.wait_for_lock):
        # Checked again under the lock: another run may have written the output meanwhile.
        check_target(output, named, inputs.packs, opts.resume, identity.hash, identity.name)
        writer = ResultWriter(output, opts.part_rows, opts.flush_seconds,
                              metadata=run_metadata(identity, inputs.resolved))
        if opts.resume:
            done_keys = writer.done_keys()
        else:
            writer.reset()
            done_keys = set()
        done_files = {k for k, _ in done_keys}
        todo = [t for t in inputs.tasks if path_key(t.path) not in done_files]
        n_excluded_files = len({it.path for it in inputs.excluded} - {t.path for t in inputs.tasks})
        summary = ClassifySummary(output=output, n_files=len(inputs.tasks) + len(inputs.packs) + n_excluded_files,
                                  n_skipped=len(inputs.tasks) - len(todo))
        plotter = _Plotter(output, opts.plot, loaded.class_names) if opts.plot else None
        clf = Classifier(loaded, identity, opts, device, summary, writer.add, inputs.extra_for, plotter)
        try:
            for it in inputs.excluded:
                if (path_key(it.path), it.index) not in done_keys:
                    clf.add(it)
            # closing: an interrupt stops the reader processes now, not when the traceback goes.
            with closing(_sources(todo, inputs.packs, pre_cfg, opts, done_keys)) as sources:
                for items in sources:
                    for it in items:
                        clf.add(it)
                    writer.maybe_flush(set(clf.waiting))
            clf.run_batch()
        except BaseException:
            # Interrupted (Ctrl-C, SIGTERM, an error): keep every complete file's rows.
            writer.flush(set(clf.waiting) | {it.path for it in clf.batch})
            raise
        writer.finalise()
    summary.seconds = time.perf_counter() - t0
    return summary


def _sources(todo, packs, pre_cfg, opts: ClassifyOptions, done_keys) -> Iterator[list[Item]]:
    """Item lists, a file's (or a pack slice's) at a time, in input order."""
    from ..errors import SpectypeError
    from ..parallel import map_files

    for _task, items in map_files(ReadItems(pre_cfg), todo, backend=opts.backend, workers=opts.workers,
                                  chunk=opts.files_per_task, progress=opts.progress, label="classify",
                                  address=opts.ray_address):
        yield items

    for pack in packs:
        try:
            for items in iter_pack_items(pack, pre_cfg):
                yield [it for it in items if (path_key(it.path), it.index) not in done_keys]
        except SpectypeError as exc:  # not a pack, or made for another model: a row, not a crash
            if (path_key(pack), 0) not in done_keys:
                yield [Item(path=pack, index=0, error=str(exc))]


def iter_pack_items(pack_path: str, preprocess_cfg: dict, chunk: int = 4096) -> Iterator[list[Item]]:
    """Items from an HDF5 pack: its rows are already preprocessed, so only slices are read."""
    import h5py

    from ..datasets import Pack
    from ..errors import ConfigError

    try:
        pack = Pack(pack_path)
    except Exception as exc:
        raise ConfigError(f"{pack_path}: not a spectype pack ({type(exc).__name__}: {exc}); "
                          "give spectrum files or a catalogue instead") from None
    pre = pack.params.get("preprocess", {})
    for key in ("n_pix", "log10_start", "log10_step", "norm"):
        if key in pre and key in preprocess_cfg and pre[key] != preprocess_cfg[key]:
            raise ConfigError(
                f"{pack_path}: pack preprocessing {key}={pre[key]!r} differs from the model's "
                f"{preprocess_cfg[key]!r}; classify the original files instead"
            )
    with h5py.File(pack_path, "r") as h5:
        flux = h5["flux"]
        for lo in range(0, len(pack), chunk):
            block = flux[lo : lo + chunk]
            yield [
                Item(path=str(pack.paths[r]), index=int(pack.row_index[r]), id=str(pack.ids[r]),
                     snr_i=float(pack.snr_i[r]), flux=np.asarray(block[r - lo], np.float32))
                for r in range(lo, min(lo + chunk, len(pack)))
            ]


class _Plotter:
    """Writes a figure per spectrum for the first N: flux with predicted class and probabilities."""

    def __init__(self, output: Path, limit: int, class_names: list[str]):
        self.dir = output.with_name(output.stem + "_plots")
        self.limit = limit
        self.class_names = class_names
        self.n = 0

    def maybe_plot(self, item: Item, probs: np.ndarray) -> None:
        if self.n >= self.limit:
            return
        from ..plots import plot_classified_spectrum

        self.dir.mkdir(parents=True, exist_ok=True)
        stem = Path(str(item.path)).name.split(".")[0] if item.path else "spectrum"
        name = f"{self.n:05d}_{os.fsencode(stem).decode('utf-8', 'replace')}_{item.index}.png"
        plot_classified_spectrum(item.flux, probs, self.class_names, self.dir / name,
                                 title=f"{item.id or stem}  header: {item.header_subclass}")
        self.n += 1
