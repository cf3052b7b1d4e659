"""Executors: map one pure function over tasks, yielding each result as soon as it is done.

Three implementations of one interface, so that a sweep or a capacity search runs the same code whatever
runs the points:

- `SerialExecutor`: in this process, one task after the other (also the baseline of the benchmark).
- `ProcessExecutor`: a local pool of worker processes (concurrent.futures); by default one per core.
- `DaskExecutor`: Dask distributed, on an existing scheduler (`tcp://host:port`) or a local cluster.

`map_unordered(fn, tasks)` yields `(index, result, error)`: `error` is the exception that the executor
itself met (a worker process that died, a lost Dask worker); the function's own errors are its result's
business (see `sim.experiments.worker.run_point`, which never raises for a failing point).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from sim.errors import SimInputError

Result = tuple[int, Any, BaseException | None]


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


class Executor(ABC):
    """Maps a function over tasks. Use as a context manager; `abort()` stops work in progress at once."""

    workers: int = 1

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is not None:
            self.abort()
        self.close()
        return False

    @abstractmethod
    def map_unordered(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[Result]:
        """Yield (task index, fn(task), None) as tasks finish, or (index, None, error) if the executor failed."""

    def abort(self) -> None:
        """Stop what is running now (after Ctrl-C); results not yet yielded are dropped."""

    def close(self) -> None:
        """Release workers."""

    @abstractmethod
    def describe(self) -> str:
        """In words, for the command's output: 'one process', '2 processes', 'Dask at tcp://...'."""


class SerialExecutor(Executor):
    """Every task in this process, in order."""

    workers = 1

    def map_unordered(self, fn, tasks):
        for index, task in enumerate(tasks):
            yield index, fn(task), None

    def describe(self) -> str:
        return "one process"


def _pool_context() -> multiprocessing.context.BaseContext:
    """forkserver where the OS has it (workers forked from a clean server that has imported sim once, so
    they share no state with the parent and start fast), spawn elsewhere."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["sim.experiments.worker", "sim.runner"])
        return context
    return multiprocessing.get_context("spawn")


class ProcessExecutor(Executor):
    """A pool of `workers` local processes; at most 2 x workers tasks are queued at a time."""

    def __init__(self, workers: int | None = None):
        self.workers = workers or available_cores()
        self._pool: ProcessPoolExecutor | None = None

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            from sim.experiments.worker import init_worker_process

            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=_pool_context(),
                                             initializer=init_worker_process)
        return self._pool

    def map_unordered(self, fn, tasks):
        pool = self._get_pool()
        window = 2 * self.workers
        pending: dict[Future, int] = {}
        next_index = 0
        try:
            while next_index < len(tasks) or pending:
                while next_index < len(tasks) and len(pending) < window:
                    try:
                        pending[pool.submit(fn, tasks[next_index])] = next_index
                    except BrokenProcessPool as exc:
                        self._pool = None
                        yield next_index, None, RuntimeError(f"the worker processes died ({exc})")
                    next_index += 1
                if not pending:
                    continue
                done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
                for future in done:
                    index = pending.pop(future)
                    try:
                        result = future.result()
                    except BrokenProcessPool as exc:
                        self._pool = None  # a worker died (killed, out of memory): start a new pool next time
                        yield index, None, RuntimeError(f"a worker process died while running this point ({exc})")
                        continue
                    except Exception as exc:
                        yield index, None, exc
                        continue
                    yield index, result, None
        finally:
            for future in pending:
                future.cancel()

    def abort(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        processes = list(getattr(pool, "_processes", {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:  # SIGTERM: the worker unwinds, removing its temporary directory
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(timeout=5)

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def describe(self) -> str:
        return f"{self.workers} processes" if self.workers != 1 else "1 worker process"


class DaskExecutor(Executor):
    """Dask distributed: an existing scheduler (`address`), or a local cluster of `local_workers` workers
    with one thread each (`processes=False` keeps them as threads of this process, for tests)."""

    def __init__(self, address: str | None = None, local_workers: int | None = None, processes: bool = True):
        if (address is None) == (local_workers is None):
            raise SimInputError("Dask: give a scheduler address or a number of local workers, not both")
        self.address = address
        self.local_workers = local_workers
        self.processes = processes
        self._client = None
        self._cluster = None
        self.workers = local_workers or 0

    def _get_client(self):
        if self._client is not None:
            return self._client
        try:
            import distributed
        except ImportError:
            raise SimInputError("Dask is not installed: pip install 'sim[sweep]' (or dask[distributed])") from None
        if self.address is not None:
            try:
                self._client = distributed.Client(self.address, timeout="10s")
            except (OSError, TimeoutError) as exc:
                raise SimInputError(f"--scheduler {self.address}: cannot connect to a Dask scheduler ({exc})") from None
            self.workers = sum(w.get("nthreads", 1) for w in self._client.scheduler_info()["workers"].values())
        else:
            self._cluster = distributed.LocalCluster(
                n_workers=self.local_workers, threads_per_worker=1, processes=self.processes,
                dashboard_address=None, silence_logs=logging.ERROR,
            )
            self._client = distributed.Client(self._cluster)
        return self._client

    def map_unordered(self, fn, tasks):
        import distributed

        client = self._get_client()
        futures = [client.submit(fn, task, pure=False) for task in tasks]
        index = {future.key: i for i, future in enumerate(futures)}
        remaining = set(index)
        try:
            for future in distributed.as_completed(futures):
                remaining.discard(future.key)
                try:
                    result = future.result()
                except Exception as exc:  # a worker lost, a task that could not be unpickled
                    yield index[future.key], None, exc
                else:
                    yield index[future.key], result, None
                finally:
                    future.release()
        finally:
            left = [f for f in futures if f.key in remaining]
            if left:
                client.cancel(left, force=True)

    def abort(self) -> None:
        self.close()

    def close(self) -> None:
        client, cluster = self._client, self._cluster
        self._client = self._cluster = None
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()

    def describe(self) -> str:
        if self.address is not None:
            return f"Dask at {self.address} ({self.workers} worker threads)"
        kind = "process" if self.processes else "thread"
        plural = "" if self.local_workers == 1 else ("es" if self.processes else "s")
        return f"a local Dask cluster of {self.local_workers} {kind}{plural}"


def make_executor(workers: int | None = None, scheduler: str | None = None, dask_local: int | None = None) -> Executor:
    """The executor the command line asks for: Dask if a scheduler or a local Dask cluster is named, else
    local processes (one per core by default; `workers=1` runs in this process)."""
    if scheduler is not None and dask_local is not None:
        raise SimInputError("give --scheduler or --dask-local, not both")
    if workers is not None and workers < 1:
        raise SimInputError(f"--workers {workers}: expected at least 1")
    if dask_local is not None and dask_local < 1:
        raise SimInputError(f"--dask-local {dask_local}: expected at least 1 worker")
    if scheduler is not None:
        return DaskExecutor(address=scheduler)
    if dask_local is not None:
        return DaskExecutor(local_workers=dask_local)
    count = workers or available_cores()
    return SerialExecutor() if count == 1 else ProcessExecutor(count)
