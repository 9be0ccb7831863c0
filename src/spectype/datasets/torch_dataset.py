"""`PackDataset`: a torch Dataset over one split of a pack, reading rows from disk on demand."""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import torch
from torch.utils.data import Dataset

from .pack import Pack


class PackDataset(Dataset):
    """(flux float32 (n_pix,), label int64 ()) pairs from a pack.

    PackDataset(path, split="train") or PackDataset(path, indices=rows). Rows may repeat
    (replication). The HDF5 file is opened lazily in each process that reads (h5py handles
    must not cross a fork), so it is safe with DataLoader(num_workers>0). Only labels and
    indices are held in memory. DataLoader's batched fetch calls `__getitems__`, which reads
    a whole batch in one sorted HDF5 read.
    transform: optional callable on the flux tensor (n_pix,) -> tensor.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        split: str | None = "train",
        indices: np.ndarray | None = None,
        transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ):
        pack = Pack(path)
        self.path = pack.path
        self.class_names = pack.class_names
        self.n_pix = pack.n_pix
        self.wavelength = pack.wavelength
        self.leaky = pack.leaky
        self.rows = (
            np.asarray(indices, dtype=np.int64) if indices is not None else pack.indices(split)
        )
        if len(self.rows) and (self.rows.min() < 0 or self.rows.max() >= len(pack)):
            raise IndexError(f"indices must lie in [0, {len(pack)}) for {self.path}")
        self.labels = pack.labels  # (N,) int64 for every row of the pack
        self.transform = transform
        self._h5 = None
        self._pid: int | None = None

    def __len__(self) -> int:
        return len(self.rows)

    def _flux(self):
        # Reopen after a fork/spawn: each DataLoader worker gets its own handle.
        if self._h5 is None or self._pid != os.getpid():
            import h5py

            self._h5 = h5py.File(self.path, "r")
            self._pid = os.getpid()
        return self._h5["flux"]

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_h5"] = None
        state["_pid"] = None
        return state

    def _sample(self, flux: np.ndarray, row: int) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.from_numpy(np.ascontiguousarray(flux, dtype=np.float32))
        if self.transform is not None:
            x = self.transform(x)
        return x, torch.tensor(int(self.labels[row]), dtype=torch.int64)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        row = int(self.rows[i])
        return self._sample(self._flux()[row], row)

    def read_rows(self, rows: np.ndarray) -> np.ndarray:
        """(len(rows), n_pix) float32 for pack rows in any order, via one sorted read."""
        rows = np.asarray(rows, dtype=np.int64)
        uniq, inv = np.unique(rows, return_inverse=True)
        if len(uniq) == 0:
            return np.zeros((0, self.n_pix), np.float32)
        ds = self._flux()
        if uniq[-1] - uniq[0] + 1 == len(uniq):  # contiguous: a slice read is fastest
            data = ds[int(uniq[0]) : int(uniq[-1]) + 1]
        else:
            data = ds[uniq]
        return data[inv]

    def get_batch(self, idx) -> tuple[torch.Tensor, torch.Tensor]:
        """Batch of dataset positions `idx` -> (flux (B, n_pix) float32, labels (B,) int64).

        Reads once per batch; sorting `idx` first keeps the HDF5 read sequential.
        The transform, if any, is applied per sample.
        """
        rows = self.rows[np.asarray(idx, dtype=np.int64)]
        flux = torch.from_numpy(self.read_rows(rows))
        if self.transform is not None:
            flux = torch.stack([self.transform(f) for f in flux]) if len(flux) else flux
        return flux, torch.from_numpy(self.labels[rows].astype(np.int64))

    def __getitems__(self, idx: list[int]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        flux, labels = self.get_batch(idx)
        return list(zip(flux, labels, strict=True))

    def close(self) -> None:
        if self._h5 is not None:
            self._h5.close()
            self._h5 = None
