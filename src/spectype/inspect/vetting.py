"""The corrections sidecar: one row per vetted spectrum, rewritten atomically after each action.

`RESULTS.vetted.parquet` beside the result table holds the row key (`path`, `index`) and
`user_class`, `user_subtype`, `user_flag`, `user_note`, `vetted_at` (UTC ISO time). The whole
file is rewritten through a temporary file and a rename, so a kill at any moment leaves the
previous or the new state, never a torn file; a few thousand vetted rows write in milliseconds.
"""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from ..atomic import atomic_path
from ..errors import ConfigError
from ..labels import CLASSES

COLUMNS = ("path", "index", "user_class", "user_subtype", "user_flag", "user_note", "vetted_at")
FLAGS = ("not_a_star", "bad_spectrum")


def sidecar_path(results: str | os.PathLike) -> Path:
    """results.parquet -> results.vetted.parquet (a CSV table gets a Parquet sidecar too)."""
    results = Path(results)
    return results.with_name(f"{results.stem}.vetted.parquet")


class VettingStore:
    """The sidecar in memory (a dict keyed by (path, index)) and on disk. Thread-safe."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._rows: dict[tuple[str, int], dict] = {}
        if self.path.exists():
            try:
                df = pd.read_parquet(self.path)
            except Exception as exc:
                raise ConfigError(
                    f"{self.path}: cannot read the vetting sidecar ({exc}); move it aside to start afresh"
                ) from exc
            for rec in df.to_dict("records"):
                rec = {k: (None if _isna(v) else v) for k, v in rec.items()}
                rec["index"] = int(rec["index"])
                self._rows[(str(rec["path"]), rec["index"])] = rec

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, key: tuple[str, int]) -> bool:
        return key in self._rows

    def get(self, key: tuple[str, int]) -> dict | None:
        rec = self._rows.get(key)
        return dict(rec) if rec else None

    def keys(self) -> set[tuple[str, int]]:
        return set(self._rows)

    def update(self, key: tuple[str, int], **fields) -> dict:
        """Merge `fields` into the row's record, stamp it, and write the sidecar atomically."""
        bad = set(fields) - set(COLUMNS[2:-1])
        if bad:
            raise ValueError(f"unknown vetting field(s): {', '.join(sorted(bad))}")
        _check(fields)
        with self._lock:
            rec = dict(self._rows.get(key) or dict.fromkeys(COLUMNS))
            rec.update(fields, path=key[0], index=int(key[1]))
            rec["vetted_at"] = datetime.now(UTC).isoformat(timespec="seconds")
            self._rows[key] = rec
            self._write()
            return dict(rec)

    def remove(self, key: tuple[str, int]) -> None:
        with self._lock:
            if self._rows.pop(key, None) is not None:
                self._write()

    def frame(self) -> pd.DataFrame:
        with self._lock:
            return _frame(list(self._rows.values()))

    def _write(self) -> None:
        with atomic_path(self.path) as tmp:
            _frame(list(self._rows.values())).to_parquet(tmp, index=False)


def _frame(records: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(records, columns=list(COLUMNS))
    df["index"] = df["index"].astype("int64")
    df["user_subtype"] = pd.to_numeric(df["user_subtype"], errors="coerce").astype("float64")
    for c in ("path", "user_class", "user_flag", "user_note", "vetted_at"):
        df[c] = df[c].astype(object)
    return df


def _check(fields: dict) -> None:
    c = fields.get("user_class")
    if c is not None and c not in CLASSES:
        raise ValueError(f"user_class {c!r} is not one of {', '.join(CLASSES)}")
    f = fields.get("user_flag")
    if f is not None and f not in FLAGS:
        raise ValueError(f"user_flag {f!r} is not one of {', '.join(FLAGS)}")
    s = fields.get("user_subtype")
    if s is not None and not (0 <= float(s) < 10):
        raise ValueError(f"user_subtype {s!r} must be in 0..9.5")


def _isna(v) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False
