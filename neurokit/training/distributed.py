"""Process-group handling for ``torchrun`` launches (PyTorch DDP)."""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from ..errors import InvalidParameterError

__all__ = ["DistContext", "setup", "teardown"]


@dataclass
class DistContext:
    """Where this process stands: ``world_size``, ``rank``, ``local_rank``, its ``device``,
    and whether this module started the process group (and so ends it)."""

    world_size: int = 1
    rank: int = 0
    local_rank: int = 0
    device: torch.device = torch.device("cpu")
    owns_group: bool = False

    @property
    def active(self) -> bool:
        return self.world_size > 1

    @property
    def main(self) -> bool:
        return self.rank == 0

    def barrier(self) -> None:
        if self.active:
            dist.barrier()

    def all_reduce_sum(self, tensor: torch.Tensor) -> torch.Tensor:
        if self.active:
            dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return tensor

    def gather_objects(self, obj) -> list:
        """``obj`` of every rank, in rank order (in-memory exchange between our processes)."""
        if not self.active:
            return [obj]
        out = [None] * self.world_size
        dist.all_gather_object(out, obj)
        return out


def _device(preference: str, local_rank: int) -> torch.device:
    if preference == "auto":
        preference = "cuda" if torch.cuda.is_available() else "cpu"
    if preference == "cuda":
        if not torch.cuda.is_available():
            raise InvalidParameterError("device='cuda' but torch sees no CUDA device")
        return torch.device("cuda", local_rank % torch.cuda.device_count())
    return torch.device(preference)


def setup(device: str = "auto", timeout_s: float = 1800) -> DistContext:
    """Join the process group described by ``torchrun``'s environment (``WORLD_SIZE``,
    ``RANK``, ``LOCAL_RANK``, ``MASTER_ADDR``/``MASTER_PORT``): gloo on CPU, nccl on CUDA.
    Without those variables, a single process. A group already initialised by the caller is
    used as is (and left to the caller to destroy)."""
    if dist.is_available() and dist.is_initialized():
        local = int(os.environ.get("LOCAL_RANK", 0))
        dev = _device(device, local)
        return DistContext(dist.get_world_size(), dist.get_rank(), local, dev, False)
    env = os.environ
    if not ("WORLD_SIZE" in env and "RANK" in env) or not dist.is_available():
        return DistContext(device=_device(device, 0))
    world, rank, local = int(env["WORLD_SIZE"]), int(env["RANK"]), int(env.get("LOCAL_RANK", 0))
    dev = _device(device, local)
    if dev.type == "cuda":
        torch.cuda.set_device(dev)
    backend = "nccl" if dev.type == "cuda" else "gloo"
    kwargs = {"device_id": dev} if dev.type == "cuda" else {}
    dist.init_process_group(backend, timeout=datetime.timedelta(seconds=timeout_s), **kwargs)
    return DistContext(world, rank, local, dev, True)


def teardown(ctx: DistContext, wait: bool = True) -> None:
    """Leave the process group if :func:`setup` started it; ``wait`` first waits for every
    rank (skip it after an error, when the other ranks may never arrive)."""
    if ctx.owns_group and dist.is_initialized():
        if wait:
            dist.barrier()
        dist.destroy_process_group()
        ctx.owns_group = False
