"""What the processes of one data-parallel fit agree on, and how.

A fit reads its series, scales them, trains and validates; in one process every
decision that looks at the whole panel (the number of series, whether any value
is missing, the transform, the seasons kept, the validation loss, the mix
weight) reads the panel directly. In a data-parallel fit each process holds a
shard of whole series and those decisions read sums over the processes instead:
the same numbers (to floating-point rounding), so every process takes the same
decision and the fit follows one process's path.

:class:`Collective` is the one process (every reduction returns its input);
:class:`ProcessGroup` reduces over ``torch.distributed``'s default group (gloo on
CPU, NCCL on GPUs), as Ray Train or ``torchrun`` set it up. Rank ``r`` holds the
``r``-th block of series in one process's order, so series offsets are prefix
sums of the ranks' counts (:meth:`Collective.offset`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray
from torch import nn

__all__ = ["SINGLE_PROCESS", "Collective", "ProcessGroup"]


class Collective:
    """One process: every reduction over the processes is the value itself."""

    rank = 0
    world_size = 1

    @property
    def distributed(self) -> bool:
        """Whether more than one process takes part."""
        return self.world_size > 1

    def sum(self, values: ArrayLike) -> NDArray[np.float64]:
        """Return the elementwise sum of ``values`` over the processes (float64)."""
        return np.asarray(values, dtype=np.float64)

    def counts(self, n: int) -> list[int]:
        """Return every process's ``n``, by rank."""
        return [int(n)]

    def gather(self, value: Any) -> list[Any]:
        """Return every process's ``value``, by rank (pickled between processes)."""
        return [value]

    def collect(self, value: Any) -> list[Any] | None:
        """Return every process's ``value`` on rank 0 (by rank), None elsewhere."""
        return [value]

    def total(self, n: int) -> int:
        """Return the sum of ``n`` over the processes."""
        return sum(self.counts(n))

    def offset(self, n: int) -> int:
        """Return the sum of ``n`` over the processes of lower rank."""
        return sum(self.counts(n)[: self.rank])

    def any(self, flag: bool | np.bool_) -> bool:
        """Return whether ``flag`` holds in any process."""
        return bool(self.sum([bool(flag)])[0] > 0)

    def all(self, flag: bool | np.bool_) -> bool:
        """Return whether ``flag`` holds in every process."""
        return not self.any(not flag)

    def synchronised(self, network: nn.Module) -> nn.Module:
        """Return ``network`` wrapped to share its gradients between processes."""
        return network


SINGLE_PROCESS = Collective()


class ProcessGroup(Collective):
    """The processes of ``torch.distributed``'s default group, set up by the caller.

    Sums run on ``device`` (CUDA for NCCL, CPU for gloo); the network is wrapped
    in :class:`~torch.nn.parallel.DistributedDataParallel`, which averages the
    gradients over the processes during ``backward`` (the training scales each
    process's loss so that the average is the gradient of the global batch).
    """

    def __init__(self, device: torch.device | str = "cpu") -> None:
        import torch.distributed as dist

        if not dist.is_initialized():
            raise RuntimeError(
                "ProcessGroup needs torch.distributed initialised (Ray Train's "
                "TorchTrainer or torchrun does it)."
            )
        self.dist = dist
        self.device = torch.device(device)
        self.rank = dist.get_rank()
        self.world_size = dist.get_world_size()

    def sum(self, values: ArrayLike) -> NDArray[np.float64]:
        """Return the elementwise sum of ``values`` over the processes (all-reduce)."""
        array = np.asarray(values, dtype=np.float64)
        tensor = torch.as_tensor(array.copy()).to(self.device)
        self.dist.all_reduce(tensor)
        return tensor.cpu().numpy().reshape(array.shape)

    def counts(self, n: int) -> list[int]:
        """Return every process's ``n``, by rank (all-gather)."""
        return [int(c) for c in self.gather(int(n))]

    def gather(self, value: Any) -> list[Any]:
        """Return every process's ``value``, by rank (all-gather of pickled objects)."""
        gathered: list[Any] = [None] * self.world_size
        self.dist.all_gather_object(gathered, value)
        return gathered

    def collect(self, value: Any) -> list[Any] | None:
        """Return every process's ``value`` on rank 0 (gather of pickled objects)."""
        gathered: list[Any] | None = (
            [None] * self.world_size if self.rank == 0 else None
        )
        self.dist.gather_object(value, gathered, dst=0)
        return gathered

    def synchronised(self, network: nn.Module) -> nn.Module:
        """Return ``network`` in DistributedDataParallel (rank 0's weights)."""
        ids = [self.device.index] if self.device.type == "cuda" else None
        return nn.parallel.DistributedDataParallel(network, device_ids=ids)
