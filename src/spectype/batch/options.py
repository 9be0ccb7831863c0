"""Settings and the summary of one classify run."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

LOW_SNR = 10.0


@dataclass
class ClassifyOptions:
    batch_size: int = 128  # spectra per forward: on CPU, 64-128 keeps activations in cache (3,200/s at 256 vs 7,200/s at 64-128 for the default model)
    workers: int | None = None  # reader processes (ray: tasks at once); None = all cores
    files_per_task: int = 32  # files a worker reads per task: amortises process overhead
    low_snr: float = LOW_SNR  # flag spectra whose SNR (i, else g) is below this
    plot: int = 0  # write a figure for the first N spectra
    resume: bool = True  # False (--fresh): replace an earlier classify output at -o
    progress: bool = True
    device: str = "cpu"  # cpu, cuda, cuda:N or auto (cuda when available)
    part_rows: int = 4096  # rows per part file ...
    flush_seconds: float = 10.0  # ... or seconds since the last part: bounds what a kill can lose
    min_coverage: float | None = None  # None: the model's own (its preprocess.min_coverage)
    keep_columns: str | list[str] | None = "all"  # catalogue columns copied to the output
    wait_for_lock: float = 0.0  # seconds to wait for another run on the same -o (0: refuse)
    backend: str = "local"  # where files are read: local (processes) or ray (Ray tasks)
    ray_address: str | None = None  # ray: the cluster to join (None: $RAY_ADDRESS, else a local Ray)


@dataclass
class ClassifySummary:
    output: Path | None
    n_files: int = 0
    n_spectra: int = 0
    n_ok: int = 0
    n_errors: int = 0
    n_excluded: int = 0
    n_skipped: int = 0
    seconds: float = 0.0
    errors: list[tuple[str, str]] = field(default_factory=list)

    @property
    def spectra_per_second(self) -> float:
        return self.n_spectra / self.seconds if self.seconds > 0 else float("nan")

    @property
    def all_failed(self) -> bool:
        """Every spectrum this run looked at failed (the CLI then exits non-zero)."""
        return self.n_ok == 0 and self.n_errors > 0 and self.n_errors == self.n_spectra - self.n_excluded

    def record_error(self, path: str, error: str) -> None:
        """Count a failed spectrum; keep the first 1,000 messages for the report."""
        self.n_errors += 1
        if len(self.errors) < 1000:
            self.errors.append((path, error))
