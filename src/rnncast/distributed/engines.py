"""Where work runs: in this process, or on a Ray cluster (extra ``rnncast[ray]``).

An engine maps a function over tasks and returns the results in task order:
:class:`LocalEngine` calls it here, one task after the other; :class:`RayEngine`
runs each task as a Ray task on the cluster at ``address`` (a local one started
with ``ray.init()`` when no address is given), retrying a task whose worker died.
``engine="ray"`` anywhere an engine is accepted means ``RayEngine()``. Nothing
imports Ray until a RayEngine runs something. A RayEngine also trains one
network data-parallel over several workers (:meth:`RayEngine.fit_state`,
``Forecaster.fit(data, engine=...)``; :mod:`rnncast.distributed.training`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rnncast.exceptions import ConfigError

__all__ = ["Engine", "LocalEngine", "RayEngine", "resolve_engine", "shipped"]


class Engine:
    """Maps a function over tasks; results in task order."""

    name = "engine"

    def map(self, function: Callable[[Any], Any], tasks: Sequence[Any]) -> list[Any]:
        """Return ``[function(task) for task in tasks]``, computed by this engine."""
        raise NotImplementedError

    def put(self, value: Any) -> Any:
        """Ship ``value`` once to where the tasks run; tasks read it with ``get``."""
        return value

    def workers(self) -> int:
        """How many tasks can run at once."""
        return 1

    def fit_state(
        self,
        settings: dict[str, Any],
        data: Any,
        static_df: Any = None,
        workers: int | None = None,
        cutoff: Any = None,
    ) -> Any:
        """Fit a Forecaster of ``settings`` on ``data`` with this engine; its state.

        ``cutoff`` (a :class:`~rnncast.distributed.training.WindowCutoff`): on
        the values up to a backtest's cutoff only.
        """
        raise ConfigError(
            f"the {self.name} engine trains in one process: call fit without an "
            "engine, or use engine='ray' for a data-parallel fit."
        )


class LocalEngine(Engine):
    """Every task in this process, in order."""

    name = "local"

    def map(self, function: Callable[[Any], Any], tasks: Sequence[Any]) -> list[Any]:
        """Call ``function`` on each task here."""
        return [function(task) for task in tasks]

    def fit_state(
        self,
        settings: dict[str, Any],
        data: Any,
        static_df: Any = None,
        workers: int | None = None,
        cutoff: Any = None,
    ) -> Any:
        """Fit in this process; ``data`` may be a list of Parquet files, read here."""
        from rnncast.distributed.training import fit_block, read_block
        from rnncast.options import ForecasterParams

        params = ForecasterParams(**settings).validate()
        frame = read_block(data) if isinstance(data, list | tuple) else data
        return fit_block(params, frame, static_df, cutoff)


@dataclass
class RayEngine(Engine):
    """Tasks on a Ray cluster.

    Parameters
    ----------
    address : str, optional
        The cluster (``"auto"``, ``"ray://head:10001"``...); None starts a local
        Ray instance with ``ray.init()`` unless one is running in this process.
    retries : int, default 3
        Times a task is run again when its worker dies (a killed process, a lost
        node); a task that raises is not retried, its error reaches the caller.
    num_cpus : float, default 1
        CPUs each task (and each worker of a data-parallel fit) reserves.
    num_gpus : float, default 0
        GPUs each worker of a data-parallel fit reserves (more than 0: one GPU
        each, NCCL; else CPUs, gloo).
    storage : str, optional
        Where a data-parallel fit's checkpoint (the model folder) is written: a
        folder every node reaches (or cloud storage) on a cluster of several
        machines; default a temporary folder of this machine.
    """

    address: str | None = None
    retries: int = 3
    num_cpus: float = 1.0
    num_gpus: float = 0.0
    storage: str | None = None
    name = "ray"

    def map(self, function: Callable[[Any], Any], tasks: Sequence[Any]) -> list[Any]:
        """Run ``function`` on each task as a Ray task; wait for all of them."""
        ray = self._ray()
        remote = ray.remote(
            max_retries=self.retries,
            retry_exceptions=False,
            num_cpus=self.num_cpus,
        )(_call)
        futures = [remote.remote(function, task) for task in tasks]
        return list(ray.get(futures))

    def put(self, value: Any) -> Any:
        """Put ``value`` in the object store once; tasks receive it resolved."""
        return _Shipped(self._ray().put(value))

    def workers(self) -> int:
        """Return the cluster's CPUs divided by each task's."""
        cpus = self._ray().cluster_resources().get("CPU", 1)
        return max(1, int(cpus // self.num_cpus))

    def fit_state(
        self,
        settings: dict[str, Any],
        data: Any,
        static_df: Any = None,
        workers: int | None = None,
        cutoff: Any = None,
    ) -> Any:
        """Train data-parallel on ``workers`` Ray Train workers (default: one per CPU).

        See :func:`rnncast.distributed.training.fit_on_cluster`.
        """
        from rnncast.distributed.training import ClusterFit, fit_on_cluster

        cluster = ClusterFit(
            workers=workers or self.workers(),
            cpus=self.num_cpus,
            gpu=self.num_gpus > 0,
            storage=self.storage,
        )
        self._ray()  # connected: the trainer runs on this cluster
        return fit_on_cluster(settings, data, static_df, cluster, cutoff)

    def _ray(self) -> Any:
        try:
            import ray
        except ImportError as e:
            raise ConfigError(
                "engine='ray' needs Ray: pip install 'rnncast[ray]'."
            ) from e
        if not ray.is_initialized():
            ray.init(
                address=self.address,
                include_dashboard=False,
                log_to_driver=False,
                configure_logging=False,
            )
        return ray


@dataclass(frozen=True)
class _Shipped:
    """A value in Ray's object store (see :meth:`RayEngine.put`)."""

    ref: Any


def shipped(value: Any) -> Any:
    """Return the value that :meth:`Engine.put` shipped, inside a task."""
    if isinstance(value, _Shipped):
        import ray

        return ray.get(value.ref)
    return value


def _call(function: Callable[[Any], Any], task: Any) -> Any:
    return function(task)


def resolve_engine(engine: str | Engine | None) -> Engine:
    """Return the engine ``engine`` names: None or "local", "ray", or an Engine."""
    if engine is None or engine == "local":
        return LocalEngine()
    if engine == "ray":
        return RayEngine()
    if isinstance(engine, Engine):
        return engine
    raise ConfigError(
        f"unknown engine {engine!r}; use 'local', 'ray' or a RayEngine(address=...)."
    )
