"""Where the wall time of a fit goes on a GPU: start-up costs and per-step overhead.

Usage: python benchmarks/gpu_profile.py [--device cuda]

1. One-time costs in a fresh process: the CUDA context (first tensor on the device),
   the first cuDNN LSTM forward and backward, then a whole fit of Tourism monthly
   with rnncast's defaults capped at one epoch, done twice in the same process (the
   second fit pays none of the one-time costs).
2. One training step of rnncast's default network (Tourism monthly windows, batch
   256, lookback 48) under torch.profiler: host (CPU) time against device time per
   step, and the operators that cost the most host time. When host time per step
   exceeds device time, the GPU waits on Python and kernel launches.
3. The same step captured once as a CUDA graph (gather, forward, loss, backward,
   clipping and Adam with ``capturable=True``) and replayed: ms/step against the
   eager step, and the largest difference of the losses of both over the same
   batches from the same weights (CUDA only).
4. Whole fits of Tourism monthly (lookback 36, horizon 24, batch 256, 5 epochs, no
   validation) with ``cuda_graphs`` off and on, after a warm-up fit: wall seconds
   and the last epoch's training loss (the same with and without).

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import torch
from torch.autograd import DeviceType
from torch.profiler import ProfilerActivity, profile

from rnncast import Forecaster
from rnncast.datasets import load_tourism_monthly
from rnncast.models.networks import NetworkConfig, RecurrentNetwork
from speed import tourism_windows, train_step

LOOKBACK, HORIZON, BATCH = 48, 24, 256


def seconds_of(device: torch.device, work: Callable[[], object]) -> float:
    """Wall seconds of ``work()``, with the device's queue drained at both ends."""
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    work()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def one_time_costs(device: torch.device) -> None:
    print("## 1. One-time costs in this process\n")
    print("| what | seconds |")
    print("|---|---|")
    context = seconds_of(device, lambda: torch.zeros(1, device=device))
    print(f"| first tensor on {device} (context) | {context:.2f} |")
    lstm = torch.nn.LSTM(1, 64, batch_first=True).to(device)
    x = torch.randn(256, LOOKBACK, 1, device=device)
    first = seconds_of(device, lambda: lstm(x)[0].sum().backward())
    again = seconds_of(device, lambda: lstm(x)[0].sum().backward())
    print(f"| first LSTM forward + backward (library load) | {first:.2f} |")
    print(f"| the same again | {again:.4f} |")
    train = load_tourism_monthly("train")
    for label in ("first fit", "second fit"):
        model = Forecaster(
            horizon=HORIZON, epochs=1, missing="mask", device=str(device)
        )
        fit = seconds_of(device, lambda m=model: m.fit(train))
        steps = -(-model.n_train_windows_ // model.batch_size)
        predict = seconds_of(device, lambda m=model: m.predict())
        print(
            f"| {label}: Tourism monthly, defaults, 1 epoch ({steps} steps), "
            f"fit / predict | {fit:.2f} / {predict:.2f} |"
        )


def step_profile(device: torch.device, steps: int = 30) -> None:
    values, starts, make_network = _tourism_windows(device)
    network = make_network()
    optimiser = torch.optim.Adam(network.parameters(), lr=1e-3)
    batches = list(starts[torch.randperm(len(starts))].split(BATCH))

    def step(chunk: torch.Tensor) -> None:
        train_step(network, optimiser, values, chunk, (LOOKBACK, HORIZON))
        optimiser.zero_grad(set_to_none=True)

    for chunk in batches[:5]:  # warm-up
        step(chunk)
    timed = batches[5 : 5 + steps]
    wall = seconds_of(device, lambda: [step(c) for c in timed]) / steps
    activities = [ProfilerActivity.CPU]
    if device.type == "cuda":
        activities.append(ProfilerActivity.CUDA)
    with profile(activities=activities) as prof:
        for chunk in timed:
            step(chunk)
        if device.type == "cuda":
            torch.cuda.synchronize()
    events = prof.key_averages()
    host = sum(e.self_cpu_time_total for e in events) / 1e6 / steps
    kernels = [  # as torch's own table sums them: kernels, not annotations
        e
        for e in events
        if e.device_type == DeviceType.CUDA and not e.is_user_annotation
    ]
    on_device = sum(e.self_device_time_total for e in kernels) / 1e6 / steps
    print(
        f"\n## 2. One training step ({network.config.level} head, LSTM 64, batch "
        f"{BATCH}, lookback {LOOKBACK})\n"
    )
    print(f"wall {1e3 * wall:.2f} ms/step without the profiler")
    print(
        f"under the profiler: host (self CPU) {1e3 * host:.2f} ms/step, "
        f"device kernels {1e3 * on_device:.2f} ms/step, "
        f"{sum(e.count for e in events if e.key.startswith('cudaLaunch')) / steps:.0f} "
        "kernel launches/step\n"
    )
    print(
        events.table(
            sort_by="self_cpu_time_total", row_limit=15, max_name_column_width=40
        )
    )
    if device.type == "cuda":
        print(
            events.table(
                sort_by="self_device_time_total", row_limit=10, max_name_column_width=40
            )
        )


def graph_experiment(device: torch.device, level: str, steps: int = 60) -> None:
    print(f"\n## 3. The step as one CUDA graph ({level} head)\n")
    values, starts, make = _tourism_windows(device)

    def make_network() -> RecurrentNetwork:
        return make(level)

    batches = [c for c in starts[torch.randperm(len(starts))].split(BATCH)]
    batches = [c for c in batches if len(c) == BATCH][: steps + 5]
    static = batches[0].clone()  # the graph reads its batch from this tensor

    def step(network: RecurrentNetwork, optimiser: torch.optim.Adam) -> torch.Tensor:
        return train_step(network, optimiser, values, static, (LOOKBACK, HORIZON))

    def eager_run() -> tuple[float, torch.Tensor]:
        network = make_network()
        optimiser = torch.optim.Adam(network.parameters(), lr=1e-3, capturable=True)

        def run() -> torch.Tensor:
            optimiser.zero_grad(set_to_none=True)
            return step(network, optimiser)

        return _timed_replays(batches, static, run)

    def graph_run() -> tuple[float, torch.Tensor]:
        network = make_network()
        initial = {k: v.clone() for k, v in network.state_dict().items()}
        optimiser = torch.optim.Adam(network.parameters(), lr=1e-3, capturable=True)
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):  # warm-up on a side stream, as capture asks
            for _ in range(3):
                optimiser.zero_grad(set_to_none=True)
                step(network, optimiser)
        torch.cuda.current_stream().wait_stream(side)
        with torch.no_grad():  # back to the eager run's start, in place
            network.load_state_dict(initial)
            for state in optimiser.state.values():
                for tensor in state.values():
                    tensor.zero_()
        graph = torch.cuda.CUDAGraph()
        optimiser.zero_grad(set_to_none=True)
        with torch.cuda.graph(graph):
            loss = step(network, optimiser)

        def run() -> torch.Tensor:
            graph.replay()
            return loss.clone()

        return _timed_replays(batches, static, run)

    results = {"eager": eager_run(), "graph": graph_run()}
    print("| step | ms/step |")
    print("|---|---|")
    for mode, (seconds, _) in results.items():
        print(f"| {mode} | {1e3 * seconds:.3f} |")
    gap = (results["eager"][1] - results["graph"][1]).abs().max().item()
    print(f"\nlargest loss difference, eager vs graph, {len(batches)} steps: {gap:.2e}")


