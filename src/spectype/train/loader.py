"""The training loop's data: a pack's rows as whole batches (read once into memory when they fit).

`rows_source` picks in-memory rows (one read) or the HDF5-backed PackDataset; `loader` wraps a
source in a DataLoader whose items are whole batches, so a worker does one sorted read per batch.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from ..datasets import Pack
from .config import TrainConfig

PRELOAD_AUTO_BYTES = 1 << 30  # rows up to this size are read into memory once


class _InMemoryRows:
    """The rows a run needs, read once into memory; same get_batch as PackDataset."""

    def __init__(self, pack: Pack, rows: np.ndarray):
        uniq, self._local = np.unique(rows, return_inverse=True)
        self._flux = torch.from_numpy(pack.read_flux(uniq))
        self._labels = torch.from_numpy(pack.labels[rows].astype(np.int64))

    def __len__(self) -> int:
        return len(self._labels)

    def get_batch(self, idx) -> tuple[torch.Tensor, torch.Tensor]:
        idx = torch.as_tensor(np.asarray(idx, dtype=np.int64))
        return self._flux[torch.from_numpy(self._local)[idx]], self._labels[idx]


class _Batches(Dataset):
    """A Dataset whose items are whole batches: dataset[list of positions] -> (x, y).

    Used with DataLoader(batch_size=None, sampler=<batches of positions>), so each worker
    does one sorted HDF5 read per batch instead of one read per spectrum.
    """

    def __init__(self, source):
        self.source = source

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, idx) -> tuple[torch.Tensor, torch.Tensor]:
        return self.source.get_batch(idx)


def rows_source(pack: Pack, rows: np.ndarray, preload: bool | None):
    from ..datasets import PackDataset

    if preload is None:
        preload = len(np.unique(rows)) * pack.n_pix * 4 <= PRELOAD_AUTO_BYTES
    return _InMemoryRows(pack, rows) if preload else PackDataset(pack.path, indices=rows)


def loader(source, sampler, cfg: TrainConfig, generator: torch.Generator | None) -> DataLoader:
    return DataLoader(
        _Batches(source),
        batch_size=None,
        sampler=sampler,
        num_workers=cfg.num_workers,
        persistent_workers=cfg.num_workers > 0,
        pin_memory=False,
        generator=generator,
    )
