"""`make gpu-check` end to end in its CPU dry-run mode (tiny sizes), so the GPU run is wired."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from .conftest import synthetic
from .test_lcgan_protocol import TINY, make_profiles, make_source

_spec = importlib.util.spec_from_file_location(
    "gpu_check", Path(__file__).parents[2] / "benchmarks" / "gpu_check.py"
)
gpu_check = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gpu_check)


def test_dry_run_runs_every_part(tmp_path):
    import numpy as np

    from spectype.experiments.lcgan_data import CLASSES
    from spectype.simulate import RealDistributions

    pack = synthetic.write_tiny_pack(tmp_path / "pack.h5", n_pix=gpu_check.L, n_per_class=10)
    rng = np.random.default_rng(0)
    inputs = {
        "sources": [make_source(c, k, rng) for c in CLASSES for k in range(9 if c == "O" else 4)],
        "profiles": make_profiles(),
        "dists": RealDistributions(z=rng.normal(0, 1e-4, 50), snr_g=rng.uniform(20, 60, 50)),
        "overrides": TINY,
    }
    summary = gpu_check.run_checks(tmp_path / "out", pack, dry_run=True, table4_epochs=1,
                                   lcgan_inputs=inputs)
    parts = summary["parts"]
    assert not [p["error"] for p in parts.values() if "error" in p]
    assert all(v > 0 for k, v in parts["throughput"].items() if k != "seconds")
    assert set(parts["throughput"]) >= {"classify_cnn1d_compact", "classify_mm_all_32px"}
    assert set(parts["table4"]["rows"]) == {"mm_1d"}  # one cheap row: the runner is tested elsewhere
    assert parts["table4"]["rows"]["mm_1d"]["s_per_epoch"] > 0
    assert [r["row"] for r in parts["lcgan"]["table"]] == ["a_replication", "d_simulator", "b_lcgan", "c_sgan"]
    saved = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert saved["dry_run"] and (tmp_path / "out" / "summary.md").read_text().startswith("# gpu-check")
