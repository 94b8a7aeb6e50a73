"""Run one function over many series in worker processes, each call with a time limit.

Statistical models are fitted series by series. Some fits fail, and some never end
(auto-ARIMA on long seasonal periods such as 168 or 365 is known to hang), and a thread
cannot be stopped. So each call runs in a worker process; a call past its time limit
has its worker killed and replaced, and is reported as timed out instead of stopping
the whole run.
"""

from __future__ import annotations

import multiprocessing
import os
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

__all__ = ["Outcome", "default_jobs", "run_all"]


@dataclass(frozen=True)
class Outcome:
    """The result of one call: ``value`` when ``ok``, else the ``reason`` it failed."""

    ok: bool
    value: Any = None
    reason: str = ""
    seconds: float = 0.0


def default_jobs() -> int:
    """Worker processes to use: the cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def run_all(
    function: Callable[[Any], Any],
    tasks: Sequence[Any],
    *,
    time_limit: float | None,
    n_jobs: int = 1,
) -> list[Outcome]:
    """Call ``function(task)`` for every task; never raise for a failing task.

    With ``time_limit=None`` and ``n_jobs=1`` the calls run in this process (no limit
    can then be enforced). Otherwise ``min(n_jobs, len(tasks))`` worker processes run
    them, and a call running longer than ``time_limit`` seconds is stopped.

    Returns
    -------
    list of Outcome
        In the order of ``tasks``.
    """
    if time_limit is None and n_jobs == 1:
        return [_call(function, task) for task in tasks]
    return _Pool(function, min(max(n_jobs, 1), max(len(tasks), 1)), time_limit).run(
        tasks
    )


def _call(function: Callable[[Any], Any], task: Any) -> Outcome:
    start = time.perf_counter()
    try:
        value = function(task)
    except Exception as e:  # a failing fit must not stop the run
        return Outcome(
            False,
            reason=f"{type(e).__name__}: {e}".strip()[:300],
            seconds=time.perf_counter() - start,
        )
    return Outcome(True, value=value, seconds=time.perf_counter() - start)


def _worker(function: Callable[[Any], Any], connection: Connection) -> None:
    while True:
        try:
            message = connection.recv()
        except EOFError:
            return
        if message is None:
            return
        index, task = message
        try:
            outcome = _call(function, task)
            connection.send((index, outcome))
        except Exception:  # e.g. an unpicklable result
            connection.send(
                (index, Outcome(False, reason=traceback.format_exc(limit=1)))
            )


class _Pool:
    """Worker processes fed one task at a time, each watched against a deadline."""

    def __init__(
        self, function: Callable[[Any], Any], size: int, time_limit: float | None
    ):
        methods = multiprocessing.get_all_start_methods()
        self.context = multiprocessing.get_context(
            "fork" if "fork" in methods else "spawn"
        )
        self.function = function
        self.size = size
        self.time_limit = time_limit

    def run(self, tasks: Sequence[Any]) -> list[Outcome]:
        results: list[Outcome | None] = [None] * len(tasks)
        pending = list(enumerate(tasks))[::-1]
        workers = [self._start() for _ in range(self.size)]
        busy: dict[int, tuple[int, float]] = {}  # worker slot -> (task index, start)
        try:
            while pending or busy:
                for slot, (_, connection) in enumerate(workers):
                    if slot not in busy and pending:
                        index, task = pending.pop()
                        connection.send((index, task))
                        busy[slot] = (index, time.perf_counter())
                self._collect(workers, busy, results)
        finally:
            for process, connection in workers:
                if process.is_alive():
                    connection.send(None)
                    process.join(timeout=1)
                    if process.is_alive():
                        process.kill()
                connection.close()
        return [
            r if r is not None else Outcome(False, reason="no result") for r in results
        ]

    def _collect(
        self,
        workers: list[tuple[Any, Connection]],
        busy: dict[int, tuple[int, float]],
        results: list[Outcome | None],
    ) -> None:
        now = time.perf_counter()
        timeout = None
        if self.time_limit is not None:
            timeout = max(
                0.0, min(self.time_limit - (now - start) for _, start in busy.values())
            )
        ready = wait([workers[slot][1] for slot in busy], timeout=timeout)
        for slot in list(busy):
            process, connection = workers[slot]
            index, start = busy[slot]
            if connection in ready:
                try:
                    _, outcome = connection.recv()
                except EOFError:  # the worker died (e.g. a crash in native code)
                    outcome = Outcome(
                        False, reason=f"worker exited with code {process.exitcode}"
                    )
                    workers[slot] = self._restart(process, connection)
                results[index] = outcome
                del busy[slot]
            elif (
                self.time_limit is not None
                and time.perf_counter() - start > self.time_limit
            ):
                results[index] = Outcome(
                    False,
                    reason=f"timed out after {self.time_limit:g} s",
                    seconds=time.perf_counter() - start,
                )
                workers[slot] = self._restart(process, connection)
                del busy[slot]

    def _start(self) -> tuple[Any, Connection]:
        parent, child = self.context.Pipe()
        process = self.context.Process(
            target=_worker, args=(self.function, child), daemon=True
        )
        process.start()
        child.close()
        return process, parent

    def _restart(self, process: Any, connection: Connection) -> tuple[Any, Connection]:
        process.kill()
        process.join()
        connection.close()
        return self._start()
