"""The output table: checked before use, locked while written, built from atomic part files.

- `check_target` refuses, before any work, an output that cannot be written (suffix), that is
  an input, that is not a classify output, or that another model made.
- `output_lock` holds `<output>.lock` (an OS file lock, released by the kernel if the process
  dies), so two runs on one output never interleave: the second refuses, or waits.
- `ResultWriter` appends rows as part files in `<output>.parts/`, each renamed into place whole,
  every `part_rows` rows or `flush_seconds` seconds; `finalise` merges them into the output.
  A killed run leaves only complete parts, which the next run reads as done.
"""

from __future__ import annotations

import json
import os
import time
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from ..atomic import atomic_path
from ..errors import ConfigError
from .identity import META_KEY, inspect_output
from .paths import key_from_columns
from .rows import RESULT_KEY

WRITABLE_SUFFIXES = (".parquet", ".csv")
_STR_COLUMNS = {c: "string" for c in ("path", "path_hex", "id", "obsid", "designation", "model_hash")}


class OutputBusyError(ConfigError):
    """Another run holds the output's lock."""


def check_suffix(output: Path) -> None:
    if output.suffix.lower() not in WRITABLE_SUFFIXES:
        raise ConfigError(
            f"{output}: cannot write a {output.suffix or 'suffix-less'} file; name the output "
            f"*.parquet or *.csv"
        )


def check_target(output: Path, inputs: list[str], input_files: list[str], resume: bool,
                 model_hash: str, model_name: str) -> None:
    """Refuse an output that would destroy something that is not ours to replace."""
    check_suffix(output)
    if output.is_dir():
        raise ConfigError(f"{output}: is a directory; give a file name such as {output / 'results.parquet'}")
    real = os.path.realpath(output)
    for p in list(inputs) + list(input_files):
        if os.path.realpath(p) == real:
            raise ConfigError(
                f"{output}: is one of the inputs; write the results to another file (-o results.parquet)"
            )
    existing = inspect_output(output)
    if existing.kind == "other":
        raise ConfigError(
            f"{output}: already exists and is not a spectype classify output ({existing.reason}); "
            "it is left untouched: choose another -o, or move the file away"
        )
    if not resume:
        return  # --fresh: a (legacy) classify output may be replaced
    if existing.kind == "legacy-classify":
        raise ConfigError(f"{output}: {existing.reason}; rerun with --fresh to replace it, or choose another -o")
    part_hashes = _part_hashes(_parts_dir(output))
    other = (existing.model_hash | part_hashes) - {model_hash}
    if other:
        raise ConfigError(
            f"{output}: was made by a different model (hash {sorted(other)[0][:12]}…, this run's "
            f"{model_name} is {model_hash[:12]}…); rows of two models never share a table: "
            "rerun with --fresh to replace it, or choose another -o"
        )


def _parts_dir(output: Path) -> Path:
    return output.with_name(output.name + ".parts")


def _part_files(parts_dir: Path) -> list[Path]:
    return sorted(parts_dir.glob("part-*.parquet")) if parts_dir.is_dir() else []


def _part_hashes(parts_dir: Path) -> set[str]:
    out: set[str] = set()
    for p in _part_files(parts_dir):
        try:
            out |= set(pd.read_parquet(p, columns=["model_hash"])["model_hash"].dropna().astype(str))
        except Exception:
            # Gone since the listing: the run holding the lock merged it into the output and
            # removed it (the check before the lock races with that; the output is read next).
            if p.exists():
                out.add("unreadable part file")
    return out


@contextmanager
def output_lock(output: Path, wait_seconds: float = 0.0):
    """Hold `<output>.lock` for the whole run; refuse (or wait) when another run holds it."""
    from filelock import FileLock, Timeout

    output.parent.mkdir(parents=True, exist_ok=True)
    lock_path = output.with_name(output.name + ".lock")
    lock = FileLock(str(lock_path), timeout=wait_seconds)
    try:
        lock.acquire()
    except Timeout:
        raise OutputBusyError(
            f"{output}: another spectype classify is writing this output (lock {lock_path}); "
            "wait for it to finish, or choose another -o"
        ) from None
    try:
        yield
    finally:
        lock.release()


