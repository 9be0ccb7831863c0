"""Augmentation as a dataset step: a NEW pack with extra spectra of one class in its train split.

    augment_pack("pack.h5", "augmented.h5", "O", gan_samples, source="RUN/checkpoints/iter_002000")

The added rows (GAN samples, extra simulations, any spectra on the pack's grid) are appended
after the pack's rows, labelled `class_name`, brought to the pack's normalisation
(`params.preprocess.norm`, then `params.flux_scale` when the pack records one) and put in the
train split only: val and test are those of the pack, untouched, so nothing generated from
training spectra can reach an evaluation. Each added row carries its origin: group
`<kind>:<source>` (unless given), `kind` (a per-row string dataset; the pack's own rows keep
theirs, or ''), and an entry in `params.augment`. ivar of added rows is 1 (no noise model).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from ..atomic import atomic_path
from ..errors import ConfigError
from .pack import Pack, row_chunks, write_pack_rows
from .split import SPLITS

log = logging.getLogger("spectype.datasets")
_ROW_STRINGS = ("id", "path", "group")  # written by write_pack_rows itself
COPY_BLOCK = 4096  # source rows copied at a time (~60 MB of float32 at 3,700 pixels)


def to_pack_normalisation(pack: Pack, flux: np.ndarray) -> np.ndarray:
    """(N, n_pix) rows normalised as `pack`'s rows are (its preprocess norm, then flux_scale)."""
    from ..preprocess import l2_normalise, minmax_normalise, robust_normalise

    norm = pack.params.get("preprocess", {}).get("norm")
    if norm is None:
        log.warning("%s records no preprocess.norm; added rows are stored as given", pack.path)
    fn = {"l2": l2_normalise, "minmax": minmax_normalise, "robust": robust_normalise}.get(norm)
    out = np.asarray(flux, np.float64) if fn is None else fn(np.asarray(flux, np.float64))
    return (out * float(pack.params.get("flux_scale", 1.0))).astype(np.float32)


def _extra_strings(path: Path, n: int) -> dict[str, list[str]]:
    """Per-row string datasets beyond id/path/group (a simulator's `kind`, `sim_meta`)."""
    import h5py

    with h5py.File(path, "r") as h5:
        return {k: list(h5[k].asstr()[:]) for k, ds in h5.items()
                if k not in _ROW_STRINGS and isinstance(ds, h5py.Dataset) and ds.shape == (n,)
                and h5py.check_string_dtype(ds.dtype) is not None}


def augment_pack(
    pack: str | os.PathLike | Pack, out: str | os.PathLike, class_name: str, flux: np.ndarray, *,
    source: str, kind: str = "generated", groups=None, indices: dict | None = None,
    normalised: bool = False, note: dict | None = None,
) -> Path:
    """Write `out`: the pack's rows, then `flux` (N, n_pix) as `class_name` rows in train only.

    indices: the split to start from (split -> row indices of the pack); default the pack's
    stored split. normalised: the rows are already at the pack's normalisation (e.g. rows read
    from this pack), so they are stored as given. note: extra facts for `params.augment`.
    """
    import h5py

    src = pack if isinstance(pack, Pack) else Pack(pack)
    flux = np.asarray(flux, np.float32)
    if class_name not in src.class_names:
        raise ConfigError(f"{src.path}: class {class_name!r} not in the pack (classes: "
                          f"{', '.join(src.class_names)}); augment one of those")
    if flux.ndim != 2 or flux.shape[1] != src.n_pix:
        raise ConfigError(f"{src.path}: spectra to add have shape {flux.shape}, the pack's rows "
                          f"have {src.n_pix} pixels; sample from a GAN trained on this pack's grid")
    if Path(out).resolve() == src.path.resolve():
        raise ConfigError(f"{src.path}: write the augmented pack to a new file, not over its source")
    n0, n = len(src), len(flux)
    new = np.arange(n0, n0 + n)
    parts = {s: np.asarray(indices[s] if indices else src.indices(s), np.int64) for s in SPLITS}
    parts["train"] = np.concatenate([parts["train"], new])
    added = flux if normalised else to_pack_normalisation(src, flux)
    extra = _extra_strings(src.path, n0)
    extra = {k: [*v, *([kind] if k == "kind" else [""]) * n] for k, v in extra.items()}
    extra.setdefault("kind", [""] * n0 + [kind] * n)
    grp = [f"{kind}:{source}"] * n if groups is None else [str(g) for g in groups]
    entry = {"class": class_name, "n": n, "kind": kind, "source": source, "from": str(src.path),
             "rows": [n0, n0 + n], **(note or {})}
    params = {**src.params, "augment": [*src.params.get("augment", []), entry]}
    label = src.class_names.index(class_name)
    rows = dict(
        wavelength=src.wavelength,
        labels=np.concatenate([src.labels, np.full(n, label)]), class_names=src.class_names,
        indices=parts, ids=[*src.ids, *(f"{kind}:{i}" for i in range(n))],
        paths=[*src.paths, *[source] * n], groups=[*src.groups, *grp],
        index=np.concatenate([src.row_index, np.arange(n)]),
        codes=np.concatenate([src.codes, np.full(n, np.nan)]),
        snr_i=np.concatenate([src.snr_i, np.full(n, np.nan)]), params=params,
        notes=[*src.notes, f"augment: {n} {kind} {class_name} rows from {source} added to train "
               "only (val/test unchanged)"],
        dropped=src.dropped, leaky=src.leaky, extra_strings=extra,
    )
    # Streamed block by block: a survey pack need not fit in memory twice (or once).
    with h5py.File(src.path, "r") as h5_in, atomic_path(out) as tmp, h5py.File(tmp, "w") as h5:
        for name, tail in (("flux", added), ("ivar", np.ones_like(added))):
            ds_in = h5_in[name]
            ds = h5.create_dataset(name, shape=(n0 + n, src.n_pix), dtype=np.float32,
                                   chunks=row_chunks(n0 + n, src.n_pix), compression=ds_in.compression,
                                   compression_opts=ds_in.compression_opts)
            for i in range(0, n0, COPY_BLOCK):
                j = min(i + COPY_BLOCK, n0)
                ds[i:j] = ds_in[i:j]
            ds[n0:] = tail
        write_pack_rows(h5, **rows)
    log.info("%s: %d %s %s rows added to train -> %s", src.path, n, kind, class_name, out)
    return Path(out)


def read_kind(path: str | os.PathLike) -> np.ndarray:
    """The per-row `kind` strings of a pack ('' where a row has none; all '' without the dataset)."""
    import h5py

    with h5py.File(path, "r") as h5:
        return h5["kind"].asstr()[:] if "kind" in h5 else np.full(h5["label"].shape[0], "")


__all__ = ["augment_pack", "read_kind", "to_pack_normalisation"]
