"""Where cases run: serially in this process, on a local Dask cluster, or on an existing one.

====================  ==========================================================================================
``workers=0``          serial, in this process (CI, debugging); a case that kills its process kills the run
``workers=W``          ``LocalCluster(n_workers=W, threads_per_worker=1, processes=True)``: one case per worker
                       process at a time, ``OMP_NUM_THREADS=1`` and torch set to one thread in each
``scheduler=ADDR``     ``Client(ADDR)``: an existing ``dask.distributed`` cluster (``dask scheduler`` /
                       ``dask worker ADDR --nthreads 1`` on each machine, or any Dask deployment)
====================  ==========================================================================================

Each item is one task (``client.submit(fn, item, ..., retries=1, pure=False)``); results come back in
completion order (``as_completed``) and each future is released as soon as its result is read, so a
worker that dies later loses nothing already reported. A worker that dies *while running* a case takes
only that case: the local cluster's scheduler runs with ``allowed-failures: 1`` (the task is tried on a
second worker once, then fails with ``KilledWorker``) and ``worker-saturation: 1.0`` (only the running
case is assigned to a worker, so no queued innocent case is charged with the death). The item is then
reported with an error reason, never lost, and the campaign goes on. Exceptions raised by a task are
retried once too (``retries=1``). For an existing cluster these two scheduler settings are the
scheduler's own: start it with ``DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES=1`` for the same rule.

What each worker of an existing cluster needs: this workbench installed in its Python (the tasks are
functions of ``parity``), the C binary at the path the client gives (``--c-bin``; it is checked on the
client only), the candidate's command runnable at the same path, and a writable temporary directory:
input files are generated per case on the worker, nothing is shipped but the case's arguments and text.
"""
from __future__ import annotations

import contextlib
import logging
import os
from typing import Callable, Iterator, Sequence

from parity.errors import ParityUsageError

try:    # a real WorkerPlugin, so Client.register_plugin routes it to the workers
    from distributed.diagnostics.plugin import WorkerPlugin as _WorkerPlugin
except ImportError:      # dask[distributed] missing: only the serial path works
    _WorkerPlugin = object

__all__ = ["SerialExecutor", "DaskExecutor", "open_executor", "ItemResult", "OneThread"]

ItemResult = tuple  # (index, result or None, error reason or None)
_ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
_QUIET = ("distributed", "distributed.scheduler", "distributed.nanny", "distributed.worker", "distributed.core")


def describe_exception(exc: BaseException) -> str:
    name = type(exc).__name__
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if name == "KilledWorker":
        return f"worker died while running this case (tried on 2 workers): {text[:200]}"
    return f"{name}: {text[:300]}".rstrip(": ")


class SerialExecutor:
    """Runs each item here, in order; an exception becomes that item's error reason."""

    workers = 0
    address = None
    kind = "serial"

    def map_unordered(self, fn: Callable, items: Sequence, *extra) -> Iterator[ItemResult]:
        for i, item in enumerate(items):
            try:
                yield i, fn(item, *extra), None
            except Exception as exc:  # noqa: BLE001 - reported per item
                yield i, None, describe_exception(exc)

    def submit(self, fn: Callable, *args):
        import concurrent.futures as cf

        future = cf.Future()
        try:
            future.set_result(fn(*args))
        except Exception as exc:  # noqa: BLE001
            future.set_exception(exc)
        return future

    def close(self) -> None:
        pass


class OneThread(_WorkerPlugin):
    """Dask worker plugin: one thread for torch and OpenMP in every worker (and the ports it starts)."""

    idempotent = True
    name = "pwb-one-thread"

    def setup(self, worker=None) -> None:
        os.environ.update(_ONE_THREAD)
        import sys

        if "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(1)

    def teardown(self, worker=None) -> None:
        pass


class DaskExecutor:
    """Tasks on a ``dask.distributed`` client (module docstring)."""

    kind = "dask"

    def __init__(self, client, cluster=None, *, workers: int | None = None) -> None:
        self.client, self.cluster = client, cluster
        self.address = client.scheduler.address if client.scheduler else None
        self.workers = workers if workers is not None else len(client.scheduler_info().get("workers", {}))

    def map_unordered(self, fn: Callable, items: Sequence, *extra) -> Iterator[ItemResult]:
        from dask.distributed import as_completed

        name = getattr(fn, "__name__", "task")
        futures = {self.client.submit(fn, item, *extra, key=f"pwb-{name}-{i}-{os.getpid()}-{id(items)}",
                                      retries=1, pure=False): i for i, item in enumerate(items)}
        for future in as_completed(futures):
            i = futures.pop(future)
            try:
                result, error = future.result(), None
            except Exception as exc:  # noqa: BLE001 - KilledWorker, or an exception raised twice
                result, error = None, describe_exception(exc)
            future.release()
            yield i, result, error

    def submit(self, fn: Callable, *args):
        return self.client.submit(fn, *args, retries=1, pure=False)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close()
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close()


@contextlib.contextmanager
def _quiet_distributed():
    """Dask's own warnings about the worker we expect to lose stay out of the progress display."""
    loggers = [logging.getLogger(n) for n in _QUIET]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


@contextlib.contextmanager
def open_executor(*, workers: int = 0, scheduler: str | None = None) -> Iterator:
    """The executor for ``workers``/``scheduler`` (module docstring); closed (cluster shut down) on exit."""
    if workers < 0:
        raise ParityUsageError(f"--workers must be 0 (serial) or more, got {workers}")
    if scheduler and workers:
        raise ParityUsageError("give --workers W (a local cluster) or --scheduler ADDR (an existing one), not both")
    if not scheduler and not workers:
        yield SerialExecutor()
        return
    try:
        import dask
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise ParityUsageError("--workers/--scheduler need dask[distributed] (pip install 'dask[distributed]')") \
            from None
    with _quiet_distributed(), dask.config.set({"distributed.scheduler.allowed-failures": 1,
                                                "distributed.scheduler.worker-saturation": 1.0}):
        if scheduler:
            try:
                client = Client(scheduler, timeout="30s")
            except (OSError, TimeoutError) as exc:
                raise ParityUsageError(f"--scheduler {scheduler}: cannot connect ({describe_exception(exc)})") \
                    from None
            executor = DaskExecutor(client)
        else:
            try:
                cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                       dashboard_address=":0", silence_logs=logging.CRITICAL, env=dict(_ONE_THREAD))
            except (RuntimeError, OSError) as exc:
                raise ParityUsageError(f"--workers {workers}: the local Dask cluster did not start"
                                       f" ({describe_exception(exc)}; run from a script or the pwb command,"
                                       " not from stdin)") from None
            executor = DaskExecutor(Client(cluster), cluster, workers=workers)
        try:
            executor.client.register_plugin(OneThread())
            yield executor
        finally:
            executor.close()
