"""The optimiser of a training, and its steps replayed from CUDA graphs.

On a CUDA device a small network's step is bound by Python and kernel launches, not
by the GPU (an H200 ran 0.3 ms of kernels in a 3.3 ms step at LSTM 64, batch 256), so
each step is captured once as a CUDA graph and replayed (``TrainConfig.cuda_graphs``):
the same kernels on the same tensors, so the same losses and weights as without.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import torch
from torch import nn

__all__ = ["adam", "captured_step", "copied_state", "keep_tensor_lr"]


def adam(
    network: nn.Module, learning_rate: float, device: torch.device
) -> torch.optim.Adam:
    """Adam; on CUDA with its step count and learning rate on the device.

    ``capturable=True`` keeps the whole update on the GPU, as a CUDA graph needs;
    the eager CUDA path uses the same optimiser, so both compute the same numbers.
    ``ReduceLROnPlateau`` fills a tensor learning rate in place (torch >= 2.4).
    """
    if device.type != "cuda":
        return torch.optim.Adam(network.parameters(), lr=learning_rate)
    lr = torch.tensor(learning_rate, device=device)
    return torch.optim.Adam(network.parameters(), lr=lr, capturable=True)


def keep_tensor_lr(optimiser: torch.optim.Optimizer, lr: float | torch.Tensor) -> None:
    """Put a tensor learning rate back after a scheduler assigned a float to it.

    Captured steps read the tensor; torch before 2.4 replaced it on a reduction.
    """
    group = optimiser.param_groups[0]
    if isinstance(lr, torch.Tensor) and group["lr"] is not lr:
        lr.fill_(float(group["lr"]))
        group["lr"] = lr


def captured_step(
    step: Callable[[torch.Tensor], tuple[torch.Tensor, int]],
    network: nn.Module,
    optimiser: torch.optim.Optimizer,
    starts: torch.Tensor,
    batch_size: int,
) -> tuple[Callable[[torch.Tensor], tuple[torch.Tensor, int]], bool]:
    """``step``, replayed from one CUDA graph per batch size (full and last batch).

    Capture needs the gradients and Adam's state to exist, so each size is first
    run on a side stream (as torch's CUDA-graph notes ask); the weights and Adam's
    state are then put back in place, so training starts where it would without
    graphs. A captured step reads its window starts from a fixed tensor, which each
    replay fills. The gradients are zeroed in place inside the graph, never set to
    None: the graph writes to those very tensors. Returns the step and True, or,
    if capture fails, ``step`` itself and False (with a warning).
    """
    sizes = sorted({min(batch_size, len(starts)), len(starts) % batch_size} - {0})
    inputs = {size: starts[:size].clone() for size in sizes}
    counts: dict[int, int] = {}
    initial = copied_state(network)

    def zeroed_step(fixed: torch.Tensor) -> torch.Tensor:
        optimiser.zero_grad(set_to_none=False)
        loss, counts[len(fixed)] = step(fixed)
        return loss

    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for size in sizes:
            for _ in range(3):
                zeroed_step(inputs[size])
    torch.cuda.current_stream().wait_stream(side)
    with torch.no_grad():
        network.load_state_dict(initial)
        for state in optimiser.state.values():
            for tensor in state.values():
                tensor.zero_()  # Adam's moments and step count, as when fresh
    graphs: dict[int, tuple[torch.cuda.CUDAGraph, torch.Tensor]] = {}
    try:
        pool = None
        for size in sizes:
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph, pool=pool):
                loss = zeroed_step(inputs[size])
            graphs[size], pool = (graph, loss), graph.pool()
    except RuntimeError as error:
        warnings.warn(
            f"CUDA graph capture failed ({error}); training without CUDA graphs.",
            RuntimeWarning,
            stacklevel=3,
        )
        return step, False

    def replay(batch: torch.Tensor) -> tuple[torch.Tensor, int]:
        graph, loss = graphs[len(batch)]
        inputs[len(batch)].copy_(batch)
        graph.replay()
        return loss, counts[len(batch)]

    return replay, True


def copied_state(network: nn.Module) -> dict[str, torch.Tensor]:
    """Return a copy of ``network``'s weights and buffers, detached."""
    return {k: v.detach().clone() for k, v in network.state_dict().items()}
