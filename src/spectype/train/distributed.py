"""Multi-process (DDP) helpers: set up from torchrun's environment, no-ops when run alone.

`torchrun --nproc_per_node=N -m spectype train --config run.yaml` sets RANK, WORLD_SIZE and
LOCAL_RANK; `setup()` reads them, picks nccl on CUDA and gloo on CPU, and every process trains
on its own shard of each epoch (DistributedSampler). Only rank 0 writes files; barriers keep
the others from reading a checkpoint before it is complete.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def env_info() -> DistInfo:
    """Rank / world size / local rank from torchrun's environment variables (defaults: alone)."""
    return DistInfo(
        rank=int(os.environ.get("RANK", 0)),
        world_size=int(os.environ.get("WORLD_SIZE", 1)),
        local_rank=int(os.environ.get("LOCAL_RANK", 0)),
    )


def setup(device_type: str) -> DistInfo:
    """Join the process group when launched by torchrun; return this process's place in it."""
    info = env_info()
    if info.enabled and not dist.is_initialized():
        backend = "nccl" if device_type == "cuda" else "gloo"
        if device_type == "cuda":
            torch.cuda.set_device(info.local_rank)
        dist.init_process_group(backend=backend, rank=info.rank, world_size=info.world_size)
    return info


def teardown(info: DistInfo) -> None:
    if info.enabled and dist.is_initialized():
        dist.destroy_process_group()


def barrier(info: DistInfo) -> None:
    if info.enabled:
        dist.barrier()


def all_reduce_sum(values: list[float], info: DistInfo, device: torch.device) -> list[float]:
    """Sum a few numbers (loss sums, counts) over all processes."""
    if not info.enabled:
        return values
    # gloo reduces CPU tensors; nccl needs them on the GPU.
    dev = device if dist.get_backend() == "nccl" else torch.device("cpu")
    t = torch.tensor(values, dtype=torch.float64, device=dev)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t.tolist()