class ResultWriter:
    """Buffers rows, writes complete files' rows as part files, merges them at the end."""

    def __init__(self, output: Path, part_rows: int = 4096, flush_seconds: float = 10.0,
                 metadata: dict | None = None):
        self.output = Path(output)
        self.parts_dir = _parts_dir(self.output)
        self.part_rows = part_rows
        self.flush_seconds = flush_seconds
        self.metadata = metadata or {}
        self._rows: list[tuple[str | None, dict]] = []  # (source file, row)
        self._last_flush = time.monotonic()

    # ---- what is done

    def _frames(self) -> list[pd.DataFrame]:
        frames = [self._read_output()] if self.output.exists() else []
        return frames + [pd.read_parquet(p) for p in _part_files(self.parts_dir)]

    def done_keys(self) -> set[tuple[bytes, int]]:
        keys: set[tuple[bytes, int]] = set()
        for f in self._frames():
            hexes = f["path_hex"] if "path_hex" in f else [None] * len(f)
            for p, h, i in zip(f["path"], hexes, f["index"], strict=True):
                if isinstance(p, str):
                    keys.add((key_from_columns(p, h), int(i)))
        return keys

    def done_files(self) -> set[bytes]:
        return {k for k, _ in self.done_keys()}

    def reset(self) -> None:
        """--fresh: drop an earlier classify output and its parts (checked by check_target)."""
        for p in _part_files(self.parts_dir):
            p.unlink()
        self.output.unlink(missing_ok=True)

    # ---- writing

    def add(self, row: dict, source: str | None) -> None:
        self._rows.append((source, row))

    def maybe_flush(self, incomplete: set[str]) -> None:
        """Write a part once enough rows, or enough time, has gone by since the last one."""
        if len(self._rows) >= self.part_rows or time.monotonic() - self._last_flush >= self.flush_seconds:
            self.flush(incomplete)

    def flush(self, incomplete: set[str] | None = None) -> None:
        """Write the buffered rows of complete files as one part (a file's rows share a part,
        so resuming by file never half-skips a file)."""
        incomplete = incomplete or set()
        ready = [r for s, r in self._rows if s not in incomplete]
        self._last_flush = time.monotonic()
        if not ready:
            return
        self._rows = [(s, r) for s, r in self._rows if s in incomplete]
        self.parts_dir.mkdir(parents=True, exist_ok=True)
        target = self.parts_dir / f"part-{time.time_ns():020d}-{os.getpid()}.parquet"
        with atomic_path(target) as tmp:
            pd.DataFrame(ready).to_parquet(tmp, index=False)

    def finalise(self) -> pd.DataFrame:
        self.flush()
        frames = [f for f in self._frames() if len(f)]
        df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=RESULT_KEY)
        if len(df):
            keys = [key_from_columns(p, h) for p, h in zip(df["path"], df.get("path_hex", [None] * len(df)), strict=True)]
            dup = pd.DataFrame({"k": keys, "i": df["index"].astype(int)}).duplicated(keep="first").to_numpy()
            df = df[~dup].reset_index(drop=True)
        write_table(df, self.output, self.metadata)
        for p in _part_files(self.parts_dir):
            p.unlink()
        if self.parts_dir.exists() and not any(self.parts_dir.iterdir()):
            self.parts_dir.rmdir()
        return df

    def _read_output(self) -> pd.DataFrame:
        if self.output.suffix == ".csv":
            return pd.read_csv(self.output, dtype=_STR_COLUMNS, keep_default_na=True)
        return pd.read_parquet(self.output)


def write_table(df: pd.DataFrame, output: Path, metadata: dict) -> None:
    """Atomically write `df` as Parquet (with `metadata` in the schema) or CSV."""
    with atomic_path(output) as tmp:
        if output.suffix == ".csv":
            df.to_csv(tmp, index=False)
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(df, preserve_index=False)
        meta = dict(table.schema.metadata or {})
        meta[META_KEY] = json.dumps(metadata).encode()
        pq.write_table(table.replace_schema_metadata(meta), tmp)
