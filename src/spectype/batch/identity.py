"""Who made a result table: the model's identity and the run's resolved inputs.

Every row carries `model_name`, `model_version` and `model_hash`; a Parquet output also
carries the same facts (plus the resolved inputs) in its schema metadata under `spectype`.
Resume compares them, so one table never mixes two models' rows.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

OUTPUT_KIND = "spectype-classify"
OUTPUT_FORMAT_VERSION = 1
META_KEY = b"spectype"
# A CSV has no metadata: these columns mark it as a classify output.
SIGNATURE_COLUMNS = {"path", "index", "status", "pred_class", "model_hash"}
LEGACY_COLUMNS = {"path", "index", "status", "pred_class"}  # classify outputs before model_hash


@dataclass(frozen=True)
class ModelIdentity:
    name: str
    version: str
    hash: str  # sha256 of the weights file's bytes and the canonical config JSON

    def columns(self) -> dict:
        return {"model_name": self.name, "model_version": self.version, "model_hash": self.hash}


def model_identity(loaded) -> ModelIdentity:
    """Identity of a loaded model folder: same weights and config -> same hash, wherever it lives."""
    config = loaded.config
    h = hashlib.sha256()
    weights = Path(loaded.folder) / "model.safetensors"
    if weights.is_file():
        with open(weights, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    else:  # an in-memory model: hash its tensors
        for name, t in sorted(loaded.model.state_dict().items()):
            h.update(name.encode())
            h.update(t.detach().cpu().contiguous().numpy().tobytes())
    h.update(json.dumps(config, sort_keys=True, default=str).encode())
    name = str(config.get("name") or config.get("arch", {}).get("name") or "unknown")
    version = str(config.get("version") or config.get("spectype_version") or "")
    return ModelIdentity(name=name, version=version, hash=h.hexdigest())


def run_metadata(identity: ModelIdentity, inputs: list[str]) -> dict:
    from .._version import __version__

    return {
        "kind": OUTPUT_KIND,
        "format_version": OUTPUT_FORMAT_VERSION,
        "model": asdict(identity),
        "inputs": list(inputs),
        "spectype_version": __version__,
    }


@dataclass
class ExistingOutput:
    """What is already at an output path."""

    kind: str  # "none" | "classify" | "legacy-classify" | "other"
    model_hash: set[str]
    reason: str = ""


def inspect_output(path: Path) -> ExistingOutput:
    """Classify an existing file at `path` without trusting it: never raises on junk."""
    if not path.exists():
        return ExistingOutput("none", set())
    if path.is_dir():
        return ExistingOutput("other", set(), "it is a directory")
    try:
        if path.suffix == ".csv":
            import pandas as pd

            cols = set(pd.read_csv(path, nrows=0).columns)
            meta = None
        else:
            import pyarrow.parquet as pq

            schema = pq.read_schema(path)
            cols = set(schema.names)
            raw = (schema.metadata or {}).get(META_KEY)
            meta = json.loads(raw) if raw else None
    except Exception as exc:  # not a table at all (a text file, a truncated Parquet ...)
        return ExistingOutput("other", set(), f"it is not a readable table ({type(exc).__name__}: {str(exc)[:120]})")
    if meta and meta.get("kind") == OUTPUT_KIND:
        return ExistingOutput("classify", _hashes(path, meta))
    if SIGNATURE_COLUMNS <= cols:
        return ExistingOutput("classify", _hashes(path, None))
    if LEGACY_COLUMNS <= cols:
        return ExistingOutput("legacy-classify", set(), "it was written by an older spectype without a model identity")
    return ExistingOutput("other", set(), "it has none of the classify output's columns (path, index, status, pred_class, model_hash)")


def _hashes(path: Path, meta: dict | None) -> set[str]:
    import pandas as pd

    if meta and "model" in meta:
        return {meta["model"]["hash"]}
    col = pd.read_csv(path, usecols=["model_hash"]) if path.suffix == ".csv" else pd.read_parquet(path, columns=["model_hash"])
    return set(col["model_hash"].dropna().astype(str))