def _timed_replays(
    batches: list[torch.Tensor], static: torch.Tensor, run: Callable[[], torch.Tensor]
) -> tuple[float, torch.Tensor]:
    """Seconds per step after 5 warm-up steps, and every step's loss."""
    torch.manual_seed(0)
    trail = []
    for i, chunk in enumerate(batches):
        if i == 5:
            torch.cuda.synchronize()
            start = time.perf_counter()
        static.copy_(chunk)
        trail.append(run())
    torch.cuda.synchronize()
    return (time.perf_counter() - start) / (len(batches) - 5), torch.stack(trail).cpu()


def graph_fits(device: torch.device) -> None:
    print("\n## 4. Fits with and without CUDA graphs\n")
    train = load_tourism_monthly("train")
    settings = {
        "horizon": HORIZON,
        "lookback": 36,
        "validation": False,
        "combine": "none",  # the network's fit alone
        "seed": 0,
    }
    Forecaster(**settings, epochs=1, device=str(device)).fit(train)  # warm-up
    print("| network | cuda_graphs | fit seconds | last training loss |")
    print("|---|---|---|---|")
    for hidden in ((64,), (128, 128)):
        for graphs in (False, True):
            model = Forecaster(
                **settings,
                hidden=hidden,
                epochs=5,
                device=str(device),
                cuda_graphs=graphs,
            )
            seconds = seconds_of(device, lambda m=model: m.fit(train))
            print(
                f"| LSTM {' x '.join(map(str, hidden))} | {graphs} | {seconds:.2f} "
                f"| {model.history_[-1].train_loss:.8f} |"
            )


def _tourism_windows(
    device: torch.device,
) -> tuple[torch.Tensor, torch.Tensor, Callable[..., RecurrentNetwork]]:
    values, starts = tourism_windows(LOOKBACK, HORIZON, device)

    def make_network(level: str = "snaive") -> RecurrentNetwork:
        torch.manual_seed(0)  # the same weights every call
        config = NetworkConfig(
            cell="lstm", hidden=(64,), horizon=HORIZON, level=level, season_length=12
        )
        return RecurrentNetwork(config).to(device)

    return values, starts, make_network


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", choices=["cpu", "cuda"])
    parser.add_argument(
        "--parts",
        nargs="+",
        default=["costs", "profile", "graph", "fits"],
        choices=["costs", "profile", "graph", "fits"],
    )
    args = parser.parse_args()
    device = torch.device(args.device)
    card = torch.cuda.get_device_name() if device.type == "cuda" else "CPU"
    print(f"torch {torch.__version__}, {card}\n")
    if "costs" in args.parts:
        one_time_costs(device)
    if "profile" in args.parts:
        step_profile(device)
    if "graph" in args.parts and device.type == "cuda":
        for level in ("snaive", "none"):
            try:
                graph_experiment(device, level)
            except Exception as error:  # an experiment: report how it failed
                print(f"CUDA graph capture failed: {type(error).__name__}: {error}")
    if "fits" in args.parts and device.type == "cuda":
        graph_fits(device)


if __name__ == "__main__":
    main()
