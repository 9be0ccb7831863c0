"""`classify --backend ray`: the same job with Ray tasks across a cluster.

Each task reads, preprocesses and classifies a chunk of files where the files are, with the
model the driver put once into Ray's object store (no shared filesystem needed for the model
folder), and returns result rows. The driver keeps a bounded
number of tasks in flight and writes rows through the same resumable `ResultWriter` as the
local job, so outputs and resume semantics are identical. Ray does the scheduling.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from ..classify import (
    ClassifyOptions,
    ClassifySummary,
    ResultWriter,
    _read_and_preprocess,
    _row,
    expand_inputs,
    predict_proba,
    preprocess_config,
)


def _classify_chunk(paths: list[str], model, class_names: list[str], pre_cfg: dict, low_snr: float,
                    batch_size: int) -> list[dict]:
    items = _read_and_preprocess((paths, pre_cfg))
    ok = [it for it in items if it.error is None]
    probs = {}
    if ok:
        p = predict_proba(model, np.stack([it.flux for it in ok]), batch_size)
        probs = {id(it): row for it, row in zip(ok, p, strict=True)}
    return [_row(it, class_names, probs.get(id(it)), low_snr) for it in items]


def classify_files_ray(paths, output, model=None, options: ClassifyOptions | None = None,
                       address: str | None = None) -> ClassifySummary:
    """Classify with Ray. Connects to `address` (or RAY_ADDRESS, or a running local cluster, or
    starts a local Ray). `options.workers` caps the tasks in flight; Ray refuses a CPU count
    when it joins an existing cluster, so it is never passed to `ray.init`."""
    import ray

    from ..models.release import load_model

    opts = options or ClassifyOptions()
    t0 = time.perf_counter()
    loaded = load_model(model, device="cpu")  # validates the folder before any task starts
    pre_cfg = preprocess_config(loaded)

    output = Path(output)
    writer = ResultWriter(output, part_rows=1)  # one part per completed chunk
    files = [str(p) for p in expand_inputs(paths)]
    if not opts.resume:
        writer.reset()
    done = writer.done_files() if opts.resume else set()
    todo = [f for f in files if f not in done]
    summary = ClassifySummary(output=output, n_files=len(files), n_skipped=len(files) - len(todo))

    if not ray.is_initialized():
        ray.init(address=address or os.environ.get("RAY_ADDRESS"), include_dashboard=False,
                 log_to_driver=False)
    task = ray.remote(_classify_chunk)
    model_ref = ray.put(loaded.model)  # shipped once; every task reads it from the object store
    chunks = [todo[i : i + opts.files_per_task] for i in range(0, len(todo), opts.files_per_task)]
    cpus = int(ray.available_resources().get("CPU", 1) or 1)
    max_in_flight = 4 * (min(cpus, opts.workers) if opts.workers else cpus)
    pending: list = []

    def drain(n_left: int) -> None:
        nonlocal pending
        while len(pending) > n_left:
            ready, pending = ray.wait(pending, num_returns=1)
            for row in ray.get(ready[0]):
                summary.n_spectra += 1
                if row["status"] == "ok":
                    summary.n_ok += 1
                else:
                    summary.record_error(row["path"], row["error"])
                writer.add(row)
            writer.flush()

    for chunk in chunks:
        pending.append(task.remote(chunk, model_ref, list(loaded.class_names), pre_cfg, opts.low_snr,
                                   opts.batch_size))
        drain(max_in_flight)
    drain(0)
    writer.finalise()
    summary.seconds = time.perf_counter() - t0
    return summary
