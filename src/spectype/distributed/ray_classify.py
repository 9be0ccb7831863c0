"""`classify --backend ray`: the same job with Ray tasks across a cluster.

Each task reads and preprocesses a chunk of files where the files are, classifies them with
the model the driver put once into Ray's object store (no shared filesystem needed for the
model folder), and returns the Items' rows. The driver keeps a bounded number of tasks in
flight and writes rows through the same checks, lock and `ResultWriter` as the local job, so
outputs, identity and resume semantics are identical. Ray does the scheduling.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from ..batch.engine import Classifier, preprocess_config
from ..batch.identity import model_identity, run_metadata
from ..batch.inputs import expand_inputs
from ..batch.items import FileTask, read_and_preprocess
from ..batch.options import ClassifyOptions, ClassifySummary
from ..batch.paths import path_key
from ..batch.writer import ResultWriter, check_suffix, check_target, output_lock
from ..runtime import resolve_device


def _classify_chunk(tasks: list[FileTask], loaded, identity, opts: ClassifyOptions,
                    pre_cfg: dict) -> tuple[list[tuple[dict, str]], ClassifySummary]:
    rows: list[tuple[dict, str]] = []
    summary = ClassifySummary(output=None)
    clf = Classifier(loaded, identity, opts, "cpu", summary, lambda r, s: rows.append((r, s)))
    for it in read_and_preprocess((tasks, pre_cfg)):
        clf.add(it)
    clf.run_batch()
    return rows, summary


def classify_files_ray(paths, output, model=None, options: ClassifyOptions | None = None,
                       address: str | None = None) -> ClassifySummary:
    """Classify with Ray. Connects to `address` (or RAY_ADDRESS, or a running local cluster, or
    starts a local Ray). `options.workers` caps the tasks in flight; Ray refuses a CPU count
    when it joins an existing cluster, so it is never passed to `ray.init`."""
    import ray

    from ..models.release import load_model

    opts = options or ClassifyOptions()
    t0 = time.perf_counter()
    output = Path(os.path.abspath(output))
    check_suffix(output)
    resolve_device(opts.device)  # a bad --device fails here, before any task starts
    loaded = load_model(model, device="cpu")  # validates the folder before any task starts
    identity = model_identity(loaded)
    pre_cfg = preprocess_config(loaded, opts.min_coverage)
    inputs = expand_inputs(paths, opts.keep_columns)
    named = inputs.resolved + inputs.listed
    check_target(output, named, [], opts.resume, identity.hash, identity.name)
    inputs.drop_own_files(output)

    with output_lock(output, opts.wait_for_lock):
        check_target(output, named, [], opts.resume, identity.hash, identity.name)
        writer = ResultWriter(output, part_rows=1, flush_seconds=opts.flush_seconds,
                              metadata=run_metadata(identity, inputs.resolved))
        if not opts.resume:
            writer.reset()
        done_keys = writer.done_keys() if opts.resume else set()
        done = {k for k, _ in done_keys}
        todo = [t for t in inputs.tasks if path_key(t.path) not in done]
        summary = ClassifySummary(output=output, n_files=len(inputs.tasks),
                                  n_skipped=len(inputs.tasks) - len(todo))
        # Catalogue-excluded rows are made on the driver: nothing to read for them.
        driver = Classifier(loaded, identity, opts, "cpu", summary, writer.add, inputs.extra_for)
        for it in inputs.excluded:
            if (path_key(it.path), it.index) not in done_keys:
                driver.add(it)

        if not ray.is_initialized():
            ray.init(address=address or os.environ.get("RAY_ADDRESS"), include_dashboard=False,
                     log_to_driver=False)
        task = ray.remote(_classify_chunk)
        model_ref = ray.put(loaded)  # shipped once; every task reads it from the object store
        chunks = [todo[i : i + opts.files_per_task] for i in range(0, len(todo), opts.files_per_task)]
        cpus = int(ray.available_resources().get("CPU", 1) or 1)
        max_in_flight = 4 * (min(cpus, opts.workers) if opts.workers else cpus)
        pending: list = []

        def drain(n_left: int) -> None:
            nonlocal pending
            while len(pending) > n_left:
                ready, pending = ray.wait(pending, num_returns=1)
                rows, part = ray.get(ready[0])
                for row, source in rows:
                    row.update({k: v for k, v in inputs.extra_for(source, row["index"]).items() if k not in row})
                    writer.add(row, source)
                summary.n_spectra += part.n_spectra
                summary.n_ok += part.n_ok
                summary.n_excluded += part.n_excluded
                for p, e in part.errors:
                    summary.record_error(p, e)
                summary.n_errors += part.n_errors - len(part.errors)  # beyond the kept messages
                writer.flush()

        for chunk in chunks:
            pending.append(task.remote(chunk, model_ref, identity, opts, pre_cfg))
            drain(max_in_flight)
        drain(0)
        writer.finalise()
    summary.seconds = time.perf_counter() - t0
    return summary
