"""`classify --backend ray`: the classify job with its files read by Ray tasks across a cluster.

A thin call of `classify_files` with `backend="ray"`: Ray tasks read and preprocess chunks of
files where the files are (`spectype.parallel.map_files`), and the driver batches the flux
through the model and writes the rows with the same checks, lock, `ResultWriter` and resume
rules as a local run, so the outputs are identical. Only preprocessed flux (15 kB a spectrum)
crosses the network; the model runs once, on the driver's device (a GPU there serves the
whole cluster: reading, not the model, is the slow part on CPUs).
"""

from __future__ import annotations

from dataclasses import replace

from ..batch import ClassifyOptions, ClassifySummary, classify_files


def classify_files_ray(paths, output, model=None, options: ClassifyOptions | None = None,
                       address: str | None = None) -> ClassifySummary:
    """Classify with Ray. Joins `address` (or `options.ray_address`, or RAY_ADDRESS), else
    starts a local Ray. `options.workers` caps the Ray tasks running at once (default: the
    cluster's CPUs)."""
    opts = options or ClassifyOptions()
    opts = replace(opts, backend="ray", ray_address=address or opts.ray_address)
    return classify_files(paths, output, model, opts)
