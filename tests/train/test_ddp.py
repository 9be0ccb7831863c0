"""DDP on CPU: two gloo processes under torchrun train one tiny run consistently."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pandas as pd

from spectype.models.release import load_model

from .conftest import TINY_MODEL

SCRIPT = textwrap.dedent(
    """
    import hashlib, json, os, sys
    import torch
    from spectype.train import load_config, train

    pack, out, report = sys.argv[1:4]
    torch.set_num_threads(1)
    kw = [f"model_kwargs.{k}={v}" for k, v in json.loads(sys.argv[4]).items()]
    r = train(load_config(None, [f"data={pack}", f"out={out}", "epochs=2", "batch_size=16", *kw]), progress=False)
    h = hashlib.sha256()
    for k, v in sorted(r.model.state_dict().items()):
        h.update(k.encode()); h.update(v.numpy().tobytes())
    rank = os.environ["RANK"]
    with open(os.path.join(report, f"rank{rank}.json"), "w") as fh:
        json.dump({"world": int(os.environ["WORLD_SIZE"]), "weights": h.hexdigest(),
                   "best_val_acc": r.best_val_acc, "epochs": len(r.history)}, fh)
    """
)


def test_two_process_gloo(tiny_pack, tmp_path):
    script = tmp_path / "ddp_train.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           str(script), str(tiny_pack), str(tmp_path / "run"), str(tmp_path), json.dumps(TINY_MODEL)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    reports = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert all(r["world"] == 2 and r["epochs"] == 2 for r in reports)
    # DDP keeps replicas identical; metrics are reduced over both shards, so ranks agree.
    assert reports[0]["weights"] == reports[1]["weights"]
    assert reports[0]["best_val_acc"] == reports[1]["best_val_acc"]
    hist = pd.read_csv(tmp_path / "run" / "metrics.csv")
    assert hist["epoch"].tolist() == [1, 2]  # written once, by rank 0
    loaded = load_model(tmp_path / "run" / "best")
    assert loaded.config["training"]["world_size"] == 2
